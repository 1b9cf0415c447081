import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { main } from '../../src/main.ts';
import { cli, cliEnv, copyOf, freePort, keep, tmp } from '../helpers/cli.ts';

/**
 * The command line, run in this process through main() (as `node
 * dist/main.js …` runs it), each case on its own DATA_DIR; the commands
 * that only need a database start from a copy of one migrated once
 * (test/helpers/cli.ts). The compiled build as a real process:
 * cli-build.test.ts.
 */

test('--help lists the commands; every command answers --help', async () => {
  const res = await cli(['--help']);
  assert.equal(res.status, 0);
  for (const c of ['serve', 'migrate', 'seed', 'backup', 'restore'])
    assert.match(res.stdout, new RegExp(`\\b${c}\\b`));
  const seed = await cli(['seed', '--help']);
  assert.equal(seed.status, 0);
  assert.match(seed.stdout, /Usage: supporting-parents seed/);
});

test('a bad argument prints one clear line and exits 2', async () => {
  for (const args of [
    ['frobnicate'],
    ['seed', '--bogus'],
    ['seed', '--scale', 'huge'],
    ['migrate', 'extra'],
  ]) {
    const res = await cli(args);
    assert.equal(res.status, 2, args.join(' '));
    assert.equal(
      res.stderr.trim().split('\n').length,
      1,
      `one line for ${args.join(' ')}: ${res.stderr}`,
    );
    assert.equal(res.stdout, '');
  }
});

test('production without its required settings refuses to start with one line naming them', async () => {
  const res = await cli(['serve'], undefined, {
    NODE_ENV: 'production',
    SESSION_SECRET: '',
    BASE_URL: '',
  });
  assert.equal(res.status, 1);
  assert.equal(
    res.stderr.trim(),
    'Missing required settings for production: SESSION_SECRET, BASE_URL',
  );
});

test('a data folder whose database cannot be opened: one line saying so and what to do, exit 1, the folder freed', async () => {
  const dir = tmp();
  mkdirSync(join(dir, 'db'), { recursive: true });
  // A database folder of a PostgreSQL this one is not.
  writeFileSync(join(dir, 'db', 'PG_VERSION'), '99\n');
  // migrate opens it in this thread; serve in a thread of its own, while the app is built.
  for (const command of ['migrate', 'serve']) {
    const res = await cli([command], dir, { PORT: await freePort() });
    assert.equal(res.status, 1, `${command}: ${res.stderr}`);
    assert.equal(res.stderr.trim().split('\n').length, 1, `${command}, one line: ${res.stderr}`);
    assert.match(
      res.stderr,
      /^The embedded database in .+ could not be opened \(.+\)\. .*restore a backup/,
    );
    assert.equal(res.stdout, '');
    assert.equal(existsSync(join(dir, 'db.lock')), false, `${command}: the folder is free again`);
  }
});

