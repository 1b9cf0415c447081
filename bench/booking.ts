/**
 * `DATABASE_URL=postgres://… node --import tsx bench/booking.ts
 *    [--attempts 1000] [--places 100] [--instances 2] [--concurrency 200]`
 *
 * A booking rush: many people booking the last places of one event at once,
 * through several instances of OUR server sharing one PostgreSQL database.
 * Creates a throw-away database on the DATABASE_URL server, migrates it, adds
 * one published event with `--places` places, starts `--instances` servers,
 * fires `--attempts` bookings (GET the form, POST one attendee with
 * choice=split) with at most `--concurrency` in flight, then checks the
 * database: exactly `--places` confirmed, everyone else waiting, no oversell.
 * Exits 1 if a check fails or any POST did not answer 303; 2 on bad usage.
 * Always stops the servers and drops the database (also on Ctrl-C).
 * The servers are the compiled ones (`node dist/main.js serve`, with the
 * Dockerfile's flags): run `npm run build` first.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openDatabase } from '../src/db/client.ts';
import { migrate } from '../src/db/migrate.ts';
import type { StartedProcess } from './lib.ts';
import { freePorts, liveChildren, serveNodeFlags, startProcess, stopProcess } from './lib.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SLUG = 'bench-rush';
const REQUEST_TIMEOUT_MS = 60_000;
const SESSION_SECRET = 'bench-secret-bench-secret-bench-secret-123';

interface Options {
  attempts: number;
  places: number;
  instances: number;
  concurrency: number;
}

class UsageError extends Error {}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      attempts: { type: 'string', default: '1000' },
      places: { type: 'string', default: '100' },
      instances: { type: 'string', default: '2' },
      concurrency: { type: 'string', default: '200' },
    },
    strict: true,
  });
  const whole = (name: keyof Options, raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1)
      throw new UsageError(`--${name} must be a whole number >= 1`);
    return n;
  };
  const options = {
    attempts: whole('attempts', values.attempts),
    places: whole('places', values.places),
    instances: whole('instances', values.instances),
    concurrency: whole('concurrency', values.concurrency),
  };
  if (options.attempts > 16_000_000) throw new UsageError('--attempts must be <= 16000000');
  return options;
}

/** Runs one statement on the server's maintenance connection (CREATE/DROP DATABASE). */
async function adminQuery(databaseUrl: string, sqlText: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(sqlText);
  } finally {
    await client.end();
  }
}

