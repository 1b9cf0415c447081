import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, type LiveServer, liveServer, noBrowser } from './browser.ts';
import { signIn } from './sign-in.ts';

describe('the layout in a real browser', { skip: noBrowser }, () => {
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

  test('by keyboard: the first Tab reaches the skip link, which moves focus to the main content', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.baseUrl}/`);
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.textContent?.trim());
    assert.equal(focused, 'Skip to main content');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.hash === '#main-content');
    const mainFocused = await page.evaluate(() => document.activeElement?.id);
    assert.equal(mainFocused, 'main-content');
    await context.close();
  });

  test('the language link switches to Welsh and the choice is remembered', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.baseUrl}/privacy`);
    await page.getByRole('link', { name: 'Cymraeg' }).click();
    await page.waitForURL(/lang=cy/);
    assert.equal(await page.getAttribute('html', 'lang'), 'cy');
    await page.goto(`${server.baseUrl}/`);
    assert.equal(await page.getAttribute('html', 'lang'), 'cy', 'remembered without ?lang');
    assert.ok(await page.getByRole('link', { name: 'Gwasanaethau' }).isVisible());
    await context.close();
  });

  test('works without JavaScript: pages render and links work', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${server.baseUrl}/`);
    assert.equal(await page.locator('h1').count(), 1);
    await page.getByRole('link', { name: 'Accessibility statement' }).click();
    await page.waitForURL(/\/accessibility$/);
    assert.match(await page.locator('h1').innerText(), /Accessibility statement/);
    await context.close();
  });

  test('the enhanced page loads its script under the CSP without errors', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.baseUrl}/`);
    await page.waitForFunction(() => document.body.classList.contains('govuk-frontend-supported'));
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('on a narrow phone screen the navigation collapses behind a Menu button that opens it', async () => {
    const context = await browser.newContext({ viewport: { width: 320, height: 640 } });
    const page = await context.newPage();
    await page.goto(`${server.baseUrl}/`);
    const menu = page.getByRole('button', { name: 'Menu' });
    await menu.waitFor({ state: 'visible' });
    const navLink = page.locator('#navigation').getByRole('link', { name: 'Resources' });
    assert.equal(await navLink.isVisible(), false);
    await menu.click();
    assert.equal(await navLink.isVisible(), true);
    await context.close();
  });
  test('on a phone nothing jumps when the script arrives (the navigation is drawn folded), and without JavaScript its links show', async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 667 } });
    const page = await context.newPage();
    // Every layout shift of the page, from its first paint (buffered), by where it happened.
    await page.addInitScript(() => {
      const w = window as unknown as { shifts: { value: number; what: string[] }[] };
      w.shifts = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries() as unknown as {
          value: number;
          sources?: { node?: Node }[];
        }[])
          w.shifts.push({
            value: e.value,
            what: (e.sources ?? []).map((s) => (s.node as Element | undefined)?.className ?? '?'),
          });
      }).observe({ type: 'layout-shift', buffered: true });
    });
    for (const path of ['/', '/resources', '/events']) {
      await page.goto(`${server.baseUrl}${path}`, { waitUntil: 'load' });
      await page.getByRole('button', { name: 'Menu' }).waitFor({ state: 'visible' });
      const shifts = await page.evaluate(
        () => (window as unknown as { shifts: { value: number; what: string[] }[] }).shifts,
      );
      const total = shifts.reduce((n, s) => n + s.value, 0);
      assert.ok(total < 0.01, `${path} moved by ${total.toFixed(3)}: ${JSON.stringify(shifts)}`);
    }
    await context.close();

    const noJs = await browser.newContext({
      viewport: { width: 375, height: 667 },
      javaScriptEnabled: false,
    });
    const plain = await noJs.newPage();
    await plain.goto(`${server.baseUrl}/`);
    const nav = plain.locator('#navigation');
    assert.ok(await nav.getByRole('link', { name: 'Resources' }).isVisible());
    assert.ok(await nav.getByRole('link', { name: 'Events' }).isVisible());
    await noJs.close();
  });
  test("at 1280 px the sections sit on one row and the person's own links on another, for a visitor, a member and an admin, in English and Welsh", async () => {
    for (const who of ['visitor', 'member', 'admin'] as const) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      if (who !== 'visitor') await signIn(context, server, who);
      const page = await context.newPage();
      for (const lang of ['en', 'cy']) {
        await page.goto(`${server.baseUrl}/?lang=${lang}`);
        const rows = async (selector: string) => {
          const tops = await page
            .locator(selector)
            .evaluateAll((els) =>
              els
                .filter((e) => e.getClientRects().length > 0)
                .map((e) => Math.round(e.getBoundingClientRect().top)),
            );
          return { count: tops.length, rows: new Set(tops).size };
        };
        const sections = await rows('#navigation > li');
        const own = await rows('.sp-account-bar__item');
        assert.ok(sections.count >= 6, `${who} ${lang}: ${sections.count} sections`);
        assert.equal(sections.rows, 1, `${who} ${lang}: the sections on one row`);
        assert.ok(own.count >= (who === 'admin' ? 4 : who === 'member' ? 3 : 1));
        assert.equal(own.rows, 1, `${who} ${lang}: the account links on one row`);
        const bar = page.getByRole('navigation', {
          name: lang === 'cy' ? 'Eich cyfrif' : 'Your account',
        });
        const signInOrOut = who === 'visitor' ? /Sign in|Mewngofnodi/ : /Sign out|Allgofnodi/;
        assert.ok(await bar.getByRole('link', { name: signInOrOut }).isVisible());
      }
      // On a phone the same links fold behind "Menu", after the sections.
      await page.setViewportSize({ width: 375, height: 667 });
      await page.goto(`${server.baseUrl}/?lang=en`);
      assert.equal(await page.locator('.sp-account-bar').isVisible(), false);
      await page.getByRole('button', { name: 'Menu' }).click();
      const inMenu = page.locator('#navigation');
      assert.ok(
        await inMenu
          .getByRole('link', { name: who === 'visitor' ? 'Sign in' : 'Sign out' })
          .isVisible(),
        `${who}: the account links are in the phone's menu`,
      );
      await context.close();
    }
  });
  test('on a phone the results of the site search and of the resource list come before their filters; from tablet up the filters sit on the left', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    for (const [path, result, filter] of [
      ['/search?q=contact', '.sp-search-result a', '#kind'],
      ['/resources', '.sp-result h3 a', '[name="type"]'],
    ] as const) {
      const box = async (selector: string) => {
        const b = await page.locator(selector).first().boundingBox();
        assert.ok(b, `${path}: ${selector} is shown`);
        return b;
      };
      await page.setViewportSize({ width: 375, height: 667 });
      await page.goto(`${server.baseUrl}${path}`);
      assert.ok(
        (await box(result)).y < (await box(filter)).y,
        `${path} at 375 px: the first result is above the filters`,
      );
      // A link to the filters, for those who want them first.
      await page.getByRole('link', { name: 'Filter the results' }).click();
      assert.match(page.url(), /#filters$/);
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.goto(`${server.baseUrl}${path}`);
      const [r, f] = [await box(result), await box(filter)];
      assert.ok(f.x < r.x, `${path} at 1280 px: the filters are left of the results`);
      assert.equal(await page.getByRole('link', { name: 'Filter the results' }).isVisible(), false);
    }
    await context.close();
  });
  test('the national overview’s tile map: two columns on a phone, three from tablet up, its codes large enough to read on both', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    for (const [width, shown, hidden] of [
      [375, 'narrow', 'wide'],
      [1280, 'wide', 'narrow'],
    ] as const) {
      await page.setViewportSize({ width, height: 800 });
      await page.goto(`${server.baseUrl}/services/coverage`);
      assert.ok(
        await page.locator(`.sp-tile-map__svg--${shown}`).isVisible(),
        `${width}: ${shown}`,
      );
      assert.equal(await page.locator(`.sp-tile-map__svg--${hidden}`).isVisible(), false);
      // The code printed on a square, as tall on the screen as 9 px text or more.
      const box = await page
        .locator(`.sp-tile-map__svg--${shown} .sp-tile__code`)
        .first()
        .boundingBox();
      assert.ok(box && box.height >= 9, `${width}: a code ${box?.height} px tall`);
    }
    await context.close();
  });
});
