#!/usr/bin/env node
/**
 * The build, in plain JavaScript so that checking it needs neither tsx nor tsc:
 *
 *   node scripts/build.mjs           build the parts that are out of date
 *   node scripts/build.mjs --force   rebuild everything
 *   node scripts/build.mjs --assets  only the static files (`npm run dev` runs src/ through tsx)
 *
 * Three parts, each with a stamp:
 * - the server: src/ bundled by esbuild into a few files at the top of dist/
 *   (bundleCode, below), and every file the server reads at run time copied
 *   under dist/ as it lies under src/ (views, locales, migrations) — stamp
 *   dist/.build-stamp;
 * - the static files: SCSS → CSS, client scripts and images, written under
 *   dist/public with a content hash in their names, plus manifest.json
 *   mapping source names to built names — stamp dist/public/manifest.json.
 *
 * - the embedded database template: a new PGlite database, migrated, dumped
 *   to dist/db-template.tar, which a first start on an empty DATA_DIR copies
 *   instead of running initdb and the migrations (seconds of CPU) — rebuilt
 *   when the migrations or the packages change.
 *
 * A part is up to date when its stamp is newer than every file and folder it
 * is built from (a folder's time changes when a file is added or removed),
 * package-lock.json and this script. That check reads a few hundred mtimes;
 * esbuild and sass are loaded only when something changed.
 *
 * esbuild does not check types: `npm run typecheck` does, and CI runs it.
 * With isolatedModules every file compiles on its own.
 */
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');
const ASSETS = join(SRC, 'assets');
export const DIST = join(ROOT, 'dist');
const PUBLIC = join(DIST, 'public');
const CODE_STAMP = join(DIST, '.build-stamp');
const MANIFEST = join(PUBLIC, 'manifest.json');
const TEMPLATE = join(DIST, 'db-template.tar');
const MIGRATIONS = join(SRC, 'db', 'migrations');
const SELF = fileURLToPath(import.meta.url);

/** The newest mtime under dir (files and folders), skipping the folders in `skip`. */
function newest(dir, skip = []) {
  let max = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!skip.includes(path)) max = Math.max(max, newest(path, skip));
    } else {
      max = Math.max(max, statSync(path).mtimeMs);
    }
  }
  return max;
}

function mtime(file) {
  return existsSync(file) ? statSync(file).mtimeMs : 0;
}

const common = () =>
  Math.max(
    mtime(join(ROOT, 'package-lock.json')),
    mtime(join(ROOT, 'node_modules', '.package-lock.json')),
    mtime(SELF),
  );

/** Which parts are out of date (cheap: mtimes only). */
export function outOfDate() {
  const shared = common();
  const code = Math.max(shared, newest(SRC, [ASSETS]), mtime(join(ROOT, 'tsconfig.json')));
  const assets = Math.max(shared, newest(ASSETS));
  return {
    code: !existsSync(join(DIST, 'main.js')) || mtime(CODE_STAMP) < code,
    assets: mtime(MANIFEST) < assets,
    template: mtime(TEMPLATE) < Math.max(shared, newest(MIGRATIONS)),
  };
}

/** A stamp dated when the build started, so a file saved during the build still counts as newer. */
function stamp(file, startedAt, content) {
  writeFileSync(file, content);
  utimesSync(file, startedAt / 1000, startedAt / 1000);
}

function buildCode() {
  const startedAt = Date.now();
  // A fresh dist/ (but the static files): nothing left from a deleted source.
  mkdirSync(DIST, { recursive: true });
  for (const name of readdirSync(DIST)) {
    if (name !== 'public' && name !== 'db-template.tar')
      rmSync(join(DIST, name), { recursive: true, force: true });
  }
  bundleCode();
  // What the server reads at run time, beside the code that reads it: views,
  // locales, the SQL migrations and their journal (everything in src/ that is
  // neither TypeScript nor a README, and not the static files' sources).
  cpSync(SRC, DIST, {
    recursive: true,
    filter: (from) => {
      if (from === ASSETS || from.startsWith(ASSETS + sep)) return false;
      if (statSync(from).isDirectory()) return true;
      return !from.endsWith('.ts') && !from.endsWith('.md');
    },
  });
  stamp(CODE_STAMP, startedAt, 'dist/ compiled from src/ by scripts/build.mjs\n');
}

