import { readFileSync } from 'node:fs';

/**
 * A data-directory tarball (PGlite.dumpDataDir) read from a file, as the Blob
 * PGlite's `loadDataDir` takes. PGlite reads it once, with arrayBuffer(); a
 * plain Blob on Node 20 answers that by copying its bytes through a stream in
 * small chunks: half a second of CPU time for the 44 MB of an empty database,
 * in every test file's process and on a first start. This one hands back the
 * bytes it was made from.
 */
class Tarball extends Blob {
  readonly #bytes: Uint8Array<ArrayBuffer>;

  constructor(bytes: Uint8Array<ArrayBuffer>) {
    super([]);
    this.#bytes = bytes;
  }

  override get size(): number {
    return this.#bytes.byteLength;
  }

  override arrayBuffer(): Promise<ArrayBuffer> {
    const b = this.#bytes;
    const whole = b.byteOffset === 0 && b.byteLength === b.buffer.byteLength;
    return Promise.resolve(
      whole ? b.buffer : b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength),
    );
  }

  override bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return this.arrayBuffer().then((a) => new Uint8Array(a));
  }

  override stream(): ReturnType<Blob['stream']> {
    return new Blob([this.#bytes]).stream();
  }

  override slice(...args: Parameters<Blob['slice']>): Blob {
    return new Blob([this.#bytes]).slice(...args);
  }

  override text(): Promise<string> {
    return Promise.resolve(new TextDecoder().decode(this.#bytes));
  }
}

/** The tarball at `path`, ready for PGlite's `loadDataDir`. */
export const readTarball = (path: string): Blob => new Tarball(readFileSync(path));
