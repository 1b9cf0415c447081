/**
 * Values kept in this instance's memory under keys that name everything they
 * were made from (a version stamp of each thing), least recently used dropped
 * first when a budget in bytes is spent. Nothing is invalidated: a change
 * makes a new key, and the old entry ages out. Used for kept parts of pages
 * (views/parts.ts) and kept downloads (a plan's exports).
 */
export interface Kept<V> {
  /** The value kept under key, or undefined; a hit becomes the most recently used. */
  get(key: string): V | undefined;
  /** Keep value under key, dropping the least recently used to stay in budget; too big: not kept. */
  set(key: string, value: V): void;
  /** What is kept: entries and their size. */
  readonly stats: { entries: number; bytes: number };
}

type Keepable = string | Uint8Array | readonly (string | Uint8Array)[];

const sizeOfOne = (value: string | Uint8Array): number =>
  typeof value === 'string' ? value.length * 2 : value.byteLength;

/** A string's size as kept (UTF-16), a Buffer's its length, a list's the sum of its items'. */
export const sizeOf = (value: Keepable): number =>
  typeof value === 'string' || value instanceof Uint8Array
    ? sizeOfOne(value)
    : value.reduce((n, s) => n + sizeOfOne(s), 0);

export function createKept<V extends Keepable>(maxBytes: number): Kept<V> {
  // A Map iterates in insertion order: deleting and setting again makes an entry the newest.
  const kept = new Map<string, V>();
  let bytes = 0;
  return {
    get(key) {
      const value = kept.get(key);
      if (value === undefined) return undefined;
      kept.delete(key);
      kept.set(key, value);
      return value;
    },
    set(key, value) {
      const size = sizeOf(value);
      const old = kept.get(key);
      if (old !== undefined) {
        kept.delete(key);
        bytes -= sizeOf(old);
      }
      if (size > maxBytes) return;
      while (bytes + size > maxBytes) {
        const [oldestKey, oldest] = kept.entries().next().value!;
        kept.delete(oldestKey);
        bytes -= sizeOf(oldest);
      }
      kept.set(key, value);
      bytes += size;
    },
    get stats() {
      return { entries: kept.size, bytes };
    },
  };
}
