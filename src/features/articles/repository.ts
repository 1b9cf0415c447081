import {
  and,
  asc,
  count,
  desc,
  eq,
  gt,
  inArray,
  isNull,
  or,
  type Placeholder,
  sql,
  type SQL,
} from 'drizzle-orm';
import { makePgArray, type PgColumn } from 'drizzle-orm/pg-core';
import type { Db, Tx } from '../../db/client.ts';
import {
  type ArticleKind,
  type ArticleStatus,
  articleCommentBans,
  articleCommentLikes,
  articleCommentReports,
  articleComments,
  articleLikes,
  articles,
  articleSeries,
  type CommentStatus,
  type HoldReason,
} from './schema.ts';

/**
 * The SQL of articles: news and practice stories, series, likes, comments
 * and their moderation. Only this module reads or writes these tables.
 * `in(tx)` gives the same queries inside a service's unit of work.
 */

export type ArticleRow = typeof articles.$inferSelect;
export type NewArticle = typeof articles.$inferInsert;
export type SeriesRow = typeof articleSeries.$inferSelect;
export type NewSeries = typeof articleSeries.$inferInsert;
export type CommentRow = typeof articleComments.$inferSelect;
export type NewComment = typeof articleComments.$inferInsert;

export interface ListFilters {
  kind?: ArticleKind | undefined;
  topics?: string[] | undefined;
  regions?: string[] | undefined;
  seriesId?: string | undefined;
  authority?: string | undefined;
  service?: string | undefined;
  /** A guideline statement, stored as `slug/ref`. */
  statement?: string | undefined;
}

/** What a list shows of an article (no body). */
export const listColumns = {
  id: articles.id,
  kind: articles.kind,
  slug: articles.slug,
  title: articles.title,
  standfirst: articles.standfirst,
  language: articles.language,
  status: articles.status,
  publishAt: articles.publishAt,
  updatedAt: articles.updatedAt,
  authors: articles.authors,
  topics: articles.topics,
  regions: articles.regions,
  seriesId: articles.seriesId,
  leadImageUrl: articles.leadImageUrl,
  leadImageAlt: articles.leadImageAlt,
  commentCount: articles.commentCount,
  isDemo: articles.isDemo,
};
export type ArticleSummary = Pick<ArticleRow, keyof typeof listColumns>;

/** The filters of a public list, in the order their SQL is written. */
const LIST_FILTERS = [
  'kind',
  'topics',
  'regions',
  'seriesId',
  'authority',
  'service',
  'statement',
] as const satisfies readonly (keyof ListFilters)[];
type ListFilter = (typeof LIST_FILTERS)[number];

/** A list's filters as the prepared list's parameters: arrays as array literals, unused ones undefined. */
function listParams(f: ListFilters): Record<ListFilter, string | undefined> {
  const list = (values: string[] | undefined) => (values?.length ? makePgArray(values) : undefined);
  const one = (value: string | undefined) => (value ? makePgArray([value]) : undefined);
  return {
    kind: f.kind || undefined,
    topics: list(f.topics),
    regions: list(f.regions),
    seriesId: f.seriesId || undefined,
    authority: one(f.authority),
    service: one(f.service),
    statement: one(f.statement),
  };
}

/** The filters that test an array column (`&&`). */
const ARRAY_FILTERS: ReadonlySet<ListFilter> = new Set([
  'topics',
  'regions',
  'authority',
  'service',
  'statement',
]);

/** A list query's parameters: the filters', the time, and the page. */
type ListParam = ListFilter | 'now' | 'limit' | 'offset';
type ListParams = Record<ListFilter, string | undefined> & {
  now: string;
  limit: number;
  offset: number;
};

/** The filters in use (set) among a list's parameters. */
const filtersUsed = (params: Record<ListFilter, string | undefined>) =>
  LIST_FILTERS.filter((k) => params[k] !== undefined);

/**
 * What a public list holds: public now (published, or scheduled and its time has come), and
 * each filter in use. Each value comes from `value`: a placeholder in a prepared list, or the
 * value itself.
 */
