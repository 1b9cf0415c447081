import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { after, before, type TestOptions } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DEMO_PASSWORD } from '../../src/features/accounts/seed.ts';
import { pages, type VisitAs } from '../a11y/manifest.ts';
import { partsOf, type Visit } from '../a11y/parts.ts';
import { signIn } from '../helpers/session.ts';
import { enableTwoFactor } from '../helpers/totp.ts';
import { axeViolations, withAxe } from './axe.ts';
import { launchBrowser, type LiveServer, liveServer, noBrowser } from './browser.ts';
import { ROLE_EMAIL } from './sign-in.ts';

/**
 * The accessibility suite: every page of test/a11y/manifest.ts, in English
 * and in Welsh, must pass axe (WCAG 2.0, 2.1 and 2.2, A and AA; see axe.ts).
 * It runs in parts, one file each: test/e2e/a11y-<k>.test.ts asks
 * a11yPart(import.meta.url) for its tests and declares them (in that file,
 * so the runner counts them under it), and the number of such files is the
 * number of parts (test/a11y/parts.ts shares the pages out). To split it
 * further, copy a part to a11y-<k+1>.test.ts.
 *
 * Each route is one test: its sample URLs from the demo content (made by
 * the manifest's functions on this part's own server, every route's, as
 * one server visiting every page would), each visited in
 * English and in Welsh as the manifest's kind of person. A test fails on a
 * status other than the one expected, on a signed-in page that sends the
 * person to sign in, and on any axe violation, naming the URL and elements.
 */

/** Pages checked at once in one part: while one waits for the server, another runs axe. */
const PAGES_AT_ONCE = 2;
const LANGUAGES = ['en', 'cy'] as const;

const PART_FILE = /^a11y-(\d+)\.test\.[jt]s$/;

export interface A11yPart {
  name: string;
  options: TestOptions;
  /** Registers the part's before and after hooks (call it inside the describe). */
  setUp(): void;
  /** The part's tests: a name, and what it runs. */
  tests: [string, () => void | Promise<void>][];
}

export function a11yPart(fileUrl: string): A11yPart {
  const file = fileURLToPath(fileUrl);
  const own = PART_FILE.exec(basename(file));
  if (!own) throw new Error(`${file}: an accessibility part is named a11y-<k>.test.ts`);
  const numbers = readdirSync(dirname(file))
    .map((f) => PART_FILE.exec(f)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  const count = numbers.length;
  const index = numbers.indexOf(Number(own[1]));
  const parts = partsOf(count);
  const mine = parts[index]!;

  let server: LiveServer;
  let browser: Browser;
  /** Each route's sample URLs, or what went wrong making them. */
  const sampleUrls = new Map<string, unknown>();
  const setUp = () => {
    before(async () => {
      // No map tiles: nothing outside this machine answers here, and a tile
      // request left waiting only holds the page's load event back.
      server = await liveServer({ config: { tileUrl: '' } });
      browser = await launchBrowser();
      // Every route's sample URLs, this part's and the others', in the
      // manifest's order: a sample may need what an earlier one made (the
      // mail page needs a mail sent), so each part's server holds the same
      // content as one server visiting every page would.
      for (const [route, sample] of Object.entries(pages)) {
        try {
          sampleUrls.set(
            route,
            typeof sample.paths === 'function'
              ? await sample.paths({ app: server.app, database: server.database })
              : sample.paths,
          );
        } catch (err) {
          sampleUrls.set(route, err); // the route's own test fails with it
        }
      }
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });
  };

  // One browser context per kind of person, signed in once (through the
  // app: the browser tests of signing in are elsewhere), and a few pages
  // in each, reused from visit to visit: a new page starts a new renderer.
  const contexts = new Map<VisitAs, Promise<BrowserContext>>();
  let signIns = 0;
  const contextFor = (as: VisitAs): Promise<BrowserContext> => {
    let context = contexts.get(as);
    if (!context) {
      context = (async () => {
        const c = await withAxe(await browser.newContext());
        if (as === 'visitor') return c;
        const email = ROLE_EMAIL[as];
        const secret = as === 'member' ? undefined : await enableTwoFactor(server.app, email);
        const jar = await signIn(server.app, email, DEMO_PASSWORD, secret, `10.9.${++signIns}.1`);
        await c.addCookies(
          jar.split('; ').map((kv) => {
            const at = kv.indexOf('=');
            return { name: kv.slice(0, at), value: kv.slice(at + 1), url: server.baseUrl };
          }),
        );
        return c;
      })();
      contexts.set(as, context);
    }
    return context;
  };
  const idle = new Map<VisitAs, Page[]>();
  const withPage = async <T>(as: VisitAs, use: (page: Page) => Promise<T>): Promise<T> => {
    const page = idle.get(as)?.pop() ?? (await (await contextFor(as)).newPage());
    try {
      return await use(page);
    } finally {
      idle.set(as, [...(idle.get(as) ?? []), page]);
    }
  };

  /** Visits one URL in both languages; the problems found, each a line. */
  const check = (path: string, as: VisitAs, status: number): Promise<string[]> =>
    withPage(as, async (page) => {
      const problems: string[] = [];
      for (const lang of LANGUAGES) {
        const url = `${server.baseUrl}${path}${path.includes('?') ? '&' : '?'}lang=${lang}`;
        const res = await page.goto(url);
        const at = page.url();
        if (res?.status() !== status)
          problems.push(`${url}: status ${res?.status()}, expected ${status} (at ${at})`);
        if (as !== 'visitor' && new URL(at).pathname === '/account/sign-in')
          problems.push(`${url}: sent to sign in, though signed in as ${as}`);
        for (const v of await axeViolations(page))
          problems.push(`${url} (${as}): ${v.id} — ${v.help} — ${v.targets.join(', ')}`);
      }
      return problems;
    });

  const visit = async (v: Visit): Promise<void> => {
    let samples: { path: string; as: VisitAs; status: number }[];
    if (v.extra) {
      samples = [{ path: v.extra.path, as: v.extra.as ?? 'visitor', status: v.extra.status }];
    } else {
      const sample = pages[v.route!]!;
      const paths = sampleUrls.get(v.route!);
      if (!Array.isArray(paths)) throw paths;
      assert.ok(paths.length > 0, `${v.key} has at least one sample URL from the demo content`);
      samples = paths.map((path) => ({
        path,
        as: sample.as ?? 'visitor',
        status: sample.status ?? 200,
      }));
    }
    const problems: string[] = [];
    for (const s of samples) problems.push(...(await check(s.path, s.as, s.status)));
    assert.ok(problems.length === 0, `${problems.length} problems:\n${problems.join('\n')}`);
  };

  const tests: A11yPart['tests'] = mine.map((v) => [v.key, () => visit(v)]);
  if (index === 0)
    tests.unshift([
      'the parts together visit every page of the manifest exactly once',
      () => {
        const keys = parts.flat().map((v) => v.key);
        assert.equal(new Set(keys).size, keys.length, 'no page in two parts');
        for (const route of Object.keys(pages)) assert.ok(keys.includes(route), route);
      },
    ]);
  return {
    name: `accessibility, part ${index + 1} of ${count}: every page passes axe (WCAG 2.0/2.1/2.2 A and AA) in English and Welsh`,
    options: { skip: noBrowser, concurrency: PAGES_AT_ONCE },
    setUp,
    tests,
  };
}
