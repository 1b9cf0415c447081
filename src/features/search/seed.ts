import type { Seeder } from '../../platform/seed.ts';
import type { SearchRepository } from './repository.ts';
import type { SearchService } from './service.ts';

/** Synonyms an editor would start with: the field's abbreviations and its two names for one thing. */
export const DEMO_SYNONYMS: string[][] = [
  ['fdac', 'family drug and alcohol court'],
  ['lac', 'looked after children', 'looked-after children', 'looked after child'],
  ['recurrent', 'repeat removals', 'repeat care proceedings'],
  ['pre-birth', 'prebirth', 'before birth', 'unborn'],
  ['care leaver', 'care experienced'],
];

/**
 * Runs after every other seeder: the demo's synonyms (only when there are
 * none, so an editor's are never touched), then the index made from what
 * the other seeders wrote.
 */
export function searchSeeder(repo: SearchRepository, search: SearchService): Seeder {
  return {
    name: 'search',
    async seed() {
      if ((await repo.synonyms()).length === 0)
        for (const terms of DEMO_SYNONYMS) await repo.addSynonyms(terms);
      await search.rebuild();
    },
  };
}
