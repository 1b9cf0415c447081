import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  LAT_MAX,
  LAT_MIN,
  LNG_MAX,
  LNG_MIN,
  MAP_HEIGHT,
  MAP_VIEWBOX,
  MAP_WIDTH,
  dot,
  project,
  readBoundaries,
} from './map-svg.ts';

type Position = [number, number];

/** A closed GeoJSON ring: a square `size` degrees across from its south-west corner. */
function square(lng: number, lat: number, size: number): Position[] {
  return [
    [lng, lat],
    [lng + size, lat],
    [lng + size, lat + size],
    [lng, lat + size],
    [lng, lat],
  ];
}

function feature(properties: Record<string, unknown>, geometry: unknown) {
  return { type: 'Feature', properties, geometry };
}

function collection(...features: unknown[]): string {
  return JSON.stringify({ type: 'FeatureCollection', features });
}

/** The x,y pairs in a path, ring by ring. */
function rings(path: string): Position[][] {
  return path
    .split('Z')
    .filter((ring) => ring !== '')
    .map((ring) => {
      assert.match(ring, /^M/);
      return ring
        .slice(1)
        .split('L')
        .map((point) => {
          const [x, y] = point.split(' ').map(Number);
          return [x, y] as Position;
        });
    });
}

function okResult(result: ReturnType<typeof readBoundaries>) {
  assert.ok(result.ok, `expected no problems, got ${JSON.stringify(result)}`);
  return result;
}

function problemsOf(result: ReturnType<typeof readBoundaries>) {
  assert.ok(!result.ok, 'expected problems');
  return result.problems;
}

const known = new Set(['E08000025', 'E06000052', 'E06000046', 'E09000001']);

describe('project', () => {
  test('north is up and east is right', () => {
    const london = project(51.5, -0.1);
    const york = project(53.96, -1.08);
    const cardiff = project(51.48, -3.18);
    assert.ok(york.y < london.y, 'a more northern point has a smaller y');
    assert.ok(london.x > cardiff.x, 'a more eastern point has a larger x');
    // Same latitude, different longitude: only x moves.
    assert.equal(project(52, -2).y, project(52, 1).y);
    assert.equal(project(50, -2).x, project(55, -2).x);
  });

  test('the corners of the covered area fall inside the viewBox, with a margin', () => {
    assert.equal(MAP_VIEWBOX, `0 0 ${MAP_WIDTH} ${MAP_HEIGHT}`);
    for (const lat of [LAT_MIN, LAT_MAX]) {
      for (const lng of [LNG_MIN, LNG_MAX]) {
        const { x, y } = project(lat, lng);
        assert.ok(x >= 5 && x <= MAP_WIDTH - 5, `x ${x} for ${lat},${lng}`);
        assert.ok(y >= 5 && y <= MAP_HEIGHT - 5, `y ${y} for ${lat},${lng}`);
      }
    }
  });

  test('the area fills the box in at least one direction', () => {
    const nw = project(LAT_MAX, LNG_MIN);
    const se = project(LAT_MIN, LNG_MAX);
    const fillsWidth = se.x - nw.x > MAP_WIDTH * 0.9;
    const fillsHeight = se.y - nw.y > MAP_HEIGHT * 0.9;
    assert.ok(fillsWidth || fillsHeight);
  });

  test('longitude is shrunk by cos 52.5° so shapes keep their proportions', () => {
    const a = project(52.5, -2);
    const east = project(52.5, -1);
    const north = project(53.5, -2);
    const ratio = (east.x - a.x) / (a.y - north.y);
    assert.ok(Math.abs(ratio - Math.cos((52.5 * Math.PI) / 180)) < 1e-9);
  });
});

describe('dot', () => {
  test('is the projected point rounded to one decimal place', () => {
    const { x, y } = project(52.48, -1.9);
    const d = dot(52.48, -1.9);
    assert.equal(d.cx, Math.round(x * 10) / 10);
    assert.equal(d.cy, Math.round(y * 10) / 10);
    assert.ok(Math.abs(d.cx - x) <= 0.05 && Math.abs(d.cy - y) <= 0.05);
  });
});

