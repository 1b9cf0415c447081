import { and, asc, count, desc, eq, gt, inArray, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import {
  communitySpaces,
  postAttachments,
  type PostStatus,
  postLikes,
  postReports,
  postRevisions,
  posts,
  spaceFollows,
  spaceMembers,
  threadFollows,
  threadReads,
  threads,
} from './schema.ts';

export type SpaceRow = typeof communitySpaces.$inferSelect;
export type NewSpace = typeof communitySpaces.$inferInsert;
export type ThreadRow = typeof threads.$inferSelect;
export type PostRow = typeof posts.$inferSelect;
export type MembershipRow = typeof spaceMembers.$inferSelect;
export type AttachmentRow = typeof postAttachments.$inferSelect;
/** An attachment to write with its post (the post's id is given by then). */
export type NewAttachment = Omit<typeof postAttachments.$inferInsert, 'postId' | 'createdAt'>;

/** What a thread page shows of an attachment. */
export interface PageAttachment {
  id: string;
  filename: string;
  mime: string;
  size: number;
  alt: string | null;
}

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** Matches no row: stands in for the viewer's id when nobody is signed in. */
const NOBODY = '00000000-0000-0000-0000-000000000000';

/** How many of a thread's posts the search reads (their text is cut to its limit anyway). */
const SEARCH_POSTS = 500;

/** Threads in a space are counted up to this many; beyond it the list pages by "next". */
export const THREAD_COUNT_CAP = 1_000;

/** Keep a thread's count of visible posts and latest activity true. */
async function recount(tx: Tx | Db, threadId: string) {
  await tx.execute(sql`
    UPDATE threads SET
      post_count = (SELECT count(*) FROM posts WHERE thread_id = ${threadId} AND status = 'visible'),
      last_post_at = coalesce(
        (SELECT max(created_at) FROM posts WHERE thread_id = ${threadId} AND status = 'visible'),
        created_at)
    WHERE id = ${threadId}`);
}

/** Add a post at the end of a thread; the thread row is locked so numbers never clash. */
async function appendPost(
  tx: Tx,
  values: Omit<typeof posts.$inferInsert, 'number'>,
  attachments: NewAttachment[] = [],
): Promise<PostRow> {
  await tx.execute(sql`SELECT id FROM threads WHERE id = ${values.threadId} FOR UPDATE`);
  const [last] = await tx
    .select({ n: sql<number>`coalesce(max(${posts.number}), 0)::int` })
    .from(posts)
    .where(eq(posts.threadId, values.threadId));
  const [row] = await tx
    .insert(posts)
    .values({ ...values, number: Number(last?.n ?? 0) + 1 })
    .returning();
  if (attachments.length)
    await tx.insert(postAttachments).values(attachments.map((a) => ({ ...a, postId: row!.id })));
  await recount(tx, values.threadId);
  return row!;
}

export function createCommunityRepository(db: Db) {
  const viewer = sql.placeholder('viewer');
  // The viewer's membership of the space.
  const viewersMembership = and(
    eq(spaceMembers.spaceId, communitySpaces.id),
    eq(spaceMembers.userId, viewer),
  );
  // A thread page's two reads, built once and prepared (planned once per connection).
  const threadContextQuery = db
    .select({
      space: communitySpaces,
      membership: spaceMembers,
      thread: threads,
      lastReadAt: threadReads.lastReadAt,
      follow: threadFollows.mode,
    })
    .from(communitySpaces)
    .leftJoin(spaceMembers, viewersMembership)
    .leftJoin(
      threads,
      and(eq(threads.id, sql.placeholder('threadId')), eq(threads.spaceId, communitySpaces.id)),
    )
    .leftJoin(
      threadReads,
      and(eq(threadReads.threadId, threads.id), eq(threadReads.userId, viewer)),
    )
    .leftJoin(
      threadFollows,
      and(eq(threadFollows.threadId, threads.id), eq(threadFollows.userId, viewer)),
    )
    .where(eq(communitySpaces.slug, sql.placeholder('slug')))
    .prepare('community_thread_context');
  const spaceContextQuery = db
    .select({
      space: communitySpaces,
      membership: spaceMembers,
      follow: spaceFollows.mode,
    })
    .from(communitySpaces)
    .leftJoin(spaceMembers, viewersMembership)
    .leftJoin(
      spaceFollows,
      and(eq(spaceFollows.spaceId, communitySpaces.id), eq(spaceFollows.userId, viewer)),
    )
    .where(eq(communitySpaces.slug, sql.placeholder('slug')))
    .prepare('community_space_context');
  /**
   * A space's list, prepared in its four shapes (with or without hidden
   * threads, by offset or after a thread): see `threads`.
   */
  const threadsQueries = new Map<string, ReturnType<typeof threadsQuery>>();
  function threadsQuery(includeHidden: boolean, byAfter: boolean) {
    const spaceId = sql.placeholder('spaceId');
    const where = includeHidden
      ? eq(threads.spaceId, spaceId)
      : and(eq(threads.spaceId, spaceId), eq(threads.hidden, false));
    const after = sql`(${threads.pinned}, ${threads.lastPostAt}, ${threads.id}) <
      (SELECT c.pinned, c.last_post_at, c.id FROM threads c
       WHERE c.id = ${sql.placeholder('after')} AND c.space_id = ${spaceId})`;
    const cut = db
      .select({ id: threads.id, pinned: threads.pinned, lastPostAt: threads.lastPostAt })
      .from(threads)
      .where(byAfter ? and(where, after) : where)
      .orderBy(desc(threads.pinned), desc(threads.lastPostAt), desc(threads.id))
      .limit(sql.placeholder('limit'))
      .offset(sql.placeholder('offset'))
      .as('cut');
    // Counted up to a cap: past it, a space's list pages by "next" alone.
    const counted = sql<number>`(SELECT count(*)::int FROM (SELECT 1 FROM threads WHERE ${where} LIMIT ${THREAD_COUNT_CAP + 1}) x)`;
    return db
      .select({
        thread: threads,
        lastReadAt: threadReads.lastReadAt,
        total: counted,
      })
      .from(cut)
      .innerJoin(threads, eq(threads.id, cut.id))
      .leftJoin(threadReads, and(eq(threadReads.threadId, cut.id), eq(threadReads.userId, viewer)))
      .orderBy(desc(cut.pinned), desc(cut.lastPostAt), desc(cut.id))
      .prepare(
        `community_threads_${includeHidden ? 'all' : 'shown'}_${byAfter ? 'after' : 'offset'}`,
      );
  }
  const postsQuery = (() => {
    // Authors also see their own posts that wait for a moderator (no viewer: NOBODY matches none).
    const cut = db
      .select({
        id: posts.id,
        number: posts.number,
        anonymous: posts.anonymous,
        bodyHtml: posts.bodyHtml,
        status: posts.status,
        likeCount: posts.likeCount,
        createdAt: posts.createdAt,
        editedAt: posts.editedAt,
        authorId: posts.authorId,
        total: sql<string>`count(*) OVER ()`.as('total'),
      })
      .from(posts)
      .where(
        and(
          eq(posts.threadId, sql.placeholder('threadId')),
          or(
            sql`${posts.status} = ANY(${sql.placeholder('statuses')}::text[])`,
            and(eq(posts.status, 'pending'), eq(posts.authorId, viewer)),
          ),
        ),
      )
      .orderBy(asc(posts.number))
      .limit(sql.placeholder('limit'))
      .offset(sql.placeholder('offset'))
      .as('page');
    // Named with its table: selecting from one table alone, Drizzle would leave a column
    // bare, and a bare "id" inside the sub-queries below would be their own table's id.
    const pageId = sql`${sql.identifier('page')}.${sql.identifier('id')}`;
    return db
      .select({
        id: cut.id,
        number: cut.number,
        anonymous: cut.anonymous,
        bodyHtml: cut.bodyHtml,
        status: cut.status,
        likeCount: cut.likeCount,
        createdAt: cut.createdAt,
        editedAt: cut.editedAt,
        total: cut.total,
        /** The writer, to name (never for an anonymous post: the service drops it). */
        authorId: cut.authorId,
        mine: sql<boolean>`coalesce(${cut.authorId} = ${viewer}, false)`,
        liked: sql<boolean>`EXISTS (SELECT 1 FROM post_likes l WHERE l.post_id = ${pageId} AND l.user_id = ${viewer})`,
        revisions: sql<number>`(SELECT count(*)::int FROM post_revisions r WHERE r.post_id = ${pageId})`,
        attachments: sql<PageAttachment[]>`(
          SELECT coalesce(json_agg(json_build_object(
            'id', a.id, 'filename', a.filename, 'mime', a.mime, 'size', a.size, 'alt', a.alt)
            ORDER BY a.created_at, a.id), '[]'::json)
          FROM post_attachments a WHERE a.post_id = ${pageId})`,
      })
      .from(cut)
      .orderBy(asc(cut.number))
      .prepare('community_thread_posts');
  })();
  return {
    async upsertSpace(values: NewSpace): Promise<SpaceRow> {
      const { id: _id, ...rest } = values;
      const [row] = await db
        .insert(communitySpaces)
        .values(values)
        .onConflictDoUpdate({ target: communitySpaces.slug, set: rest })
        .returning();
      return row!;
    },
    /** Every space with its number of visible threads and latest activity. */
    /**
     * Every space, in order. With `activity`, also its visible threads (counted up to
     * THREAD_COUNT_CAP + 1) and its latest activity: two backward probes of
     * threads_space_idx (pinned and not), not a scan of the space's threads.
     */
    async spaces(opts: { activity?: boolean } = {}) {
      // Nested, so Drizzle names the column with its table (a single-table select's own
      // fields leave it bare, and a bare "id" would be the threads' id in the sub-query).
      const spaceId = sql`${communitySpaces.id}`;
      const visible = (pinned: boolean) =>
        sql`(SELECT max(t.last_post_at) FROM threads t
             WHERE t.space_id = ${spaceId} AND NOT t.hidden AND t.pinned = ${pinned})`;
      return db
        .select({
          space: communitySpaces,
          threads: opts.activity
            ? sql<number>`(SELECT count(*)::int FROM (SELECT 1 FROM threads t
                WHERE t.space_id = ${spaceId} AND NOT t.hidden
                LIMIT ${THREAD_COUNT_CAP + 1}) x)`
            : sql<number>`0`,
          lastPostAt: opts.activity
            ? sql<Date | null>`greatest(${visible(true)}, ${visible(false)})`
            : sql<Date | null>`NULL`,
        })
        .from(communitySpaces)
        .orderBy(asc(communitySpaces.position), asc(communitySpaces.name));
    },
    async spaceBySlug(slug: string): Promise<SpaceRow | undefined> {
      const [row] = await db.select().from(communitySpaces).where(eq(communitySpaces.slug, slug));
      return row;
    },
    /**
     * A space by its address with, for a signed-in viewer, their membership,
     * their follow/mute choice and their kind of account: one query.
     */
    async spaceContext(slug: string, viewerId: string | undefined) {
      const [row] = await spaceContextQuery.execute({ slug, viewer: viewerId ?? NOBODY });
      return row;
    },
    /**
     * The same for a thread in that space (none if it is in another), with
     * the viewer's last visit and follow/mute choice for it: one query for
     * everything a thread page needs to know before its posts.
     */
    async threadContext(slug: string, threadId: string, viewerId: string | undefined) {
      const [row] = await threadContextQuery.execute({
        slug,
        threadId,
        viewer: viewerId ?? NOBODY,
      });
      return row;
    },
    /** The newest demo replies by others in demo threads `userId` started (for demo notifications). */
    async demoRepliesTo(userId: string, limit: number) {
      return db
        .select({
          postId: posts.id,
          threadId: threads.id,
          spaceId: threads.spaceId,
          actorId: posts.authorId,
          at: posts.createdAt,
        })
        .from(posts)
        .innerJoin(threads, eq(threads.id, posts.threadId))
        .where(
          and(
            eq(threads.authorId, userId),
            eq(threads.isDemo, true),
            eq(posts.status, 'visible'),
            eq(posts.anonymous, false),
            sql`${posts.number} > 1`,
            sql`${posts.authorId} <> ${userId}`,
          ),
        )
        .orderBy(desc(posts.createdAt))
        .limit(limit);
    },
    async spaceById(id: string): Promise<SpaceRow | undefined> {
      const [row] = await db.select().from(communitySpaces).where(eq(communitySpaces.id, id));
      return row;
    },
    async memberships(userId: string): Promise<MembershipRow[]> {
      return db.select().from(spaceMembers).where(eq(spaceMembers.userId, userId));
    },
    async membership(spaceId: string, userId: string): Promise<MembershipRow | undefined> {
      const [row] = await db
        .select()
        .from(spaceMembers)
        .where(and(eq(spaceMembers.spaceId, spaceId), eq(spaceMembers.userId, userId)));
      return row;
    },
    async setMembership(
      spaceId: string,
      userId: string,
      values: { role?: 'member' | 'moderator'; status: 'member' | 'requested' },
    ) {
      await db
        .insert(spaceMembers)
        .values({ spaceId, userId, ...values })
        .onConflictDoUpdate({ target: [spaceMembers.spaceId, spaceMembers.userId], set: values });
    },
    async removeMembership(spaceId: string, userId: string) {
      await db
        .delete(spaceMembers)
        .where(and(eq(spaceMembers.spaceId, spaceId), eq(spaceMembers.userId, userId)));
    },
    /** A space's members and requests (names come from the accounts service). */
    async members(spaceId: string) {
      return db
        .select({
          userId: spaceMembers.userId,
          role: spaceMembers.role,
          status: spaceMembers.status,
        })
        .from(spaceMembers)
        .where(eq(spaceMembers.spaceId, spaceId));
    },

    /** One page of a space's threads: pinned first, then latest activity. */
    /**
     * A page of a space's threads, pinned first then by latest activity, with
     * each starter's name (none for anonymous threads), when the reader last
     * read each, and how many threads there are (counted up to
     * THREAD_COUNT_CAP): one query. The page's ids are cut first from
     * threads_space_idx alone, however deep the page; `after` (a thread's id)
     * continues from that thread instead of skipping `offset` rows.
     */
    async threads(
      spaceId: string,
      opts: {
        includeHidden: boolean;
        offset: number;
        limit: number;
        readerId?: string;
        after?: string;
      },
    ) {
      const queryFor = (byAfter: boolean) => {
        const shape = `${opts.includeHidden}:${byAfter}`;
        let query = threadsQueries.get(shape);
        if (!query) {
          query = threadsQuery(opts.includeHidden, byAfter);
          threadsQueries.set(shape, query);
        }
        return query;
      };
      const params = {
        spaceId,
        viewer: opts.readerId ?? NOBODY,
        limit: opts.limit,
        offset: opts.after ? 0 : opts.offset,
        after: opts.after ?? NOBODY,
      };
      const page = await queryFor(Boolean(opts.after)).execute(params);
      // An empty page (past the end) carries no count: ask for the first row (rare).
      const total = Number(
        (page[0] ?? (await queryFor(false).execute({ ...params, limit: 1, offset: 0 }))[0])
          ?.total ?? 0,
      );
      const rows = page.map(({ total: _total, ...r }) => r);
      return { rows, total };
    },
    async thread(id: string): Promise<ThreadRow | undefined> {
      const [row] = await db.select().from(threads).where(eq(threads.id, id));
      return row;
    },
    /**
     * One page of a thread's posts in order, with authors' names (not for
     * anonymous posts), the viewer's likes, how many earlier versions each
     * has, its attachments (never anything about who uploaded them) and the
     * number of posts the reader sees: one query. The page is cut first, so
     * the per-post look-ups run for its rows only, never for skipped ones.
     */
    async posts(
      threadId: string,
      opts: { statuses: PostStatus[]; offset: number; limit: number; viewerId?: string },
    ) {
      const params = {
        threadId,
        statuses: opts.statuses,
        viewer: opts.viewerId ?? NOBODY,
        limit: opts.limit,
        offset: opts.offset,
      };
      const page = await postsQuery.execute(params);
      // Past the end the page is empty and carries no count: ask for the first row (rare).
      const total = Number(
        (page[0] ?? (await postsQuery.execute({ ...params, limit: 1, offset: 0 }))[0])?.total ?? 0,
      );
      const rows = page.map(({ total: _total, ...p }) => ({
        ...p,
        mine: Boolean(p.mine),
        attachments: p.status === 'deleted' ? [] : (p.attachments ?? []),
      }));
      return { rows, total };
    },
    async attachment(id: string): Promise<AttachmentRow | undefined> {
      const [row] = await db.select().from(postAttachments).where(eq(postAttachments.id, id));
      return row;
    },
    async attachmentsOf(postId: string): Promise<AttachmentRow[]> {
      return db.select().from(postAttachments).where(eq(postAttachments.postId, postId));
    },
    async post(id: string): Promise<PostRow | undefined> {
      const [row] = await db.select().from(posts).where(eq(posts.id, id));
      return row;
    },
    /** How many posts before this one a reader of `statuses` sees (for its page). */
    async postsBefore(threadId: string, number: number, statuses: PostStatus[]) {
      const [row] = await db
        .select({ n: count() })
        .from(posts)
        .where(
          and(
            eq(posts.threadId, threadId),
            inArray(posts.status, statuses),
            sql`${posts.number} < ${number}`,
          ),
        );
      return Number(row?.n ?? 0);
    },
    async revisions(postId: string) {
      return db
        .select()
        .from(postRevisions)
        .where(eq(postRevisions.postId, postId))
        .orderBy(desc(postRevisions.editedAt));
    },
    /** How many of a member's posts have been published (for holding a new member's first posts). */
    async publishedPostsBy(userId: string): Promise<number> {
      const [row] = await db
        .select({ n: count() })
        .from(posts)
        .where(and(eq(posts.authorId, userId), inArray(posts.status, ['visible', 'hidden'])));
      return Number(row?.n ?? 0);
    },

    /**
     * A thread and its opening post (with its attachments' rows), in one transaction;
     * `then` runs in it too, after them.
     */
    async createThread(
      values: typeof threads.$inferInsert,
      first: { id?: string; body: string; bodyHtml: string; status: PostStatus; createdAt?: Date },
      attachments: NewAttachment[] = [],
      then?: (tx: Tx) => Promise<void>,
    ): Promise<{ thread: ThreadRow; post: PostRow }> {
      return db.transaction(async (tx) => {
        const [thread] = await tx.insert(threads).values(values).returning();
        const post = await appendPost(
          tx,
          {
            threadId: thread!.id,
            authorId: values.authorId ?? null,
            anonymous: values.anonymous ?? false,
            ...first,
          },
          attachments,
        );
        await then?.(tx);
        return { thread: thread!, post };
      });
    },
    /** A reply (and its attachments' rows); `then` runs in the same transaction, after it. */
    async reply(
      values: Omit<typeof posts.$inferInsert, 'number'>,
      attachments: NewAttachment[] = [],
      then?: (tx: Tx) => Promise<void>,
    ): Promise<PostRow> {
      return db.transaction(async (tx) => {
        const post = await appendPost(tx, values, attachments);
        await then?.(tx);
        return post;
      });
    },
    /** Change a post's text, keeping the old text as a revision. */
    /**
     * Change a post's words (the old words kept as a revision) and, in the
     * same transaction, remove some of its files' rows and add new ones.
     * Returns the post and the storage keys of the rows removed.
     */
    async editPost(
      id: string,
      body: string,
      bodyHtml: string,
      editedBy: string,
      files: { remove: string[]; add: NewAttachment[] } = { remove: [], add: [] },
    ) {
      return db.transaction(async (tx) => {
        const [before] = await tx
          .select({ body: posts.body })
          .from(posts)
          .where(eq(posts.id, id))
          .for('update');
        if (!before) return undefined;
        await tx.insert(postRevisions).values({ postId: id, body: before.body, editedBy });
        const [row] = await tx
          .update(posts)
          .set({ body, bodyHtml, editedAt: new Date() })
          .where(eq(posts.id, id))
          .returning();
        const removed = files.remove.length
          ? await tx
              .delete(postAttachments)
              .where(and(eq(postAttachments.postId, id), inArray(postAttachments.id, files.remove)))
              .returning({ storageKey: postAttachments.storageKey })
          : [];
        if (files.add.length)
          await tx.insert(postAttachments).values(files.add.map((a) => ({ ...a, postId: id })));
        return { post: row!, removedKeys: removed.map((r) => r.storageKey) };
      });
    },
    async setPostStatus(id: string, status: PostStatus): Promise<PostRow | undefined> {
      return db.transaction(async (tx) => {
        const [row] = await tx.update(posts).set({ status }).where(eq(posts.id, id)).returning();
        if (row) await recount(tx, row.threadId);
        return row;
      });
    },
    /** A deleted post keeps its place but not its words. */
    async deletePost(id: string): Promise<PostRow | undefined> {
      return db.transaction(async (tx) => {
        const [row] = await tx
          .update(posts)
          .set({ status: 'deleted', body: '', bodyHtml: '' })
          .where(eq(posts.id, id))
          .returning();
        if (row) {
          await tx.delete(postRevisions).where(eq(postRevisions.postId, id));
          // Its files' rows go with its words (the service removes the files from storage).
          await tx.delete(postAttachments).where(eq(postAttachments.postId, id));
          await recount(tx, row.threadId);
        }
        return row;
      });
    },
    async setThread(
      id: string,
      values: Partial<Pick<ThreadRow, 'pinned' | 'locked' | 'hidden' | 'spaceId'>>,
    ) {
      const [row] = await db.update(threads).set(values).where(eq(threads.id, id)).returning();
      return row;
    },
    /** Like or unlike; returns whether it is now liked. */
    async toggleLike(postId: string, userId: string): Promise<boolean> {
      return db.transaction(async (tx) => {
        const removed = await tx
          .delete(postLikes)
          .where(and(eq(postLikes.postId, postId), eq(postLikes.userId, userId)))
          .returning();
        if (!removed.length) await tx.insert(postLikes).values({ postId, userId });
        await tx.execute(
          sql`UPDATE posts SET like_count = (SELECT count(*) FROM post_likes WHERE post_id = ${postId}) WHERE id = ${postId}`,
        );
        return !removed.length;
      });
    },
    async markRead(userId: string, threadId: string, at: Date) {
      await db
        .insert(threadReads)
        .values({ userId, threadId, lastReadAt: at })
        .onConflictDoUpdate({
          target: [threadReads.userId, threadReads.threadId],
          set: { lastReadAt: sql`greatest(${threadReads.lastReadAt}, ${at})` },
        });
    },
    async lastRead(userId: string, threadId: string): Promise<Date | undefined> {
      const [row] = await db
        .select({ at: threadReads.lastReadAt })
        .from(threadReads)
        .where(and(eq(threadReads.userId, userId), eq(threadReads.threadId, threadId)));
      return row?.at;
    },

    /**
     * A report, and whatever it causes (the moderators' notifications and
     * emails, written by `then` on the same handle), in one transaction.
     */
    async report(
      postId: string,
      reporterId: string,
      reason: string,
      then?: (tx: Tx) => Promise<void>,
    ) {
      return db.transaction(async (tx) => {
        const [row] = await tx
          .insert(postReports)
          .values({ postId, reporterId, reason })
          .returning();
        await then?.(tx);
        return row!;
      });
    },
    /** How many reports are open and how many posts wait for approval (the queue's counts). */
    async queueCounts(): Promise<{ reports: number; held: number }> {
      const [reports] = await db
        .select({ n: count() })
        .from(postReports)
        .where(eq(postReports.status, 'open'));
      const [held] = await db.select({ n: count() }).from(posts).where(eq(posts.status, 'pending'));
      return { reports: Number(reports?.n ?? 0), held: Number(held?.n ?? 0) };
    },
    /** The moderation queue: open reports and posts waiting for approval, oldest first. */
    async queue() {
      const [reports, pending] = await Promise.all([
        db
          .select({
            report: postReports,
            post: posts,
            thread: { id: threads.id, title: threads.title },
            space: { slug: communitySpaces.slug, name: communitySpaces.name },
          })
          .from(postReports)
          .innerJoin(posts, eq(posts.id, postReports.postId))
          .innerJoin(threads, eq(threads.id, posts.threadId))
          .innerJoin(communitySpaces, eq(communitySpaces.id, threads.spaceId))
          .where(eq(postReports.status, 'open'))
          .orderBy(asc(postReports.createdAt))
          .limit(200),
        db
          .select({
            post: posts,
            thread: { id: threads.id, title: threads.title },
            space: { slug: communitySpaces.slug, name: communitySpaces.name },
          })
          .from(posts)
          .innerJoin(threads, eq(threads.id, posts.threadId))
          .innerJoin(communitySpaces, eq(communitySpaces.id, threads.spaceId))
          .where(eq(posts.status, 'pending'))
          .orderBy(asc(posts.createdAt))
          .limit(200),
      ]);
      return { reports, pending };
    },
    async resolveReports(postId: string, resolvedBy: string, outcome: string) {
      await db
        .update(postReports)
        .set({ status: 'resolved', resolvedBy, resolvedAt: new Date(), outcome })
        .where(and(eq(postReports.postId, postId), eq(postReports.status, 'open')));
    },

    /** Search posts a reader may see: in `spaceIds`, visible, in visible threads. */
    /**
     * Posts matching the words, newest first; or, given the site search's
     * matching threads (best first), each thread's first visible post in that order.
     */
    async search(q: string, spaceIds: string[], limit = 50, threadIds?: readonly string[]) {
      if (!spaceIds.length) return [];
      const threadId = sql`${threads.id}`;
      const text = threadIds
        ? and(
            inArray(threads.id, [...threadIds]),
            sql`${posts.number} = (SELECT min(p2.number) FROM posts p2
              WHERE p2.thread_id = ${threadId} AND p2.status = 'visible')`,
          )
        : sql`to_tsvector('english', ${threads.title} || ' ' || ${posts.body}) @@ websearch_to_tsquery('english', ${q})`;
      return db
        .select({
          postId: posts.id,
          number: posts.number,
          threadId: threads.id,
          title: threads.title,
          spaceSlug: communitySpaces.slug,
          spaceName: communitySpaces.name,
          excerpt: sql<string>`left(${posts.body}, 240)`,
          createdAt: posts.createdAt,
        })
        .from(posts)
        .innerJoin(threads, eq(threads.id, posts.threadId))
        .innerJoin(communitySpaces, eq(communitySpaces.id, threads.spaceId))
        .where(
          and(
            inArray(threads.spaceId, spaceIds),
            eq(threads.hidden, false),
            eq(posts.status, 'visible'),
            text,
          ),
        )
        .orderBy(
          ...(threadIds?.length
            ? [sql`array_position(${sql.param([...threadIds])}::uuid[], ${threadId})`]
            : []),
          desc(posts.createdAt),
        )
        .limit(limit);
    },

    /** For a member's data export and deletion. */
    async postsBy(userId: string) {
      return db
        .select({ createdAt: posts.createdAt, body: posts.body, anonymous: posts.anonymous })
        .from(posts)
        .where(eq(posts.authorId, userId));
    },
    /**
     * Returns the storage keys of the files that went with the member's posts,
     * and the threads whose posts were removed.
     */
    async eraseMember(
      userId: string,
      removeContributions: boolean,
    ): Promise<{ keys: string[]; threadIds: string[] }> {
      return db.transaction(async (tx) => {
        let keys: string[] = [];
        let threadIds: string[] = [];
        if (removeContributions) {
          const gone = await tx
            .update(posts)
            .set({ status: 'deleted', body: '', bodyHtml: '' })
            .where(eq(posts.authorId, userId))
            .returning({ id: posts.id, threadId: posts.threadId });
          threadIds = [...new Set(gone.map((g) => g.threadId))];
          for (const id of threadIds) await recount(tx, id);
          if (gone.length)
            keys = (
              await tx
                .delete(postAttachments)
                .where(
                  inArray(
                    postAttachments.postId,
                    gone.map((g) => g.id),
                  ),
                )
                .returning({ key: postAttachments.storageKey })
            ).map((r) => r.key);
        }
        await tx.update(posts).set({ authorId: null }).where(eq(posts.authorId, userId));
        await tx.update(threads).set({ authorId: null }).where(eq(threads.authorId, userId));
        await tx.delete(spaceMembers).where(eq(spaceMembers.userId, userId));
        return { keys, threadIds };
      });
    },

    // The site search (service.ts `searchSource`).
    /**
     * Threads shown to their space's readers (not hidden: a thread held for a
     * moderator is hidden too), in id order: after `after`, or among `ids`;
     * with their space, the text of their visible posts in order (the first
     * SEARCH_POSTS of them, cut to `textMax` characters of Markdown) and the
     * opening post's. No author is read.
     */
    async searchThreads(q: {
      after?: string | undefined;
      ids?: readonly string[] | undefined;
      limit: number;
      textMax: number;
    }) {
      if (q.ids && !q.ids.length) return [];
      const threadId = sql`${threads.id}`;
      return db
        .select({
          id: threads.id,
          title: threads.title,
          createdAt: threads.createdAt,
          lastPostAt: threads.lastPostAt,
          spaceId: communitySpaces.id,
          spaceSlug: communitySpaces.slug,
          visibility: communitySpaces.visibility,
          first: sql<string | null>`(SELECT p.body FROM posts p
            WHERE p.thread_id = ${threadId} AND p.number = 1 AND p.status = 'visible')`,
          text: sql<
            string | null
          >`(SELECT left(string_agg(x.body, E'\n\n' ORDER BY x.number), ${q.textMax})
            FROM (SELECT p.body, p.number FROM posts p
                  WHERE p.thread_id = ${threadId} AND p.status = 'visible'
                  ORDER BY p.number LIMIT ${SEARCH_POSTS}) x)`,
          editedAt: sql<Date | null>`(SELECT max(p.edited_at) FROM posts p
            WHERE p.thread_id = ${threadId} AND p.status = 'visible')`,
        })
        .from(threads)
        .innerJoin(communitySpaces, eq(communitySpaces.id, threads.spaceId))
        .where(
          and(
            eq(threads.hidden, false),
            q.after === undefined ? undefined : gt(threads.id, q.after),
            q.ids ? inArray(threads.id, [...q.ids]) : undefined,
          ),
        )
        .orderBy(asc(threads.id))
        .limit(q.limit);
    },
    /** These threads with their space and the reader's membership of it (for who may read them). */
    async threadsWithSpaces(ids: readonly string[], viewerId: string | undefined) {
      if (!ids.length) return [];
      return db
        .select({
          thread: { id: threads.id, hidden: threads.hidden },
          space: communitySpaces,
          membership: spaceMembers,
        })
        .from(threads)
        .innerJoin(communitySpaces, eq(communitySpaces.id, threads.spaceId))
        .leftJoin(
          spaceMembers,
          and(
            eq(spaceMembers.spaceId, communitySpaces.id),
            eq(spaceMembers.userId, viewerId ?? NOBODY),
          ),
        )
        .where(inArray(threads.id, [...ids]));
    },
    /**
     * Threads with a post, a change of a post, or a start since then (oldest
     * first). Hiding, moving and deleting change no time: the service tells
     * the search of those as they happen.
     */
    async threadsChangedSince(since: Date, limit: number): Promise<string[]> {
      const rows = await db
        .select({ id: threads.id })
        .from(threads)
        .where(
          or(
            gt(threads.lastPostAt, since),
            gt(threads.createdAt, since),
            sql`EXISTS (SELECT 1 FROM posts p WHERE p.thread_id = ${sql`${threads.id}`}
              AND p.edited_at > ${since})`,
          ),
        )
        .orderBy(asc(threads.lastPostAt), asc(threads.id))
        .limit(limit);
      return rows.map((r) => r.id);
    },

    /**
     * The benchmark's data: a space "Generated (bench)" with 50,000 threads
     * and about 1,000,000 posts (20 a thread; the first thread has 201),
     * written by the database itself in batches. Once only.
     */
    async generateBulk(authorIds: string[], threadCount = 50_000) {
      const space = await this.upsertSpace({
        slug: 'generated-bench',
        name: 'Generated (bench)',
        description: 'Generated threads for the benchmark.',
        kind: 'themed',
        position: 99,
        isDemo: true,
      });
      const [has] = await db
        .select({ n: count() })
        .from(threads)
        .where(eq(threads.spaceId, space.id));
      if (Number(has?.n ?? 0) > 0) return;
      const authors = sql`ARRAY[${sql.join(
        authorIds.map((a) => sql`${a}::uuid`),
        sql`, `,
      )}]`;
      for (let start = 1; start <= threadCount; start += 5_000) {
        const end = Math.min(threadCount, start + 4_999);
        await db.execute(sql`
          WITH g AS (SELECT g, CASE WHEN g = 1 THEN 201 ELSE 20 END AS n FROM generate_series(${start}::int, ${end}::int) AS g),
          t AS (
            INSERT INTO threads (space_id, title, author_id, post_count, created_at, last_post_at, is_demo)
            SELECT ${space.id}::uuid, 'Generated thread ' || g, (${authors})[1 + g % ${authorIds.length}],
                   n, now() - make_interval(mins => g * 30), now() - make_interval(mins => g * 30 - n), true
            FROM g
            RETURNING id, created_at, post_count
          )
          INSERT INTO posts (thread_id, number, author_id, body, body_html, status, created_at)
          SELECT t.id, k, (${authors})[1 + k % ${authorIds.length}],
                 'Generated post ' || k || ' for the benchmark.',
                 '<p>Generated post ' || k || ' for the benchmark.</p>', 'visible',
                 t.created_at + make_interval(mins => k)
          FROM t, generate_series(1, t.post_count) AS k`);
      }
      // VACUUM too: it marks the pages all-visible, so lists can be read from the index alone.
      await db.execute(sql`VACUUM ANALYZE threads`);
      await db.execute(sql`VACUUM ANALYZE posts`);
    },
  };
}

export type CommunityRepository = ReturnType<typeof createCommunityRepository>;
