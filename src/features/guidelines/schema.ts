import {
  boolean,
  date,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { users } from '../accounts/schema.ts';

/** The words of the feature (see README.md). The SQL is in migration 0013_guidelines.sql. */
export const VERSION_STATUSES = ['draft', 'consultation', 'published', 'superseded'] as const;
export type VersionStatus = (typeof VERSION_STATUSES)[number];
export const LEVELS = ['strategic', 'frontline'] as const;
export type Level = (typeof LEVELS)[number];
export const AGENCIES = ['social_care', 'health', 'courts', 'legal', 'voluntary'] as const;
export type Agency = (typeof AGENCIES)[number];
export const LENSES = ['fathers', 'kinship', 'learning', 'ethnicity'] as const;
export type Lens = (typeof LENSES)[number];
export const EXAMPLE_KINDS = ['practice', 'innovation'] as const;
export type ExampleKind = (typeof EXAMPLE_KINDS)[number];

export const PLAN_ROLES = ['lead', 'contributor', 'viewer'] as const;
export type PlanRole = (typeof PLAN_ROLES)[number];
export const RATINGS = ['fully', 'partly', 'not', 'na'] as const;
export type Rating = (typeof RATINGS)[number];
/** confirmed: rated in this round; to_confirm: copied from the last round; reassess: the statement changed. */
export const RATING_STATES = ['confirmed', 'to_confirm', 'reassess'] as const;
export type RatingState = (typeof RATING_STATES)[number];
export const ACTION_STATUSES = ['not_started', 'in_progress', 'delivered', 'blocked'] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];
export const EVIDENCE_STATUSES = ['none', 'submitted', 'signed_off'] as const;
export type EvidenceStatus = (typeof EVIDENCE_STATUSES)[number];
export const FEEDBACK_REASONS = [
  'workforce',
  'resources',
  'inter_agency',
  'court_timetables',
  'other',
] as const;
export type FeedbackReason = (typeof FEEDBACK_REASONS)[number];

export const guidelines = pgTable(
  'guidelines',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    slug: text('slug').notNull(),
    title: text('title').notNull(),
    titleCy: text('title_cy'),
    summary: text('summary').notNull(),
    summaryCy: text('summary_cy'),
    publisher: text('publisher').notNull(),
    illustrative: boolean('illustrative').notNull().default(false),
    isDemo: boolean('is_demo').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('guidelines_slug_key').on(t.slug)],
);

export const guidelineVersions = pgTable(
  'guideline_versions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    guidelineId: uuid('guideline_id')
      .notNull()
      .references(() => guidelines.id, { onDelete: 'cascade' }),
    number: integer('number').notNull(),
    label: text('label').notNull(),
    status: text('status', { enum: VERSION_STATUSES }).notNull(),
    issuedOn: date('issued_on').notNull(),
    licence: text('licence').notNull(),
    sourceUrl: text('source_url'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('guideline_versions_number_key').on(t.guidelineId, t.number)],
);

export const guidelineStages = pgTable(
  'guideline_stages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    versionId: uuid('version_id')
      .notNull()
      .references(() => guidelineVersions.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    key: text('key').notNull(),
    title: text('title').notNull(),
    titleCy: text('title_cy'),
    intro: text('intro').notNull().default(''),
    introCy: text('intro_cy'),
    forParents: text('for_parents').notNull(),
    forParentsCy: text('for_parents_cy'),
  },
  (t) => [uniqueIndex('guideline_stages_key').on(t.versionId, t.key)],
);

export const guidelineStatements = pgTable(
  'guideline_statements',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    versionId: uuid('version_id')
      .notNull()
      .references(() => guidelineVersions.id, { onDelete: 'cascade' }),
    stageId: uuid('stage_id')
      .notNull()
      .references(() => guidelineStages.id, { onDelete: 'cascade' }),
    ref: text('ref').notNull(),
    position: integer('position').notNull(),
    text: text('text').notNull(),
    textCy: text('text_cy'),
    level: text('level', { enum: LEVELS }).notNull(),
    agencies: text('agencies').array().notNull(),
    lenses: text('lenses').array().notNull(),
  },
  (t) => [
    uniqueIndex('guideline_statements_ref_key').on(t.versionId, t.ref),
    index('guideline_statements_stage_idx').on(t.stageId, t.position),
  ],
);

export const guidelineExamples = pgTable(
  'guideline_examples',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    statementId: uuid('statement_id')
      .notNull()
      .references(() => guidelineStatements.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    kind: text('kind', { enum: EXAMPLE_KINDS }).notNull(),
    text: text('text').notNull(),
    area: text('area'),
    services: text('services').array().notNull(),
    resources: text('resources').array().notNull(),
    stories: text('stories').array().notNull(),
  },
  (t) => [index('guideline_examples_statement_idx').on(t.statementId, t.position)],
);

