import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { type TestApp, testApp } from '../helpers/app.ts';

test('LOG_REQUESTS: off by default in production, on elsewhere, and settable', () => {
  const production = {
    NODE_ENV: 'production',
    SESSION_SECRET: 'x'.repeat(32),
    BASE_URL: 'https://a.example.org',
  };
  const secret = { sessionSecret: 'test-secret-test-secret-test-secret' };
  assert.equal(loadConfig(production).logRequests, false);
  assert.equal(loadConfig({ ...production, LOG_REQUESTS: '' }).logRequests, false);
  assert.equal(loadConfig({ ...production, LOG_REQUESTS: 'true' }).logRequests, true);
  assert.equal(loadConfig({ NODE_ENV: 'development' }, secret).logRequests, true);
  assert.equal(loadConfig({ NODE_ENV: 'test', LOG_REQUESTS: 'false' }, secret).logRequests, false);
  assert.throws(() => loadConfig({ LOG_REQUESTS: 'yes' }, secret), /Invalid setting: LOG_REQUESTS/);
});

describe('request logging off (production default): errors and 5xx only', () => {
  let t: TestApp;
  before(async () => {
    t = await testApp({
      config: { logRequests: false },
      before(app) {
        app.get('/__test/boom', { config: { access: 'public', a11y: false } }, async () => {
          throw new Error('kaboom');
        });
        app.get(
          '/__test/down',
          { config: { access: 'public', a11y: false } },
          async (_req, reply) => reply.code(503).send('down'),
        );
      },
    });
  });
  after(async () => t.close());

  test('a good request, a 404 and a refusal write no request lines', async () => {
    t.logs.length = 0;
    assert.equal((await t.app.inject('/healthz')).statusCode, 200);
    assert.equal((await t.app.inject('/privacy')).statusCode, 200);
    assert.equal((await t.app.inject('/no-such-page')).statusCode, 404);
    const all = t.logs.join('');
    assert.doesNotMatch(all, /incoming request|request completed|not found/);
  });

  test('a thrown error and a 5xx reply are logged with their request id', async () => {
    t.logs.length = 0;
    await t.app.inject({ url: '/__test/boom', headers: { 'x-request-id': 'boom-1' } });
    await t.app.inject({ url: '/__test/down', headers: { 'x-request-id': 'down-1' } });
    const boom = t.logs.find((l) => l.includes('kaboom'));
    assert.ok(boom, 'the error is logged');
    assert.match(boom, /"reqId":"boom-1"/);
    const down = t.logs.find((l) => l.includes('"reqId":"down-1"'));
    assert.ok(down, 'the 503 is logged');
    assert.match(down, /"statusCode":503/);
    assert.match(down, /"level":50/);
  });
});

describe('request logging on (development and tests by default)', () => {
  let t: TestApp;
  before(async () => {
    t = await testApp();
  });
  after(async () => t.close());

  test('every request writes its lines', async () => {
    t.logs.length = 0;
    await t.app.inject('/healthz');
    const all = t.logs.join('');
    assert.match(all, /incoming request/);
    assert.match(all, /request completed/);
  });
});
