import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { posts, threads } from './schema.ts';

/**
 * The community's part of @mention suggestions: who has written, under
 * their name, where the asker can read. The names come from the accounts
 * service and the directory's "listed" rule from the members service.
 */
export function createMentionsRepository(db: Db) {
  return {
    /**
     * Which of `ids` wrote a visible, non-anonymous post in a visible thread
     * of this space (people whose name a reader of the space has seen).
     */
    async postedIn(spaceId: string, ids: readonly string[]): Promise<Set<string>> {
      if (!ids.length) return new Set();
      const rows = await db
        .selectDistinct({ id: posts.authorId })
        .from(posts)
        .innerJoin(threads, eq(threads.id, posts.threadId))
        .where(
          and(
            inArray(posts.authorId, [...ids]),
            eq(threads.spaceId, spaceId),
            eq(posts.status, 'visible'),
            eq(posts.anonymous, false),
            eq(threads.hidden, false),
          ),
        );
      return new Set(rows.flatMap((r) => (r.id ? [r.id] : [])));
    },
  };
}

export type MentionsRepository = ReturnType<typeof createMentionsRepository>;
