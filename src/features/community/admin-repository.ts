import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import type { NewSpace, SpaceRow } from './repository.ts';
import { communitySpaces, spaceMembers, threads } from './schema.ts';

/**
 * SQL for the community's administration (admins only; the rules are in
 * `admin.ts`): spaces with their number of own moderators, creating and
 * changing spaces, appointing and removing a space's moderators, and the
 * site setting for held first posts (the platform's `site_settings` table,
 * read by the community service through `people.setting`).
 */

/** What an admin may set on a space (the slug only when it is made). */
export type SpaceFields = Pick<
  NewSpace,
  | 'name'
  | 'nameCy'
  | 'description'
  | 'descriptionCy'
  | 'kind'
  | 'visibility'
  | 'publicRead'
  | 'allowAnonymous'
  | 'position'
>;

export function createCommunityAdminRepository(db: Db) {
  return {
    /** Every space in the community's order, with how many moderators of its own it has. */
    async spacesWithModerators(): Promise<{ space: SpaceRow; moderators: number }[]> {
      return db
        .select({
          space: communitySpaces,
          // The column nested so Drizzle names its table (see CommunityRepository.spaces).
          moderators: sql<number>`(SELECT count(*)::int FROM space_members m
            WHERE m.space_id = ${sql`${communitySpaces.id}`} AND m.role = 'moderator' AND m.status = 'member')`,
        })
        .from(communitySpaces)
        .orderBy(asc(communitySpaces.position), asc(communitySpaces.name));
    },
    async spaceBySlug(slug: string): Promise<SpaceRow | undefined> {
      const [row] = await db.select().from(communitySpaces).where(eq(communitySpaces.slug, slug));
      return row;
    },
    async slugTaken(slug: string): Promise<boolean> {
      const [row] = await db
        .select({ id: communitySpaces.id })
        .from(communitySpaces)
        .where(eq(communitySpaces.slug, slug));
      return Boolean(row);
    },
    /** The position after the last space, for a new one. */
    async nextPosition(): Promise<number> {
      const [row] = await db
        .select({ n: sql<number>`coalesce(max(${communitySpaces.position}), -1)::int + 1` })
        .from(communitySpaces);
      return Number(row?.n ?? 0);
    },
    /** A new space; undefined when the slug was taken meanwhile. */
    async createSpace(values: SpaceFields & { slug: string }): Promise<SpaceRow | undefined> {
      const [row] = await db
        .insert(communitySpaces)
        .values(values)
        .onConflictDoNothing({ target: communitySpaces.slug })
        .returning();
      return row;
    },
    async updateSpace(id: string, values: SpaceFields): Promise<SpaceRow | undefined> {
      const [row] = await db
        .update(communitySpaces)
        .set(values)
        .where(eq(communitySpaces.id, id))
        .returning();
      return row;
    },
    /** The ids of a space's threads (the search looks at them again when who may read them changes). */
    async threadIds(spaceId: string): Promise<string[]> {
      const rows = await db
        .select({ id: threads.id })
        .from(threads)
        .where(eq(threads.spaceId, spaceId))
        .orderBy(asc(threads.id));
      return rows.map((r) => r.id);
    },
    /** The ids of a space's own moderators (members of it with the moderator role). */
    async moderatorIds(spaceId: string): Promise<string[]> {
      const rows = await db
        .select({ userId: spaceMembers.userId })
        .from(spaceMembers)
        .where(
          and(
            eq(spaceMembers.spaceId, spaceId),
            eq(spaceMembers.role, 'moderator'),
            eq(spaceMembers.status, 'member'),
          ),
        );
      return rows.map((r) => r.userId);
    },
    /** Make someone a moderator of the space (and so a member of it, if it is a group). */
    async appointModerator(spaceId: string, userId: string): Promise<void> {
      await db
        .insert(spaceMembers)
        .values({ spaceId, userId, role: 'moderator', status: 'member' })
        .onConflictDoUpdate({
          target: [spaceMembers.spaceId, spaceMembers.userId],
          set: { role: 'moderator', status: 'member' },
        });
    },
    /** A moderator becomes an ordinary member again (a group keeps them); false if they were not one. */
    async removeModerator(spaceId: string, userId: string): Promise<boolean> {
      const rows = await db
        .update(spaceMembers)
        .set({ role: 'member' })
        .where(
          and(
            eq(spaceMembers.spaceId, spaceId),
            eq(spaceMembers.userId, userId),
            eq(spaceMembers.role, 'moderator'),
          ),
        )
        .returning({ userId: spaceMembers.userId });
      return rows.length > 0;
    },
  };
}

export type CommunityAdminRepository = ReturnType<typeof createCommunityAdminRepository>;
