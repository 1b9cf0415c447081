#!/usr/bin/env node
/**
 * `npm start`: builds what is out of date (scripts/build.mjs: a few hundred
 * file times when nothing changed), then serves from dist/ in this same
 * process. One Node start-up instead of two (the check used to run as a
 * process of its own before `node dist/main.js serve`): a restart answers
 * ~0.1 s sooner. Extra arguments go to the server (`npm start -- --help`).
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, DIST } from './build.mjs';

try {
  await build();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
const { runAsProcess } = await import(pathToFileURL(join(DIST, 'main.js')).href);
runAsProcess(['serve', ...process.argv.slice(2)]);
