import type * as CsvParse from 'csv-parse/sync';
import type * as CsvStringify from 'csv-stringify/sync';
import { lazy } from './lazy.ts';

/**
 * csv-parse and csv-stringify, loaded with the first CSV read or written (an
 * import, an export), not at start-up: `csvParse().parse(text, options)`,
 * `csvStringify().stringify(rows)`.
 */
export const csvParse = lazy<typeof CsvParse>('csv-parse/sync');
export const csvStringify = lazy<typeof CsvStringify>('csv-stringify/sync');
