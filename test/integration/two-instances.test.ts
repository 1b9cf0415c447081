/**
 * Two real server processes (`node dist/main.js serve`, as the container
 * runs it) on one PostgreSQL database, one Redis and one shared DATA_DIR:
 * what several instances behind a proxy must get right. Runs when
 * DATABASE_URL names a PostgreSQL server and Redis answers on
 * 127.0.0.1:6379 (the PostgreSQL leg of .ci/run); skipped, with the reason,
 * otherwise.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { DEMO_PASSWORD } from '../../src/features/accounts/seed.ts';
import { createEventsRepository } from '../../src/features/events/repository.ts';
import { freePort } from '../helpers/cli.ts';
import { seededCopy, templateUrl } from '../helpers/database.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'dist', 'main.js');
const PG_URL = process.env.DATABASE_URL;
const REDIS_PORT = 6379;

function redisAnswers(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port: REDIS_PORT });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

const skipReason = !PG_URL
  ? 'needs PostgreSQL: set DATABASE_URL (the PostgreSQL leg of .ci/run)'
  : !(await redisAnswers())
    ? `needs Redis on 127.0.0.1:${REDIS_PORT}`
    : !existsSync(MAIN)
      ? 'needs the build (npm run build): dist/main.js is missing'
      : undefined;

/** A browser of one: cookies kept across requests, redirects not followed. */
class Browser {
  private jar = new Map<string, string>();
  cookie(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.jar.size) headers.set('cookie', this.cookie());
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      this.jar.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
    return res;
  }
  /** The page's `_csrf` field (the form's token). */
  async token(url: string): Promise<string> {
    const html = await (await this.fetch(url)).text();
    const m = /name="_csrf" value="([^"]+)"/.exec(html);
    if (!m) throw new Error(`no _csrf field on ${url}`);
    return m[1]!;
  }
  async post(url: string, fields: Record<string, string>, token: string): Promise<Response> {
    return this.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...fields, _csrf: token }).toString(),
    });
  }
}

interface Instance {
  name: string;
  url: string;
  child: ChildProcess;
  logs: string[];
  exited: Promise<number | null>;
}

// Skipped test by test (not the whole suite), so the counts show what did not run.
const when = { skip: skipReason ?? false };