test('migrate then seed --demo twice: idempotent; serve then starts on that data without seeding, and stops', async () => {
  const dir = tmp();
  const m = await cli(['migrate'], dir);
  assert.equal(m.status, 0, m.stderr);
  assert.match(m.stdout, /Applied \d+ migration/);
  assert.equal((await cli(['migrate'], dir)).stdout.trim(), 'Database is up to date');
  keep('migrated', dir);
  const a = await cli(['seed', '--demo'], dir);
  assert.equal(a.status, 0, a.stderr);
  const b = await cli(['seed', '--demo'], dir);
  assert.equal(b.status, 0, b.stderr);
  assert.match(b.stdout, /Seeded demo content/);
  keep('seeded', dir);

  // serve in this process: it resolves once stopped (here by the signal, in production by SIGTERM).
  const port = await freePort();
  const stop = new AbortController();
  let out = '';
  const serving = main(['serve'], {
    env: cliEnv(dir, { PORT: port, LOG_LEVEL: 'info' }),
    out: (text) => (out += text),
    err: (text) => (out += text),
    signal: stop.signal,
  });
  let settled = false;
  void serving.finally(() => (settled = true));
  try {
    const deadline = Date.now() + 120_000; // a first start seeds; slow on a busy machine
    let ready = false;
    while (!ready && !settled && Date.now() < deadline) {
      try {
        ready = (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.ok(ready, `the server became ready: ${out}`);
    assert.equal((await fetch(`http://127.0.0.1:${port}/services`)).status, 200);
    assert.doesNotMatch(out, /seeding demo content/, 'seeded data is not seeded again');
  } finally {
    stop.abort();
  }
  assert.equal(await serving, 0);
  assert.match(out, /shutting down/);
  assert.equal(existsSync(join(dir, 'db.lock')), false, 'the database lock is released');
});

test('user:create makes a verified, approved account with a role; bad input is one line and exit 2', async () => {
  const dir = await copyOf('migrated');
  const ok = await cli(
    [
      'user:create',
      '--email',
      'ops@example.org',
      '--role',
      'admin',
      '--password',
      'correct horse battery',
      '--name',
      'Ops',
    ],
    dir,
  );
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /Created admin ops@example\.org/);
  for (const args of [
    ['user:create', '--email', 'ops@example.org', '--role', 'admin'],
    ['user:create', '--email', 'new@example.org', '--role', 'overlord'],
    ['user:create', '--email', 'not-an-email', '--role', 'member'],
    ['user:create', '--email', 'weak@example.org', '--role', 'member', '--password', 'password123'],
  ]) {
    const res = await cli(args, dir);
    assert.equal(res.status, 2, `${args.join(' ')}: ${res.stderr}`);
    assert.equal(res.stderr.trim().split('\n').length, 1);
  }
});

test('import:boundaries FILE: loads a good file, and a bad one loads nothing and names the feature', async () => {
  const dir = await copyOf('seeded');
  const feature = (code: string, ring: number[][]) => ({
    type: 'Feature',
    properties: { CTYUA24CD: code },
    geometry: { type: 'Polygon', coordinates: [ring] },
  });
  const good = join(dir, 'good.geojson');
  writeFileSync(
    good,
    JSON.stringify({
      type: 'FeatureCollection',
      features: [
        feature('E06000001', [
          [-1.3, 54.6],
          [-1.1, 54.6],
          [-1.1, 54.7],
          [-1.3, 54.6],
        ]),
      ],
    }),
  );
  const ok = await cli(['import:boundaries', good], dir);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /Loaded 1 boundaries/);
  const bad = join(dir, 'bad.geojson');
  writeFileSync(
    bad,
    JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature' }] }),
  );
  const refused = await cli(['import:boundaries', '--file', bad], dir);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /^Feature 1, /m);
  assert.match(refused.stderr, /Nothing was loaded/);
});

test('backup FILE then restore FILE into a new DATA_DIR; a DATA_DIR with data is refused (exit 2) without --force', async () => {
  const source = await copyOf('seeded');
  const archive = join(tmp(), 'site.tar.gz');
  const made = await cli(['backup', archive], source);
  assert.equal(made.status, 0, made.stderr);
  assert.match(made.stdout, /^Backed up \d+ tables \(\d+ rows\) and \d+ files to .*site\.tar\.gz/);
  const again = await cli(['backup', archive], source);
  assert.equal(again.status, 2);
  assert.match(again.stderr, /already exists \(give --force to replace it\)/);

  const target = tmp();
  const restored = await cli(['restore', archive], target);
  assert.equal(restored.status, 0, restored.stderr);
  assert.match(
    restored.stdout,
    /^Restored \d+ tables \(\d+ rows\) and \d+ files from .* on the embedded database/,
  );
  const rows = (text: string) => /\((\d+) rows\) and (\d+) files/.exec(text)?.slice(1);
  assert.deepEqual(rows(restored.stdout), rows(made.stdout), 'as many rows and files');

  const refused = await cli(['restore', archive], target);
  assert.equal(refused.status, 2);
  assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
  assert.match(refused.stderr, /Nothing was restored: the database has rows .*--force/);
  const forced = await cli(['restore', archive, '--force'], target);
  assert.equal(forced.status, 0, forced.stderr);

  const missing = await cli(['restore', join(target, 'nothing.tar.gz')], target);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /does not exist/);
});

test('a site restored into a new embedded database gets no demo content added by serve', async () => {
  // A site that was never given the demo content (as one on PostgreSQL).
  const source = await copyOf('migrated');
  const made = await cli(['user:create', '--email', 'ops@example.org', '--role', 'admin'], source);
  assert.equal(made.status, 0, made.stderr);
  const archive = join(tmp(), 'plain.tar.gz');
  assert.equal((await cli(['backup', archive], source)).status, 0);
  const target = tmp();
  const restored = await cli(['restore', archive], target);
  assert.equal(restored.status, 0, restored.stderr);
  const { openDatabase } = await import('../../src/db/client.ts');
  const { demoSeeded } = await import('../../src/platform/seed.ts');
  const database = await openDatabase({ dataDir: target });
  try {
    assert.equal(await demoSeeded(database), true, 'serve will not seed it');
    const [users] = await database.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
    assert.equal(users?.n, 1);
  } finally {
    await database.close();
  }
});
