/** Compiles src/ and test/ into `out` (see compile-tests.mjs); the number of files compiled. */
export function compileTests(root: string, out: string): number;
