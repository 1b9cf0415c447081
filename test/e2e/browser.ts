import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium } from 'playwright-core';
import { type TestApp, type TestAppOptions, testApp } from '../helpers/app.ts';

/**
 * Browser tests drive Debian's Chromium through Playwright; no browser is
 * ever downloaded. Where Chromium is absent the tests are reported as
 * skipped with this reason, never as passed.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const noBrowser: string | false = existsSync(CHROMIUM)
  ? false
  : `Chromium is not installed at ${CHROMIUM} (apt-get install chromium)`;

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-gpu',
    ],
  });
}

export interface LiveServer extends TestApp {
  baseUrl: string;
}

/** The app with demo content, listening on a free loopback port. */
export async function liveServer(opts: TestAppOptions = {}): Promise<LiveServer> {
  const t = await testApp({ seed: true, ...opts });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.server.address() as AddressInfo;
  return { ...t, baseUrl: `http://127.0.0.1:${port}` };
}
