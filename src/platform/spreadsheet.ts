/**
 * A CSV cell that a spreadsheet will show as text: a value that starts like
 * a formula (=, +, -, @, tab, return) gets a leading apostrophe, except a
 * plain negative number.
 */
export function spreadsheetCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /^[=+\-@\t\r]/.test(s) && !/^-\d+(\.\d+)?$/.test(s) ? `'${s}` : s;
}
