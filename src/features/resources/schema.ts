import { sql } from 'drizzle-orm';
import {
  boolean,
  customType,
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

export const RESOURCE_TYPES = [
  'video',
  'slides',
  'paper',
  'briefing',
  'evidence_review',
  'guide',
  'podcast',
  'tool',
  'report',
] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

export const AUDIENCES = ['practitioners', 'parents', 'managers', 'legal', 'researchers'] as const;
export type Audience = (typeof AUDIENCES)[number];

export const RESOURCE_STATUSES = ['draft', 'submitted', 'published', 'archived'] as const;
export type ResourceStatus = (typeof RESOURCE_STATUSES)[number];

export const LANGUAGES = ['en', 'cy'] as const;

/** Length bands for the facet; computed by the database from `length_minutes`. */
export const LENGTH_BANDS = ['under-10', '10-30', '30-60', 'over-60'] as const;
export type LengthBand = (typeof LENGTH_BANDS)[number];

export const FILE_KINDS = ['main', 'captions', 'transcript'] as const;
export type FileKind = (typeof FILE_KINDS)[number];

const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

/**
 * A resource in the open repository. Topics and audiences are arrays of
 * vocabulary slugs (GIN-indexed, so facets and filters stay quick);
 * `search` is a generated, weighted text vector: title above summary above
 * body and authors. Welsh resources are indexed without English stemming.
 */
export const resources = pgTable(
  'resources',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    slug: text('slug').notNull(),
    title: text('title').notNull(),
    summary: text('summary').notNull(),
    /** Markdown as written; `body_html` is its sanitised rendering. */
    body: text('body').notNull().default(''),
    bodyHtml: text('body_html').notNull().default(''),
    type: text('type', { enum: RESOURCE_TYPES }).notNull(),
    topics: text('topics')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    audiences: text('audiences')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    lengthMinutes: integer('length_minutes'),
    lengthBand: text('length_band').generatedAlwaysAs(
      sql`CASE WHEN length_minutes IS NULL THEN NULL WHEN length_minutes < 10 THEN 'under-10' WHEN length_minutes <= 30 THEN '10-30' WHEN length_minutes <= 60 THEN '30-60' ELSE 'over-60' END`,
    ),
    publishedOn: date('published_on', { mode: 'string' }),
    authors: text('authors').notNull().default(''),
    organisation: text('organisation').notNull().default(''),
    licence: text('licence').notNull().default(''),
    byParents: boolean('by_parents').notNull().default(false),
    language: text('language', { enum: LANGUAGES }).notNull().default('en'),
    externalUrl: text('external_url'),
    status: text('status', { enum: RESOURCE_STATUSES }).notNull().default('draft'),
    submittedBy: uuid('submitted_by').references(() => users.id, { onDelete: 'set null' }),
    declineReason: text('decline_reason'),
    isDemo: boolean('is_demo').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    firstPublishedAt: timestamp('first_published_at', { withTimezone: true }),
    search: tsvector('search').generatedAlwaysAs(
      sql`setweight(to_tsvector(CASE WHEN language = 'cy' THEN 'simple'::regconfig ELSE 'english'::regconfig END, coalesce(title, '')), 'A') || setweight(to_tsvector(CASE WHEN language = 'cy' THEN 'simple'::regconfig ELSE 'english'::regconfig END, coalesce(summary, '')), 'B') || setweight(to_tsvector(CASE WHEN language = 'cy' THEN 'simple'::regconfig ELSE 'english'::regconfig END, coalesce(body, '') || ' ' || coalesce(authors, '') || ' ' || coalesce(organisation, '')), 'C')`,
    ),
  },
  (t) => [
    uniqueIndex('resources_slug_key').on(t.slug),
    index('resources_search_idx').using('gin', t.search),
    index('resources_topics_idx').using('gin', t.topics),
    index('resources_status_published_idx').on(t.status, t.publishedOn.desc().nullsLast()),
    index('resources_type_idx').on(t.status, t.type),
    index('resources_submitted_by_idx').on(t.submittedBy),
  ],
);

/** Files of a resource: the main file(s), and captions or a transcript for a video. */
export const resourceFiles = pgTable(
  'resource_files',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    resourceId: uuid('resource_id')
      .notNull()
      .references(() => resources.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: FILE_KINDS }).notNull().default('main'),
    storageKey: text('storage_key').notNull(),
    filename: text('filename').notNull(),
    contentType: text('content_type').notNull(),
    size: integer('size').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('resource_files_resource_idx').on(t.resourceId)],
);

/** The topic vocabulary; a topic with an introduction has a page arranged by editors. */
export const topics = pgTable(
  'topics',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    slug: text('slug').notNull(),
    name: text('name').notNull(),
    nameCy: text('name_cy'),
    intro: text('intro').notNull().default(''),
    introHtml: text('intro_html').notNull().default(''),
    position: integer('position').notNull().default(0),
    isDemo: boolean('is_demo').notNull().default(false),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('topics_slug_key').on(t.slug)],
);

export const topicSections = pgTable(
  'topic_sections',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    topicId: uuid('topic_id')
      .notNull()
      .references(() => topics.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    heading: text('heading').notNull(),
    note: text('note').notNull().default(''),
  },
  (t) => [index('topic_sections_topic_idx').on(t.topicId, t.position)],
);

export const topicSectionItems = pgTable(
  'topic_section_items',
  {
    sectionId: uuid('section_id')
      .notNull()
      .references(() => topicSections.id, { onDelete: 'cascade' }),
    resourceId: uuid('resource_id')
      .notNull()
      .references(() => resources.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    note: text('note').notNull().default(''),
  },
  (t) => [primaryKey({ columns: [t.sectionId, t.resourceId] })],
);
