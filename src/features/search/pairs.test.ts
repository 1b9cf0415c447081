import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { testDatabase } from '../../../test/helpers/database.ts';
import type { Database } from '../../db/client.ts';
import { mayNeedPairs, requiredPairs } from './pairs.ts';
import { createSearchRepository, type IndexedDocument } from './repository.ts';
import { indexedDocument } from './test-documents.ts';

describe('word pairs a tsquery needs, without a database', () => {
  test('words side by side need their pair; a gap, an "or" or a "not" needs none', () => {
    assert.deepEqual(
      requiredPairs(`'pre-birth' <-> 'pre' <-> 'birth' <-> 'assess' & 'leed' & !'court'`),
      ['birth assess', 'pre birth', 'pre-birth pre'],
    );
    assert.deepEqual(requiredPairs(`'adopt' <2> 'worker' | 'fdac'`), []);
    assert.deepEqual(
      requiredPairs(`'adopt' <2> 'worker'`),
      [],
      'another word may stand in the gap',
    );
    assert.deepEqual(
      requiredPairs(`'a' <-> 'b' | 'a' <-> 'b' & 'c'`),
      ['a b'],
      'both sides need it',
    );
    assert.deepEqual(requiredPairs(`'a' <-> 'b' | 'c' <-> 'd'`), [], 'either side may match');
    assert.deepEqual(requiredPairs(`!( 'a' <-> 'b' )`), []);
    assert.deepEqual(requiredPairs(`'a' <-> !'b'`), [], 'a negation inside a phrase');
    assert.deepEqual(requiredPairs(`( 'a' | 'b' ) <-> 'c'`), []);
    assert.deepEqual(requiredPairs(`'a':* <-> 'b'`), [], 'a prefix is not a whole word');
    assert.deepEqual(requiredPairs(`'it''s' <-> 'x'`), ["it's x"]);
    assert.deepEqual(requiredPairs(`( 'a' <-> 'b' ) <-> ( 'c' <-> 'd' )`), ['a b', 'b c', 'c d']);
    assert.deepEqual(requiredPairs(`'a' <-> 'b' <-> 'c'`), ['a b', 'b c']);
    assert.deepEqual(requiredPairs(''), []);
    assert.deepEqual(requiredPairs(`'a' <-> `), [], 'not understood: nothing required');
    assert.deepEqual(requiredPairs(`'a' & ) 'b'`), []);
  });

  test('only a quote or joined words can make a phrase', () => {
    assert.ok(mayNeedPairs('"adoption workers"'));
    assert.ok(mayNeedPairs('pre-birth assessment'));
    assert.ok(mayNeedPairs("don't"));
    assert.ok(!mayNeedPairs('adoption workers'));
    assert.ok(!mayNeedPairs('-court leeds'));
  });
});

describe('word pairs in the index', () => {
  let database: Database;
  before(async () => {
    database = await testDatabase();
  });
  after(async () => {
    await database.close();
  });

  test('a document matching a phrase always holds the pairs it needs, and the pairs narrow', async () => {
    const query = async <T>(q: ReturnType<typeof sql>): Promise<T> =>
      ((await database.db.execute(q)) as unknown as { rows: T[] }).rows[0]!;
    const repo = createSearchRepository(database.db);
    // A small vocabulary with stopwords, hyphens, apostrophes and repeats, so that
    // phrases of it match some documents and merely share words with many more.
    const vocab =
      'parent parents court pre-birth assessment of the and a adoption workers social worker mother’s don’t e-mail family drug alcohol baby contact farewell care'.split(
        ' ',
      );
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const words = (n: number) =>
      Array.from({ length: n }, () => vocab[Math.floor(rnd() * vocab.length)]!).join(' ');
    const docs: IndexedDocument[] = Array.from({ length: 120 }, (_, i) =>
      indexedDocument('bench', i, {
        title: `Document ${i}`,
        english: { a: words(4), b: words(10), c: words(30) },
        welsh: { a: '', b: words(6), c: '' },
      }),
    );
    await repo.upsert(docs);
    let narrowed = 0;
    let checked = 0;
    for (let i = 0; i < 150; i++) {
      const phrase = `"${words(2 + (i % 3))}"${i % 4 === 0 ? ` ${words(1)}` : ''}`;
      for (const config of ['english', 'simple']) {
        const { q } = await query<{ q: string }>(
          sql`SELECT websearch_to_tsquery(${config}::regconfig, ${phrase})::text AS q`,
        );
        const pairs = requiredPairs(q);
        if (!pairs.length) continue;
        const c = await query<{ matching: number; missing: number; held: number }>(sql`
          SELECT count(*) FILTER (WHERE words @@ websearch_to_tsquery(${config}::regconfig, ${phrase}))::int AS matching,
                 count(*) FILTER (WHERE words @@ websearch_to_tsquery(${config}::regconfig, ${phrase})
                                  AND NOT pairs @> ${sql.param(pairs)}::text[])::int AS missing,
                 count(*) FILTER (WHERE pairs @> ${sql.param(pairs)}::text[])::int AS held
          FROM search_documents WHERE source = 'bench'`);
        assert.equal(
          Number(c.missing),
          0,
          `${config} ${phrase}: a match without the pairs ${pairs.join(', ')}`,
        );
        checked += Number(c.matching);
        // The pairs let through fewer documents than hold every word of the phrase.
        const all = await query<{ n: number }>(sql`
          SELECT count(*)::int AS n FROM search_documents
          WHERE source = 'bench' AND words @@ plainto_tsquery(${config}::regconfig, ${phrase})`);
        if (Number(c.held) < Number(all.n)) narrowed++;
      }
    }
    assert.ok(checked > 20, `phrases matched ${checked} documents`);
    assert.ok(narrowed > 20, `the pairs narrowed ${narrowed} phrases`);
  });
});