function withDatabase(databaseUrl: string, name: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates the fresh bench database, migrates it and adds the one event. */
async function prepareDatabase(benchUrl: string, places: number): Promise<void> {
  const database = await openDatabase({ databaseUrl: benchUrl, poolSize: 2 });
  try {
    await migrate(database);
    await database.query(
      `INSERT INTO events (slug, title, summary, starts_at, ends_at, mode, capacity,
         max_per_booking, waitlist_enabled, organiser_name, organiser_email, status)
       VALUES ($1, 'Bench rush', 'Many people booking the last places at once.',
         now() + interval '30 days', now() + interval '30 days 2 hours', 'online', $2,
         4, true, 'Bench Organiser', 'organiser@example.org', 'published')`,
      [SLUG, places],
    );
  } finally {
    await database.close();
  }
}

/** A cookie jar of name=value pairs, fed from Set-Cookie headers. */
function cookieHeader(res: Response, previous = ''): string {
  const jar = new Map<string, string>();
  for (const pair of previous.split('; ').filter(Boolean)) {
    const at = pair.indexOf('=');
    jar.set(pair.slice(0, at), pair.slice(at + 1));
  }
  for (const line of res.headers.getSetCookie()) {
    const pair = line.split(';', 1)[0] ?? '';
    const at = pair.indexOf('=');
    if (at > 0) jar.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
  }
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

/** A distinct client address per attempt (10.x.y.z), so the per-address rate limit applies per person. */
function addressFor(i: number): string {
  const n = i + 1;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

interface Attempt {
  /** POST status; 0 when the POST was never answered (or never sent). */
  status: number;
  /** POST latency in ms (undefined if not sent). */
  ms: number | undefined;
  instance: number;
  problem?: string;
}

/** 503s answered "busy, try again" (admission), and retried as a browser's user would. */
let busyRetries = 0;
const MAX_BUSY_RETRIES = 5;

/**
 * fetch, and again after the Retry-After the server gives with a 503 (at most
 * 2 s, 5 times): a person told "try again in a moment" does. Admission turns
 * requests away before any work, so sending a form again books no one twice.
 */
async function fetchPolitely(url: string, init: RequestInit): Promise<Response> {
  for (let tries = 0; ; tries++) {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    if (res.status !== 503 || tries >= MAX_BUSY_RETRIES) return res;
    busyRetries++;
    await res.arrayBuffer();
    const wait = Math.min(2, Number(res.headers.get('retry-after')) || 1);
    await new Promise((resolve) => setTimeout(resolve, wait * 1000 * (0.5 + Math.random())));
  }
}

async function attempt(base: string, i: number, instance: number): Promise<Attempt> {
  const ip = addressFor(i);
  const url = `${base}/events/${SLUG}/book`;
  let page: Response;
  try {
    page = await fetchPolitely(url, {
      headers: { 'x-forwarded-for': ip },
      redirect: 'manual',
    });
  } catch (err) {
    return { status: 0, ms: undefined, instance, problem: `GET failed: ${(err as Error).message}` };
  }
  const html = await page.text();
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (page.status !== 200 || !token) {
    return {
      status: 0,
      ms: undefined,
      instance,
      problem: `GET answered ${page.status}${token ? '' : ' without a _csrf field'}`,
    };
  }
  const body = new URLSearchParams({
    _csrf: token,
    bookerName: `Bench Booker ${i}`,
    bookerEmail: `booker${i}@example.org`,
    places: '1',
    attendee_0_name: `Bench Person ${i}`,
    choice: 'split',
  });
  const started = performance.now();
  try {
    const res = await fetchPolitely(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: cookieHeader(page),
        'x-forwarded-for': ip,
      },
      body,
      redirect: 'manual',
    });
    const text = await res.text();
    const ms = performance.now() - started;
    if (res.status === 303) return { status: 303, ms, instance };
    const snippet = text
      .replace(/<[^>]*>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, 160);
    return { status: res.status, ms, instance, problem: `POST answered ${res.status}: ${snippet}` };
  } catch (err) {
    return {
      status: 0,
      ms: performance.now() - started,
      instance,
      problem: `POST failed: ${(err as Error).message}`,
    };
  }
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

interface Counts {
  confirmed: number;
  waiting: number;
  offered: number;
  cancelled: number;
  placesTaken: number;
  capacity: number;
  bookings: number;
}

async function readCounts(benchUrl: string): Promise<Counts> {
  const client = new pg.Client({ connectionString: benchUrl });
  await client.connect();
  try {
    const { rows: events } = await client.query<{ id: string; taken: number; capacity: number }>(
      'SELECT id, places_taken AS taken, capacity FROM events WHERE slug = $1',
      [SLUG],
    );
    const event = events[0];
    if (!event) throw new Error(`event ${SLUG} has gone`);
    const { rows } = await client.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM attendees WHERE event_id = $1 GROUP BY status',
      [event.id],
    );
    const of = (status: string): number => rows.find((r) => r.status === status)?.n ?? 0;
    const { rows: b } = await client.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM bookings WHERE event_id = $1',
      [event.id],
    );
    return {
      confirmed: of('confirmed'),
      waiting: of('waiting'),
      offered: of('offered'),
      cancelled: of('cancelled'),
      placesTaken: event.taken,
      capacity: event.capacity,
      bookings: b[0]?.n ?? 0,
    };
  } finally {
    await client.end();
  }
}

