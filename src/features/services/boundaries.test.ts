import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';

/** A square of side 2d degrees around a point, as a GeoJSON polygon ring. */
const square = (lat: number, lng: number, d = 0.1) => [
  [
    [lng - d, lat - d],
    [lng + d, lat - d],
    [lng + d, lat + d],
    [lng - d, lat + d],
    [lng - d, lat - d],
  ],
];

describe('boundaries for the national overview', () => {
  let t: TestApp;
  let two: { gss_code: string; lat: number; lng: number }[];
  before(async () => {
    t = await testApp({ seed: true });
    two = await t.database.query(
      'SELECT gss_code, lat, lng FROM local_authorities WHERE retired_on IS NULL ORDER BY gss_code LIMIT 2',
    );
  });
  after(async () => t.close());

  test('without boundaries the overview shows a tile for each of the 175 authorities (#19)', async () => {
    const page = await t.app.inject('/services/coverage');
    assert.equal(page.statusCode, 200);
    const svg = /<svg[^>]*sp-tile-map__svg[\s\S]*?<\/svg>/.exec(page.body)![0];
    assert.equal([...svg.matchAll(/<rect /g)].length, 175);
    assert.equal([...page.body.matchAll(/<path d=/g)].length, 0);
    assert.equal([...page.body.matchAll(/<circle /g)].length, 0);
    assert.match(page.body, /Each square is one authority/);
  });

  test('a file in British National Grid is refused with its feature named, and nothing is stored', async () => {
    const bad = {
      type: 'FeatureCollection',
      features: [
        {
          type: 'Feature',
          properties: { CTYUA24CD: two[0]!.gss_code },
          geometry: { type: 'Polygon', coordinates: square(two[0]!.lat, two[0]!.lng) },
        },
        {
          type: 'Feature',
          properties: { CTYUA24CD: two[1]!.gss_code },
          geometry: {
            type: 'Polygon',
            coordinates: [
              [
                [530000, 180000],
                [531000, 180000],
                [531000, 181000],
                [530000, 180000],
              ],
            ],
          },
        },
      ],
    };
    const result = await t.app.services.services.importBoundaries(JSON.stringify(bad));
    assert.equal(result.ok, false);
    assert.ok(
      !result.ok && result.problems.some((p) => p.feature === 2 && /WGS84/.test(p.message)),
    );
    const [n] = await t.database.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM authority_boundaries',
    );
    assert.equal(n!.n, 0);
  });

  test('loaded boundaries are drawn as shapes, shaded by coverage; the rest stay dots', async () => {
    const file = {
      type: 'FeatureCollection',
      features: [
        ...two.map((a) => ({
          type: 'Feature',
          properties: { CTYUA24CD: a.gss_code, CTYUA24NM: 'x' },
          geometry: { type: 'Polygon', coordinates: square(a.lat, a.lng) },
        })),
        {
          type: 'Feature',
          properties: { CTYUA24CD: 'S12000033' },
          geometry: { type: 'Polygon', coordinates: square(57.1, -2.1) },
        },
      ],
    };
    const result = await t.app.services.services.importBoundaries(JSON.stringify(file));
    assert.ok(result.ok, 'loaded');
    assert.equal(result.ok && result.loaded, 2);
    assert.deepEqual(result.ok && result.unmatched, ['S12000033'], 'a Scottish area is left out');
    assert.equal(result.ok && result.missing.length, 173);
    // (A new address: visitors' pages are cached for up to 30 seconds.)
    const page = await t.app.inject('/services/coverage?after=boundaries');
    const paths = [
      ...page.body.matchAll(
        /<path d="[^"]+" fill-rule="evenodd" class="sp-area sp-area--(\w+)"><title>([^<]+)<\/title>/g,
      ),
    ];
    assert.equal(paths.length, 2);
    assert.equal([...page.body.matchAll(/<circle /g)].length, 173);
    // Each shape is shaded by whether the authority has an active service, as the overview counts it.
    const coverage = await t.app.services.services.coverage();
    for (const [, state, title] of paths) {
      const row = coverage.rows.find((r) => title!.startsWith(`${r.name}:`))!;
      assert.ok(row, `a shape for ${title}`);
      const expected = row.services ? 'covered' : row.inDevelopment ? 'developing' : 'none';
      assert.equal(state, expected, `${row.name} is shaded ${expected}`);
    }
  });
});
