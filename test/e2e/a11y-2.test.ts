// One part of the accessibility suite (test/e2e/a11y-suite.ts): the manifest's
// pages are shared out among the a11y-<k>.test.ts files; to split it further, copy this file.
import { describe, test } from 'node:test';
import { a11yPart } from './a11y-suite.ts';

const part = a11yPart(import.meta.url);
describe(part.name, part.options, () => {
  part.setUp();
  for (const [name, run] of part.tests) test(name, run);
});
