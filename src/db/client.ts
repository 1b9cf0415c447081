import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { acquireDirLock, type DirLock } from './lock.ts';
import { DatabaseOpenError } from './open-error.ts';
import type { ThreadedPglite } from './pglite-thread.ts';
import { readTarball } from './tarball.ts';

// Each driver is loaded only when it is used: PGlite (and its Drizzle
// adapter) without DATABASE_URL, pg with it (a few hundred milliseconds of
// start-up each).

/** The Drizzle database every repository receives; the same type for both drivers. */
export type Db = PgDatabase<PgQueryResultHKT>;

/**
 * A unit of work's transaction (Drizzle's `tx`). It is a `Db` too, so a
 * repository built over it (or a repository function given it) runs its SQL
 * inside the transaction.
 */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface Database {
  kind: 'pglite' | 'pg';
  db: Db;
  /** Run one or more SQL statements without parameters (migrations). */
  exec(sqlText: string): Promise<void>;
  /** A parameterised query returning rows; for platform code that works below Drizzle. */
  query<T = Record<string, unknown>>(sqlText: string, params?: unknown[]): Promise<T[]>;
  /**
   * A unit of work: run `work` in one transaction, committed when it resolves
   * and rolled back when it throws. Everything inside goes through `tx` —
   * repositories, `jobs.enqueue(…, { tx })`, `mailer.send(…, { tx })` — so a
   * change and the jobs it causes commit together or not at all. On PGlite
   * (one connection) it is Drizzle's transaction on that connection; on
   * PostgreSQL, on a client of the pool held until the end.
   */
  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  /** Run fn while holding a database-wide lock on `key` (a no-op serialisation on PGlite). */
  withLock<T>(key: number, fn: () => Promise<T>): Promise<T>;
  /** True when the database answers. */
  ping(): Promise<boolean>;
  /**
   * The connection pool's use, for /metrics: connections open, idle, the
   * most it may open, and queries waiting for one. PGlite is one connection.
   */
  poolStats(): PoolStats;
  close(): Promise<void>;
  /**
   * The embedded database in its own thread only: start that thread anew once
   * the work in flight has ended, giving back the memory its WebAssembly grew
   * to (after seeding a new database; it never shrinks otherwise).
   */
  renew?(): Promise<void>;
  /** Set when this process created a new embedded database. */
  created: boolean;
  /**
   * Only this process can open the database (the embedded one: its folder
   * is locked, or it lives in memory). Then whatever was claimed in it
   * before it opened — a job, a batch of a send — was claimed by a process
   * that has died, and can be taken back at once rather than after a lease.
   */
  soleUser: boolean;
  /**
   * This process's mark for what it claims (a job, a batch of a send), on
   * PostgreSQL: a number whose advisory lock a connection of its own holds
   * for as long as the process lives. The server ends that session when the
   * process dies (even by kill -9, once the socket closes), so another
   * instance sees at once that the claim's owner is gone (`claimantGone`)
   * and takes it back, rather than waiting out a lease. Null on the embedded
   * database, where `soleUser` does the same at start.
   */
  claimant(): Promise<number | null>;
  /** The embedded engine, for snapshots in tests. */
  pglite?: PGlite;
}

/** The first key of the claimants' advisory locks (the second is the claimant's number). */
export const CLAIMANT_LOCKS = 0x5350;

/**
 * SQL true when `column` names a claimant (`Database.claimant`) whose
 * process is gone: no session holds its advisory lock any more. False for a
 * claim with no claimant (the embedded database, or made before claimants).
 * `column` is a column reference written by our code, never input.
 */
export function claimantGone(column: string): string {
  return `(${column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_locks l
    WHERE l.locktype = 'advisory'
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND l.classid = ${CLAIMANT_LOCKS}::oid
      AND l.objid = ${column}::oid AND l.objsubid = 2 AND l.granted))`;
}

export interface PoolStats {
  total: number;
  idle: number;
  max: number;
  waiting: number;
}

