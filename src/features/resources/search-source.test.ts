import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import type { CurrentUser } from '../../platform/auth.ts';
import type { SearchDocument, SearchSource } from '../../platform/search.ts';
import { createResourcesRepository } from './repository.ts';
import { createResourcesService, type ResourceInput, type ResourcesService } from './service.ts';

const editor: CurrentUser = {
  id: '00000000-0000-4000-8000-000000000001',
  displayName: 'Search test editor',
  role: 'editor',
  approved: true,
  totpEnabled: true,
};

describe('resources: the site search source', () => {
  let t: TestApp;
  let told: { source: string; ids: string[] }[];
  let resources: ResourcesService;
  let source: SearchSource;
  const rows = async <T>(q: ReturnType<typeof sql>) =>
    ((await t.database.db.execute(q)) as unknown as { rows: T[] }).rows;
  const input = (title: string, topic: string): ResourceInput => ({
    title,
    summary: `A summary of ${title}.`,
    body: `Some **bold** words & <tags> about ${title}.`,
    type: 'guide',
    topics: [topic],
    audiences: ['practitioners'],
    authors: 'Ann Author',
    organisation: 'Search Test Organisation',
    licence: 'CC BY 4.0',
    byParents: false,
    language: 'en',
    externalUrl: 'https://www.example.org/search-test',
  });
  /** Every document, a page of `size` at a time. */
  async function everything(size: number): Promise<SearchDocument[]> {
    const all: SearchDocument[] = [];
    let last: string | undefined;
    for (;;) {
      const page = await source.documents({ after: last, limit: size });
      assert.ok(page.length <= size);
      if (!page.length) return all;
      all.push(...page);
      last = page.at(-1)!.id;
    }
  }

  before(async () => {
    t = await testApp({ seed: true });
    told = [];
    const p = t.app.platform;
    resources = createResourcesService({
      repo: createResourcesRepository(t.database.db),
      transaction: (work) => t.database.transaction(work),
      storage: p.storage,
      mailer: p.mailer,
      i18n: p.i18n,
      baseUrl: p.config.baseUrl,
      people: {
        person: async () => undefined,
        contact: async () => undefined,
        audit: async () => {},
      },
      searchChanged: (s, ids) => void told.push({ source: s, ids: [...ids] }),
    });
    source = resources.searchSource();
  });
  after(() => t.close());

  test('pages through every published resource and topic page in id order', async () => {
    assert.equal(source.name, 'resources');
    const all = await everything(7);
    const ids = all.map((d) => d.id);
    assert.deepEqual(ids, [...ids].sort(), 'in id order');
    assert.equal(new Set(ids).size, ids.length, 'no document twice');
    const published = await rows<{ id: string; slug: string; type: string; title: string }>(
      sql`SELECT id, slug, type, title FROM resources WHERE status = 'published' ORDER BY id`,
    );
    const topics = await rows<{ id: string; slug: string }>(sql`SELECT id, slug FROM topics`);
    assert.ok(published.length >= 40, 'the demo resources are there');
    assert.equal(all.filter((d) => d.kind === 'resource').length, published.length);
    assert.equal(all.filter((d) => d.kind === 'topic').length, topics.length);
    // The same pages one at a time and all at once.
    assert.deepEqual(
      (await source.documents({ limit: 1000 })).map((d) => d.id),
      ids,
    );

    const video = published.find((r) => r.type === 'video')!;
    const doc = all.find((d) => d.id === video.id)!;
    assert.equal(doc.url, `/resources/${video.slug}`);
    assert.equal(doc.title, video.title);
    assert.equal(doc.typeLabel, 'Video');
    assert.equal(doc.typeLabelCy, 'Fideo');
    assert.equal(doc.access, 'public');
    assert.ok(doc.date instanceof Date);

    const topic = topics[0]!;
    const topicDoc = all.find((d) => d.id === `topic:${topic.id}`)!;
    assert.equal(topicDoc.kind, 'topic');
    assert.equal(topicDoc.url, `/topics/${topic.slug}`);
    // Every topic page opens.
    const page = await t.app.inject({ url: topicDoc.url });
    assert.equal(page.statusCode, 200);
  });

  test('a draft is not a document until it is published; archived, it leaves', async () => {
    const [topic] = await resources.allTopics();
    const saved = await resources.editorSave(
      editor,
      undefined,
      input('Search source draft', topic!.slug),
      [],
      'draft',
    );
    assert.ok(saved?.ok);
    const id = saved.resource.id;
    assert.deepEqual(told.at(-1), { source: 'resources', ids: [id] });
    assert.deepEqual(await source.documents({ ids: [id], limit: 10 }), []);
    assert.ok(!(await everything(50)).some((d) => d.id === id), 'no draft when paging');
    assert.equal((await source.openable([id], editor)).size, 0);

    told.length = 0;
    await resources.publish(editor, id);
    assert.deepEqual(told, [{ source: 'resources', ids: [id] }]);
    const [doc] = await source.documents({ ids: [id], limit: 10 });
    assert.equal(doc?.id, id);
    assert.equal(doc.typeLabel, 'Guide');
    assert.equal(doc.summary, 'A summary of Search source draft.');
    // Plain text: the Markdown gone, the characters as typed, authors and organisation in it.
    assert.match(doc.body!, /Some bold words & <tags> about Search source draft\./);
    assert.doesNotMatch(doc.body!, /\*\*|&amp;|&lt;/);
    assert.match(doc.body!, /Ann Author/);
    assert.match(doc.body!, /Search Test Organisation/);
    assert.ok(doc.date instanceof Date, 'first published');
    assert.deepEqual([...(await source.openable([id], undefined))], [id]);

    told.length = 0;
    await resources.archive(editor, id, true);
    assert.deepEqual(told, [{ source: 'resources', ids: [id] }]);
    assert.equal((await source.openable([id], undefined)).size, 0);
    assert.equal((await source.openable([id], editor)).size, 0);
    assert.deepEqual(await source.documents({ ids: [id], limit: 10 }), []);
  });

  test('ids: only those asked for, in id order; unknown and malformed ids are not returned', async () => {
    const [a, b] = await rows<{ id: string }>(
      sql`SELECT id FROM resources WHERE status = 'published' ORDER BY id LIMIT 2`,
    );
    const [topic] = await rows<{ id: string }>(sql`SELECT id FROM topics ORDER BY id LIMIT 1`);
    const docs = await source.documents({
      ids: [
        `topic:${topic!.id}`,
        b!.id,
        a!.id,
        '00000000-0000-4000-8000-00000000dead',
        'not-an-id',
        'topic:nope',
      ],
      limit: 10,
    });
    assert.deepEqual(
      docs.map((d) => d.id),
      [a!.id, b!.id, `topic:${topic!.id}`],
    );
    const open = await source.openable(
      [a!.id, `topic:${topic!.id}`, 'not-an-id', `topic:${a!.id}`],
      undefined,
    );
    assert.deepEqual([...open].sort(), [a!.id, `topic:${topic!.id}`].sort());
  });

  test('a declined submission and an editor’s save are told; a topic page save too', async () => {
    const [topic] = await resources.allTopics();
    const since = new Date(Date.now() - 1000);
    const saved = await resources.editorSave(
      editor,
      undefined,
      input('Search source submission', topic!.slug),
      [],
      'submitted',
    );
    assert.ok(saved?.ok);
    const id = saved.resource.id;
    told.length = 0;
    await resources.decline(editor, id, 'Not for us');
    assert.deepEqual(told, [{ source: 'resources', ids: [id] }]);

    told.length = 0;
    const result = await resources.saveTopicPage(
      editor,
      topic!.slug,
      'An **introduction** to the topic & its words.',
      [{ heading: 'Start here', note: 'The first things to read', items: '' }],
    );
    assert.deepEqual(result, { ok: true });
    assert.deepEqual(told, [{ source: 'resources', ids: [`topic:${topic!.id}`] }]);
    const [doc] = await source.documents({ ids: [`topic:${topic!.id}`], limit: 1 });
    assert.equal(doc?.title, topic!.name);
    assert.equal(doc.titleCy, topic!.nameCy ?? undefined);
    assert.equal(doc.summary, 'An introduction to the topic & its words.');
    assert.match(doc.body!, /An introduction to the topic & its words\./);
    assert.match(doc.body!, /Start here The first things to read/);

    const changed = await source.changedSince!(since, 100);
    assert.ok(changed.includes(id), 'the declined resource');
    assert.ok(changed.includes(`topic:${topic!.id}`), 'the topic page');
    assert.ok(!changed.some((c) => !c.startsWith('topic:') && !/^[0-9a-f-]{36}$/.test(c)));
    assert.deepEqual(await source.changedSince!(new Date(Date.now() + 60_000), 100), []);
  });

  test('a member leaving with their contributions: the removed submissions are told', async () => {
    const [member] = await rows<{ id: string }>(
      sql`SELECT id FROM users WHERE role = 'member' ORDER BY created_at LIMIT 1`,
    );
    const actor: CurrentUser = { ...editor, id: member!.id, role: 'member' };
    const [topic] = await resources.allTopics();
    const sent = await resources.submit(actor, input('Search source leaving', topic!.slug), []);
    assert.ok(sent.ok);
    told.length = 0;
    await resources.personalData.erase(member!.id, true);
    assert.deepEqual(told, [{ source: 'resources', ids: [sent.resource.id] }]);
  });

  test('a search that fails to hear does not fail the change', async () => {
    const p = t.app.platform;
    const failing = createResourcesService({
      repo: createResourcesRepository(t.database.db),
      transaction: (work) => t.database.transaction(work),
      storage: p.storage,
      mailer: p.mailer,
      i18n: p.i18n,
      baseUrl: p.config.baseUrl,
      people: {
        person: async () => undefined,
        contact: async () => undefined,
        audit: async () => {},
      },
      searchChanged: () => {
        throw new Error('the search is down');
      },
    });
    const [topic] = await resources.allTopics();
    const saved = await failing.editorSave(
      editor,
      undefined,
      input('Search down', topic!.slug),
      [],
      'published',
    );
    assert.ok(saved?.ok);
    assert.equal(saved.resource.status, 'published');
  });
});
