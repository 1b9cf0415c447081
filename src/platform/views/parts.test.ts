import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import fp from 'fastify-plugin';
import nunjucks from 'nunjucks';
import { createNavigation } from '../navigation.ts';
import { addPieceTag, viewsPlugin } from './index.ts';
import { CSRF_PART_PLACEHOLDER } from './parts.ts';

/**
 * reply.part alone, over stand-ins: templates from memory, a language from the
 * `lang` query, a signed-in person and a CSRF token per request from view
 * context providers (as auth.ts and csrf.ts give them).
 */
const TEMPLATES: Record<string, string> = {
  'page.njk': '<main>{{ main }}</main><footer>{{ user }} {{ csrfToken() }}</footer>',
  'list.njk':
    '<ul>{% for i in items %}{% piece %}<li>{{ i }}</li>{% endpiece %}{% endfor %}</ul>{{ main }}',
  'part.njk':
    '<p>{{ t("hello") }} {{ thing }}</p><p>user:{{ user }}</p><form><input name="_csrf" value="{{ csrfToken() }}"></form>',
};

async function partsApp() {
  const env = new nunjucks.Environment(
    {
      getSource: (name: string) => ({ src: TEMPLATES[name]!, path: name, noCache: true }),
    } as unknown as nunjucks.ILoader,
    { autoescape: true },
  );
  addPieceTag(env);
  const app = Fastify();
  let tokens = 0;
  await app.register(
    fp(async (a) => {
      a.decorateRequest('locale', 'en');
      a.decorateRequest('t', null as never);
      a.decorateReply('scriptNonce', '');
      a.addHook('onRequest', async (req) => {
        const lang = (req.query as { lang?: string }).lang === 'cy' ? 'cy' : 'en';
        req.locale = lang;
        req.t = ((key: string) => `${lang}:${key}`) as never;
      });
    }),
  );
  await app.register(viewsPlugin, {
    env,
    assets: { url: (n: string) => `/${n}` },
    navigation: createNavigation(),
  });
  app.addViewContext((req) => ({ user: `person-${String((req.query as { who?: string }).who)}` }));
  // One token a response, as csrf.ts makes it: for the page's forms and the parts' alike.
  const made = new WeakMap<object, string>();
  const tokenOf = (reply: object) => {
    if (!made.has(reply)) made.set(reply, `token-${++tokens}`);
    return made.get(reply)!;
  };
  app.setFormToken(tokenOf);
  app.addViewContext((_req, reply) => ({ csrfToken: () => tokenOf(reply) }));
  app.get<{ Querystring: { items?: string } }>('/list', async (req, reply) => {
    const main = await reply.part('list.njk', undefined, () => ({ items: ['in a part'] }));
    return reply.render('list.njk', { items: (req.query.items ?? '').split(','), main });
  });
  let draws = 0;
  app.get<{ Querystring: { key?: string; thing?: string } }>('/', async (req, reply) => {
    const main = await reply.part('part.njk', req.query.key, () => {
      draws++;
      return req.query.thing === 'none' ? undefined : { thing: req.query.thing ?? 'one' };
    });
    if (!main) return reply.code(404).send('nothing');
    return reply.render('page.njk', { main });
  });
  return { app, draws: () => draws };
}

test('a part is drawn once for its key and language, and every time without a key', async () => {
  const { app, draws } = await partsApp();
  const first = await app.inject('/?key=k1&thing=one');
  assert.match(first.body, /<p>en:hello one<\/p>/);
  // The same key: kept (even though the request would draw something else).
  const again = await app.inject('/?key=k1&thing=two');
  assert.match(again.body, /<p>en:hello one<\/p>/);
  assert.equal(draws(), 1);
  // Another language is another part.
  const welsh = await app.inject('/?key=k1&thing=two&lang=cy');
  assert.match(welsh.body, /<p>cy:hello two<\/p>/);
  assert.equal(draws(), 2);
  // Another key, another part.
  assert.match((await app.inject('/?key=k2&thing=three')).body, /hello three/);
  assert.equal(draws(), 3);
  // No key: drawn afresh each time, never kept.
  await app.inject('/?thing=four');
  await app.inject('/?thing=four');
  assert.equal(draws(), 5);
  // Nothing to draw: no part, and nothing kept for the key.
  assert.equal((await app.inject('/?key=k3&thing=none')).statusCode, 404);
  assert.equal((await app.inject('/?key=k3&thing=none')).statusCode, 404);
  assert.equal(draws(), 7);
  await app.close();
});

test('a part is drawn without the person, and each reader gets their own CSRF token in it', async () => {
  const { app } = await partsApp();
  const alice = await app.inject('/?key=k&who=alice');
  const bob = await app.inject('/?key=k&who=bob');
  for (const [res, who] of [
    [alice, 'alice'],
    [bob, 'bob'],
  ] as const) {
    // The page around the part knows the person; the part never does.
    assert.match(res.body, new RegExp(`<footer>person-${who} token-\\d+</footer>`));
    assert.match(res.body, /<p>user:<\/p>/);
    assert.ok(!res.body.includes(CSRF_PART_PLACEHOLDER), 'no placeholder is ever sent');
  }
  const token = (body: string) => /name="_csrf" value="([^"]+)"/.exec(body)?.[1] ?? '';
  assert.match(token(alice.body), /^token-\d+$/);
  assert.match(token(bob.body), /^token-\d+$/);
  assert.notEqual(token(alice.body), token(bob.body), 'bob, reading the kept part, has his own');
  // The part's forms and the page's have the one token of the response.
  for (const res of [alice, bob])
    assert.ok(res.body.includes(`${token(res.body)}</footer>`), 'the same token in page and part');
  await app.close();
});

test('a kept part is sent as UTF-8 where the page puts it, and its mark never reaches the reader', async () => {
  const { app, draws } = await partsApp();
  // Long and Welsh (ŵ and ’ are outside Latin-1): more than 64K characters.
  const thing = 'Croeso i’r ŵyl '.repeat(5000);
  for (let i = 0; i < 2; i++) {
    const res = await app.inject(`/?key=long&lang=cy&thing=${encodeURIComponent(thing)}`);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(Number(res.headers['content-length']), res.rawPayload.length);
    assert.ok(res.body.startsWith(`<main><p>cy:hello ${thing}</p><p>user:</p><form>`));
    assert.match(res.body, /<\/form><\/main><footer>person-undefined token-\d+<\/footer>$/);
    assert.ok(!res.body.includes('sp-part'), 'no mark is sent');
  }
  assert.equal(draws(), 1, 'the second page used the kept bytes');
  await app.close();
});

test('each {% piece %} of a page is sent in its place, and the pieces of a part stay in its text', async () => {
  const { app } = await partsApp();
  const items = ['Croeso i’r ŵyl', '<b>bold</b>', 'x'.repeat(70_000)];
  const res = await app.inject(`/list?items=${encodeURIComponent(items.join(','))}`);
  const escaped = items.map((i) => i.replace('<b>', '&lt;b&gt;').replace('</b>', '&lt;/b&gt;'));
  assert.equal(
    res.body,
    `<ul>${escaped.map((i) => `<li>${i}</li>`).join('')}</ul><ul><li>in a part</li></ul>`,
  );
  assert.equal(Number(res.headers['content-length']), Buffer.byteLength(res.body));
  await app.close();
});
