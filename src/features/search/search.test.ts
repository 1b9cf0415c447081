import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DomUtils, parseDocument } from 'htmlparser2';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import { signIn, submit } from '../../../test/helpers/session.ts';
import { enableTwoFactor } from '../../../test/helpers/totp.ts';
import type { CurrentUser } from '../../platform/auth.ts';
import { foldWelsh, foldWelshWord } from '../../platform/search.ts';
import { DEMO_PASSWORD } from '../accounts/seed.ts';
import { expandSynonyms, markedHtml, normaliseQuery, welshQuery, welshSnippet } from './service.ts';

describe('words, without a database', () => {
  test('Welsh mutations fold to one form; English words are left alone', () => {
    const same = (...words: string[]) => {
      const forms = new Set(words.map(foldWelshWord));
      assert.equal(forms.size, 1, `${words.join(' / ')} → ${[...forms].join(', ')}`);
    };
    same('gofal', 'ofal', 'ngofal');
    same('cymorth', 'gymorth', 'nghymorth', 'chymorth');
    same('plentyn', 'blentyn', 'mhlentyn', 'phlentyn');
    same('tad', 'dad', 'nhad', 'thad');
    same('mam', 'fam');
    same('llys', 'lys');
    same('rhieni', 'rieni');
    same('Cymraeg', 'Gymraeg');
    same('teulu', 'deulu', 'nheulu', 'theulu');
    same('â', 'a');
    assert.notEqual(foldWelshWord('gofal'), foldWelshWord('cymorth'));
    assert.equal(foldWelsh('Cymorth i rieni’n'), 'cymorth i crieni n');
  });

  test('synonyms make variants of the query; quotes and "or" survive Welsh folding', () => {
    const groups = [
      ['fdac', 'family drug and alcohol court'],
      ['lac', 'looked after'],
    ];
    assert.deepEqual(expandSynonyms('fdac leeds', groups), [
      'fdac leeds',
      '"family drug and alcohol court" leeds',
    ]);
    assert.deepEqual(expandSynonyms('looked after children', groups), [
      'looked after children',
      'lac children',
    ]);
    assert.deepEqual(expandSynonyms('"fdac leeds"', groups), ['"fdac leeds"'], 'not inside quotes');
    assert.deepEqual(expandSynonyms('fdacs', groups), ['fdacs'], 'whole words only');
    assert.equal(welshQuery('"gofal plant" or -ofal'), '"cofal plant" or -cofal');
    assert.equal(normaliseQuery('  Gofal   ÂR  '), 'gofal ar');
  });

  test('snippets are escaped before the marks are made', () => {
    assert.equal(
      markedHtml('<img src=x onerror=alert(1)> \u0002contact\u0003 & "more"\n\nhere'),
      '&lt;img src=x onerror=alert(1)&gt; <mark>contact</mark> &amp; &quot;more&quot; here',
    );
    assert.equal(markedHtml('a\u0000b\u0001c'), 'abc');
    const s = welshSnippet(
      'Mae’r gwasanaeth yn cynnig cymorth i famau a thadau sydd angen gofal.',
      new Set(['cofal', 'pamau']),
    );
    assert.ok(s);
    assert.ok(s.includes('\u0002famau\u0003'));
    assert.ok(s.includes('\u0002gofal\u0003'));
    assert.equal(welshSnippet('Dim byd yma', new Set(['cofal'])), null);
  });
});

