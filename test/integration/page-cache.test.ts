import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type TestApp, testApp } from '../helpers/app.ts';

let t: TestApp;
let renders = 0;
before(async () => {
  t = await testApp({
    before(app) {
      app.get(
        '/__test/cached',
        { config: { access: 'public', pageCache: 60 } },
        async (req, reply) => {
          renders++;
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

test('an error page from a cacheable route is not kept', async () => {
  const res = await t.app.inject('/__test/missing-thing');
  assert.equal(res.statusCode, 404);
  assert.doesNotMatch(res.body, /__SP_NONCE_PLACEHOLDER__/);
});
