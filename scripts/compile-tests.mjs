/**
 * Compiles src/ and test/ into a shadow tree for scripts/test.ts, so that
 * each test file's process runs plain JavaScript without tsx's loader hooks
 * (they cost about a second of CPU time in every process that has them,
 * even for files already compiled: some 150 processes a CI run).
 *
 *   compileTests(root, out) → out, a folder that mirrors the checkout:
 *   - every .ts file under src/ and test/ transpiled on its own
 *     (TypeScript's transpileModule: no type check, `npm run typecheck`
 *     does that) with its relative imports rewritten to .js;
 *   - every other file there copied beside it (views, locales, migrations,
 *     fixtures), and the .ts sources too, for tests that read them;
 *   - a link to every other entry of the checkout (dist, node_modules,
 *     reference, scripts, package.json, README.md …), so that paths made
 *     relative to a source file lead where they lead in the checkout.
 *
 * Plain JavaScript, like the build: it runs before anything is compiled.
 */
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const COMPILED = ['src', 'test'];
/** Never linked into the shadow tree: it lives in var/, and git's own folder. */
const LEFT_OUT = new Set(['var', '.git', ...COMPILED]);

/** @param {string} root @param {string} out */
export function compileTests(root, out) {
  const ts = createRequire(join(root, 'package.json'))('typescript');
  const { options } = ts.convertCompilerOptionsFromJson(
    JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')).compilerOptions,
    root,
  );
  const compilerOptions = {
    ...options,
    // Every file here is an ES module ("type": "module").
    module: ts.ModuleKind.ESNext,
    noEmit: false,
    allowImportingTsExtensions: false,
    rewriteRelativeImportExtensions: true,
    sourceMap: false,
    inlineSourceMap: true,
  };
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  let count = 0;
  /** @param {string} dir */
  const walk = (dir) => {
    const target = join(out, relative(root, dir));
    mkdirSync(target, { recursive: true });
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const from = join(dir, e.name);
      if (e.isDirectory()) {
        walk(from);
        continue;
      }
      copyFileSync(from, join(target, e.name));
      if (!e.name.endsWith('.ts') || e.name.endsWith('.d.ts')) continue;
      const { outputText } = ts.transpileModule(readFileSync(from, 'utf8'), {
        compilerOptions,
        fileName: from,
      });
      writeFileSync(join(target, e.name.replace(/\.ts$/, '.js')), outputText);
      count++;
    }
  };
  for (const d of COMPILED) walk(join(root, d));
  for (const e of readdirSync(root)) if (!LEFT_OUT.has(e)) symlinkSync(join(root, e), join(out, e));
  return count;
}

// `node scripts/compile-tests.mjs DIR`: .ci/run compiles once for both legs (TEST_COMPILED_DIR).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const out = resolve(process.argv[2] ?? join(root, 'var', 'test', 'build'));
  const started = Date.now();
  const count = compileTests(root, out);
  console.log(
    `Compiled ${count} files of src/ and test/ into ${relative(root, out)} in ${Date.now() - started} ms`,
  );
}
