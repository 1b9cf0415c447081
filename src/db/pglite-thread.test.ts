import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { type Database, openDatabase } from './client.ts';
import { DataDirLockedError } from './lock.ts';
import { DatabaseOpenError } from './open-error.ts';

// The embedded database in its own thread, as `serve` runs it: the same
// answers as in one thread, units of work that commit or roll back whole,
// statements answered in the order they came, and the directory lock kept.

const dir = mkdtempSync(join(tmpdir(), 'sp-thread-'));
/** The build's migrated empty database (npm test builds first): no initdb, seconds less. */
const template = fileURLToPath(new URL('../../dist/db-template.tar', import.meta.url));
let database: Database;

const notes = pgTable('notes', {
  id: integer('id').primaryKey(),
  body: text('body').notNull(),
  at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
});

before(async () => {
  database = await openDatabase({ dataDir: dir, worker: true, template });
  await database.exec(
    `CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL, at timestamptz NOT NULL);`,
  );
});
after(async () => {
  await database.close();
});

test('runs in a worker: no engine in this thread, and the directory lock is held', async () => {
  assert.equal(database.kind, 'pglite');
  assert.equal(database.pglite, undefined, 'PGlite itself lives in the other thread');
  await assert.rejects(openDatabase({ dataDir: dir }), DataDirLockedError);
});

test('Drizzle reads and writes through the thread, dates and types intact', async () => {
  const at = new Date('2026-04-01T09:30:00.000Z');
  await database.db.insert(notes).values({ id: 1, body: 'first', at });
  const [row] = await database.db
    .select()
    .from(notes)
    .where(sql`${notes.id} = 1`);
  assert.deepEqual(row, { id: 1, body: 'first', at });
  const [raw] = await database.query<{ n: number; t: Date; j: { a: number[] }; c: string }>(
    `SELECT 2 + $1::int AS n, $2::timestamptz AS t, '{"a":[1,2]}'::jsonb AS j, 'Ab'::citext AS c`,
    [3, at.toISOString()],
  );
  assert.equal(raw!.n, 5);
  assert.equal(raw!.t.getTime(), at.getTime());
  assert.deepEqual(raw!.j, { a: [1, 2] });
  assert.equal(raw!.c, 'Ab');
});

test("an error keeps PostgreSQL's code and message, for callers that read them", async () => {
  await database.query(`INSERT INTO notes VALUES (10, 'x', now())`);
  const err = await database.query(`INSERT INTO notes VALUES (10, 'again', now())`).then(
    () => undefined,
    (e: unknown) => e as Error & { code?: string; constraint?: string },
  );
  assert.ok(err, 'the duplicate is refused');
  assert.equal(err.code, '23505');
  assert.match(err.message, /duplicate key/);
  assert.equal(err.constraint, 'notes_pkey');
});

test('a unit of work commits whole, or rolls back whole when it throws', async () => {
  await database.transaction(async (tx) => {
    await tx.insert(notes).values({ id: 20, body: 'kept', at: new Date() });
    await tx.insert(notes).values({ id: 21, body: 'kept too', at: new Date() });
  });
  await assert.rejects(
    database.transaction(async (tx) => {
      await tx.insert(notes).values({ id: 22, body: 'lost', at: new Date() });
      throw new Error('changed my mind');
    }),
    /changed my mind/,
  );
  // A failing statement inside: nothing of the unit is kept.
  await assert.rejects(
    database.transaction(async (tx) => {
      await tx.insert(notes).values({ id: 23, body: 'lost', at: new Date() });
      await tx.insert(notes).values({ id: 20, body: 'duplicate', at: new Date() });
    }),
  );
  const rows = await database.query<{ id: number }>(
    'SELECT id FROM notes WHERE id BETWEEN 20 AND 29 ORDER BY id',
  );
  assert.deepEqual(
    rows.map((r) => r.id),
    [20, 21],
  );
});

test('statements outside a unit of work wait for it, and see it only once committed', async () => {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const unit = database.transaction(async (tx) => {
    await tx.insert(notes).values({ id: 30, body: 'in flight', at: new Date() });
    await held;
  });
  // Give the unit time to take the database.
  await new Promise((r) => setTimeout(r, 20));
  let seen: number | undefined;
  const reader = database
    .query<{ n: number }>('SELECT count(*)::int AS n FROM notes WHERE id = 30')
    .then((rows) => (seen = rows[0]!.n));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(seen, undefined, 'the reader waits while the unit is open');
  release();
  await unit;
  await reader;
  assert.equal(seen, 1);
});

