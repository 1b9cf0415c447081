import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testDatabase } from '../../../test/helpers/database.ts';
import type { Database } from '../../db/client.ts';
import { createSearchRepository, type IndexedDocument, type Question } from './repository.ts';
import { indexedDocument } from './test-documents.ts';

const doc = (i: number, over: Partial<IndexedDocument> = {}) =>
  indexedDocument('t', i, { kind: 'news', english: { a: `Item ${i}`, b: '', c: '' }, ...over });

const asked = (q: Partial<Question>): Question => ({ english: [], welsh: [], access: [], ...q });

describe('the index: who may find what, and kinds newest first', () => {
  let database: Database;
  before(async () => {
    database = await testDatabase();
  });
  after(async () => {
    await database.close();
  });

  test('each person finds the public documents and those of their own access only', async () => {
    const repo = createSearchRepository(database.db);
    const about = (i: number, kind: string, access: string) =>
      doc(1000 + i, { kind, access, english: { a: 'kinship carers', b: '', c: '' } });
    await repo.upsert([
      about(1, 'thread', 'members'),
      about(2, 'thread', 'space:a'),
      about(3, 'thread', 'space:b'),
      about(4, 'thread', 'public'),
      about(5, 'resource', 'public'),
      about(6, 'resource', 'members'),
    ]);
    const found = async (access: string[]) => {
      const q = asked({ english: ['kinship'], welsh: ['kinship'], access });
      const keys = (await repo.search(q, 10, 0)).map((r) => r.key).sort();
      return { keys, counts: await repo.countByKind(q) };
    };
    assert.deepEqual(await found(['public']), {
      keys: ['t:1004', 't:1005'],
      counts: { resource: 1, thread: 1 },
    });
    assert.deepEqual(await found(['public', 'members']), {
      keys: ['t:1001', 't:1004', 't:1005', 't:1006'],
      counts: { resource: 2, thread: 2 },
    });
    assert.deepEqual(await found(['public', 'members', 'space:b']), {
      keys: ['t:1001', 't:1003', 't:1004', 't:1005', 't:1006'],
      counts: { resource: 2, thread: 3 },
    });
    assert.deepEqual(await found(['space:a']), {
      keys: ['t:1002'],
      counts: { thread: 1 },
    });
    await repo.remove('t', ['1001', '1002', '1003', '1004', '1005', '1006']);
  });

  test('a phrase: each kind and access by its own pairs, the words side by side checked after', async () => {
    const repo = createSearchRepository(database.db);
    const about = (i: number, kind: string, access: string, words: string) =>
      doc(2000 + i, { kind, access, english: { a: words, b: '', c: '' } });
    await repo.upsert([
      about(1, 'thread', 'members', 'kinship carers'),
      about(2, 'thread', 'public', 'kinship carers'),
      about(3, 'resource', 'public', 'kinship carers'),
      about(4, 'resource', 'members', 'kinship carers'),
      // Both words, and their pair (the stopword between leaves no word), but not side by side.
      about(5, 'resource', 'public', 'kinship of carers'),
      about(6, 'news', 'public', 'carers kinship'),
    ]);
    const english = ['"kinship carers"'];
    const welsh = ['"kinship carers"'];
    const pairs = await repo.pairsNeeded(english, welsh);
    assert.ok(pairs, 'a phrase needs its words side by side');
    const found = async (access: string[]) => {
      const q = asked({ english, welsh, access, pairs });
      const keys = (await repo.search(q, 10, 0)).map((r) => r.key).sort();
      return { keys, counts: await repo.countByKind(q) };
    };
    assert.deepEqual(await found(['public']), {
      keys: ['t:2002', 't:2003'],
      counts: { resource: 1, thread: 1 },
    });
    assert.deepEqual(await found(['public', 'members']), {
      keys: ['t:2001', 't:2002', 't:2003', 't:2004'],
      counts: { resource: 2, thread: 2 },
    });
    await repo.remove('t', ['2001', '2002', '2003', '2004', '2005', '2006']);
  });

  test('a kind browsed lists its newest documents of all, not of the first found', async () => {
    const repo = createSearchRepository(database.db);
    // Written oldest first, so the newest are the last in the table: more than the 2,000
    // matches a search ranks.
    const start = Date.UTC(2020, 0, 1);
    const n = 2100;
    for (let from = 0; from < n; from += 500)
      await repo.upsert(
        Array.from({ length: Math.min(500, n - from) }, (_, j) => {
          const i = from + j;
          return doc(i, { date: new Date(start + i * 3_600_000) });
        }),
      );
    const newest = Array.from({ length: 10 }, (_, j) => `t:${n - 1 - j}`);
    const page = await repo.search(asked({ browse: ['news'], access: ['public'] }), 10, 0);
    assert.deepEqual(
      page.map((r) => r.key),
      newest,
    );
    const second = await repo.search(asked({ browse: ['news'], access: ['public'] }), 10, 10);
    assert.equal(second[0]!.key, `t:${n - 11}`);
    assert.deepEqual(await repo.countByKind(asked({ browse: ['news'], access: ['public'] })), {
      news: 1001,
    });
  });
});
