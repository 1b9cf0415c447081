/**
 * Content under load, on either database: the pages that read most from it,
 * with the page cache bypassed (every request carries a session cookie, as a
 * signed-in person's would), over varied URLs so that no query is answered
 * twice from one cache, at 10 and at 50 connections.
 *
 *   node --import tsx bench/content.ts                      # PGlite, demo content
 *   node --import tsx bench/content.ts --scale large        # PGlite, + 100,000 resources …
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node --import tsx bench/content.ts
 *   … --duration 10 --connections 10,50 --rounds 3 --feature resources
 *   … --database sp_bench_kept   # PostgreSQL: seed once, reuse on later runs
 *   … --data-dir var/bench-kept  # PGlite: the same
 *
 * The server is the compiled one (`node dist/main.js serve`, production
 * settings; run `npm run build` first), on PGlite (the default, in its worker
 * thread, as `npm start` runs it) or on PostgreSQL when DATABASE_URL is set.
 * Prints, per scenario and number of connections: requests/s, p50/p95/p99 and
 * the slowest request (ms), time-outs and non-2xx, and the server's memory
 * (RSS) after the run; target p95 < 50 ms (large content on PostgreSQL).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { freePorts, liveChildren, serveNodeFlags, startProcess, stopProcess } from './lib.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface ContentScenario {
  name: string;
  /** Paths to cycle through. */
  paths: string[];
  /** Pages for approved members: measured signed in as the demo member. */
  signedIn?: boolean;
}