describe('the search pages', () => {
  let t: TestApp;
  const jar: Record<string, string> = {};
  const get = (url: string, who?: string) =>
    t.app.inject({ url, headers: who ? { cookie: jar[who]! } : {} });
  const resultLinks = (html: string) =>
    DomUtils.findAll(
      (el) => el.name === 'a' && /^\/search\/open\?/.test(el.attribs.href ?? ''),
      parseDocument(html).children,
    ).map((a) => new URLSearchParams(a.attribs.href!.split('?')[1]).get('to')!);
  let editor: CurrentUser;

  before(async () => {
    t = await testApp({ seed: true });
    jar.member = await signIn(t.app, 'member@example.org', DEMO_PASSWORD, undefined, '10.7.0.1');
    const secret = await enableTwoFactor(t.app, 'editor@example.org');
    jar.editor = await signIn(t.app, 'editor@example.org', DEMO_PASSWORD, secret, '10.7.0.2');
    const [row] = await t.database.query<{ id: string }>(
      `SELECT id FROM users WHERE email = 'editor@example.org'`,
    );
    editor = {
      id: row!.id,
      displayName: 'Editor',
      role: 'editor',
      approved: true,
      totpEnabled: true,
    };
  });
  after(async () => t.close());

  test('every page has the search box in its header, and it works without JavaScript', async () => {
    for (const path of ['/', '/resources', '/events', '/news', '/services']) {
      const res = await get(path);
      assert.equal(res.statusCode, 200, path);
      const form = DomUtils.findOne(
        (el) => el.name === 'form' && el.attribs.role === 'search',
        parseDocument(res.body).children,
      );
      assert.ok(form, `${path} has a search form`);
      assert.equal(form.attribs.method, 'get');
      assert.equal(form.attribs.action, '/search');
    }
    const res = await get('/search?q=farewell+contact');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['cache-control'], 'private, no-store');
    assert.match(res.body, /results? for “farewell contact”/);
    assert.match(res.body, /<mark>contact<\/mark>/i);
    assert.ok(resultLinks(res.body).some((u) => u.startsWith('/resources/')));
    const empty = await get('/search');
    assert.equal(empty.statusCode, 200);
    assert.doesNotMatch(empty.body, /results? for/);
  });

  test('filters by kind, with a count for each kind; pages keep the query', async () => {
    const all = await get('/search?q=contact');
    const onlyResources = await get('/search?q=contact&kind=resource');
    const links = resultLinks(onlyResources.body);
    assert.ok(links.length > 0);
    assert.ok(
      links.every((u) => u.startsWith('/resources/')),
      links.join(' '),
    );
    const count = /(\d+) results? for/.exec(onlyResources.body)![1];
    assert.match(all.body, new RegExp(`Resources \\(${count}\\)`));
    assert.match(onlyResources.body, /Clear filters/);
    // Many results: a second page, whose links keep the query and the filter.
    const total = Number(/(\d+) results? for/.exec(all.body)![1]);
    if (total > 10) {
      assert.match(all.body, /href="\/search\?q=contact&amp;page=2"/);
      const page2 = await get('/search?q=contact&page=2');
      assert.equal(page2.statusCode, 200);
      assert.notDeepEqual(resultLinks(page2.body), resultLinks(all.body));
    }
    // Nonsense in the query string is ignored, never an error.
    for (const q of ['kind=nope', 'date=soon', 'page=-3', 'page=99999', 'area=%00', 'q[]=x']) {
      const res = await get(`/search?q=contact&${q}`);
      assert.equal(res.statusCode, 200, q);
    }
  });

  test('filters by area and date', async () => {
    const wales = await get('/search?q=service&area=Wales&kind=service');
    const links = resultLinks(wales.body);
    assert.ok(links.length > 0);
    const inWales = await t.database.query<{ url: string }>(
      `SELECT url FROM search_documents WHERE 'Wales' = ANY(regions)`,
    );
    const walesUrls = new Set(inWales.map((r) => r.url));
    assert.ok(
      links.every((u) => walesUrls.has(u)),
      links.join(' '),
    );
    const upcoming = await get('/search?q=webinar&kind=event&date=upcoming');
    const eventUrls = resultLinks(upcoming.body);
    const future = await t.database.query<{ url: string }>(
      `SELECT url FROM search_documents WHERE kind = 'event' AND date >= now()`,
    );
    const futureUrls = new Set(future.map((r) => r.url));
    assert.ok(
      eventUrls.every((u) => futureUrls.has(u)),
      eventUrls.join(' '),
    );
  });

  test('Welsh pages, Welsh words', async () => {
    const res = await t.app.inject({ url: '/search?q=ofal', headers: { cookie: 'lang=cy' } });
    assert.equal(res.statusCode, 200);
    assert.ok(resultLinks(res.body).length > 0, '"ofal" finds "gofal"');
  });

  test('a result opened is counted for its query, without the person; only a result address is followed', async () => {
    await get('/search?q=farewell+contact');
    const to = resultLinks((await get('/search?q=farewell+contact')).body)[0]!;
    const open = await get(`/search/open?q=Farewell+contact&to=${encodeURIComponent(to)}`);
    assert.equal(open.statusCode, 303);
    assert.equal(open.headers.location, to);
    for (const bad of [
      'https://evil.example',
      '//evil.example',
      '/\\evil.example',
      '/not-a-result',
    ]) {
      const res = await get(`/search/open?q=x&to=${encodeURIComponent(bad)}`);
      assert.equal(res.statusCode, 303);
      assert.equal(res.headers.location, '/search?q=x', bad);
    }
    const [stats] = await t.database.query<{ searches: number }>(
      `SELECT searches FROM search_query_stats WHERE query = 'farewell contact'`,
    );
    assert.ok(stats!.searches >= 2);
    const [clicks] = await t.database.query<{ clicks: number }>(
      `SELECT clicks FROM search_click_stats WHERE query = 'farewell contact' AND url = $1`,
      [to],
    );
    assert.equal(clicks!.clicks, 1);
    const cols = await t.database.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_name IN ('search_query_stats', 'search_click_stats')`,
    );
    assert.ok(
      !cols.some((c) => /user|ip|session|person|agent/.test(c.column_name)),
      'no column about the person',
    );
  });

  test('unpublishing takes a resource out of the search at once', async () => {
    const [r] = await t.database.query<{ id: string; slug: string; title: string }>(
      `SELECT id, slug, title FROM resources WHERE status = 'published' AND title ILIKE '%contact%' ORDER BY title LIMIT 1`,
    );
    const q = `/search?q=${encodeURIComponent(`"${r!.title}"`)}&kind=resource`;
    assert.ok(resultLinks((await get(q)).body).includes(`/resources/${r!.slug}`));
    await t.app.services.resources.archive(editor, r!.id, true);
    assert.ok(!resultLinks((await get(q)).body).includes(`/resources/${r!.slug}`), 'gone at once');
    await t.app.services.search.settled();
    const [still] = await t.database.query(`SELECT 1 FROM search_documents WHERE url = $1`, [
      `/resources/${r!.slug}`,
    ]);
    assert.equal(still, undefined, 'and out of the index');
    await t.app.services.resources.archive(editor, r!.id, false);
    await t.app.services.search.settled();
    assert.ok(resultLinks((await get(q)).body).includes(`/resources/${r!.slug}`), 'back');
  });

  test('the resources, services and community searches find what the site search finds', async () => {
    // Every result link of a page under a prefix (a slug after it, not the list itself).
    const linksUnder = (html: string, prefix: RegExp) =>
      new Set(
        DomUtils.findAll(
          (el) => el.name === 'a' && prefix.test(el.attribs.href ?? ''),
          parseDocument(DomUtils.getOuterHTML(mainOf(html))).children,
        ).map((a) => a.attribs.href!.split(/[?#]/)[0]!),
      );
    const mainOf = (html: string) =>
      DomUtils.findOne((el) => el.name === 'main', parseDocument(html).children)!;
    const site = async (q: string, kind: string, who?: string) =>
      new Set(
        resultLinks((await get(`/search?q=${encodeURIComponent(q)}&kind=${kind}`, who)).body).map(
          (u) => u.split('#')[0]!,
        ),
      );
    // A synonym (FDAC), a Welsh mutation (ofal → gofal), a stem (removals → removal).
    for (const q of ['family drug and alcohol court', 'repeat removals', 'farewell contact']) {
      const there = await site(q, 'resource');
      const here = linksUnder(
        (await get(`/resources?q=${encodeURIComponent(q)}&sort=relevant`)).body,
        /^\/resources\/(?!topics\/|submit|mine)[\w-]+$/,
      );
      if (there.size < 10) assert.deepEqual([...here].sort(), [...there].sort(), `resources: ${q}`);
      else for (const u of here) assert.ok(there.size >= 10 || there.has(u), `${q}: ${u}`);
    }
    const fdacServices = await site('family drug and alcohol court', 'service');
    assert.ok(fdacServices.size > 0, 'the synonym finds FDAC services');
    const finder = linksUnder(
      (await get('/services?q=family+drug+and+alcohol+court')).body,
      /^\/services\/(?!coverage|map|changes|suggest)[\w-]+$/,
    );
    for (const u of fdacServices) assert.ok(finder.has(u), `the finder has ${u} too`);
    const threads = await site('letterbox', 'thread', 'member');
    assert.ok(threads.size > 0, 'a member finds threads');
    const posts = linksUnder(
      (await get('/community/search?q=letterbox', 'member')).body,
      /^\/community\/posts\/[0-9a-f-]{36}$/,
    );
    const threadsOfPosts = await t.database.query<{ id: string }>(
      `SELECT DISTINCT thread_id AS id FROM posts WHERE id = ANY($1::uuid[])`,
      [[...posts].map((u) => u.split('/').pop()!)],
    );
    assert.deepEqual(
      threadsOfPosts.map((r) => r.id).sort(),
      [...threads].map((u) => u.split('/').pop()!).sort(),
      'the community search: the same threads',
    );
  });

  test('editors see what people search for, and add synonyms and best bets', async () => {
    assert.equal((await get('/admin/search')).statusCode, 303, 'visitors are sent to sign in');
    assert.equal((await get('/admin/search', 'member')).statusCode, 403);
    await assert.rejects(() => t.app.services.search.insights(undefined), /Editors only/);
    await get('/search?q=zzqqxx+nothing');
    const page = await get('/admin/search', 'editor');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /zzqqxx nothing/);

    // Synonyms: one term is refused with a message, nothing stored.
    const before = (await t.database.query(`SELECT 1 FROM search_synonyms`)).length;
    const bad = await submit(
      t.app,
      '/admin/search',
      '/admin/search/synonyms',
      { terms: 'alone' },
      jar.editor,
    );
    assert.equal(bad.res.statusCode, 400);
    assert.match(bad.res.body, /Enter at least two different terms/);
    assert.match(bad.res.body, /value="alone"|>alone</);
    assert.equal((await t.database.query(`SELECT 1 FROM search_synonyms`)).length, before);
    // A term of several words that search would read as one common word is refused, named.
    const broad = await submit(
      t.app,
      '/admin/search',
      '/admin/search/synonyms',
      { terms: 'LAC\nlooked after' },
      jar.editor,
    );
    assert.equal(broad.res.statusCode, 400);
    assert.match(broad.res.body, /Search would read “looked after” as one common word/);
    assert.match(broad.res.body, /href="#terms"/);
    assert.equal((await t.database.query(`SELECT 1 FROM search_synonyms`)).length, before);
    const noCsrf = await t.app.inject({
      method: 'POST',
      url: '/admin/search/synonyms',
      headers: { cookie: jar.editor!, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'terms=a,b',
    });
    assert.equal(noCsrf.statusCode, 403);
    const made = await submit(
      t.app,
      '/admin/search',
      '/admin/search/synonyms',
      { terms: 'zorbing\nfarewell contact' },
      jar.editor,
    );
    assert.equal(made.res.statusCode, 303);
    const viaSynonym = await get('/search?q=zorbing');
    assert.ok(resultLinks(viaSynonym.body).length > 0, 'a synonym finds the other term');

    // Best bets: an unknown page is refused; a known one is shown first.
    const unknown = await submit(
      t.app,
      '/admin/search',
      '/admin/search/best-bets',
      { query: 'help', url: '/nowhere', title: '' },
      jar.editor,
    );
    assert.equal(unknown.res.statusCode, 400);
    assert.match(unknown.res.body, /Enter the address of a page that search can find/);
    const [doc] = await t.database.query<{ url: string; title: string }>(
      `SELECT url, title FROM search_documents WHERE kind = 'topic' ORDER BY url LIMIT 1`,
    );
    const bet = await submit(
      t.app,
      '/admin/search',
      '/admin/search/best-bets',
      { query: 'Where do I start', url: `http://localhost${doc!.url}`, title: '' },
      jar.editor,
    );
    assert.equal(bet.res.statusCode, 303);
    const shown = await get('/search?q=where+do+i+start');
    assert.match(shown.body, /Recommended/);
    assert.ok(resultLinks(shown.body).includes(doc!.url));
    const [row] = await t.database.query<{ id: number }>(`SELECT id FROM search_best_bets`);
    const gone = await submit(
      t.app,
      '/admin/search',
      `/admin/search/best-bets/${row!.id}/delete`,
      {},
      jar.editor,
    );
    assert.equal(gone.res.statusCode, 303);
    assert.doesNotMatch((await get('/search?q=where+do+i+start')).body, /Recommended/);
  });
});
