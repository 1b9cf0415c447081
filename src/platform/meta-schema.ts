import { jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** Site-wide key/value settings (admin settings, seed markers). */
export const siteSettings = pgTable('site_settings', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
