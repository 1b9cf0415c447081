import { and, asc, desc, eq, exists, isNotNull, isNull, ne, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { users } from '../accounts/schema.ts';
import { memberProfiles } from '../members/schema.ts';
import { posts, threads } from './schema.ts';

/**
 * The SQL of @mention suggestions. Only a display name is ever selected
 * (never an email address, never an id), and only of people whose name the
 * asker could already see: members listed in the member directory (the
 * directory's own rule: listed, approved, active, not deleted), and people
 * who wrote a visible, non-anonymous post in a visible thread of this space.
 */

/** `text` made safe inside a LIKE pattern (backslash is Postgres's default escape). */
const likeSafe = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

export function createMentionsRepository(db: Db) {
  return {
    /**
     * Up to `limit` distinct display names whose name, or a word of it,
     * starts with `q` (case-insensitive); names starting with `q` first,
     * then alphabetical. `requesterId` is never among them.
     */
    async suggest(opts: {
      spaceId: string;
      requesterId: string;
      q: string;
      limit: number;
    }): Promise<string[]> {
      const name = sql`lower(${users.displayName})`;
      const q = likeSafe(opts.q.toLowerCase());
      const startsWith = sql`${name} LIKE ${`${q}%`}`;
      // A word inside the name: after a space, a hyphen or an opening bracket.
      const wordStarts = or(
        startsWith,
        sql`${name} LIKE ${`% ${q}%`}`,
        sql`${name} LIKE ${`%-${q}%`}`,
        sql`${name} LIKE ${`%(${q}%`}`,
      );
      const listed = and(
        isNotNull(users.approvedAt),
        exists(
          db
            .select({ one: sql`1` })
            .from(memberProfiles)
            .where(and(eq(memberProfiles.userId, users.id), eq(memberProfiles.listed, true))),
        ),
      );
      const postedHere = and(
        // Approved members, and staff (whose posts need no approval), as mentions count them.
        sql`(${users.approvedAt} IS NOT NULL OR ${users.role} IN ('moderator', 'admin'))`,
        exists(
          db
            .select({ one: sql`1` })
            .from(posts)
            .innerJoin(threads, eq(threads.id, posts.threadId))
            .where(
              and(
                eq(posts.authorId, users.id),
                eq(threads.spaceId, opts.spaceId),
                eq(posts.status, 'visible'),
                eq(posts.anonymous, false),
                eq(threads.hidden, false),
              ),
            ),
        ),
      );
      const rows = await db
        .selectDistinct({
          name: users.displayName,
          key: sql<string>`${name}`.as('key'),
          starts: sql<boolean>`(${startsWith})`.as('starts'),
        })
        .from(users)
        .where(
          and(
            eq(users.status, 'active'),
            isNull(users.deletedAt),
            ne(users.id, opts.requesterId),
            sql`length(trim(${users.displayName})) > 0`,
            wordStarts,
            or(listed, postedHere),
          ),
        )
        .orderBy(desc(sql`starts`), asc(sql`key`), asc(users.displayName))
        .limit(opts.limit);
      return rows.map((r) => r.name);
    },
  };
}

export type MentionsRepository = ReturnType<typeof createMentionsRepository>;
