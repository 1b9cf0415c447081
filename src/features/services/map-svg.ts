import simplify from 'simplify-js';

/**
 * Boundaries and points for the server-rendered map of England and Wales on
 * the national overview page. Everything here is pure: boundary files are
 * turned into SVG path strings once, when uploaded, so pages only paste
 * strings into an <svg> and no map library or tile server is needed.
 *
 * Draw the paths with fill-rule="evenodd": older ONS files do not all wind
 * their holes the opposite way to their outlines, and evenodd cuts holes
 * either way.
 */

/** The box every path and dot is drawn in; use it as the <svg> viewBox. */
export const MAP_VIEWBOX = '0 0 400 480';
export const MAP_WIDTH = 400;
export const MAP_HEIGHT = 480;

/** England and Wales with the Isles of Scilly, Lowestoft and Berwick inside. */
export const LNG_MIN = -6.5;
export const LNG_MAX = 1.8;
export const LAT_MIN = 49.8;
export const LAT_MAX = 55.9;

/** Space kept clear round the edge so coastlines do not touch the frame. */
export const MAP_MARGIN = 10;

/**
 * A degree of longitude is shorter than a degree of latitude this far north.
 * Scaling by cos 52.5° (the middle of England and Wales) keeps shapes from
 * looking stretched sideways, without needing a real map projection.
 */
export const LNG_FACTOR = Math.cos((52.5 * Math.PI) / 180);

const SPAN_X = (LNG_MAX - LNG_MIN) * LNG_FACTOR;
const SPAN_Y = LAT_MAX - LAT_MIN;

/** Map units per degree of latitude: the largest that fits the box inside the margin. */
export const MAP_SCALE = Math.min(
  (MAP_WIDTH - 2 * MAP_MARGIN) / SPAN_X,
  (MAP_HEIGHT - 2 * MAP_MARGIN) / SPAN_Y,
);

/** Centre the area in whichever direction has room to spare. */
const OFFSET_X = (MAP_WIDTH - SPAN_X * MAP_SCALE) / 2;
const OFFSET_Y = (MAP_HEIGHT - SPAN_Y * MAP_SCALE) / 2;

/**
 * How far (in map units) simplified outlines may stray from the real ones.
 * At this map's size 0.6 units is under a kilometre: invisible on screen, but
 * it cuts ONS boundary files down to a few kilobytes per authority.
 */
export const SIMPLIFY_TOLERANCE = 0.6;

/** Longitude and latitude to map units, north up (y grows southward). */
export function project(lat: number, lng: number): { x: number; y: number } {
  return {
    x: OFFSET_X + (lng - LNG_MIN) * LNG_FACTOR * MAP_SCALE,
    y: OFFSET_Y + (LAT_MAX - lat) * MAP_SCALE,
  };
}

/** Where to draw a service as a dot when no boundaries have been loaded. */
export function dot(lat: number, lng: number): { cx: number; cy: number } {
  const { x, y } = project(lat, lng);
  return { cx: round1(x), cy: round1(y) };
}

export interface Boundary {
  gssCode: string;
  path: string;
}

/** `feature` counts from 1; 0 means the file as a whole. */
export interface BoundaryProblem {
  feature: number;
  field: string;
  message: string;
}

export type ReadBoundariesResult =
  | { ok: true; boundaries: Boundary[]; unmatched: string[] }
  | { ok: false; problems: BoundaryProblem[] };

/**
 * Read an ONS-style GeoJSON file of authority boundaries (WGS84) and turn
 * each authority we know about into an SVG path. Codes we do not know go
 * into `unmatched` so the person uploading can see what was left out (a
 * file covering Scotland too, say). Every problem is reported at once so
 * a bad file can be fixed in one go, and nothing is returned if there are
 * any, so a half-read file never replaces a good one.
 */
export function readBoundaries(
  geojsonText: string,
  knownCodes: ReadonlySet<string>,
): ReadBoundariesResult {
  let data: unknown;
  try {
    data = JSON.parse(geojsonText);
  } catch {
    return fileProblem('The file is not valid JSON. Upload a GeoJSON file.');
  }
  if (!isObject(data) || data.type !== 'FeatureCollection' || !Array.isArray(data.features)) {
    return fileProblem('The file is not a GeoJSON FeatureCollection.');
  }

  const problems: BoundaryProblem[] = [];
  const boundaries: Boundary[] = [];
  const unmatched: string[] = [];
  const seen = new Map<string, number>();

  data.features.forEach((feature: unknown, index: number) => {
    const number = index + 1;
    const problem = (field: string, message: string) =>
      problems.push({ feature: number, field, message });

    const props = isObject(feature) && isObject(feature.properties) ? feature.properties : {};
    const found = findCode(props);
    let code: string | undefined;
    if (!found) {
      problem(
        'properties',
        'No GSS code. Each feature needs a property such as CTYUA24CD, gss_code or code.',
      );
    } else {
      code = found.code;
      const first = seen.get(code);
      if (first !== undefined) {
        problem(`properties.${found.key}`, `${code} also appears in feature ${first}.`);
        code = undefined;
      } else {
        seen.set(code, number);
      }
    }

    const geometry = isObject(feature) ? feature.geometry : undefined;
    const read = readPolygons(geometry);
    if ('message' in read) {
      problem(read.field, read.message);
      return;
    }
    if (code === undefined) return;
    if (!knownCodes.has(code)) {
      unmatched.push(code);
      return;
    }
    // Very small authorities (City of London, Isles of Scilly) can simplify
    // away to nothing; draw those unsimplified rather than leave a gap.
    const path = polygonsPath(read.polygons, SIMPLIFY_TOLERANCE) || polygonsPath(read.polygons, 0);
    if (!path) {
      problem('geometry.coordinates', 'The boundary has no area to draw.');
      return;
    }
    boundaries.push({ gssCode: code, path });
  });

  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, boundaries, unmatched };
}

