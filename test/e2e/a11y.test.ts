import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { extraPages, pages, type VisitAs } from '../a11y/manifest.ts';
import { launchBrowser, type LiveServer, liveServer, noBrowser } from './browser.ts';
import { signIn } from './sign-in.ts';

const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'];
const PAGES_AT_ONCE = 3;

describe(
  'accessibility: every page passes axe (WCAG 2.0/2.1/2.2 A and AA) in English and Welsh',
  { skip: noBrowser },
  () => {
    let server: LiveServer;
    let browser: Browser;
    before(async () => {
      // No map tiles: nothing outside this machine answers here, and a tile
      // request left waiting only holds the page's load event back.
      server = await liveServer({ config: { tileUrl: '' } });
      browser = await launchBrowser();
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    const visits: { route: string; path: string; as: VisitAs; status: number }[] = [];
    test('collect the pages to visit from the manifest', async () => {
      for (const [route, sample] of Object.entries(pages)) {
        const paths =
          typeof sample.paths === 'function'
            ? await sample.paths({ app: server.app, database: server.database })
            : sample.paths;
        assert.ok(paths.length > 0, `${route} has at least one sample URL from the demo content`);
        for (const path of paths)
          visits.push({ route, path, as: sample.as ?? 'visitor', status: sample.status ?? 200 });
      }
      for (const e of extraPages)
        visits.push({ route: e.path, path: e.path, as: e.as ?? 'visitor', status: e.status });
    });

    test('no violations on any page', async () => {
      const failures: string[] = [];
      // One browser context per kind of person, signed in once.
      const contexts = new Map<VisitAs, Promise<BrowserContext>>();
      const contextFor = (as: VisitAs): Promise<BrowserContext> => {
        let context = contexts.get(as);
        if (!context) {
          context = browser.newContext().then(async (c) => {
            if (as !== 'visitor') await signIn(c, server, as as Exclude<VisitAs, 'visitor'>);
            return c;
          });
          contexts.set(as, context);
        }
        return context;
      };
      const checks = visits.flatMap((v) => (['en', 'cy'] as const).map((lang) => ({ ...v, lang })));
      // Each worker keeps one page per kind of person and navigates it from
      // page to page: a new page would start a new renderer process each time.
      const check = async (page: Page, v: (typeof checks)[number]): Promise<void> => {
        const url = `${server.baseUrl}${v.path}${v.path.includes('?') ? '&' : '?'}lang=${v.lang}`;
        const res = await page.goto(url);
        if (res?.status() !== v.status)
          failures.push(`${url}: status ${res?.status()}, expected ${v.status} (at ${page.url()})`);
        // Only the violations are wanted: axe skips working out the passes.
        // (options() replaces every option, so it comes before withTags().)
        const result = await new AxeBuilder({ page })
          .options({ resultTypes: ['violations'] })
          .withTags(WCAG_TAGS)
          .analyze();
        for (const violation of result.violations) {
          failures.push(
            `${url} (${v.as}): ${violation.id} — ${violation.help} — ${violation.nodes
              .map((n) => n.target.join(' '))
              .slice(0, 3)
              .join(', ')}`,
          );
        }
      };
      // A few pages at once: while one waits for the server, another is checked.
      let next = 0;
      await Promise.all(
        Array.from({ length: PAGES_AT_ONCE }, async () => {
          const pages = new Map<VisitAs, Page>();
          while (next < checks.length) {
            const v = checks[next++]!;
            let page = pages.get(v.as);
            if (!page) {
              page = await (await contextFor(v.as)).newPage();
              pages.set(v.as, page);
            }
            await check(page, v);
          }
          for (const page of pages.values()) await page.close();
        }),
      );
      for (const c of contexts.values()) await (await c).close();
      assert.deepEqual(failures.sort(), []);
    });
  },
);
