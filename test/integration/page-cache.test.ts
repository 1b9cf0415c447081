import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type TestApp, testApp } from '../helpers/app.ts';

let t: TestApp;
let renders = 0;
let failing: 404 | 500 | 0 = 0;
before(async () => {
  t = await testApp({
    seed: true,
    before(app) {
      app.get(
        '/__test/cached',
        { config: { access: 'public', pageCache: 60 } },
        async (req, reply) => {
          renders++;
          return reply.render('error.njk', { title: `render ${renders}`, paragraphs: [] });
        },
      );
      // Cacheable, and fails until `failing` is cleared: an error must never be kept for the URL.
      app.get(
        '/__test/cached-flaky',
        { config: { access: 'public', pageCache: 60 } },
        async (req, reply) => {
          renders++;
          if (failing) {
            throw Object.assign(new Error('not there yet'), { statusCode: failing });
          }
          return reply.render('error.njk', { title: `render ${renders}`, paragraphs: [] });
        },
      );
      app.get(
        '/__test/form',
        { config: { access: 'public', pageCache: 60 } },
        async (_req, reply) => {
          renders++;
          return reply.render('form.njk');
        },
      );
    },
  });
});
after(async () => t.close());

const nonceOf = (csp: string) => /'nonce-([^']+)'/.exec(csp)![1]!;

test('a visitor gets the cached page with a fresh nonce on every response', async () => {
  renders = 0;
  const a = await t.app.inject('/__test/cached');
  const b = await t.app.inject('/__test/cached');
  assert.equal(renders, 1, 'rendered once');
  assert.match(a.body, /render 1/);
  assert.match(b.body, /render 1/);
  assert.equal(b.headers['x-page-cache'], 'hit');
  const na = nonceOf(a.headers['content-security-policy'] as string);
  const nb = nonceOf(b.headers['content-security-policy'] as string);
  assert.notEqual(na, nb);
  assert.ok(a.body.includes(`nonce="${na}"`));
  assert.ok(b.body.includes(`nonce="${nb}"`));
  assert.doesNotMatch(b.body, /__SP_NONCE_PLACEHOLDER__/);
});

test('each language and each URL has its own entry', async () => {
  renders = 0;
  await t.app.inject('/__test/cached?lang=cy');
  const cy = await t.app.inject('/__test/cached?lang=cy');
  assert.match(cy.body, /<html lang="cy"/);
  await t.app.inject('/__test/cached?page=2');
  assert.equal(renders, 2);
});

test('a signed-in visitor is never served from the cache', async () => {
  renders = 0;
  await t.app.inject('/__test/cached?x=signed');
  const res = await t.app.inject({
    url: '/__test/cached?x=signed',
    headers: { cookie: 'sp_session=abc' },
  });
  assert.equal(res.headers['x-page-cache'], undefined);
  assert.equal(renders, 2);
});

test('a page that made a CSRF token (a form) is never cached and carries its real nonce', async () => {
  renders = 0;
  const first = await t.app.inject('/__test/form');
  const second = await t.app.inject('/__test/form');
  assert.equal(renders, 2);
  assert.equal(second.headers['x-page-cache'], undefined);
  const nonce = nonceOf(second.headers['content-security-policy'] as string);
  assert.ok(second.body.includes(`nonce="${nonce}"`));
  assert.match(first.body, /name="_csrf" value="[^"]+"/);
});

test('an error page from a cacheable route is not kept: the next visitor gets the page', async () => {
  for (const status of [404, 500] as const) {
    renders = 0;
    failing = status;
    const url = `/__test/cached-flaky?status=${status}`;
    const first = await t.app.inject(url);
    assert.equal(first.statusCode, status);
    assert.doesNotMatch(first.body, /__SP_NONCE_PLACEHOLDER__/);
    const again = await t.app.inject(url);
    assert.equal(again.statusCode, status, 'still an error while the route fails');
    assert.equal(
      again.headers['x-page-cache'],
      undefined,
      'the error was not served from the cache',
    );
    failing = 0;
    const fixed = await t.app.inject(url);
    assert.equal(fixed.statusCode, 200);
    assert.equal(fixed.headers['x-page-cache'], undefined);
    assert.match(fixed.body, /render 3/);
    assert.equal(renders, 3, 'the handler ran for every request');
    const cached = await t.app.inject(url);
    assert.equal(cached.headers['x-page-cache'], 'hit', 'the good page is kept');
    assert.match(cached.body, /render 3/);
  }
});

test('a real cacheable route (/resources/:slug): its page is kept, its 404 is not', async () => {
  const [resource] = await t.database.query<{ slug: string }>(
    `SELECT slug FROM resources WHERE status = 'published' ORDER BY slug LIMIT 1`,
  );
  assert.ok(resource, 'a demo resource');
  await t.app.inject(`/resources/${resource.slug}`);
  const page = await t.app.inject(`/resources/${resource.slug}`);
  assert.equal(page.statusCode, 200);
  assert.equal(page.headers['x-page-cache'], 'hit', 'the route is cacheable');
  for (let i = 0; i < 2; i++) {
    const res = await t.app.inject('/resources/no-such-resource');
    assert.equal(res.statusCode, 404);
    assert.equal(res.headers['x-page-cache'], undefined, 'the 404 is rendered afresh');
    assert.doesNotMatch(res.body, /__SP_NONCE_PLACEHOLDER__/);
    const nonce = nonceOf(res.headers['content-security-policy'] as string);
    assert.ok(res.body.includes(`nonce="${nonce}"`), 'the 404 carries its own nonce');
  }
});
