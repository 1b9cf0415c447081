import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
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

test('TRUST_PROXY: off by default; hops or CIDRs; anything else stops start-up naming it', () => {
  assert.equal(loadConfig({ DATA_DIR: dir() }).trustProxy, false);
  assert.equal(loadConfig({ DATA_DIR: dir(), TRUST_PROXY: '1' }).trustProxy, 1);
  assert.deepEqual(loadConfig({ DATA_DIR: dir(), TRUST_PROXY: '10.0.0.0/8,loopback' }).trustProxy, [
    '10.0.0.0/8',
    'loopback',
  ]);
  assert.throws(
    () => loadConfig({ DATA_DIR: dir(), TRUST_PROXY: 'everyone' }),
    (err: Error) => err instanceof ConfigError && /TRUST_PROXY/.test(err.message),
  );
});