async function main(): Promise<number> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    console.error(
      'bench/booking.ts needs DATABASE_URL (a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/test)',
    );
    return 2;
  }
  let options: Options;
  try {
    options = parseOptions();
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }

  if (!existsSync(join(ROOT, 'dist/main.js'))) {
    console.error('Run `npm run build` first: the benchmark serves the compiled server.');
    return 2;
  }

  const dbName = `sp_bench_${process.pid}`;
  const benchUrl = withDatabase(databaseUrl, dbName);
  const dataDirs: string[] = [];
  const servers: StartedProcess[] = [];
  let created = false;
  let interrupted = false;

  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (cleaning ??= (async () => {
      await Promise.all(liveChildren().map((child) => stopProcess(child)));
      for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
      if (created) {
        try {
          await adminQuery(databaseUrl, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
        } catch (err) {
          console.error(`Could not drop database ${dbName}: ${(err as Error).message}`);
        }
      }
    })());
  const onSigint = (): void => {
    interrupted = true;
    console.log('\nInterrupted: stopping servers and dropping the bench database…');
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSigint);

  try {
    console.log(`Creating database ${dbName}…`);
    await adminQuery(databaseUrl, `CREATE DATABASE ${dbName}`);
    created = true;
    await prepareDatabase(benchUrl, options.places);

    const ports = await freePorts(options.instances);
    const bases = ports.map((port) => `http://127.0.0.1:${port}`);
    console.log(`Starting ${options.instances} server(s): ${bases.join(', ')}…`);
    await Promise.all(
      ports.map(async (port, i) => {
        const dataDir = mkdtempSync(join(tmpdir(), 'bench-booking-'));
        dataDirs.push(dataDir);
        const base = bases[i]!;
        servers.push(
          await startProcess(
            process.execPath,
            // The built server with the Dockerfile's flags (run `npm run build` first).
            [...serveNodeFlags(), join(ROOT, 'dist/main.js'), 'serve'],
            {
              ...process.env,
              DATABASE_URL: benchUrl,
              PORT: String(port),
              HOST: '127.0.0.1',
              DATA_DIR: dataDir,
              LOG_LEVEL: 'warn',
              NODE_ENV: 'production',
              SESSION_SECRET,
              BASE_URL: base,
              // The bench stands in for one proxy in front: each attempt's own address
              // (X-Forwarded-For) is the one the rate limits count.
              TRUST_PROXY: '1',
            },
            `${base}/readyz`,
          ),
        );
      }),
    );
    if (interrupted) return 130;

    console.log(
      `Booking: ${options.attempts} attempts for ${options.places} places, ` +
        `${options.concurrency} in flight, round-robin over ${options.instances} instance(s)…`,
    );
    const results: Attempt[] = new Array<Attempt>(options.attempts);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (!interrupted) {
        const i = next++;
        if (i >= options.attempts) return;
        const instance = i % bases.length;
        results[i] = await attempt(bases[instance]!, i, instance);
      }
    };
    const started = performance.now();
    await Promise.all(
      Array.from({ length: Math.min(options.concurrency, options.attempts) }, () => worker()),
    );
    const wallS = (performance.now() - started) / 1000;
    if (interrupted) return 130;

    const done = results.filter((r): r is Attempt => r !== undefined);
    const latencies = done
      .map((r) => r.ms)
      .filter((ms): ms is number => ms !== undefined)
      .sort((a, b) => a - b);
    const ok = done.filter((r) => r.status === 303).length;
    const statusTally = new Map<string, number>();
    for (const r of done) {
      const key = r.status === 0 ? 'no answer' : String(r.status);
      statusTally.set(key, (statusTally.get(key) ?? 0) + 1);
    }
    const counts = await readCounts(benchUrl);
    const httpRequests = done.length + latencies.length; // one GET each, plus the POSTs sent

    console.log('');
    console.log(`attempts:              ${options.attempts} (${options.places} places)`);
    console.log(`instances:             ${options.instances}, concurrency ${options.concurrency}`);
    console.log(`wall time:             ${wallS.toFixed(2)} s`);
    console.log(
      `POST latency (ms):     p50 ${percentile(latencies, 50).toFixed(1)}  ` +
        `p95 ${percentile(latencies, 95).toFixed(1)}  p99 ${percentile(latencies, 99).toFixed(1)}  ` +
        `max ${(latencies.at(-1) ?? NaN).toFixed(1)}`,
    );
    console.log(
      `requests/s:            ${(httpRequests / wallS).toFixed(1)} HTTP (GET + POST), ` +
        `${(done.length / wallS).toFixed(1)} attempts/s`,
    );
    console.log(`confirmations/s:       ${(counts.confirmed / wallS).toFixed(1)}`);
    console.log(
      `POST statuses:         ${[...statusTally].map(([s, n]) => `${s}: ${n}`).join(', ')}`,
    );
    console.log(`busy (503), retried:   ${busyRetries}`);
    console.log(
      `per instance (303s):   ${bases
        .map(
          (_b, i) =>
            `#${i + 1}: ${done.filter((r) => r.instance === i && r.status === 303).length}`,
        )
        .join(', ')}`,
    );
    console.log(
      `database:              confirmed ${counts.confirmed}, waiting ${counts.waiting}, ` +
        `offered ${counts.offered}, cancelled ${counts.cancelled}, bookings ${counts.bookings}, ` +
        `places_taken ${counts.placesTaken}/${counts.capacity}`,
    );

    const failures: string[] = [];
    if (ok !== options.attempts)
      failures.push(`${options.attempts - ok} POST(s) did not answer 303`);
    if (counts.confirmed !== options.places)
      failures.push(`confirmed ${counts.confirmed} != places ${options.places}`);
    if (counts.confirmed + counts.waiting !== options.attempts)
      failures.push(
        `confirmed + waiting ${counts.confirmed + counts.waiting} != attempts ${options.attempts}`,
      );
    if (counts.placesTaken !== options.places)
      failures.push(`places_taken ${counts.placesTaken} != places ${options.places}`);

    if (failures.length > 0) {
      const problems = new Map<string, number>();
      for (const r of done) {
        if (r.problem) problems.set(r.problem, (problems.get(r.problem) ?? 0) + 1);
      }
      console.error('');
      console.error(`FAIL: ${failures.join('; ')}`);
      for (const [problem, n] of [...problems].slice(0, 10)) console.error(`  ${n} × ${problem}`);
      servers.forEach((server, i) => {
        const tail = server.stderr().trim();
        if (tail) console.error(`--- server #${i + 1} stderr (tail) ---\n${tail.slice(-4000)}`);
      });
      return 1;
    }
    console.log('\nOK: no oversell, everyone else on the waiting list, every POST answered 303');
    return 0;
  } finally {
    process.removeListener('SIGINT', onSigint);
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
