import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { discoverLocaleDirs, loadLocaleDirs } from '../../src/platform/i18n/index.ts';
import { extraPages, pages, type VisitAs } from '../a11y/manifest.ts';
import { launchBrowser, type LiveServer, liveServer, noBrowser } from './browser.ts';
import { signIn } from './sign-in.ts';

/**
 * Every page of the accessibility manifest (#19), checked cheaply in one
 * visit per page and language:
 *
 * - on a phone, 375 px and then 320 px wide (the same page, resized), the
 *   page never scrolls sideways (a wide table may scroll in its own region);
 * - in Welsh (?lang=cy), no interface string is left in English: no sentence
 *   of our English locale files whose Welsh differs appears in the page's
 *   text, except inside an element marked lang="en" (content written in
 *   English, labelled as such).
 *
 * One server, one browser, one signed-in context per kind of person, each
 * worker navigating one page per kind of person: no axe, no screenshots. The
 * phone widths are checked on the Welsh pages only: same pages, same content,
 * longer interface strings (every overflow found in English was found in
 * Welsh too), half the visits.
 */

const SRC = join(fileURLToPath(import.meta.url), '..', '..', '..', 'src');
const WIDTHS = [375, 320] as const;
/** Pages whose words are content in whatever language it was written: the mail viewer shows emails as sent. */
const NOT_INTERFACE = /^\/admin\/mail/;
const PAGES_AT_ONCE = 3;

/**
 * The fixed parts of every English interface string whose Welsh differs:
 * the text between placeholders, long enough (three words or more) that it
 * cannot be a name or a word both languages share.
 */
function englishSentences(): string[] {
  const { en, cy } = loadLocaleDirs(discoverLocaleDirs(SRC));
  const out = new Set<string>();
  const walk = (e: unknown, c: unknown) => {
    if (typeof e === 'string') {
      if (typeof c === 'string' && c === e) return;
      for (const part of e.split(/\{[^}]*\}/)) {
        const p = part.trim().replace(/\s+/g, ' ');
        if (p.split(' ').length >= 3 && p.length >= 14 && !(typeof c === 'string' && c.includes(p)))
          out.add(p);
      }
      return;
    }
    if (e && typeof e === 'object')
      for (const [k, v] of Object.entries(e))
        walk(v, c && typeof c === 'object' ? (c as Record<string, unknown>)[k] : undefined);
  };
  walk(en, cy);
  return [...out];
}

/**
 * GOV.UK Frontend's own English words, which a component shows when it is
 * given none (pagination's "Previous page" and "Page 2", the error summary's
 * title…): never on a Welsh page.
 */
const GOVUK_DEFAULTS = [
  'Previous page',
  'Next page',
  'Page 1',
  'Page 2',
  'Pagination',
  'There is a problem',
  'Skip to main content',
  'Support links',
  'Show all sections',
  'Hide all sections',
  'characters remaining',
  'words remaining',
];

/** The page's width beyond the window, the widest things that stick out, and its Welsh text. */
const measure = (page: Page, withText: boolean) =>
  // A string, so the test's compiler adds nothing to what runs in the page.
  page.evaluate(`(() => {
    const root = document.documentElement;
    const over = root.scrollWidth - root.clientWidth;
    const culprits = [];
    if (over > 0) {
      // The innermost things that stick out: none of their children does.
      const out = (el) => {
        const r = el.getBoundingClientRect();
        const spills = el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === 'visible' && el.clientWidth > 0;
        return (r.right > root.clientWidth + 1 || spills) && r.width > 0;
      };
      for (const el of document.body.querySelectorAll('*'))
        if (culprits.length < 3 && out(el) && ![...el.children].some(out))
          culprits.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
            (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
            ' (' + Math.round(el.getBoundingClientRect().right) + 'px)');
    }
    let text = '';
    if (${withText}) {
      const skip = (el) => el.closest('script, style, noscript, template, [lang^="en"]');
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      const parts = [];
      for (let n = walker.nextNode(); n; n = walker.nextNode())
        if (n.parentElement && !skip(n.parentElement)) parts.push(n.nodeValue);
      for (const el of document.querySelectorAll('[aria-label], [placeholder], [title], img[alt]'))
        if (!skip(el))
          for (const a of ['aria-label', 'placeholder', 'title', 'alt'])
            if (el.getAttribute(a)) parts.push(el.getAttribute(a));
      parts.push(document.title);
      text = parts.join(' ').replace(/\\s+/g, ' ');
    }
    return { over, culprits, text, lang: root.lang };
  })()`) as Promise<{ over: number; culprits: string[]; text: string; lang: string }>;