function listWhere(
  used: readonly ListFilter[],
  value: (name: ListFilter | 'now') => unknown,
): SQL | undefined {
  const overlaps = (column: PgColumn, name: ListFilter) => sql`${column} && ${value(name)}::text[]`;
  const conditions: Record<ListFilter, () => SQL> = {
    kind: () => sql`${articles.kind} = ${value('kind')}`,
    topics: () => overlaps(articles.topics, 'topics'),
    regions: () => overlaps(articles.regions, 'regions'),
    seriesId: () => sql`${articles.seriesId} = ${value('seriesId')}`,
    authority: () => overlaps(articles.authorities, 'authority'),
    service: () => overlaps(articles.services, 'service'),
    statement: () => overlaps(articles.statements, 'statement'),
  };
  return and(
    // Written in, not a parameter: a prepared list's plan, made once for any parameters, can
    // then use the indexes of public articles (partial on these two), and it did not before
    // (a deep /news page read 10,000 rows and sorted them: 18.6 ms against 0.9).
    sql`${articles.status} IN ('published', 'scheduled')`,
    sql`${articles.publishAt} <= ${value('now')}::timestamptz`,
    ...used.map((k) => conditions[k]()),
  );
}

/** A public list's condition with its values written in (lists that are not prepared). */
function where(f: ListFilters, now: Date): SQL | undefined {
  const params = listParams(f);
  return listWhere(filtersUsed(params), (k) => (k === 'now' ? now.toISOString() : params[k]));
}

/** Public now: published, or scheduled and its time has come. */
const isPublic = (now: Date) => where({}, now);

/** A comment as a page shows it, with the viewer's like. */
export interface CommentView {
  id: string;
  parentId: string | null;
  authorId: string | null;
  anonymous: boolean;
  background: string | null;
  bodyHtml: string;
  status: CommentStatus;
  heldReason: string | null;
  hiddenReason: string | null;
  likeCount: number;
  createdAt: Date;
  liked: boolean;
}

const NO_ONE = '00000000-0000-0000-0000-000000000000';

/** Comments a viewer sees: visible ones, their own held or hidden ones (moderators: all), and a
 * deleted one that still has visible replies (it keeps their place). */
function shownTo(viewerId: string | Placeholder | undefined, all: boolean): SQL {
  const viewer = viewerId ?? NO_ONE;
  return all
    ? sql`(${articleComments.status} <> 'deleted' OR EXISTS (SELECT 1 FROM article_comments r WHERE r.parent_id = ${articleComments.id} AND r.status = 'visible'))`
    : sql`(${articleComments.status} = 'visible' OR (${articleComments.status} IN ('held', 'hidden') AND ${articleComments.authorId} = ${viewer}) OR (${articleComments.status} = 'deleted' AND EXISTS (SELECT 1 FROM article_comments r WHERE r.parent_id = ${articleComments.id} AND r.status = 'visible')))`;
}

function commentColumns(viewerId: string | Placeholder | undefined) {
  const viewer = viewerId ?? NO_ONE;
  return {
    id: articleComments.id,
    parentId: articleComments.parentId,
    authorId: articleComments.authorId,
    anonymous: articleComments.anonymous,
    background: articleComments.background,
    bodyHtml: articleComments.bodyHtml,
    status: articleComments.status,
    heldReason: articleComments.heldReason,
    hiddenReason: articleComments.hiddenReason,
    likeCount: articleComments.likeCount,
    createdAt: articleComments.createdAt,
    liked: sql<boolean>`EXISTS (SELECT 1 FROM article_comment_likes l WHERE l.comment_id = ${articleComments.id} AND l.user_id = ${viewer})`,
  };
}

/**
 * The totals of the public lists ("10,003 articles"), kept for a short while: counting every
 * match cost PostgreSQL more than reading the page itself (10,000 news items: 1.8 ms, with a
 * topic and a region 3.1 ms), and a list's total changes only when an article does. Any write
 * to articles through this repository forgets them all at once (a count that was being read
 * across such a write is not kept); another instance's write, or a scheduled article whose
 * time has come before its job has run, shows in the totals within COUNT_TTL_MS. The pages
 * themselves are always read afresh.
 */
