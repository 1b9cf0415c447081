import { sql } from 'drizzle-orm';
import {
  bigserial,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/** Case-insensitive text (the citext extension): email addresses. */
const citext = customType<{ data: string }>({ dataType: () => 'citext' });

export const MEMBER_KINDS = ['practitioner', 'parent', 'researcher', 'other'] as const;
export type MemberKind = (typeof MEMBER_KINDS)[number];
export const ROLES = ['member', 'moderator', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const STATUSES = ['active', 'suspended', 'deleted'] as const;
export type UserStatus = (typeof STATUSES)[number];

/**
 * A person with an account. Personal data is special-category here: the
 * email is never shown to other members, the display name may be a
 * pseudonym, organisation and region are optional. On deletion the row stays
 * (so contributions can say "former member") but every personal field is
 * cleared.
 */
export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    email: citext('email'),
    emailVerifiedAt: timestamp('email_verified_at', { withTimezone: true }),
    displayName: text('display_name').notNull(),
    kind: text('kind', { enum: MEMBER_KINDS }).notNull(),
    organisation: text('organisation'),
    /** The language emails are written in: the one used when registering or last changed. */
    locale: text('locale', { enum: ['en', 'cy'] })
      .notNull()
      .default('en'),
    region: text('region'),
    passwordHash: text('password_hash'),
    role: text('role', { enum: ROLES }).notNull().default('member'),
    status: text('status', { enum: STATUSES }).notNull().default('active'),
    statusReason: text('status_reason'),
    approvedAt: timestamp('approved_at', { withTimezone: true }),
    approvedBy: uuid('approved_by'),
    totpSecret: text('totp_secret'),
    totpEnabledAt: timestamp('totp_enabled_at', { withTimezone: true }),
    /** The last 30-second step whose code was accepted: each code works once. */
    totpLastStep: integer('totp_last_step'),
    termsAcceptedAt: timestamp('terms_accepted_at', { withTimezone: true }),
    lastSignInAt: timestamp('last_sign_in_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('users_email_key').on(t.email),
    index('users_name_trgm').using('gin', sql`${t.displayName} gin_trgm_ops`),
    index('users_created_idx').on(t.createdAt),
  ],
);

/** A signed-in browser. Only a hash of the cookie's token is stored. */
export const sessions = pgTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** 'full', or 'mfa' while the second factor is still to be given. */
    stage: text('stage', { enum: ['full', 'mfa'] })
      .notNull()
      .default('full'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
);

export const TOKEN_PURPOSES = ['verify', 'signin', 'reset', 'email-change', 'delete'] as const;
export type TokenPurpose = (typeof TOKEN_PURPOSES)[number];

/** Single-use, expiring links sent by email. Only a hash of the token is stored. */
export const accountTokens = pgTable(
  'account_tokens',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tokenHash: text('token_hash').notNull(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    purpose: text('purpose', { enum: TOKEN_PURPOSES }).notNull(),
    data: jsonb('data').notNull().default({}),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('account_tokens_hash_key').on(t.tokenHash),
    index('account_tokens_user_idx').on(t.userId),
  ],
);

export const recoveryCodes = pgTable(
  'recovery_codes',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
  },
  (t) => [index('recovery_codes_user_idx').on(t.userId)],
);

/** Recent attempts counted for abuse limits (keys are hashes, never addresses). */
export const authAttempts = pgTable(
  'auth_attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    key: text('key').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('auth_attempts_key_idx').on(t.key, t.at)],
);

/** Security events that admins can filter. `detail` never holds a password or a token. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    event: text('event').notNull(),
    actorId: uuid('actor_id'),
    subjectId: uuid('subject_id'),
    detail: jsonb('detail').notNull().default({}),
  },
  (t) => [
    index('audit_log_at_idx').on(t.at),
    index('audit_log_event_idx').on(t.event, t.at),
    index('audit_log_subject_idx').on(t.subjectId),
  ],
);
