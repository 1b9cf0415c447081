/**
 * `node --import tsx bench/newsletter.ts [--subscribers 50000] [--kill-at 0.5]`
 * (with `DATABASE_URL=postgres://…` for PostgreSQL; the embedded PGlite otherwise)
 *
 * One newsletter issue to `--subscribers` confirmed subscribers, delivered by
 * the built server (`node dist/main.js serve`, run `npm run build` first) to
 * a real SMTP server on 127.0.0.1 (smtp-server, in this process) that counts
 * what it receives, per address. At `--kill-at` of the way (0 for never) the
 * server is killed with SIGKILL and started again. On the embedded database
 * the restart takes the dead process's claims back itself (only one process
 * can open it); on PostgreSQL the dead process's claimant lock ended with its
 * session, so the restart takes its claims back at once (Database.claimant).
 * Prints messages per second, the server's peak
 * memory (its resident set, read from /proc every 200 ms, and VmHWM), and how
 * many addresses got no copy, one, or more. Exits 1 if an address got none.
 */
import { readFileSync, rmSync, mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { type Database, openDatabase } from '../src/db/client.ts';
import { migrate } from '../src/db/migrate.ts';
import {
  freePorts,
  serveNodeFlags,
  type StartedProcess,
  startProcess,
  stopProcess,
} from './lib.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECRET = 'bench-secret-bench-secret-bench-secret-123';

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '50000' },
    'kill-at': { type: 'string', default: '0.5' },
  },
  strict: true,
});
const N = Number(values.subscribers);
const KILL_AT = Number(values['kill-at']);
if (!Number.isInteger(N) || N < 1 || !(KILL_AT >= 0 && KILL_AT < 1)) {
  console.error('--subscribers must be a whole number >= 1 and --kill-at a fraction in [0, 1)');
  process.exit(2);
}
if (!existsSync(join(ROOT, 'dist', 'main.js'))) {
  console.error('Run `npm run build` first.');
  process.exit(2);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The SMTP sink: counts each recipient's copies and each Message-ID's.
const perAddress = new Map<string, number>();
const perMessageId = new Map<string, number>();
let received = 0;
let firstAt = 0;
let lastAt = 0;
const sink = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  size: 1024 * 1024,
  onData(stream, session, callback) {
    let head = '';
    stream.on('data', (chunk: Buffer) => {
      if (head.length < 8192) head += chunk.toString('utf8');
    });
    stream.on('end', () => {
      for (const r of session.envelope.rcptTo)
        perAddress.set(r.address, (perAddress.get(r.address) ?? 0) + 1);
      const id = /^Message-ID:\s*(\S+)/im.exec(head)?.[1] ?? 'none';
      perMessageId.set(id, (perMessageId.get(id) ?? 0) + 1);
      received++;
      lastAt = Date.now();
      if (!firstAt) firstAt = lastAt;
      callback();
    });
  },
});
const [smtpPort, httpPort] = await freePorts(2);
// The server killed mid-message resets its connections: a dropped connection, not the sink's end.
sink.on('error', () => undefined);
await new Promise<void>((resolve) => sink.listen(smtpPort, '127.0.0.1', resolve));

// The database: a throw-away PostgreSQL database, or a new embedded one.
const pgUrl = process.env.DATABASE_URL;
const dbName = `sp_bench_newsletter_${process.pid}`;
const dataDir = mkdtempSync(join(tmpdir(), 'sp-bench-newsletter-'));
const dbUrl = pgUrl
  ? Object.assign(new URL(pgUrl), { pathname: `/${dbName}` }).toString()
  : undefined;
async function admin(sqlText: string) {
  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  try {
    await c.query(sqlText);
  } finally {
    await c.end();
  }
}
const open = (): Promise<Database> =>
  openDatabase(dbUrl ? { databaseUrl: dbUrl, poolSize: 2 } : { dataDir });

let server: StartedProcess | undefined;
let peakRss = 0;
let hwm = 0;
/** The resident set as the send went: at its start, and at each tenth of the messages. */
const timeline: { received: number; rssMB: number }[] = [];
function readMemory(pid: number) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    const rss = kb('VmRSS') * 1024;
    if (!timeline.length || received >= (timeline.at(-1)!.received / N + 0.1) * N - 1)
      timeline.push({ received, rssMB: Math.round(rss / 1048576) });
    peakRss = Math.max(peakRss, rss);
    hwm = Math.max(hwm, kb('VmHWM') * 1024);
  } catch {
    // the process has gone
  }
}

