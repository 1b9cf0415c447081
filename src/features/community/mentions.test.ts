import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import { signIn } from '../../../test/helpers/session.ts';
import { DEMO_PASSWORD } from '../accounts/seed.ts';
import { MAX_SUGGESTIONS, searchText } from './mentions.ts';

/**
 * @mention suggestions (`GET /community/{space}/mentions?q=`): who may ask,
 * what is checked, and above all whose names may come back. The demo content
 * plus a few people made here, each standing for one privacy rule.
 */

const SPACE = 'reproductive-and-sexual-health';
const OTHER = 'wales-network';
const JSON_ACCEPT = { accept: 'application/json' };

describe('@mention suggestions', () => {
  let t: TestApp;
  const jar: Record<string, string> = {};

  /** GET the suggestions as the page's script does (Accept: JSON). */
  const ask = (slug: string, q: string | undefined, who?: string, extra = '') =>
    t.app.inject({
      url: `/community/${slug}/mentions${q === undefined ? '' : `?q=${encodeURIComponent(q)}`}${extra}`,
      headers: { ...JSON_ACCEPT, ...(who ? { cookie: jar[who]! } : {}) },
    });
  const names = async (slug: string, q: string, who = 'member') => {
    const res = await ask(slug, q, who);
    assert.equal(res.statusCode, 200, res.body);
    return (res.json() as { suggestions: { name: string }[] }).suggestions.map((s) => s.name);
  };

  /** A member made for a test: approved unless told otherwise, listed in the directory or not. */
  async function person(
    email: string,
    displayName: string,
    opts: { listed?: boolean; approved?: boolean; kind?: 'parent' | 'practitioner' } = {},
  ) {
    const { user } = await t.app.services.accounts.createUserDirect({
      email,
      displayName,
      role: 'member',
      password: DEMO_PASSWORD,
      kind: opts.kind ?? 'practitioner',
      approved: opts.approved ?? true,
    });
    if (opts.listed)
      await t.database.query(
        `INSERT INTO member_profiles (user_id, listed, interests) VALUES ($1, true, 'test')`,
        [user.id],
      );
    return user.id;
  }
  /** A post by `authorId` in the first thread of the space, with this status and anonymity. */
  async function postIn(
    slug: string,
    authorId: string,
    opts: { anonymous?: boolean; status?: string; threadHidden?: boolean } = {},
  ) {
    const [thread] = await t.database.query<{ id: string }>(
      `SELECT t.id FROM threads t JOIN community_spaces s ON s.id = t.space_id
       WHERE s.slug = $1 AND NOT t.hidden ORDER BY t.created_at LIMIT 1`,
      [slug],
    );
    let threadId = thread!.id;
    if (opts.threadHidden) {
      const [made] = await t.database.query<{ id: string }>(
        `INSERT INTO threads (space_id, title, author_id, hidden)
         SELECT id, 'A hidden thread', $2, true FROM community_spaces WHERE slug = $1 RETURNING id`,
        [slug, authorId],
      );
      threadId = made!.id;
    }
    await t.database.query(
      `INSERT INTO posts (thread_id, number, author_id, anonymous, body, body_html, status)
       VALUES ($1, (SELECT coalesce(max(number), 0) + 1 FROM posts WHERE thread_id = $1), $2, $3,
               'Hello', '<p>Hello</p>', $4)`,
      [threadId, authorId, opts.anonymous ?? false, opts.status ?? 'visible'],
    );
  }

  before(async () => {
    t = await testApp({ seed: true });
    jar.member = await signIn(t.app, 'member@example.org', DEMO_PASSWORD, undefined, '10.9.0.1');
    jar.parent = await signIn(t.app, 'parent@example.org', DEMO_PASSWORD, undefined, '10.9.0.2');
    jar.unapproved = await signIn(
      t.app,
      'pending@example.org',
      DEMO_PASSWORD,
      undefined,
      '10.9.0.3',
    );
    // One person for each rule.
    await person('listed@example.org', 'Xavier Listed', { listed: true });
    await person('quiet@example.org', 'Xena Quiet');
    const poster = await person('poster@example.org', 'Xander Poster');
    await postIn(SPACE, poster);
    const held = await person('held@example.org', 'Xiomara Held');
    await postIn(SPACE, held, { status: 'pending' });
    await postIn(SPACE, held, { status: 'hidden' });
    const hiddenThread = await person('hiddenthread@example.org', 'Xerxes Hiddenthread');
    await postIn(SPACE, hiddenThread, { threadHidden: true });
    const anon = await person('anon@example.org', 'Xanthe Anonymous', { kind: 'parent' });
    await postIn('parents-panel', anon, { anonymous: true });
    await postIn(SPACE, anon, { anonymous: true });
    const suspended = await person('suspended@example.org', 'Xylia Suspended', { listed: true });
    await postIn(SPACE, suspended);
    await t.database.query(`UPDATE users SET status = 'suspended' WHERE id = $1`, [suspended]);
    const unapproved = await person('waiting@example.org', 'Xenia Waiting', {
      listed: true,
      approved: false,
    });
    await postIn(SPACE, unapproved);
    await person('manners@example.org', 'Many Manners', { listed: true });
    for (let i = 1; i <= MAX_SUGGESTIONS + 3; i++)
      await person(`many${i}@example.org`, `Quillon Many ${String(i).padStart(2, '0')}`, {
        listed: true,
      });
  });
  after(async () => t.close());

  test('visitors, unapproved members and members outside a private group are refused, in JSON', async () => {
    const visitor = await ask(SPACE, 'de');
    assert.equal(visitor.statusCode, 401);
    assert.match(String(visitor.headers['content-type']), /^application\/json/);
    assert.equal(visitor.json().error, 'signIn');
    assert.ok(visitor.json().message);
    assert.equal(visitor.headers['cache-control'], 'private, no-store');
    // A space anyone may read is still not one a visitor may write in.
    const publicSpace = await ask('contact-and-keeping-links', 'de');
    assert.equal(publicSpace.statusCode, 401);
    // Opened as a page (not asked for JSON), a visitor is sent to sign in like everywhere else.
    const page = await t.app.inject({ url: `/community/${SPACE}/mentions?q=de` });
    assert.equal(page.statusCode, 303);
    assert.match(String(page.headers.location), /^\/account\/sign-in\?next=/);

    for (const slug of [SPACE, 'contact-and-keeping-links']) {
      const waiting = await ask(slug, 'de', 'unapproved');
      assert.equal(waiting.statusCode, 403, slug);
      assert.equal(waiting.json().error, 'approval');
      assert.equal(waiting.headers['cache-control'], 'private, no-store');
    }
    const outside = await ask('parents-panel', 'de', 'member');
    assert.equal(outside.statusCode, 403);
    assert.equal(outside.json().error, 'group');
    assert.doesNotMatch(outside.body, /Demo|Parent/);
    const inside = await ask('parents-panel', 'de', 'parent');
    assert.equal(inside.statusCode, 200, 'a member of the group may ask');

    const unknown = await ask('no-such-space', 'de', 'member');
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error, 'notFound');
    assert.equal((await ask('Not_A_Slug', 'de', 'member')).statusCode, 404);
  });

  test('the text looked for: 1 to 50 characters, else 400 with a message', async () => {
    for (const q of [undefined, '', '   ', 'x'.repeat(51)]) {
      const res = await ask(SPACE, q, 'member');
      assert.equal(res.statusCode, 400, `q=${q}`);
      assert.equal(res.json().error, 'badQuery');
      assert.match(res.json().message, /1 and 50 characters/);
      assert.equal(res.headers['cache-control'], 'private, no-store');
    }
    const repeated = await ask(SPACE, 'de', 'member', '&q=mo');
    assert.equal(repeated.statusCode, 400, 'one q only');
    const welsh = await t.app.inject({
      url: `/community/${SPACE}/mentions?q=&lang=cy`,
      headers: { ...JSON_ACCEPT, cookie: jar.member! },
    });
    assert.equal(welsh.statusCode, 400);
    assert.match(welsh.json().message, /Teipiwch/);
    assert.equal((await ask(SPACE, 'x'.repeat(50), 'member')).statusCode, 200);
    assert.equal((await ask(SPACE, 'D', 'member')).statusCode, 200, 'one character is enough');
    assert.equal((await ask(SPACE, '%_\\', 'member')).json().suggestions.length, 0);
    assert.equal(searchText('  Demo   Mo '), 'Demo Mo');
  });

  test('suggests members listed in the directory, by the start of their name or of a word in it', async () => {
    assert.deepEqual(await names(SPACE, 'xavier'), ['Xavier Listed']);
    assert.deepEqual(await names(SPACE, 'LIST'), ['Xavier Listed'], 'a later word, any case');
    assert.deepEqual(await names(OTHER, 'xav'), ['Xavier Listed'], 'in every space');
    assert.deepEqual(await names(SPACE, 'avier'), [], 'not from the middle of a word');
    assert.deepEqual(await names(SPACE, 'xavier l'), ['Xavier Listed'], 'several words');
    // The demo's listed moderator, from the seeded directory.
    assert.ok((await names(OTHER, 'moder')).includes('Demo Moderator'));
  });

  test('a member not in the directory is suggested only where they wrote a visible, named post', async () => {
    assert.deepEqual(await names(SPACE, 'xena'), [], 'not listed, never posted');
    assert.deepEqual(await names(SPACE, 'xander'), ['Xander Poster'], 'posted here');
    assert.deepEqual(await names(OTHER, 'xander'), [], 'but not in another space');
    assert.deepEqual(await names(SPACE, 'xiomara'), [], 'only waiting and hidden posts');
    assert.deepEqual(await names(SPACE, 'xerxes'), [], 'only in a hidden thread');
  });

  test('never the author of an anonymous post, a suspended or unapproved account, or the asker', async () => {
    assert.deepEqual(await names(SPACE, 'xanthe'), [], 'anonymous in this space');
    assert.deepEqual(
      await names('parents-panel', 'xanthe', 'parent'),
      [],
      'anonymous in the group',
    );
    assert.deepEqual(await names('parents-panel', 'anonymous', 'parent'), []);
    assert.deepEqual(await names(SPACE, 'xylia'), [], 'suspended (listed, and posted here)');
    assert.deepEqual(await names(SPACE, 'xenia'), [], 'unapproved (listed, and posted here)');
    // The demo member is listed: everyone else may find them, they never find themself.
    assert.deepEqual(await names(SPACE, 'demo pract'), []);
    assert.ok((await names(SPACE, 'demo pract', 'parent')).includes('Demo Practitioner'));
    assert.ok(!(await names(SPACE, 'demo')).includes('Demo Practitioner'));
  });

  test('names only: no email address, no id, and the answer is never cached', async () => {
    for (const q of ['x', 'demo', 'q', 'example', '@', 'member@example.org']) {
      const res = await ask(SPACE, q, 'member');
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['cache-control'], 'private, no-store');
      assert.doesNotMatch(res.body, /@|example\.org/, `q=${q}`);
      for (const s of (res.json() as { suggestions: object[] }).suggestions)
        assert.deepEqual(Object.keys(s), ['name']);
    }
  });

  test(`at most ${MAX_SUGGESTIONS} names, those starting with the text first`, async () => {
    const many = await names(SPACE, 'quil');
    assert.equal(many.length, MAX_SUGGESTIONS);
    assert.deepEqual(
      many,
      Array.from({ length: MAX_SUGGESTIONS }, (_, i) => `Quillon Many 0${i + 1}`),
    );
    // A name starting with the text comes before names with it as a later word.
    assert.deepEqual(await names(SPACE, 'many'), [
      'Many Manners',
      ...Array.from({ length: MAX_SUGGESTIONS - 1 }, (_, i) => `Quillon Many 0${i + 1}`),
    ]);
  });

  test('the post boxes carry the endpoint and their sentences; the script loads only with a post box', async () => {
    const [thread] = await t.database.query<{ id: string }>(
      `SELECT t.id FROM threads t JOIN community_spaces s ON s.id = t.space_id
       WHERE s.slug = 'contact-and-keeping-links' AND NOT t.hidden ORDER BY t.created_at LIMIT 1`,
    );
    const url = `/community/contact-and-keeping-links/${thread!.id}`;
    const member = await t.app.inject({ url, headers: { cookie: jar.member! } });
    assert.equal(member.statusCode, 200);
    assert.match(member.body, /data-mentions="\/community\/contact-and-keeping-links\/mentions"/);
    assert.match(member.body, /<script type="module" src="\/assets\/mentions\.[0-9a-f]+\.js"/);
    const found = /data-mentions-found="([^"]+)"/.exec(member.body)![1]!.replaceAll('&quot;', '"');
    const sentences = JSON.parse(found) as string[];
    assert.equal(sentences.length, MAX_SUGGESTIONS + 1);
    assert.equal(sentences[0], 'No names found');
    assert.equal(sentences[1], '1 name found');
    assert.equal(sentences[3], '3 names found');
    assert.match(member.body, /data-mentions-label="Names you can mention"/);

    const welsh = await t.app.inject({ url: `${url}?lang=cy`, headers: { cookie: jar.member! } });
    assert.match(welsh.body, /data-mentions-label="Enwau y gallwch eu crybwyll"/);
    assert.match(welsh.body, /Wedi dod o hyd i 2 enw/);

    const visitor = await t.app.inject({ url });
    assert.equal(visitor.statusCode, 200, 'a space anyone may read');
    assert.doesNotMatch(visitor.body, /data-mentions|mentions\.[0-9a-f]+\.js/);

    const form = await t.app.inject({
      url: `/community/${SPACE}/new`,
      headers: { cookie: jar.member! },
    });
    assert.equal(form.statusCode, 200);
    assert.match(form.body, new RegExp(`data-mentions="/community/${SPACE}/mentions"`));
    assert.match(form.body, /mentions\.[0-9a-f]+\.js/);
  });
});
