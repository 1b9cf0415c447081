/** Helpers for the benchmark harnesses (bench/run.ts, bench/booking.ts). */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';

/**
 * One page of OUR server to measure; registered in bench/scenarios.ts.
 * `path` may be a function, called once just before the scenario runs, for
 * paths that need working out.
 */
export interface Scenario {
  name: string;
  path: string | (() => string);
}

export function scenarioPath(scenario: Scenario): string {
  return typeof scenario.path === 'function' ? scenario.path() : scenario.path;
}

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
const OUTPUT_TAIL_CHARS = 16_000;

const live = new Set<ChildProcess>();

/**
 * The server's Node flags on PostgreSQL, as the Dockerfile runs it (docs/deployment.md): V8
 * sizes its heap by its limit, and under the default (a quarter of this machine's memory) a
 * busy server's heap grew to 190 MB for 76 MB of live objects; with 512 MB it stays near 100 MB.
 */
const POSTGRES_NODE_FLAGS = ['--max-old-space-size=512'];
/**
 * On the embedded database, as `npm start` runs it (package.json): the young generation's
 * halves capped at 4 MB too (memory first; pages that allocate much, such as a plan's, pay in
 * collections).
 */
const EMBEDDED_NODE_FLAGS = [...POSTGRES_NODE_FLAGS, '--max-semi-space-size=4'];

/**
 * Node flags for a benchmarked server, by the driver DATABASE_URL chooses. BENCH_PROFILE=<dir>
 * adds a CPU profile, written there when the server stops.
 */
export function serveNodeFlags(databaseUrl = process.env.DATABASE_URL): string[] {
  return [
    ...profileFlags(),
    ...(databaseUrl?.startsWith('postgres') ? POSTGRES_NODE_FLAGS : EMBEDDED_NODE_FLAGS),
  ];
}

/** With BENCH_PROFILE=<dir>: a CPU profile of the process, written there when it stops. */
export function profileFlags(): string[] {
  return process.env.BENCH_PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
    : [];
}

/** Children started by startProcess that have not exited yet (for clean-up on SIGINT). */
export function liveChildren(): ChildProcess[] {
  return [...live];
}

export interface StartedProcess {
  child: ChildProcess;
  /** The last few KB the child wrote to stderr (for error messages). */
  stderr(): string;
}

/**
 * Spawns `cmd args` (from the current directory) and polls `readyUrl` until it
 * answers 200. On failure (timeout, or the child exits first) the child is
 * killed and the error carries its stderr.
 */
export async function startProcess(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  readyUrl: string,
  cwd?: string,
): Promise<StartedProcess> {
  const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-OUTPUT_TAIL_CHARS);
  });
  child.stdout?.resume(); // drain it so the child never blocks on a full pipe
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = signal ? `signal ${signal}` : `code ${code}`;
  });
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });

  const started = { child, stderr: () => stderr };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastProblem = 'no answer yet';
  while (Date.now() < deadline) {
    if (spawnError) break;
    if (exited) break;
    try {
      const res = await fetch(readyUrl, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) return started;
      lastProblem = `status ${res.status}`;
    } catch (err) {
      lastProblem = (err as Error).message;
    }
    await sleep(200);
  }

  await stopProcess(child);
  const why = spawnError
    ? `could not start: ${spawnError.message}`
    : exited
      ? `exited (${exited}) before it was ready`
      : `not ready after ${READY_TIMEOUT_MS / 1000} s (${lastProblem})`;
  throw new Error(
    `${cmd} ${args.join(' ')} ${why} at ${readyUrl}\n--- stderr ---\n${stderr.trim() || '(empty)'}`,
  );
}

/** SIGTERM, wait for the exit; SIGKILL if it has not gone after 10 s. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = sleep(STOP_TIMEOUT_MS).then(() => 'timeout' as const);
  if ((await Promise.race([exited, timer])) === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

const TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
  } catch {
    return 100;
  }
})();

/** user + system CPU of a process (all its threads), in ms, from /proc (NaN elsewhere). */
export function cpuMsOf(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS;
  } catch {
    return Number.NaN;
  }
}

export interface BenchResult {
  title: string;
  /** Mean requests per second. */
  rps: number;
  /** Median latency, ms. */
  p50: number;
  /** 99th percentile latency, ms. */
  p99: number;
  non2xx: number;
  errors: number;
  /**
   * The serving process's CPU time a request, in µs (NaN when its pid is not
   * given, or not on Linux): the time the process waits for a core is not in
   * it (though on a shared machine the CPU time itself drifts too). Counted in
   * ticks of 10 ms, so a run of a few seconds gives it to about 1%.
   */
  cpuUsPerRequest: number;
}

export interface RunOptions {
  url: string;
  connections: number;
  /** Seconds. */
  duration: number;
  title: string;
  /** The serving process, for its CPU time a request. */
  pid?: number | undefined;
}

export async function runAutocannon(options: RunOptions): Promise<BenchResult> {
  const cpuBefore = cpuMsOf(options.pid);
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.duration,
    title: options.title,
  });
  const cpuMs = cpuMsOf(options.pid) - cpuBefore;
  return {
    cpuUsPerRequest:
      result.requests.total > 0 ? (cpuMs * 1000) / result.requests.total : Number.NaN,
    title: options.title,
    rps: result.requests.mean,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** The middle value (the upper of the two middle ones for an even count). */
export function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

/** Prints the results as an aligned table (text left, numbers right). */
export function printTable(results: BenchResult[]): void {
  const header = [
    'server/scenario',
    'req/s',
    'p50 ms',
    'p99 ms',
    'non-2xx',
    'errors',
    'CPU µs/req',
  ];
  const rows = results.map((r) => [
    r.title,
    r.rps.toFixed(1),
    r.p50.toFixed(1),
    r.p99.toFixed(1),
    String(r.non2xx),
    String(r.errors),
    Number.isNaN(r.cpuUsPerRequest) ? 'n/a' : r.cpuUsPerRequest.toFixed(1),
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

/** Free ports: every listener stays open until all are known, so they differ. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  try {
    return await Promise.all(
      servers.map(
        (server) =>
          new Promise<number>((resolve, reject) => {
            server.once('error', reject);
            server.listen(0, '127.0.0.1', () => {
              const address = server.address();
              if (address && typeof address === 'object') resolve(address.port);
              else reject(new Error('no port'));
            });
          }),
      ),
    );
  } finally {
    await Promise.all(
      servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
  }
}
