import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from './config.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'sp-config-'));

test('safe local defaults, and a session secret generated once into DATA_DIR', () => {
  const d = dir();
  const c = loadConfig({ DATA_DIR: d });
  assert.equal(c.port, 3000);
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.baseUrl, 'http://localhost:3000');
  assert.equal(c.databaseUrl, undefined);
  assert.equal(c.smtpUrl, undefined);
  assert.equal(c.production, false);
  assert.equal(c.geocoderUrl, 'https://api.postcodes.io');
  assert.ok(c.sessionSecret.length >= 32);
  assert.equal(readFileSync(join(d, 'session-secret'), 'utf8'), c.sessionSecret);
  assert.equal(
    loadConfig({ DATA_DIR: d }).sessionSecret,
    c.sessionSecret,
    'the same secret next time',
  );
});

test('empty optional URLs count as unset; BASE_URL follows PORT', () => {
  const c = loadConfig({ DATA_DIR: dir(), DATABASE_URL: '', SMTP_URL: ' ', PORT: '8080' });
  assert.equal(c.databaseUrl, undefined);
  assert.equal(c.smtpUrl, undefined);
  assert.equal(c.baseUrl, 'http://localhost:8080');
});

test('production without its required settings stops with one line naming them', () => {
  assert.throws(
    () => loadConfig({ NODE_ENV: 'production', DATA_DIR: dir() }),
    (err: Error) =>
      err instanceof ConfigError &&
      err.message === 'Missing required settings for production: SESSION_SECRET, BASE_URL' &&
      !err.message.includes('\n'),
  );
  assert.throws(
    () =>
      loadConfig({
        NODE_ENV: 'production',
        DATA_DIR: dir(),
        BASE_URL: 'https://x.example.org',
        SESSION_SECRET: 'short',
      }),
    /SESSION_SECRET must be at least 32 characters/,
  );
  const ok = loadConfig({
    NODE_ENV: 'production',
    DATA_DIR: dir(),
    BASE_URL: 'https://x.example.org/',
    SESSION_SECRET: 'x'.repeat(40),
  });
  assert.equal(ok.production, true);
  assert.equal(ok.baseUrl, 'https://x.example.org');
});

test('a bad value is named', () => {
  assert.throws(() => loadConfig({ DATA_DIR: dir(), PORT: 'eighty' }), /Invalid setting: PORT/);
  assert.throws(
    () => loadConfig({ DATA_DIR: dir(), DATABASE_URL: 'not a url' }),
    /Invalid setting: DATABASE_URL/,
  );
  assert.throws(
    () => loadConfig({ DATA_DIR: dir(), LOG_LEVEL: 'loud' }),
    /Invalid setting: LOG_LEVEL/,
  );
});

test('ROLES: web and worker by default; either alone; anything else is named', () => {
  const both = loadConfig({ DATA_DIR: dir() });
  assert.deepEqual(both.roles, { web: true, worker: true });
  assert.equal(both.runJobs, true);
  const web = loadConfig({ DATA_DIR: dir(), ROLES: 'web' });
  assert.deepEqual(web.roles, { web: true, worker: false });
  assert.equal(web.runJobs, false, 'a web instance runs no jobs');
  const worker = loadConfig({ DATA_DIR: dir(), ROLES: ' Worker ' });
  assert.deepEqual(worker.roles, { web: false, worker: true });
  assert.equal(worker.runJobs, true);
  assert.deepEqual(loadConfig({ DATA_DIR: dir(), ROLES: 'worker, web' }).roles, {
    web: true,
    worker: true,
  });
  for (const bad of ['', 'cron', 'web,,worker'])
    assert.throws(() => loadConfig({ DATA_DIR: dir(), ROLES: bad }), /Invalid setting: ROLES/);
});

test('NAME_FILE: a setting read from a file (container secrets), its final line break dropped', () => {
  const d = dir();
  const secretFile = join(d, 'session_secret');
  writeFileSync(secretFile, `${'s'.repeat(40)}\n`);
  const urlFile = join(d, 'database_url');
  writeFileSync(urlFile, 'postgres://app:pa%24s@db:5432/sp\n');
  const c = loadConfig({
    NODE_ENV: 'production',
    DATA_DIR: d,
    BASE_URL: 'https://x.example.org',
    SESSION_SECRET_FILE: secretFile,
    DATABASE_URL_FILE: urlFile,
  });
  assert.equal(c.sessionSecret, 's'.repeat(40));
  assert.equal(c.databaseUrl, 'postgres://app:pa%24s@db:5432/sp');
  // Required in production: a _FILE counts as given.
  assert.throws(
    () => loadConfig({ NODE_ENV: 'production', DATA_DIR: d, SESSION_SECRET_FILE: secretFile }),
    /Missing required setting for production: BASE_URL$/,
  );
  assert.throws(
    () =>
      loadConfig({ DATA_DIR: d, SESSION_SECRET: 'x'.repeat(40), SESSION_SECRET_FILE: secretFile }),
    /Give SESSION_SECRET or SESSION_SECRET_FILE, not both/,
  );
  assert.throws(
    () => loadConfig({ DATA_DIR: d, SESSION_SECRET_FILE: join(d, 'missing') }),
    (err: Error) =>
      err instanceof ConfigError &&
      /^SESSION_SECRET_FILE: cannot read .*missing \(ENOENT\)$/.test(err.message),
  );
  const empty = join(d, 'empty');
  writeFileSync(empty, '\n');
  const unset = loadConfig({ DATA_DIR: d, SMTP_URL_FILE: empty, METRICS_TOKEN_FILE: empty });
  assert.equal(unset.smtpUrl, undefined, 'an empty file: unset');
  assert.equal(unset.metricsToken, undefined);
  // An empty value is unset; a _FILE of an unknown setting is left alone.
  assert.equal(loadConfig({ DATA_DIR: d, SESSION_SECRET_FILE: '' }).databaseUrl, undefined);
  assert.doesNotThrow(() => loadConfig({ DATA_DIR: d, NOT_OURS_FILE: '/nowhere' }));
  const bad = join(d, 'bad_port');
  writeFileSync(bad, 'eighty');
  assert.throws(() => loadConfig({ DATA_DIR: d, PORT_FILE: bad }), /Invalid setting: PORT/);
});

test('STORAGE_URL: unset or empty is the disk; an S3 one is checked at start-up', () => {
  assert.equal(loadConfig({ DATA_DIR: dir() }).storageUrl, undefined);
  assert.equal(loadConfig({ DATA_DIR: dir(), STORAGE_URL: '' }).storageUrl, undefined);
  const url = 's3://files/site?region=eu-west-2';
  assert.equal(loadConfig({ DATA_DIR: dir(), STORAGE_URL: url }).storageUrl, url);
  assert.throws(
    () => loadConfig({ DATA_DIR: dir(), STORAGE_URL: 's3://files' }),
    (err) => err instanceof ConfigError && /STORAGE_URL: give region=/.test(err.message),
  );
});
