import { accessAllows, type CurrentUser } from '../../platform/auth.ts';
import type { MembersRepository } from './repository.ts';

/**
 * The member directory: approved members who choose to be listed, found by
 * other approved members. No email addresses; no private messages yet (an
 * admin will be able to turn them on later, the page says so).
 */

export const PER_PAGE = 25;

export class DirectoryRefusal extends Error {
  readonly statusCode = 403;
  constructor() {
    super('The member directory is for approved members');
  }
}

/** What the directory shows of a person (from the accounts service). */
export interface DirectoryPerson {
  id: string;
  displayName: string;
  kind: string;
  organisation: string | null;
  region: string | null;
  approved: boolean;
  active: boolean;
}

export interface MembersDeps {
  repo: MembersRepository;
  /** The accounts service's read model: people by id, in one call. */
  people: { profiles(ids: readonly string[]): Promise<Map<string, DirectoryPerson>> };
}

const mayUse = (u: CurrentUser | undefined): u is CurrentUser => accessAllows('member', u);
const fold = (s: string) => s.toLocaleLowerCase('en');

export function createMembersService(deps: MembersDeps) {
  const { repo, people } = deps;

  /**
   * The directory's rule, in one place: a listing is shown when it is turned
   * on and its member is approved and active (not suspended, not deleted).
   */
  async function listings() {
    const rows = await repo.listed();
    const found = await people.profiles(rows.map((r) => r.userId));
    return rows.flatMap((r) => {
      const p = found.get(r.userId);
      return p && p.approved && p.active ? [{ ...p, interests: r.interests }] : [];
    });
  }

  return {
    /**
     * Listed members matching the filters, by name. Filtered here over every
     * listing, which stays small (people opt in); one call to accounts for all.
     */
    async search(
      viewer: CurrentUser | undefined,
      f: { q?: string | undefined; kind?: string | undefined; region?: string | undefined },
      page: number,
    ) {
      if (!mayUse(viewer)) throw new DirectoryRefusal();
      const all = await listings();
      const q = f.q ? fold(f.q) : undefined;
      const matching = all
        .filter(
          (p) =>
            (!f.kind || p.kind === f.kind) &&
            (!f.region || p.region === f.region) &&
            (!q ||
              fold(p.displayName).includes(q) ||
              fold(p.organisation ?? '').includes(q) ||
              fold(p.interests).includes(q)),
        )
        .sort((a, b) => fold(a.displayName).localeCompare(fold(b.displayName), 'en'));
      const offset = (page - 1) * PER_PAGE;
      const rows = matching.slice(offset, offset + PER_PAGE).map((p) => ({
        displayName: p.displayName,
        kind: p.kind,
        organisation: p.organisation,
        region: p.region,
        interests: p.interests,
      }));
      const regions = [...new Set(all.flatMap((p) => (p.region ? [p.region] : [])))].sort();
      return {
        rows,
        total: matching.length,
        regions,
        pages: Math.max(1, Math.ceil(matching.length / PER_PAGE)),
      };
    },
    /** Which of these people the directory lists (its rule above), for @mention suggestions. */
    async listedAmong(ids: readonly string[]): Promise<Set<string>> {
      const listed = await repo.listedAmong(ids);
      const found = await people.profiles(listed);
      return new Set(listed.filter((id) => found.get(id)?.approved && found.get(id)?.active));
    },
    async profile(viewer: CurrentUser) {
      return (await repo.profile(viewer.id)) ?? { listed: false, interests: '' };
    },
    async saveProfile(viewer: CurrentUser, values: { listed: boolean; interests: string }) {
      if (!mayUse(viewer)) throw new DirectoryRefusal();
      await repo.saveProfile(viewer.id, values);
    },
    personalData: {
      name: 'member-directory',
      export: (userId: string) => repo.profile(userId),
      erase: (userId: string) => repo.erase(userId),
    },
  };
}

export type MembersService = ReturnType<typeof createMembersService>;
