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

let migrated: Promise<string> | undefined;

/**
 * Keeps `dataDir` (a DATA_DIR that `migrate` has just migrated, and nothing
 * more) for migratedCopy().
 */
export function keepMigrated(dataDir: string): void {
  const copy = tmp();
  cpSync(dataDir, copy, { recursive: true });
  migrated ??= Promise.resolve(copy);
}

/**
 * A DATA_DIR of its own with a migrated, empty embedded database: a copy
 * (a tenth of a second) of one migrated once in this file (kept by
 * keepMigrated, or migrated here), instead of initdb and every migration
 * again (several seconds) for each command that needs a database.
 */
export async function migratedCopy(): Promise<string> {
  migrated ??= (async () => {
    const dir = tmp();
    const res = await cli(['migrate'], dir);
    if (res.status !== 0) throw new Error(`migrate failed: ${res.stderr}`);
    return dir;
  })();
  const copy = tmp();
  cpSync(await migrated, copy, { recursive: true });
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
