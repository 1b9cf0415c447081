import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT_DIR } from '../../src/app.ts';

const cliEnv = (dataDir: string, extra: Record<string, string> = {}) => {
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'development',
    ...extra,
  };
  delete env.DATABASE_URL; // the CLI's own behaviour on the embedded database
  return env;
};

function cli(
  args: string[],
  dataDir = mkdtempSync(join(tmpdir(), 'sp-cli-')),
  extra: Record<string, string> = {},
) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: ROOT_DIR,
    env: cliEnv(dataDir, extra),
    encoding: 'utf8',
    timeout: 120_000,
  });
}

test('--help lists the commands; every command answers --help', () => {
  const res = cli(['--help']);
  assert.equal(res.status, 0);
  for (const c of ['serve', 'migrate', 'seed']) assert.match(res.stdout, new RegExp(`\\b${c}\\b`));
  const seed = cli(['seed', '--help']);
  assert.equal(seed.status, 0);
  assert.match(seed.stdout, /Usage: supporting-parents seed/);
});

test('a bad argument prints one clear line and exits 2', () => {
  for (const args of [
    ['frobnicate'],
    ['seed', '--bogus'],
    ['seed', '--scale', 'huge'],
    ['migrate', 'extra'],
  ]) {
    const res = cli(args);
    assert.equal(res.status, 2, args.join(' '));
    assert.equal(
      res.stderr.trim().split('\n').length,
      1,
      `one line for ${args.join(' ')}: ${res.stderr}`,
    );
    assert.equal(res.stdout, '');
  }
});

test('production without its required settings refuses to start with one line naming them', () => {
  const res = cli(['serve'], undefined, {
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

test('migrate then seed --demo twice: idempotent', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-cli-'));
  const m = cli(['migrate'], dir);
  assert.equal(m.status, 0, m.stderr);
  assert.match(m.stdout, /Applied \d+ migration/);
  assert.equal(cli(['migrate'], dir).stdout.trim(), 'Database is up to date');
  const a = cli(['seed', '--demo'], dir);
  assert.equal(a.status, 0, a.stderr);
  const b = cli(['seed', '--demo'], dir);
  assert.equal(b.status, 0, b.stderr);
  assert.match(b.stdout, /Seeded demo content/);
});

test('serve: ready, a second server on the same DATA_DIR refuses, SIGTERM stops cleanly', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-cli-'));
  const port = String(20000 + (process.pid % 20000));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
    cwd: ROOT_DIR,
    env: cliEnv(dir, { PORT: port, LOG_LEVEL: 'info' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 60_000;
    let ready = false;
    while (!ready && Date.now() < deadline) {
      try {
        ready = (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
      } catch {
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    assert.ok(ready, `the server became ready: ${out}`);
    const home = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(home.status, 200);
    assert.match(out, /seeding demo content/, 'a first start seeds the demo content');

    const second = cli(['serve'], dir, { PORT: String(Number(port) + 1) });
    assert.equal(second.status, 1);
    assert.match(second.stderr, /in use by another process/);
    assert.ok((await fetch(`http://127.0.0.1:${port}/readyz`)).ok, 'the first server is unharmed');
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, 'a graceful exit');
  assert.match(out, /shutting down/);
  assert.equal(existsSync(join(dir, 'db.lock')), false, 'the database lock is released');
});

test('user:create makes a verified, approved account with a role; bad input is one line and exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-cli-'));
  const ok = cli(
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
    const res = cli(args, dir);
    assert.equal(res.status, 2, `${args.join(' ')}: ${res.stderr}`);
    assert.equal(res.stderr.trim().split('\n').length, 1);
  }
});

test('import:boundaries FILE: loads a good file, and a bad one loads nothing and names the feature', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-cli-'));
  assert.equal(cli(['seed'], dir).status, 0);
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
  const ok = cli(['import:boundaries', good], dir);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /Loaded 1 boundaries/);
  const bad = join(dir, 'bad.geojson');
  writeFileSync(
    bad,
    JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature' }] }),
  );
  const refused = cli(['import:boundaries', '--file', bad], dir);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /^Feature 1, /m);
  assert.match(refused.stderr, /Nothing was loaded/);
});
