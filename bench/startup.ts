/**
 * `node --import tsx bench/startup.ts [--restarts 3]`
 *
 * How long the site takes to come up, measured the way people start it: from
 * launching the command to the first 200 from /healthz.
 *
 * For each way of starting (`npm start`, `node dist/main.js serve`):
 * - a first start on an empty DATA_DIR (migrate, seed the demo content);
 * - then `--restarts` restarts on that data (the median is reported).
 * After each start it reads the server process's resident memory (RSS) and
 * checks that its command line has no tsx. Targets: restart under 1.5 s, first
 * start under 10 s. Builds first (`npm run build`), so the timings are of an
 * up-to-date build: `npm start` then only checks that it is.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuMsOf, freePorts, median, serveNodeFlags } from './lib.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TARGET_RESTART_MS = 1_500;
const TARGET_FIRST_MS = 10_000;
const TIMEOUT_MS = 120_000;

const { values } = parseArgs({ options: { restarts: { type: 'string', default: '3' } } });
const restarts = Number(values.restarts);
if (!Number.isInteger(restarts) || restarts < 1) throw new Error('--restarts must be 1 or more');

interface Start {
  ms: number;
  /** CPU time the server process had used when it first answered (Linux only; else NaN). */
  cpuMs: number;
  rssMb: number;
  command: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every process under pid (npm → sh → node), with its RSS in KiB and its command line. */
function descendants(pid: number): { pid: number; rss: number; args: string }[] {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,rss=,args='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => {
      const [p, pp, rss, ...args] = line.trim().split(/\s+/);
      return { pid: Number(p), ppid: Number(pp), rss: Number(rss), args: args.join(' ') };
    });
  const out: { pid: number; rss: number; args: string }[] = [];
  const walk = (parent: number) => {
    for (const r of rows.filter((row) => row.ppid === parent)) {
      out.push(r);
      walk(r.pid);
    }
  };
  const self = rows.find((r) => r.pid === pid);
  if (self) out.push(self);
  walk(pid);
  return out;
}

async function startOnce(argv: string[], dataDir: string): Promise<Start> {
  const [port] = await freePorts(1);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'development',
  };
  delete env.DATABASE_URL;
  delete env.npm_config_loglevel;
  const t0 = performance.now();
  // Its own process group, so npm, its shell and the server stop together.
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let exited = false;
  child.once('exit', () => (exited = true));
  try {
    const url = `http://127.0.0.1:${port}/healthz`;
    for (;;) {
      if (exited) throw new Error(`${argv.join(' ')} exited before answering: ${stderr}`);
      if (performance.now() - t0 > TIMEOUT_MS) throw new Error(`no answer from ${url}`);
      try {
        const res = await fetch(url);
        await res.arrayBuffer();
        if (res.status === 200) break;
      } catch {
        /* not listening yet */
      }
      await sleep(10);
    }
    const ms = performance.now() - t0;
    const server = descendants(child.pid!).find(
      (p) => /^\S*node\s/.test(p.args) && /\b(main\.(js|ts)|start\.mjs)\b/.test(p.args),
    );
    if (!server) throw new Error('could not find the server process');
    const cpuMs = cpuMsOf(server.pid);
    await sleep(500); // settled
    server.rss = descendants(server.pid)[0]?.rss ?? server.rss;
    if (/tsx/.test(server.args)) throw new Error(`the server runs through tsx: ${server.args}`);
    return { ms, cpuMs, rssMb: server.rss / 1024, command: server.args };
  } finally {
    await stop(child);
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    /* gone */
  }
  await Promise.race([exited, sleep(15_000)]);
  // The database lock is released once the server (not just npm) is gone.
  for (let i = 0; i < 100 && descendants(child.pid!).length; i++) await sleep(100);
}

console.log('Building (npm run build)…');
execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });

const ways: [string, string[]][] = [
  ['npm start', ['npm', 'start', '--silent']],
  ['node dist/main.js serve', [process.execPath, ...serveNodeFlags(), 'dist/main.js', 'serve']],
];
const rows: string[][] = [];
let failed = false;
for (const [name, argv] of ways) {
  const dataDir = mkdtempSync(join(tmpdir(), 'sp-startup-'));
  try {
    const first = await startOnce(argv, dataDir);
    const again: Start[] = [];
    for (let i = 0; i < restarts; i++) again.push(await startOnce(argv, dataDir));
    const restart = median(again.map((s) => s.ms));
    const rss = median(again.map((s) => s.rssMb));
    const cpu = median(again.map((s) => s.cpuMs));
    console.log(`${name}: server process \`${first.command}\``);
    rows.push([
      name,
      `${Math.round(first.ms)} (cpu ${Math.round(first.cpuMs)})`,
      `${Math.round(restart)} (${again.map((s) => Math.round(s.ms)).join(', ')}; cpu ${Math.round(cpu)})`,
      `${first.rssMb.toFixed(0)} / ${rss.toFixed(0)}`,
    ]);
    if (restart > TARGET_RESTART_MS || first.ms > TARGET_FIRST_MS) failed = true;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const head = [
  'started with',
  'first start ms',
  `restart ms, median (each)`,
  'RSS MB first / restart',
];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
console.log(`\n${line(head)}\n${line(widths.map((w) => '-'.repeat(w)))}`);
for (const r of rows) console.log(line(r));
console.log(
  `\ncpu: CPU time the server process had used by then. ${cpus().length} CPUs, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}: on a busy machine the times grow, the CPU much less.`,
);
console.log(
  `Targets: first start under ${TARGET_FIRST_MS} ms, restart under ${TARGET_RESTART_MS} ms: ${failed ? 'MISSED' : 'met'}`,
);
process.exitCode = failed ? 1 : 0;
