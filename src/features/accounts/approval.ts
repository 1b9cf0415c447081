import { inArray, isNotNull, or, type SQL } from 'drizzle-orm';
import { STAFF_ROLES } from '../../platform/auth.ts';
import { users } from './schema.ts';

/**
 * The one definition of "approved" (let into the community): a moderator
 * approved the account, or it is staff (moderators, editors and admins
 * always are). Written here twice, side by side and from the same list of
 * staff roles: once for rows in memory, once as SQL for queries that filter
 * on it. `approval.test.ts` holds both to platform `accessAllows('member')`.
 */
export function isApproved(account: { approvedAt: Date | null; role: string }): boolean {
  return account.approvedAt !== null || (STAFF_ROLES as readonly string[]).includes(account.role);
}

/** `isApproved` as a condition on the users table. */
export const approvedSql: SQL = or(isNotNull(users.approvedAt), inArray(users.role, STAFF_ROLES))!;
