import type { FastifyBaseLogger } from 'fastify';
import { claimantGone, type Database, type Tx } from '../../db/client.ts';
import { jobs as jobsTable } from './schema.ts';

/**
 * A durable job queue in the database (a `jobs` table claimed with
 * `FOR UPDATE SKIP LOCKED`), safe with several app instances: each job runs on
 * one instance; a job whose instance dies is taken back at once on PostgreSQL
 * (its claimant's lock is gone: `Database.claimant`), at the next start on the
 * embedded database (`releaseClaims`), and in any case once its lease expires;
 * failures are retried with exponential back-off up to `maxAttempts`.
 *
 * Chosen over pg-boss because it must run on both of our drivers (PGlite and
 * node-postgres) through one small interface; see the README.
 */

export type JobHandler = (payload: unknown, job: { id: number; attempts: number }) => Promise<void>;

export interface EnqueueOptions {
  runAt?: Date;
  maxAttempts?: number;
  /**
   * The unit of work that causes this job (`database.transaction`'s `tx`): the
   * job row is written in that transaction, so it exists exactly when the
   * change that caused it committed — never lost in a crash after the commit,
   * never sent for a change rolled back.
   */
  tx?: Tx | undefined;
}

export interface JobQueue {
  register(name: string, handler: JobHandler): void;
  enqueue(name: string, payload: unknown, opts?: EnqueueOptions): Promise<number>;
  /** Run `name` every `everySeconds` (first run after one interval), once across all instances. */
  schedule(name: string, everySeconds: number): Promise<void>;
  /** Claim and run due jobs until none is left or `limit` ran; returns how many ran. */
  runDue(limit?: number): Promise<number>;
  start(pollMs?: number): void;
  stop(): Promise<void>;
  /** For /metrics: jobs waiting, due now, the oldest due one's wait, and failed for good. */
  stats(): Promise<JobStats>;
  /**
   * Every claimed job free to run again now: for a database only this
   * process can open (`soleUser`), at start, when a claim can only be a dead
   * process's. Returns how many.
   */
  releaseClaims(): Promise<number>;
}

export interface JobStats {
  pending: number;
  due: number;
  oldestDueSeconds: number;
  failed: number;
  /** By job name: failed for good, and waiting to be tried again after a failure. */
  failedByName: Record<string, number>;
  retryingByName: Record<string, number>;
}

/** Seconds to wait before attempt n+1: 15 s, 30 s, 1 min … capped at an hour. */
export function backoffSeconds(attempts: number): number {
  return Math.min(3600, 15 * 2 ** Math.max(0, attempts - 1));
}

const LEASE_SECONDS = 300;

interface ClaimedJob {
  id: string | number;
  name: string;
  payload: unknown;
  attempts: number;
  max_attempts: number;
}