type Position = [number, number];
type Ring = Position[];
type Polygon = Ring[];

function fileProblem(message: string): ReadBoundariesResult {
  return { ok: false, problems: [{ feature: 0, field: 'file', message }] };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** ONS names the code column after the boundary set and year, so match the pattern. */
const ONS_CODE_KEY = /^[A-Z]+\d{2}CD$/i;

function findCode(props: Record<string, unknown>): { key: string; code: string } | undefined {
  const keys = [...Object.keys(props).filter((key) => ONS_CODE_KEY.test(key)), 'gss_code', 'code'];
  for (const key of keys) {
    const value = props[key];
    if (typeof value === 'string' && value.trim() !== '') {
      return { key, code: value.trim().toUpperCase() };
    }
  }
  return undefined;
}

function isPosition(value: unknown): value is Position {
  return (
    Array.isArray(value) &&
    value.length >= 2 &&
    Number.isFinite(value[0]) &&
    Number.isFinite(value[1])
  );
}

function isPolygon(value: unknown): value is Polygon {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((ring) => Array.isArray(ring) && ring.every(isPosition))
  );
}

/** Check the geometry's shape and units, giving back its polygons as plain arrays. */
function readPolygons(
  geometry: unknown,
): { polygons: Polygon[] } | { field: string; message: string } {
  if (!isObject(geometry) || (geometry.type !== 'Polygon' && geometry.type !== 'MultiPolygon')) {
    const type = isObject(geometry) && typeof geometry.type === 'string' ? geometry.type : 'none';
    return {
      field: 'geometry.type',
      message: `The geometry is ${type}; only Polygon and MultiPolygon boundaries can be drawn.`,
    };
  }
  const coordinates = geometry.coordinates;
  const polygons =
    geometry.type === 'Polygon'
      ? isPolygon(coordinates)
        ? [coordinates]
        : undefined
      : Array.isArray(coordinates) && coordinates.every(isPolygon)
        ? coordinates
        : undefined;
  if (!polygons) {
    return {
      field: 'geometry.coordinates',
      message: 'The coordinates are not lists of [longitude, latitude] pairs.',
    };
  }
  // British National Grid is in metres, so its numbers are far outside the
  // range of degrees. It is what ONS offers first, so it is an easy mistake.
  const gridLike = polygons.some((polygon) =>
    polygon.some((ring) => ring.some(([x, y]) => Math.abs(x) > 180 || Math.abs(y) > 90)),
  );
  if (gridLike) {
    return {
      field: 'geometry.coordinates',
      message:
        'The coordinates look like British National Grid (metres), not longitude and latitude. ' +
        'Export the boundaries in WGS84 (EPSG:4326) and upload the file again.',
    };
  }
  return { polygons };
}

/** One path for all an authority's polygons, islands and holes included. */
function polygonsPath(polygons: Polygon[], tolerance: number): string {
  let path = '';
  for (const [outline, ...holes] of polygons) {
    const outer = outline ? ringPath(outline, tolerance) : '';
    // A hole cannot be drawn in an outline that simplified away.
    if (!outer) continue;
    path += outer + holes.map((hole) => ringPath(hole, tolerance)).join('');
  }
  return path;
}

function ringPath(ring: Ring, tolerance: number): string {
  const projected = ring.map(([lng, lat]) => project(lat, lng));
  const kept = tolerance > 0 ? simplify(projected, tolerance, false) : projected;
  const points: string[] = [];
  for (const { x, y } of kept) {
    const point = `${round1(x)} ${round1(y)}`;
    // Rounding can make neighbours land on the same spot; keep one.
    if (point !== points[points.length - 1]) points.push(point);
  }
  // GeoJSON repeats the first point at the end; Z closes the ring instead.
  if (points.length > 1 && points[0] === points[points.length - 1]) points.pop();
  if (points.length < 3) return '';
  return `M${points.join('L')}Z`;
}

function round1(value: number): number {
  // `+ 0` turns -0 into 0 so it never prints as "-0".
  return Math.round(value * 10) / 10 + 0;
}
