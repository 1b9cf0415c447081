/**
 * The embedded database in a data folder could not be opened: its files are
 * damaged, or were made by something else. The command line says so in one
 * line (main.ts), with what can be done, rather than with a stack trace.
 */
export class DatabaseOpenError extends Error {
  constructor(dir: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      `The embedded database in ${dir} could not be opened (${why}). ` +
        'Check that DATA_DIR is the folder of this site, or restore a backup into an empty one ' +
        '(npm run cli -- restore FILE.tar.gz).',
      { cause },
    );
  }
}
