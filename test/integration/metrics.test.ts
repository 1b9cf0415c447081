import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { listenForMetrics } from '../../src/platform/health.ts';
import { MAIL_JOB } from '../../src/platform/mail.ts';
import { type TestApp, testApp } from '../helpers/app.ts';

const TOKEN = 'metrics-token-for-the-test-0123';

describe('/metrics with METRICS_TOKEN, and /readyz', () => {
  let t: TestApp;
  before(async () => {
    t = await testApp({ config: { metricsToken: TOKEN } });
  });
  after(async () => t.close());

  test('without the token, or with a wrong one: 401 and nothing shown', async () => {
    const none = await t.app.inject('/metrics');
    assert.equal(none.statusCode, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer');
    assert.doesNotMatch(none.body, /http_request_duration/);
    const wrong = await t.app.inject({
      url: '/metrics',
      headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}x` },
    });
    assert.equal(wrong.statusCode, 401);
  });

  test('with the token: request durations, admission and the job queue', async () => {
    await t.app.platform.jobs.enqueue('test.nothing', {});
    await t.app.platform.jobs.enqueue('test.later', {}, { runAt: new Date(Date.now() + 3600_000) });
    await t.app.inject('/healthz');
    const res = await t.app.inject({
      url: '/metrics',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /http_request_duration_seconds_bucket\{.*route="\/healthz"/);
    assert.match(res.body, /^sp_requests_waiting 0$/m);
    assert.match(res.body, /^sp_requests_active \d+$/m);
    assert.match(res.body, /^sp_jobs_pending 2$/m);
    assert.match(res.body, /^sp_jobs_due 1$/m);
    assert.match(res.body, /^sp_jobs_oldest_due_seconds [0-9.e-]+$/m);
  });

  test('a failed delivery is counted; one failed for good and one to be retried are told apart', async () => {
    const { jobs } = t.app.platform;
    // Not a message: the mail job's handler throws, as it does when SMTP refuses.
    await jobs.enqueue(MAIL_JOB, { not: 'a message' }, { maxAttempts: 1 });
    await jobs.enqueue(MAIL_JOB, { not: 'a message' }, { maxAttempts: 5 });
    assert.ok((await jobs.runDue()) >= 2, 'both ran (and the earlier test job)');
    const res = await t.app.inject({
      url: '/metrics',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /^# TYPE sp_mail_send_failures_total counter$/m);
    assert.match(res.body, /^sp_mail_send_failures_total 2$/m);
    assert.match(res.body, /^sp_mail_failed 1$/m);
    assert.match(res.body, /^sp_mail_retrying 1$/m);
    assert.match(res.body, /^sp_jobs_failed 1$/m);
    const pool = t.database.poolStats();
    assert.ok(pool.max >= 1);
    assert.match(res.body, new RegExp(`^sp_db_pool_max ${pool.max}$`, 'm'));
    assert.match(res.body, /^sp_db_pool_connections \d+$/m);
    assert.match(res.body, /^sp_db_pool_idle \d+$/m);
    assert.match(res.body, /^sp_db_pool_waiting \d+$/m);
  });

  // Last: the app is not ready after this.
  test('ready, then 503 from drain() on, while pages are still answered', async () => {
    assert.equal((await t.app.inject('/readyz')).statusCode, 200);
    assert.equal(t.app.health.draining, false);
    t.app.health.drain();
    const res = await t.app.inject('/readyz');
    assert.equal(res.statusCode, 503);
    assert.deepEqual(res.json(), { status: 'draining' });
    assert.equal((await t.app.inject('/healthz')).statusCode, 200);
    assert.equal((await t.app.inject('/')).statusCode, 200, 'requests in flight still answered');
  });
});

describe('/metrics in production without a token', () => {
  let t: TestApp;
  before(async () => {
    t = await testApp({ config: { production: true, metricsToken: undefined } });
  });
  after(async () => t.close());

  test('is not served', async () => {
    const res = await t.app.inject('/metrics');
    assert.equal(res.statusCode, 404);
    assert.equal((await t.app.inject('/healthz')).statusCode, 200, 'health checks still answer');
  });
});

describe('/metrics on a port of its own (METRICS_PORT)', () => {
  let t: TestApp;
  let listener: Awaited<ReturnType<typeof listenForMetrics>>;
  before(async () => {
    t = await testApp({ config: { production: true, metricsPort: 9999, metricsToken: undefined } });
    listener = await listenForMetrics(t.app, 0, '127.0.0.1');
  });
  after(async () => {
    await listener.close();
    await t.close();
  });

  test('served there without a token, and not at all on the site', async () => {
    assert.equal((await t.app.inject('/metrics')).statusCode, 404);
    await t.app.inject('/healthz');
    const res = await fetch(`http://127.0.0.1:${listener.port}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(await res.text(), /http_request_duration_seconds_bucket\{.*route="\/healthz"/);
    assert.equal((await fetch(`http://127.0.0.1:${listener.port}/`)).status, 404);
  });

  test('with METRICS_TOKEN set, the port asks for it too', async () => {
    const token = 'y'.repeat(20);
    const guarded = await listenForMetrics(t.app, 0, '127.0.0.1', token);
    try {
      const url = `http://127.0.0.1:${guarded.port}/metrics`;
      const none = await fetch(url);
      assert.equal(none.status, 401);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer');
      const wrong = await fetch(url, { headers: { authorization: `Bearer ${'z'.repeat(20)}` } });
      assert.equal(wrong.status, 401);
      const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(ok.status, 200);
      assert.match(await ok.text(), /^sp_requests_active \d+$/m);
    } finally {
      await guarded.close();
    }
  });
});
