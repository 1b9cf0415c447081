import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

export interface DirLock {
  release(): void;
}

export class DataDirLockedError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * An exclusive lock file holding our pid. The embedded database is
 * single-process: a second server on the same DATA_DIR must refuse to start
 * rather than corrupt the data. A lock left by a dead process is taken over.
 */
export function acquireDirLock(file: string): DirLock {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try {
            if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
          } catch {
            /* already gone */
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
      if (Number.isFinite(holder) && holder !== process.pid && alive(holder)) {
        throw new DataDirLockedError(
          `The embedded database in this DATA_DIR is in use by another process (pid ${holder}). ` +
            'Stop it first, or set DATA_DIR or DATABASE_URL.',
        );
      }
      if (holder === process.pid) {
        throw new DataDirLockedError(
          'The embedded database in this DATA_DIR is already open in this process.',
        );
      }
      unlinkSync(file); // stale: its process is gone
    }
  }
  throw new DataDirLockedError('Could not lock the DATA_DIR database.');
}
