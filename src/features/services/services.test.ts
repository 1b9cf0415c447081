import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import { AUTHORITY_LIST } from './seed.ts';
import { readAuthoritiesCsv } from './service.ts';

describe('the service map', () => {
  let t: TestApp;
  before(async () => {
    t = await testApp({ seed: true });
  });
  after(async () => t.close());

  test('the overview’s counts equal counts computed independently from the same data; the CSV has 175 rows', async () => {
    const authorities = await t.database.query<{
      gss_code: string;
      nation: string;
      region_name: string;
    }>('SELECT gss_code, nation, region_name FROM local_authorities WHERE retired_on IS NULL');
    assert.equal(authorities.length, 175);
    assert.equal(authorities.filter((a) => a.nation === 'Wales').length, 22);
    const links = await t.database.query<{
      gss_code: string;
      model: string;
      status: string;
      offers: string[];
      serves: string[];
    }>(
      `SELECT sa.gss_code, s.model, s.status, s.offers, s.serves FROM service_areas sa JOIN services s ON s.id = sa.service_id`,
    );
    const covered = new Set(links.filter((l) => l.status === 'active').map((l) => l.gss_code));
    const c = await t.app.services.services.coverage();
    assert.equal(c.totals.authorities, 175);
    assert.equal(c.totals.covered, covered.size);
    assert.equal(c.totals.uncovered, 175 - covered.size);
    assert.ok(
      covered.size > 10 && covered.size < 175,
      'some authorities have services, most have none',
    );
    const wales = authorities.filter((a) => a.nation === 'Wales');
    assert.equal(
      c.nations.find((n) => n.nation === 'Wales')!.covered,
      wales.filter((a) => covered.has(a.gss_code)).length,
    );
    for (const r of c.regions) {
      const inRegion = authorities.filter(
        (a) => a.region_name === r.region && a.nation === r.nation,
      );
      assert.equal(r.total, inRegion.length, r.region);
      assert.equal(r.covered, inRegion.filter((a) => covered.has(a.gss_code)).length, r.region);
    }
    const active = await t.database.query<{ model: string; offers: string[]; serves: string[] }>(
      `SELECT model, offers, serves FROM services WHERE status = 'active'`,
    );
    for (const m of c.byModel)
      assert.equal(m.count, active.filter((s) => s.model === m.value).length, m.value);
    for (const o of c.byOffer)
      assert.equal(o.count, active.filter((s) => s.offers.includes(o.value)).length, o.value);
    for (const o of c.byServes)
      assert.equal(o.count, active.filter((s) => s.serves.includes(o.value)).length, o.value);
    const fathers = c.byServes.find((x) => x.value === 'fathers')!.count;

    const page = await t.app.inject('/services/coverage');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, new RegExp(`>${c.totals.covered}<`));
    assert.match(
      page.body,
      new RegExp(
        `Fathers</th><td class="govuk-table__cell govuk-table__cell--numeric">${fathers}<`,
      ),
    );

    const csv = await t.app.inject('/services/coverage.csv');
    assert.equal(csv.statusCode, 200);
    assert.match(String(csv.headers['content-type']), /text\/csv/);
    const rows = parse(csv.body, { columns: true }) as Record<string, string>[];
    assert.equal(rows.length, 175, 'one row per authority');
    assert.equal(rows.filter((r) => Number(r.active_services) > 0).length, covered.size);
  });

  test('an authorities file with one bad row loads nothing and names the row and field', async () => {
    const good = readFileSync(AUTHORITY_LIST.file, 'utf8');
    const lines = good.trimEnd().split('\n');
    lines[10] = lines[10]!.replace(/^E\d+/, 'X123');
    const result = readAuthoritiesCsv(lines.join('\n'));
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.problems.some((p) => p.row === 11 && p.field === 'gss_code'));
    const before = await t.app.services.services.authorityCount();
    const imported = await t.app.services.services.importAuthorities(
      lines.join('\n'),
      '2026-04-01',
    );
    assert.equal(imported.ok, false);
    assert.equal(await t.app.services.services.authorityCount(), before);
  });

  test('a newer list retires an authority it no longer has, and keeps it out of the overview', async () => {
    const lines = readFileSync(AUTHORITY_LIST.file, 'utf8').trimEnd().split('\n');
    const dropped = lines.splice(5, 1)[0]!.split(',')[0]!;
    const loaded = await t.app.services.services.importAuthorities(lines.join('\n'), '2026-04-01');
    assert.ok(loaded.ok);
    assert.deepEqual(loaded.ok && loaded.retired, [dropped]);
    assert.equal((await t.app.services.services.coverage()).totals.authorities, 174);
    await t.app.services.services.importAuthorities(
      readFileSync(AUTHORITY_LIST.file, 'utf8'),
      AUTHORITY_LIST.date,
    );
    assert.equal((await t.app.services.services.coverage()).totals.authorities, 175, 'and back');
    const truncated = await t.app.services.services.importAuthorities(
      lines.slice(0, 20).join('\n'),
      '2026-05-01',
    );
    assert.ok(
      !truncated.ok && /would retire 156 of the 175/.test(truncated.problems[0]!.message),
      'a truncated file is refused',
    );
    assert.equal(await t.app.services.services.authorityCount(), 175);
  });

  test('finding a service: authority and facet filters with counts; a service page with JSON-LD', async () => {
    // Every result, page by page.
    const everything = async (f: Parameters<typeof t.app.services.services.search>[0]) => {
      const first = await t.app.services.services.search(f, 1);
      const rows = [...first.rows];
      for (let page = 2; page <= first.pages; page++)
        rows.push(...(await t.app.services.services.search(f, page)).rows);
      assert.equal(rows.length, first.total, 'the pages hold every result once');
      return { ...first, rows };
    };
    const all = await everything({ models: [], offers: [], serves: [] });
    assert.equal(all.rows.length, new Set(all.rows.map((r) => r.id)).size);
    const one = all.rows.find((s) => s.areas.length > 1)!;
    const inArea = await everything({
      la: one.areas[1],
      models: [],
      offers: [],
      serves: [],
    });
    assert.ok(inArea.rows.some((s) => s.id === one.id));
    assert.ok(inArea.rows.every((s) => s.areas.includes(one.areas[1]!)));
    const fathers = await everything({
      models: [],
      offers: [],
      serves: ['fathers'],
    });
    assert.equal(fathers.rows.length, all.rows.filter((s) => s.serves.includes('fathers')).length);
    assert.equal(
      all.facets.serves.fathers,
      fathers.rows.length,
      'the count says what choosing it gives',
    );
    const page = await t.app.inject(`/services?serves=fathers&la=${one.areas[0]}`);
    assert.equal(page.statusCode, 200);
    const svc = await t.app.inject(`/services/${one.slug}`);
    assert.equal(svc.statusCode, 200);
    const ld = JSON.parse(
      /<script type="application\/ld\+json"[^>]*>([^<]+)<\/script>/.exec(svc.body)![1]!,
    );
    assert.equal(ld['@type'], 'Service');
    assert.equal(ld.areaServed.length, one.areas.length);
    assert.match(svc.body, /01632 960\d{3}/, 'demo numbers only');
    assert.equal((await t.app.inject('/services/no-such-service')).statusCode, 404);
    for (const s of all.rows)
      assert.equal(
        (await t.app.inject(`/services/${s.slug}`)).statusCode,
        200,
        `every listed service has a page: ${s.slug}`,
      );
  });
});
