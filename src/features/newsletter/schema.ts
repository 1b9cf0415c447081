import { sql } from 'drizzle-orm';
import {
  bigserial,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { users } from '../accounts/schema.ts';

/** Case-insensitive text (the citext extension): email addresses. */
const citext = customType<{ data: string }>({ dataType: () => 'citext' });

/** What a subscriber can ask to hear about. */
export const TOPICS = ['resources', 'events', 'services', 'guidelines', 'news'] as const;
export type Topic = (typeof TOPICS)[number];
/** Every issue, or the monthly digest only. */
export const FREQUENCIES = ['each', 'digest'] as const;
export type Frequency = (typeof FREQUENCIES)[number];
export const SUBSCRIBER_STATES = ['pending', 'subscribed', 'unsubscribed'] as const;
export type SubscriberState = (typeof SUBSCRIBER_STATES)[number];
export const CONSENT_EVENTS = [
  'asked',
  'confirmed',
  'topics',
  'unsubscribed',
  'suppressed',
  'imported',
] as const;
export type ConsentEvent = (typeof CONSENT_EVENTS)[number];
export const ISSUE_STATES = ['draft', 'scheduled', 'sending', 'sent'] as const;
export type IssueState = (typeof ISSUE_STATES)[number];
export const DELIVERY_STATES = [
  'pending',
  'sending',
  'sent',
  'failed',
  'suppressed',
  'unsubscribed',
  'skipped',
] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];
export const SUPPRESSION_REASONS = ['hard-bounce', 'complaint', 'soft-bounces', 'manual'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

export const newsletterSubscribers = pgTable(
  'newsletter_subscribers',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    email: citext('email').notNull().unique(),
    name: text('name'),
    state: text('state', { enum: SUBSCRIBER_STATES }).notNull().default('pending'),
    topics: text('topics').array().notNull(),
    frequency: text('frequency', { enum: FREQUENCIES }).notNull().default('each'),
    locale: text('locale', { enum: ['en', 'cy'] })
      .notNull()
      .default('en'),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'set null' }),
    confirmTokenHash: text('confirm_token_hash'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    askedAt: timestamp('asked_at', { withTimezone: true }).notNull().defaultNow(),
    confirmedAt: timestamp('confirmed_at', { withTimezone: true }),
    unsubscribedAt: timestamp('unsubscribed_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('newsletter_subscribers_state_idx').on(t.state, t.askedAt),
    index('newsletter_subscribers_user_idx').on(t.userId),
  ],
);

/** Only ever added to (a trigger refuses updates, and deletes except in an erasure). */
export const newsletterConsent = pgTable(
  'newsletter_consent',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    subscriberId: uuid('subscriber_id')
      .notNull()
      .references(() => newsletterSubscribers.id, { onDelete: 'cascade' }),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    event: text('event', { enum: CONSENT_EVENTS }).notNull(),
    form: text('form').notNull(),
    wording: text('wording').notNull(),
    locale: text('locale').notNull(),
    ipHash: text('ip_hash'),
    detail: jsonb('detail').notNull().default({}),
  },
  (t) => [index('newsletter_consent_subscriber_idx').on(t.subscriberId, t.id)],
);

/** One suppression list for every email the site sends (bounces, complaints). */
export const mailSuppressions = pgTable('mail_suppressions', {
  email: citext('email').primaryKey(),
  reason: text('reason', { enum: SUPPRESSION_REASONS }).notNull(),
  source: text('source').notNull(),
  detail: text('detail'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Bounces and complaints as the providers reported them (soft bounces are counted). */
export const mailEvents = pgTable(
  'mail_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    email: citext('email').notNull(),
    kind: text('kind', { enum: ['hard-bounce', 'soft-bounce', 'complaint'] }).notNull(),
    provider: text('provider').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    detail: text('detail'),
  },
  (t) => [index('mail_events_email_idx').on(t.email, t.kind, t.at)],
);

export const newsletterIssues = pgTable(
  'newsletter_issues',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    kind: text('kind', { enum: ['issue', 'digest'] })
      .notNull()
      .default('issue'),
    subject: text('subject').notNull(),
    body: text('body').notNull().default(''),
    topics: text('topics').array().notNull(),
    locale: text('locale', { enum: ['en', 'cy'] })
      .notNull()
      .default('en'),
    state: text('state', { enum: ISSUE_STATES }).notNull().default('draft'),
    scheduledAt: timestamp('scheduled_at', { withTimezone: true }),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    /** A digest: what it covers (published after `coversFrom`, up to `coversUntil`). */
    coversFrom: timestamp('covers_from', { withTimezone: true }),
    coversUntil: timestamp('covers_until', { withTimezone: true }),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('newsletter_issues_state_idx').on(t.state, t.sentAt)],
);

/** A digest's items: what was published, under which topic. */
export const newsletterIssueItems = pgTable(
  'newsletter_issue_items',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    issueId: uuid('issue_id')
      .notNull()
      .references(() => newsletterIssues.id, { onDelete: 'cascade' }),
    topic: text('topic').notNull(),
    title: text('title').notNull(),
    url: text('url').notNull(),
    summary: text('summary'),
    publishedAt: timestamp('published_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('newsletter_issue_items_issue_idx').on(t.issueId)],
);

/** Each recipient of an issue, with its state: what makes a restart send each one once. */
export const newsletterDeliveries = pgTable(
  'newsletter_deliveries',
  {
    issueId: uuid('issue_id')
      .notNull()
      .references(() => newsletterIssues.id, { onDelete: 'cascade' }),
    subscriberId: uuid('subscriber_id')
      .notNull()
      .references(() => newsletterSubscribers.id, { onDelete: 'cascade' }),
    state: text('state', { enum: DELIVERY_STATES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    claimedAt: timestamp('claimed_at', { withTimezone: true }),
    /** The process that claimed it (`Database.claimant`): when it is gone, the claim is over. */
    claimedBy: integer('claimed_by'),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    error: text('error'),
  },
  (t) => [
    primaryKey({ columns: [t.issueId, t.subscriberId] }),
    index('newsletter_deliveries_pending_idx')
      .on(t.issueId, t.state)
      .where(sql`state IN ('pending', 'sending')`),
  ],
);
