import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, type LiveServer, liveServer, noBrowser } from './browser.ts';
import { signIn } from './sign-in.ts';

/**
 * The post box's @mention autocomplete (src/assets/js/mentions.js) on a real
 * demo thread, signed in as the demo member: type "@" and two letters, the
 * listbox shows the names, the keyboard (or a tap) chooses one, "@Name " is
 * in the box. The page passes axe with the list open; a failed request
 * leaves the box as it was.
 */

const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'];
const SPACE = 'reproductive-and-sexual-health';

describe('@mention autocomplete in a real browser', { skip: noBrowser }, () => {
  let server: LiveServer;
  let browser: Browser;
  let context: BrowserContext;
  let threadUrl: string;
  const errors: string[] = [];

  before(async () => {
    server = await liveServer();
    browser = await launchBrowser();
    context = await browser.newContext();
    await signIn(context, server, 'member');
    const [thread] = await server.database.query<{ id: string }>(
      `SELECT t.id FROM threads t JOIN community_spaces s ON s.id = t.space_id
       WHERE s.slug = $1 AND NOT t.hidden AND NOT t.locked ORDER BY t.created_at LIMIT 1`,
      [SPACE],
    );
    threadUrl = `${server.baseUrl}/community/${SPACE}/${thread!.id}`;
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
  });

  async function open(url = threadUrl): Promise<Page> {
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    return page;
  }
  const box = (page: Page) => page.locator('textarea#body');
  const listbox = (page: Page) => page.getByRole('listbox', { name: 'Names you can mention' });

  test('type "@" and two letters, choose with the keyboard: "@Name " is in the box', async () => {
    const page = await open();
    const textarea = box(page);
    assert.equal(await textarea.getAttribute('role'), 'combobox');
    assert.equal(await textarea.getAttribute('aria-autocomplete'), 'list');
    assert.equal(await textarea.getAttribute('aria-expanded'), 'false');
    assert.equal(await listbox(page).isVisible(), false);

    await textarea.click();
    await page.keyboard.type('Thank you @Mo', { delay: 30 });
    await listbox(page).waitFor({ state: 'visible' });
    const options = listbox(page).getByRole('option');
    assert.deepEqual(await options.allTextContents(), ['Demo Moderator']);
    assert.equal(await textarea.getAttribute('aria-expanded'), 'true');
    assert.equal(
      await textarea.getAttribute('aria-controls'),
      await listbox(page).getAttribute('id'),
    );
    assert.match((await page.getByRole('status').last().textContent()) ?? '', /^1 name found\b/);

    await page.keyboard.press('ArrowDown');
    const first = options.first();
    assert.equal(await first.getAttribute('aria-selected'), 'true');
    assert.equal(
      await textarea.getAttribute('aria-activedescendant'),
      await first.getAttribute('id'),
    );
    // Each name is a large enough target to tap (WCAG 2.2: 24px; ours are 44px).
    const size = await first.boundingBox();
    assert.ok(size && size.height >= 44, `option height ${size?.height}`);

    const axe = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
    assert.deepEqual(
      axe.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
      [],
    );

    await page.keyboard.press('Enter');
    assert.equal(await textarea.inputValue(), 'Thank you @Demo Moderator ');
    assert.equal(await textarea.getAttribute('aria-expanded'), 'false');
    assert.equal(await textarea.getAttribute('aria-activedescendant'), null);
    assert.equal(await listbox(page).isVisible(), false);
    // Typing on after the name does not bring the list back: the box looks up
    // "@Demo Moderator for this." once the typing stops, finds no one and says so.
    await page.keyboard.type('for this.', { delay: 30 });
    await page
      .getByRole('status')
      .last()
      .filter({ hasText: /^No names found$/ })
      .waitFor();
    assert.equal(await listbox(page).isVisible(), false);
    assert.equal(await textarea.inputValue(), 'Thank you @Demo Moderator for this.');
    await page.close();
  });

  test('Escape closes the list; Enter without a chosen name is a new line; a tap chooses', async () => {
    const page = await open();
    const textarea = box(page);
    await textarea.click();
    await page.keyboard.type('@De', { delay: 30 });
    await listbox(page).waitFor({ state: 'visible' });
    const shown = await listbox(page).getByRole('option').allTextContents();
    assert.ok(shown.length > 1 && shown.length <= 8, shown.join(', '));
    assert.ok(!shown.includes('Demo Practitioner'), 'never oneself');
    await page.keyboard.press('Escape');
    assert.equal(await listbox(page).isVisible(), false);
    assert.equal(await textarea.getAttribute('aria-expanded'), 'false');

    await page.keyboard.press('Enter');
    assert.equal(await textarea.inputValue(), '@De\n');

    await page.keyboard.type('and @Ed', { delay: 30 });
    await listbox(page).waitFor({ state: 'visible' });
    await listbox(page).getByRole('option', { name: 'Demo Editor' }).click();
    assert.equal(await textarea.inputValue(), '@De\nand @Demo Editor ');
    assert.equal(await listbox(page).isVisible(), false);
    assert.ok(await textarea.evaluate((el) => el === document.activeElement), 'focus stays');
    await page.close();
  });

  test('on the new-thread page too; a failed request leaves the box as it was', async () => {
    const page = await open(`${server.baseUrl}/community/${SPACE}/new`);
    await page.route('**/mentions?*', (route) => route.abort());
    const textarea = box(page);
    await textarea.click();
    const asked = (q: string) => (r: { url(): string }) =>
      new URL(r.url()).pathname.endsWith('/mentions') &&
      new URL(r.url()).searchParams.get('q') === q;
    const aborted = page.waitForEvent('requestfailed', asked('Mo there'));
    await page.keyboard.type('Hello @Mo there', { delay: 30 });
    await aborted;
    assert.equal(await listbox(page).isVisible(), false);
    assert.equal(await textarea.inputValue(), 'Hello @Mo there');
    await page.unroute('**/mentions?*');
    await page.route('**/mentions?*', (route) =>
      route.fulfill({ status: 500, contentType: 'text/html', body: '<h1>Broken</h1>' }),
    );
    const broken = page.waitForResponse(asked('Mod'));
    await page.keyboard.type(' @Mod', { delay: 30 });
    assert.equal((await broken).status(), 500);
    assert.equal(await listbox(page).isVisible(), false);
    await page.keyboard.press('Enter');
    assert.equal(await textarea.inputValue(), 'Hello @Mo there @Mod\n');
    await page.close();
  });

  test('a request that fails late does not stop the look-up typed after it', async () => {
    const page = await open();
    let release = (): void => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/mentions?*', async (route) => {
      if (new URL(route.request().url()).searchParams.get('q') !== 'Mo') return route.continue();
      await released;
      return route.abort();
    });
    const query = (q: string) => (r: { url(): string }) =>
      new URL(r.url()).searchParams.get('q') === q;
    const textarea = box(page);
    await textarea.click();
    const slow = page.waitForRequest(query('Mo'));
    await page.keyboard.type('Thanks @Mo', { delay: 30 });
    await slow;
    // "d" starts a new look-up, due after the script's short delay; the
    // old request fails inside that delay.
    const newer = page.waitForResponse(query('Mod'), { timeout: 10_000 });
    await page.keyboard.type('d');
    release();
    assert.equal((await newer).status(), 200);
    await listbox(page).getByRole('option', { name: 'Demo Moderator' }).waitFor();
    assert.equal(await textarea.inputValue(), 'Thanks @Mod');
    await page.close();
  });

  test('no script errors', () => {
    // Aborted requests log a network error in the console; anything else is ours.
    assert.deepEqual(
      errors.filter((e) => !/Failed to load resource|net::ERR_FAILED/.test(e)),
      [],
    );
  });
});