const COUNT_TTL_MS = 10_000;
const COUNTS_KEPT = 500;
function createCountCache() {
  let generation = 0;
  const kept = new Map<string, { total: number; at: number }>();
  return {
    generation: () => generation,
    get(key: string, now: number): number | undefined {
      const c = kept.get(key);
      return c && now >= c.at && now - c.at < COUNT_TTL_MS ? c.total : undefined;
    },
    set(key: string, total: number, now: number, readFrom: number) {
      if (readFrom !== generation) return;
      if (kept.size >= COUNTS_KEPT) kept.delete(kept.keys().next().value!);
      kept.set(key, { total, at: now });
    },
    changed() {
      generation++;
      kept.clear();
    },
  };
}
type CountCache = ReturnType<typeof createCountCache>;

function queries(db: Db | Tx, counts: CountCache) {
  // A public list's two reads (every /news, /stories and series page that the page cache does
  // not answer): built once for each set of filters in use, and prepared, so that PostgreSQL
  // plans them once per connection rather than on every page (planning the count cost more
  // than running it).
  const listPlans = new Map<string, ReturnType<typeof prepareList>>();
  function listPlan(params: Record<ListFilter, string | undefined>) {
    const used = filtersUsed(params);
    const shape = used.join('_') || 'all';
    let plan = listPlans.get(shape);
    if (!plan) {
      plan = prepareList(used, shape);
      listPlans.set(shape, plan);
    }
    return plan;
  }
  /** A list's page and count, each value from `value` (a placeholder, or the value itself). */
  function listQueries(used: readonly ListFilter[], value: (name: ListParam) => unknown) {
    const w = listWhere(used, value);
    // The page's ids first, from the index alone (articles_live_idx holds the kind, the
    // time and the id), then only those rows: a deep page skips ids, not whole rows.
    const ids = db
      .select({ id: articles.id })
      .from(articles)
      .where(w)
      .orderBy(desc(articles.publishAt), desc(articles.id))
      .limit(value('limit') as number | Placeholder)
      .offset(value('offset') as number | Placeholder);
    return {
      page: db
        .select(listColumns)
        .from(articles)
        .where(inArray(articles.id, ids))
        .orderBy(desc(articles.publishAt), desc(articles.id)),
      count: db.select({ n: count() }).from(articles).where(w),
    };
  }
  function prepareList(used: readonly ListFilter[], shape: string) {
    // A list filtered by topic, region or another array is planned for its values every time,
    // not prepared: a plan made once, for any values, cannot know how many articles a topic
    // or region has, and took the arrays' own indexes and a sort (2.5–5 ms a page) where the
    // index of public articles in order, with the arrays in it, answers in 0.5–0.9 ms
    // (planning included).
    if (used.some((k) => ARRAY_FILTERS.has(k)))
      return {
        page: { execute: (p: ListParams) => listQueries(used, (k) => p[k]).page.execute() },
        count: { execute: (p: ListParams) => listQueries(used, (k) => p[k]).count.execute() },
      };
    const q = listQueries(used, (name) => sql.placeholder(name));
    return {
      page: q.page.prepare(`articles_list_${shape}`),
      count: q.count.prepare(`articles_count_${shape}`),
    };
  }

  // An article page's comments (a page of threads, and the counts), prepared as the lists are:
  // one pair for each order, and for moderators, who see every comment.
  const commentPlans = new Map<string, ReturnType<typeof prepareCommentPage>>();
  function commentPlan(newest: boolean, all: boolean) {
    const shape = `${newest ? 'newest' : 'oldest'}${all ? '_all' : ''}`;
    let plan = commentPlans.get(shape);
    if (!plan) {
      plan = prepareCommentPage(newest, all, shape);
      commentPlans.set(shape, plan);
    }
    return plan;
  }
  function prepareCommentPage(newest: boolean, all: boolean, shape: string) {
    const shown = shownTo(sql.placeholder('viewer'), all);
    const onArticle = eq(articleComments.articleId, sql.placeholder('articleId'));
    const by = newest ? desc : asc;
    const tops = db
      .select({ id: articleComments.id })
      .from(articleComments)
      .where(and(onArticle, isNull(articleComments.parentId), shown))
      .orderBy(by(articleComments.createdAt), by(articleComments.id))
      .limit(sql.placeholder('limit'))
      .offset(sql.placeholder('offset'));
    return {
      page: db
        .select(commentColumns(sql.placeholder('viewer')))
        .from(articleComments)
        .where(
          and(
            onArticle,
            shown,
            or(inArray(articleComments.id, tops), inArray(articleComments.parentId, tops)),
          ),
        )
        .orderBy(asc(articleComments.createdAt), asc(articleComments.id))
        .prepare(`article_comments_${shape}`),
      counts: db
        .select({
          threads: sql<number>`count(*) FILTER (WHERE ${articleComments.parentId} IS NULL AND (${shown}))`,
          visible: sql<number>`count(*) FILTER (WHERE ${articleComments.status} = 'visible')`,
        })
        .from(articleComments)
        .where(onArticle)
        .prepare(`article_comment_counts_${shape}`),
    };
  }
  let bySlugQuery: ReturnType<typeof prepareBySlug> | undefined;
  function prepareBySlug() {
    return db
      .select()
      .from(articles)
      .where(
        and(eq(articles.kind, sql.placeholder('kind')), eq(articles.slug, sql.placeholder('slug'))),
      )
      .prepare('article_by_slug');
  }

  return {
    async list(
      f: ListFilters,
      now: Date,
      limit: number,
      offset: number,
    ): Promise<{ rows: ArticleSummary[]; total: number }> {
      const filters = listParams(f);
      const plan = listPlan(filters);
      const params = { ...filters, now: now.toISOString(), limit, offset };
      const key = JSON.stringify(filters);
      const readFrom = counts.generation();
      const known = counts.get(key, now.getTime());
      const [rows, total] = await Promise.all([
        plan.page.execute(params),
        known ??
          plan.count.execute(params).then(([n]) => {
            const total = Number(n?.n ?? 0);
            counts.set(key, total, now.getTime(), readFrom);
            return total;
          }),
      ]);
      return { rows, total };
    },
    async latest(f: ListFilters, now: Date, limit: number): Promise<ArticleSummary[]> {
      return db
        .select(listColumns)
        .from(articles)
        .where(where(f, now))
        .orderBy(desc(articles.publishAt), desc(articles.id))
        .limit(limit);
    },
    /** Public articles (as of `now`) whose publication time is after `from`, up to `until`. */
    async publishedBetween(from: Date, until: Date, now: Date, limit: number) {
      return db
        .select({ ...listColumns, kind: articles.kind })
        .from(articles)
        .where(
          and(
            isPublic(now),
            sql`${articles.publishAt} > ${from}`,
            sql`${articles.publishAt} <= ${until}`,
          ),
        )
        .orderBy(articles.publishAt, articles.id)
        .limit(limit);
    },
    /** How many public stories name each of these authorities. */
    async countByAuthority(now: Date): Promise<Map<string, number>> {
      const rows = await db
        .select({ authorities: articles.authorities })
        .from(articles)
        .where(where({ kind: 'story' }, now));
      const counts = new Map<string, number>();
      for (const r of rows) for (const g of r.authorities) counts.set(g, (counts.get(g) ?? 0) + 1);
      return counts;
    },
    async bySlug(kind: ArticleKind, slug: string): Promise<ArticleRow | undefined> {
      const [row] = await (bySlugQuery ??= prepareBySlug()).execute({ kind, slug });
      return row;
    },
    async byId(id: string): Promise<ArticleRow | undefined> {
      const [row] = await db.select().from(articles).where(eq(articles.id, id));
      return row;
    },
    async byIdForUpdate(id: string): Promise<ArticleRow | undefined> {
      const [row] = await db.select().from(articles).where(eq(articles.id, id)).for('update');
      return row;
    },
    async slugTaken(kind: ArticleKind, slug: string, exceptId?: string): Promise<boolean> {
      const rows = await db
        .select({ id: articles.id })
        .from(articles)
        .where(and(eq(articles.kind, kind), eq(articles.slug, slug)));
      return rows.some((r) => r.id !== exceptId);
    },
    async insert(values: NewArticle): Promise<ArticleRow> {
      counts.changed();
      const [row] = await db.insert(articles).values(values).returning();
      counts.changed();
      return row!;
    },
    async update(id: string, values: Partial<NewArticle>): Promise<ArticleRow | undefined> {
      counts.changed();
      const [row] = await db
        .update(articles)
        .set({ ...values, updatedAt: new Date() })
        .where(eq(articles.id, id))
        .returning();
      counts.changed();
      return row;
    },
    /** Scheduled articles whose time has come become published; returns them. */
    async publishDue(now: Date): Promise<ArticleRow[]> {
      counts.changed();
      const rows = await db
        .update(articles)
        .set({ status: 'published' })
        .where(and(eq(articles.status, 'scheduled'), sql`${articles.publishAt} <= ${now}`))
        .returning();
      counts.changed();
      return rows;
    },
    async listByStatus(
      status: ArticleStatus | undefined,
      kind: ArticleKind | undefined,
      limit: number,
      offset: number,
    ): Promise<{ rows: ArticleSummary[]; total: number }> {
      const w = and(
        status ? eq(articles.status, status) : undefined,
        kind ? eq(articles.kind, kind) : undefined,
      );
      const [rows, [n]] = await Promise.all([
        db
          .select(listColumns)
          .from(articles)
          .where(w)
          .orderBy(desc(articles.updatedAt), desc(articles.id))
          .limit(limit)
          .offset(offset),
        db.select({ n: count() }).from(articles).where(w),
      ]);
      return { rows, total: Number(n?.n ?? 0) };
    },
    async countByStatus(): Promise<Record<string, number>> {
      const rows = await db
        .select({ status: articles.status, n: count() })
        .from(articles)
        .groupBy(articles.status);
      return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
    },
    async submissionsOf(userId: string): Promise<ArticleRow[]> {
      return db
        .select()
        .from(articles)
        .where(eq(articles.submittedBy, userId))
        .orderBy(desc(articles.createdAt));
    },
    async detachSubmitter(userId: string, removeUnpublished: boolean) {
      counts.changed();
      if (removeUnpublished)
        await db
          .delete(articles)
          .where(
            and(eq(articles.submittedBy, userId), inArray(articles.status, ['submitted', 'draft'])),
          );
      await db.update(articles).set({ submittedBy: null }).where(eq(articles.submittedBy, userId));
      counts.changed();
    },

    // Series
    async allSeries(): Promise<SeriesRow[]> {
      return db.select().from(articleSeries).orderBy(asc(articleSeries.name));
    },
    async seriesBySlug(slug: string): Promise<SeriesRow | undefined> {
      const [row] = await db.select().from(articleSeries).where(eq(articleSeries.slug, slug));
      return row;
    },
    async upsertSeries(values: NewSeries): Promise<SeriesRow> {
      const [row] = await db
        .insert(articleSeries)
        .values(values)
        .onConflictDoUpdate({
          target: articleSeries.slug,
          set: {
            name: values.name,
            nameCy: values.nameCy ?? null,
            description: values.description ?? '',
            descriptionCy: values.descriptionCy ?? null,
          },
        })
        .returning();
      return row!;
    },

    // Likes
    /**
     * The member likes the article (`on`) or no longer does: the same request twice changes
     * nothing (a double submission neither counts twice nor takes the like back).
     */
    async setArticleLike(articleId: string, userId: string, on: boolean): Promise<void> {
      if (on) await db.insert(articleLikes).values({ articleId, userId }).onConflictDoNothing();
      else
        await db
          .delete(articleLikes)
          .where(and(eq(articleLikes.articleId, articleId), eq(articleLikes.userId, userId)));
      await db.execute(
        sql`UPDATE articles SET like_count = (SELECT count(*) FROM article_likes WHERE article_id = ${articleId}) WHERE id = ${articleId}`,
      );
    },
    async likesArticle(articleId: string, userId: string): Promise<boolean> {
      const rows = await db
        .select({ a: articleLikes.articleId })
        .from(articleLikes)
        .where(and(eq(articleLikes.articleId, articleId), eq(articleLikes.userId, userId)));
      return rows.length > 0;
    },
    /** As `setArticleLike`, for a comment. */
    async setCommentLike(commentId: string, userId: string, on: boolean): Promise<void> {
      if (on)
        await db.insert(articleCommentLikes).values({ commentId, userId }).onConflictDoNothing();
      else
        await db
          .delete(articleCommentLikes)
          .where(
            and(
              eq(articleCommentLikes.commentId, commentId),
              eq(articleCommentLikes.userId, userId),
            ),
          );
      await db.execute(
        sql`UPDATE article_comments SET like_count = (SELECT count(*) FROM article_comment_likes WHERE comment_id = ${commentId}) WHERE id = ${commentId}`,
      );
    },

    // Comments
    /**
     * An article's comments: visible ones, and also held and hidden ones when
     * `all` (moderators) or written by the viewer, with the viewer's likes.
     */
    async comments(
      articleId: string,
      viewerId: string | undefined,
      all: boolean,
    ): Promise<CommentView[]> {
      return db
        .select(commentColumns(viewerId))
        .from(articleComments)
        .where(and(eq(articleComments.articleId, articleId), shownTo(viewerId, all)))
        .orderBy(asc(articleComments.createdAt), asc(articleComments.id));
    },
    /**
     * One page of an article's comment threads (as `comments` shows them):
     * `limit` top-level comments from `offset` in the order asked for, each
     * with its replies (oldest first), and how many top-level comments and
     * visible comments there are in all. A page reads its threads only.
     */
    async commentPage(
      articleId: string,
      viewerId: string | undefined,
      all: boolean,
      page: { newest: boolean; limit: number; offset: number },
    ): Promise<{ comments: CommentView[]; threads: number; visible: number }> {
      const plan = commentPlan(page.newest, all);
      const params = {
        articleId,
        viewer: viewerId ?? NO_ONE,
        limit: page.limit,
        offset: page.offset,
      };
      const [comments, [n]] = await Promise.all([
        plan.page.execute(params),
        plan.counts.execute(params),
      ]);
      return { comments, threads: Number(n?.threads ?? 0), visible: Number(n?.visible ?? 0) };
    },
    /**
     * Where a comment's thread stands among the top-level comments shown, in
     * the order asked for (0 is first); undefined when the comment is not shown.
     */
    async threadIndex(
      articleId: string,
      viewerId: string | undefined,
      all: boolean,
      commentId: string,
      newest: boolean,
    ): Promise<number | undefined> {
      const shown = shownTo(viewerId, all);
      const [c] = await db
        .select({ top: sql<string>`coalesce(${articleComments.parentId}, ${articleComments.id})` })
        .from(articleComments)
        .where(
          and(eq(articleComments.id, commentId), eq(articleComments.articleId, articleId), shown),
        );
      if (!c) return undefined;
      const before = newest ? sql`>` : sql`<`;
      const [n] = await db
        .select({ n: count() })
        .from(articleComments)
        .where(
          and(
            eq(articleComments.articleId, articleId),
            isNull(articleComments.parentId),
            shown,
            sql`(${articleComments.createdAt}, ${articleComments.id}) ${before} (SELECT t.created_at, t.id FROM article_comments t WHERE t.id = ${c.top})`,
          ),
        );
      return Number(n?.n ?? 0);
    },
    async comment(id: string): Promise<CommentRow | undefined> {
      const [row] = await db.select().from(articleComments).where(eq(articleComments.id, id));
      return row;
    },
    async insertComment(values: NewComment): Promise<CommentRow> {
      const [row] = await db.insert(articleComments).values(values).returning();
      await this.recount(values.articleId);
      return row!;
    },
    async recount(articleId: string) {
      await db.execute(
        sql`UPDATE articles SET comment_count = (SELECT count(*) FROM article_comments WHERE article_id = ${articleId} AND status = 'visible') WHERE id = ${articleId}`,
      );
    },
    async setCommentStatus(
      id: string,
      status: CommentStatus,
      hiddenReason: string | null,
    ): Promise<CommentRow | undefined> {
      const [row] = await db
        .update(articleComments)
        .set({
          status,
          hiddenReason,
          ...(status === 'visible' ? { heldReason: null } : {}),
          ...(status === 'deleted' ? { body: '', bodyHtml: '' } : {}),
          updatedAt: new Date(),
        })
        .where(eq(articleComments.id, id))
        .returning();
      if (row) await this.recount(row.articleId);
      return row;
    },
    /** How many of this member's comments have been shown (approved or never held). */
    async visibleCommentsBy(userId: string): Promise<number> {
      const [row] = await db
        .select({ n: count() })
        .from(articleComments)
        .where(and(eq(articleComments.authorId, userId), eq(articleComments.status, 'visible')));
      return Number(row?.n ?? 0);
    },
    async report(commentId: string, reporterId: string, reason: string) {
      await db.insert(articleCommentReports).values({ commentId, reporterId, reason });
    },
    /** Resolve open reports on a comment; returns the reporters to tell. */
    async resolveReports(commentId: string, outcome: string): Promise<string[]> {
      const rows = await db
        .update(articleCommentReports)
        .set({ resolvedAt: new Date(), outcome })
        .where(
          and(
            eq(articleCommentReports.commentId, commentId),
            isNull(articleCommentReports.resolvedAt),
          ),
        )
        .returning({ reporterId: articleCommentReports.reporterId });
      return [...new Set(rows.map((r) => r.reporterId).filter((x): x is string => !!x))];
    },
    async openReporters(commentId: string): Promise<string[]> {
      const rows = await db
        .select({ reporterId: articleCommentReports.reporterId })
        .from(articleCommentReports)
        .where(
          and(
            eq(articleCommentReports.commentId, commentId),
            isNull(articleCommentReports.resolvedAt),
          ),
        );
      return [...new Set(rows.map((r) => r.reporterId).filter((x): x is string => !!x))];
    },
    /** The moderation queue: held comments and comments with open reports, oldest first. */
    async queue(): Promise<
      (CommentRow & {
        articleKind: ArticleKind;
        articleSlug: string;
        articleTitle: string;
        reports: { reason: string; at: string }[];
      })[]
    > {
      const reports = sql<
        { reason: string; at: string }[]
      >`coalesce((SELECT json_agg(json_build_object('reason', r.reason, 'at', r.created_at) ORDER BY r.created_at) FROM article_comment_reports r WHERE r.comment_id = ${articleComments.id} AND r.resolved_at IS NULL), '[]'::json)`;
      const rows = await db
        .select({
          comment: articleComments,
          articleKind: articles.kind,
          articleSlug: articles.slug,
          articleTitle: articles.title,
          reports,
        })
        .from(articleComments)
        .innerJoin(articles, eq(articles.id, articleComments.articleId))
        .where(
          or(
            eq(articleComments.status, 'held'),
            sql`EXISTS (SELECT 1 FROM article_comment_reports r WHERE r.comment_id = ${articleComments.id} AND r.resolved_at IS NULL)`,
          ),
        )
        .orderBy(asc(articleComments.createdAt))
        .limit(200);
      return rows.map((r) => ({
        ...r.comment,
        articleKind: r.articleKind,
        articleSlug: r.articleSlug,
        articleTitle: r.articleTitle,
        reports: r.reports,
      }));
    },
    async ban(userId: string, reason: string) {
      await db
        .insert(articleCommentBans)
        .values({ userId, reason })
        .onConflictDoUpdate({ target: articleCommentBans.userId, set: { reason } });
    },
    async unban(userId: string) {
      await db.delete(articleCommentBans).where(eq(articleCommentBans.userId, userId));
    },
    async banOf(userId: string): Promise<{ reason: string } | undefined> {
      const [row] = await db
        .select({ reason: articleCommentBans.reason })
        .from(articleCommentBans)
        .where(eq(articleCommentBans.userId, userId));
      return row;
    },
    async commentsBy(userId: string) {
      return db
        .select({
          id: articleComments.id,
          body: articleComments.body,
          status: articleComments.status,
          createdAt: articleComments.createdAt,
          articleKind: articles.kind,
          articleSlug: articles.slug,
          articleTitle: articles.title,
        })
        .from(articleComments)
        .innerJoin(articles, eq(articles.id, articleComments.articleId))
        .where(eq(articleComments.authorId, userId))
        .orderBy(asc(articleComments.createdAt));
    },
    /**
     * A member leaves: their comments lose their author (shown as "Former
     * member"), or with `remove` their words go too (the place is kept when
     * others replied to it). Their likes go with the account (cascade).
     */
    async eraseCommenter(userId: string, remove: boolean) {
      const mine = await db
        .select({ id: articleComments.id, articleId: articleComments.articleId })
        .from(articleComments)
        .where(eq(articleComments.authorId, userId));
      if (remove && mine.length)
        await db
          .update(articleComments)
          .set({ status: 'deleted', body: '', bodyHtml: '', background: null })
          .where(eq(articleComments.authorId, userId));
      await db
        .update(articleComments)
        .set({ authorId: null })
        .where(eq(articleComments.authorId, userId));
      for (const a of new Set(mine.map((m) => m.articleId))) await this.recount(a);
    },
    // The site search (service.ts `searchSource`): what is public now, in id order.
    /** Public articles (as of `now`) in id order: after `after`, or among `ids`. */
    async searchDocuments(
      q: { after?: string | undefined; ids?: readonly string[] | undefined; limit: number },
      now: Date,
    ) {
      if (q.ids && !q.ids.length) return [];
      return db
        .select({
          id: articles.id,
          kind: articles.kind,
          slug: articles.slug,
          title: articles.title,
          standfirst: articles.standfirst,
          body: articles.body,
          language: articles.language,
          publishAt: articles.publishAt,
          updatedAt: articles.updatedAt,
          authorities: articles.authorities,
          regions: articles.regions,
        })
        .from(articles)
        .where(
          and(
            isPublic(now),
            q.after ? gt(articles.id, q.after) : undefined,
            q.ids ? inArray(articles.id, [...q.ids]) : undefined,
          ),
        )
        .orderBy(asc(articles.id))
        .limit(q.limit);
    },
    /** Of these ids, those public now. */
    async publicAmong(ids: readonly string[], now: Date): Promise<string[]> {
      if (!ids.length) return [];
      const rows = await db
        .select({ id: articles.id })
        .from(articles)
        .where(and(isPublic(now), inArray(articles.id, [...ids])));
      return rows.map((r) => r.id);
    },
    /**
     * Articles changed since then (any status: one unpublished since is
     * changed too), or whose publication time came since (a scheduled one
     * is public from then, before the job marks it published); oldest first.
     */
    async changedSince(since: Date, now: Date, limit: number): Promise<string[]> {
      const rows = await db
        .select({ id: articles.id })
        .from(articles)
        .where(
          or(
            sql`${articles.updatedAt} > ${since}`,
            and(sql`${articles.publishAt} > ${since}`, sql`${articles.publishAt} <= ${now}`),
          ),
        )
        .orderBy(
          sql`greatest(${articles.updatedAt}, least(${articles.publishAt}, ${now}))`,
          asc(articles.id),
        )
        .limit(limit);
      return rows.map((r) => r.id);
    },
    /** The ids of a person's proposed stories (before they are erased). */
    async submittedIds(userId: string): Promise<string[]> {
      const rows = await db
        .select({ id: articles.id })
        .from(articles)
        .where(eq(articles.submittedBy, userId));
      return rows.map((r) => r.id);
    },
    async setHoldReason(id: string, reason: HoldReason) {
      await db
        .update(articleComments)
        .set({ heldReason: reason })
        .where(eq(articleComments.id, id));
    },
  };
}

export function createArticlesRepository(db: Db) {
  const counts = createCountCache();
  return { ...queries(db, counts), in: (tx: Tx) => queries(tx, counts) };
}
export type ArticlesRepository = ReturnType<typeof createArticlesRepository>;
export type ArticlesQueries = ReturnType<typeof queries>;
