import type { Seeder } from '../../platform/seed.ts';
import type { MembersRepository } from './repository.ts';

/** Demo: two demo accounts have chosen to be listed in the directory. */
export function membersSeeder(
  repo: MembersRepository,
  people: { idByEmail(email: string): Promise<string | undefined> },
): Seeder {
  return {
    name: 'member-directory',
    async seed() {
      const listings: [string, string][] = [
        [
          'member@example.org',
          'Pause practice, contraception conversations, letterbox contact (demo)',
        ],
        ['moderator@example.org', 'Peer support groups and the Wales network (demo)'],
      ];
      for (const [email, interests] of listings) {
        const id = await people.idByEmail(email);
        if (id && !(await repo.profile(id)))
          await repo.saveProfile(id, { listed: true, interests });
      }
    },
  };
}