async function start(): Promise<StartedProcess> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    BASE_URL: 'https://bench.example.org',
    SESSION_SECRET: SECRET,
    HOST: '127.0.0.1',
    PORT: String(httpPort),
    DATA_DIR: dataDir,
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}/?pool=true`,
    NEWSLETTER_PER_MINUTE: '100000',
    LOG_LEVEL: 'warn',
    ...(dbUrl ? { DATABASE_URL: dbUrl } : {}),
  };
  // Run as npm start and the Dockerfile run it (heap and young-generation limits).
  return startProcess(
    process.execPath,
    [...serveNodeFlags(), 'dist/main.js', 'serve'],
    env,
    `http://127.0.0.1:${httpPort}/healthz`,
  );
}

async function waitFor(cond: () => boolean, idleMs: number, timeoutMs: number) {
  const began = Date.now();
  while (!cond()) {
    if (server?.child.pid) readMemory(server.child.pid);
    if (server && (server.child.exitCode !== null || server.child.signalCode !== null))
      throw new Error(`the server stopped by itself:\n${server.stderr()}`);
    if (Date.now() - began > timeoutMs) return false;
    if (lastAt && Date.now() - lastAt > idleMs && received > 0 && idleMs > 0) return false;
    await sleep(200);
  }
  return true;
}

let code = 0;
try {
  if (pgUrl) await admin(`CREATE DATABASE ${dbName}`);
  let db = await open();
  await migrate(db);
  const [issue] = await db.query<{ id: string }>(
    `INSERT INTO newsletter_issues (subject, body, topics, locale, state, scheduled_at)
     VALUES ('Bench issue', '## Bench\n\nA demo issue for the benchmark. [A link](https://example.org/)', '{news}', 'en', 'scheduled', now())
     RETURNING id`,
  );
  await db.query(
    `INSERT INTO newsletter_subscribers (email, state, topics, frequency, locale, confirmed_at)
     SELECT 'reader' || g || '@example.org', 'subscribed', '{news}', 'each', 'en', now()
     FROM generate_series(1, $1::int) g`,
    [N],
  );
  await db.query(`INSERT INTO jobs (name, payload) VALUES ('newsletter.send', $1::jsonb)`, [
    JSON.stringify({ issueId: issue!.id }),
  ]);
  if (!pgUrl) await db.close();
  console.log(`${N} subscribers on ${pgUrl ? 'PostgreSQL' : 'PGlite'}; sending…`);

  const began = Date.now();
  server = await start();
  let killedAt: number | undefined;
  if (KILL_AT > 0) {
    await waitFor(() => received >= N * KILL_AT, 0, 30 * 60_000);
    server.child.kill('SIGKILL');
    await new Promise((r) => server!.child.once('exit', r));
    killedAt = received;
    console.log(`killed (SIGKILL) after ${killedAt} messages`);
    await sleep(500);
    // Nothing is moved by hand: on the embedded database the restart takes the dead process's
    // claims back at start; on PostgreSQL its claimant lock went with its session, so they are
    // taken back at once (Database.claimant), not after their 5-minute leases.
    server = await start();
  }
  await waitFor(() => perAddress.size >= N, 15_000, 30 * 60_000);
  await sleep(1500); // anything still in flight
  if (server.child.pid) readMemory(server.child.pid);
  await stopProcess(server.child);
  server = undefined;
  const seconds = (lastAt - firstAt) / 1000;

  if (!pgUrl) db = await open();
  const states = await db.query<{ state: string; n: number }>(
    `SELECT state, count(*)::int AS n FROM newsletter_deliveries GROUP BY state ORDER BY state`,
  );
  await db.close();

  let missing = 0;
  let twice = 0;
  for (let i = 1; i <= N; i++) {
    const n = perAddress.get(`reader${i}@example.org`) ?? 0;
    if (n === 0) missing++;
    if (n > 1) twice++;
  }
  const dupIds = [...perMessageId.values()].filter((n) => n > 1).length;
  console.log(
    JSON.stringify(
      {
        subscribers: N,
        database: pgUrl ? 'postgresql' : 'pglite',
        killedAfter: killedAt ?? null,
        received,
        seconds: Number(seconds.toFixed(1)),
        messagesPerSecond: Number((received / Math.max(seconds, 0.001)).toFixed(0)),
        wallSeconds: Number(((Date.now() - began) / 1000).toFixed(1)),
        peakRssMB: Math.round(peakRss / 1048576),
        rssTimeline: timeline.map((t) => `${t.received}: ${t.rssMB} MB`).join(', '),
        vmHwmMB: Math.round(hwm / 1048576),
        addressesWithNoCopy: missing,
        addressesWithMoreThanOneCopy: twice,
        messageIdsReceivedMoreThanOnce: dupIds,
        deliveries: Object.fromEntries(states.map((s) => [s.state, Number(s.n)])),
      },
      null,
      2,
    ),
  );
  if (missing > 0) code = 1;
} catch (err) {
  console.error(err);
  code = 1;
} finally {
  if (server) await stopProcess(server.child);
  await new Promise<void>((resolve) => sink.close(() => resolve()));
  if (pgUrl) await admin(`DROP DATABASE IF EXISTS ${dbName}`).catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(code);
