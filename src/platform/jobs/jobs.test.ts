import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { testDatabase } from '../../../test/helpers/database.ts';
import pg from 'pg';
import { CLAIMANT_LOCKS, type Database } from '../../db/client.ts';
import { backoffSeconds, createJobQueue } from './index.ts';

const log = pino({ level: 'silent' });
let db: Database;
before(async () => {
  db = await testDatabase();
});
after(async () => db.close());
beforeEach(async () => {
  await db.query('DELETE FROM jobs');
  await db.query('DELETE FROM job_schedules');
});

const rows = (name: string) =>
  db.query<{ status: string; attempts: number; last_error: string | null; run_at: Date }>(
    'SELECT status, attempts, last_error, run_at FROM jobs WHERE name = $1 ORDER BY id',
    [name],
  );

test('an enqueued job is durable until a worker runs it, then marked done', async () => {
  const seen: unknown[] = [];
  const q = createJobQueue(db, log);
  q.register('greet', async (p) => void seen.push(p));
  await q.enqueue('greet', { n: 1 });
  assert.deepEqual(
    (await rows('greet')).map((r) => r.status),
    ['pending'],
    'stored before any worker runs',
  );
  assert.equal(await q.runDue(), 1);
  assert.deepEqual(seen, [{ n: 1 }]);
  assert.deepEqual(
    (await rows('greet')).map((r) => r.status),
    ['done'],
  );
  assert.equal(await q.runDue(), 0, 'nothing runs twice');
});

test('a failing job is retried later with back-off, and fails for good after maxAttempts', async () => {
  let calls = 0;
  const q = createJobQueue(db, log);
  q.register('flaky', async () => {
    calls++;
    throw new Error('smtp down');
  });
  await q.enqueue('flaky', {}, { maxAttempts: 2 });
  assert.equal(await q.runDue(), 1);
  let [r] = await rows('flaky');
  assert.equal(r!.status, 'pending');
  assert.equal(r!.attempts, 1);
  assert.equal(r!.last_error, 'smtp down');
  assert.ok(new Date(r!.run_at).getTime() > Date.now() + 10_000, 'not retried straight away');
  assert.equal(await q.runDue(), 0, 'not due yet');
  await db.query(`UPDATE jobs SET run_at = now() WHERE name = 'flaky'`);
  assert.equal(await q.runDue(), 1);
  [r] = await rows('flaky');
  assert.equal(r!.status, 'failed');
  assert.equal(calls, 2);
  assert.deepEqual([1, 2, 3, 20].map(backoffSeconds), [15, 30, 60, 3600]);
});

test('a job whose worker died is picked up again once its lease expires', async () => {
  const q = createJobQueue(db, log);
  let ran = 0;
  q.register('leased', async () => void ran++);
  await q.enqueue('leased', {});
  // Another instance claimed it and then crashed: locked, attempts counted, never finished.
  await db.query(
    `UPDATE jobs SET locked_until = now() + interval '5 minutes', attempts = 1 WHERE name = 'leased'`,
  );
  assert.equal(await q.runDue(), 0);
  await db.query(
    `UPDATE jobs SET locked_until = now() - interval '1 second' WHERE name = 'leased'`,
  );
  assert.equal(await q.runDue(), 1);
  assert.equal(ran, 1);
});

test('a job whose worker’s process is gone is taken back at once, not after its lease', async () => {
  const q = createJobQueue(db, log);
  let ran = 0;
  q.register('orphan', async () => void ran++);
  await q.enqueue('orphan', {});
  const claimant = 4242;
  // On PostgreSQL, another process claimed it and is alive: its session holds the claimant lock.
  let other: pg.Client | undefined;
  if (db.kind === 'pg') {
    const [here] = await db.query<{ name: string }>('SELECT current_database() AS name');
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = `/${here!.name}`;
    other = new pg.Client({ connectionString: url.toString() });
    await other.connect();
    await other.query('SELECT pg_advisory_lock($1::int, $2::int)', [CLAIMANT_LOCKS, claimant]);
  }
  await db.query(
    `UPDATE jobs SET locked_until = now() + interval '5 minutes', attempts = 1, claimed_by = $1
     WHERE name = 'orphan'`,
    [claimant],
  );
  if (other) {
    assert.equal(await q.runDue(), 0, 'a live claimant keeps its job');
    // The process dies: its session ends, and the lock with it.
    await other.end();
    for (let i = 0; i < 50 && (await q.runDue()) === 0; i++)
      await new Promise((r) => setTimeout(r, 50));
  } else {
    // The embedded database has no other process: a claimant that holds no lock is gone.
    assert.equal(await q.runDue(), 1);
  }
  assert.equal(ran, 1, 'run once, well inside the 5-minute lease');
  // This process's own claims carry its claimant (null on the embedded database).
  const [row] = await db.query<{ claimed_by: number | null }>(
    `SELECT claimed_by FROM jobs WHERE name = 'orphan'`,
  );
  assert.equal(row!.claimed_by, await db.claimant());
  if (db.kind === 'pg') assert.ok(Number.isInteger(await db.claimant()));
});