/**
 * The packages left out of the bundle, loaded from node_modules at run time:
 * - those with native code or files of their own beside their code (PGlite's
 *   WebAssembly, sharp, argon2), and pino (its transports run its files in
 *   worker threads), and @fastify/cookie (it loads its own copy of `cookie`
 *   with `import()`: see checkBundle);
 * - those the code loads only when first needed, with `await import()` (the S3
 *   client, PDFs, spreadsheets, QR codes, Redis, file types): bundled, a
 *   CommonJS one would lose its named exports (esbuild gives such a chunk a
 *   default export only), and loading them later gains nothing at start-up.
 *   checkBundle fails the build if any module loads a bundled one that way.
 * Packages loaded through platform/lazy.ts (`require`) are never bundled.
 */
const EXTERNAL = [
  '@electric-sql/pglite',
  '@electric-sql/pglite/*',
  '@node-rs/argon2',
  '@aws-sdk/*',
  '@fastify/cookie',
  'file-type',
  'ioredis',
  'pdf-lib',
  'pg-native',
  'pino',
  'qrcode',
  'sharp',
  'write-excel-file',
  'write-excel-file/*',
];

/**
 * src/ bundled by esbuild into a few files at the top of dist/: main.js (the
 * server and the CLI), chunks that main.js loads when a command or a request
 * first needs them (`await import()`), and three more entries: the embedded
 * database's thread (db/pglite-worker.js, started as a worker) and the
 * database modules this script uses to make the template. One file read and
 * compiled instead of ~160 of ours and ~400 of the packages': a restart
 * answers sooner (README, Build and run). A module finds the files it reads
 * from src/root.ts, which must therefore land at the top of dist/: checked.
 */
function bundleCode() {
  const esbuild = createRequire(import.meta.url)('esbuild');
  const result = esbuild.buildSync({
    absWorkingDir: ROOT,
    entryPoints: {
      main: 'src/main.ts',
      'db/pglite-worker': 'src/db/pglite-worker.ts',
      'db/client': 'src/db/client.ts',
      'db/migrate': 'src/db/migrate.ts',
    },
    outdir: DIST,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    chunkNames: '[name]-[hash]',
    external: EXTERNAL,
    // CommonJS packages inside an ES module bundle still call require() for
    // Node's modules and the packages left out.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    sourcemap: 'linked',
    legalComments: 'linked',
    metafile: true,
    logLevel: 'warning',
  });
  checkBundle(result.metafile);

  const root = Object.entries(result.metafile.outputs).find(
    ([, out]) => 'src/root.ts' in out.inputs,
  );
  if (!root || dirname(join(ROOT, root[0])) !== DIST)
    throw new Error(`src/root.ts must be bundled at the top of dist/, not into ${root?.[0]}`);
}

/**
 * What would make the bundle behave otherwise than the modules it was made
 * from, found in esbuild's account of it (its metafile); throws naming the
 * package to leave out (EXTERNAL):
 * - a CommonJS module loaded with `import()` (by our code or a package's):
 *   bundled, it would have a default export only;
 * - a package left out that a bundled package would find elsewhere from dist/
 *   than from its own folder (a copy of its own in a nested node_modules).
 */
