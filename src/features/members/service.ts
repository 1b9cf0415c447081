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

const mayUse = (u: CurrentUser | undefined): u is CurrentUser => accessAllows('member', u);

export function createMembersService(deps: { repo: MembersRepository }) {
  const { repo } = deps;
  return {
    async search(
      viewer: CurrentUser | undefined,
      f: { q?: string | undefined; kind?: string | undefined; region?: string | undefined },
      page: number,
    ) {
      if (!mayUse(viewer)) throw new DirectoryRefusal();
      const [found, regions] = await Promise.all([
        repo.directory({
          ...(f.q ? { q: f.q } : {}),
          ...(f.kind ? { kind: f.kind } : {}),
          ...(f.region ? { region: f.region } : {}),
          offset: (page - 1) * PER_PAGE,
          limit: PER_PAGE,
        }),
        repo.regions(),
      ]);
      return { ...found, regions, pages: Math.max(1, Math.ceil(found.total / PER_PAGE)) };
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
