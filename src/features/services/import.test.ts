import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';

describe('services in and out', () => {
  let t: TestApp;
  before(async () => {
    t = await testApp({ seed: true });
  });
  after(async () => t.close());

  const count = async () =>
    (await t.database.query<{ n: number }>('SELECT count(*)::int AS n FROM services'))[0]!.n;

  test('/services.csv round-trips: importing the export changes nothing but the dates', async () => {
    const res = await t.app.inject('/services.csv');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /text\/csv/);
    const rows = parse(res.body, { columns: true }) as Record<string, string>[];
    assert.equal(rows.length, await count());
    const before = await count();
    const result = await t.app.services.services.importServices(res.body);
    assert.ok(result.ok, JSON.stringify(!result.ok && result.problems.slice(0, 3)));
    assert.deepEqual(result.ok && { created: result.created, updated: result.updated }, {
      created: 0,
      updated: before,
    });
    const again = await t.app.inject('/services.csv');
    assert.equal(again.body, res.body, 'the same file comes out again');
  });

  test('a file with one bad row imports nothing and names that row and field', async () => {
    const rows = parse((await t.app.inject('/services.csv')).body, { columns: true }) as Record<
      string,
      string
    >[];
    const fresh: Record<string, string>[] = rows
      .slice(0, 3)
      .map((r, i) => ({ ...r, slug: `imported-${i}`, name: `Imported service ${i}` }));
    fresh[1]!.model = 'nonsense';
    fresh[2]!.areas = `${fresh[2]!.areas} E99999999`;
    const before = await count();
    const result = await t.app.services.services.importServices(
      stringify(fresh, { header: true, columns: Object.keys(rows[0]!) }),
    );
    assert.equal(result.ok, false);
    const problems = !result.ok ? result.problems : [];
    assert.ok(
      problems.some((p) => p.row === 3 && p.field === 'model'),
      JSON.stringify(problems),
    );
    assert.ok(
      problems.some((p) => p.row === 4 && p.field === 'areas' && /E99999999/.test(p.message)),
    );
    assert.equal(await count(), before, 'nothing was imported');
    fresh[1]!.model = 'pause';
    fresh[2]!.areas = fresh[2]!.areas.replace(' E99999999', '');
    const ok = await t.app.services.services.importServices(
      stringify(fresh, { header: true, columns: Object.keys(rows[0]!) }),
    );
    assert.ok(ok.ok);
    assert.equal(await count(), before + 3);
  });

  test('cells that a spreadsheet would run are made text', async () => {
    const rows = parse((await t.app.inject('/services.csv')).body, { columns: true }) as Record<
      string,
      string
    >[];
    const row = {
      ...rows[0]!,
      slug: 'formula-test',
      name: 'Formula test',
      funding: '=HYPERLINK("http://x")',
    };
    const result = await t.app.services.services.importServices(
      stringify([row], { header: true, columns: Object.keys(row) }),
    );
    assert.ok(result.ok);
    const out = (await t.app.inject('/services.csv')).body;
    assert.match(out, /'=HYPERLINK/);
  });

  test('ORUK JSON records import too: our own export changes nothing; one bad record imports nothing and is named', async () => {
    const list = await t.app.services.oruk.services({}, { page: 1, perPage: 1000 });
    const records = await Promise.all(list.contents.map((s) => t.app.services.oruk.service(s.id)));
    const before = await count();
    const csvBefore = (await t.app.inject('/services.csv?v=json-1')).body;
    const same = await t.app.services.services.importServices(JSON.stringify(records));
    assert.ok(same.ok, JSON.stringify(!same.ok && same.problems.slice(0, 3)));
    assert.equal(same.ok && same.created, 0, 'records are matched to services by id');
    assert.equal(await count(), before);
    const csvAfter = (await t.app.inject('/services.csv?v=json-2')).body;
    assert.equal(csvAfter, csvBefore, 'importing our own ORUK export changes nothing');

    // Three new services (no ids), the third with an area that is not a current authority.
    const fresh = records.slice(0, 3).map((r, i) => ({
      ...r!,
      id: undefined,
      name: `Imported ORUK service ${i}`,
    }));
    fresh[2] = {
      ...fresh[2]!,
      service_areas: [{ ...fresh[2]!.service_areas[0]!, extent: 'E99999999' }],
    };
    const bad = await t.app.services.services.importServices(JSON.stringify(fresh));
    assert.equal(bad.ok, false);
    assert.equal(bad.unit, 'record');
    const problems = !bad.ok ? bad.problems : [];
    assert.deepEqual(
      problems.map((p) => [p.row, p.field]),
      [[3, 'areas']],
      'record 3, areas, and nothing else',
    );
    assert.equal(await count(), before, 'nothing imported');

    const good = await t.app.services.services.importServices(JSON.stringify(fresh.slice(0, 2)));
    assert.ok(good.ok, 'two good records import');
    assert.equal(good.ok && good.created, 2);
    const page = await t.app.inject('/services/imported-oruk-service-1');
    assert.equal(page.statusCode, 200);

    const notJson = await t.app.services.services.importServices('[{"name": ');
    assert.equal(notJson.ok, false);
    assert.match(!notJson.ok ? notJson.problems[0]!.message : '', /is not JSON/);
  });
});
