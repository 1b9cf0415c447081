import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, type LiveServer, liveServer, noBrowser } from './browser.ts';
import { signIn } from './sign-in.ts';

/**
 * A local action plan with JavaScript off, as a partner with a locked-down
 * work laptop would use it: rate a statement for one agency (a mistake
 * first, then right), add evidence, add an action, all by keyboard-usable
 * forms and full page loads.
 */
describe('local action plans work without JavaScript', { skip: noBrowser }, () => {
  let server: LiveServer;
  let browser: Browser;
  before(async () => {
    server = await liveServer({ seed: true, config: { tileUrl: '' } });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('rate, add evidence and an action with JavaScript disabled', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    await signIn(context, server, 'member');
    const page = await context.newPage();
    await page.goto(`${server.baseUrl}/plans`);
    await page.getByRole('link', { name: /North East partnership plan/ }).click();
    await page.getByRole('link', { name: '1.5' }).click();
    assert.match(await page.locator('h1').innerText(), /Statement 1\.5/);

    const agency = page.locator('#agency-social_care');
    await agency.getByLabel('Not applicable', { exact: true }).check();
    await agency.getByRole('button', { name: /Save rating/ }).click();
    assert.match(
      await page.locator('.govuk-error-summary').innerText(),
      /Say why this is not applicable/,
    );

    const again = page.locator('#agency-social_care');
    await again.getByLabel('Why is it not applicable?').fill('Letters go from the council, not us');
    await again.getByRole('button', { name: /Save rating/ }).click();
    assert.match(
      await page.locator('.govuk-notification-banner').innerText(),
      /rating has been saved/,
    );
    assert.match(
      await page.locator('#agency-social_care').innerText(),
      /Not applicable — confirmed/,
    );

    await page.locator('#agency-social_care summary').click();
    const section = page.locator('#agency-social_care');
    await section.locator('#social_care-description').fill('Protocol with the council (2026)');
    await section.locator('[name="reviewBy-day"]').fill('1');
    await section.locator('[name="reviewBy-month"]').fill('6');
    await section.locator('[name="reviewBy-year"]').fill('2030');
    await section.getByRole('button', { name: 'Add evidence' }).click();
    assert.match(
      await page.locator('#agency-social_care').innerText(),
      /Protocol with the council \(2026\)/,
    );

    await page.getByRole('link', { name: 'Add an action' }).last().click();
    await page.getByLabel('Action', { exact: true }).fill('Agree the letter protocol');
    await page.getByLabel('Owner', { exact: true }).fill('Legal manager');
    await page.locator('[name="dueOn-day"]').fill('1');
    await page.locator('[name="dueOn-month"]').fill('9');
    await page.locator('[name="dueOn-year"]').fill('2030');
    await page.getByLabel('In progress', { exact: true }).check();
    await page.getByRole('button', { name: 'Save action' }).click();
    assert.match(
      await page.locator('.govuk-notification-banner').innerText(),
      /action has been added/,
    );
    assert.match(
      await page.locator('#actions ~ table, .sp-actions').first().innerText(),
      /Agree the letter protocol/,
    );
    await context.close();
  });
});
