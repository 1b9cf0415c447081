import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A CommonJS package loaded the first time it is used rather than when the
 * server starts: for packages only some requests or jobs need (inlining an
 * email's styles, a calendar file, a guideline file), which would otherwise
 * add their loading time to every restart (juice alone: 0.2 s).
 *
 *   import type Juice from 'juice';
 *   const juice = lazy<typeof Juice>('juice');
 *   juice()(html, options);
 */
export function lazy<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(name) as T);
}
