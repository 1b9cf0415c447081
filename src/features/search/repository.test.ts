import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testDatabase } from '../../../test/helpers/database.ts';
import type { Database } from '../../db/client.ts';
import {
  createSearchRepository,
  type IndexedDocument,
  type Question,
  type SearchRepository,
} from './repository.ts';
import { indexedDocument } from './test-documents.ts';

const doc = (i: number, over: Partial<IndexedDocument> = {}) =>
  indexedDocument('t', i, { kind: 'news', english: { a: `Item ${i}`, b: '', c: '' }, ...over });

const asked = (q: Partial<Question>): Question => ({ english: [], welsh: [], access: [], ...q });

/** A document numbered `i` of this kind and access, whose words are these. */
const about = (i: number, kind: string, access: string, words = 'kinship carers') =>
  doc(i, { kind, access, english: { a: words, b: '', c: '' } });

/** What a question finds for a person of these access keys: the keys (sorted) and the counts by kind. */
async function found(repo: SearchRepository, q: Partial<Question>, access: string[]) {
  const question = asked({ ...q, access });
  const keys = (await repo.search(question, 10, 0)).map((r) => r.key).sort();
  return { keys, counts: await repo.countByKind(question) };
}

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
    await repo.upsert([
      about(1001, 'thread', 'members'),
      about(1002, 'thread', 'space:a'),
      about(1003, 'thread', 'space:b'),
      about(1004, 'thread', 'public'),
      about(1005, 'resource', 'public'),
      about(1006, 'resource', 'members'),
    ]);
    const kinship = { english: ['kinship'], welsh: ['kinship'] };
    assert.deepEqual(await found(repo, kinship, ['public']), {
      keys: ['t:1004', 't:1005'],
      counts: { resource: 1, thread: 1 },
    });
    assert.deepEqual(await found(repo, kinship, ['public', 'members']), {
      keys: ['t:1001', 't:1004', 't:1005', 't:1006'],
      counts: { resource: 2, thread: 2 },
    });
    assert.deepEqual(await found(repo, kinship, ['public', 'members', 'space:b']), {
      keys: ['t:1001', 't:1003', 't:1004', 't:1005', 't:1006'],
      counts: { resource: 2, thread: 3 },
    });
    assert.deepEqual(await found(repo, kinship, ['space:a']), {
      keys: ['t:1002'],
      counts: { thread: 1 },
    });
    await repo.remove('t', ['1001', '1002', '1003', '1004', '1005', '1006']);
  });

  test('a phrase: each kind and access by its own pairs, the words side by side checked after', async () => {
    const repo = createSearchRepository(database.db);
    await repo.upsert([
      about(2001, 'thread', 'members'),
      about(2002, 'thread', 'public'),
      about(2003, 'resource', 'public'),
      about(2004, 'resource', 'members'),
      // Both words, and their pair (the stopword between leaves no word), but not side by side.
      about(2005, 'resource', 'public', 'kinship of carers'),
      about(2006, 'news', 'public', 'carers kinship'),
    ]);
    const english = ['"kinship carers"'];
    const welsh = ['"kinship carers"'];
    const pairs = await repo.pairsNeeded(english, welsh);
    assert.ok(pairs, 'a phrase needs its words side by side');
    const phrase = { english, welsh, pairs };
    assert.deepEqual(await found(repo, phrase, ['public']), {
      keys: ['t:2002', 't:2003'],
      counts: { resource: 1, thread: 1 },
    });
    assert.deepEqual(await found(repo, phrase, ['public', 'members']), {
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
