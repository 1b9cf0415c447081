/**
 * A node:test reporter for scripts/test.ts, beside the spec reporter: writes
 * one JSON object with, for every test file, how many tests it ran (suites
 * not counted, as in the spec reporter's summary), how many passed, failed
 * and were skipped, how long its process took, and for each failed test its
 * name and the first lines of its error (so that a CI log's summary says why,
 * not only what, failed). Plain JavaScript: the
 * test runner loads its reporters before tsx is in place.
 *
 * @param {AsyncIterable<{ type: string, data?: any }>} source
 */
export default async function* counts(source) {
  /** @type {Record<string, { tests: number, pass: number, fail: number, skipped: number, ms: number, failures: { name: string, error: string }[] }>} */
  const files = {};
  const of = (/** @type {string} */ file) =>
    (files[file] ??= { tests: 0, pass: 0, fail: 0, skipped: 0, ms: 0, failures: [] });
  for await (const { type, data } of source) {
    if (!data?.file) continue;
    const whole = data.nesting === 0 && data.name === data.file;
    if (type === 'test:complete' && whole) of(data.file).ms = data.details?.duration_ms ?? 0;
    if (type !== 'test:pass' && type !== 'test:fail') continue;
    if (data.details?.type === 'suite') continue;
    // The file itself is reported only when it failed outside its tests (it counts as one then).
    if (whole && type === 'test:pass') continue;
    const c = of(data.file);
    c.tests++;
    if (type === 'test:fail') {
      c.fail++;
      const error = data.details?.error;
      const cause = error?.cause ?? error;
      const text = String(cause?.message ?? cause ?? 'failed')
        .split('\n')
        .slice(0, 6)
        .join('\n')
        .trimEnd();
      c.failures.push({ name: data.name, error: text.slice(0, 600) });
    } else if (data.skip || data.todo) c.skipped++;
    else c.pass++;
  }
  yield `${JSON.stringify(files, null, 1)}\n`;
}
