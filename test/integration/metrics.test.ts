import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../helpers/app.ts';

const TOKEN = 'metrics-token-for-the-test-0123';

describe('/metrics with METRICS_TOKEN', () => {
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
