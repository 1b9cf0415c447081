/**
 * `npm run bench [-- --duration 10 --connections 50 --only home --rounds 5 --postgres]`
 *
 * Starts OUR server (fresh temporary DATA_DIR, production settings), captures
 * the bytes and headers of our home page, and starts a bare Fastify server
 * (bench/bare-server.ts) that answers with exactly those bytes and headers:
 * the limit for that page on this machine. Then load-tests the bare replay,
 * the bare one-line Nunjucks page (for reference) and each scenario of ours
 * (bench/scenarios.ts) with autocannon, one at a time. Prints a table and the
 * ratio of our home page to the bare replay of it; exits 1 if any run saw
 * non-2xx responses or errors.
 *
 * `--rounds R` measures every target R times in turn, the home page right
 * beside its bare replay and each of the two first in every other round, and
 * compares each round's pair: this machine's speed drifts from minute
 * to minute (the bare replay alone ranged 14,600–25,400 req/s over six runs),
 * so a ratio of runs made a minute apart says more about the drift than about
 * our server. The table gives each target's median round; the ratio is the
 * median of the rounds' ratios, each round's printed beside it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type BenchResult,
  printTable,
  profileFlags,
  runAutocannon,
  scenarioPath,
  liveChildren,
  median,
  startProcess,
  stopProcess,
  freePorts,
  serveNodeFlags,
} from './lib.ts';
import { scenarios } from './scenarios.ts';

const TARGET_RATIO = 0.7;
const WARMUP_SECONDS = 1;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

interface Options {
  duration: number;
  connections: number;
  only: string | undefined;
  postgres: boolean;
  /** `--peer ghost`: the opt-in comparison in bench/articles.ts (never in CI). */
  peer: string[] | undefined;
  rounds: number;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '50' },
      only: { type: 'string' },
      postgres: { type: 'boolean', default: false },
      peer: { type: 'string' },
      'ghost-dir': { type: 'string' },
      rounds: { type: 'string', default: '1' },
    },
    strict: true,
  });
  const duration = Number(values.duration);
  const connections = Number(values.connections);
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error('--rounds must be a whole number >= 1');
  if (!Number.isFinite(duration) || duration <= 0) throw new Error('--duration must be > 0');
  if (!Number.isInteger(connections) || connections < 1) {
    throw new Error('--connections must be a whole number >= 1');
  }
  if (values.only !== undefined && !scenarios.some((s) => s.name === values.only)) {
    throw new Error(
      `Unknown scenario "${values.only}" (known: ${scenarios.map((s) => s.name).join(', ')})`,
    );
  }
  if (values.postgres && !process.env.DATABASE_URL) {
    throw new Error('--postgres needs DATABASE_URL to be set');
  }
  const peer = values.peer
    ? [
        ...['--peer', values.peer, '--duration', String(duration)],
        ...['--connections', String(connections)],
        ...(values['ghost-dir'] ? ['--ghost-dir', values['ghost-dir']] : []),
      ]
    : undefined;
  return { duration, connections, only: values.only, postgres: values.postgres, peer, rounds };
}

