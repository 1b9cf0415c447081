/**
 * Runs the test suite with Node's test runner (through tsx).
 *   node --import tsx scripts/test.ts [unit|e2e] [file…]
 *
 * Before the tests it prepares two databases and keeps them as snapshots (a
 * PGlite data dump each, or PostgreSQL template databases when DATABASE_URL
 * is set): one migrated, and one migrated and seeded with the demo content
 * (with the files the seeders wrote, under a DATA_DIR of its own). Each test
 * then starts from a copy (test/helpers/database.ts, testApp({ seed: true }))
 * in about a second instead of migrating or seeding its own.
 *
 * Files run in parallel, as many at once as the machine has cores
 * (TEST_CONCURRENCY to choose), the slowest first. Everything of one run
 * lives under var/test/run-<pid> and in databases named by the pid, so two
 * runs from one checkout (the two legs of .ci/run) never meet.
 *
 * The browser tests (test/e2e) test pages, not the database, so they need
 * one leg only: by default the PGlite one (with DATABASE_URL set and no
 * files named they are left out, and the summary says so; `npm run
 * test:e2e` still runs them on PostgreSQL). TEST_E2E=yes or no decides
 * instead (.ci/run says so for each leg).
 * `scripts/test.ts a11y` runs the accessibility suite's parts.
 *
 * At the end it prints a summary: tests per part of the suite, the slowest
 * files, and the time; TEST_SUMMARY_FILE also writes it to that file.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../src/db/client.ts';
import { compileTests } from './compile-tests.mjs';
import { migrate } from '../src/db/migrate.ts';
import { seedDemo } from '../test/helpers/app.ts';
import { SEEDED_DB, TEMPLATE_DB, templateUrl } from '../test/helpers/database.ts';

/** One file's numbers, from the counting reporter (scripts/test-counts.mjs). */
interface FileCounts {
  tests: number;
  pass: number;
  fail: number;
  skipped: number;
  ms: number;
  /** Each failed test: its name and the first lines of its error. */
  failures?: { name: string; error: string }[];
}

const root = join(fileURLToPath(import.meta.url), '..', '..');
const url = process.env.DATABASE_URL;
const leg = url ? 'PostgreSQL' : 'PGlite';
/** The leg that runs the browser tests by default (they test pages, not the database). */
const BROWSER_LEG = 'PGlite';
const browserTests =
  process.env.TEST_E2E === 'yes'
    ? true
    : process.env.TEST_E2E === 'no'
      ? false
      : leg === BROWSER_LEG;

function walk(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
    );
  } catch {
    return [];
  }
}

const pick = (files: string[]) => files.filter((f) => f.endsWith('.test.ts')).sort();
const unit = pick([...walk(join(root, 'src')), ...walk(join(root, 'test', 'integration'))]);
const e2e = pick(walk(join(root, 'test', 'e2e')));
const isE2e = (f: string) => relative(root, f).startsWith(join('test', 'e2e'));

const [kind, ...explicit] = process.argv.slice(2);
let files: string[];
/** Browser test files this leg leaves to the other one. */
let elsewhere: string[] = [];
const kinds = ['unit', 'e2e', 'a11y'];
if (kind && !kinds.includes(kind)) files = [kind, ...explicit].map((f) => resolve(f));
else if (explicit.length) files = explicit.map((f) => resolve(f));
else if (kind === 'unit') files = unit;
else if (kind === 'e2e') files = e2e;
else if (kind === 'a11y') files = e2e.filter((f) => /(^|\/)a11y-\d+\.test\.ts$/.test(f));
else if (!browserTests) {
  files = unit;
  elsewhere = e2e;
} else files = [...unit, ...e2e];

const runDir = join(root, 'var', 'test', `run-${process.pid}`);
/**
 * The test files run compiled (scripts/compile-tests.mjs), without tsx:
 * its loader hooks cost each file's process about a second of CPU time.
 * TEST_COMPILED_DIR names a tree compiled already (.ci/run compiles once for
 * both legs); TEST_TSX=yes runs the sources through tsx instead.
 */
