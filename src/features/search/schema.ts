import {
  customType,
  date,
  index,
  integer,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import { type AnyColumn, sql } from 'drizzle-orm';
import { SEARCH_KINDS } from '../../platform/search.ts';

const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

/**
 * A document's shelf: its kind and access together (`news:public`), the
 * expression `search_documents_shelf_date` indexes. The index and a browse's
 * query (repository.ts) both write it from here: the planner uses the index
 * only for the very same expression.
 */
export const shelfOf = (t: { kind: AnyColumn; access: AnyColumn }) =>
  sql`(${t.kind} || ':' || ${t.access})`;

/**
 * The site search's one index: a row per thing that can be found, as its
 * feature described it (platform/search.ts). `words` is made on writing:
 * English words stemmed (config `english`, accents removed), Welsh words
 * folded (mutations, accents) under `simple`; title A, summary B, body C.
 */
export const searchDocuments = pgTable(
  'search_documents',
  {
    /** `<source>:<id>` */
    key: text('key').primaryKey(),
    source: text('source').notNull(),
    sourceId: text('source_id').notNull(),
    kind: text('kind').notNull(),
    typeLabel: text('type_label'),
    typeLabelCy: text('type_label_cy'),
    url: text('url').notNull(),
    language: text('language').notNull(),
    title: text('title').notNull(),
    titleCy: text('title_cy'),
    summary: text('summary'),
    summaryCy: text('summary_cy'),
    body: text('body').notNull().default(''),
    bodyCy: text('body_cy'),
    authorities: text('authorities').array().notNull().default([]),
    regions: text('regions').array().notNull().default([]),
    date: timestamp('date', { withTimezone: true }),
    access: text('access').notNull(),
    words: tsvector('words').notNull(),
    /** Title and summary only (A, B): ranking reads these, not the whole text. */
    rankWords: tsvector('rank_words').notNull(),
    /** Pairs of words side by side, made from `words` by the database: see pairs.ts. */
    pairs: text('pairs')
      .array()
      .generatedAlwaysAs(sql`search_word_pairs(words)`),
    indexedAt: timestamp('indexed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // GIN indexes of the words and of the word pairs, per kind (partial): what anybody may find
    // and the rest. See matchQuery in repository.ts.
    ...SEARCH_KINDS.flatMap((k) =>
      (['words', 'pairs'] as const).flatMap((column) => [
        index(`search_documents_${column}_${k}_public`)
          .using('gin', t[column])
          .where(sql.raw(`kind = '${k}' AND access = 'public'`)),
        index(`search_documents_${column}_${k}_private`)
          .using('gin', t[column])
          .where(sql.raw(`kind = '${k}' AND access <> 'public'`)),
      ]),
    ),
    // A kind's documents for a person (kind and access), newest first: a query of nothing but
    // kind words ("news"). An expression no search for words names, so it never plans with it.
    index('search_documents_shelf_date').on(shelfOf(t), t.date.desc().nullsLast()),
    index('search_documents_source').on(t.source, t.sourceId),
    index('search_documents_url').on(t.url),
  ],
);

/** Words of titles and summaries, for "did you mean". Remade from the index. */
export const searchWords = pgTable(
  'search_words',
  {
    word: text('word').primaryKey(),
    documents: integer('documents').notNull(),
  },
  (t) => [index('search_words_trgm').using('gin', t.word.op('gin_trgm_ops'))],
);

/** Editors' synonyms: any of the terms finds the others ("FDAC", "family drug and alcohol court"). */
export const searchSynonyms = pgTable('search_synonyms', {
  id: serial('id').primaryKey(),
  terms: text('terms').array().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Editors' best bets: a query pinned to a page, shown above the results. */
export const searchBestBets = pgTable('search_best_bets', {
  id: serial('id').primaryKey(),
  /** The query, normalised (lower case, single spaces, no accents). */
  query: text('query').notNull().unique(),
  url: text('url').notNull(),
  title: text('title').notNull(),
  titleCy: text('title_cy'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** How often a query was searched each day, and how often it found nothing. No person is kept. */
export const searchQueryStats = pgTable(
  'search_query_stats',
  {
    day: date('day').notNull(),
    query: text('query').notNull(),
    searches: integer('searches').notNull().default(0),
    empty: integer('empty').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.day, t.query] })],
);

/** Which result was opened for a query, each day. No person is kept. */
export const searchClickStats = pgTable(
  'search_click_stats',
  {
    day: date('day').notNull(),
    query: text('query').notNull(),
    url: text('url').notNull(),
    clicks: integer('clicks').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.day, t.query, t.url] })],
);

/** Where the index's catching up with the features got to (one row per source). */
export const searchSync = pgTable('search_sync', {
  source: text('source').primaryKey(),
  checkedAt: timestamp('checked_at', { withTimezone: true }).notNull(),
});
