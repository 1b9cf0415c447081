import type { BrowserContext } from 'playwright-core';
import type { LiveServer } from './browser.ts';

/** Signs a browser context in with the given role (accounts provide this). */
export async function signIn(
  _context: BrowserContext,
  _server: LiveServer,
  role: string,
): Promise<void> {
  throw new Error(`Signing in as ${role} is not available before the accounts feature`);
}
