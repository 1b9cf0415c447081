import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';

/**
 * The profile's JSON schemas, read where they are kept: the shared reference
 * folder beside the repository (../shared/reference/oruk, never copied in),
 * or ORUK_SCHEMA_DIR. Without them the answers are still checked, but not
 * against the schemas: outside CI that check is skipped with the reason; in
 * CI (CI=true) a missing schema folder fails the suite.
 */
const SCHEMA_DIR =
  process.env.ORUK_SCHEMA_DIR ??
  // Beside the checkout (its real place: the tests may run from a compiled copy, scripts/compile-tests.mjs).
  join(
    dirname(realpathSync(join(import.meta.dirname, '../../../package.json'))),
    '../shared/reference/oruk/schema',
  );
const haveSchemas = existsSync(join(SCHEMA_DIR, 'compiled', 'service.json'));
const inCi = process.env.CI === 'true' || process.env.CI === '1';
const noSchemas = `no ORUK schemas at ${SCHEMA_DIR} (the shared reference folder, or ORUK_SCHEMA_DIR)`;

let ajv: Ajv | undefined;
/** One Ajv with every schema of the profile under its file name, as they refer to each other. */
function validator(file: string): ValidateFunction {
  if (!ajv) {
    ajv = new Ajv({ strict: false, allErrors: true });
    (addFormatsModule as unknown as (a: Ajv) => void)(ajv);
    for (const f of readdirSync(SCHEMA_DIR).filter(
      (x) => x.endsWith('.json') && x !== 'openapi.json',
    )) {
      const schema = JSON.parse(readFileSync(join(SCHEMA_DIR, f), 'utf8')) as Record<
        string,
        unknown
      >;
      delete schema.$id;
      ajv.addSchema(schema, f);
    }
  }
  if (!file.startsWith('compiled/')) return ajv.getSchema(file)!;
  const schema = JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8')) as Record<
    string,
    unknown
  >;
  delete schema.$id;
  return ajv.compile(schema);
}
function check(v: ValidateFunction | undefined, value: unknown, what: string) {
  if (!v) return;
  assert.ok(v(value), `${what}: ${JSON.stringify(v.errors?.slice(0, 3))}`);
}

type Page = {
  total_items: number;
  total_pages: number;
  page_number: number;
  size: number;
  first_page: boolean;
  last_page: boolean;
  empty: boolean;
  contents: Record<string, unknown>[];
};

