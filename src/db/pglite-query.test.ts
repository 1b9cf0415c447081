import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PGlite, types } from '@electric-sql/pglite';
import { eq } from 'drizzle-orm';
import { integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { drizzle } from 'drizzle-orm/pglite';
import { queryInOneExchange, withOneExchangeQueries } from './pglite-query.ts';

// A statement in one exchange gives what PGlite's own query() gives, fails as
// it fails, leaves what it cannot do to it, and waits where it would wait.

let db: PGlite;
/** Drizzle's "as text" types: timestamps, dates, intervals and their arrays. */
const TEXT_TYPES = [types.TIMESTAMP, types.TIMESTAMPTZ, types.INTERVAL, types.DATE, 1231, 1115];
const asText = Object.fromEntries(TEXT_TYPES.map((oid) => [oid, (v: string) => v]));

before(async () => {
  db = await PGlite.create();
  await db.exec(`
    CREATE TABLE things (id int PRIMARY KEY, name text NOT NULL, tags text[] NOT NULL DEFAULT '{}',
      meta jsonb, ok boolean, at timestamptz, big bigint, price numeric);
    INSERT INTO things VALUES
      (1, 'one', '{a,"b c"}', '{"k": [1, 2]}', true, '2026-12-06T10:00:00Z', 9007199254740993, 1.50),
      (2, 'two ''quoted''', '{}', NULL, false, NULL, NULL, NULL);`);
});
after(async () => db.close());

test('the same rows as query(), as objects and as arrays, with the "as text" types', async () => {
  const sql = `SELECT * FROM things WHERE id >= $1 AND name <> $2 AND ok IS DISTINCT FROM $3 ORDER BY id`;
  const params = [1, 'none', null];
  for (const rowMode of ['object', 'array'] as const) {
    const fast = await queryInOneExchange(
      db,
      sql,
      params,
      { rowMode, textTypes: TEXT_TYPES },
      false,
    );
    const slow = await db.query(sql, params, { rowMode, parsers: asText });
    assert.ok(fast);
    assert.deepEqual(fast.rows, slow.rows);
    assert.deepEqual(fast.fields, slow.fields);
    assert.equal(fast.rows.length, 2);
  }
  const [row] = (await queryInOneExchange<Record<string, unknown>>(
    db,
    `SELECT * FROM things WHERE id = $1`,
    [1],
    { textTypes: TEXT_TYPES },
    false,
  ))!.rows;
  assert.deepEqual(row!.tags, ['a', 'b c']);
  assert.deepEqual(row!.meta, { k: [1, 2] });
  assert.equal(row!.ok, true);
  assert.equal(typeof row!.at, 'string', 'a timestamp stays text, as Drizzle asks');
  // Without "as text" types, PGlite's own parsers: a Date.
  const [plain] = (await queryInOneExchange<{ at: unknown }>(
    db,
    `SELECT at FROM things WHERE id = $1`,
    ['1'],
    {},
    false,
  ))!.rows;
  assert.ok(plain!.at instanceof Date);
});

test('writes: booleans, numbers, bigints and null as parameters; affected rows counted', async () => {
  const insert = await queryInOneExchange(
    db,
    `INSERT INTO things (id, name, ok, big, price, tags) VALUES ($1, $2, $3, $4, $5, $6)`,
    [3, 'three', false, 1234567890123456789n, 2.25, '{x,y}'],
    {},
    false,
  );
  assert.equal(insert?.affectedRows, 1);
  const { rows } = await db.query<{ ok: boolean; big: string; price: string; tags: string[] }>(
    `SELECT ok, big::text AS big, price::text AS price, tags FROM things WHERE id = 3`,
  );
  assert.deepEqual(rows[0], {
    ok: false,
    big: '1234567890123456789',
    price: '2.25',
    tags: ['x', 'y'],
  });
  const update = await queryInOneExchange(
    db,
    `UPDATE things SET meta = $1 WHERE id >= $2 RETURNING id`,
    ['{"n": 1}', 2],
    { rowMode: 'array' },
    false,
  );
  assert.equal(update?.affectedRows, 2);
  assert.deepEqual(update?.rows, [[2], [3]]);
});

test('an error is PostgreSQL’s, with its code, and the database goes on', async () => {
  await assert.rejects(
    queryInOneExchange(
      db,
      `INSERT INTO things (id, name) VALUES ($1, $2)`,
      [1, 'again'],
      {},
      false,
    ),
    (err: Error & { code?: string }) => err.code === '23505',
  );
  await assert.rejects(
    queryInOneExchange(db, `SELECT nothing FROM things WHERE id = $1`, [1], {}, false),
    (err: Error & { code?: string }) => err.code === '42703',
  );
  const after = await queryInOneExchange<{ n: number }>(
    db,
    `SELECT count(*)::int AS n FROM things WHERE id < $1`,
    [100],
    {},
    false,
  );
  assert.deepEqual(after?.rows, [{ n: 3 }]);
});

test('a Date, an array or an object as a parameter: not run here, left to query()', async () => {
  for (const value of [new Date(), ['a'], { a: 1 }, new Uint8Array([1])]) {
    const result = await queryInOneExchange(
      db,
      `INSERT INTO things (id, name) VALUES (99, $1::text)`,
      [value],
      {},
      false,
    );
    assert.equal(result, undefined);
  }
  const { rows } = await db.query(`SELECT 1 FROM things WHERE id = 99`);
  assert.equal(rows.length, 0, 'nothing was written');
});

test('outside a transaction it waits for an open one; inside, it is part of it', async () => {
  const order: string[] = [];
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const unit = db.transaction(async (tx) => {
    await tx.query(`INSERT INTO things (id, name) VALUES (10, 'in the unit')`);
    // Inside: sees the unit's own row.
    const inside = await queryInOneExchange<{ n: number }>(
      db,
      `SELECT count(*)::int AS n FROM things WHERE id = $1`,
      [10],
      {},
      true,
    );
    assert.deepEqual(inside?.rows, [{ n: 1 }]);
    order.push('unit wrote');
    await held;
    order.push('unit ends');
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  const outside = queryInOneExchange<{ n: number }>(
    db,
    `SELECT count(*)::int AS n FROM things WHERE id = $1`,
    [10],
    {},
    false,
  ).then((r) => {
    order.push('outside read');
    return r;
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(order, ['unit wrote'], 'the statement outside waits');
  release();
  await unit;
  assert.deepEqual((await outside)?.rows, [{ n: 1 }], 'and then sees the committed row');
  assert.deepEqual(order, ['unit wrote', 'unit ends', 'outside read']);
});

test('withOneExchangeQueries: Drizzle over it reads, writes, commits and rolls back as over PGlite', async () => {
  const fast = drizzle({ client: withOneExchangeQueries(db) });
  const things = pgTable('things', {
    id: integer('id').primaryKey(),
    name: text('name').notNull(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }),
  });
  const when = new Date('2026-12-06T12:34:56.789Z');
  await fast.insert(things).values({ id: 20, name: 'twenty', at: when });
  const [row] = await fast.select().from(things).where(eq(things.id, 20));
  assert.deepEqual(row, { id: 20, name: 'twenty', at: when });
  await assert.rejects(
    fast.transaction(async (tx) => {
      await tx.insert(things).values({ id: 21, name: 'rolled back' });
      assert.equal((await tx.select().from(things).where(eq(things.id, 21))).length, 1);
      throw new Error('undo');
    }),
    /undo/,
  );
  assert.equal((await fast.select().from(things).where(eq(things.id, 21))).length, 0);
  let kept: { query: PGlite['query'] } | undefined;
  await withOneExchangeQueries(db).transaction(async (tx) => {
    await tx.query(`INSERT INTO things (id, name) VALUES ($1, $2)`, [22, 'committed']);
    kept = tx;
  });
  assert.equal((await fast.select().from(things).where(eq(things.id, 22))).length, 1);
  await assert.rejects(kept!.query(`SELECT $1::int`, [1]), /closed/, 'a used transaction refuses');
});