describe('two instances on one PostgreSQL, one Redis, one DATA_DIR', () => {
  const dbName = `sp_two_${process.pid}_${randomBytes(3).toString('hex')}`;
  const redisDb = 1 + (process.pid % 15);
  const redisUrl = `redis://127.0.0.1:${REDIS_PORT}/${redisDb}`;
  let dataDir: string;
  let db: Database;
  let dbUrl: string;
  let a: Instance;
  let b: Instance;

  async function adminQuery(sqlText: string): Promise<void> {
    const admin = await openDatabase({ databaseUrl: PG_URL!, poolSize: 1 });
    try {
      await admin.query(sqlText);
    } finally {
      await admin.close();
    }
  }

  function start(name: string, port: string): Instance {
    const logs: string[] = [];
    const child = spawn(process.execPath, [MAIN, 'serve'], {
      cwd: dataDir,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: port,
        BASE_URL: `http://127.0.0.1:${port}`,
        SESSION_SECRET: 'two-instances-share-this-secret-0123456789',
        DATABASE_URL: dbUrl,
        REDIS_URL: redisUrl,
        DATA_DIR: dataDir,
        ROLES: 'web,worker',
        DRAIN_SECONDS: '1',
        LOG_LEVEL: 'warn',
        // The booking rush tests overselling, not the admission queue: on a
        // busy machine its 2 s wait would turn bookings into 503s (as
        // test/helpers/app.ts gives every test app).
        REQUEST_QUEUE_WAIT_MS: '60000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => logs.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    return { name, url: `http://127.0.0.1:${port}`, child, logs, exited };
  }

  async function ready(i: Instance): Promise<void> {
    let exitedEarly = false;
    void i.exited.then(() => (exitedEarly = true));
    const deadline = Date.now() + 60_000;
    while (!exitedEarly && Date.now() < deadline) {
      try {
        if ((await fetch(`${i.url}/readyz`)).status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${i.name} did not become ready:\n${i.logs.join('')}`);
  }

  async function stop(i: Instance | undefined): Promise<void> {
    if (!i || i.child.exitCode !== null) return;
    i.child.kill('SIGKILL');
    await i.exited;
  }

  before(async () => {
    if (skipReason) return;
    // A database of its own, with the demo content: a copy of the runner's
    // seeded template, or else seeded here through the command line.
    dataDir = mkdtempSync(join(tmpdir(), 'sp-two-'));
    const seeded = seededCopy();
    const template = process.env.TEST_PG_SEEDED;
    await adminQuery(
      `CREATE DATABASE ${dbName}${seeded && template ? ` TEMPLATE ${template}` : ''}`,
    );
    dbUrl = templateUrl(PG_URL!, dbName);
    if (seeded && template) cpSync(seeded.dataDir, dataDir, { recursive: true });
    else {
      const res = spawnSync(process.execPath, [MAIN, 'seed', '--demo'], {
        env: { PATH: process.env.PATH, DATABASE_URL: dbUrl, DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
        encoding: 'utf8',
      });
      assert.equal(res.status, 0, res.stderr);
    }
    // Rate-limit counters of their own (a Redis database chosen by pid), from zero.
    const { Redis } = await import('ioredis');
    const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    await redis.flushdb();
    redis.disconnect();
    db = await openDatabase({ databaseUrl: dbUrl, poolSize: 2 });
    const [portA, portB] = [await freePort(), await freePort()];
    a = start('instance A', portA);
    b = start('instance B', portB);
    await Promise.all([ready(a), ready(b)]);
  });

  after(async () => {
    if (skipReason) return;
    await Promise.all([stop(a), stop(b)]);
    await db?.close();
    await adminQuery(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test(
    'a session made on one is valid on the other; sign-out on the other ends it on both',
    when,
    async () => {
      const browser = new Browser();
      const signedIn = await browser.post(
        `${a.url}/account/sign-in`,
        { email: 'member@example.org', password: DEMO_PASSWORD },
        await browser.token(`${a.url}/account/sign-in`),
      );
      assert.equal(signedIn.status, 303, await signedIn.text());
      const onB = await browser.fetch(`${b.url}/account`);
      assert.equal(onB.status, 200);
      assert.match(await onB.text(), /Demo Practitioner/);
      const out = await browser.post(
        `${b.url}/account/sign-out`,
        {},
        await browser.token(`${b.url}/account`),
      );
      assert.equal(out.status, 303);
      const afterOut = await new Browser().fetch(`${a.url}/account`, {
        headers: { cookie: browser.cookie() },
      });
      assert.notEqual(afterOut.status, 200, 'signed out on A too');
    },
  );

  test('a file uploaded through one downloads through the other', when, async () => {
    const browser = new Browser();
    const signedIn = await browser.post(
      `${a.url}/account/sign-in`,
      { email: 'parent@example.org', password: DEMO_PASSWORD },
      await browser.token(`${a.url}/account/sign-in`),
    );
    assert.equal(signedIn.status, 303);
    const form = new FormData();
    form.append('_csrf', await browser.token(`${a.url}/community/wales-network/new`));
    form.append('title', 'Shared across instances');
    form.append('body', 'The attached picture, please.');
    form.append('alt', 'A dot');
    // A 1×1 PNG.
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
      'base64',
    );
    form.append('attachment', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'dot.png');
    const posted = await browser.fetch(`${a.url}/community/wales-network/new`, {
      method: 'POST',
      body: form,
    });
    assert.equal(posted.status, 303, await posted.text());
    const [row] = await db.query<{ id: string }>(
      `SELECT a.id FROM post_attachments a JOIN posts p ON p.id = a.post_id
         JOIN threads t ON t.id = p.thread_id WHERE t.title = 'Shared across instances'`,
    );
    assert.ok(row, 'the attachment is stored');
    const fromA = await browser.fetch(`${a.url}/community/attachments/${row.id}`);
    const fromB = await browser.fetch(`${b.url}/community/attachments/${row.id}`);
    assert.equal(fromA.status, 200);
    assert.equal(fromB.status, 200);
    assert.equal(fromB.headers.get('content-type'), 'image/png');
    const [bytesA, bytesB] = [
      Buffer.from(await fromA.arrayBuffer()),
      Buffer.from(await fromB.arrayBuffer()),
    ];
    assert.ok(bytesB.length > 0);
    assert.ok(bytesA.equals(bytesB), 'the same bytes from both');
  });

  test('a booking rush across both never oversells: 40 at once for 10 places', when, async () => {
    const repo = createEventsRepository(db.db);
    const event = await repo.upsertEvent({
      slug: 'two-instance-rush',
      title: 'Two-instance rush',
      summary: 'A test event',
      startsAt: new Date(Date.now() + 10 * 24 * 3600_000),
      endsAt: new Date(Date.now() + 10 * 24 * 3600_000 + 2 * 3600_000),
      mode: 'online',
      joiningLink: 'https://meet.example.org/rush',
      capacity: 10,
      maxPerBooking: 4,
      organiserName: 'Test organiser',
      organiserEmail: 'organiser@example.org',
      status: 'published',
    });
    const page = `/events/${event.slug}/book`;
    const browser = new Browser();
    const token = await browser.token(`${a.url}${page}`);
    const statuses = await Promise.all(
      Array.from({ length: 40 }, async (_v, i) => {
        const res = await browser.post(
          `${i % 2 ? b.url : a.url}${page}`,
          {
            bookerName: `Booker ${i}`,
            bookerEmail: `booker${i}@example.org`,
            places: '1',
            attendee_0_name: `Person ${i}`,
            choice: 'split',
          },
          token,
        );
        await res.arrayBuffer();
        return res.status;
      }),
    );
    // Every answer is a booking (confirmed or waiting: 303), or a rate limit's
    // refusal (429): never an error.
    assert.ok(
      statuses.every((s) => s === 303 || s === 429),
      `statuses: ${[...new Set(statuses)].join(', ')}`,
    );
    const answered = statuses.filter((s) => s === 303).length;
    assert.ok(answered >= 10, `at least the 10 places' worth were let through (${answered})`);
    const counts = await repo.counts(event.id);
    assert.equal(counts.confirmed, 10);
    assert.equal(counts.waiting ?? 0, answered - 10);
    const [row] = await db.query<{ places_taken: number }>(
      'SELECT places_taken FROM events WHERE id = $1',
      [event.id],
    );
    assert.equal(row!.places_taken, 10);
  });

  test('a scheduled job runs once, though both instances run the job queue', when, async () => {
    const [{ t0 }] = (await db.query<{ t0: Date }>('SELECT now() AS t0')) as [{ t0: Date }];
    const schedules = await db.query<{ name: string; every_seconds: number }>(
      'SELECT name, every_seconds FROM job_schedules',
    );
    assert.ok(schedules.length >= 5, 'the app registered its schedules');
    // Every schedule due now: each instance polls every second, and both try.
    await db.query('UPDATE job_schedules SET next_run_at = now()');
    const deadline = Date.now() + 20_000;
    let runs: { name: string; n: number; unfinished: number }[] = [];
    while (Date.now() < deadline) {
      runs = await db.query<{ name: string; n: number; unfinished: number }>(
        `SELECT name, count(*)::int AS n,
                count(*) FILTER (WHERE status = 'pending' AND last_error IS NULL)::int AS unfinished
           FROM jobs WHERE created_at >= $1 AND name = ANY($2) GROUP BY name`,
        [t0, schedules.map((s) => s.name)],
      );
      if (runs.length === schedules.length && runs.every((r) => r.unfinished === 0)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(runs.length, schedules.length, 'every schedule ran');
    // The daily and weekly ones cannot come round again during the test.
    for (const s of schedules.filter((x) => x.every_seconds >= 3600))
      assert.equal(runs.find((r) => r.name === s.name)?.n, 1, `${s.name} ran once`);
    const [next] = await db.query<{ early: number }>(
      `SELECT count(*)::int AS early FROM job_schedules WHERE next_run_at < $1::timestamptz + interval '59 seconds'`,
      [t0],
    );
    assert.equal(next!.early, 0, 'every schedule moved on by its interval');
  });

  // The per-address limit of a public form (10 a minute on /services/suggest),
  // counted in Redis (REDIS_URL). Not sign-in: its per-account throttle is kept
  // in PostgreSQL, shared whatever Redis does. Checked: without REDIS_URL, B
  // lets the next one through (each instance counts its own).
  test('a rate limit counts across both: refused on A, refused on B too', when, async () => {
    const browser = new Browser();
    const form = '/services/suggest';
    const tokenA = await browser.token(`${a.url}${form}`);
    const tokenB = await browser.token(`${b.url}${form}`);
    // An empty suggestion: answered 400 (nothing stored) until the limit says 429.
    const attempt = async (url: string, token: string) => {
      const res = await browser.post(`${url}${form}`, {}, token);
      await res.arrayBuffer();
      return res.status;
    };
    const statuses: number[] = [];
    while (statuses.at(-1) !== 429 && statuses.length < 100)
      statuses.push(await attempt(a.url, tokenA));
    assert.equal(statuses.at(-1), 429, `A refused at last: ${statuses.join(' ')}`);
    assert.ok(
      statuses.slice(0, -1).every((s) => s === 400),
      `before that, each one was read and refused as empty: ${statuses.join(' ')}`,
    );
    assert.equal(await attempt(b.url, tokenB), 429, 'B knows A counted them');
  });

  test(
    'SIGTERM: /readyz says 503 while draining, then the instance exits cleanly',
    when,
    async () => {
      b.child.kill('SIGTERM');
      let readyz = 200;
      while (readyz === 200 && b.child.exitCode === null)
        readyz = (await fetch(`${b.url}/readyz`).catch(() => ({ status: 0 }))).status;
      assert.equal(readyz, 503, 'not ready while draining');
      assert.equal(await b.exited, 0, b.logs.join(''));
      assert.equal((await fetch(`${a.url}/readyz`)).status, 200, 'the other carries on');
    },
  );
});