/** A local action plan: an area (one or more authorities) and its partner agencies. */
export const plans = pgTable('plans', {
  id: uuid('id').primaryKey().defaultRandom(),
  guidelineId: uuid('guideline_id')
    .notNull()
    .references(() => guidelines.id),
  title: text('title').notNull(),
  areaCodes: text('area_codes').array().notNull(),
  /** The first authority's region and nation, for the national picture. */
  region: text('region').notNull(),
  nation: text('nation').notNull(),
  agencies: text('agencies').array().notNull(),
  createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
  isDemo: boolean('is_demo').notNull().default(false),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  /**
   * Goes up with every change to the plan or anything of it, in the same transaction:
   * kept by database triggers (migration 0022), never written here. Pages drawn from the
   * plan are kept under it (routes.ts).
   */
  revision: integer('revision').notNull().default(0),
});

export const planMembers = pgTable(
  'plan_members',
  {
    planId: uuid('plan_id')
      .notNull()
      .references(() => plans.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: PLAN_ROLES }).notNull(),
    agency: text('agency'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.planId, t.userId] }),
    index('plan_members_user_idx').on(t.userId),
  ],
);

export const planInvitations = pgTable('plan_invitations', {
  id: uuid('id').primaryKey().defaultRandom(),
  planId: uuid('plan_id')
    .notNull()
    .references(() => plans.id, { onDelete: 'cascade' }),
  email: text('email').notNull(),
  role: text('role', { enum: PLAN_ROLES }).notNull(),
  tokenHash: text('token_hash').notNull().unique(),
  invitedBy: uuid('invited_by').references(() => users.id, { onDelete: 'set null' }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  acceptedAt: timestamp('accepted_at', { withTimezone: true }),
});

export const planRounds = pgTable(
  'plan_rounds',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    planId: uuid('plan_id')
      .notNull()
      .references(() => plans.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    name: text('name').notNull(),
    versionId: uuid('version_id')
      .notNull()
      .references(() => guidelineVersions.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('plan_rounds_position_key').on(t.planId, t.position)],
);

export const planRatings = pgTable(
  'plan_ratings',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    roundId: uuid('round_id')
      .notNull()
      .references(() => planRounds.id, { onDelete: 'cascade' }),
    statementRef: text('statement_ref').notNull(),
    agency: text('agency', { enum: AGENCIES }).notNull(),
    rating: text('rating', { enum: RATINGS }).notNull(),
    state: text('state', { enum: RATING_STATES }).notNull().default('confirmed'),
    naReason: text('na_reason'),
    know: text('know').notNull().default(''),
    howKnow: text('how_know').notNull().default(''),
    willDo: text('will_do').notNull().default(''),
    updatedBy: uuid('updated_by').references(() => users.id, { onDelete: 'set null' }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('plan_ratings_key').on(t.roundId, t.statementRef, t.agency)],
);

export const planEvidence = pgTable(
  'plan_evidence',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ratingId: uuid('rating_id')
      .notNull()
      .references(() => planRatings.id, { onDelete: 'cascade' }),
    description: text('description').notNull(),
    reviewBy: date('review_by').notNull(),
    addedBy: uuid('added_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('plan_evidence_rating_idx').on(t.ratingId)],
);

export const planActions = pgTable(
  'plan_actions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    planId: uuid('plan_id')
      .notNull()
      .references(() => plans.id, { onDelete: 'cascade' }),
    statementRef: text('statement_ref'),
    title: text('title').notNull(),
    owner: text('owner').notNull(),
    agency: text('agency', { enum: AGENCIES }).notNull(),
    dueOn: date('due_on').notNull(),
    status: text('status', { enum: ACTION_STATUSES }).notNull().default('not_started'),
    evidenceStatus: text('evidence_status', { enum: EVIDENCE_STATUSES }).notNull().default('none'),
    signedOffBy: uuid('signed_off_by').references(() => users.id, { onDelete: 'set null' }),
    signedOffOn: date('signed_off_on'),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('plan_actions_plan_idx').on(t.planId, t.dueOn)],
);

export const guidelineFeedback = pgTable(
  'guideline_feedback',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    guidelineId: uuid('guideline_id')
      .notNull()
      .references(() => guidelines.id, { onDelete: 'cascade' }),
    versionId: uuid('version_id')
      .notNull()
      .references(() => guidelineVersions.id, { onDelete: 'cascade' }),
    statementRef: text('statement_ref').notNull(),
    planId: uuid('plan_id').references(() => plans.id, { onDelete: 'set null' }),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'set null' }),
    reason: text('reason', { enum: FEEDBACK_REASONS }).notNull(),
    detail: text('detail').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('guideline_feedback_statement_idx').on(t.guidelineId, t.statementRef)],
);