describe(
  'every page: no sideways scrolling on a phone, nothing left in English in Welsh (#19)',
  { skip: noBrowser },
  () => {
    let server: LiveServer;
    let browser: Browser;
    before(async () => {
      server = await liveServer({ config: { tileUrl: '' } });
      browser = await launchBrowser();
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    const visits: { path: string; as: VisitAs }[] = [];
    test('collect the pages from the manifest', async () => {
      for (const sample of Object.values(pages)) {
        const paths =
          typeof sample.paths === 'function'
            ? await sample.paths({ app: server.app, database: server.database })
            : sample.paths;
        for (const path of paths) visits.push({ path, as: sample.as ?? 'visitor' });
      }
      for (const e of extraPages) visits.push({ path: e.path, as: e.as ?? 'visitor' });
      assert.ok(visits.length > 50);
      // PAGES_ONLY=<regex> checks only the pages whose path matches (while mending one).
      if (process.env.PAGES_ONLY) {
        const only = new RegExp(process.env.PAGES_ONLY);
        visits.splice(0, visits.length, ...visits.filter((v) => only.test(v.path)));
      }
    });

    test('375 and 320 px, in Welsh; nothing of the interface left in English', async () => {
      const sentences = [...englishSentences(), ...GOVUK_DEFAULTS];
      assert.ok(sentences.length > 200, `${sentences.length} English sentences to look for`);
      const wide: string[] = [];
      const english: string[] = [];
      const contexts = new Map<VisitAs, Promise<BrowserContext>>();
      const contextFor = (as: VisitAs) => {
        let c = contexts.get(as);
        if (!c) {
          c = browser
            .newContext({ viewport: { width: WIDTHS[0], height: 700 } })
            .then(async (x) => {
              if (as !== 'visitor') await signIn(x, server, as);
              return x;
            });
          contexts.set(as, c);
        }
        return c;
      };
      // Welsh only: the same pages and content, with the longer interface strings (every
      // overflow the English pages had, the Welsh ones had too), for half the visits.
      const checks = visits.map((v) => ({ ...v, lang: 'cy' as const }));
      const check = async (page: Page, v: (typeof checks)[number]) => {
        const url = `${v.path}${v.path.includes('?') ? '&' : '?'}lang=${v.lang}`;
        await page.setViewportSize({ width: WIDTHS[0], height: 700 });
        await page.goto(`${server.baseUrl}${url}`);
        for (const [i, width] of WIDTHS.entries()) {
          if (i > 0) await page.setViewportSize({ width, height: 700 });
          const m = await measure(page, v.lang === 'cy' && i === 0);
          if (m.over > 0)
            wide.push(
              `${url} (${v.as}) at ${width} px: ${m.over} px too wide: ${m.culprits.join(', ')}`,
            );
          if (v.lang === 'cy' && i === 0 && !NOT_INTERFACE.test(v.path)) {
            if (m.lang !== 'cy') english.push(`${url} (${v.as}): <html lang="${m.lang}">`);
            for (const s of sentences)
              if (m.text.includes(s)) english.push(`${url} (${v.as}): “${s}”`);
          }
        }
      };
      let next = 0;
      await Promise.all(
        Array.from({ length: PAGES_AT_ONCE }, async () => {
          const open = new Map<VisitAs, Page>();
          while (next < checks.length) {
            const v = checks[next++]!;
            let page = open.get(v.as);
            if (!page) {
              page = await (await contextFor(v.as)).newPage();
              open.set(v.as, page);
            }
            await check(page, v);
          }
          for (const p of open.values()) await p.close();
        }),
      );
      for (const c of contexts.values()) await (await c).close();
      assert.deepEqual(
        [...wide.sort(), ...english.sort()],
        [],
        'no page scrolls sideways, and no English interface text on Welsh pages',
      );
    });
  },
);
