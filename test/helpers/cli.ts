import { cpSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/main.ts';

/** A new, empty DATA_DIR. */
export const tmp = (): string => mkdtempSync(join(tmpdir(), 'sp-cli-'));

/** The settings a command sees: the embedded database in dataDir (DATABASE_URL left out). */
export const cliEnv = (dataDir: string, extra: Record<string, string> = {}) => ({
  DATA_DIR: dataDir,
  LOG_LEVEL: 'warn',
  NODE_ENV: 'development',
  ...extra,
});

/** The command line run in this process through main(), as `node dist/main.js …` runs it. */
export async function cli(args: string[], dataDir = tmp(), extra: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const status = await main(args, {
    env: cliEnv(dataDir, extra),
    out: (text) => (stdout += text),
    err: (text) => (stderr += text),
  });
  return { status, stdout, stderr };
}

/**
 * DATA_DIRs kept for copying: `migrated` (a migrated, empty embedded
 * database) and `seeded` (with the demo content as well).
 */
type Kept = 'migrated' | 'seeded';
const kept = new Map<Kept, Promise<string>>();

/**
 * Keeps a copy of `dataDir`, which a test has just brought to that state
 * through the command line (`migrate`, then `seed --demo`), for copyOf().
 */
export function keep(kind: Kept, dataDir: string): void {
  if (kept.has(kind)) return;
  const copy = tmp();
  cpSync(dataDir, copy, { recursive: true });
  kept.set(kind, Promise.resolve(copy));
}

/**
 * A DATA_DIR of its own, migrated (and seeded): a copy (a tenth of a
 * second) of one brought to that state once in this file, kept by keep()
 * or made here, instead of initdb, every migration (and the demo content)
 * again, several seconds, for each command that needs a database.
 */
export async function copyOf(kind: Kept): Promise<string> {
  let source = kept.get(kind);
  if (!source) {
    source = (async () => {
      const dir = tmp();
      const res = await cli(kind === 'seeded' ? ['seed', '--demo'] : ['migrate'], dir);
      if (res.status !== 0) throw new Error(`${kind}: ${res.stderr}`);
      return dir;
    })();
    kept.set(kind, source);
  }
  const copy = tmp();
  cpSync(await source, copy, { recursive: true });
  return copy;
}

/**
 * A loopback port free at this moment, for a server started by a command
 * (a port made from the pid could be another test file's: their pids are close).
 */
export function freePort(): Promise<string> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(String(port)));
    });
  });
}
