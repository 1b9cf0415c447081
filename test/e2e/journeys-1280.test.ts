// The core journeys by keyboard alone at 1280 px, in English and Welsh (test/e2e/journeys.ts).
import { describe, test } from 'node:test';
import { journeys } from './journeys.ts';

const part = journeys(1280);
describe(part.name, part.options, () => {
  part.setUp();
  for (const [name, run] of part.tests) test(name, run);
});