const viaTsx = process.env.TEST_TSX === 'yes';
const buildDir = process.env.TEST_COMPILED_DIR
  ? resolve(process.env.TEST_COMPILED_DIR)
  : join(runDir, 'build');
/** A test file as the runner is given it: its compiled copy, or itself through tsx. */
const runnable = (f: string) =>
  viaTsx ? relative(root, f) : join(buildDir, relative(root, f)).replace(/\.ts$/, '.js');
/** A file the runner reports, as the source file it came from (relative to the checkout). */
const sourceOf = (f: string) =>
  !viaTsx && f.startsWith(buildDir + sep)
    ? relative(buildDir, f).replace(/\.js$/, '.ts')
    : relative(root, f);
const seededDataDir = join(runDir, 'seeded-data');

/** Only seed when a chosen file asks for the demo content (testApp seeds itself otherwise). */
const wantsSeed = files.some((f) => {
  try {
    return /seed: true|seededCopy\(|liveServer\(|a11yPart\(/.test(readFileSync(f, 'utf8'));
  } catch {
    return false;
  }
});

async function onServer(sql: string): Promise<void> {
  const admin = await openDatabase({ databaseUrl: url, poolSize: 1 });
  try {
    await admin.query(sql);
  } finally {
    await admin.close();
  }
}

async function prepare(): Promise<Record<string, string>> {
  mkdirSync(runDir, { recursive: true });
  if (url) {
    await onServer(`DROP DATABASE IF EXISTS ${TEMPLATE_DB} WITH (FORCE)`);
    await onServer(`CREATE DATABASE ${TEMPLATE_DB}`);
    const template = await openDatabase({ databaseUrl: templateUrl(url), poolSize: 1 });
    try {
      await migrate(template);
    } finally {
      await template.close();
    }
    const env: Record<string, string> = { TEST_PG_TEMPLATE: TEMPLATE_DB };
    if (!wantsSeed) return env;
    await onServer(`DROP DATABASE IF EXISTS ${SEEDED_DB} WITH (FORCE)`);
    await onServer(`CREATE DATABASE ${SEEDED_DB} TEMPLATE ${TEMPLATE_DB}`);
    const seeded = await openDatabase({ databaseUrl: templateUrl(url, SEEDED_DB), poolSize: 1 });
    try {
      await seedDemo(seeded, seededDataDir);
    } finally {
      await seeded.close();
    }
    return { ...env, TEST_PG_SEEDED: SEEDED_DB, TEST_SEEDED_DATA_DIR: seededDataDir };
  }
  const db = await openDatabase({});
  const save = async (name: string) => {
    const file = join(runDir, name);
    const dump = await db.pglite!.dumpDataDir('none');
    writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
    return file;
  };
  try {
    await migrate(db);
    const env: Record<string, string> = { TEST_DB_SNAPSHOT: await save('migrated.tar') };
    if (!wantsSeed) return env;
    await seedDemo(db, seededDataDir);
    return {
      ...env,
      TEST_DB_SEEDED_SNAPSHOT: await save('seeded.tar'),
      TEST_SEEDED_DATA_DIR: seededDataDir,
    };
  } finally {
    await db.close();
  }
}

async function cleanUp(): Promise<void> {
  rmSync(runDir, { recursive: true, force: true });
  if (url) {
    await onServer(`DROP DATABASE IF EXISTS ${SEEDED_DB} WITH (FORCE)`);
    await onServer(`DROP DATABASE IF EXISTS ${TEMPLATE_DB} WITH (FORCE)`);
  }
}

/**
 * The costliest files first, so a long one does not start last and run
 * alone: by their CPU time (their wall time where /proc is missing; CPU
 * time hardly depends on what else the machine is doing) in this
 * checkout's last run (var/test/durations-<leg>.json), else in
 * test/durations.json, else browser tests first, then the larger files.
 */
const durationsFile = join(root, 'var', 'test', `durations-${leg}.json`);
/**
 * A clean clone (CI) has no run of its own to go by: test/durations.json,
 * committed, holds each file's CPU time from a whole run of both legs
 * (`TEST_DURATIONS=write` updates it from this run).
 */
const committedDurations = join(root, 'test', 'durations.json');
const readDurations = (file: string): Record<string, number> => {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
};
function slowestFirst(list: string[]): string[] {
  const known = { ...readDurations(committedDurations), ...readDurations(durationsFile) };
  const size = (f: string) => {
    try {
      return statSync(f).size;
    } catch {
      return 0;
    }
  };
  // Without a record, the browser tests (slow to start), then the larger files.
  const weight = (f: string) => known[relative(root, f)] ?? (isE2e(f) ? 1e9 : 0) + size(f);
  return [...list].sort((a, b) => weight(b) - weight(a));
}

/** Each file's CPU time (scripts/test-cpu.mjs): its own and its children's (not Chromium's renderers). */
function cpuOf(file: string): { file: string; cpuMs: number; wallMs: number }[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { file: string; cpuMs: number; wallMs: number })
      .map((c) => ({ ...c, file: sourceOf(c.file) }));
  } catch {
    return [];
  }
}

/**
 * Node options for each test file's process. V8's --liftoff-only: PGlite is
 * PostgreSQL compiled to WebAssembly, and V8 compiles it a second time, with
 * its optimising compiler, in the background of every process that starts
 * one; a test file's process ends long before that pays off. Without it,
 * test files on PGlite take about 30% more CPU time (measured on five files:
 * 33.4 s against 23.1 s). TEST_NODE_FLAGS replaces these.
 */
const nodeFlags = (process.env.TEST_NODE_FLAGS ?? '--liftoff-only').split(' ').filter(Boolean);

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const started = Date.now();
const cores = availableParallelism();
const concurrency = Number(process.env.TEST_CONCURRENCY) || cores;
let status: number;
const summary: string[] = [];
try {
  const env = { ...process.env, ...(await prepare()), NODE_ENV: 'test' };
  const prepared = Date.now() - started;
  console.log(
    `Prepared the test databases (${leg}${wantsSeed ? ', migrated and seeded' : ', migrated'}) in ${prepared} ms; running ${files.length} test files, ${concurrency} at a time (${cores} cores)`,
  );
  const countsFile = join(runDir, 'counts.json');
  const cpuFile = join(runDir, 'cpu.jsonl');
  if (!viaTsx && !process.env.TEST_COMPILED_DIR) {
    const at = Date.now();
    const count = compileTests(root, buildDir);
    console.log(`Compiled ${count} files of src/ and test/ in ${Date.now() - at} ms`);
  }
  const result = spawnSync(
    process.execPath,
    [
      ...nodeFlags,
      ...(viaTsx ? ['--import', 'tsx'] : ['--enable-source-maps']),
      '--import',
      './scripts/test-cpu.mjs',
      '--test',
      `--test-concurrency=${concurrency}`,
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=./scripts/test-counts.mjs',
      `--test-reporter-destination=${countsFile}`,
      ...slowestFirst(files).map(runnable),
    ],
    { cwd: root, env: { ...env, TEST_CPU_FILE: cpuFile }, stdio: 'inherit' },
  );
  status = result.status ?? 1;

  let counts: Record<string, FileCounts> = {};
  try {
    counts = JSON.parse(readFileSync(countsFile, 'utf8')) as Record<string, FileCounts>;
  } catch {
    summary.push('(no test counts: the test runner stopped before its report)');
    status ||= 1;
  }
  // One entry a source file: with source maps, a compiled file's tests are reported under its source.
  const merged = new Map<string, FileCounts>();
  for (const [f, c] of Object.entries(counts)) {
    const m = merged.get(sourceOf(f)) ?? { tests: 0, pass: 0, fail: 0, skipped: 0, ms: 0 };
    merged.set(sourceOf(f), {
      tests: m.tests + c.tests,
      pass: m.pass + c.pass,
      fail: m.fail + c.fail,
      skipped: m.skipped + c.skipped,
      ms: Math.max(m.ms, c.ms),
      failures: [...(m.failures ?? []), ...(c.failures ?? [])],
    });
  }
  const entries = [...merged];
  const total = (which: (f: string) => boolean) => {
    const t = { files: 0, tests: 0, pass: 0, fail: 0, skipped: 0 };
    for (const [f, c] of entries) {
      if (!which(f)) continue;
      t.files++;
      t.tests += c.tests;
      t.pass += c.pass;
      t.fail += c.fail;
      t.skipped += c.skipped;
    }
    return t;
  };
  const line = (t: ReturnType<typeof total>) =>
    `${t.tests} tests in ${t.files} files (${t.pass} passed, ${t.fail} failed, ${t.skipped} skipped)`;
  const all = total(() => true);
  const browser = total((f) => isE2e(join(root, f)));
  const rest = total((f) => !isE2e(join(root, f)));
  summary.push(
    `== ${leg} leg: ${line(all)} in ${seconds(Date.now() - started)} (databases prepared in ${seconds(prepared)})`,
    `   unit and integration: ${line(rest)}`,
    elsewhere.length
      ? `   browser tests (test/e2e): ${elsewhere.length} files not run on this leg (TEST_E2E=${process.env.TEST_E2E ?? `unset: they run on the ${BROWSER_LEG} leg`})`
      : `   browser tests (test/e2e): ${line(browser)}`,
  );
  for (const [f, c] of entries)
    for (const failure of c.failures ?? [])
      summary.push(`   failed: ${f} › ${failure.name}\n${failure.error.replace(/^/gm, '      ')}`);
  if (entries.length !== files.length)
    summary.push(`   ${files.length - entries.length} of ${files.length} files reported no tests`);
  const slow = [...entries].sort((a, b) => b[1].ms - a[1].ms).slice(0, 10);
  summary.push(`   slowest files: ${slow.map(([f, c]) => `${f} ${seconds(c.ms)}`).join(', ')}`);
  const cpu = cpuOf(cpuFile);
  if (cpu.length) {
    const sum = cpu.reduce((a, c) => a + c.cpuMs, 0);
    summary.push(
      `   CPU time of the test files: ${seconds(sum)} in all; the most: ${[...cpu]
        .sort((a, b) => b.cpuMs - a.cpuMs)
        .slice(0, 10)
        .map((c) => `${c.file} ${seconds(c.cpuMs)}`)
        .join(', ')}`,
    );
    writeFileSync(
      join(root, 'var', 'test', `cpu-${leg}.json`),
      JSON.stringify(Object.fromEntries(cpu.map((c) => [c.file, c])), null, 1),
    );
  }
  if (entries.length) {
    const known = readDurations(durationsFile);
    const cpuMs = new Map(cpu.map((c) => [c.file, c.cpuMs]));
    for (const [f, c] of entries) known[f] = cpuMs.get(f) ?? Math.round(c.ms);
    writeFileSync(durationsFile, JSON.stringify(known, null, 1));
    if (process.env.TEST_DURATIONS === 'write') {
      const committed = readDurations(committedDurations);
      for (const [f, c] of entries) committed[f] = cpuMs.get(f) ?? Math.round(c.ms);
      const sorted = Object.fromEntries(
        Object.entries(committed).sort(([a], [b]) => (a < b ? -1 : 1)),
      );
      writeFileSync(committedDurations, `${JSON.stringify(sorted, null, 2)}\n`); // as Prettier writes it
    }
  }
} finally {
  await cleanUp();
}
console.log(`\n${summary.join('\n')}`);
if (process.env.TEST_SUMMARY_FILE)
  writeFileSync(process.env.TEST_SUMMARY_FILE, `${summary.join('\n')}\n`);
process.exit(status);