export interface OpenOptions {
  databaseUrl?: string | undefined;
  /** Directory for the embedded database; undefined means in memory. */
  dataDir?: string | undefined;
  /** A snapshot (from PGlite.dumpDataDir) to start the in-memory database from. */
  snapshot?: Blob | undefined;
  /**
   * A tarball (PGlite.dumpDataDir of a migrated, empty database, made by the
   * build) that a new embedded database in dataDir starts from, instead of
   * running initdb and every migration: several seconds less on a first start.
   */
  template?: string | undefined;
  poolSize?: number;
  /**
   * Run the embedded database in a worker thread of its own (pglite-thread.ts):
   * what `serve` does. Needs dataDir. Tests and one-off commands keep it in
   * the calling thread (no thread to start, and snapshots need it there).
   */
  worker?: boolean;
  /**
   * With `worker`: resolve as soon as the thread is started, while it opens
   * the database on another core; statements wait for it, and fail with its
   * error if it cannot open (`serve` builds the application meanwhile).
   */
  openInBackground?: boolean;
}

export async function openDatabase(opts: OpenOptions): Promise<Database> {
  return opts.databaseUrl ? openPg(opts.databaseUrl, opts.poolSize ?? 10) : openPglite(opts);
}

/**
 * PostgreSQL's default 128 MB of shared buffers is zeroed at every start
 * (about 0.5 s of CPU, and 110 MB more memory). The embedded database's files
 * sit in the operating system's cache, outside the process: 8 MB of buffers
 * served the demo content's pages as fast as 32 MB (bench/content.ts) and the
 * server held ~25 MB less after start and ~35 MB less under load.
 */
const PGLITE_SETTINGS = ['-c', 'shared_buffers=8MB'];

/** Either PGlite itself or its worker-thread stand-in: what the code below calls. */
type PgliteLike = Pick<PGlite, 'query' | 'exec' | 'transaction' | 'close'>;

async function openPglite(opts: OpenOptions): Promise<Database> {
  let lock: DirLock | undefined;
  let dir: string | undefined;
  let created = true;
  if (opts.dataDir) {
    mkdirSync(opts.dataDir, { recursive: true });
    lock = acquireDirLock(join(opts.dataDir, 'db.lock'));
    dir = join(opts.dataDir, 'db');
    created = !existsPgData(dir);
  }
  let client: PgliteLike;
  let engine: PGlite | undefined;
  let thread: ThreadedPglite | undefined;
  const template =
    dir && created && !opts.snapshot && opts.template && existsSync(opts.template)
      ? opts.template
      : undefined;
  try {
    if (opts.worker && dir) {
      const { startPgliteThread } = await import('./pglite-thread.ts');
      thread = startPgliteThread(
        {
          dataDir: dir,
          ...(template ? { templatePath: template } : {}),
          startParams: PGLITE_SETTINGS,
        },
        (err) => {
          // The database is gone: nothing more can be served or saved. Stop
          // (the process manager restarts; the data on disk is as committed).
          process.stderr.write(`${err.message}\n`);
          process.exit(1);
        },
      );
      client = thread as unknown as PgliteLike;
      if (!opts.openInBackground) await thread.opened;
    } else {
      const [{ PGlite }, { citext }, { pg_trgm }, { unaccent }, { withOneExchangeQueries }] =
        await Promise.all([
          import('@electric-sql/pglite'),
          import('@electric-sql/pglite/contrib/citext'),
          import('@electric-sql/pglite/contrib/pg_trgm'),
          import('@electric-sql/pglite/contrib/unaccent'),
          import('./pglite-query.ts'),
        ]);
      engine = await PGlite.create({
        ...(dir ? { dataDir: dir } : {}),
        ...(opts.snapshot ? { loadDataDir: opts.snapshot } : {}),
        ...(template ? { loadDataDir: readTarball(template) } : {}),
        extensions: { citext, pg_trgm, unaccent },
        startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS],
      });
      // Statements in one exchange with the database where they can (pglite-query.ts).
      client = withOneExchangeQueries(engine);
    }
  } catch (err) {
    lock?.release();
    // The thread says so itself (DatabaseOpenError); in this thread, say it here.
    throw dir && !(err instanceof DatabaseOpenError) ? new DatabaseOpenError(dir, err) : err;
  }
  let closed = false;
  // PGlite is one connection: a statement sent to it outside the transaction
  // from inside a unit of work would wait for that transaction to end, which
  // waits for the statement: for ever. Such a statement throws instead.
  const inTransaction = new AsyncLocalStorage<true>();
  const outside = () => {
    if (inTransaction.getStore())
      throw new Error(
        'A query outside the unit of work from inside it (use its tx): on PGlite it would wait for ever',
      );
  };
  const guarded = new Proxy(client, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (prop === 'query' || prop === 'exec' || prop === 'transaction' || prop === 'sql')
        return (...args: unknown[]) => {
          outside();
          return fn.apply(target, args);
        };
      return fn.bind(target);
    },
  });
  // Loaded once the database thread is on its way (it opens the database on another core
  // meanwhile): loading Drizzle first held the thread back ~300 ms of a 1.2 s start.
  const { drizzle: drizzlePglite } = await import('drizzle-orm/pglite');
  const db = drizzlePglite({ client: guarded as PGlite }) as unknown as Db;
  return {
    kind: 'pglite',
    db,
    created: created && !opts.snapshot,
    soleUser: true,
    async claimant() {
      return null;
    },
    ...(engine ? { pglite: engine } : {}),
    ...(thread ? { renew: () => thread.renew() } : {}),
    async transaction(work) {
      outside();
      return db.transaction((tx) => inTransaction.run(true, () => work(tx)));
    },
    async exec(sqlText) {
      outside();
      try {
        await client.exec(sqlText);
      } catch (err) {
        await client.exec('ROLLBACK').catch(() => undefined);
        throw err;
      }
    },
    async query<T>(sqlText: string, params: unknown[] = []) {
      outside();
      const res = await client.query<T>(sqlText, params);
      return res.rows;
    },
    poolStats() {
      return { total: closed ? 0 : 1, idle: closed ? 0 : 1, max: 1, waiting: 0 };
    },
    async withLock(_key, fn) {
      // PGlite is one connection in one process: the directory lock already
      // excludes other processes, and statements are serialised by the engine.
      return fn();
    },
    async ping() {
      if (closed) return false;
      try {
        await client.query('select 1');
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await client.close();
      } finally {
        lock?.release();
      }
    },
  };
}

