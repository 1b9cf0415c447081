import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * File storage on local disk under $DATA_DIR/uploads. Keys are
 * slash-separated names chosen by the application (never by the user); a key
 * that would leave the root is refused. Writes go to a temporary file first,
 * so a failed upload never leaves half a file under its key.
 */
export interface Storage {
  put(key: string, data: Buffer | Readable): Promise<{ size: number }>;
  /** A stream of the whole file or of bytes [start, end] inclusive. */
  read(key: string, range?: { start: number; end: number }): Readable;
  stat(key: string): Promise<{ size: number; modified: Date } | undefined>;
  delete(key: string): Promise<void>;
}

const KEY = /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/i;

export function createLocalStorage(root: string): Storage {
  const base = resolve(root);
  const pathOf = (key: string): string => {
    if (!KEY.test(key) || key.includes('..')) throw new Error('Invalid storage key');
    const full = resolve(join(base, key));
    if (!full.startsWith(base + sep)) throw new Error('Invalid storage key');
    return full;
  };
  return {
    async put(key, data) {
      const full = pathOf(key);
      await mkdir(dirname(full), { recursive: true });
      const tmp = `${full}.${process.pid}.${Date.now()}.part`;
      try {
        if (Buffer.isBuffer(data)) {
          await pipeline(
            async function* () {
              yield data;
            },
            createWriteStream(tmp, { mode: 0o600 }),
          );
        } else {
          await pipeline(data, createWriteStream(tmp, { mode: 0o600 }));
        }
        await rename(tmp, full);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
      return { size: (await stat(full)).size };
    },
    read(key, range) {
      return createReadStream(pathOf(key), range ? { start: range.start, end: range.end } : {});
    },
    async stat(key) {
      try {
        const s = await stat(pathOf(key));
        return { size: s.size, modified: s.mtime };
      } catch {
        return undefined;
      }
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
  };
}
