import type { Readable } from 'node:stream';

/**
 * What every store of files does (storage.ts on disk, s3-storage.ts in a
 * bucket), and the keys they take: in a module of its own, so that both
 * stores use it without importing each other.
 *
 * Keys are slash-separated names chosen by the application (never by the
 * user); a key that could leave the root is refused.
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
