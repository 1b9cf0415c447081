#!/usr/bin/env node
// The installed command: runs the compiled server (dist/main.js), building it
// first if src/ changed since the last build (scripts/build.mjs checks the
// files' times: a few milliseconds when everything is up to date). Build
// messages go to standard error, so `export:services > file` stays clean.
import { existsSync } from 'node:fs';

const build = new URL('../scripts/build.mjs', import.meta.url);
if (existsSync(build)) {
  const { build: buildIfNeeded, outOfDate } = await import(build.href);
  const stale = outOfDate();
  if (stale.code || stale.assets || stale.template)
    await buildIfNeeded({ log: (line) => console.error(line) });
}
const { runAsProcess } = await import('../dist/main.js');
runAsProcess(process.argv.slice(2));