/** The community at scale: the 201-post thread a page at a time, and the 50,000-thread space. */
async function communityScenarios(): Promise<ContentScenario[]> {
  const client = new pg.Client({ connectionString: process.env.BENCH_DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>(
      `SELECT t.id FROM threads t JOIN community_spaces s ON s.id = t.space_id
       WHERE s.slug = 'generated-bench' AND t.title = 'Generated thread 1'`,
    );
    const thread = rows[0]!.id;
    // Threads deep in the list (the 3,000th, 7,500th … 48,000th) for "next" links from them.
    const deep: { id: string; page: number }[] = [];
    for (let i = 0; i < 10; i++) {
      const position = 3_000 + i * 5_000;
      const { rows: at } = await client.query<{ id: string }>(
        `SELECT t.id FROM threads t JOIN community_spaces s ON s.id = t.space_id
         WHERE s.slug = 'generated-bench' AND NOT t.hidden
         ORDER BY t.pinned DESC, t.last_post_at DESC, t.id DESC OFFSET $1 LIMIT 1`,
        [position - 1],
      );
      deep.push({ id: at[0]!.id, page: Math.floor(position / 30) + 1 });
    }
    return [
      {
        name: 'community: 200-reply thread, each page',
        paths: Array.from(
          { length: 11 },
          (_v, i) => `/community/generated-bench/${thread}?page=${i + 1}`,
        ),
        signedIn: true,
      },
      {
        // What the list links to: numbered pages over the first 1,000 threads, then "next"
        // links that continue from a thread (after=), here from deep in the 50,000.
        name: 'community: thread list of a 50,000-thread space',
        paths: [
          ...Array.from({ length: 10 }, (_v, i) => `/community/generated-bench?page=${i * 3 + 1}`),
          ...deep.map((d) => `/community/generated-bench?page=${d.page}&after=${d.id}`),
        ],
        signedIn: true,
      },
      {
        // Not linked past the first 1,000 threads, but still answered: skips rows by OFFSET.
        name: 'community: list by ?page= alone, to page 951',
        paths: Array.from(
          { length: 20 },
          (_v, i) => `/community/generated-bench?page=${i * 50 + 1}`,
        ),
        signedIn: true,
      },
    ];
  } finally {
    await client.end();
  }
}

/** Sign in as the demo member through the real form; returns the session cookie. */
async function signInCookie(base: string): Promise<string> {
  const form = await fetch(`${base}/account/sign-in`);
  const html = await form.text();
  const token = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
  const jar = form.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const res = await fetch(`${base}/account/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: jar, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      _csrf: token,
      email: 'member@example.org',
      password: 'supporting-parents-demo',
    }).toString(),
  });
  const session = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  if (res.status !== 303 || !session) throw new Error(`bench sign-in failed: ${res.status}`);
  // Everything a browser would send back: the session and the CSRF secret cookie (without
  // it each page would make and sign a new secret, which no real visit does).
  const cookies = new Map<string, string>();
  for (const c of `${jar}; ${session}`.split('; ')) cookies.set(c.split('=')[0]!, c);
  return [...cookies.values()].join('; ');
}

function resourceScenarios(demoPages?: string[]): ContentScenario[] {
  const words = ['contact', 'court', 'fathers', 'trauma', 'grief', 'advocacy', 'peer', 'health'];
  const types = ['video', 'paper', 'briefing', 'guide', 'report'];
  const search: string[] = [];
  for (let i = 0; i < 200; i++) {
    const w = words[i % words.length]!;
    const filters = [
      `type=${types[i % types.length]}`,
      i % 3 === 0 ? 'audience=practitioners' : '',
      i % 4 === 0 ? 'length=10-30' : '',
      i % 5 === 0 ? 'topic=maintaining-links' : '',
    ].filter(Boolean);
    search.push(`/resources?q=${w}&${filters.join('&')}${i % 2 ? '&sort=newest' : ''}`);
  }
  const browse = Array.from({ length: 50 }, (_v, i) => `/resources?page=${1 + (i % 20)}`);
  const pages =
    demoPages ??
    Array.from({ length: 500 }, (_v, i) => `/resources/bench-${1 + ((i * 197) % 100_000)}`);
  return [
    { name: 'resources search (text + facets)', paths: search },
    { name: 'resources browse (no text, all facets)', paths: browse },
    { name: 'resource page', paths: pages },
  ];
}

function serviceScenarios(): ContentScenario[] {
  const places = [
    'Birmingham',
    'Leeds',
    'Bristol',
    'Swansea',
    'Norfolk',
    'Cornwall',
    'Manchester',
    'Kent',
    'Cardiff',
    'Cumberland',
  ];
  const postcodes = Array.from({ length: 100 }, (_v, i) => `B${1 + (i % 9)} ${1 + (i % 9)}AA`);
  return [
    {
      name: 'services near a place (distance order)',
      paths: places.flatMap((p, i) => [
        `/services?near=${p}`,
        `/services?near=${p}&serves=fathers`,
        `/services?near=${p}&offer=contraception&page=${1 + (i % 3)}`,
      ]),
    },
    {
      name: 'ORUK service_at_locations near a postcode',
      paths: postcodes.map(
        (p) => `/api/oruk/service_at_locations?postcode=${encodeURIComponent(p)}&proximity=20000`,
      ),
    },
    {
      name: 'services coverage (175 authorities)',
      paths: ['/services/coverage', '/services/coverage?x=1'],
    },
  ];
}

/** The links to pages of one kind found on some listing pages of the running site. */
async function linksFrom(
  base: string,
  listings: string[],
  pattern: RegExp,
  cookie?: string,
): Promise<string[]> {
  const found = new Set<string>();
  for (const listing of listings) {
    const res = await fetch(`${base}${listing}`, { headers: cookie ? { cookie } : {} });
    const html = await res.text();
    for (const m of html.matchAll(pattern)) found.add(m[1]!);
  }
  // Only pages that answer 200 as they will be measured (not forms that redirect, say).
  const ok: string[] = [];
  for (const path of found) {
    const res = await fetch(`${base}${path}`, {
      redirect: 'manual',
      headers: { cookie: cookie ?? 'sp_session=bench-not-a-session' },
    });
    await res.arrayBuffer();
    if (res.status === 200) ok.push(path);
  }
  return ok;
}

/** Demo content: the pages to cycle through, found on the site itself. */
async function demoScenarios(base: string, member: string): Promise<ContentScenario[]> {
  const resources = await linksFrom(
    base,
    ['/resources', '/resources?page=2', '/resources?page=3'],
    /href="(\/resources\/(?!topics\/)[a-z0-9-]+)"/g,
  );
  const events = await linksFrom(
    base,
    ['/events', '/events?when=past'],
    /href="(\/events\/[a-z0-9-]+)"/g,
  );
  const spaces = await linksFrom(base, ['/community'], /href="(\/community\/[a-z0-9-]+)"/g, member);
  const threads = await linksFrom(
    base,
    spaces.slice(0, 4),
    /href="(\/community\/[a-z0-9-]+\/[0-9a-f-]{36})"/g,
    member,
  );
  if (!resources.length || !events.length || !threads.length)
    throw new Error('the demo content has no resources, events or threads to measure');
  return [
    ...resourceScenarios(resources),
    ...serviceScenarios(),
    { name: 'event page', paths: events },
    { name: 'community: thread page', paths: threads, signedIn: true },
  ];
}

/** A postcodes.io-shaped geocoder on loopback: every well-formed postcode is somewhere near Birmingham. */
async function stubGeocoder(): Promise<{ url: string; close(): void }> {
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    const code = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
    let h = 0;
    for (const ch of code) h = (h * 31 + ch.charCodeAt(0)) % 10_000;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        result: { latitude: 52.2 + (h % 100) / 200, longitude: -2.2 + Math.floor(h / 100) / 200 },
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

async function adminQuery(url: string, sqlText: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sqlText);
  } finally {
    await client.end();
  }
}

async function databaseExists(url: string, name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return rowCount === 1;
  } finally {
    await client.end();
  }
}

const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;

/** The server's resident memory (MB), from /proc (Linux). */
function rssMb(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
  } catch {
    return NaN;
  }
}

async function measure(
  base: string,
  s: ContentScenario,
  duration: number,
  connections: number,
  cookie = 'sp_session=bench-not-a-session',
) {
  let i = 0;
  const times: number[] = [];
  let non2xx = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: base,
        connections,
        duration,
        timeout: 10,
        headers: { cookie },
        requests: [{ setupRequest: (req) => ({ ...req, path: s.paths[i++ % s.paths.length]! }) }],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      times.push(ms);
      if (status < 200 || status > 299) non2xx++;
    });
  });
  times.sort((a, b) => a - b);
  return {
    name: s.name,
    rps: result.requests.mean,
    p50: pct(times, 50),
    p95: pct(times, 95),
    p99: pct(times, 99),
    max: times.at(-1) ?? NaN,
    timeouts: result.timeouts,
    non2xx,
    errors: result.errors,
  };
}

interface Row {
  name: string;
  connections: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  timeouts: number;
  non2xx: number;
  errors: number;
  rss: number;
}

async function main() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '10,50' },
      rounds: { type: 'string', default: '1' },
      keep: { type: 'boolean', default: false },
      feature: { type: 'string', default: 'all' },
      scale: { type: 'string' },
      // Reuse (or make once and keep) a seeded database of this name: no re-seeding between runs.
      database: { type: 'string' },
      // PGlite: reuse (or make once and keep) this DATA_DIR.
      'data-dir': { type: 'string' },
    },
  });
  const url = process.env.DATABASE_URL;
  const driver = url?.startsWith('postgres') ? 'postgresql' : 'pglite';
  const scale = values.scale ?? (driver === 'postgresql' ? 'large' : 'demo');
  if (scale !== 'demo' && scale !== 'large') {
    console.error('--scale is demo or large.');
    process.exit(2);
  }
  const connectionCounts = values.connections.split(',').map(Number);
  if (connectionCounts.some((c) => !Number.isInteger(c) || c < 1)) {
    console.error('--connections takes whole numbers, e.g. 10,50.');
    process.exit(2);
  }
  const name = values.database ?? `sp_bench_content_${process.pid}`;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    console.error('--database takes a lower-case PostgreSQL name (letters, digits, _).');
    process.exit(2);
  }
  if (!existsSync(join(ROOT, 'dist/main.js'))) {
    console.error('Run `npm run build` first: the benchmark serves the compiled server.');
    process.exit(2);
  }
  // A database that failed to seed is never kept (a later run would reuse it half-made).
  let keep = values.keep || values.database !== undefined || values['data-dir'] !== undefined;
  const tmp = mkdtempSync(join(tmpdir(), 'sp-bench-content-'));
  const dataDir = values['data-dir'] ?? tmp;
  const geocoder = await stubGeocoder();
  let benchUrl: URL | undefined;
  let exists: boolean;
  if (driver === 'postgresql') {
    benchUrl = new URL(url!);
    benchUrl.pathname = `/${name}`;
    exists = values.database !== undefined && (await databaseExists(url!, name));
    if (!exists) await adminQuery(url!, `CREATE DATABASE ${name}`);
    process.env.BENCH_DATABASE_URL = benchUrl.toString();
  } else {
    mkdirSync(dataDir, { recursive: true });
    exists = existsSync(join(dataDir, 'db', 'PG_VERSION'));
  }
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      GEOCODER_URL: geocoder.url,
    };
    if (benchUrl) env.DATABASE_URL = benchUrl.toString();
    else delete env.DATABASE_URL;
    const started = Date.now();
    // PostgreSQL: seed here. PGlite: `serve` seeds the demo content on a new database; large
    // content is added here first.
    const seeded =
      exists || (driver === 'pglite' && scale === 'demo')
        ? { status: 0 }
        : spawnSync(
            process.execPath,
            [
              join(ROOT, 'dist/main.js'),
              'seed',
              '--demo',
              ...(scale === 'large' ? ['--scale', 'large'] : []),
            ],
            { env, stdio: 'inherit' },
          );
    if (seeded.status !== 0) {
      keep = false;
      throw new Error('seeding failed');
    }
    if (exists) console.log(`Reusing the seeded database (${benchUrl ? name : dataDir})`);
    else if (driver === 'postgresql' || scale === 'large')
      console.log(`Seeded (demo + ${scale}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const [port] = await freePorts(1);
    const base = `http://127.0.0.1:${port}`;
    const server = await startProcess(
      process.execPath,
      [...serveNodeFlags(), join(ROOT, 'dist/main.js'), 'serve'],
      {
        ...env,
        PORT: String(port),
        HOST: '127.0.0.1',
        NODE_ENV: 'production',
        SESSION_SECRET: 'bench-secret-bench-secret-bench-secret-123',
        BASE_URL: base,
      },
      `${base}/readyz`,
    );
    const pid = server.child.pid;
    try {
      const rssAtStart = rssMb(pid);
      const duration = Number(values.duration);
      const rounds = Math.max(1, Number(values.rounds));
      const rows: Row[] = [];
      const feature = values.feature;
      const member = await signInCookie(base);
      const all =
        scale === 'demo'
          ? await demoScenarios(base, member)
          : [
              ...resourceScenarios(),
              ...serviceScenarios(),
              ...(driver === 'postgresql' ? await communityScenarios() : []),
            ];
      const chosen = all.filter(
        (s) =>
          feature === 'all' ||
          s.name.toLowerCase().startsWith(feature) ||
          (feature === 'events' && s.name.startsWith('event')),
      );
      for (const s of chosen) {
        const cookie = s.signedIn ? member : undefined;
        // Warm up: each address once (postcodes reach the geocoder's cache).
        for (const path of new Set(s.paths))
          await fetch(`${base}${path}`, { headers: cookie ? { cookie } : {} }).then((r) =>
            r.arrayBuffer(),
          );
        for (const connections of connectionCounts) {
          await measure(base, s, 1, connections, cookie);
          for (let round = 0; round < rounds; round++) {
            const r = await measure(base, s, duration, connections, cookie);
            rows.push({ ...r, connections, rss: rssMb(pid) });
          }
        }
      }
      console.log(
        `\n${driver === 'pglite' ? 'PGlite (worker thread)' : 'PostgreSQL'}, ${scale} content, ${duration} s a run, page cache bypassed; server RSS after start ${rssAtStart.toFixed(0)} MB\n`,
      );
      console.log(
        'scenario                                    conns   req/s   p50 ms   p95 ms   p99 ms   max ms  t/o  non-2xx  RSS MB',
      );
      for (const r of rows)
        console.log(
          `${r.name.padEnd(44)} ${String(r.connections).padStart(4)} ${r.rps.toFixed(0).padStart(7)} ${r.p50.toFixed(1).padStart(8)} ${r.p95.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)} ${r.max.toFixed(0).padStart(8)} ${String(r.timeouts).padStart(4)} ${String(r.non2xx + r.errors).padStart(8)} ${r.rss.toFixed(0).padStart(7)}`,
        );
      const worst = Math.max(...rows.map((r) => r.p95));
      console.log(`\nworst p95: ${worst.toFixed(1)} ms (target < 50 ms at 10 connections)`);
      if (rows.some((r) => r.non2xx + r.errors + r.timeouts > 0)) process.exitCode = 1;
    } finally {
      await stopProcess(server.child);
    }
  } finally {
    for (const c of liveChildren()) await stopProcess(c);
    if (driver === 'postgresql') {
      if (!keep) await adminQuery(url!, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      else console.log(`kept database ${name}`);
    } else if (keep) console.log(`kept ${dataDir}`);
    rmSync(tmp, { recursive: true, force: true });
    geocoder.close();
  }
}

await main();
