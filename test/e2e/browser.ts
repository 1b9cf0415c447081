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

/**
 * Chromium features the tests turn off. Headless Chromium still builds each
 * window's address bar, and in Debian's Chromium 156 its suggestions popup is
 * made of two web pages (the popup and its AI mode), each loaded in a
 * renderer process, for every window a test opens, never shown. Without
 * them the machine spent about a quarter less CPU time on the browser tests
 * (test/e2e/journeys-1280.test.ts alone: 204 s against 147 s).
 * Chromium reads only the last `--disable-features` switch, and Playwright
 * passes one of its own first, so this list repeats the features Playwright
 * (1.65) turns off, less those for Windows and Edge.
 */
const DISABLED_FEATURES = [
  'WebUIOmniboxPopup',
  'WebUIOmniboxAimPopup',
  // Playwright's own:
  'AvoidUnnecessaryBeforeUnloadCheckSync',
  'DestroyProfileOnBrowserClose',
  'HttpsUpgrades',
  'HttpsFirstBalancedModeAutoEnable',
  'LensOverlay',
  'MediaRouter',
  'PaintHolding',
  'ThirdPartyStoragePartitioning',
  'AvoidCorsURLLoaderRestartOnRedirect',
  'OptimizationHints',
  'NetworkTimeServiceQuerying',
  'AimEnabled',
  'PreconnectToSearch',
];

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
      `--disable-features=${DISABLED_FEATURES.join(',')}`,
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