test('a query outside the unit of work from inside it fails at once instead of waiting for ever', async () => {
  await assert.rejects(
    database.transaction(async () => {
      await database.query('SELECT 1');
    }),
    /outside the unit of work/,
  );
  assert.equal(await database.ping(), true, 'and the database is free again');
});

test('many statements at once are answered in the order they were sent', async () => {
  const order: number[] = [];
  await Promise.all(
    Array.from({ length: 40 }, (_v, i) =>
      database.query('SELECT $1::int AS i', [i]).then(() => order.push(i)),
    ),
  );
  assert.deepEqual(
    order,
    Array.from({ length: 40 }, (_v, i) => i),
  );
});

test('closing releases the directory; the data is there on the next open', async () => {
  const other = mkdtempSync(join(tmpdir(), 'sp-thread-'));
  const first = await openDatabase({ dataDir: other, worker: true, template });
  await first.exec(`CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')`);
  await first.close();
  await assert.rejects(first.query('SELECT 1'), 'a closed database answers nothing');
  const again = await openDatabase({ dataDir: other, worker: true, template });
  try {
    assert.equal(again.created, false);
    assert.deepEqual(await again.query('SELECT v FROM kept'), [{ v: 'still here' }]);
  } finally {
    await again.close();
  }
});

test('renew: waits for the unit of work in flight, holds new work, keeps every commit', async () => {
  const at = new Date('2026-05-01T10:00:00.000Z');
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let renewed = false;
  // A unit of work still open when renew is asked for: it finishes on the old thread.
  const unit = database.transaction(async (tx) => {
    await tx.insert(notes).values({ id: 40, body: 'before renew', at });
    await held;
    await tx.insert(notes).values({ id: 41, body: 'inside, after renew was asked', at });
  });
  await new Promise((r) => setTimeout(r, 20));
  const renewing = database.renew!().then(() => (renewed = true));
  // New work asked for meanwhile waits for the fresh thread, then runs there.
  const later = database.db
    .insert(notes)
    .values({ id: 42, body: 'asked during renew', at })
    .then(() => renewed);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(renewed, false, 'renew waits for the open unit of work');
  release();
  await unit;
  await renewing;
  assert.equal(await later, true, 'work asked for during renew ran on the fresh thread');
  const rows = await database.query<{ id: number }>(
    'SELECT id FROM notes WHERE id BETWEEN 40 AND 42 ORDER BY id',
  );
  assert.deepEqual(
    rows.map((r) => r.id),
    [40, 41, 42],
  );
  // The lock is still this process's, and the fresh thread is the database in use.
  await assert.rejects(openDatabase({ dataDir: dir }), DataDirLockedError);
  assert.equal(await database.ping(), true);
});

test('opened in the background: work asked for at once waits for the thread, then runs in order', async () => {
  const other = mkdtempSync(join(tmpdir(), 'sp-thread-'));
  const database = await openDatabase({
    dataDir: other,
    worker: true,
    template,
    openInBackground: true,
  });
  try {
    // Asked for before the thread has opened the database (it takes most of a second).
    const made = database.exec(`CREATE TABLE early (n int)`);
    const written = database.exec(`INSERT INTO early VALUES (1), (2)`);
    const read = database.query<{ n: number }>('SELECT n FROM early ORDER BY n');
    await Promise.all([made, written]);
    assert.deepEqual(await read, [{ n: 1 }, { n: 2 }]);
    await assert.rejects(openDatabase({ dataDir: other }), DataDirLockedError);
  } finally {
    await database.close();
  }
});

test('opened in the background and failing: the work asked for fails with its error, the folder is freed', async () => {
  const other = mkdtempSync(join(tmpdir(), 'sp-thread-'));
  const bad = join(other, 'not-a-template.tar');
  writeFileSync(bad, 'this is not a tarball of a database');
  const database = await openDatabase({
    dataDir: other,
    worker: true,
    template: bad,
    openInBackground: true,
  });
  await assert.rejects(database.query('SELECT 1'), DatabaseOpenError);
  assert.equal(await database.ping(), false);
  await database.close();
  // The directory lock went with it: the folder opens again (here, in this thread, anew).
  const again = await openDatabase({ dataDir: other, template });
  try {
    assert.deepEqual(await again.query('SELECT 1 AS one'), [{ one: 1 }]);
  } finally {
    await again.close();
  }
});
