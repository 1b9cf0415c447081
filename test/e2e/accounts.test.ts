import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import en from '../../src/features/accounts/locales/en.json' with { type: 'json' };
import { DEMO_PASSWORD } from '../../src/features/accounts/seed.ts';
import { linkFromMail } from '../helpers/mail.ts';
import { enableTwoFactor, totpCode } from '../helpers/totp.ts';
import { launchBrowser, type LiveServer, liveServer, noBrowser } from './browser.ts';

/** The page's one h1, as shown. */
const heading = async (page: Page): Promise<string> =>
  (await page.locator('h1').innerText()).trim();

/** The element that has focus: its id, and whether it sits in the error summary. */
const focused = (page: Page) =>
  page.evaluate(() => ({
    id: document.activeElement?.id ?? '',
    inSummary: Boolean(document.activeElement?.closest('.govuk-error-summary')),
  }));

const TERMS_LABEL = [en.register.agree, en.register.terms, en.register.and, en.register.coc].join(
  ' ',
);

describe('accounts in a real browser', { skip: noBrowser }, () => {
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

  /** Fills the sign-in form on the current page and presses "Sign in". */
  async function submitSignIn(page: Page, email: string, password: string): Promise<void> {
    await page.getByLabel(en.fields.email).fill(email);
    await page.getByLabel(en.fields.password, { exact: true }).fill(password);
    await page.getByRole('button', { name: en.signIn.submit }).click();
  }

  test('a visitor registers, confirms their address, signs in and signs out', async () => {
    const email = 'new-parent@example.org';
    const password = 'four random words here';
    const context = await browser.newContext();
    const page = await context.newPage();

    await page.goto(`${server.baseUrl}/account/register`);
    assert.equal(await heading(page), en.register.title);
    await page.getByLabel(en.fields.email).fill(email);
    await page.getByLabel(en.fields.displayName).fill('Sam (new parent)');
    await page.getByLabel(en.kinds.parent).check();
    await page.getByLabel(en.fields.password, { exact: true }).fill(password);
    await page.getByRole('checkbox', { name: TERMS_LABEL }).check();
    await page.getByRole('button', { name: en.register.submit }).click();
    await page.waitForURL(/\/account\/check-email\?for=register$/);
    assert.equal(await heading(page), en.checkEmail.register.title);

    const verifyPath = await linkFromMail(server.app, email, '/account/verify/');
    await page.goto(`${server.baseUrl}${verifyPath}`);
    assert.equal(await heading(page), en.verify.title);
    await page.getByRole('button', { name: en.verify.button }).click();
    await page.waitForLoadState();
    assert.equal(await heading(page), en.verified.approved.title);

    await page.locator('main').getByRole('link', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(/\/account\/sign-in$/);
    await submitSignIn(page, email, password);
    await page.waitForURL(/\/account$/);
    assert.equal(await heading(page), en.account.title);
    assert.match(await page.locator('main').innerText(), /new-parent@example\.org/);

    await page.locator('header').getByRole('link', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(/\/account\/sign-out$/);
    assert.equal(await heading(page), en.signOut.title);
    await page.getByRole('button', { name: en.signOut.submit, exact: true }).click();
    await page.waitForURL(/\/account\/sign-out$/);
    assert.equal(await heading(page), en.signedOut.title);

    await page.goto(`${server.baseUrl}/account`);
    await page.waitForURL(/\/account\/sign-in\?next=%2Faccount$/);
    assert.equal(await heading(page), en.signIn.title);
    await context.close();
  });

  test('a member who has forgotten their password resets it from the emailed link', async () => {
    const email = 'parent@example.org';
    const newPassword = 'lanterns drifting over quiet harbours';
    const context = await browser.newContext();
    const page = await context.newPage();

    await page.goto(`${server.baseUrl}/account/sign-in`);
    await page.getByRole('link', { name: en.signIn.forgot }).click();
    await page.waitForURL(/\/account\/password\/forgot$/);
    assert.equal(await heading(page), en.forgot.title);
    await page.getByLabel(en.fields.email).fill(email);
    await page.getByRole('button', { name: en.forgot.submit }).click();
    await page.waitForURL(/\/account\/check-email\?for=reset$/);
    assert.equal(await heading(page), en.checkEmail.reset.title);

    const resetPath = await linkFromMail(server.app, email, '/account/password/reset/');
    await page.goto(`${server.baseUrl}${resetPath}`);
    assert.equal(await heading(page), en.reset.title);
    await page.getByLabel(en.fields.newPassword, { exact: true }).fill(newPassword);
    await page.getByRole('button', { name: en.reset.submit }).click();
    await page.waitForLoadState();
    assert.equal(await heading(page), en.passwordReset.title);

    await page.goto(`${server.baseUrl}/account/sign-in`);
    await submitSignIn(page, email, newPassword);
    await page.waitForURL(/\/account$/);
    assert.match(await page.locator('main').innerText(), /parent@example\.org/);
    await context.close();
  });

  test('a member signs in with a link sent by email', async () => {
    const email = 'member@example.org';
    const context = await browser.newContext();
    const page = await context.newPage();

    await page.goto(`${server.baseUrl}/account/sign-in`);
    await page.getByRole('link', { name: en.signIn.emailLink }).click();
    await page.waitForURL(/\/account\/sign-in\/email$/);
    assert.equal(await heading(page), en.signInEmail.title);
    await page.getByLabel(en.fields.email).fill(email);
    await page.getByRole('button', { name: en.signInEmail.submit }).click();
    await page.waitForURL(/\/account\/check-email\?for=link$/);
    assert.equal(await heading(page), en.checkEmail.link.title);

    const linkPath = await linkFromMail(server.app, email, '/account/sign-in/link/');
    await page.goto(`${server.baseUrl}${linkPath}`);
    assert.equal(await heading(page), en.signInLink.title);
    await page.locator('main').getByRole('button', { name: en.signInLink.button }).click();
    await page.waitForURL(/\/account$/);
    assert.equal(await heading(page), en.account.title);
    assert.match(await page.locator('main').innerText(), /member@example\.org/);
    await context.close();
  });

  test('registration errors: the summary takes focus, links to each field, and typing is kept', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.baseUrl}/account/register`);
    await page.waitForFunction(() => document.body.classList.contains('govuk-frontend-supported'));

    await page.getByRole('button', { name: en.register.submit }).click();
    await page.waitForURL(/\/account\/register$/);
    await page.waitForFunction(() =>
      Boolean(document.activeElement?.closest('.govuk-error-summary')),
    );
    assert.equal((await focused(page)).inSummary, true, 'the error summary has focus');
    assert.match(await page.title(), /^Error: /);

    const summary = page.locator('.govuk-error-summary');
    const expected: [string, string][] = [
      [en.errors.emailRequired, 'email'],
      [en.errors.displayNameRequired, 'displayName'],
      [en.errors.kindRequired, 'kind'],
      [en.errors.passwordRequired, 'password'],
      [en.errors.agreeRequired, 'agree'],
    ];
    const links = summary.getByRole('link');
    assert.deepEqual(
      (await links.allInnerTexts()).map((s) => s.trim()),
      expected.map(([text]) => text),
    );
    for (const [text, id] of expected) {
      await summary.getByRole('link', { name: text }).click();
      await page.waitForFunction((want) => document.activeElement?.id === want, id);
      assert.equal((await focused(page)).id, id, `"${text}" moves focus to #${id}`);
      // The same message is shown by the field.
      assert.match(await page.locator(`#${id}-error`).innerText(), new RegExp(text));
    }

    // A second bad submission: no password, terms not ticked.
    await page.getByLabel(en.fields.email).fill('typed@example.org');
    await page.getByLabel(en.fields.displayName).fill('Typed Name');
    await page.getByLabel(en.kinds.researcher).check();
    await page.getByLabel(en.fields.organisationOptional).fill('Family Hub');
    await page.getByLabel(en.fields.regionOptional).fill('South Wales');
    await page.getByRole('button', { name: en.register.submit }).click();
    await page.waitForLoadState();
    await page.waitForFunction(() =>
      Boolean(document.activeElement?.closest('.govuk-error-summary')),
    );
    assert.deepEqual(
      (await summary.getByRole('link').allInnerTexts()).map((s) => s.trim()),
      [en.errors.passwordRequired, en.errors.agreeRequired],
    );
    assert.equal(await page.getByLabel(en.fields.email).inputValue(), 'typed@example.org');
    assert.equal(await page.getByLabel(en.fields.displayName).inputValue(), 'Typed Name');
    assert.equal(await page.getByLabel(en.kinds.researcher).isChecked(), true);
    assert.equal(await page.getByLabel(en.fields.organisationOptional).inputValue(), 'Family Hub');
    assert.equal(await page.getByLabel(en.fields.regionOptional).inputValue(), 'South Wales');
    assert.equal(
      await page.getByLabel(en.fields.password, { exact: true }).inputValue(),
      '',
      'the password is never sent back',
    );
    await context.close();
  });

  test('an admin signs in in two steps: a wrong code is refused, the right one lets them in', async () => {
    const email = 'admin@example.org';
    const secret = await enableTwoFactor(server.app, email);
    const context = await browser.newContext();
    const page = await context.newPage();

    await page.goto(`${server.baseUrl}/account/sign-in`);
    await submitSignIn(page, email, DEMO_PASSWORD);
    await page.waitForURL(/\/account\/sign-in\/two-factor/);
    assert.equal(await heading(page), en.twoFactorChallenge.title);

    await page.getByLabel(en.fields.code).fill('000000');
    await page.getByRole('button', { name: en.twoFactorChallenge.submit }).click();
    await page.waitForLoadState();
    assert.equal(await heading(page), en.twoFactorChallenge.title);
    assert.match(await page.locator('.govuk-error-summary').innerText(), /That code is not right/);
    assert.match(await page.locator('#code-error').innerText(), /That code is not right/);

    await page.getByLabel(en.fields.code).fill(totpCode(secret));
    await page.getByRole('button', { name: en.twoFactorChallenge.submit }).click();
    await page.waitForURL(/\/account$/);
    assert.equal(await heading(page), en.account.title);

    await page.goto(`${server.baseUrl}/admin`);
    assert.equal(new URL(page.url()).pathname, '/admin');
    assert.equal(await heading(page), 'Admin');
    await context.close();
  });

  test('works without JavaScript: a member signs in with their password', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${server.baseUrl}/account/sign-in`);
    await submitSignIn(page, 'member@example.org', DEMO_PASSWORD);
    await page.waitForURL(/\/account$/);
    assert.equal(await heading(page), en.account.title);
    assert.match(await page.locator('main').innerText(), /member@example\.org/);
    await context.close();
  });
});
