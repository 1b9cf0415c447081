import { sql } from 'drizzle-orm';
import {
  boolean,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { users } from '../accounts/schema.ts';

export const ARTICLE_KINDS = ['news', 'story'] as const;
export type ArticleKind = (typeof ARTICLE_KINDS)[number];

/** `submitted`: a member's proposed story waiting for an editor (like a resource submission). */
export const ARTICLE_STATUSES = [
  'draft',
  'submitted',
  'scheduled',
  'published',
  'archived',
] as const;
export type ArticleStatus = (typeof ARTICLE_STATUSES)[number];

export const COMMENT_STATUSES = ['visible', 'held', 'hidden', 'deleted'] as const;
export type CommentStatus = (typeof COMMENT_STATUSES)[number];

/** Why a comment waits for a moderator. */
export const HOLD_REASONS = ['first', 'links', 'words', 'safeguarding'] as const;
export type HoldReason = (typeof HOLD_REASONS)[number];

/** The background a commenter may choose to show (from their member kind). */
export const BACKGROUNDS = ['parent', 'practitioner', 'researcher'] as const;
export type Background = (typeof BACKGROUNDS)[number];

export interface ArticleAuthor {
  name: string;
  role: string;
}

/** A series of articles, e.g. "Seeding change"; it has a page and a feed. */
export const articleSeries = pgTable(
  'article_series',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    slug: text('slug').notNull(),
    name: text('name').notNull(),
    nameCy: text('name_cy'),
    description: text('description').notNull().default(''),
    descriptionCy: text('description_cy'),
    isDemo: boolean('is_demo').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('article_series_slug_key').on(t.slug)],
);

/**
 * A news item or a practice story. `publish_at` is when it is (or will be)
 * public: a `scheduled` article is public from then on even before the job
 * that marks it `published` has run. Topics are the resources' topic slugs;
 * authorities are GSS codes (their regions copied into `regions` for the
 * filter); services are the map's service slugs.
 */
export const articles = pgTable(
  'articles',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    kind: text('kind', { enum: ARTICLE_KINDS }).notNull(),
    slug: text('slug').notNull(),
    title: text('title').notNull(),
    standfirst: text('standfirst').notNull(),
    body: text('body').notNull().default(''),
    bodyHtml: text('body_html').notNull().default(''),
    language: text('language', { enum: ['en', 'cy'] })
      .notNull()
      .default('en'),
    status: text('status', { enum: ARTICLE_STATUSES }).notNull().default('draft'),
    publishAt: timestamp('publish_at', { withTimezone: true }),
    authors: jsonb('authors').$type<ArticleAuthor[]>().notNull().default([]),
    topics: text('topics')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    seriesId: uuid('series_id').references(() => articleSeries.id, { onDelete: 'set null' }),
    leadImageUrl: text('lead_image_url'),
    leadImageAlt: text('lead_image_alt'),
    leadImageCaption: text('lead_image_caption'),
    authorities: text('authorities')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    regions: text('regions')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    services: text('services')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    /** Guideline statements the story shows in practice (their references, e.g. "1.2"). */
    statements: text('statements')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    featuresParent: boolean('features_parent').notNull().default(false),
    consentRecordedOn: date('consent_recorded_on', { mode: 'string' }),
    consentReviewOn: date('consent_review_on', { mode: 'string' }),
    commentsOpen: boolean('comments_open').notNull().default(true),
    commentsCloseAt: timestamp('comments_close_at', { withTimezone: true }),
    likeCount: integer('like_count').notNull().default(0),
    commentCount: integer('comment_count').notNull().default(0),
    submittedBy: uuid('submitted_by').references(() => users.id, { onDelete: 'set null' }),
    /** The editor who created it: told of comments, as a submitter is. */
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    declineReason: text('decline_reason'),
    isDemo: boolean('is_demo').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('articles_slug_key').on(t.kind, t.slug),
    index('articles_public_idx').on(t.kind, t.status, t.publishAt.desc()),
    // The public lists: newest first among what may be public.
    index('articles_live_idx')
      .on(t.kind, t.publishAt.desc().nullsFirst(), t.id.desc().nullsFirst())
      .where(sql`status IN ('published', 'scheduled')`),
    // Beside it, articles_live_filter_idx: the same keys INCLUDE (topics, regions), for the
    // filtered lists (migration 0021; Drizzle's index builder has no INCLUDE).
    index('articles_topics_idx').using('gin', t.topics),
    index('articles_regions_idx').using('gin', t.regions),
    index('articles_services_idx').using('gin', t.services),
    index('articles_authorities_idx').using('gin', t.authorities),
    index('articles_series_idx').on(
      t.seriesId,
      t.publishAt.desc().nullsFirst(),
      t.id.desc().nullsFirst(),
    ),
    index('articles_submitted_by_idx').on(t.submittedBy),
  ],
);

export const articleLikes = pgTable(
  'article_likes',
  {
    articleId: uuid('article_id')
      .notNull()
      .references(() => articles.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.articleId, t.userId] })],
);

/** A comment, or a reply to one (one level: a reply's parent is never itself a reply). */
export const articleComments = pgTable(
  'article_comments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    articleId: uuid('article_id')
      .notNull()
      .references(() => articles.id, { onDelete: 'cascade' }),
    parentId: uuid('parent_id'),
    authorId: uuid('author_id').references(() => users.id, { onDelete: 'set null' }),
    /** Shown as "A parent": the name is never read for display. */
    anonymous: boolean('anonymous').notNull().default(false),
    /** The background the author chose to show with this comment, if any. */
    background: text('background', { enum: BACKGROUNDS }),
    body: text('body').notNull(),
    bodyHtml: text('body_html').notNull(),
    status: text('status', { enum: COMMENT_STATUSES }).notNull().default('visible'),
    heldReason: text('held_reason', { enum: HOLD_REASONS }),
    hiddenReason: text('hidden_reason'),
    likeCount: integer('like_count').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('article_comments_article_idx').on(t.articleId, t.createdAt, t.id),
    index('article_comments_parent_idx').on(t.parentId),
    index('article_comments_author_idx').on(t.authorId),
    index('article_comments_status_idx').on(t.status),
  ],
);

export const articleCommentLikes = pgTable(
  'article_comment_likes',
  {
    commentId: uuid('comment_id')
      .notNull()
      .references(() => articleComments.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.commentId, t.userId] })],
);

export const articleCommentReports = pgTable(
  'article_comment_reports',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    commentId: uuid('comment_id')
      .notNull()
      .references(() => articleComments.id, { onDelete: 'cascade' }),
    reporterId: uuid('reporter_id').references(() => users.id, { onDelete: 'set null' }),
    reason: text('reason').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
    outcome: text('outcome'),
  },
  (t) => [index('article_comment_reports_open_idx').on(t.resolvedAt, t.createdAt)],
);

/** Members stopped from commenting on articles, and why. */
export const articleCommentBans = pgTable('article_comment_bans', {
  userId: uuid('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  reason: text('reason').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
