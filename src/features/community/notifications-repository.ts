import { and, desc, eq, gt, inArray, isNull, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../db/client.ts';
import {
  communityNotifications,
  communitySpaces,
  type EmailChoice,
  type FollowMode,
  type NotificationKind,
  notificationPrefs,
  posts,
  spaceFollows,
  threadFollows,
  threads,
} from './schema.ts';

/**
 * The SQL of community notifications: the notifications themselves,
 * following and muting, and each member's email choice. Nothing here reads
 * the author of a post: the writer's name comes in as `actorLabel`, already
 * NULL for an anonymous post.
 */

export type NotificationRow = typeof communityNotifications.$inferSelect;
export type NewNotification = typeof communityNotifications.$inferInsert;
export interface Prefs {
  email: EmailChoice;
  emailOff: string[];
}
export const DEFAULT_PREFS: Prefs = { email: 'immediately', emailOff: [] };

/** The repository over `db`, and `in(tx)`: the same queries inside a service's unit of work. */
export function createNotificationsRepository(db: Db) {
  return { ...notificationQueries(db), in: (tx: Tx) => notificationQueries(tx) };
}

function notificationQueries(db: Db) {
  const unreadQuery = db
    .select({ n: sql<number>`count(*)::int` })
    .from(communityNotifications)
    .where(
      and(
        eq(communityNotifications.userId, sql.placeholder('userId')),
        isNull(communityNotifications.readAt),
      ),
    )
    .prepare('community_unread_count');
  return {
    async hasAny(userId: string): Promise<boolean> {
      const [row] = await db
        .select({ id: communityNotifications.id })
        .from(communityNotifications)
        .where(eq(communityNotifications.userId, userId))
        .limit(1);
      return Boolean(row);
    },
    async add(rows: NewNotification[]): Promise<NotificationRow[]> {
      if (!rows.length) return [];
      return db.insert(communityNotifications).values(rows).returning();
    },
    async markEmailed(ids: string[]) {
      if (!ids.length) return;
      await db
        .update(communityNotifications)
        .set({ emailedAt: new Date() })
        .where(inArray(communityNotifications.id, ids));
    },
    async markDigested(ids: string[]) {
      if (!ids.length) return;
      await db
        .update(communityNotifications)
        .set({ digestedAt: new Date() })
        .where(inArray(communityNotifications.id, ids));
    },
    /**
     * A member's notifications, newest first, with what the page needs to show and check them
     * (a notification about something elsewhere on the site has no space, thread or post).
     */
    async list(userId: string, opts: { kind?: NotificationKind; limit: number }) {
      return db
        .select({
          n: communityNotifications,
          threadTitle: threads.title,
          threadHidden: threads.hidden,
          postStatus: posts.status,
          space: communitySpaces,
        })
        .from(communityNotifications)
        .leftJoin(threads, eq(threads.id, communityNotifications.threadId))
        .leftJoin(posts, eq(posts.id, communityNotifications.postId))
        .leftJoin(communitySpaces, eq(communitySpaces.id, communityNotifications.spaceId))
        .where(
          and(
            eq(communityNotifications.userId, userId),
            opts.kind ? eq(communityNotifications.kind, opts.kind) : undefined,
          ),
        )
        .orderBy(desc(communityNotifications.createdAt), desc(communityNotifications.id))
        .limit(opts.limit);
    },
    /** For the header on every signed-in page: prepared once. */
    async unreadCount(userId: string): Promise<number> {
      const [row] = await unreadQuery.execute({ userId });
      return Number(row?.n ?? 0);
    },
    /** Mark one of a member's notifications read; its post or link, or nothing if it is not theirs. */
    async markOneRead(
      userId: string,
      id: string,
    ): Promise<{ postId: string | null; link: string | null } | undefined> {
      const [row] = await db
        .update(communityNotifications)
        .set({ readAt: sql`coalesce(${communityNotifications.readAt}, now())` })
        .where(and(eq(communityNotifications.id, id), eq(communityNotifications.userId, userId)))
        .returning({ postId: communityNotifications.postId, link: communityNotifications.link });
      return row;
    },
    async markAllRead(userId: string) {
      await db
        .update(communityNotifications)
        .set({ readAt: new Date() })
        .where(
          and(eq(communityNotifications.userId, userId), isNull(communityNotifications.readAt)),
        );
    },
    /**
     * For the daily digest: notifications since `since` not yet emailed or
     * digested, of members whose choice is the daily digest, with their
     * space and thread, oldest first.
     */
    async forDigest(since: Date) {
      return db
        .select({
          n: communityNotifications,
          threadTitle: threads.title,
          space: communitySpaces,
          emailOff: notificationPrefs.emailOff,
        })
        .from(communityNotifications)
        .innerJoin(notificationPrefs, eq(notificationPrefs.userId, communityNotifications.userId))
        .leftJoin(threads, eq(threads.id, communityNotifications.threadId))
        .leftJoin(communitySpaces, eq(communitySpaces.id, communityNotifications.spaceId))
        .where(
          and(
            eq(notificationPrefs.email, 'daily'),
            gt(communityNotifications.createdAt, since),
            isNull(communityNotifications.emailedAt),
            isNull(communityNotifications.digestedAt),
          ),
        )
        .orderBy(communityNotifications.createdAt, communityNotifications.id);
    },

    async prefs(userId: string): Promise<Prefs> {
      const [row] = await db
        .select({ email: notificationPrefs.email, emailOff: notificationPrefs.emailOff })
        .from(notificationPrefs)
        .where(eq(notificationPrefs.userId, userId));
      return row ?? { ...DEFAULT_PREFS };
    },
    async prefsOf(userIds: string[]): Promise<Map<string, Prefs>> {
      if (!userIds.length) return new Map();
      const rows = await db
        .select()
        .from(notificationPrefs)
        .where(inArray(notificationPrefs.userId, userIds));
      return new Map(rows.map((r) => [r.userId, { email: r.email, emailOff: r.emailOff }]));
    },
    async setPrefs(userId: string, prefs: Prefs) {
      const values = { email: prefs.email, emailOff: prefs.emailOff, updatedAt: new Date() };
      await db
        .insert(notificationPrefs)
        .values({ userId, ...values })
        .onConflictDoUpdate({ target: notificationPrefs.userId, set: values });
    },
    /** Stop emailing one kind of notification (the unsubscribe link), leaving the rest. */
    async emailOff(userId: string, kind: string) {
      await db
        .insert(notificationPrefs)
        .values({ userId, emailOff: [kind] })
        .onConflictDoUpdate({
          target: notificationPrefs.userId,
          set: {
            emailOff: sql`CASE WHEN ${kind} = ANY(${notificationPrefs.emailOff}) THEN ${notificationPrefs.emailOff} ELSE array_append(${notificationPrefs.emailOff}, ${kind}::text) END`,
            updatedAt: new Date(),
          },
        });
    },
    /** Stop all email (unsubscribing from the daily digest). */
    async emailNever(userId: string) {
      await db
        .insert(notificationPrefs)
        .values({ userId, email: 'never' })
        .onConflictDoUpdate({
          target: notificationPrefs.userId,
          set: { email: 'never', updatedAt: new Date() },
        });
    },

    async setThreadMode(userId: string, threadId: string, mode: FollowMode | 'none') {
      if (mode === 'none') {
        await db
          .delete(threadFollows)
          .where(and(eq(threadFollows.userId, userId), eq(threadFollows.threadId, threadId)));
        return;
      }
      await db
        .insert(threadFollows)
        .values({ userId, threadId, mode })
        .onConflictDoUpdate({
          target: [threadFollows.userId, threadFollows.threadId],
          set: { mode },
        });
    },
    /** Follow a thread one writes in, unless one has already chosen (a mute stays a mute). */
    async followIfUnset(userId: string, threadId: string) {
      await db
        .insert(threadFollows)
        .values({ userId, threadId, mode: 'follow' })
        .onConflictDoNothing();
    },
    async setSpaceMode(userId: string, spaceId: string, mode: FollowMode | 'none') {
      if (mode === 'none') {
        await db
          .delete(spaceFollows)
          .where(and(eq(spaceFollows.userId, userId), eq(spaceFollows.spaceId, spaceId)));
        return;
      }
      await db
        .insert(spaceFollows)
        .values({ userId, spaceId, mode })
        .onConflictDoUpdate({ target: [spaceFollows.userId, spaceFollows.spaceId], set: { mode } });
    },
    /** Who follows or mutes this thread and its space. */
    async watchers(threadId: string, spaceId: string) {
      const [t, s] = await Promise.all([
        db
          .select({ userId: threadFollows.userId, mode: threadFollows.mode })
          .from(threadFollows)
          .where(eq(threadFollows.threadId, threadId)),
        db
          .select({ userId: spaceFollows.userId, mode: spaceFollows.mode })
          .from(spaceFollows)
          .where(eq(spaceFollows.spaceId, spaceId)),
      ]);
      return { thread: t, space: s };
    },

    /** For a member's data export. */
    async personalData(userId: string) {
      const [notifications, prefs, followed, spaces] = await Promise.all([
        db
          .select({
            kind: communityNotifications.kind,
            title: communityNotifications.title,
            link: communityNotifications.link,
            createdAt: communityNotifications.createdAt,
            readAt: communityNotifications.readAt,
          })
          .from(communityNotifications)
          .where(eq(communityNotifications.userId, userId)),
        this.prefs(userId),
        db
          .select({ threadId: threadFollows.threadId, mode: threadFollows.mode })
          .from(threadFollows)
          .where(eq(threadFollows.userId, userId)),
        db
          .select({ spaceId: spaceFollows.spaceId, mode: spaceFollows.mode })
          .from(spaceFollows)
          .where(eq(spaceFollows.userId, userId)),
      ]);
      return { notifications, prefs, threadFollows: followed, spaceFollows: spaces };
    },
    async erase(userId: string) {
      await db.transaction(async (tx) => {
        await tx.delete(communityNotifications).where(eq(communityNotifications.userId, userId));
        await tx.delete(threadFollows).where(eq(threadFollows.userId, userId));
        await tx.delete(spaceFollows).where(eq(spaceFollows.userId, userId));
        await tx.delete(notificationPrefs).where(eq(notificationPrefs.userId, userId));
      });
    },
  };
}

export type NotificationsRepository = ReturnType<typeof createNotificationsRepository>;