describe('readBoundaries', () => {
  test('turns polygons and multipolygons into closed paths inside the viewBox', () => {
    const result = okResult(
      readBoundaries(
        collection(
          feature(
            { CTYUA24CD: 'E08000025', CTYUA24NM: 'Birmingham' },
            {
              type: 'Polygon',
              coordinates: [square(-2, 52.4, 0.2)],
            },
          ),
          feature(
            { CTYUA24CD: 'E06000052', CTYUA24NM: 'Cornwall' },
            {
              type: 'Polygon',
              coordinates: [square(-5.5, 50.1, 0.8)],
            },
          ),
          feature(
            { CTYUA24CD: 'E06000046', CTYUA24NM: 'Isle of Wight' },
            {
              type: 'MultiPolygon',
              coordinates: [[square(-1.5, 50.6, 0.4)], [square(-1.0, 50.7, 0.1)]],
            },
          ),
        ),
        known,
      ),
    );
    assert.deepEqual(
      result.boundaries.map((b) => b.gssCode),
      ['E08000025', 'E06000052', 'E06000046'],
    );
    assert.deepEqual(result.unmatched, []);
    for (const { path } of result.boundaries) {
      assert.match(path, /^M/);
      assert.match(path, /Z$/);
      // Only numbers with at most one decimal place, between the commands.
      assert.match(path, /^(M-?\d+(\.\d)? -?\d+(\.\d)?(L-?\d+(\.\d)? -?\d+(\.\d)?)+Z)+$/);
      for (const ring of rings(path)) {
        for (const [x, y] of ring) {
          assert.ok(x >= 0 && x <= MAP_WIDTH && y >= 0 && y <= MAP_HEIGHT, `${x},${y} outside`);
        }
      }
    }
    const [birmingham, , wight] = result.boundaries;
    // A square stays a square: four corners, the repeated first point dropped.
    const birminghamRings = rings(birmingham?.path ?? '');
    assert.equal(birminghamRings.length, 1);
    assert.equal(birminghamRings[0]?.length, 4);
    const sw = project(52.4, -2);
    assert.deepEqual(birminghamRings[0]?.[0], [
      Math.round(sw.x * 10) / 10,
      Math.round(sw.y * 10) / 10,
    ]);
    // Each polygon of a multipolygon becomes its own ring.
    assert.equal(rings(wight?.path ?? '').length, 2);
  });

  test('simplifies outlines: points along a straight edge are dropped', () => {
    const edge: Position[] = [];
    for (let i = 0; i <= 50; i++) edge.push([-2 + (0.5 * i) / 50, 52]);
    const ring: Position[] = [...edge, [-1.5, 52.5], [-2, 52.5], [-2, 52]];
    const result = okResult(
      readBoundaries(
        collection(feature({ code: 'E08000025' }, { type: 'Polygon', coordinates: [ring] })),
        known,
      ),
    );
    const [only] = rings(result.boundaries[0]?.path ?? '');
    assert.equal(only?.length, 4);
  });

  test('keeps holes as separate rings', () => {
    const result = okResult(
      readBoundaries(
        collection(
          feature(
            { CTYUA24CD: 'E06000052' },
            {
              type: 'Polygon',
              coordinates: [square(-5.5, 50.1, 0.8), square(-5.3, 50.3, 0.2)],
            },
          ),
        ),
        known,
      ),
    );
    assert.equal(rings(result.boundaries[0]?.path ?? '').length, 2);
  });

  test('drops islands too small to survive simplification', () => {
    const result = okResult(
      readBoundaries(
        collection(
          feature(
            { CTYUA24CD: 'E06000046' },
            {
              type: 'MultiPolygon',
              coordinates: [[square(-1.5, 50.6, 0.4)], [square(-1.0, 50.9, 0.01)]],
            },
          ),
        ),
        known,
      ),
    );
    assert.equal(rings(result.boundaries[0]?.path ?? '').length, 1);
  });

  test('still draws an authority that is tiny all over, unsimplified', () => {
    const result = okResult(
      readBoundaries(
        collection(
          feature(
            { CTYUA24CD: 'E09000001' },
            {
              type: 'Polygon',
              coordinates: [square(-0.1, 51.51, 0.01)],
            },
          ),
        ),
        known,
      ),
    );
    const [ring] = rings(result.boundaries[0]?.path ?? '');
    assert.equal(ring?.length, 4);
  });

  test('finds the code under other ONS names, gss_code or code', () => {
    for (const key of ['CTYUA23CD', 'UTLA22CD', 'LAD24CD', 'gss_code', 'code']) {
      const result = okResult(
        readBoundaries(
          collection(
            feature(
              { [key]: 'E08000025' },
              { type: 'Polygon', coordinates: [square(-2, 52.4, 0.2)] },
            ),
          ),
          known,
        ),
      );
      assert.deepEqual(
        result.boundaries.map((b) => b.gssCode),
        ['E08000025'],
        key,
      );
    }
  });

  test('puts codes it does not know into unmatched, not an error', () => {
    const result = okResult(
      readBoundaries(
        collection(
          feature(
            { CTYUA24CD: 'E08000025' },
            { type: 'Polygon', coordinates: [square(-2, 52.4, 0.2)] },
          ),
          feature(
            { CTYUA24CD: 'S12000036' },
            { type: 'Polygon', coordinates: [square(-3.2, 55.9, 0.2)] },
          ),
        ),
        known,
      ),
    );
    assert.deepEqual(
      result.boundaries.map((b) => b.gssCode),
      ['E08000025'],
    );
    assert.deepEqual(result.unmatched, ['S12000036']);
  });

  test('rejects text that is not JSON', () => {
    assert.deepEqual(problemsOf(readBoundaries('{"type": "FeatureCollection",', known)), [
      { feature: 0, field: 'file', message: 'The file is not valid JSON. Upload a GeoJSON file.' },
    ]);
  });

  test('rejects JSON that is not a FeatureCollection', () => {
    for (const text of [
      '[]',
      JSON.stringify({ type: 'Feature', properties: {}, geometry: null }),
      JSON.stringify({ type: 'FeatureCollection' }),
    ]) {
      const problems = problemsOf(readBoundaries(text, known));
      assert.equal(problems.length, 1, text);
      assert.equal(problems[0]?.feature, 0);
      assert.match(problems[0]?.message ?? '', /FeatureCollection/);
    }
  });

  test('reports every problem at once, numbered from 1, and returns no boundaries', () => {
    const good = { type: 'Polygon', coordinates: [square(-2, 52.4, 0.2)] };
    const result = readBoundaries(
      collection(
        feature({ CTYUA24CD: 'E08000025' }, good), // 1: fine
        feature({ CTYUA24NM: 'Nowhere' }, good), // 2: no code
        feature({ CTYUA24CD: 'E06000052' }, { type: 'LineString', coordinates: [[-5, 50]] }), // 3
        feature(
          { CTYUA24CD: 'E06000046' },
          {
            type: 'Polygon',
            coordinates: [
              [
                [440000, 90000],
                [450000, 90000],
                [450000, 80000],
                [440000, 90000],
              ],
            ],
          },
        ), // 4: British National Grid
        feature({ CTYUA24CD: 'E08000025' }, good), // 5: same code as 1
      ),
      known,
    );
    const problems = problemsOf(result);
    assert.deepEqual(
      problems.map((p) => [p.feature, p.field]),
      [
        [2, 'properties'],
        [3, 'geometry.type'],
        [4, 'geometry.coordinates'],
        [5, 'properties.CTYUA24CD'],
      ],
    );
    assert.match(problems[0]?.message ?? '', /GSS code/);
    assert.match(problems[1]?.message ?? '', /LineString/);
    assert.match(problems[2]?.message ?? '', /WGS84 \(EPSG:4326\)/);
    assert.match(problems[3]?.message ?? '', /E08000025 also appears in feature 1/);
  });

  test('reports a missing geometry and malformed coordinates', () => {
    const problems = problemsOf(
      readBoundaries(
        collection(
          feature({ code: 'E08000025' }, null),
          feature({ code: 'E06000052' }, { type: 'Polygon', coordinates: [[['a', 'b']]] }),
        ),
        known,
      ),
    );
    assert.deepEqual(
      problems.map((p) => [p.feature, p.field]),
      [
        [1, 'geometry.type'],
        [2, 'geometry.coordinates'],
      ],
    );
  });

  test('a duplicate of an unknown code is still a problem', () => {
    const geometry = { type: 'Polygon', coordinates: [square(-3.2, 55.9, 0.2)] };
    const problems = problemsOf(
      readBoundaries(
        collection(
          feature({ code: 'S12000036' }, geometry),
          feature({ code: 'S12000036' }, geometry),
        ),
        known,
      ),
    );
    assert.deepEqual(
      problems.map((p) => p.feature),
      [2],
    );
  });
});
