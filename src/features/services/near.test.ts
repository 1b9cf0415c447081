import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';

/** Miles between two points, worked out here on its own (spherical law of cosines). */
function miles(a: { lat: number; lng: number }, b: { lat: number; lng: number }): number {
  const r = Math.PI / 180;
  const c =
    Math.sin(a.lat * r) * Math.sin(b.lat * r) +
    Math.cos(a.lat * r) * Math.cos(b.lat * r) * Math.cos((b.lng - a.lng) * r);
  return Math.acos(Math.min(1, c)) * 3958.8;
}

describe('searching near a postcode or place', () => {
  let t: TestApp;
  let geocoder: Server;
  const asked: string[] = [];
  let point = { lat: 0, lng: 0 };
  before(async () => {
    // A postcodes.io-shaped geocoder on loopback: one known postcode, the rest unknown.
    geocoder = createServer((req, res) => {
      asked.push(decodeURIComponent(req.url ?? ''));
      if (req.url === `/postcodes/${encodeURIComponent('B1 1BB')}`) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            status: 200,
            result: { postcode: 'B1 1BB', latitude: point.lat, longitude: point.lng },
          }),
        );
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 404, error: 'Postcode not found' }));
      }
    });
    await new Promise<void>((resolve) => geocoder.listen(0, '127.0.0.1', resolve));
    const { port } = geocoder.address() as AddressInfo;
    t = await testApp({ seed: true, config: { geocoderUrl: `http://127.0.0.1:${port}` } });
    const [first] = await t.database.query<{ lat: number; lng: number }>(
      `SELECT l.lat, l.lng FROM locations l JOIN service_at_locations sl ON sl.location_id = l.id
       JOIN services s ON s.id = sl.service_id WHERE s.status <> 'closed' ORDER BY s.slug LIMIT 1`,
    );
    point = { lat: first!.lat + 0.05, lng: first!.lng - 0.05 };
  });
  after(async () => {
    await t.close();
    geocoder.close();
  });

  test('results come in true distance order from the postcode, with distances shown; the postcode is asked once', async () => {
    const res = await t.app.inject('/services?near=b11bb');
    assert.equal(res.statusCode, 200);
    // Every page of results, following the "next" links as a person would.
    const bodies = [res.body];
    for (
      let next = /<a class="govuk-link govuk-pagination__link" href="([^"]+)" rel="next"/.exec(
        res.body,
      );
      next;
    ) {
      const more = await t.app.inject(next[1]!.replaceAll('&amp;', '&'));
      assert.equal(more.statusCode, 200);
      bodies.push(more.body);
      next = /<a class="govuk-link govuk-pagination__link" href="([^"]+)" rel="next"/.exec(
        more.body,
      );
    }
    assert.ok(bodies.length > 1, 'the results run over more than one page');
    const places = await t.database.query<{ slug: string; lat: number; lng: number }>(
      `SELECT s.slug, l.lat, l.lng FROM services s JOIN service_at_locations sl ON sl.service_id = s.id
       JOIN locations l ON l.id = sl.location_id WHERE s.status <> 'closed'`,
    );
    const expected = places
      .map((p) => ({ slug: p.slug, miles: miles(point, p) }))
      .sort((a, b) => a.miles - b.miles);
    const shown = bodies.flatMap((b) =>
      [...b.matchAll(/href="\/services\/(demo-[a-z0-9-]+)"/g)].map((m) => m[1]),
    );
    assert.deepEqual(
      shown,
      expected.map((e) => e.slug),
    );
    assert.match(res.body, new RegExp(`${expected[0]!.miles.toFixed(1)} miles away`));
    assert.match(res.body, /Nearest to B1 1BB first/);
    await t.app.inject('/services?near=B1%201BB');
    assert.equal(
      asked.filter((a) => a === '/postcodes/B1 1BB').length,
      1,
      'cached after the first time',
    );
  });

  test('a postcode that does not exist gets a clear message and services by name', async () => {
    const res = await t.app.inject('/services?near=ZZ9%209ZZ');
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /We could not find the postcode “ZZ9 9ZZ”/);
    assert.match(res.body, /href="\/services\/demo-/);
  });

  test('a place or authority name works without the geocoder', async () => {
    const before = asked.length;
    const res = await t.app.inject('/services?near=swansea');
    assert.match(res.body, /Nearest to Swansea first/);
    assert.equal(asked.length, before, 'no geocoder call for a name');
    const unknown = await t.app.inject('/services?near=Atlantis');
    assert.match(unknown.body, /We could not find a place called “Atlantis”/);
  });

  test('a geocoder that is down gets a clear message, never an error page', async () => {
    const down = await testApp({ seed: true, config: { geocoderUrl: 'http://127.0.0.1:9' } });
    try {
      const res = await down.app.inject('/services?near=B2%204QA');
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /Searching by postcode is not working at the moment/);
    } finally {
      await down.close();
    }
  });
});
