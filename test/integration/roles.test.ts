import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../helpers/app.ts';

describe('ROLES=worker: an instance that runs jobs and serves no pages', () => {
  let t: TestApp;
  before(async () => {
    t = await testApp({ config: { roles: { web: false, worker: true } } });
  });
  after(async () => t.close());

  test('health checks and /metrics answer; pages, assets and forms do not', async () => {
    assert.equal((await t.app.inject('/healthz')).statusCode, 200);
    assert.equal((await t.app.inject('/readyz')).statusCode, 200);
    assert.equal((await t.app.inject('/metrics')).statusCode, 200, 'open outside production');
    for (const url of [
      '/',
      '/services',
      '/account/sign-in',
      '/assets/leaflet/leaflet.css',
      '/healthz/x',
    ])
      assert.equal((await t.app.inject(url)).statusCode, 404, url);
    assert.equal(
      (await t.app.inject({ method: 'POST', url: '/account/sign-in', payload: {} })).statusCode,
      404,
    );
  });
});