function checkBundle({ inputs }) {
  const resolveFrom = (file, name) => {
    try {
      return createRequire(file).resolve(name);
    } catch (err) {
      return err.code;
    }
  };
  for (const [file, input] of Object.entries(inputs)) {
    for (const i of input.imports) {
      if (!i.external && i.kind === 'dynamic-import' && inputs[i.path]?.format === 'cjs')
        throw new Error(
          `${file} loads the CommonJS module ${i.original} with import(): bundled, it would lose its named exports. Add the package to EXTERNAL in scripts/build.mjs.`,
        );
      if (i.external && !isBuiltin(i.path) && file.startsWith('node_modules/')) {
        const own = resolveFrom(join(ROOT, file), i.path);
        if (own !== resolveFrom(join(DIST, 'main.js'), i.path))
          throw new Error(
            `${file} needs its own copy of ${i.path} (${own}), which the bundle would not find: add its package to EXTERNAL in scripts/build.mjs.`,
          );
      }
    }
  }
}

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

function hashed(name, content) {
  const hash = createHash('sha256').update(content).digest('hex').slice(0, 10);
  const ext = extname(name);
  return `${name.slice(0, -ext.length)}.${hash}${ext}`;
}

async function buildAssets() {
  const startedAt = Date.now();
  const sass = await import('sass');
  rmSync(PUBLIC, { recursive: true, force: true });
  mkdirSync(PUBLIC, { recursive: true });
  const manifest = {};
  const emit = (name, content) => {
    const out = hashed(name, content);
    mkdirSync(dirname(join(PUBLIC, out)), { recursive: true });
    writeFileSync(join(PUBLIC, out), content);
    manifest[name] = out;
  };
  const css = sass.compile(join(ASSETS, 'scss', 'app.scss'), {
    loadPaths: [join(ROOT, 'node_modules')],
    style: 'compressed',
    quietDeps: true,
    silenceDeprecations: ['import'],
  }).css;
  emit('app.css', css);
  for (const file of walk(join(ASSETS, 'js')))
    emit(relative(join(ASSETS, 'js'), file), readFileSync(file));
  for (const file of walk(join(ASSETS, 'images')))
    emit(`images/${relative(join(ASSETS, 'images'), file)}`, readFileSync(file));
  stamp(MANIFEST, startedAt, JSON.stringify(manifest, null, 2));
}

async function buildTemplate() {
  const startedAt = Date.now();
  const { openDatabase } = await import(pathToFileURL(join(DIST, 'db', 'client.js')).href);
  const { migrate } = await import(pathToFileURL(join(DIST, 'db', 'migrate.js')).href);
  const database = await openDatabase({});
  try {
    await migrate(database);
    const dump = await database.pglite.dumpDataDir('none');
    const tmp = `${TEMPLATE}.tmp`;
    writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()));
    cpSync(tmp, TEMPLATE);
    rmSync(tmp);
  } finally {
    await database.close();
  }
  utimesSync(TEMPLATE, startedAt / 1000, startedAt / 1000);
}

/**
 * Builds what is out of date (everything with force; only the static files
 * with assetsOnly). Reports through log; returns what it built.
 */
export async function build({ force = false, assetsOnly = false, log = console.log } = {}) {
  const stale = force ? { code: true, assets: true, template: true } : outOfDate();
  const built = [];
  if (stale.code && !assetsOnly) {
    const t = Date.now();
    buildCode();
    built.push('server');
    log(`Bundled src/ into dist/ in ${Date.now() - t} ms`);
  }
  if (stale.template && !assetsOnly) {
    const t = Date.now();
    await buildTemplate();
    built.push('database template');
    log(`Made the embedded database template (dist/db-template.tar) in ${Date.now() - t} ms`);
  }
  if (stale.assets) {
    const t = Date.now();
    await buildAssets();
    built.push('static files');
    log(`Built static files into dist/public in ${Date.now() - t} ms`);
  }
  if (!built.length) log(assetsOnly ? 'Static files are up to date' : 'dist/ is up to date');
  return built;
}

// Run as a command, also through a link to scripts/ (the test runner's shadow tree).
if (process.argv[1] && SELF === realpathSync(process.argv[1])) {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--force' && a !== '--assets');
  if (unknown.length) {
    console.error(`Unknown option ${unknown[0]} (usage: build.mjs [--force] [--assets])`);
    process.exit(2);
  }
  try {
    await build({ force: args.includes('--force'), assetsOnly: args.includes('--assets') });
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
