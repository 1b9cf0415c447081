import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import type { CurrentUser } from '../../platform/auth.ts';
import type { SearchChanged, SearchDocument, SearchSource } from '../../platform/search.ts';
import { createArticlesRepository } from './repository.ts';
import { createArticlesService, searchText } from './service.ts';

/** Every document, a page of `limit` at a time, as a rebuild reads them. */
async function all(source: SearchSource, limit: number): Promise<SearchDocument[]> {
  const out: SearchDocument[] = [];
  let afterId: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const rows = await source.documents({ ...(afterId ? { after: afterId } : {}), limit });
    assert.ok(rows.length <= limit, 'never more than the limit');
    out.push(...rows);
    if (rows.length < limit) return out;
    afterId = rows.at(-1)!.id;
  }
  throw new Error('documents never ended');
}

describe('articles: the site search source', () => {
  let t: TestApp;
  let source: SearchSource;
  const editor: CurrentUser = {
    id: '',
    displayName: 'Editor',
    role: 'editor',
    approved: true,
    totpEnabled: true,
  };
  const ids = async (where: string) =>
    (
      await t.database.query<{ id: string }>(`SELECT id FROM articles WHERE ${where} ORDER BY id`)
    ).map((r) => r.id);

  /** The articles service over the test's database, telling the search through `searchChanged`. */
  const serviceWith = (searchChanged: SearchChanged) =>
    createArticlesService({
      repo: createArticlesRepository(t.database.db),
      transaction: (work) => t.database.transaction(work),
      mailer: t.app.platform.mailer,
      jobs: { ...t.app.platform.jobs, register: () => {} },
      i18n: t.app.platform.i18n,
      baseUrl: 'http://localhost',
      topics: async () => [],
      places: { authorities: async () => [], service: async () => undefined },
      guidelineStatements: async () => [],
      people: {
        person: async () => undefined,
        people: async () => new Map(),
        contacts: async () => new Map(),
        setting: async () => undefined,
        putSetting: async () => {},
        audit: async () => {},
      },
      searchChanged,
    });

  before(async () => {
    t = await testApp({ seed: true });
    source = t.app.services.articles.searchSource();
    const [e] = await t.database.query<{ id: string }>(
      `SELECT id FROM users WHERE email = 'editor@example.org'`,
    );
    editor.id = e!.id;
  });
  after(async () => t.close());

  test('pages through every public article in id order, and nothing else', async () => {
    const publicIds = await ids(`status IN ('published', 'scheduled') AND publish_at <= now()`);
    const hidden = await ids(`NOT (status IN ('published', 'scheduled') AND publish_at <= now())`);
    assert.ok(publicIds.length >= 3, 'the demo has public articles');
    assert.ok(hidden.length >= 2, 'the demo has a proposal and a scheduled article');
    const docs = await all(source, 2);
    assert.deepEqual(
      docs.map((d) => d.id),
      publicIds,
    );
    const sorted = [...docs.map((d) => d.id)].sort();
    assert.deepEqual(
      docs.map((d) => d.id),
      sorted,
      'in id order',
    );
    for (const id of hidden) assert.ok(!docs.some((d) => d.id === id), `${id} is not public`);
  });

  test('each document: its kind, address, words as plain text, places, date; public', async () => {
    const rows = await t.database.query<{
      id: string;
      kind: string;
      slug: string;
      title: string;
      standfirst: string;
      body: string;
      language: string;
      authorities: string[];
      publish_at: Date;
    }>(
      `SELECT id, kind, slug, title, standfirst, body, language, authorities, publish_at
       FROM articles WHERE status = 'published' AND publish_at <= now()`,
    );
    const docs = new Map((await all(source, 100)).map((d) => [d.id, d]));
    for (const a of rows) {
      const d = docs.get(a.id);
      assert.ok(d, a.title);
      assert.equal(d.kind, a.kind);
      assert.equal(d.url, `/${a.kind === 'news' ? 'news' : 'stories'}/${a.slug}`);
      assert.equal(d.typeLabel, a.kind === 'news' ? 'News' : 'Practice story');
      assert.equal(d.typeLabelCy, a.kind === 'news' ? 'Newyddion' : 'Stori ymarfer');
      assert.equal(d.title, a.title);
      assert.equal(d.summary, a.standfirst);
      assert.equal(d.language, a.language);
      assert.deepEqual(d.authorities, a.authorities);
      assert.equal(d.date?.getTime(), new Date(a.publish_at).getTime());
      assert.equal(d.access, 'public');
      assert.ok(d.body && d.body.length > 20, 'the body is indexed');
      assert.doesNotMatch(d.body, /<[a-z/]|\*\*|\]\(|&amp;|&lt;|&quot;/i, 'plain text');
    }
    assert.ok(
      rows.some((a) => a.authorities.length),
      'the demo has an article about a place',
    );
    // Every address is a page anyone can open.
    for (const d of docs.values()) {
      const res = await t.app.inject({ url: d.url });
      assert.equal(res.statusCode, 200, d.url);
    }
  });

  test('markdown becomes plain words', () => {
    assert.equal(
      searchText('## A heading\n\nTom & Jerry **bold** [a link](https://x.org) <b>x</b> "q"'),
      'A heading Tom & Jerry bold a link <b>x</b> "q"',
    );
  });

  test('documents by ids: only the public ones among them', async () => {
    const [pub] = await ids(`status = 'published' AND publish_at <= now()`);
    const [proposal] = await ids(`status = 'submitted'`);
    const [future] = await ids(`status = 'scheduled' AND publish_at > now()`);
    const docs = await source.documents({
      ids: [future!, proposal!, pub!, '00000000-0000-0000-0000-000000000000', 'not-an-id'],
      limit: 10,
    });
    assert.deepEqual(
      docs.map((d) => d.id),
      [pub],
    );
    assert.deepEqual(await source.documents({ ids: [], limit: 10 }), []);
  });

  test('openable: public articles for anyone, the rest for no one', async () => {
    const [pub] = await ids(`status = 'published' AND publish_at <= now()`);
    const [proposal] = await ids(`status = 'submitted'`);
    const [future] = await ids(`status = 'scheduled' AND publish_at > now()`);
    for (const viewer of [undefined, editor]) {
      const open = await source.openable([pub!, proposal!, future!, 'x'], viewer);
      assert.deepEqual([...open], [pub]);
    }
  });

  test('a scheduled article is found once its time has come, not before', async () => {
    const [future] = await ids(`status = 'scheduled' AND publish_at > now()`);
    const articles = t.app.services.articles;
    const [row] = await t.database.query<{ publish_at: Date }>(
      `SELECT publish_at FROM articles WHERE id = $1`,
      [future!],
    );
    const at = new Date(row!.publish_at);
    // (The demo dates a scheduled article's last change at its publication time.)
    await t.database.query(
      `UPDATE articles SET updated_at = now() - interval '1 day' WHERE id = $1`,
      [future!],
    );
    try {
      articles.setClock(() => new Date(at.getTime() - 60_000));
      assert.equal((await source.documents({ ids: [future!], limit: 1 })).length, 0);
      assert.equal((await source.openable([future!], undefined)).size, 0);
      const since = new Date(at.getTime() - 120_000);
      assert.ok(!(await source.changedSince!(since, 100)).includes(future!));
      articles.setClock(() => new Date(at.getTime() + 60_000));
      assert.equal((await source.documents({ ids: [future!], limit: 1 })).length, 1);
      assert.equal((await source.openable([future!], undefined)).size, 1);
      // Its time coming is a change, though no row changed.
      assert.ok((await source.changedSince!(since, 100)).includes(future!));
    } finally {
      articles.setClock();
    }
  });

  test('changedSince: articles changed since then, published or not', async () => {
    const [pub] = await ids(`status = 'published' AND publish_at <= now()`);
    const since = new Date(Date.now() - 1000);
    assert.ok(!(await source.changedSince!(new Date(Date.now() + 60_000), 100)).includes(pub!));
    await t.database.query(`UPDATE articles SET updated_at = now() WHERE id = $1`, [pub!]);
    assert.ok((await source.changedSince!(since, 100)).includes(pub!));
  });

  test('publishing, scheduling, archiving and the job tell the search, after the commit', async () => {
    const calls: { source: string; ids: string[]; committed: Promise<string | undefined> }[] = [];
    const recorded = serviceWith((s, changed) => {
      // Read from outside the unit of work: inside it, this would wait or throw (PGlite).
      const committed = t.database
        .query<{ status: string }>(`SELECT status FROM articles WHERE id = $1`, [changed[0]!])
        .then((r) => r[0]?.status);
      committed.catch(() => {});
      calls.push({ source: s, ids: [...changed], committed });
    });
    const [pub] = await ids(`status = 'published' AND publish_at <= now()`);
    const ok = await recorded.setStatus(editor, pub!, 'archive');
    assert.ok(ok && ok.ok);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.source, 'articles');
    assert.deepEqual(calls[0]!.ids, [pub]);
    assert.equal(await calls[0]!.committed, 'archived', 'told after the change committed');
    // The archived article is no longer a document.
    assert.equal((await source.documents({ ids: [pub!], limit: 1 })).length, 0);
    await recorded.setStatus(editor, pub!, 'unarchive');
    assert.equal(calls.length, 2);
    assert.equal(await calls[1]!.committed, 'published');

    // A new article published by an editor.
    const saved = await recorded.save(
      editor,
      undefined,
      {
        kind: 'news',
        title: 'Searchable news about letterbox contact',
        standfirst: 'A standfirst.',
        body: 'Some **words**.',
        language: 'en',
        authors: [],
        topics: [],
        authorities: [],
        services: [],
        statements: [],
        featuresParent: false,
        commentsOpen: true,
      },
      'publish',
    );
    assert.ok(saved && saved.ok, JSON.stringify(saved));
    assert.deepEqual(calls.at(-1)!.ids, [saved.article.id]);
    assert.equal(await calls.at(-1)!.committed, 'published');
    const [doc] = await source.documents({ ids: [saved.article.id], limit: 1 });
    assert.equal(doc?.body, 'Some words.');

    // The job that publishes what is due tells of each.
    const [future] = await ids(`status = 'scheduled' AND publish_at > now()`);
    await t.database.query(
      `UPDATE articles SET publish_at = now() - interval '1 minute' WHERE id = $1`,
      [future!],
    );
    await recorded.publishDue();
    assert.deepEqual(calls.at(-1)!.ids, [future]);
    assert.equal(await calls.at(-1)!.committed, 'published');

    // A failing search never fails the change.
    const throwing = serviceWith(() => {
      throw new Error('the search is down');
    });
    const res = await throwing.setStatus(editor, pub!, 'draft');
    assert.ok(res && res.ok);
    assert.equal((await source.documents({ ids: [pub!], limit: 1 })).length, 0);
  });

  test('the service built without the search works (no searchChanged given)', async () => {
    // The app's own service may be wired to the search or not: either way a change works.
    const [pub] = await ids(`status = 'published' AND publish_at <= now()`);
    const res = await t.app.services.articles.setStatus(editor, pub!, 'archive');
    assert.ok(res && res.ok);
  });
});
