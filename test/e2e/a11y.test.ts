import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AxeBuilder } from '@axe-core/playwright';
import type { Browser } from 'playwright-core';
import { extraPages, pages, type VisitAs } from '../a11y/manifest.ts';
import { launchBrowser, type LiveServer, liveServer, noBrowser } from './browser.ts';
import { signIn } from './sign-in.ts';

const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'];

describe(
  'accessibility: every page passes axe (WCAG 2.0/2.1/2.2 A and AA) in English and Welsh',
  { skip: noBrowser },
  () => {
    let server: LiveServer;
    let browser: Browser;
    before(async () => {
      server = await liveServer();
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
      const contexts = new Map<string, Awaited<ReturnType<Browser['newContext']>>>();
      for (const v of visits) {
        let context = contexts.get(v.as);
        if (!context) {
          context = await browser.newContext();
          if (v.as !== 'visitor')
            await signIn(context, server, v.as as Exclude<typeof v.as, 'visitor'>);
          contexts.set(v.as, context);
        }
        for (const lang of ['en', 'cy']) {
          const page = await context.newPage();
          const url = `${server.baseUrl}${v.path}${v.path.includes('?') ? '&' : '?'}lang=${lang}`;
          const res = await page.goto(url);
          if (res?.status() !== v.status)
            failures.push(
              `${url}: status ${res?.status()}, expected ${v.status} (at ${page.url()})`,
            );
          const result = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
          for (const violation of result.violations) {
            failures.push(
              `${url} (${v.as}): ${violation.id} — ${violation.help} — ${violation.nodes
                .map((n) => n.target.join(' '))
                .slice(0, 3)
                .join(', ')}`,
            );
          }
          await page.close();
        }
      }
      for (const c of contexts.values()) await c.close();
      assert.deepEqual(failures, []);
    });
  },
);
