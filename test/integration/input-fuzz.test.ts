import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DEMO_PASSWORD } from '../../src/features/accounts/seed.ts';
import { safeNext } from '../../src/platform/auth.ts';
import { cleanText } from '../../src/platform/input.ts';
import { type TestApp, testApp } from '../helpers/app.ts';
import { signIn, submit } from '../helpers/session.ts';
import { enableTwoFactor } from '../helpers/totp.ts';

/**
 * Awkward text in every query string: NUL, lone surrogates, non-Latin-1
 * characters, in the parameters the site reads, on every GET route of the
 * route table, as a visitor and as an administrator (who reaches every staff
 * page). Nothing may answer 500. Then the same in forms: sign-in's `next`.
 */

let t: TestApp;
let admin: string;

before(async () => {
  t = await testApp({ seed: true });
  const secret = await enableTwoFactor(t.app, 'admin@example.org');
  admin = await signIn(t.app, 'admin@example.org', DEMO_PASSWORD, secret, '10.9.0.1');
});
after(async () => t.close());

const AWKWARD = ['%00', '%ED%A0%80', 'a%00b', '%E3%80%82x', '%F0%9F%98%80', '%FF', '%C0%AF', '%'];
const PARAMS = ['q', 'page', 'sort', 'near', 'topic', 'type', 'after', 'next', 'lang', 'when'];

test('cleanText drops NUL and mends lone surrogates; other text is left alone', () => {
  assert.equal(cleanText('a\u0000b'), 'ab');
  assert.equal(cleanText('x\uD800y'), 'x\uFFFDy');
  assert.equal(cleanText('\uDC00'), '\uFFFD');
  assert.equal(cleanText('gofal 😀 。 ŵ'), 'gofal 😀 。 ŵ');
});

test('safeNext keeps local paths, percent-encodes other characters, refuses the rest', () => {
  assert.equal(safeNext('/events?x=1', '/f'), '/events?x=1');
  assert.equal(safeNext('/。x', '/f'), '/%E3%80%82x');
  assert.equal(safeNext('/a\uD800', '/f'), '/f');
  assert.equal(safeNext('//evil.example', '/f'), '/f');
  assert.equal(safeNext('/\\evil', '/f'), '/f');
  assert.equal(safeNext('/a\u0000', '/f'), '/f');
  assert.equal(safeNext('https://evil.example', '/f'), '/f');
});

test('no GET route answers 500 to NUL, lone surrogates or non-Latin-1 text in its query', async () => {
  const routes = t.app.platform.routes.routes.filter(
    (r) => r.method === 'GET' && !r.url.includes(':') && !r.url.includes('*'),
  );
  assert.ok(routes.length > 30, 'the route table is read');
  const failures: string[] = [];
  for (const route of routes) {
    for (const [i, value] of AWKWARD.entries()) {
      const query = PARAMS.map((p) => `${p}=${value}`).join('&');
      const url = `${route.url}?${query}`;
      // Alternate visitor and administrator: both kinds of page are reached.
      const res = await t.app.inject({
        url,
        headers: i % 2 ? { cookie: admin } : {},
      });
      if (res.statusCode >= 500) failures.push(`${res.statusCode} ${url}`);
    }
  }
  assert.deepEqual(failures, []);
});

test('no GET route with path parameters answers 500 to awkward text in the path or the query', async () => {
  const routes = t.app.platform.routes.routes.filter(
    (r) => r.method === 'GET' && r.url.includes(':') && !r.url.includes('*'),
  );
  assert.ok(routes.length > 20, 'the route table is read');
  const failures: string[] = [];
  for (const route of routes) {
    for (const [i, value] of AWKWARD.entries()) {
      // '%' alone is not a path a client can send; its encoded form is.
      const inPath = value === '%' ? '%25' : value;
      const path = route.url.replace(/:[A-Za-z_]+/g, `x${inPath}`);
      const url = `${path}?${PARAMS.map((p) => `${p}=${value}`).join('&')}`;
      const res = await t.app.inject({ url, headers: i % 2 ? { cookie: admin } : {} });
      if (res.statusCode >= 500) failures.push(`${res.statusCode} ${url}`);
    }
  }
  assert.deepEqual(failures, []);
});

test('the staff search and the searches of resources and the community survive a NUL', async () => {
  for (const url of ['/resources?q=%00', '/community/search?q=%00', '/admin/users?q=%00']) {
    const res = await t.app.inject({ url, headers: { cookie: admin } });
    assert.ok(res.statusCode < 500, `${url}: ${res.statusCode}`);
  }
  const found = await t.app.inject('/resources?q=cont%00act');
  assert.equal(found.statusCode, 200);
  assert.match(found.body, /contact/i, 'the search runs on what is left');
});

test('signing in with next=/。x signs in and goes there, encoded', async () => {
  const { res } = await submit(
    t.app,
    '/account/sign-in?next=%2F%E3%80%82x',
    '/account/sign-in?next=%2F%E3%80%82x',
    { email: 'member@example.org', password: DEMO_PASSWORD, next: '/。x' },
    '',
    '10.9.0.2',
  );
  assert.equal(res.statusCode, 303);
  assert.equal(res.headers.location, '/%E3%80%82x');
  assert.ok(String(res.headers['set-cookie']).includes('sp_session='), 'and a session is made');
});
