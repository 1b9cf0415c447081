/**
 * Builds the static files: SCSS → CSS, client scripts and images, each
 * written under dist/public with a content hash in its name, plus
 * manifest.json mapping source names to built names. `--if-needed` skips the
 * build when the manifest is newer than every source file.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as sass from 'sass';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src', 'assets');
export const PUBLIC_DIR = join(root, 'dist', 'public');
export const MANIFEST = join(PUBLIC_DIR, 'manifest.json');

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

function newestSource(): number {
  return Math.max(
    ...walk(srcDir).map((f) => statSync(f).mtimeMs),
    statSync(join(root, 'package-lock.json')).mtimeMs,
  );
}

function hashed(name: string, content: Buffer | string): string {
  const hash = createHash('sha256').update(content).digest('hex').slice(0, 10);
  const ext = extname(name);
  return `${name.slice(0, -ext.length)}.${hash}${ext}`;
}

export function buildAssets({ ifNeeded = false } = {}): { built: boolean } {
  if (ifNeeded && existsSync(MANIFEST) && statSync(MANIFEST).mtimeMs >= newestSource()) {
    return { built: false };
  }
  rmSync(PUBLIC_DIR, { recursive: true, force: true });
  mkdirSync(PUBLIC_DIR, { recursive: true });
  const manifest: Record<string, string> = {};
  const emit = (name: string, content: Buffer | string): void => {
    const out = hashed(name, content);
    mkdirSync(dirname(join(PUBLIC_DIR, out)), { recursive: true });
    writeFileSync(join(PUBLIC_DIR, out), content);
    manifest[name] = out;
  };

  const css = sass.compile(join(srcDir, 'scss', 'app.scss'), {
    loadPaths: [join(root, 'node_modules')],
    style: 'compressed',
    quietDeps: true,
    silenceDeprecations: ['import'],
  }).css;
  emit('app.css', css);

  for (const file of walk(join(srcDir, 'js')))
    emit(relative(join(srcDir, 'js'), file), readFileSync(file));
  for (const file of walk(join(srcDir, 'images'))) {
    emit(`images/${relative(join(srcDir, 'images'), file)}`, readFileSync(file));
  }
  writeFileSync(MANIFEST, JSON.stringify(manifest, null, 2));
  return { built: true };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { built } = buildAssets({ ifNeeded: process.argv.includes('--if-needed') });
  console.log(
    built ? `Built static files into ${relative(root, PUBLIC_DIR)}` : 'Static files are up to date',
  );
}
