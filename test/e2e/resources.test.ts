import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, type LiveServer, liveServer, noBrowser } from './browser.ts';

describe('resources in a real browser', { skip: noBrowser }, () => {
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

  test('without JavaScript: search and filters are a GET form whose result URL can be shared', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${server.baseUrl}/resources`);
    await page.getByLabel('Search resources').fill('contact');
    await page.getByLabel(/Evidence reviews \(\d+\)/).check();
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/q=contact/);
    const url = new URL(page.url());
    assert.equal(url.searchParams.get('q'), 'contact');
    assert.deepEqual(url.searchParams.getAll('type'), ['evidence_review']);
    const titles = await page.locator('.sp-results h3').allTextContents();
    assert.ok(titles.length > 0, 'some results');
    // The same URL in a fresh browser gives the same results.
    const again = await (await context.newPage()).goto(page.url());
    assert.ok((await again!.text()).includes(titles[0]!.trim()));
    await context.close();
  });

  test('by keyboard: an external video loads its privacy-enhanced player only when chosen', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const external: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(server.baseUrl)) external.push(r.url());
    });
    await page.route(/youtube-nocookie\.com/, (route) =>
      route.fulfill({ status: 200, contentType: 'text/html', body: '<p>player</p>' }),
    );
    await page.goto(`${server.baseUrl}/resources/farewell-contact-sessions-video`);
    assert.equal(await page.locator('iframe').count(), 0);
    assert.deepEqual(external, [], 'nothing from the provider before the choice');
    const play = page.getByRole('button', { name: /Play this video \(loads YouTube\)/ });
    await play.focus();
    await page.keyboard.press('Enter');
    const frame = page.locator('.sp-embed iframe');
    await frame.waitFor();
    assert.match(
      (await frame.getAttribute('src')) ?? '',
      /^https:\/\/www\.youtube-nocookie\.com\/embed\/demoVideo01/,
    );
    await context.close();
  });
});