test('several workers share the queue and run each job exactly once', async () => {
  const counts = new Map<number, number>();
  const make = () => {
    const q = createJobQueue(db, log);
    q.register('count', async (p) => {
      const n = (p as { n: number }).n;
      counts.set(n, (counts.get(n) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 1));
    });
    return q;
  };
  const producer = make();
  for (let n = 0; n < 30; n++) await producer.enqueue('count', { n });
  const ran = await Promise.all([make().runDue(100), make().runDue(100), make().runDue(100)]);
  assert.equal(
    ran.reduce((a, b) => a + b, 0),
    30,
  );
  assert.equal(counts.size, 30);
  assert.ok([...counts.values()].every((c) => c === 1));
});

test('a schedule enqueues its job once per interval across instances', async () => {
  let ran = 0;
  const a = createJobQueue(db, log);
  const b = createJobQueue(db, log);
  for (const q of [a, b]) q.register('tick', async () => void ran++);
  await a.schedule('tick', 3600);
  await b.schedule('tick', 3600);
  assert.equal(await a.runDue(), 0, 'first run after one interval');
  await db.query(`UPDATE job_schedules SET next_run_at = now() WHERE name = 'tick'`);
  await Promise.all([a.runDue(), b.runDue()]);
  assert.equal(ran, 1);
  const [s] = await db.query<{ next_run_at: Date }>(
    `SELECT next_run_at FROM job_schedules WHERE name = 'tick'`,
  );
  assert.ok(new Date(s!.next_run_at).getTime() > Date.now() + 3500_000);
});

test('the worker loop runs due jobs by itself and stops cleanly', async () => {
  const q = createJobQueue(db, log);
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  q.register('auto', async () => done());
  await q.enqueue('auto', {});
  q.start(20);
  await finished;
  await q.stop();
  assert.deepEqual(
    (await rows('auto')).map((r) => r.status),
    ['done'],
  );
});

test('a job enqueued inside a unit of work exists exactly when the work commits', async () => {
  const q = createJobQueue(db, log);
  await db.query('CREATE TABLE IF NOT EXISTS uow_probe (n int)');
  await db.transaction(async (tx) => {
    await tx.execute(sql`INSERT INTO uow_probe VALUES (1)`);
    await q.enqueue('committed', { n: 1 }, { tx });
  });
  await assert.rejects(
    db.transaction(async (tx) => {
      await tx.execute(sql`INSERT INTO uow_probe VALUES (2)`);
      await q.enqueue('rolled-back', { n: 2 }, { tx });
      throw new Error('failure after the enqueue');
    }),
    /failure after the enqueue/,
  );
  assert.equal((await rows('committed')).length, 1);
  assert.equal((await rows('rolled-back')).length, 0, 'a rolled-back change enqueues nothing');
  assert.deepEqual(
    (await db.query<{ n: number }>('SELECT n FROM uow_probe')).map((r) => r.n),
    [1],
  );
  await db.query('DROP TABLE uow_probe');
});

test('on PGlite a query outside the unit of work from inside it throws instead of waiting for ever', async (t) => {
  if (db.kind !== 'pglite') return t.skip('PGlite only: PostgreSQL has a pool of connections');
  await assert.rejects(
    db.transaction(async () => {
      await db.query('SELECT 1');
    }),
    /use its tx/,
  );
  await assert.rejects(
    db.transaction(async () => {
      await db.db.execute(sql`SELECT 1`);
    }),
    (err: Error) => /use its tx/.test(String((err.cause as Error | undefined)?.message)),
  );
  assert.deepEqual(await db.query('SELECT 1 AS one'), [{ one: 1 }], 'the database still answers');
});

test('one due schedule claimed by five instances at once: one job, run once', async () => {
  let ran = 0;
  const queues = Array.from({ length: 5 }, () => createJobQueue(db, log));
  for (const q of queues) {
    q.register('rush', async () => void ran++);
    await q.schedule('rush', 60);
  }
  await db.query(`UPDATE job_schedules SET next_run_at = now() WHERE name = 'rush'`);
  await Promise.all(queues.map((q) => q.runDue()));
  assert.equal(ran, 1);
  assert.equal((await rows('rush')).length, 1, 'one job row for the one slot');
});
