/**
 * Loaded into every test file's process by scripts/test.ts (`--import`):
 * when the file's process exits, appends one JSON line to
 * $TEST_CPU_FILE with the file, its wall time and the CPU time it used,
 * its own and that of the children it waited for, from /proc/self/stat.
 * That counts Chromium's own process and those it waits for, but not its
 * renderers: Chromium's zygote starts them, and here they end as orphans
 * (their parent gone), which no process of ours waits for. So a browser
 * test file costs the machine two to three times what it shows (.ci/run
 * prints the machine's whole CPU time). CPU time, unlike wall time,
 * hardly changes with what else the machine is doing, so the runner can
 * print which files cost the most. Does nothing without /proc or outside
 * the test runner's children. Plain JavaScript: loaded before tsx.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const out = process.env.TEST_CPU_FILE;
if (out && process.env.NODE_TEST_CONTEXT) {
  const started = performance.now();
  process.on('exit', () => {
    try {
      // Fields after the command name: utime stime cutime cstime are 14-17 (1-based) of the whole line.
      const stat = readFileSync('/proc/self/stat', 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = (i) => Number(fields[i - 3]);
      const hz = 100; // USER_HZ on Linux
      const own = ((ticks(14) + ticks(15)) / hz) * 1000;
      const children = ((ticks(16) + ticks(17)) / hz) * 1000;
      appendFileSync(
        out,
        `${JSON.stringify({ file: process.argv[1], wallMs: Math.round(performance.now() - started), cpuMs: Math.round(own + children), childrenMs: Math.round(children) })}\n`,
      );
    } catch {
      // no /proc here: nothing to report
    }
  });
}
