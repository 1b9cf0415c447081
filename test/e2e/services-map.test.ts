import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PUBLIC_DIR } from '../../src/app.ts';
import { loadAssetManifest } from '../../src/platform/views/index.ts';
import { type TestApp, testApp } from '../helpers/app.ts';
import { launchBrowser, type LiveServer, liveServer, noBrowser } from './browser.ts';

/**
 * The service map (src/assets/js/services-map.js) is an enhancement: the
 * list of services is the page, the map shows only when everything it needs
 * has loaded. Its contract with the templates:
 *   <div class="sp-map" data-sp-map hidden data-points-url="…" data-tile-url="…"
 *        data-tile-attribution="…" data-label="…"></div>
 * or data-lat / data-lng / data-name for one service; the points URL answers
 * { points: [{ name, url, lat, lng, miles? }] }.
 *
 * The first browser suite drives the script on a fixture page (routes added
 * by this test), so it checks the script on its own; the second checks the
 * real /services pages keep to the contract.
 */

const OSM = 'https://tile.openstreetmap.org/{z}/{x}/{y}.png';
// A 1×1 transparent PNG, standing in for map tiles.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);

const POINT_SETS: Record<string, unknown[]> = {
  two: [
    {
      name: 'Family Hub Islington',
      url: '/services/a',
      lat: 51.538,
      lng: -0.103,
      miles: '1.2 miles away',
    },
    { name: 'Cardiff Parenting', url: '/services/b', lat: 51.481, lng: -3.179 },
  ],
  one: [{ name: 'Only service', url: '/services/only', lat: 52.48, lng: -1.9 }],
  hostile: [
    { name: '<img src=x id=injected>', url: 'javascript:alert(1)', lat: 51.5, lng: -0.12 },
    {
      name: 'Fish & <b>chips</b>',
      url: '//evil.example/x',
      lat: 53.48,
      lng: -2.24,
      miles: '<i>3</i> miles',
    },
    { name: 'No coordinates', url: '/services/c' },
  ],
  many: Array.from({ length: 40 }, (_, i) => ({
    name: `Service ${i + 1}`,
    url: `/services/s${i + 1}`,
    lat: 51.5 + (i % 8) * 0.01,
    lng: -0.12 + Math.floor(i / 8) * 0.01,
  })),
  empty: [],
};

