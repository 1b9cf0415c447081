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
});
