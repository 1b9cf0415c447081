import {
  and,
  asc,
  count,
  desc,
  eq,
  gt,
  gte,
  ilike,
  inArray,
  isNotNull,
  isNull,
  lt,
  lte,
  ne,
  or,
  type SQL,
  sql,
} from 'drizzle-orm';
import type { Db, Tx } from '../../db/client.ts';
import { siteSettings } from '../../platform/meta-schema.ts';
import { approvedSql } from './approval.ts';
import {
  accountTokens,
  auditLog,
  authAttempts,
  recoveryCodes,
  type Role,
  sessions,
  type TokenPurpose,
  type UserStatus,
  users,
} from './schema.ts';

/** All SQL of the accounts feature. */

export type UserRow = typeof users.$inferSelect;
export type NewUser = typeof users.$inferInsert;
export type SessionRow = typeof sessions.$inferSelect;
export type TokenRow = typeof accountTokens.$inferSelect;
export type AuditRow = typeof auditLog.$inferSelect;

export interface UserFilter {
  q?: string | undefined;
  status?: UserStatus | undefined;
  role?: Role | undefined;
  approval?: 'pending' | 'approved' | undefined;
  verified?: boolean | undefined;
  /**
   * How `q` matches email addresses: any part (admins), or only the whole
   * address or its domain (moderators: finding by part of an address would
   * let them read addresses letter by letter).
   */
  emailMatch?: 'any' | 'whole-or-domain';
  limit: number;
  offset: number;
}

export interface AuditFilter {
  event?: string | undefined;
  subjectId?: string | undefined;
  actorId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  limit: number;
  offset: number;
}

/** A token that matches, is for this purpose, unused and unexpired at `now`. */
const usableToken = (hash: string, purpose: TokenPurpose, now: Date) =>
  and(
    eq(accountTokens.tokenHash, hash),
    eq(accountTokens.purpose, purpose),
    isNull(accountTokens.usedAt),
    gt(accountTokens.expiresAt, now),
  );

/** What other features may read of an account: never an email, a hash or a secret. */
const personColumns = {
  id: users.id,
  displayName: users.displayName,
  kind: users.kind,
  role: users.role,
  status: users.status,
  approvedAt: users.approvedAt,
};
export type PersonRow = {
  id: string;
  displayName: string;
  kind: (typeof users.$inferSelect)['kind'];
  role: Role;
  status: UserStatus;
  approvedAt: Date | null;
};

/** `text` made safe inside a LIKE pattern (backslash is Postgres's default escape). */
const likeSafe = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The repository over `db`, and `in(tx)`: the same queries inside a service's unit of work. */
export function createAccountsRepository(db: Db) {
  return { ...accountsQueries(db), in: (tx: Tx) => accountsQueries(tx) };
}

