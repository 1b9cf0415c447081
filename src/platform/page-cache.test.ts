import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import fp from 'fastify-plugin';
import { pageCachePlugin } from './page-cache.ts';
import { NONCE_PLACEHOLDER } from './views/index.ts';

/**
 * The page cache alone, over stand-ins for what it relies on: a language per
 * request, a nonce per response (from `nonce`), the views' "rendered with the
 * placeholder" flag.
 */
async function cacheOver(locale: 'en' | 'cy', nonce: () => string, maxBytes?: number) {
  const app = Fastify();
  await app.register(fp(async (a) => void a.decorateRequest('locale', locale), { name: 'i18n' }));
  await app.register(
    fp(
      async (a) => {
        a.decorateReply('scriptNonce', '');
        a.decorateReply('pageCacheable', false);
        a.decorateReply('usedNoncePlaceholder', false);
        a.addHook('onRequest', async (_req, reply) => {
          reply.scriptNonce = nonce();
        });
      },
      { name: 'security' },
    ),
  );
  await app.register(pageCachePlugin, {
    bypass: () => false,
    ...(maxBytes === undefined ? {} : { maxBytes }),
  });
  return app;
}

/** Pages of any size behind the cache: the memory it may hold is bounded in bytes, oldest first. */
async function appWithCache(maxBytes: number) {
  const app = await cacheOver('en', () => 'n0nce', maxBytes);
  let renders = 0;
  app.get<{ Params: { size: string } }>(
    '/page/:size',
    { config: { access: 'public', pageCache: 60 } },
    async (req, reply) => {
      renders++;
      reply.usedNoncePlaceholder = reply.pageCacheable;
      reply.type('text/html');
      return `<script nonce="${NONCE_PLACEHOLDER}"></script>${'x'.repeat(Number(req.params.size))}`;
    },
  );
  return { app, renders: () => renders };
}

test('pages are kept within the byte budget, the oldest dropped first', async () => {
  // (UTF-8 bytes are counted: a Welsh page's ŵ is two.)
  // 50 KB budget; each page is ~20 KB (UTF-8 bytes).
  const { app, renders } = await appWithCache(50_000);
  const get = (n: number) => app.inject(`/page/${20_000 + n}`);
  const first = await get(1);
  assert.match(first.body, /nonce="n0nce"/, 'the fresh nonce is put in');
  assert.equal((await get(1)).headers['x-page-cache'], 'hit');
  await get(2); // two pages: ~40 KB
  assert.equal((await get(2)).headers['x-page-cache'], 'hit');
  await get(3); // a third would pass 50 KB: page 1, the oldest, goes
  assert.equal((await get(3)).headers['x-page-cache'], 'hit');
  assert.equal((await get(2)).headers['x-page-cache'], 'hit', 'page 2 is still kept');
  const before = renders();
  assert.equal((await get(1)).headers['x-page-cache'], undefined, 'page 1 was dropped');
  assert.equal(renders(), before + 1);
});

test('a page bigger than the whole budget is served but never kept', async () => {
  const { app } = await appWithCache(10_000);
  const big = await app.inject('/page/12000'); // 12 KB
  assert.equal(big.statusCode, 200);
  assert.equal((await app.inject('/page/12000')).headers['x-page-cache'], undefined);
  assert.equal((await app.inject('/page/100')).statusCode, 200);
  assert.equal((await app.inject('/page/100')).headers['x-page-cache'], 'hit');
});

test('a page in Welsh comes back from the cache byte for byte, with a fresh nonce', async () => {
  let n = 0;
  const app = await cacheOver('cy', () => `nonce${++n}`);
  app.get('/croeso', { config: { access: 'public', pageCache: 60 } }, async (_req, reply) => {
    reply.usedNoncePlaceholder = reply.pageCacheable;
    reply.type('text/html; charset=utf-8');
    return `<p>Croeso i’r ŵyl</p><script nonce="${NONCE_PLACEHOLDER}"></script><i nonce="${NONCE_PLACEHOLDER}"></i>`;
  });
  const first = await app.inject('/croeso');
  const second = await app.inject('/croeso');
  assert.equal(second.headers['x-page-cache'], 'hit');
  assert.equal(
    first.body,
    '<p>Croeso i’r ŵyl</p><script nonce="nonce1"></script><i nonce="nonce1"></i>',
  );
  assert.equal(
    second.body,
    '<p>Croeso i’r ŵyl</p><script nonce="nonce2"></script><i nonce="nonce2"></i>',
  );
  assert.match(String(second.headers['content-type']), /text\/html; charset=utf-8/);
});

test('a copy of a page is written for one response at a time: never while another still sends it', async () => {
  let n = 0;
  let short = false;
  // As long as the placeholder, as the real ones are: the copies are written over.
  const app = await cacheOver('en', () =>
    short ? 'n0nce' : `nonce-${String(++n).padStart(18, '0')}`,
  );
  // A response can be held after the cache has sent it, before its bytes go out.
  let hold: Promise<void> | undefined;
  app.addHook('onSend', async (_req, _reply, payload) => {
    if (hold) await hold;
    return payload;
  });
  app.get('/p', { config: { access: 'public', pageCache: 60 } }, async (_req, reply) => {
    reply.usedNoncePlaceholder = reply.pageCacheable;
    reply.type('text/html');
    return `<script nonce="${NONCE_PLACEHOLDER}"></script><p>Page</p><i nonce="${NONCE_PLACEHOLDER}"></i>`;
  });
  const nonceIn = (res: { headers: Record<string, unknown>; body: string }, want: string) => {
    assert.equal(res.headers['x-page-cache'], 'hit');
    assert.equal(res.body, `<script nonce="${want}"></script><p>Page</p><i nonce="${want}"></i>`);
  };
  await app.inject('/p'); // kept (nonce 1)
  nonceIn(await app.inject('/p'), 'nonce-000000000000000002'); // a copy, lent, then back
  nonceIn(await app.inject('/p'), 'nonce-000000000000000003'); // that copy again
  // Response 4 is held after its nonce was written; 5 and 6 come and go meanwhile.
  let release!: () => void;
  hold = new Promise((r) => (release = r));
  const fourth = app.inject('/p');
  await new Promise((r) => setImmediate(r));
  const others = [app.inject('/p'), app.inject('/p')];
  await new Promise((r) => setImmediate(r));
  release();
  hold = undefined;
  nonceIn(await fourth, 'nonce-000000000000000004');
  const [fifth, sixth] = await Promise.all(others);
  nonceIn(fifth!, 'nonce-000000000000000005');
  nonceIn(sixth!, 'nonce-000000000000000006');
  // And a nonce of another length is put in as before (a copy of its own).
  short = true;
  const odd = await app.inject('/p');
  assert.equal(odd.body, '<script nonce="n0nce"></script><p>Page</p><i nonce="n0nce"></i>');
  short = false;
  nonceIn(await app.inject('/p'), 'nonce-000000000000000007');
});
