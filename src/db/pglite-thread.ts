/**
 * PGlite in a worker thread (pglite-worker.ts), seen from the server's
 * thread as the small part of PGlite's interface that Drizzle and
 * client.ts use: query, exec, transaction, close.
 *
 * Why: PGlite runs each statement synchronously in the thread that calls it.
 * In the server's thread a page's queries and its rendering took turns on one
 * core, and because a query's promise settles without going back to the event
 * loop, a burst of requests was served one whole request after another while
 * new connections waited to be read (seconds, under 50 connections). In its
 * own thread the database uses the second core, every query is a message that
 * returns through the event loop, and the worker answers messages strictly in
 * the order they came.
 *
 * The directory lock stays with the server's process (client.ts takes it
 * before starting the worker); if the worker dies, every waiting query fails
 * and `onExit` is told, and the server stops (nothing half-done: PostgreSQL's
 * own write-ahead log in the data directory is what makes commits durable).
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SRC_DIR } from '../root.ts';
import { DatabaseOpenError } from './open-error.ts';

export interface WorkerOptions {
  dataDir: string;
  /** A data directory tarball to start a new database from (the build's template). */
  templatePath?: string;
  startParams: string[];
}

/** One thing for the database thread to do. */
export type Operation =
  | {
      op: 'query';
      sql: string;
      params: unknown[];
      tx?: number;
      rowMode?: 'array' | 'object';
      /** Types to hand back as text, as Drizzle asks (its parsers are all "as text"). */
      textTypes?: number[];
    }
  | { op: 'exec'; sql: string; tx?: number }
  | { op: 'begin' }
  | { op: 'end'; tx: number; commit: boolean }
  | { op: 'close' };

export type Request = { id: number } & Operation;

export type Response =
  | { id: number; ok: true; result: unknown }
  | {
      id: number;
      ok: false;
      error: { message: string; name?: string; fields: Record<string, unknown> };
    };

/** What Drizzle's PGlite adapter and client.ts call on a PGlite (or on its transaction). */
export interface QueryTarget {
  query<T>(
    sql: string,
    params?: unknown[],
    options?: { rowMode?: 'array' | 'object'; parsers?: Record<number, unknown> },
  ): Promise<{ rows: T[]; fields: unknown[]; affectedRows?: number }>;
  exec(sql: string): Promise<unknown>;
}

