import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createViewEnvironment, tidyWhitespace } from '../../src/platform/views/index.ts';

const srcDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

/** The application's template environment, for rendering a macro on its own. */
export const viewEnvironment = () => createViewEnvironment({ srcDir, rootDir: join(srcDir, '..') });

/**
 * Markup as a browser reads it: whitespace between tags, around text and before a tag's end
 * does not count. Two renderings of one component compare equal after this when they mean the
 * same page.
 */
export const sameToABrowser = (html: string) =>
  tidyWhitespace(html)
    .replace(/\s+/g, ' ')
    // Space before the end of a start tag: <div class="a" > is <div class="a">.
    .replace(/(<[a-zA-Z][^<>]*?) >/g, '$1>')
    .replace(/>\s+</g, '><')
    .replace(/>\s+/g, '>')
    .replace(/\s+</g, '<')
    .trim();
