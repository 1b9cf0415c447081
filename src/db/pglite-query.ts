/**
 * A statement with parameters in one exchange with PGlite, instead of its
 * query()'s six (parse; describe the statement, to learn its parameters'
 * types; bind; describe the result; execute; sync): each exchange is a call
 * into the WebAssembly and back, with its own promise and lock. Measured on
 * the demo content: a primary-key lookup ~270 → ~200 µs, `select 1` ~90 →
 * ~50 µs.
 *
 * The parameters' types are what PGlite asked the database for, to choose how
 * to write each value as text. Text, numbers, booleans and null are written
 * the same whatever the type (Drizzle has already turned dates, arrays and
 * JSON of its columns into text), so a statement with only those goes in one
 * exchange, with its types left for the database to infer, as for any
 * parameter sent as text; one with any other value (a Date, an array or an
 * object in raw SQL) goes through PGlite's query() as before.
 *
 * Its results are read with PGlite's own parser, given the types to leave as
 * text (Drizzle's dates) merged once into PGlite's 402 type parsers: handed
 * them as an option, PGlite copies all 402 for every statement (~120 µs, more
 * than the rest of reading a row of a resource).
 *
 * Locks as PGlite's own query() takes them: outside a transaction it waits
 * for any open one to end; inside, for the statement before it.
 */
import { parse, type PGlite, protocol, type Results } from '@electric-sql/pglite';

const serialize = protocol.serialize;

const plain = (v: unknown): v is string | number | boolean | bigint | null | undefined =>
  v === null ||
  v === undefined ||
  typeof v === 'string' ||
  typeof v === 'number' ||
  typeof v === 'boolean' ||
  typeof v === 'bigint';

/** The statement's messages, end to end, for one exchange. */
function messages(text: string, values: (string | null)[]): Uint8Array {
  return Buffer.concat([
    serialize.parse({ text }),
    serialize.bind({ values }),
    serialize.describe({ type: 'P' }),
    serialize.execute({}),
    serialize.sync(),
  ]);
}

/** PGlite's parsers with these types' replaced by "as text", made once per database and set. */
const merged = new WeakMap<PGlite, Map<string, PGlite['parsers']>>();
function parsersFor(db: PGlite, textTypes: number[] | undefined): PGlite['parsers'] {
  if (!textTypes?.length) return db.parsers;
  const key = textTypes.join(',');
  let byKey = merged.get(db);
  if (!byKey) merged.set(db, (byKey = new Map()));
  let parsers = byKey.get(key);
  if (!parsers) {
    parsers = { ...db.parsers };
    for (const oid of textTypes) parsers[oid] = (value: string) => value;
    byKey.set(key, parsers);
  }
  return parsers;
}

export interface OneExchangeOptions {
  rowMode?: 'array' | 'object' | undefined;
  /** Types to hand back as text (what Drizzle asks for). */
  textTypes?: number[] | undefined;
}

/**
 * Run `text` with `params` in one exchange, or return undefined (nothing run)
 * when a parameter is not plain: the caller then uses PGlite's query().
 */
export async function queryInOneExchange<T>(
  db: PGlite,
  text: string,
  params: unknown[],
  options: OneExchangeOptions,
  inTransaction: boolean,
): Promise<Results<T> | undefined> {
  if (!params.every(plain)) return undefined;
  const parsers = parsersFor(db, options.textTypes);
  const rowMode = options.rowMode ? { rowMode: options.rowMode } : {};
  const values = params.map((v) => (v === null || v === undefined ? null : String(v)));
  const run = () =>
    db._runExclusiveQuery(async () => {
      // Outside a transaction PGlite writes its files through after each statement, as here.
      const { messages: replies } = await db.execProtocol(messages(text, values), {
        syncToFs: !inTransaction,
      });
      return parse.parseResults(replies, parsers, rowMode)[0] as Results<T>;
    });
  return inTransaction ? run() : db._runExclusiveTransaction(run);
}

type Query = PGlite['query'];

/**
 * The query() of PGlite, or of one of its transactions, through
 * queryInOneExchange where it can: with no options beyond the row mode and
 * "as text" parsers (Drizzle's, which hand the text back as it is).
 */
function fastQuery(db: PGlite, inTransaction: boolean, slow: Query, isClosed?: () => boolean) {
  return (async (text: string, params: unknown[] = [], options?: Parameters<Query>[2]) => {
    const { rowMode, parsers, ...other } = options ?? {};
    if (Object.keys(other).length || isClosed?.()) return slow(text, params, options);
    const fast = await queryInOneExchange(
      db,
      text,
      params,
      { rowMode, textTypes: parsers ? Object.keys(parsers).map(Number) : undefined },
      inTransaction,
    );
    return fast ?? slow(text, params, options);
  }) as Query;
}

/** PGlite whose statements, in and out of transactions, go in one exchange where they can. */
export function withOneExchangeQueries(db: PGlite): PGlite {
  const query = fastQuery(db, false, db.query.bind(db));
  const transaction: PGlite['transaction'] = (work) =>
    db.transaction((tx) => {
      const txQuery = fastQuery(db, true, tx.query.bind(tx), () => tx.closed);
      return work(
        new Proxy(tx, { get: (t, prop) => (prop === 'query' ? txQuery : Reflect.get(t, prop, t)) }),
      );
    });
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'query') return query;
      if (prop === 'transaction') return transaction;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
}
