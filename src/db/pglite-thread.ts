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
import { Worker } from 'node:worker_threads';

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
  /** Statements waiting for the database or running (for the health metrics and tests). */
  readonly pending: number;
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
 * Start the worker and wait until the database is open. `onExit` is called if
 * the worker stops without being closed.
 */
export async function startPgliteThread(
  options: WorkerOptions,
  onExit: (err: Error) => void = () => undefined,
): Promise<ThreadedPglite> {
  // dist/*.js: the compiled worker beside this file. src/*.ts under tsx (tests,
  // development): a worker does not inherit tsx's loader, so a two-line
  // script loads it first and then the TypeScript worker through it.
  const file = new URL(
    `./pglite-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
    import.meta.url,
  );
  const worker = file.pathname.endsWith('.ts')
    ? new Worker(
        `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => tsx.tsImport(${JSON.stringify(file.href)}, ${JSON.stringify(import.meta.url)}));`,
        { eval: true, workerData: options, resourceLimits: WORKER_LIMITS },
      )
    : new Worker(file, { workerData: options, resourceLimits: WORKER_LIMITS });
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  let closing = false;
  let dead: Error | undefined;

  const ready = new Promise<void>((resolve, reject) => {
    waiting.set(0, { resolve: () => resolve(), reject });
  });
  worker.on('message', (message: Response) => {
    const w = waiting.get(message.id);
    if (!w) return;
    waiting.delete(message.id);
    if (message.ok) w.resolve(message.result);
    else w.reject(toError(message.error));
  });
  const fail = (err: Error) => {
    dead ??= err;
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
    if (!closing) onExit(err);
  };
  worker.on('error', (err) => fail(err));
  worker.on('exit', (code) => fail(new Error(`The embedded database's thread stopped (${code})`)));

  const call = <T>(request: Operation): Promise<T> => {
    if (dead) return Promise.reject(dead);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ ...request, id });
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

  try {
    await ready;
  } catch (err) {
    closing = true;
    await worker.terminate();
    throw err;
  }
  return {
    ...target(),
    async transaction(work) {
      const tx = await call<number>({ op: 'begin' });
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
        await call({ op: 'end', tx, commit: false });
        throw err;
      }
      await call({ op: 'end', tx, commit: !rolledBack });
      return result;
    },
    async close() {
      if (closing) return;
      closing = true;
      try {
        if (!dead) await call({ op: 'close' });
      } finally {
        await worker.terminate();
      }
    },
    get pending() {
      return waiting.size;
    },
  };
}
