/**
 * The embedded database's own thread (see pglite-thread.ts for the other
 * side). PGlite runs PostgreSQL compiled to WebAssembly synchronously: in the
 * server's thread, every query stopped rendering, and the second core idled.
 * Here it answers the server's messages one at a time, in the order they
 * came (first come, first served), while the server renders pages.
 *
 * Messages in: { id, op, … } (see Request); out: { id, ok, result | error }.
 * A unit of work is a PGlite transaction held open in this thread until the
 * server says how it ended; statements tagged with its number run inside it,
 * others wait for it (PGlite's own lock), as they did in one thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { citext } from '@electric-sql/pglite/contrib/citext';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { unaccent } from '@electric-sql/pglite/contrib/unaccent';
import { withOneExchangeQueries } from './pglite-query.ts';
import type { Request, Response, WorkerOptions } from './pglite-thread.ts';
import { readTarball } from './tarball.ts';

const port = parentPort!;
const options = workerData as WorkerOptions;

/** Rolls a unit of work back when the server's side of it threw. */
class Rollback extends Error {}

const send = (message: Response) => port.postMessage(message);

function failure(id: number, err: unknown): Response {
  const e = err as Error & Record<string, unknown>;
  // Structured cloning keeps an error's message only: copy what callers read
  // (PostgreSQL's code, detail, constraint …) as plain fields.
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    if (v === undefined || typeof v === 'function' || typeof v === 'object') continue;
    fields[k] = v;
  }
  return { id, ok: false, error: { message: e?.message ?? String(err), name: e?.name, fields } };
}

/** Parsers that hand these types back as text (what Drizzle asks for, by type), made once a set. */
const textParsersMade = new Map<string, Record<number, (value: string) => string>>();
function textParsers(oids: number[] | undefined) {
  if (!oids?.length) return undefined;
  const key = oids.join(',');
  let parsers = textParsersMade.get(key);
  if (!parsers) {
    parsers = Object.fromEntries(oids.map((oid) => [oid, (value: string) => value]));
    textParsersMade.set(key, parsers);
  }
  return parsers;
}

async function main() {
  const template =
    options.templatePath !== undefined ? readTarball(options.templatePath) : undefined;
  // Statements in one exchange with the database where they can (pglite-query.ts), as in
  // the server's thread when PGlite runs there.
  const db = withOneExchangeQueries(
    await PGlite.create({
      dataDir: options.dataDir,
      ...(template ? { loadDataDir: template } : {}),
      extensions: { citext, pg_trgm, unaccent },
      startParams: [...PGlite.defaultStartParams, ...options.startParams],
    }),
  );
  const open = new Map<number, { tx: Transaction; end: (commit: boolean) => void }>();
  const outcomes = new Map<number, Promise<void>>();
  let nextTx = 1;

  async function run(message: Request): Promise<unknown> {
    switch (message.op) {
      case 'query': {
        const target = message.tx ? open.get(message.tx)?.tx : db;
        if (!target) throw new Error('The unit of work has ended');
        const parsers = textParsers(message.textTypes);
        return target.query(message.sql, message.params, {
          ...(message.rowMode ? { rowMode: message.rowMode } : {}),
          ...(parsers ? { parsers } : {}),
        });
      }
      case 'exec': {
        const target = message.tx ? open.get(message.tx)?.tx : db;
        if (!target) throw new Error('The unit of work has ended');
        return target.exec(message.sql);
      }
      case 'begin': {
        const number = nextTx++;
        let started!: () => void;
        const ready = new Promise<void>((resolve) => (started = resolve));
        // The transaction stays open (PGlite's lock held) until 'end' arrives.
        const outcome = db
          .transaction(
            (tx) =>
              new Promise<void>((committed, rolledBack) => {
                open.set(number, {
                  tx,
                  end: (commit) => (commit ? committed() : rolledBack(new Rollback())),
                });
                started();
              }),
          )
          .then(
            () => undefined,
            (err: unknown) => {
              if (!(err instanceof Rollback)) throw err;
            },
          )
          .finally(() => open.delete(number));
        outcome.catch(() => undefined); // awaited by 'end' (or just below, if BEGIN failed)
        await Promise.race([ready, outcome]);
        if (!open.has(number)) {
          await outcome;
          throw new Error('The unit of work could not start');
        }
        outcomes.set(number, outcome);
        return number;
      }
      case 'end': {
        const unit = open.get(message.tx);
        const outcome = outcomes.get(message.tx);
        outcomes.delete(message.tx);
        if (!unit || !outcome) throw new Error('The unit of work has ended');
        unit.end(message.commit);
        await outcome; // a failed COMMIT is the caller's error
        return null;
      }
      case 'close':
        await db.close();
        return null;
    }
  }
  port.on('message', (message: Request) => {
    run(message).then(
      (result) => send({ id: message.id, ok: true, result }),
      (err: unknown) => send(failure(message.id, err)),
    );
  });
  send({ id: 0, ok: true, result: 'ready' });
}

main().catch((err: unknown) => send(failure(0, err)));
