import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { checkKey, isValidKey, type Storage } from './storage-contract.ts';

/**
 * Stored files: on local disk under $DATA_DIR/uploads (here), or in an
 * S3-compatible bucket when STORAGE_URL is set (s3-storage.ts); openStorage()
 * chooses. Both behave the same (storage.test.ts runs one set of cases on
 * each). Keys are slash-separated names chosen by the application (never by
 * the user); a key that could leave the root is refused. A failed write never
 * leaves half a file under its key.
 */
export { checkKey, isValidKey, type Storage } from './storage-contract.ts';

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
      const out = createWriteStream(tmp, { mode: 0o600 });
      try {
        if (Buffer.isBuffer(data)) {
          await pipeline(async function* () {
            yield data;
          }, out);
        } else {
          await pipeline(data, out);
        }
        await rename(tmp, full);
      } catch (err) {
        // A source that fails at once can fail before the file is even open: the stream
        // opens it afterwards, so removing it first would leave it behind. Wait until the
        // stream has closed it.
        if (!out.closed) await new Promise<void>((done) => out.once('close', () => done()));
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
