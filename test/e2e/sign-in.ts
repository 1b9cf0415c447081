import type { BrowserContext } from 'playwright-core';
import { DEMO_PASSWORD } from '../../src/features/accounts/seed.ts';
import type { VisitAs } from '../a11y/manifest.ts';
import { enableTwoFactor, totpCode } from '../helpers/totp.ts';
import type { LiveServer } from './browser.ts';

export const ROLE_EMAIL: Record<Exclude<VisitAs, 'visitor'>, string> = {
  member: 'member@example.org',
  moderator: 'moderator@example.org',
  editor: 'editor@example.org',
  admin: 'admin@example.org',
};

const secrets = new Map<string, string>();

/** Signs a browser context in through the real pages, with two-step sign-in for staff. */
export async function signIn(
  context: BrowserContext,
  server: LiveServer,
  role: Exclude<VisitAs, 'visitor'>,
): Promise<void> {
  const email = ROLE_EMAIL[role];
  if (role !== 'member' && !secrets.has(email))
    secrets.set(email, await enableTwoFactor(server.app, email));
  const page = await context.newPage();
  await page.goto(`${server.baseUrl}/account/sign-in`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const secret = secrets.get(email);
  if (secret) {
    await page.waitForURL(/\/account\/sign-in\/two-factor/);
    await page.getByLabel('Code').fill(totpCode(secret));
    await page.getByRole('button', { name: 'Continue' }).click();
  }
  await page.waitForURL(/\/account$/);
  await page.close();
}
