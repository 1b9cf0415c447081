import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { csrfFor, formRoute, type TestApp, testApp } from '../helpers/app.ts';

describe('platform: pages, headers, errors, health', () => {
  let t: TestApp;
  before(async () => {
    t = await testApp({
      before(app) {
        formRoute(app);
        app.get('/__test/boom', { config: { access: 'public', a11y: false } }, async () => {
          throw new Error('kaboom with secret detail');
        });
        app.post('/__test/echo', { config: { access: 'public', a11y: false } }, async (req) => ({
          ok: true,
          body: req.body,
        }));
      },
    });
  });
  after(async () => t.close());

  test('the home page renders the layout in English', async () => {
    const res = await t.app.inject('/');
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /text\/html/);
    assert.match(res.body, /<html lang="en"/);
    assert.match(res.body, /Skip to main content/);
    // The sections the features registered (Guidelines and News are not built yet: no link).
    for (const nav of ['Services', 'Resources', 'Community', 'Events']) {
      assert.match(res.body, new RegExp(`>\\s*${nav}\\s*<`), `navigation has ${nav}`);
    }
    assert.match(res.body, /href="\/privacy"/);
    assert.match(res.body, /href="\/accessibility"/);
    assert.doesNotMatch(res.body, /Crown copyright|govuk-logo|GOV\.UK/);
  });

  test('?lang=cy renders Welsh, sets <html lang="cy"> and is remembered in a cookie', async () => {
    const res = await t.app.inject('/?lang=cy');
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /<html lang="cy"/);
    assert.match(res.body, /Neidio i&#39;r prif gynnwys|Neidio i'r prif gynnwys/);
    assert.match(res.body, /Gwasanaethau/);
    const cookie = res.cookies.find((c) => c.name === 'lang');
    assert.equal(cookie?.value, 'cy');
    assert.equal(cookie?.httpOnly, true);
    const again = await t.app.inject({ url: '/privacy', headers: { cookie: 'lang=cy' } });
    assert.match(again.body, /<html lang="cy"/);
    const back = await t.app.inject({ url: '/?lang=en', headers: { cookie: 'lang=cy' } });
    assert.match(back.body, /<html lang="en"/);
  });

  test('the language link keeps the rest of the query string', async () => {
    const res = await t.app.inject('/privacy?x=1');
    assert.match(res.body, /href="\/privacy\?x=1&amp;lang=cy"/);
  });

  test('security headers: CSP with a fresh script nonce and no unsafe-inline, nosniff, referrer, frames', async () => {
    const a = await t.app.inject('/');
    const b = await t.app.inject('/');
    const csp = a.headers['content-security-policy'] as string;
    const script = /script-src ([^;]+)/.exec(csp)?.[1] ?? '';
    assert.match(script, /'nonce-[A-Za-z0-9+/=]+'/);
    assert.doesNotMatch(script, /unsafe-inline/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.notEqual(csp, b.headers['content-security-policy'], 'nonce differs per response');
    const nonce = /'nonce-([^']+)'/.exec(script)![1]!;
    for (const m of a.body.matchAll(/<script([^>]*)>/g)) {
      assert.match(
        m[1]!,
        new RegExp(`nonce="${nonce.replace(/[+/=]/g, '\\$&')}"`),
        'every script carries the nonce',
      );
    }
    assert.equal(a.headers['x-content-type-options'], 'nosniff');
    assert.equal(a.headers['referrer-policy'], 'strict-origin-when-cross-origin');
    assert.equal(a.headers['x-frame-options'], 'DENY');
    assert.equal(a.headers['strict-transport-security'], undefined, 'no HSTS outside production');
  });

  test('a POST without _csrf gets 403 and a page saying what to do; with it, the request goes through', async () => {
    const bad = await t.app.inject({ method: 'POST', url: '/__test/echo', payload: { a: '1' } });
    assert.equal(bad.statusCode, 403);
    assert.match(bad.body, /Your form could not be sent/);
    assert.match(bad.body, /reload the page and try again/);
    const { token, cookie } = await csrfFor(t.app, '/__test/form');
    const forged = await t.app.inject({
      method: 'POST',
      url: '/__test/echo',
      headers: { cookie },
      payload: { _csrf: 'not-the-token', a: '1' },
    });
    assert.equal(forged.statusCode, 403);
    const good = await t.app.inject({
      method: 'POST',
      url: '/__test/echo',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `_csrf=${encodeURIComponent(token)}&a=1`,
    });
    assert.equal(good.statusCode, 200);
    assert.equal((good.json() as { body: { a: string } }).body.a, '1');
  });

  test('404 is a page in the site style', async () => {
    const res = await t.app.inject('/no-such-page');
    assert.equal(res.statusCode, 404);
    assert.match(res.body, /Page not found/);
    assert.match(res.body, /govuk-template/);
    const cy = await t.app.inject('/no-such-page?lang=cy');
    assert.match(cy.body, /Heb ddod o hyd i&#39;r dudalen|Heb ddod o hyd i'r dudalen/);
  });

  test('a 500 shows no stack trace, shows the request id and logs the error with it', async () => {
    const res = await t.app.inject({
      url: '/__test/boom',
      headers: { 'x-request-id': 'req-abc-123' },
    });
    assert.equal(res.statusCode, 500);
    assert.match(res.body, /Sorry, there is a problem with the service/);
    assert.match(res.body, /req-abc-123/);
    assert.doesNotMatch(res.body, /kaboom|at .*\.ts:\d+/);
    const line = t.logs.find((l) => l.includes('kaboom'));
    assert.ok(line, 'the error is logged');
    assert.match(line, /"reqId":"req-abc-123"/);
    assert.match(line, /"stack"/);
  });

  test('/healthz answers 200 and /metrics answers Prometheus text', async () => {
    const h = await t.app.inject('/healthz');
    assert.equal(h.statusCode, 200);
    assert.deepEqual(h.json(), { status: 'ok' });
    await t.app.inject('/');
    const m = await t.app.inject('/metrics');
    assert.equal(m.statusCode, 200);
    assert.match(m.headers['content-type'] as string, /text\/plain; version=0\.0\.4/);
    assert.match(m.body, /# TYPE http_request_duration_seconds histogram/);
    assert.match(
      m.body,
      /http_request_duration_seconds_count\{method="GET",route="\/",status_code="200"\} \d+/,
    );
    assert.match(m.body, /process_cpu_user_seconds_total/);
  });

  test('static files: fingerprinted and cached as immutable; compressed when asked', async () => {
    const page = await t.app.inject('/');
    const css = /href="(\/assets\/app\.[0-9a-f]{10}\.css)"/.exec(page.body)?.[1];
    assert.ok(css, 'the layout links the fingerprinted stylesheet');
    const res = await t.app.inject({ url: css, headers: { 'accept-encoding': 'gzip' } });
    assert.equal(res.statusCode, 200);
    assert.match(
      res.headers['cache-control'] as string,
      /max-age=31536000.*immutable|immutable.*max-age=31536000/,
    );
    assert.equal(res.headers['content-encoding'], 'gzip');
    const govuk = await t.app.inject('/assets/govuk/govuk-frontend.min.js');
    assert.equal(govuk.statusCode, 200);
    const hidden = await t.app.inject('/assets/govuk/template.njk');
    assert.equal(hidden.statusCode, 404, 'only the script and images of the package are served');
  });

  test('logs carry request ids but no query strings, cookies or tokens', async () => {
    t.logs.length = 0;
    await t.app.inject({
      url: '/privacy?email=someone%40example.org&postcode=SA1+1AA',
      headers: { cookie: 'lang=en; secret=shh' },
    });
    await t.app.inject('/bookings/AbCdEfGhIjKlMnOpQrStUvWxYz012345');
    const all = t.logs.join('\n');
    assert.match(all, /"reqId":"[0-9a-f-]{36}"/);
    assert.doesNotMatch(all, /someone|example\.org|SA1|shh|AbCdEfGhIjKlMnOp/);
    assert.match(all, /\/bookings\/:token/);
  });

  test('/readyz is 200 while the database answers and 503 once it is gone', async () => {
    const ok = await t.app.inject('/readyz');
    assert.equal(ok.statusCode, 200);
    const own = await testApp();
    try {
      assert.equal((await own.app.inject('/readyz')).statusCode, 200);
      await own.database.close();
      const down = await own.app.inject('/readyz');
      assert.equal(down.statusCode, 503);
      assert.equal((down.json() as { database: string }).database, 'down');
    } finally {
      await own.close();
    }
  });
});
