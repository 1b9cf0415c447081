/**
 * The pages of OUR server that `npm run bench` measures, in order. A feature
 * adds its page(s) here (see bench/README.md).
 */
import type { Scenario } from './lib.ts';

export const scenarios: Scenario[] = [{ name: 'home', path: '/' }];