describe('the Open Referral UK API', () => {
  let t: TestApp;
  let geocoder: Server;
  const schemas: Record<string, ValidateFunction | undefined> = {};
  before(async () => {
    geocoder = createServer((req, res) => {
      if (req.url === `/postcodes/${encodeURIComponent('B1 1BB')}`) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ result: { latitude: 52.48, longitude: -1.9 } }));
      } else {
        res.writeHead(404);
        res.end('{}');
      }
    });
    await new Promise<void>((resolve) => geocoder.listen(0, '127.0.0.1', resolve));
    const { port } = geocoder.address() as AddressInfo;
    t = await testApp({ seed: true, config: { geocoderUrl: `http://127.0.0.1:${port}` } });
    if (haveSchemas) {
      schemas.serviceList = validator('compiled/service_list.json');
      schemas.service = validator('compiled/service.json');
      schemas.salList = validator('compiled/service_at_location_list.json');
      schemas.sal = validator('compiled/service_at_location.json');
      schemas.taxonomy = validator('taxonomy.json');
      schemas.term = validator('taxonomy_term.json');
    }
  });
  after(async () => {
    await t.close();
    geocoder.close();
  });
  const get = async (url: string) => {
    const res = await t.app.inject(url);
    return { res, body: res.json() as Page & Record<string, unknown> };
  };

  test('services: the paged envelope, open to any origin, each item valid', async () => {
    const meta = await get('/api/oruk');
    assert.equal(meta.body.version, '3.0');
    const [{ n }] = (await t.database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM services WHERE status <> 'closed'`,
    )) as [{ n: number }];
    const { res, body } = await get('/api/oruk/services?per_page=7&page=2');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['access-control-allow-origin'], '*');
    assert.equal(body.total_items, n);
    assert.equal(body.total_pages, Math.ceil(n / 7));
    assert.equal(body.page_number, 2);
    assert.equal(body.size, 7);
    assert.equal(body.first_page, false);
    for (const s of body.contents) check(schemas.serviceList, s, 'service in a list');
    const one = await get(`/api/oruk/services/${body.contents[0]!.id}`);
    assert.equal(one.res.statusCode, 200);
    check(schemas.service, one.body, 'service');
    assert.ok((one.body.service_areas as unknown[]).length >= 1);
    assert.ok(
      (one.body.attributes as unknown[]).length >= 2,
      'model, offers and who it serves as taxonomy terms',
    );
    assert.equal(
      (await t.app.inject('/api/oruk/services/00000000-0000-4000-8000-000000000000')).statusCode,
      404,
    );
    const bad = await t.app.inject('/api/oruk/services?per_page=0');
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().message, /per_page/);
  });

  test('taxonomies and terms, and filtering services by a term', async () => {
    const tax = await get('/api/oruk/taxonomies');
    assert.equal(tax.body.total_items, 3);
    for (const x of tax.body.contents) check(schemas.taxonomy, x, 'taxonomy');
    const terms = await get(
      `/api/oruk/taxonomy_terms?taxonomy_id=${tax.body.contents[0]!.id}&per_page=200`,
    );
    assert.ok(terms.body.total_items > 0);
    for (const x of terms.body.contents) check(schemas.term, x, 'taxonomy term');
    const fathers = (await get('/api/oruk/taxonomy_terms?per_page=200')).body.contents.find(
      (x) => x.term === 'fathers',
    )!;
    const filtered = await get(`/api/oruk/services?taxonomy_term_id=${fathers.id}&per_page=200`);
    const [{ n }] = (await t.database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM services WHERE status <> 'closed' AND 'fathers' = ANY(serves)`,
    )) as [{ n: number }];
    assert.equal(filtered.body.total_items, n);
  });

  test('service at locations near a postcode: within the proximity, nearest first, each item valid', async () => {
    const { res, body } = await get(
      `/api/oruk/service_at_locations?postcode=${encodeURIComponent('b1 1bb')}&proximity=150000&per_page=200`,
    );
    assert.equal(res.statusCode, 200);
    assert.ok(body.total_items > 0 && body.total_items < 40, 'some, not all, within 150 km');
    const metres = body.contents.map((x) => {
      const l = x.location as { latitude: number; longitude: number };
      const r = Math.PI / 180;
      const c =
        Math.sin(52.48 * r) * Math.sin(l.latitude * r) +
        Math.cos(52.48 * r) * Math.cos(l.latitude * r) * Math.cos((l.longitude + 1.9) * r);
      return Math.acos(Math.min(1, c)) * 6371008.8;
    });
    assert.ok(
      metres.every((m) => m <= 150_000 * 1.001),
      'all within the proximity',
    );
    assert.deepEqual(
      metres,
      [...metres].sort((a, b) => a - b),
      'nearest first',
    );
    for (const x of body.contents) check(schemas.salList, x, 'service at location in a list');
    const one = await get(`/api/oruk/service_at_locations/${body.contents[0]!.id}`);
    check(schemas.sal, one.body, 'service at location');
    const unknown = await t.app.inject('/api/oruk/service_at_locations?postcode=ZZ9%209ZZ');
    assert.equal(unknown.statusCode, 400);
    assert.equal(
      (await t.app.inject('/api/oruk/service_at_locations?proximity=5')).statusCode,
      400,
    );
  });

  test(
    'the answers were checked against the ORUK schemas (in CI they must be)',
    { skip: haveSchemas || inCi ? false : noSchemas },
    () => {
      assert.ok(haveSchemas, `${noSchemas}: CI needs them`);
      assert.ok(schemas.service && schemas.serviceList && schemas.term);
      assert.equal(
        schemas.service!({ id: 'not-a-uuid', name: 'x', status: 'open' }),
        false,
        'the check can fail',
      );
    },
  );
});
