import { and, asc, count, eq, ilike, isNotNull, isNull, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { users } from '../accounts/schema.ts';
import { memberProfiles } from './schema.ts';

export type ProfileRow = typeof memberProfiles.$inferSelect;

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
    /**
     * Listed, approved, active members matching the filters, by name. Only
     * what the directory shows is selected: never an email address.
     */
    async directory(f: {
      q?: string;
      kind?: string;
      region?: string;
      offset: number;
      limit: number;
    }) {
      const like = f.q ? `%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined;
      const where = and(
        eq(memberProfiles.listed, true),
        isNotNull(users.approvedAt),
        eq(users.status, 'active'),
        isNull(users.deletedAt),
        f.kind ? eq(users.kind, f.kind as never) : undefined,
        f.region ? eq(users.region, f.region) : undefined,
        like
          ? or(
              ilike(users.displayName, like),
              ilike(users.organisation, like),
              ilike(memberProfiles.interests, like),
            )
          : undefined,
      );
      const [rows, [total]] = await Promise.all([
        db
          .select({
            displayName: users.displayName,
            kind: users.kind,
            organisation: users.organisation,
            region: users.region,
            interests: memberProfiles.interests,
          })
          .from(memberProfiles)
          .innerJoin(users, eq(users.id, memberProfiles.userId))
          .where(where)
          .orderBy(asc(sql`lower(${users.displayName})`))
          .limit(f.limit)
          .offset(f.offset),
        db
          .select({ n: count() })
          .from(memberProfiles)
          .innerJoin(users, eq(users.id, memberProfiles.userId))
          .where(where),
      ]);
      return { rows, total: Number(total?.n ?? 0) };
    },
    /** Regions that listed members have given, for the filter. */
    async regions(): Promise<string[]> {
      const rows = await db
        .selectDistinct({ region: users.region })
        .from(memberProfiles)
        .innerJoin(users, eq(users.id, memberProfiles.userId))
        .where(and(eq(memberProfiles.listed, true), isNotNull(users.region)))
        .orderBy(asc(users.region));
      return rows.map((r) => r.region!).filter(Boolean);
    },
    async erase(userId: string) {
      await db.delete(memberProfiles).where(eq(memberProfiles.userId, userId));
    },
  };
}

export type MembersRepository = ReturnType<typeof createMembersRepository>;
