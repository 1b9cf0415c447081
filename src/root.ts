import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder of the server's code and of the files it reads beside it (views,
 * locales, migrations, demo files): src/ when run from source (tests, `npm run
 * dev`), dist/ when built. Code that reads such a file finds it from here, not
 * from its own `import.meta.url`: the build bundles the modules into a few
 * files at the top of dist/ (scripts/build.mjs), so a module's own address is
 * not where its source file was. This module must stay at the top of src/.
 */
export const SRC_DIR = dirname(fileURLToPath(import.meta.url));

/** The project's folder (package.json, reference/, dist/). */
export const ROOT_DIR = join(SRC_DIR, '..');