export function createJobQueue(database: Database, log: FastifyBaseLogger): JobQueue {
  const handlers = new Map<string, JobHandler>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopping = false;

  /**
   * Each due schedule's slot is claimed by one instance (the row is locked,
   * and moved on, by whoever gets it first; the others skip it), and its job
   * is written in the same statement: a crash between the two cannot lose a
   * run, and no two instances enqueue the same one.
   */
  async function enqueueSchedules(): Promise<void> {
    await database.query(
      `WITH due AS (
         UPDATE job_schedules SET next_run_at = now() + every_seconds * interval '1 second'
          WHERE name IN (SELECT name FROM job_schedules WHERE next_run_at <= now() FOR UPDATE SKIP LOCKED)
          RETURNING name)
       INSERT INTO jobs (name, payload) SELECT name, '{}'::jsonb FROM due`,
    );
  }

  /**
   * The next due job, claimed for this process: one not claimed, or whose
   * lease ran out, or whose claimant's process is gone (PostgreSQL: see
   * `Database.claimant`).
   */
  async function claim(): Promise<ClaimedJob | undefined> {
    const rows = await database.query<ClaimedJob>(
      `UPDATE jobs SET locked_until = now() + $1 * interval '1 second', attempts = attempts + 1,
              claimed_by = $2
       WHERE id = (
         SELECT id FROM jobs
         WHERE status = 'pending' AND run_at <= now()
           AND (locked_until IS NULL OR locked_until < now() OR ${claimantGone('claimed_by')})
         ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING id, name, payload, attempts, max_attempts`,
      [LEASE_SECONDS, await database.claimant()],
    );
    return rows[0];
  }

  async function runOne(job: ClaimedJob): Promise<void> {
    const id = Number(job.id);
    const handler = handlers.get(job.name);
    try {
      if (!handler) throw new Error(`No handler registered for job "${job.name}"`);
      await handler(job.payload, { id, attempts: job.attempts });
      await database.query(
        `UPDATE jobs SET status = 'done', finished_at = now(), locked_until = NULL, last_error = NULL WHERE id = $1`,
        [id],
      );
    } catch (err) {
      const message = (err instanceof Error ? err.message : String(err)).slice(0, 500);
      const final = job.attempts >= job.max_attempts;
      await database.query(
        `UPDATE jobs SET status = $2, locked_until = NULL, last_error = $3,
           run_at = now() + $4 * interval '1 second', finished_at = CASE WHEN $2 = 'failed' THEN now() END
         WHERE id = $1`,
        [id, final ? 'failed' : 'pending', message, backoffSeconds(job.attempts)],
      );
      // The job's name and id only: payloads may hold personal data.
      log.warn({ jobId: id, job: job.name, attempts: job.attempts, final }, 'job failed');
    }
  }

  const queue: JobQueue = {
    register(name, handler) {
      handlers.set(name, handler);
    },
    async enqueue(name, payload, opts = {}) {
      const [row] = await (opts.tx ?? database.db)
        .insert(jobsTable)
        .values({
          name,
          payload: payload ?? {},
          runAt: opts.runAt ?? new Date(),
          maxAttempts: opts.maxAttempts ?? 8,
        })
        .returning({ id: jobsTable.id });
      return Number(row!.id);
    },
    async schedule(name, everySeconds) {
      await database.query(
        `INSERT INTO job_schedules (name, every_seconds, next_run_at)
         VALUES ($1, $2::int, now() + $2::int * interval '1 second')
         ON CONFLICT (name) DO UPDATE SET every_seconds = EXCLUDED.every_seconds`,
        [name, everySeconds],
      );
    },
    async runDue(limit = 50) {
      await enqueueSchedules();
      let count = 0;
      while (count < limit && !stopping) {
        const job = await claim();
        if (!job) break;
        await runOne(job);
        count++;
      }
      return count;
    },
    async stats() {
      const [row] = await database.query<{
        pending: number;
        due: number;
        oldest: number | null;
        failed: number;
      }>(
        `SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending,
                count(*) FILTER (WHERE status = 'pending' AND run_at <= now())::int AS due,
                extract(epoch FROM now() - min(run_at) FILTER (WHERE status = 'pending' AND run_at <= now()))::float8 AS oldest,
                count(*) FILTER (WHERE status = 'failed')::int AS failed
           FROM jobs`,
      );
      const byName = await database.query<{ name: string; failed: number; retrying: number }>(
        `SELECT name, count(*) FILTER (WHERE status = 'failed')::int AS failed,
                count(*) FILTER (WHERE status = 'pending')::int AS retrying
           FROM jobs WHERE status = 'failed' OR (status = 'pending' AND last_error IS NOT NULL)
          GROUP BY name`,
      );
      return {
        pending: row?.pending ?? 0,
        due: row?.due ?? 0,
        oldestDueSeconds: row?.oldest ?? 0,
        failed: row?.failed ?? 0,
        failedByName: Object.fromEntries(byName.map((r) => [r.name, r.failed])),
        retryingByName: Object.fromEntries(byName.map((r) => [r.name, r.retrying])),
      };
    },
    async releaseClaims() {
      const rows = await database.query<{ id: number }>(
        `UPDATE jobs SET locked_until = NULL WHERE status = 'pending' AND locked_until IS NOT NULL RETURNING id`,
      );
      return rows.length;
    },
    start(pollMs = 1000) {
      if (timer) return;
      stopping = false;
      timer = setInterval(() => {
        if (running) return;
        running = queue
          .runDue()
          .catch((err: unknown) => log.error({ err }, 'job worker tick failed'))
          .finally(() => {
            running = undefined;
          });
      }, pollMs);
      timer.unref();
    },
    async stop() {
      stopping = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
  queue.register('jobs.cleanup', async () => {
    // Finished jobs may carry personal data (an email's recipient): keep a week.
    await database.query(
      `DELETE FROM jobs WHERE status IN ('done', 'failed') AND finished_at < now() - interval '7 days'`,
    );
  });
  return queue;
}