function esc(text: string): string {
  return text.replace(
    /[&<>"]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!,
  );
}

/** Routes for a page carrying the map, as the templates are to write it. */
function mapFixtures(tileUrl: string) {
  return (app: FastifyInstance): void => {
    const assets = loadAssetManifest(PUBLIC_DIR);
    app.get('/__test/map.json', { config: { access: 'public' } }, async (req, reply) => {
      const { set = 'two' } = req.query as { set?: string };
      if (set === 'fail') return reply.code(500).send({ error: 'broken' });
      return { points: POINT_SETS[set] ?? [] };
    });
    app.get('/__test/map', { config: { access: 'public' } }, async (req, reply) => {
      const q = req.query as {
        set?: string;
        single?: string;
        tiles?: string;
        attribution?: string;
      };
      const data: Record<string, string> = {
        'data-tile-url': q.tiles === '1' ? tileUrl : '',
        'data-tile-attribution': q.attribution ?? '© OpenStreetMap contributors',
        'data-label': 'Map of the services listed',
        'data-cluster-label': '{count} services: zoom in',
      };
      if (q.single)
        Object.assign(data, { 'data-lat': '52.2', 'data-lng': '0.12', 'data-name': q.single });
      else data['data-points-url'] = `/__test/map.json?set=${encodeURIComponent(q.set ?? 'two')}`;
      const attrs = Object.entries(data)
        .map(([k, v]) => `${k}="${esc(v)}"`)
        .join(' ');
      return reply.type('text/html; charset=utf-8').send(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Map fixture</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="${assets.url('app.css')}"></head>
<body><main class="govuk-width-container">
<a class="govuk-link" id="before" href="#">Before the map</a>
<div class="sp-map" data-sp-map ${attrs} hidden></div>
<a class="govuk-link" id="after" href="#">After the map</a>
<ul class="sp-results"><li class="sp-result"><a href="/services/a">Family Hub Islington</a></li></ul>
</main>
<script type="module" src="${assets.url('services-map.js')}" nonce="${reply.scriptNonce}"></script>
</body></html>`);
    });
  };
}

/** Requests a page makes beyond the server, and its errors (CSP reports among them). */
function watch(page: Page, baseUrl: string): { external: string[]; errors: string[] } {
  const seen = { external: [] as string[], errors: [] as string[] };
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(baseUrl) && !url.startsWith('data:')) seen.external.push(url);
  });
  page.on('console', (m) => {
    if (m.type() === 'error') seen.errors.push(m.text());
  });
  page.on('pageerror', (e) => seen.errors.push(e.message));
  return seen;
}

const markers = '.sp-map .leaflet-marker-icon, .sp-map .marker-cluster';

describe('service map static files', () => {
  let t: TestApp;
  before(async () => {
    t = await testApp();
  });
  after(async () => {
    await t?.close();
  });

  test('Leaflet and marker clustering are served from their packages, cached', async () => {
    for (const [url, type] of [
      ['/assets/leaflet/leaflet.js', /javascript/],
      ['/assets/leaflet/leaflet.css', /text\/css/],
      ['/assets/leaflet/images/marker-icon.png', /image\/png/],
      ['/assets/leaflet/images/marker-icon-2x.png', /image\/png/],
      ['/assets/leaflet/images/marker-shadow.png', /image\/png/],
      ['/assets/markercluster/leaflet.markercluster.js', /javascript/],
      ['/assets/markercluster/MarkerCluster.css', /text\/css/],
      ['/assets/markercluster/MarkerCluster.Default.css', /text\/css/],
    ] as const) {
      const res = await t.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, url);
      assert.match(String(res.headers['content-type']), type, url);
      assert.match(String(res.headers['cache-control']), /max-age=86400/, url);
    }
  });

  test('nothing else in the packages is reachable', async () => {
    for (const url of [
      '/assets/leaflet/leaflet-src.js',
      '/assets/leaflet/leaflet.js.map',
      '/assets/leaflet/../package.json',
      '/assets/leaflet/images/../leaflet-src.esm.js',
      '/assets/markercluster/leaflet.markercluster-src.js',
      '/assets/markercluster/WhereAreTheJavascriptFiles.txt',
    ]) {
      const res = await t.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 404, url);
    }
  });
});

describe('the service map script in a real browser', { skip: noBrowser }, () => {
  let noTiles: LiveServer;
  let withTiles: LiveServer;
  let browser: Browser;
  let context: BrowserContext;
  before(async () => {
    noTiles = await liveServer({ seed: false, config: { tileUrl: '' }, before: mapFixtures('') });
    withTiles = await liveServer({
      seed: false,
      config: { tileUrl: OSM },
      before: mapFixtures(OSM),
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await noTiles?.close();
    await withTiles?.close();
  });

  async function open(server: LiveServer, query: string, js = true) {
    context = await browser.newContext({ javaScriptEnabled: js });
    const page = await context.newPage();
    const seen = watch(page, server.baseUrl);
    return { page, seen, go: () => page.goto(`${server.baseUrl}/__test/map?${query}`) };
  }

  test('shows the points as markers in a labelled region, with nothing from elsewhere', async () => {
    const { page, seen, go } = await open(noTiles, 'set=two');
    await go();
    const map = page.locator('.sp-map');
    await map.waitFor({ state: 'visible' });
    await page.locator(markers).first().waitFor();
    assert.equal(await map.getAttribute('role'), 'region');
    assert.equal(await map.getAttribute('aria-label'), 'Map of the services listed');
    assert.equal(await page.locator('.sp-map .leaflet-tile').count(), 0, 'no base layer');
    assert.equal(await page.locator('.sp-map .leaflet-marker-icon').count(), 2);
    // Popups: a link to the service, and the distance, as text.
    await page.getByRole('button', { name: 'Family Hub Islington', exact: true }).click();
    const popup = page.locator('.leaflet-popup-content');
    await popup.waitFor();
    const link = popup.getByRole('link', { name: 'Family Hub Islington' });
    assert.equal(await link.getAttribute('href'), '/services/a');
    assert.match(await popup.innerText(), /1\.2 miles away/);
    assert.deepEqual(seen.external, []);
    assert.deepEqual(seen.errors, []);
    await context.close();
  });

  test('many points near each other are clustered, and clusters have a name', async () => {
    const { page, seen, go } = await open(noTiles, 'set=many');
    await go();
    const cluster = page.locator('.sp-map .marker-cluster').first();
    await cluster.waitFor();
    assert.match((await cluster.getAttribute('aria-label')) ?? '', /^\d+ services: zoom in$/);
    assert.equal(await cluster.getAttribute('tabindex'), '0');
    assert.deepEqual(seen.errors, []);
    await context.close();
  });

  test('data is shown as text: no markup, no script links, no links elsewhere', async () => {
    const { page, seen, go } = await open(noTiles, 'set=hostile');
    await go();
    await page.locator(markers).first().waitFor();
    assert.equal(
      await page.locator('.sp-map .leaflet-marker-icon').count(),
      2,
      'no coordinates, no marker',
    );
    await page.getByRole('button', { name: '<img src=x id=injected>', exact: true }).click();
    const popup = page.locator('.leaflet-popup-content');
    await popup.waitFor();
    assert.equal(await popup.innerText(), '<img src=x id=injected>');
    assert.equal(await popup.locator('a').count(), 0, 'a javascript: URL is not a link');
    await page.getByRole('button', { name: 'Fish & <b>chips</b>', exact: true }).click();
    // (The first popup fades out as this one opens.)
    const fish = page.locator('.leaflet-popup-content', { hasText: 'Fish' });
    await fish.waitFor();
    assert.equal(await fish.locator('a').count(), 0, 'another site is not linked');
    assert.match(await fish.innerText(), /^Fish & <b>chips<\/b>\s+<i>3<\/i> miles$/);
    assert.equal(
      await page.locator('#injected, .leaflet-popup-content b, .leaflet-popup-content i').count(),
      0,
    );
    assert.deepEqual(seen.errors, []);
    await context.close();
  });

  test('with no points, the map shows England and Wales', async () => {
    const { page, go } = await open(noTiles, 'set=empty');
    await go();
    await page.locator('.sp-map').waitFor({ state: 'visible' });
    await page.locator('.sp-map .leaflet-control-zoom').waitFor();
    assert.equal(await page.locator(markers).count(), 0);
    await context.close();
  });

  test('one service (data-lat, data-lng, data-name): one marker, no points fetched', async () => {
    const { page, go } = await open(noTiles, 'single=Cambridge Family Centre');
    const fetched: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('map.json')) fetched.push(r.url());
    });
    await go();
    const marker = page.getByRole('button', { name: 'Cambridge Family Centre', exact: true });
    await marker.waitFor();
    assert.equal(await page.locator(markers).count(), 1);
    assert.deepEqual(fetched, []);
    await context.close();
  });

  test('by keyboard: Enter opens a marker’s popup at its link, Escape returns, Tab moves on', async () => {
    const { page, go } = await open(noTiles, 'set=one');
    await go();
    const marker = page.getByRole('button', { name: 'Only service', exact: true });
    await marker.waitFor();
    assert.equal(await marker.getAttribute('tabindex'), '0');
    await marker.focus();
    await page.keyboard.press('Enter');
    await page.locator('.leaflet-popup-content a').waitFor();
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement;
        return { id: el?.id, text: el?.textContent?.trim(), title: el?.getAttribute('title') };
      });
    assert.equal((await focused()).text, 'Only service', 'focus on the popup’s link');
    await page.keyboard.press('Escape');
    await page.locator('.leaflet-popup').waitFor({ state: 'detached' });
    assert.equal((await focused()).title, 'Only service', 'focus back on the marker');
    // The map does not hold focus: Tab leaves it.
    let left = false;
    for (let i = 0; i < 10 && !left; i++) {
      await page.keyboard.press('Tab');
      left = (await focused()).id === 'after';
    }
    assert.ok(left, 'Tab reaches the link after the map');
    await context.close();
  });

  test('if the points cannot be had, there is no map: the list is the page', async () => {
    const { page, go } = await open(noTiles, 'set=fail');
    const warned = page.waitForEvent('console', (m) => m.text().includes('Service map not shown'));
    await go();
    await warned;
    assert.equal(await page.locator('.sp-map').isVisible(), false);
    assert.equal(await page.locator('.sp-map').getAttribute('role'), null);
    assert.ok(await page.locator('.sp-result').first().isVisible());
    await context.close();
  });

  test('if Leaflet cannot be loaded, there is no map', async () => {
    const { page, go } = await open(noTiles, 'set=two');
    await page.route(/\/assets\/leaflet\/leaflet\.js$/, (route) => route.abort());
    const warned = page.waitForEvent('console', (m) => m.text().includes('Service map not shown'));
    await go();
    await warned;
    assert.equal(await page.locator('.sp-map').isVisible(), false);
    assert.ok(await page.locator('.sp-result').first().isVisible());
    await context.close();
  });

  test('without JavaScript the map stays hidden and the list is there', async () => {
    const { page, go } = await open(noTiles, 'set=two', false);
    await go();
    assert.equal(await page.locator('.sp-map').count(), 1);
    assert.equal(await page.locator('.sp-map').isVisible(), false);
    assert.ok(await page.locator('.sp-result').first().isVisible());
    await context.close();
  });

  test('with a tile URL, tiles come from it (allowed by the CSP), attribution as text', async () => {
    const { page, seen, go } = await open(
      withTiles,
      'set=two&tiles=1&attribution=<b id="attr">© Tiles</b>',
    );
    await page.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) =>
      route.fulfill({ status: 200, contentType: 'image/png', body: PNG }),
    );
    await go();
    await page.locator(markers).first().waitFor();
    await page.locator('.sp-map .leaflet-tile-loaded').first().waitFor();
    assert.ok(seen.external.length > 0, 'tiles were asked for');
    for (const url of seen.external)
      assert.match(url, /^https:\/\/tile\.openstreetmap\.org\/\d+\/\d+\/\d+\.png$/);
    const attribution = page.locator('.leaflet-control-attribution');
    assert.match(await attribution.innerText(), /<b id="attr">© Tiles<\/b>/);
    assert.equal(await page.locator('#attr').count(), 0);
    assert.deepEqual(seen.errors, []);
    await context.close();
  });
});

describe('the service map on the services pages', { skip: noBrowser }, () => {
  let server: LiveServer;
  let browser: Browser;
  before(async () => {
    server = await liveServer({ config: { tileUrl: '' } });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('/services with JavaScript: the map shows markers, and nothing leaves the site without a tile URL', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const seen = watch(page, server.baseUrl);
    await page.goto(`${server.baseUrl}/services`);
    const map = page.locator('.sp-map');
    await map.waitFor({ state: 'visible' });
    await page.locator(markers).first().waitFor();
    assert.equal(await map.getAttribute('role'), 'region');
    assert.ok(await map.getAttribute('aria-label'));
    assert.ok((await page.locator('.sp-result').count()) > 0, 'the list is still there');
    assert.deepEqual(seen.external, []);
    assert.deepEqual(seen.errors, []);
    await context.close();
  });

  test('the overview’s chart and tile map speak in the page’s own (sans-serif) font, not the browser’s serif default', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.baseUrl}/services/coverage`);
    const fonts = (await page.evaluate(`(() => {
      const f = (sel) => { const el = document.querySelector(sel); return el ? getComputedStyle(el).fontFamily : null; };
      return { body: f('main .govuk-body, main p'), chart: f('.sp-chart__label'), tiles: f('.sp-tile-map__region') };
    })()`)) as { body: string; chart: string | null; tiles: string | null };
    assert.ok(
      fonts.chart && fonts.tiles,
      `the overview has its chart and tile map: ${JSON.stringify(fonts)}`,
    );
    assert.equal(fonts.chart, fonts.body, 'chart labels in the page’s font');
    assert.equal(fonts.tiles, fonts.body, 'tile map labels in the page’s font');
    assert.doesNotMatch(fonts.body, /^"?Times|^serif/);
    await context.close();
  });

  test('/services without JavaScript: the map stays hidden and the list is there', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${server.baseUrl}/services`);
    assert.ok((await page.locator('[data-sp-map]').count()) > 0, 'the page carries the map');
    assert.equal(await page.locator('[data-sp-map]').first().isVisible(), false);
    assert.ok((await page.locator('.sp-result').count()) > 0);
    await context.close();
  });

  test('/services/map.json answers the points of the list, with links to the services', async () => {
    const res = await fetch(`${server.baseUrl}/services/map.json`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const body = (await res.json()) as { points: Record<string, unknown>[] };
    assert.ok(Array.isArray(body.points) && body.points.length > 0);
    for (const p of body.points) {
      assert.equal(typeof p.name, 'string');
      assert.match(String(p.url), /^\/services\/[^/]+$/);
      assert.ok(Number.isFinite(p.lat) && Number.isFinite(p.lng));
    }
  });
});

describe(
  'the service map on the services pages, with the default tile server',
  { skip: noBrowser },
  () => {
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

    test('/services shows markers, with only tiles asked for elsewhere (answered here, not fetched)', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const seen = watch(page, server.baseUrl);
      await page.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) =>
        route.fulfill({ status: 200, contentType: 'image/png', body: PNG }),
      );
      await page.goto(`${server.baseUrl}/services`);
      await page.locator('.sp-map').waitFor({ state: 'visible' });
      await page.locator(markers).first().waitFor();
      for (const url of seen.external) assert.match(url, /^https:\/\/tile\.openstreetmap\.org\//);
      assert.deepEqual(seen.errors, []);
      await context.close();
    });
  },
);
