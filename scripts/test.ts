/**
 * Runs the test suite with Node's test runner (through tsx).
 *   node --import tsx scripts/test.ts [unit|e2e] [file…]
 * Before the tests it migrates one database and saves it as a snapshot (a
 * PGlite data dump, or a PostgreSQL template database when DATABASE_URL is
 * set), so each test file starts from a clone in about a second instead of
 * migrating its own.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../src/db/client.ts';
import { migrate } from '../src/db/migrate.ts';
import { TEMPLATE_DB, templateUrl } from '../test/helpers/database.ts';

const root = join(fileURLToPath(import.meta.url), '..', '..');

function walk(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
    );
  } catch {
    return [];
  }
}

const [kind, ...explicit] = process.argv.slice(2);
const unit = [...walk(join(root, 'src')), ...walk(join(root, 'test', 'integration'))];
const e2e = walk(join(root, 'test', 'e2e'));
const pick = (files: string[]) => files.filter((f) => f.endsWith('.test.ts'));
let files =
  kind === 'unit' ? pick(unit) : kind === 'e2e' ? pick(e2e) : [...pick(unit), ...pick(e2e)];
if (kind && kind !== 'unit' && kind !== 'e2e') files = [kind, ...explicit];
else if (explicit.length) files = explicit;

async function prepareSnapshot(): Promise<Record<string, string>> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const admin = await openDatabase({ databaseUrl: url, poolSize: 1 });
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${TEMPLATE_DB}`);
    } finally {
      await admin.close();
    }
    const template = await openDatabase({ databaseUrl: templateUrl(url), poolSize: 1 });
    try {
      await migrate(template);
    } finally {
      await template.close();
    }
    return { TEST_PG_TEMPLATE: TEMPLATE_DB };
  }
  const db = await openDatabase({});
  try {
    await migrate(db);
    const dump = await db.pglite!.dumpDataDir('none');
    const dir = join(root, 'var', 'test');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `snapshot-${process.pid}.tar`);
    writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
    return { TEST_DB_SNAPSHOT: file };
  } finally {
    await db.close();
  }
}

const started = Date.now();
const prepared = await prepareSnapshot();
const env = { ...process.env, ...prepared, NODE_ENV: 'test' };
console.log(
  `Prepared the test database (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}) in ${Date.now() - started} ms; running ${files.length} test files`,
);
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    '--test-reporter=spec',
    ...files.map((f) => relative(root, f)),
  ],
  { cwd: root, env, stdio: 'inherit' },
);
if (prepared.TEST_DB_SNAPSHOT) rmSync(prepared.TEST_DB_SNAPSHOT, { force: true });
if (prepared.TEST_PG_TEMPLATE) {
  const admin = await openDatabase({ databaseUrl: process.env.DATABASE_URL, poolSize: 1 });
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${prepared.TEST_PG_TEMPLATE} WITH (FORCE)`);
  } finally {
    await admin.close();
  }
}
process.exit(result.status ?? 1);
