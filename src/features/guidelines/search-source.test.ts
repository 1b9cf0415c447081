import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import type { CurrentUser } from '../../platform/auth.ts';
import type { SearchChanged, SearchDocument, SearchSource } from '../../platform/search.ts';
import { parseGuidelineYaml, toGuidelineYaml } from './format.ts';
import { createGuidelinesRepository } from './repository.ts';
import { DEMO_GUIDELINE_SLUG } from './seed.ts';
import { createGuidelinesService } from './service.ts';

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

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

describe('guidelines: the site search source', () => {
  let t: TestApp;
  let source: SearchSource;
  const slug = DEMO_GUIDELINE_SLUG;
  const editor: CurrentUser = {
    id: '',
    displayName: 'Editor',
    role: 'editor',
    approved: true,
    totpEnabled: true,
  };
  const calls: { source: string; ids: string[] }[] = [];
  /** The guidelines service over the test's database, telling the search through `searchChanged`. */
  const serviceWith = (searchChanged: SearchChanged) =>
    createGuidelinesService({
      repo: createGuidelinesRepository(t.database.db),
      transaction: (work) => t.database.transaction(work),
      audit: async () => {},
      links: { service: async () => undefined, resource: async () => undefined },
      searchChanged,
    });
  /** The statements of the current published version, as the database has them. */
  const statements = () =>
    t.database.query<{ ref: string; text: string; stage: string }>(
      `SELECT s.ref, s.text, st.title AS stage
       FROM guideline_statements s
       JOIN guideline_versions v ON v.id = s.version_id
       JOIN guidelines g ON g.id = v.guideline_id
       JOIN guideline_stages st ON st.id = s.stage_id
       WHERE g.slug = $1 AND v.status = 'published'
         AND v.number = (SELECT max(number) FROM guideline_versions
                         WHERE guideline_id = g.id AND status = 'published')`,
      [slug],
    );

  before(async () => {
    t = await testApp({ seed: true });
    source = t.app.services.guidelines.searchSource();
    const [e] = await t.database.query<{ id: string }>(
      `SELECT id FROM users WHERE email = 'editor@example.org'`,
    );
    editor.id = e!.id;
  });
  after(async () => t.close());

  test('one document per statement of the published version, in id order, each a page anyone can open', async () => {
    const rows = await statements();
    assert.ok(rows.length >= 10, 'the demo guideline has its statements');
    const docs = await all(source, 4);
    assert.deepEqual(
      docs.map((d) => d.id),
      rows.map((r) => `${slug}/${r.ref}`).sort(byteOrder),
    );
    for (const r of rows) {
      const d = docs.find((x) => x.id === `${slug}/${r.ref}`)!;
      assert.equal(d.kind, 'guideline');
      assert.equal(d.title, r.text);
      assert.equal(d.typeLabel, r.stage);
      assert.equal(d.url, `/guidelines/${slug}/${r.ref}`);
      assert.equal(d.access, 'public');
      assert.equal(d.language, 'en');
      assert.ok(d.date instanceof Date && !Number.isNaN(d.date.getTime()));
    }
    const first = docs.find((d) => d.id === `${slug}/1.1`)!;
    assert.equal(first.typeLabel, 'Before the birth');
    assert.equal(first.typeLabelCy, 'Cyn yr enedigaeth');
    assert.match(first.titleCy ?? '', /Caiff pryderon/);
    assert.match(first.body ?? '', /joint referral pathway/, 'the examples are the body');
    for (const d of docs) {
      const res = await t.app.inject({ url: d.url });
      assert.equal(res.statusCode, 200, d.url);
    }
  });

  test('action plans are never indexed', async () => {
    const plans = await t.database.query<{ id: string; title: string }>(
      `SELECT id, title FROM plans`,
    );
    assert.ok(plans.length, 'the demo has plans');
    const evidence = await t.database.query<{ text: string }>(
      `SELECT know AS text FROM plan_ratings UNION SELECT title FROM plan_actions`,
    );
    const docs = await all(source, 100);
    for (const d of docs) {
      assert.doesNotMatch(d.url, /^\/plans/);
      const words = JSON.stringify(d);
      for (const p of plans) {
        assert.ok(!words.includes(p.id), `${d.id} names no plan`);
        assert.ok(!words.includes(p.title), `${d.id} has no plan's title`);
      }
      for (const e of evidence) assert.ok(!words.includes(e.text), `${d.id}: ${e.text}`);
    }
  });

  test('by ids, openable: only statements of the published version', async () => {
    const ids = [`${slug}/1.2`, `${slug}/99.9`, 'another-guideline/1.1', `${slug}/1.1`];
    assert.deepEqual(
      (await source.documents({ ids, limit: 10 })).map((d) => d.id),
      [`${slug}/1.1`, `${slug}/1.2`],
    );
    assert.deepEqual(await source.documents({ ids: [], limit: 10 }), []);
    for (const viewer of [undefined, editor])
      assert.deepEqual([...(await source.openable(ids, viewer))].sort(byteOrder), [
        `${slug}/1.1`,
        `${slug}/1.2`,
      ]);
  });

  test('a new published version: the search is told of every statement it adds, changes or removes', async () => {
    const before = await statements();
    const removed = before.at(-1)!.ref;
    const file = parseGuidelineYaml((await t.app.services.guidelines.exportYaml(slug))!);
    assert.ok(file.ok);
    const g = file.data;
    g.version.number = 2;
    g.version.label = 'Second edition (test)';
    g.version.status = 'published';
    g.stages.at(-1)!.statements.pop();
    g.stages[0]!.statements[0]!.text =
      'Concerns are shared with both parents early (second edition).';
    const since = new Date(Date.now() - 1000);
    const service = serviceWith((s, ids) => calls.push({ source: s, ids: [...ids] }));
    const saved = await service.importYaml(toGuidelineYaml(g));
    assert.ok(saved.ok, JSON.stringify(saved));
    const told = calls.at(-1)!;
    assert.equal(told.source, 'guidelines');
    assert.ok(told.ids.includes(`${slug}/${removed}`), 'the removed statement');
    assert.ok(told.ids.includes(`${slug}/1.1`), 'the changed statement');
    assert.equal(told.ids.length, before.length, 'each once');
    const docs = await all(source, 100);
    assert.equal(docs.length, before.length - 1);
    assert.ok(!docs.some((d) => d.id === `${slug}/${removed}`));
    assert.equal(
      docs.find((d) => d.id === `${slug}/1.1`)!.title,
      'Concerns are shared with both parents early (second edition).',
    );
    assert.equal((await source.openable([`${slug}/${removed}`], undefined)).size, 0);
    // changedSince: every statement of the guideline, the removed one too.
    const changed = await source.changedSince!(since, 1000);
    assert.ok(changed.includes(`${slug}/${removed}`));
    assert.ok(changed.includes(`${slug}/1.1`));
    assert.deepEqual(await source.changedSince!(new Date(Date.now() + 60_000), 1000), []);

    // A version for consultation after it changes nothing that is found.
    g.version.number = 3;
    g.version.status = 'consultation';
    g.stages[0]!.statements[0]!.text = 'Consultation wording (test).';
    assert.ok((await service.importYaml(toGuidelineYaml(g))).ok);
    assert.equal(
      (await source.documents({ ids: [`${slug}/1.1`], limit: 1 }))[0]!.title,
      'Concerns are shared with both parents early (second edition).',
    );
  });

  test('an editor changing a statement tells the search, after the commit', async () => {
    const pending: Promise<string | undefined>[] = [];
    const service = serviceWith((s, ids) => {
      calls.push({ source: s, ids: [...ids] });
      // Read from outside the unit of work: inside it, this would wait or throw (PGlite).
      const committed = t.database
        .query<{ text: string }>(
          `SELECT s.text FROM guideline_statements s
           JOIN guideline_versions v ON v.id = s.version_id
           WHERE v.number = 2 AND s.ref = '1.2'`,
        )
        .then((r) => r[0]?.text);
      committed.catch(() => {});
      pending.push(committed);
    });
    const since = new Date(Date.now() - 1000);
    const n = calls.length;
    const ok = await service.editStatement(editor, slug, 2, '1.2', {
      text: 'One named social worker, edited on the web.',
      textCy: null,
    });
    assert.deepEqual(ok, { version: 2 });
    assert.equal(calls.length, n + 1);
    assert.deepEqual(calls.at(-1)!.ids, [`${slug}/1.2`]);
    assert.equal(await pending[0], 'One named social worker, edited on the web.');
    const [doc] = await source.documents({ ids: [`${slug}/1.2`], limit: 1 });
    assert.equal(doc!.title, 'One named social worker, edited on the web.');
    assert.ok((await source.changedSince!(since, 1000)).includes(`${slug}/1.2`));

    // A failing search never fails the change.
    const throwing = serviceWith(() => {
      throw new Error('the search is down');
    });
    assert.deepEqual(
      await throwing.editStatement(editor, slug, 2, '1.2', { text: 'Again.', textCy: null }),
      { version: 2 },
    );
  });
});
