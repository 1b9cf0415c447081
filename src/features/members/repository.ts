import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { memberProfiles } from './schema.ts';

export type ProfileRow = typeof memberProfiles.$inferSelect;

/** All SQL of the member directory: its own table only (people come from accounts). */
export function createMembersRepository(db: Db) {
  return {
    async profile(userId: string): Promise<ProfileRow | undefined> {
      const [row] = await db.select().from(memberProfiles).where(eq(memberProfiles.userId, userId));
      return row;
    },
    async saveProfile(userId: string, values: { listed: boolean; interests: string }) {
      await db
        .insert(memberProfiles)
        .values({ userId, ...values, updatedAt: new Date() })
        .onConflictDoUpdate({
          target: memberProfiles.userId,
          set: { ...values, updatedAt: new Date() },
        });
    },
    /** Every listing that is turned on: who, and their interests. */
    async listed(): Promise<{ userId: string; interests: string }[]> {
      return db
        .select({ userId: memberProfiles.userId, interests: memberProfiles.interests })
        .from(memberProfiles)
        .where(eq(memberProfiles.listed, true));
    },
    /** Which of `ids` have their listing turned on. */
    async listedAmong(ids: readonly string[]): Promise<string[]> {
      if (!ids.length) return [];
      const rows = await db
        .select({ userId: memberProfiles.userId })
        .from(memberProfiles)
        .where(and(inArray(memberProfiles.userId, [...ids]), eq(memberProfiles.listed, true)));
      return rows.map((r) => r.userId);
    },
    async erase(userId: string) {
      await db.delete(memberProfiles).where(eq(memberProfiles.userId, userId));
    },
  };
}

export type MembersRepository = ReturnType<typeof createMembersRepository>;