export interface ThreadedPglite extends QueryTarget {
  transaction<T>(work: (tx: QueryTarget & { rollback(): Promise<void> }) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /**
   * Stop the thread and start it again on the same data directory, once every
   * unit of work has ended (new work waits meanwhile): the memory PGlite's
   * WebAssembly grew to (it never shrinks), e.g. seeding a new database, goes
   * back to the system.
   */
  renew(): Promise<void>;
  /** Statements waiting for the database or running (for the health metrics and tests). */
  readonly pending: number;
  /**
   * Settles when the thread has opened the database (or failed to). Work
   * asked for before then waits for it, and fails with its error.
   */
  readonly opened: Promise<void>;
}

function toError(error: { message: string; name?: string; fields: Record<string, unknown> }) {
  const { name, message: _message, stack: _stack, ...fields } = error.fields;
  const err = Object.assign(new Error(error.message), fields);
  const kind = error.name ?? name;
  if (typeof kind === 'string' && kind !== 'Error')
    Object.defineProperty(err, 'name', { value: kind, writable: true, configurable: true });
  return err;
}

/**
 * The thread's JavaScript only passes messages and turns rows into objects:
 * a small young generation (V8 grows it to 32 MB under load otherwise) keeps
 * ~20 MB off the process's memory at no measurable cost.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 8 };

/**
 * Start the worker. The handle comes back at once, while the thread opens the
 * database on another core (`opened`): work asked for meanwhile waits, so a
 * caller can get on with its own start (the server builds its application).
 * `onExit` is called if the worker stops, once open, without being closed.
 */
export function startPgliteThread(
  options: WorkerOptions,
  onExit: (err: Error) => void = () => undefined,
): ThreadedPglite {
  // dist/db/pglite-worker.js: the built worker (its own entry of the bundle).
  // src/db/*.ts under tsx (tests, development): a worker does not inherit
  // tsx's loader, so a two-line script loads it first and then the
  // TypeScript worker through it.
  const file = pathToFileURL(
    join(SRC_DIR, 'db', `pglite-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`),
  );
  const spawn = (opts: WorkerOptions) =>
    file.pathname.endsWith('.ts')
      ? new Worker(
          `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => tsx.tsImport(${JSON.stringify(file.href)}, ${JSON.stringify(import.meta.url)}));`,
          { eval: true, workerData: opts, resourceLimits: WORKER_LIMITS },
        )
      : new Worker(file, { workerData: opts, resourceLimits: WORKER_LIMITS });
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  let closing = false;
  let dead: Error | undefined;
  /** Units of work begun and not yet ended. */
  let openUnits = 0;
  /** While the thread is started anew: new work waits for it. */
  let renewing: Promise<void> | undefined;

  /** Threads stopped on purpose (renew): their exit is no failure. */
  const retired = new WeakSet<Worker>();
  /** Start a thread and resolve once its database is open. */
  const begin = async (opts: WorkerOptions): Promise<Worker> => {
    const w = spawn(opts);
    const ready = new Promise<void>((resolve, reject) => {
      waiting.set(0, { resolve: () => resolve(), reject });
    });
    w.on('message', (message: Response) => {
      const entry = waiting.get(message.id);
      if (!entry) return;
      waiting.delete(message.id);
      if (message.ok) entry.resolve(message.result);
      else entry.reject(toError(message.error));
    });
    let open = false;
    // Only the thread in use: one stopped on purpose by renew() is not a failure. A thread
    // that stops before its database is open fails the opening (`ready`), not the process:
    // one that could not open may end before its error is read (seen under load).
    const fail = (err: Error) => {
      if (retired.has(w)) return;
      dead ??= err;
      for (const entry of waiting.values()) entry.reject(err);
      waiting.clear();
      if (open && !closing) onExit(err);
    };
    w.on('error', (err) => fail(err));
    w.on('exit', (code) => fail(new Error(`The embedded database's thread stopped (${code})`)));
    try {
      await ready;
      open = true;
    } catch (err) {
      closing = true;
      await w.terminate();
      throw new DatabaseOpenError(opts.dataDir, err);
    }
    return w;
  };

  let worker: Worker | undefined;
  const opened = begin(options).then((w) => {
    worker = w;
  });
  opened.catch(() => undefined); // the error reaches whoever asks for work, or awaits `opened`
  const call = <T>(request: Operation): Promise<T> => {
    if (!worker) return opened.then(() => call<T>(request));
    if (dead) return Promise.reject(dead);
    // Statements of a unit already begun go on; anything new waits for a renewed thread.
    if (renewing && !('tx' in request && request.tx)) return renewing.then(() => call<T>(request));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker!.postMessage({ ...request, id });
    });
  };

  const target = (tx?: number): QueryTarget => ({
    query(sql, params = [], opts) {
      return call({
        op: 'query',
        sql,
        params,
        ...(tx ? { tx } : {}),
        ...(opts?.rowMode ? { rowMode: opts.rowMode } : {}),
        ...(opts?.parsers ? { textTypes: Object.keys(opts.parsers).map(Number) } : {}),
      });
    },
    exec(sql) {
      return call({ op: 'exec', sql, ...(tx ? { tx } : {}) });
    },
  });

  return {
    ...target(),
    async transaction(work) {
      const tx = await call<number>({ op: 'begin' });
      openUnits++;
      let rolledBack = false;
      const inside = {
        ...target(tx),
        async rollback() {
          rolledBack = true;
        },
      };
      let result;
      try {
        result = await work(inside);
      } catch (err) {
        await call({ op: 'end', tx, commit: false }).finally(() => openUnits--);
        throw err;
      }
      await call({ op: 'end', tx, commit: !rolledBack }).finally(() => openUnits--);
      return result;
    },
    renew() {
      renewing ??= (async () => {
        // Quiet first: every unit of work ended and every statement answered.
        while (openUnits > 0 || waiting.size > 0) await new Promise((r) => setTimeout(r, 5));
        const old = worker!;
        retired.add(old);
        await new Promise<void>((resolve, reject) => {
          waiting.set(-1, { resolve: () => resolve(), reject });
          old.postMessage({ op: 'close', id: -1 });
        });
        await old.terminate();
        // The data directory exists now: no template.
        worker = await begin({ dataDir: options.dataDir, startParams: options.startParams });
      })().finally(() => {
        renewing = undefined;
      });
      return renewing;
    },
    async close() {
      if (closing) return;
      closing = true;
      await renewing?.catch(() => undefined);
      // A thread that failed to open is already stopped (begin).
      if (
        !(await opened.then(
          () => true,
          () => false,
        ))
      )
        return;
      try {
        if (!dead) await call({ op: 'close' });
      } finally {
        await worker?.terminate();
      }
    },
    get pending() {
      return waiting.size;
    },
    opened,
  };
}