function accountsQueries(db: Db) {
  // Read on every signed-in request: built once and prepared (planned once per connection).
  const sessionWithUserQuery = db
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.id, sql.placeholder('id')), gt(sessions.expiresAt, sql`now()`)))
    .prepare('session_with_user');
  return {
    async insertUser(values: NewUser): Promise<UserRow> {
      const [row] = await db.insert(users).values(values).returning();
      return row!;
    },
    async userById(id: string): Promise<UserRow | undefined> {
      const [row] = await db.select().from(users).where(eq(users.id, id));
      return row;
    },
    /** Several people at once (one query, however many ids). */
    async people(ids: readonly string[]): Promise<PersonRow[]> {
      if (!ids.length) return [];
      return db
        .select(personColumns)
        .from(users)
        .where(inArray(users.id, [...new Set(ids)]));
    },
    /** The same with what the member directory shows of an account. */
    async profiles(ids: readonly string[]) {
      if (!ids.length) return [];
      return db
        .select({ ...personColumns, organisation: users.organisation, region: users.region })
        .from(users)
        .where(inArray(users.id, [...new Set(ids)]));
    },
    /** Active accounts with an email address, with the language to write in. */
    async contacts(ids: readonly string[]) {
      if (!ids.length) return [];
      return db
        .select({ ...personColumns, email: users.email, locale: users.locale })
        .from(users)
        .where(
          and(
            inArray(users.id, [...new Set(ids)]),
            eq(users.status, 'active'),
            isNotNull(users.email),
          ),
        );
    },
    /** Approved, active people whose name follows an "@" somewhere in `text` (at most 200). */
    async approvedNamedIn(text: string): Promise<PersonRow[]> {
      return db
        .select(personColumns)
        .from(users)
        .where(
          and(
            eq(users.status, 'active'),
            approvedSql,
            sql`length(${users.displayName}) > 0`,
            sql`position(lower('@' || ${users.displayName}) in lower(${text})) > 0`,
          ),
        )
        .limit(200);
    },
    /**
     * Approved, active people whose name, or a word of it, starts with `q`
     * (case-insensitive): names starting with `q` first, then alphabetical.
     */
    async searchApproved(f: {
      q: string;
      excludeId: string;
      limit: number;
      offset: number;
    }): Promise<PersonRow[]> {
      const name = sql`lower(${users.displayName})`;
      const q = likeSafe(f.q.toLowerCase());
      const startsWith = sql`${name} LIKE ${`${q}%`}`;
      // A word inside the name: after a space, a hyphen or an opening bracket.
      const wordStarts = or(
        startsWith,
        sql`${name} LIKE ${`% ${q}%`}`,
        sql`${name} LIKE ${`%-${q}%`}`,
        sql`${name} LIKE ${`%(${q}%`}`,
      );
      return db
        .select(personColumns)
        .from(users)
        .where(
          and(
            eq(users.status, 'active'),
            isNull(users.deletedAt),
            approvedSql,
            ne(users.id, f.excludeId),
            sql`length(trim(${users.displayName})) > 0`,
            wordStarts,
          ),
        )
        .orderBy(desc(sql`(${startsWith})`), asc(name), asc(users.id))
        .limit(f.limit)
        .offset(f.offset);
    },
    async userByEmail(email: string): Promise<UserRow | undefined> {
      const [row] = await db.select().from(users).where(eq(users.email, email));
      return row;
    },
    async updateUser(id: string, patch: Partial<NewUser>): Promise<UserRow | undefined> {
      const [row] = await db
        .update(users)
        .set({ ...patch, updatedAt: new Date() })
        .where(eq(users.id, id))
        .returning();
      return row;
    },
    /** Set the email only if no other account has it; false when taken. */
    async changeEmail(id: string, email: string): Promise<boolean> {
      const rows = await db
        .update(users)
        .set({ email, emailVerifiedAt: new Date(), updatedAt: new Date() })
        .where(
          and(
            eq(users.id, id),
            sql`NOT EXISTS (SELECT 1 FROM users u2 WHERE u2.email = ${email} AND u2.id <> ${id})`,
          ),
        )
        .returning({ id: users.id });
      return rows.length === 1;
    },
    async searchUsers(f: UserFilter): Promise<{ rows: UserRow[]; total: number }> {
      const where: SQL[] = [];
      if (f.q) {
        const like = `%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        const byEmail =
          f.emailMatch === 'whole-or-domain'
            ? or(
                sql`${users.email} = ${f.q}`,
                ilike(sql`split_part(${users.email}::text, '@', 2)`, like),
              )!
            : ilike(sql`${users.email}::text`, like);
        where.push(or(ilike(users.displayName, like), byEmail, ilike(users.organisation, like))!);
      }
      if (f.status) where.push(eq(users.status, f.status));
      else where.push(sql`${users.status} <> 'deleted'`);
      if (f.role) where.push(eq(users.role, f.role));
      if (f.approval === 'pending')
        where.push(isNull(users.approvedAt), isNotNull(users.emailVerifiedAt));
      if (f.approval === 'approved') where.push(isNotNull(users.approvedAt));
      if (f.verified === false) where.push(isNull(users.emailVerifiedAt));
      const cond = and(...where);
      const [rows, [total]] = await Promise.all([
        db
          .select()
          .from(users)
          .where(cond)
          .orderBy(desc(users.createdAt))
          .limit(f.limit)
          .offset(f.offset),
        db.select({ n: count() }).from(users).where(cond),
      ]);
      return { rows, total: Number(total?.n ?? 0) };
    },
    /** Active staff with one of these roles (e.g. who moderates the community). */
    async idsWithRoles(roles: readonly string[]): Promise<string[]> {
      const rows = await db
        .select({ id: users.id })
        .from(users)
        .where(and(inArray(users.role, roles as Role[]), eq(users.status, 'active')));
      return rows.map((r) => r.id);
    },
    async countPendingApproval(): Promise<number> {
      const [r] = await db
        .select({ n: count() })
        .from(users)
        .where(
          and(
            isNull(users.approvedAt),
            isNotNull(users.emailVerifiedAt),
            eq(users.status, 'active'),
          ),
        );
      return Number(r?.n ?? 0);
    },
    /** Clear every personal field; the row stays so contributions can say "former member". */
    async eraseUser(id: string): Promise<void> {
      await db.transaction(async (tx) => {
        await tx.delete(sessions).where(eq(sessions.userId, id));
        await tx.delete(accountTokens).where(eq(accountTokens.userId, id));
        await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, id));
        await tx
          .update(users)
          .set({
            email: null,
            displayName: 'Former member',
            organisation: null,
            region: null,
            passwordHash: null,
            totpSecret: null,
            totpEnabledAt: null,
            statusReason: null,
            status: 'deleted',
            role: 'member',
            deletedAt: new Date(),
            updatedAt: new Date(),
          })
          .where(eq(users.id, id));
      });
    },
    /** Accounts never verified, created before `before`: deleted outright (they hold nothing else). */
    async deleteUnverifiedBefore(before: Date): Promise<string[]> {
      const rows = await db
        .delete(users)
        .where(
          and(
            isNull(users.emailVerifiedAt),
            lt(users.createdAt, before),
            sql`${users.status} <> 'deleted'`,
          ),
        )
        .returning({ id: users.id });
      return rows.map((r) => r.id);
    },

    // Sessions
    async insertSession(values: typeof sessions.$inferInsert): Promise<void> {
      await db.insert(sessions).values(values);
    },
    async sessionWithUser(id: string): Promise<{ session: SessionRow; user: UserRow } | undefined> {
      const [row] = await sessionWithUserQuery.execute({ id });
      return row;
    },
    async touchSession(id: string): Promise<void> {
      await db.update(sessions).set({ lastSeenAt: new Date() }).where(eq(sessions.id, id));
    },
    async deleteSession(id: string): Promise<void> {
      await db.delete(sessions).where(eq(sessions.id, id));
    },
    async deleteUserSessions(userId: string): Promise<void> {
      await db.delete(sessions).where(eq(sessions.userId, userId));
    },
    async userSessions(userId: string): Promise<SessionRow[]> {
      return db
        .select()
        .from(sessions)
        .where(eq(sessions.userId, userId))
        .orderBy(desc(sessions.lastSeenAt));
    },
    async deleteStaleSessions(idleBefore: Date): Promise<void> {
      await db
        .delete(sessions)
        .where(or(lt(sessions.expiresAt, new Date()), lt(sessions.lastSeenAt, idleBefore)));
    },

    // Single-use tokens
    async insertToken(values: typeof accountTokens.$inferInsert): Promise<void> {
      await db.insert(accountTokens).values(values);
    },
    async validToken(
      hash: string,
      purpose: TokenPurpose,
      now: Date,
    ): Promise<TokenRow | undefined> {
      const [row] = await db
        .select()
        .from(accountTokens)
        .where(usableToken(hash, purpose, now));
      return row;
    },
    /** Mark a token used, atomically: only one caller ever gets the row. */
    async consumeToken(
      hash: string,
      purpose: TokenPurpose,
      now: Date,
    ): Promise<TokenRow | undefined> {
      const [row] = await db
        .update(accountTokens)
        .set({ usedAt: now })
        .where(usableToken(hash, purpose, now))
        .returning();
      return row;
    },
    async expireTokens(userId: string, purpose: TokenPurpose): Promise<void> {
      await db
        .update(accountTokens)
        .set({ usedAt: new Date() })
        .where(
          and(
            eq(accountTokens.userId, userId),
            eq(accountTokens.purpose, purpose),
            isNull(accountTokens.usedAt),
          ),
        );
    },
    async deleteOldTokens(before: Date): Promise<void> {
      await db.delete(accountTokens).where(lt(accountTokens.expiresAt, before));
    },

    /** Record a TOTP step as used, only if it is newer than the last: false for a replayed code. */
    async claimTotpStep(id: string, step: number): Promise<boolean> {
      const rows = await db
        .update(users)
        .set({ totpLastStep: step })
        .where(and(eq(users.id, id), or(isNull(users.totpLastStep), lt(users.totpLastStep, step))))
        .returning({ id: users.id });
      return rows.length === 1;
    },

    /** Every sealed two-step secret, by account (to seal again after a rotation). */
    async sealedTotpSecrets(): Promise<{ id: string; totpSecret: string }[]> {
      const rows = await db
        .select({ id: users.id, totpSecret: users.totpSecret })
        .from(users)
        .where(isNotNull(users.totpSecret));
      return rows.filter((r): r is { id: string; totpSecret: string } => r.totpSecret !== null);
    },

    // Recovery codes
    async replaceRecoveryCodes(userId: string, hashes: string[]): Promise<void> {
      await db.transaction(async (tx) => {
        await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
        if (hashes.length)
          await tx.insert(recoveryCodes).values(hashes.map((codeHash) => ({ userId, codeHash })));
      });
    },
    async useRecoveryCode(userId: string, hash: string): Promise<boolean> {
      const rows = await db
        .update(recoveryCodes)
        .set({ usedAt: new Date() })
        .where(
          and(
            eq(recoveryCodes.userId, userId),
            eq(recoveryCodes.codeHash, hash),
            isNull(recoveryCodes.usedAt),
          ),
        )
        .returning({ id: recoveryCodes.id });
      return rows.length === 1;
    },
    async unusedRecoveryCodes(userId: string): Promise<number> {
      const [r] = await db
        .select({ n: count() })
        .from(recoveryCodes)
        .where(and(eq(recoveryCodes.userId, userId), isNull(recoveryCodes.usedAt)));
      return Number(r?.n ?? 0);
    },

    // The attempts table of the old, database-counted limits (now in platform/rate-limit.ts): emptied.
    async pruneAttempts(before: Date): Promise<void> {
      await db.delete(authAttempts).where(lt(authAttempts.at, before));
    },

    // Audit log
    async insertAudit(values: typeof auditLog.$inferInsert): Promise<void> {
      await db.insert(auditLog).values(values);
    },
    async searchAudit(f: AuditFilter): Promise<{
      rows: (AuditRow & { actorName: string | null; subjectName: string | null })[];
      total: number;
    }> {
      const where: SQL[] = [];
      if (f.event) where.push(eq(auditLog.event, f.event));
      if (f.subjectId)
        where.push(or(eq(auditLog.subjectId, f.subjectId), eq(auditLog.actorId, f.subjectId))!);
      if (f.actorId) where.push(eq(auditLog.actorId, f.actorId));
      if (f.from) where.push(gte(auditLog.at, f.from));
      if (f.to) where.push(lte(auditLog.at, f.to));
      const cond = where.length ? and(...where) : undefined;
      const actor = sql<
        string | null
      >`(SELECT display_name FROM users WHERE id = ${auditLog.actorId})`;
      const subject = sql<
        string | null
      >`(SELECT display_name FROM users WHERE id = ${auditLog.subjectId})`;
      const [rows, [total]] = await Promise.all([
        db
          .select({
            id: auditLog.id,
            at: auditLog.at,
            event: auditLog.event,
            actorId: auditLog.actorId,
            subjectId: auditLog.subjectId,
            detail: auditLog.detail,
            actorName: actor,
            subjectName: subject,
          })
          .from(auditLog)
          .where(cond)
          .orderBy(desc(auditLog.at), desc(auditLog.id))
          .limit(f.limit)
          .offset(f.offset),
        db.select({ n: count() }).from(auditLog).where(cond),
      ]);
      return { rows, total: Number(total?.n ?? 0) };
    },
    async auditEvents(): Promise<string[]> {
      const rows = await db
        .selectDistinct({ event: auditLog.event })
        .from(auditLog)
        .orderBy(auditLog.event);
      return rows.map((r) => r.event);
    },
    async auditAbout(userId: string): Promise<AuditRow[]> {
      return db
        .select()
        .from(auditLog)
        .where(or(eq(auditLog.subjectId, userId), eq(auditLog.actorId, userId)))
        .orderBy(desc(auditLog.at));
    },

    // Settings
    async setting<T>(key: string): Promise<T | undefined> {
      const [row] = await db.select().from(siteSettings).where(eq(siteSettings.key, key));
      return row?.value as T | undefined;
    },
    async putSetting(key: string, value: unknown): Promise<void> {
      await db
        .insert(siteSettings)
        .values({ key, value })
        .onConflictDoUpdate({ target: siteSettings.key, set: { value, updatedAt: new Date() } });
    },
  };
}

export type AccountsRepository = ReturnType<typeof createAccountsRepository>;
export type AccountsQueries = ReturnType<typeof accountsQueries>;
