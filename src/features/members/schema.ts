import { boolean, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from '../accounts/schema.ts';

/**
 * A member's listing in the member directory: off unless they turn it on.
 * Name, kind, organisation and region come from their account; interests are
 * written here. Email addresses are never part of it.
 */
export const memberProfiles = pgTable('member_profiles', {
  userId: uuid('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  listed: boolean('listed').notNull().default(false),
  interests: text('interests').notNull().default(''),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
