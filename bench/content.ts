/**
 * Content at scale on PostgreSQL: `seed --scale large`, then latency of the
 * pages that read most from the database, measured with the page cache
 * bypassed (every request carries a session cookie, as a signed-in person's
 * would), over varied URLs so no query is answered twice from one cache.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node --import tsx bench/content.ts
 *   … bench/content.ts --duration 10 --connections 10 --keep
 *
 * Prints requests/s and p50/p95/p99 latency per scenario; target p95 < 50 ms.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { freePorts, liveChildren, startProcess, stopProcess } from './lib.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface ContentScenario {
  name: string;
  /** Paths to cycle through. */
  paths: string[];
}

function resourceScenarios(): ContentScenario[] {
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
  const pages = Array.from(
    { length: 500 },
    (_v, i) => `/resources/bench-${1 + ((i * 197) % 100_000)}`,
  );
  return [
    { name: 'resources search (text + facets)', paths: search },
    { name: 'resources browse (no text, all facets)', paths: browse },
    { name: 'resource page', paths: pages },
  ];
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

const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;

async function measure(base: string, s: ContentScenario, duration: number, connections: number) {
  let i = 0;
  const times: number[] = [];
  let non2xx = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: base,
        connections,
        duration,
        headers: { cookie: 'sp_session=bench-not-a-session' },
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
    non2xx,
    errors: result.errors,
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '10' },
      keep: { type: 'boolean', default: false },
    },
  });
  const url = process.env.DATABASE_URL;
  if (!url?.startsWith('postgres')) {
    console.error('bench/content.ts needs DATABASE_URL (PostgreSQL).');
    process.exit(2);
  }
  const name = `sp_bench_content_${process.pid}`;
  const benchUrl = new URL(url);
  benchUrl.pathname = `/${name}`;
  const tmp = mkdtempSync(join(tmpdir(), 'sp-bench-content-'));
  await adminQuery(url, `CREATE DATABASE ${name}`);
  try {
    const env = {
      ...process.env,
      DATABASE_URL: benchUrl.toString(),
      DATA_DIR: tmp,
      LOG_LEVEL: 'warn',
    };
    const started = Date.now();
    const seeded = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/main.ts'), 'seed', '--demo', '--scale', 'large'],
      { env, stdio: 'inherit' },
    );
    if (seeded.status !== 0) throw new Error('seed --scale large failed');
    console.log(`Seeded (demo + large) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const [port] = await freePorts(1);
    const base = `http://127.0.0.1:${port}`;
    const server = await startProcess(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/main.ts'), 'serve'],
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
    try {
      const duration = Number(values.duration);
      const connections = Number(values.connections);
      const rows = [];
      for (const s of resourceScenarios()) {
        await measure(base, s, 1, connections); // warm up
        rows.push(await measure(base, s, duration, connections));
      }
      console.log(`\n${connections} connections, ${duration} s each, page cache bypassed\n`);
      console.log(
        'scenario                                   req/s   p50 ms   p95 ms   p99 ms  non-2xx',
      );
      for (const r of rows)
        console.log(
          `${r.name.padEnd(40)} ${r.rps.toFixed(0).padStart(7)} ${r.p50.toFixed(1).padStart(8)} ${r.p95.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)} ${String(r.non2xx + r.errors).padStart(8)}`,
        );
      const worst = Math.max(...rows.map((r) => r.p95));
      console.log(`\nworst p95: ${worst.toFixed(1)} ms (target < 50 ms)`);
      if (rows.some((r) => r.non2xx + r.errors > 0)) process.exitCode = 1;
    } finally {
      await stopProcess(server.child);
    }
  } finally {
    for (const c of liveChildren()) await stopProcess(c);
    if (!values.keep) await adminQuery(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    else console.log(`kept database ${name}`);
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