/** PG_VERSION is written when a cluster is initialised. */
function existsPgData(dir: string): boolean {
  return existsSync(join(dir, 'PG_VERSION'));
}

async function openPg(url: string, max: number): Promise<Database> {
  const [{ default: pg }, { drizzle: drizzlePg }] = await Promise.all([
    import('pg'),
    import('drizzle-orm/node-postgres'),
  ]);
  // JIT compilation is for long analytical queries; for a web page's short ones it only adds
  // milliseconds (it switched on for a deep page of a 50,000-thread list and cost 10 ms).
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: 5000,
    options: '-c jit=off',
  });
  // An idle client losing its connection must not crash the process.
  pool.on('error', () => undefined);
  const db = drizzlePg(pool) as unknown as Db;
  let closed = false;
  let claimantHeld: Promise<number> | undefined;
  let claimantClient: InstanceType<typeof pg.Client> | undefined;
  return {
    kind: 'pg',
    db,
    created: false,
    soleUser: false,
    claimant() {
      claimantHeld ??= (async () => {
        // Outside the pool: the lock lives as long as this session, which lives as long as we do.
        const client = new pg.Client({ connectionString: url });
        const key = 1 + Math.floor(Math.random() * 0x7ffffffe);
        // A session that fails is a claimant gone: the next claim takes a new number.
        client.on('error', () => {
          claimantHeld = undefined;
        });
        await client.connect();
        await client.query('SELECT pg_advisory_lock($1::int, $2::int)', [CLAIMANT_LOCKS, key]);
        claimantClient = client;
        return key;
      })().catch((err: unknown) => {
        claimantHeld = undefined;
        throw err;
      });
      return claimantHeld;
    },
    async transaction(work) {
      return db.transaction(work);
    },
    async exec(sqlText) {
      const client = await pool.connect();
      try {
        await client.query(sqlText);
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async query<T>(sqlText: string, params: unknown[] = []) {
      const res = await pool.query(sqlText, params);
      return res.rows as T[];
    },
    poolStats() {
      return {
        total: pool.totalCount,
        idle: pool.idleCount,
        max,
        waiting: pool.waitingCount,
      };
    },
    async withLock(key, fn) {
      // A connection of its own, outside the pool, so fn can use the pool freely.
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [key]);
        return await fn();
      } finally {
        // Ending the session releases the lock even if unlocking fails.
        await client.end();
      }
    },
    async ping() {
      if (closed) return false;
      try {
        await pool.query('select 1');
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await claimantClient?.end().catch(() => undefined);
      await pool.end();
    },
  };
}
