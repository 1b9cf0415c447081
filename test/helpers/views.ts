import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createViewEnvironment } from '../../src/platform/views/index.ts';

const srcDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

/** The application's template environment, for rendering a macro on its own. */
export const viewEnvironment = () => createViewEnvironment({ srcDir, rootDir: join(srcDir, '..') });

const KEEP_AS_IS = /(<(pre|textarea)\b[\s\S]*?<\/\2>)/i;

/**
 * A rendered page with its indentation dropped, as the server once did to
 * every page it sent: whitespace that holds a line break becomes one line
 * break, except inside <pre> and <textarea>. (The server now does this to its
 * templates as they load: tidyTemplateSource.)
 */
export function tidyWhitespace(html: string): string {
  const parts = html.split(KEEP_AS_IS);
  let out = '';
  for (let i = 0; i < parts.length; i += 3) {
    out += parts[i]!.replace(/[ \t]*\n\s*/g, '\n');
    if (i + 1 < parts.length) out += parts[i + 1]!;
  }
  return out;
}

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
