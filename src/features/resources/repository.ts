import { and, asc, desc, eq, gt, inArray, ne, sql, type SQL } from 'drizzle-orm';
import { makePgArray, type PgColumn } from 'drizzle-orm/pg-core';
import type { Db, Tx } from '../../db/client.ts';
import {
  AUDIENCES,
  RESOURCE_TYPES,
  type Audience,
  type LengthBand,
  type ResourceStatus,
  type ResourceType,
  resourceFiles,
  resources,
  topics,
  topicSectionItems,
  topicSections,
} from './schema.ts';

export type ResourceRow = typeof resources.$inferSelect;
export type NewResource = typeof resources.$inferInsert;
export type ResourceFileRow = typeof resourceFiles.$inferSelect;
export type NewResourceFile = typeof resourceFiles.$inferInsert;
export type TopicRow = typeof topics.$inferSelect;

export interface SearchFilters {
  q?: string | undefined;
  /** The site search's matches for `q`, best first: when given, they stand for the text match. */
  ids?: string[] | undefined;
  types: ResourceType[];
  topics: string[];
  audiences: Audience[];
  lengths: LengthBand[];
  byParents: boolean;
  languages: ('en' | 'cy')[];
}

/** Published resources sharing the same facet values, and how many. */
export interface FacetGroup {
  type: ResourceType;
  lengthBand: LengthBand | null;
  byParents: boolean;
  language: 'en' | 'cy';
  topics: string[];
  audiences: Audience[];
  n: number;
}

export type SortOrder = 'relevant' | 'newest' | 'shortest';
export type FacetName = 'type' | 'topic' | 'audience' | 'length' | 'parents' | 'language';
export type FacetCounts = Record<FacetName, Record<string, number>>;

/** The columns a list of results needs (not the body). */
const listColumns = {
  id: resources.id,
  slug: resources.slug,
  title: resources.title,
  summary: resources.summary,
  type: resources.type,
  topics: resources.topics,
  audiences: resources.audiences,
  lengthMinutes: resources.lengthMinutes,
  publishedOn: resources.publishedOn,
  byParents: resources.byParents,
  language: resources.language,
  organisation: resources.organisation,
  authors: resources.authors,
  externalUrl: resources.externalUrl,
  status: resources.status,
  isDemo: resources.isDemo,
};
export type ResourceSummary = Pick<ResourceRow, keyof typeof listColumns>;

const list = (values: string[]): SQL =>
  sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  );

/** English stemming for English words, and the words as they are (for Welsh). */
/** The text part of a search: the site search's matches when given, else the words here. */
function textMatch(f: Pick<SearchFilters, 'q' | 'ids'>): SQL {
  if (f.ids) return sql`id = ANY(${sql.param(f.ids)}::uuid[])`;
  return f.q ? sql`search @@ ${tsQuery(f.q)}` : sql`true`;
}

const tsQuery = (q: string): SQL =>
  sql`(CASE WHEN websearch_to_tsquery('english', ${q}) = websearch_to_tsquery('simple', ${q})
        THEN websearch_to_tsquery('english', ${q})
        ELSE websearch_to_tsquery('english', ${q}) || websearch_to_tsquery('simple', ${q}) END)`;

/** One predicate per facet: several values within a facet mean any of them. */
function facetPredicates(f: SearchFilters): Record<FacetName, SQL> {
  return {
    type: f.types.length ? sql`type IN (${list(f.types)})` : sql`true`,
    topic: f.topics.length ? sql`topics && ARRAY[${list(f.topics)}]::text[]` : sql`true`,
    audience: f.audiences.length
      ? sql`audiences && ARRAY[${list(f.audiences)}]::text[]`
      : sql`true`,
    length: f.lengths.length ? sql`length_band IN (${list(f.lengths)})` : sql`true`,
    parents: f.byParents ? sql`by_parents` : sql`true`,
    language: f.languages.length ? sql`language IN (${list(f.languages)})` : sql`true`,
  };
}

/** A lower-case UUID, as the database writes them (anything else is never one of our ids). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Ids after `after` in the order of their text (a UUID's order is its text's):
 * the primary key's index for a UUID, the text byte by byte for anything else.
 */
