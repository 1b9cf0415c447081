import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Stored files: on local disk under $DATA_DIR/uploads (here), or in an
 * S3-compatible bucket when STORAGE_URL is set (s3-storage.ts); openStorage()
 * chooses. Both behave the same (storage.test.ts runs one set of cases on
 * each). Keys are slash-separated names chosen by the application (never by
 * the user); a key that could leave the root is refused. A failed write never
 * leaves half a file under its key.
 */
export interface Storage {
  /** 'disk' or 's3', and where (without secrets), for logs and backups. */
  readonly kind: 'disk' | 's3';
  readonly description: string;
  put(key: string, data: Buffer | Readable): Promise<{ size: number }>;
  /**
   * A stream of the whole file or of bytes [start, end] inclusive. A missing
   * file is an error on the stream (call stat() first to answer 404).
   */
  read(key: string, range?: { start: number; end: number }): Readable;
  stat(key: string): Promise<{ size: number; modified: Date } | undefined>;
  exists(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Every stored key (under `prefix`, a key prefix such as 'resources/'), in no set order. */
  list(prefix?: string): AsyncIterable<string>;
  /** Lets go of connections (S3); the disk has none. */
  close(): Promise<void>;
}

const KEY = /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/i;

/** True for a key the application may use: see Storage. */
export function isValidKey(key: string): boolean {
  return key.length <= 900 && KEY.test(key) && !key.includes('..');
}

export function checkKey(key: string): string {
  if (!isValidKey(key)) throw new Error('Invalid storage key');
  return key;
}

/** Where stored files go: STORAGE_URL's bucket when set, else $DATA_DIR/uploads. */
export async function openStorage(config: {
  dataDir: string;
  storageUrl?: string | undefined;
}): Promise<Storage> {
  if (!config.storageUrl) return createLocalStorage(join(config.dataDir, 'uploads'));
  const [{ parseStorageUrl }, { createS3Storage }] = await Promise.all([
    import('./storage-url.ts'),
    import('./s3-storage.ts'),
  ]);
  return createS3Storage(parseStorageUrl(config.storageUrl));
}

/** A temporary file of a write in progress (never listed). */
const PART = /\.part$/;

export function createLocalStorage(root: string): Storage {
  const base = resolve(root);
  const pathOf = (key: string): string => {
    checkKey(key);
    const full = resolve(join(base, key));
    if (!full.startsWith(base + sep)) throw new Error('Invalid storage key');
    return full;
  };
  async function* walk(dir: string): AsyncGenerator<string> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) yield* walk(full);
      else if (e.isFile() && !PART.test(e.name)) {
        const key = relative(base, full).split(sep).join('/');
        if (isValidKey(key)) yield key;
      }
    }
  }
  const storage: Storage = {
    kind: 'disk',
    description: base,
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
    async exists(key) {
      return (await storage.stat(key)) !== undefined;
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
    async *list(prefix = '') {
      for await (const key of walk(base)) if (key.startsWith(prefix)) yield key;
    },
    async close() {},
  };
  return storage;
}