async function main(): Promise<number> {
  const options = parseOptions();
  if (options.peer) {
    const { spawnSync } = await import('node:child_process');
    const args = ['--import', 'tsx', 'bench/articles.ts', ...options.peer];
    return spawnSync(process.execPath, args, { stdio: 'inherit' }).status ?? 1;
  }
  const chosen = scenarios.filter((s) => options.only === undefined || s.name === options.only);
  const tmp = mkdtempSync(join(tmpdir(), 'bench-'));

  // Stops every child started so far, including one still starting up.
  const cleanup = async (): Promise<void> => {
    await Promise.all(liveChildren().map((child) => stopProcess(child)));
    rmSync(tmp, { recursive: true, force: true });
  };
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
    console.log('\nInterrupted: stopping servers…');
    cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSigint);

  try {
    const [oursPort, barePort] = await freePorts(2);
    const ours = `http://127.0.0.1:${oursPort}`;
    const bare = `http://127.0.0.1:${barePort}`;

    const oursEnv: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(oursPort),
      HOST: '127.0.0.1',
      DATA_DIR: tmp,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      SESSION_SECRET: 'bench-secret-bench-secret-bench-secret-123',
      BASE_URL: ours,
    };
    if (!options.postgres) delete oursEnv.DATABASE_URL;

    console.log(
      `Starting our server on ${ours} (${options.postgres ? 'PostgreSQL' : 'embedded database'})…`,
    );
    const oursProcess = await startProcess(
      process.execPath,
      [...serveNodeFlags(), join(ROOT, 'dist/main.js'), 'serve'],
      oursEnv,
      `${ours}/readyz`,
    );
    // What a client like autocannon gets for our home page (no Accept-Encoding,
    // so uncompressed, as autocannon asks), replayed byte for byte by the bare server.
    const home = await fetch(`${ours}/`, { headers: { 'accept-encoding': 'identity' } });
    const replayFile = join(tmp, 'replay.json');
    writeFileSync(
      replayFile,
      JSON.stringify({
        status: home.status,
        headers: Object.fromEntries(home.headers),
        body: Buffer.from(await home.arrayBuffer()).toString('base64'),
      }),
    );
    console.log(`Starting the bare server on ${bare} (replaying our home page)…`);
    const bareProcess = await startProcess(
      process.execPath,
      [...profileFlags(), '--import', 'tsx', join(ROOT, 'bench/bare-server.ts')],
      { ...process.env, PORT: String(barePort), REPLAY: replayFile },
      `${bare}/`,
    );

    const targets = [
      { title: 'bare / (our home page replayed)', url: `${bare}/`, pid: bareProcess.child.pid },
      { title: 'bare /hello (one-line page)', url: `${bare}/hello`, pid: bareProcess.child.pid },
      ...chosen.map((s) => ({
        title: `ours ${s.name}`,
        url: `${ours}${scenarioPath(s)}`,
        pid: oursProcess.child.pid,
      })),
    ];

    console.log(`Warming up (${WARMUP_SECONDS} s each)…`);
    for (const target of targets) {
      if (interrupted) return 130;
      await runAutocannon({
        ...target,
        connections: options.connections,
        duration: WARMUP_SECONDS,
      });
    }

    const homeIndex = targets.findIndex((t) => t.title === 'ours home');
    /**
     * The order of a round: the home page right beside its bare replay, the pair
     * first, which of the two goes first taking turns from round to round, so
     * that the machine drifting the same way for a minute favours neither.
     */
    const orderOf = (round: number): number[] => {
      const all = targets.map((_, i) => i);
      if (homeIndex < 0) return all;
      const pair = round % 2 === 1 ? [0, homeIndex] : [homeIndex, 0];
      return [...pair, ...all.filter((i) => i !== 0 && i !== homeIndex)];
    };
    /** Each round's results, in the order of `targets`. */
    const byRound: BenchResult[][] = [];
    for (let round = 1; round <= options.rounds; round++) {
      const these: BenchResult[] = [];
      for (const i of orderOf(round)) {
        const target = targets[i]!;
        if (interrupted) return 130;
        console.log(
          `Measuring ${target.title} (${target.url}) for ${options.duration} s, ${options.connections} connections${options.rounds > 1 ? `, round ${round} of ${options.rounds}` : ''}…`,
        );
        these[i] = await runAutocannon({
          ...target,
          connections: options.connections,
          duration: options.duration,
        });
      }
      byRound.push(these);
    }
    // Each target's median round (by requests a second), every run for the failure check.
    const results = targets.map((_, i) => {
      const runs = byRound.map((r) => r[i]!);
      const mid = median(runs.map((r) => r.rps));
      return runs.find((r) => r.rps === mid)!;
    });
    const everyRun = byRound.flat();

    console.log('');
    printTable(results);

    /** " (median of 5 rounds: 0.61, 0.56, …)" when there was more than one round. */
    const eachRound = (values: number[]) =>
      values.length > 1
        ? ` (median of ${values.length} rounds: ${values.map((r) => r.toFixed(2)).join(', ')})`
        : '';
    const ratios =
      homeIndex < 0 ? [] : byRound.map((r) => (r[0]!.rps > 0 ? r[homeIndex]!.rps / r[0]!.rps : 0));
    const ratio = ratios.length ? median(ratios) : undefined;
    console.log('');
    if (ratio === undefined) {
      console.log('ratio ours/bare replay (home): n/a (home scenario not run)');
    } else {
      const verdict = ratio >= TARGET_RATIO ? 'meets' : 'BELOW';
      console.log(
        `ratio ours/bare replay (home): ${ratio.toFixed(2)}${eachRound(ratios)} (${verdict} target >= ${TARGET_RATIO.toFixed(2)})`,
      );
    }
    // The same comparison by CPU time a request (bare's over ours), which leaves
    // out the time a server waits for a core: printed beside it, not the target.
    const cpuRatios =
      homeIndex < 0
        ? []
        : byRound
            .map((r) => r[0]!.cpuUsPerRequest / r[homeIndex]!.cpuUsPerRequest)
            .filter((r) => Number.isFinite(r));
    const cpuRatio = cpuRatios.length ? median(cpuRatios) : undefined;
    if (cpuRatio !== undefined) {
      console.log(
        `CPU a request, bare replay/ours (home): ${cpuRatio.toFixed(2)}${eachRound(cpuRatios)}`,
      );
    }

    const failed = everyRun.filter((r) => r.non2xx > 0 || r.errors > 0);
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(
      join(RESULTS_DIR, 'latest.json'),
      `${JSON.stringify(
        {
          date: new Date().toISOString(),
          node: process.version,
          duration: options.duration,
          connections: options.connections,
          database: options.postgres ? 'postgres' : 'embedded',
          rounds: options.rounds,
          results,
          runs: byRound,
          ratioHome: ratio ?? null,
          ratiosHome: ratios,
          cpuRatioHome: cpuRatio ?? null,
          cpuRatiosHome: cpuRatios,
          target: TARGET_RATIO,
          meetsTarget: ratio === undefined ? null : ratio >= TARGET_RATIO,
          ok: failed.length === 0,
        },
        null,
        2,
      )}\n`,
    );

    if (failed.length > 0) {
      console.error(
        `\nFAIL: non-2xx responses or errors in: ${failed.map((r) => r.title).join(', ')}`,
      );
      return 1;
    }
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