const idAfter = (column: PgColumn, after: string): SQL =>
  UUID_PATTERN.test(after) ? gt(column, after) : sql`${column}::text COLLATE "C" > ${after}`;

/** What the site search needs of a resource. */
export interface ResourceSearchRow {
  id: string;
  slug: string;
  title: string;
  summary: string;
  body: string;
  type: ResourceType;
  authors: string;
  organisation: string;
  language: 'en' | 'cy';
  publishedOn: string | null;
  firstPublishedAt: Date | null;
  updatedAt: Date;
}

/** A row's id and when it last changed. */
export interface Changed {
  id: string;
  updatedAt: Date;
}

/** What the site search needs of a topic page: its introduction and its sections' words. */
export interface TopicSearchRow {
  id: string;
  slug: string;
  name: string;
  nameCy: string | null;
  intro: string;
  sections: string;
  updatedAt: Date;
}

export const FACETS: FacetName[] = ['type', 'topic', 'audience', 'length', 'parents', 'language'];

/** The repository over `db`, and `in(tx)`: the same queries inside a service's unit of work. */
export function createResourcesRepository(db: Db) {
  return { ...resourcesQueries(db), in: (tx: Tx) => resourcesQueries(tx) };
}

function resourcesQueries(db: Db) {
  const rowsOf = async <T>(query: SQL): Promise<T[]> =>
    ((await db.execute(query)) as unknown as { rows: T[] }).rows;

  // A resource page's three reads (every request that is not served from the page cache):
  // built once, when first used, and prepared (planned once per connection).
  let pageQueries: ReturnType<typeof preparePageQueries> | undefined;
  const page = () => (pageQueries ??= preparePageQueries());
  function preparePageQueries() {
    const topics = sql`${sql.placeholder('topics')}::text[]`;
    const candidates = db
      .select({
        ...listColumns,
        overlap:
          sql<number>`cardinality(ARRAY(SELECT unnest(${resources.topics}) INTERSECT SELECT unnest(${topics})))`.as(
            'overlap',
          ),
      })
      .from(resources)
      .where(
        and(
          eq(resources.status, 'published'),
          ne(resources.id, sql.placeholder('id')),
          sql`${resources.topics} && ${topics}`,
        ),
      )
      .orderBy(sql`${resources.publishedOn} DESC NULLS LAST`)
      .limit(50)
      .as('c');
    return {
      bySlug: db
        .select()
        .from(resources)
        .where(eq(resources.slug, sql.placeholder('slug')))
        .prepare('resource_by_slug'),
      files: db
        .select()
        .from(resourceFiles)
        .where(eq(resourceFiles.resourceId, sql.placeholder('id')))
        .orderBy(asc(resourceFiles.createdAt), asc(resourceFiles.filename))
        .prepare('resource_files'),
      related: db
        .select()
        .from(candidates)
        .orderBy(desc(candidates.overlap), sql`${candidates.publishedOn} DESC NULLS LAST`)
        .limit(sql.placeholder('limit'))
        .prepare('resource_related'),
    };
  }

  return {
    /**
     * Published resources matching the text and every facet filter, one
     * page of them, and the total.
     */
    async search(
      f: SearchFilters,
      sort: SortOrder,
      limit: number,
      offset: number,
    ): Promise<{ rows: ResourceSummary[] }> {
      const p = facetPredicates(f);
      const text = textMatch(f);
      const order =
        sort === 'relevant' && f.ids
          ? sql`array_position(${sql.param(f.ids)}::uuid[], id), id`
          : sort === 'relevant' && f.q
            ? sql`ts_rank_cd(search, ${tsQuery(f.q)}, 1) DESC, published_on DESC NULLS LAST, id`
            : sort === 'shortest'
              ? sql`length_minutes ASC NULLS LAST, title, id`
              : sql`published_on DESC NULLS LAST, id`;
      const rows = await rowsOf<Record<string, unknown>>(sql`
        SELECT id, slug, title, summary, type, topics, audiences, length_minutes, published_on::text AS published_date,
               by_parents, language, organisation, authors, external_url, status, is_demo
        FROM resources
        WHERE status = 'published' AND ${text}
          AND ${p.type} AND ${p.topic} AND ${p.audience} AND ${p.length} AND ${p.parents} AND ${p.language}
        ORDER BY ${order}
        LIMIT ${limit} OFFSET ${offset}`);
      return {
        rows: rows.map((r) => ({
          id: r.id as string,
          slug: r.slug as string,
          title: r.title as string,
          summary: r.summary as string,
          type: r.type as ResourceType,
          topics: r.topics as string[],
          audiences: r.audiences as string[],
          lengthMinutes: r.length_minutes as number | null,
          publishedOn: dateText(r.published_date),
          byParents: r.by_parents as boolean,
          language: r.language as 'en' | 'cy',
          organisation: r.organisation as string,
          authors: r.authors as string,
          externalUrl: r.external_url as string | null,
          status: r.status as ResourceStatus,
          isDemo: r.is_demo as boolean,
        })),
      };
    },

    /**
     * The published resources matching a text (or all of them), grouped by
     * every facet value they carry: a few thousand groups at most, from which
     * the service counts any combination of filters without another query.
     */
    async facetGroups(f: Pick<SearchFilters, 'q' | 'ids'>): Promise<FacetGroup[]> {
      const text = textMatch(f);
      const rows = await rowsOf<Record<string, unknown>>(sql`
        SELECT type, length_band, by_parents, language, topics, audiences, count(*)::int AS n
        FROM resources
        WHERE status = 'published' AND ${text}
        GROUP BY 1, 2, 3, 4, 5, 6`);
      return rows.map((r) => ({
        type: r.type as ResourceType,
        lengthBand: (r.length_band as LengthBand | null) ?? null,
        byParents: r.by_parents as boolean,
        language: r.language as 'en' | 'cy',
        topics: r.topics as string[],
        audiences: r.audiences as Audience[],
        n: Number(r.n),
      }));
    },

    async bySlug(slug: string): Promise<ResourceRow | undefined> {
      const [row] = await page().bySlug.execute({ slug });
      return row;
    },
    async byId(id: string): Promise<ResourceRow | undefined> {
      const [row] = await db.select().from(resources).where(eq(resources.id, id));
      return row;
    },
    async slugTaken(slug: string, exceptId?: string): Promise<boolean> {
      const rows = await db
        .select({ id: resources.id })
        .from(resources)
        .where(and(eq(resources.slug, slug), exceptId ? ne(resources.id, exceptId) : undefined));
      return rows.length > 0;
    },
    async bySlugs(slugs: string[]): Promise<{ id: string; slug: string; status: string }[]> {
      if (!slugs.length) return [];
      return db
        .select({ id: resources.id, slug: resources.slug, status: resources.status })
        .from(resources)
        .where(inArray(resources.slug, slugs));
    },

    /** Insert or update a resource and add its new files, all or nothing. */
    async save(
      values: NewResource,
      newFiles: Omit<NewResourceFile, 'resourceId'>[],
      id?: string,
    ): Promise<ResourceRow> {
      return db.transaction(async (tx) => {
        let row: ResourceRow | undefined;
        if (id) {
          [row] = await tx
            .update(resources)
            .set({ ...values, updatedAt: new Date() })
            .where(eq(resources.id, id))
            .returning();
        } else {
          [row] = await tx.insert(resources).values(values).returning();
        }
        if (!row) throw new Error('Resource not found');
        if (newFiles.length)
          await tx
            .insert(resourceFiles)
            .values(newFiles.map((f) => ({ ...f, resourceId: row.id })));
        return row;
      });
    },
    /** Upsert by slug (the seed). */
    async upsert(values: NewResource): Promise<ResourceRow> {
      const { id: _id, ...rest } = values;
      const [row] = await db
        .insert(resources)
        .values(values)
        .onConflictDoUpdate({ target: resources.slug, set: { ...rest, updatedAt: new Date() } })
        .returning();
      return row!;
    },
    async setStatus(
      id: string,
      status: ResourceStatus,
      declineReason: string | null = null,
    ): Promise<ResourceRow | undefined> {
      const [row] = await db
        .update(resources)
        .set({
          status,
          declineReason,
          updatedAt: new Date(),
          ...(status === 'published'
            ? { firstPublishedAt: sql`coalesce(${resources.firstPublishedAt}, now())` }
            : {}),
        })
        .where(eq(resources.id, id))
        .returning();
      return row;
    },

    async files(resourceId: string): Promise<ResourceFileRow[]> {
      return page().files.execute({ id: resourceId });
    },
    async file(resourceId: string, fileId: string): Promise<ResourceFileRow | undefined> {
      const [row] = await db
        .select()
        .from(resourceFiles)
        .where(and(eq(resourceFiles.resourceId, resourceId), eq(resourceFiles.id, fileId)));
      return row;
    },
    async deleteFile(resourceId: string, fileId: string): Promise<ResourceFileRow | undefined> {
      const [row] = await db
        .delete(resourceFiles)
        .where(and(eq(resourceFiles.resourceId, resourceId), eq(resourceFiles.id, fileId)))
        .returning();
      return row;
    },
    async replaceDemoFile(resourceId: string, file: Omit<NewResourceFile, 'resourceId'>) {
      await db.transaction(async (tx) => {
        await tx
          .delete(resourceFiles)
          .where(
            and(
              eq(resourceFiles.resourceId, resourceId),
              eq(resourceFiles.kind, file.kind ?? 'main'),
            ),
          );
        await tx.insert(resourceFiles).values({ ...file, resourceId });
      });
    },

    /**
     * Published resources sharing most topics with this one, among the 50
     * newest that share any (so a page never sorts the whole repository).
     */
    async related(r: ResourceRow, limit: number): Promise<ResourceSummary[]> {
      if (!r.topics.length) return [];
      // The topics as one array literal: one plain parameter (`$n::text[]`).
      const rows = await page().related.execute({ id: r.id, topics: makePgArray(r.topics), limit });
      return rows.map(({ overlap: _o, ...rest }) => rest);
    },
    async latest(
      limit: number,
    ): Promise<(ResourceSummary & { firstPublishedAt: Date | null; updatedAt: Date })[]> {
      return db
        .select({
          ...listColumns,
          firstPublishedAt: resources.firstPublishedAt,
          updatedAt: resources.updatedAt,
        })
        .from(resources)
        .where(eq(resources.status, 'published'))
        .orderBy(desc(resources.firstPublishedAt), desc(resources.publishedOn))
        .limit(limit);
    },
    /** For editors: by status, newest change first. */
    async listByStatus(status: ResourceStatus | undefined, limit: number, offset: number) {
      const where = status ? eq(resources.status, status) : undefined;
      const [rows, [total]] = await Promise.all([
        db
          .select({
            ...listColumns,
            updatedAt: resources.updatedAt,
            submittedBy: resources.submittedBy,
          })
          .from(resources)
          .where(where)
          .orderBy(desc(resources.updatedAt))
          .limit(limit)
          .offset(offset),
        db
          .select({ n: sql<number>`count(*)::int` })
          .from(resources)
          .where(where),
      ]);
      return { rows, total: Number(total?.n ?? 0) };
    },
    async countByStatus(): Promise<Record<string, number>> {
      const rows = await db
        .select({ status: resources.status, n: sql<number>`count(*)::int` })
        .from(resources)
        .groupBy(resources.status);
      return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
    },
    async submissionsOf(userId: string) {
      return db
        .select({ ...listColumns, createdAt: resources.createdAt })
        .from(resources)
        .where(eq(resources.submittedBy, userId))
        .orderBy(desc(resources.createdAt));
    },

    /** A member leaves: their unpublished submissions go if they ask; the link to them goes always. */
    async detachSubmitter(userId: string, removeUnpublished: boolean): Promise<string[]> {
      return db.transaction(async (tx) => {
        const removed = removeUnpublished
          ? await tx
              .delete(resources)
              .where(
                and(
                  eq(resources.submittedBy, userId),
                  inArray(resources.status, ['draft', 'submitted']),
                ),
              )
              .returning({ id: resources.id })
          : [];
        await tx
          .update(resources)
          .set({ submittedBy: null })
          .where(eq(resources.submittedBy, userId));
        return removed.map((r) => r.id);
      });
    },

    /**
     * The benchmark's data: `n` generated, published resources (marked demo),
     * added in batches by the database itself. Idempotent: slugs are fixed.
     */
    async generateBulk(n: number, topicSlugs: string[]): Promise<void> {
      const words = [
        'contact',
        'court',
        'parents',
        'fathers',
        'pregnancy',
        'trauma',
        'grief',
        'advocacy',
        'housing',
        'peer',
        'support',
        'review',
        'assessment',
        'practice',
        'evidence',
        'letterbox',
        'health',
        'contraception',
        'commissioning',
        'wellbeing',
      ];
      const types = [...RESOURCE_TYPES];
      const audiences = [...AUDIENCES];
      for (let start = 1; start <= n; start += 10_000) {
        const end = Math.min(n, start + 9_999);
        await db.execute(sql`
          INSERT INTO resources (slug, title, summary, body, body_html, type, topics, audiences, length_minutes,
                                 published_on, organisation, by_parents, language, status, is_demo, first_published_at)
          SELECT 'bench-' || g,
                 'Generated resource ' || g || ' on ' || (ARRAY[${list(words)}]::text[])[1 + g % 20] || ' and ' || (ARRAY[${list(words)}]::text[])[1 + (g / 20) % 20],
                 'A generated resource about ' || (ARRAY[${list(words)}]::text[])[1 + (g / 7) % 20] || ' for the benchmark.',
                 'Body text about ' || (ARRAY[${list(words)}]::text[])[1 + (g / 3) % 20] || ' and ' || (ARRAY[${list(words)}]::text[])[1 + (g / 11) % 20] || '.',
                 '',
                 (ARRAY[${list(types)}]::text[])[1 + g % 9],
                 ARRAY[(ARRAY[${list(topicSlugs)}]::text[])[1 + g % ${topicSlugs.length}], (ARRAY[${list(topicSlugs)}]::text[])[1 + (g / 8) % ${topicSlugs.length}]],
                 ARRAY[(ARRAY[${list(audiences)}]::text[])[1 + g % 5]],
                 CASE WHEN g % 10 = 0 THEN NULL ELSE 1 + g % 90 END,
                 date '2015-01-01' + (g % 3650),
                 'Generated organisation ' || (g % 50),
                 g % 9 = 0,
                 CASE WHEN g % 15 = 0 THEN 'cy' ELSE 'en' END,
                 'published', true, now()
          FROM generate_series(${start}::int, ${end}::int) AS g
          ON CONFLICT (slug) DO NOTHING`);
      }
      await db.execute(sql`ANALYZE resources`);
    },

    // The site search: published resources and topic pages, in id order.
    /** Published resources after `after` or among `ids` (valid ids only), in id order. */
    async searchResources(q: {
      after?: string | undefined;
      ids?: readonly string[] | undefined;
      limit: number;
    }): Promise<ResourceSearchRow[]> {
      if (q.ids && !q.ids.length) return [];
      return db
        .select({
          id: resources.id,
          slug: resources.slug,
          title: resources.title,
          summary: resources.summary,
          body: resources.body,
          type: resources.type,
          authors: resources.authors,
          organisation: resources.organisation,
          language: resources.language,
          publishedOn: resources.publishedOn,
          firstPublishedAt: resources.firstPublishedAt,
          updatedAt: resources.updatedAt,
        })
        .from(resources)
        .where(
          and(
            eq(resources.status, 'published'),
            q.after !== undefined ? idAfter(resources.id, q.after) : undefined,
            q.ids ? inArray(resources.id, [...q.ids]) : undefined,
          ),
        )
        .orderBy(asc(resources.id))
        .limit(q.limit);
    },
    /** Topics (every topic has a page) after `after` or among `ids`, in id order. */
    async searchTopics(q: {
      after?: string | undefined;
      ids?: readonly string[] | undefined;
      limit: number;
    }): Promise<TopicSearchRow[]> {
      if (q.ids && !q.ids.length) return [];
      return db
        .select({
          id: topics.id,
          slug: topics.slug,
          name: topics.name,
          nameCy: topics.nameCy,
          intro: topics.intro,
          // Written out: in a one-table select Drizzle leaves column names unqualified.
          sections: sql<string>`coalesce((SELECT string_agg(s.heading || ' ' || s.note, ' ' ORDER BY s.position) FROM topic_sections s WHERE s.topic_id = topics.id), '')`,
          updatedAt: topics.updatedAt,
        })
        .from(topics)
        .where(
          and(
            q.after !== undefined ? idAfter(topics.id, q.after) : undefined,
            q.ids ? inArray(topics.id, [...q.ids]) : undefined,
          ),
        )
        .orderBy(asc(topics.id))
        .limit(q.limit);
    },
    /** Of these resource ids, the published ones. */
    async publishedIds(ids: readonly string[]): Promise<string[]> {
      if (!ids.length) return [];
      const rows = await db
        .select({ id: resources.id })
        .from(resources)
        .where(and(inArray(resources.id, [...ids]), eq(resources.status, 'published')));
      return rows.map((r) => r.id);
    },
    /** Of these topic ids, the ones that exist. */
    async topicIds(ids: readonly string[]): Promise<string[]> {
      if (!ids.length) return [];
      const rows = await db
        .select({ id: topics.id })
        .from(topics)
        .where(inArray(topics.id, [...ids]));
      return rows.map((r) => r.id);
    },
    /** Resources (any status: one may have left) and topics changed since then, oldest change first. */
    async changedSince(
      since: Date,
      limit: number,
    ): Promise<{ resources: Changed[]; topics: Changed[] }> {
      const [r, t] = await Promise.all([
        db
          .select({ id: resources.id, updatedAt: resources.updatedAt })
          .from(resources)
          .where(gt(resources.updatedAt, since))
          .orderBy(asc(resources.updatedAt))
          .limit(limit),
        db
          .select({ id: topics.id, updatedAt: topics.updatedAt })
          .from(topics)
          .where(gt(topics.updatedAt, since))
          .orderBy(asc(topics.updatedAt))
          .limit(limit),
      ]);
      return { resources: r, topics: t };
    },

    // Topics
    async allTopics(): Promise<TopicRow[]> {
      return db.select().from(topics).orderBy(asc(topics.position), asc(topics.name));
    },
    async topicBySlug(slug: string): Promise<TopicRow | undefined> {
      const [row] = await db.select().from(topics).where(eq(topics.slug, slug));
      return row;
    },
    async upsertTopic(values: typeof topics.$inferInsert): Promise<TopicRow> {
      const { id: _id, ...rest } = values;
      const [row] = await db
        .insert(topics)
        .values(values)
        .onConflictDoUpdate({ target: topics.slug, set: { ...rest, updatedAt: new Date() } })
        .returning();
      return row!;
    },
    /** A topic page's sections and their resources (any status; the service filters). */
    async topicSections(topicId: string) {
      const sections = await db
        .select()
        .from(topicSections)
        .where(eq(topicSections.topicId, topicId))
        .orderBy(asc(topicSections.position));
      if (!sections.length) return [];
      const items = await db
        .select({
          sectionId: topicSectionItems.sectionId,
          note: topicSectionItems.note,
          position: topicSectionItems.position,
          resource: listColumns,
        })
        .from(topicSectionItems)
        .innerJoin(resources, eq(resources.id, topicSectionItems.resourceId))
        .where(
          inArray(
            topicSectionItems.sectionId,
            sections.map((s) => s.id),
          ),
        )
        .orderBy(asc(topicSectionItems.position));
      return sections.map((s) => ({ ...s, items: items.filter((i) => i.sectionId === s.id) }));
    },
    /** Replace a topic's introduction and sections in one transaction. */
    async saveTopicPage(
      topicId: string,
      intro: { intro: string; introHtml: string },
      sections: { heading: string; note: string; items: { resourceId: string; note: string }[] }[],
    ): Promise<void> {
      await db.transaction(async (tx) => {
        await tx
          .update(topics)
          .set({ ...intro, updatedAt: new Date() })
          .where(eq(topics.id, topicId));
        await tx.delete(topicSections).where(eq(topicSections.topicId, topicId));
        for (const [position, s] of sections.entries()) {
          const [row] = await tx
            .insert(topicSections)
            .values({ topicId, position, heading: s.heading, note: s.note })
            .returning({ id: topicSections.id });
          if (s.items.length)
            await tx.insert(topicSectionItems).values(
              s.items.map((i, p) => ({
                sectionId: row!.id,
                resourceId: i.resourceId,
                note: i.note,
                position: p,
              })),
            );
        }
      });
    },
  };
}

export type ResourcesRepository = ReturnType<typeof createResourcesRepository>;

function dateText(v: unknown): string | null {
  if (v == null) return null;
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  return String(v).slice(0, 10);
}
