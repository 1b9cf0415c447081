import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';

/** Issue #19: the service finder and the national overview without dead ends. */
describe('the service finder and overview without a stumble (#19)', () => {
  let t: TestApp;
  before(async () => {
    t = await testApp({ seed: true });
  });
  after(async () => t.close());

  test('9. an area with no service says so plainly, with the nearest services and the overview', async () => {
    const { rows } = await t.app.services.services.coverage();
    const empty = rows.find((r) => r.services === 0 && !r.inDevelopment)!;
    const page = await t.app.inject(`/services?la=${empty.gssCode}`);
    assert.equal(page.statusCode, 200);
    assert.match(
      page.body,
      new RegExp(`There is no specialist service listed in ${empty.name} yet`),
    );
    assert.doesNotMatch(page.body, /Try removing a filter/);
    const nearest = /id="nearest-heading"[\s\S]*?<\/ul>/.exec(page.body)?.[0] ?? '';
    const links = [...nearest.matchAll(/href="(\/services\/[a-z0-9-]+)"/g)];
    assert.ok(links.length > 0 && links.length <= 3, 'up to three nearest services');
    assert.match(nearest, /miles away/);
    assert.match(page.body, /href="\/services\/coverage"/);
  });

  test('9. filters that leave nothing still suggest removing one', async () => {
    const page = await t.app.inject('/services?q=nothing-matches-this');
    assert.match(page.body, /Try removing a filter/);
  });

  test('9. the map comes before the list and its page links', async () => {
    const page = await t.app.inject('/services');
    assert.ok(
      page.body.indexOf('data-sp-map') < page.body.indexOf('class="govuk-list sp-results"'),
    );
  });

  test('9. /services.csv is linked, and has names beside the codes', async () => {
    assert.match((await t.app.inject('/services')).body, /href="\/services\.csv"/);
    assert.match((await t.app.inject('/services/coverage')).body, /href="\/services\.csv"/);
    const csv = (await t.app.inject('/services.csv')).body;
    const rows = parse(csv, { columns: true, bom: true }) as Record<string, string>[];
    const row = rows.find((r) => r.model === 'fdac') ?? rows[0]!;
    assert.ok(row.model_name && row.model_name !== row.model, 'the model’s name');
    if (row.model === 'fdac') assert.equal(row.model_name, 'Family Drug and Alcohol Court');
    const withArea = rows.find((r) => r.areas)!;
    assert.match(withArea.area_names!, /[a-z]/, 'area names, not only codes');
    assert.doesNotMatch(withArea.area_names!, /^[EW]\d{8}/);
  });

  test('10. without boundaries the overview draws a labelled tile map of all 175 authorities by region', async () => {
    const page = await t.app.inject('/services/coverage');
    const svg = /<svg[^>]*sp-tile-map__svg[\s\S]*?<\/svg>/.exec(page.body)?.[0];
    assert.ok(svg, 'a tile map');
    assert.equal((svg.match(/<rect /g) ?? []).length, 175, 'one square per authority');
    assert.equal((svg.match(/class="sp-tile-map__region"/g) ?? []).length, 10, 'ten regions');
    for (const region of ['London', 'Wales', 'Yorkshire and The Humber', 'North East'])
      assert.match(svg, new RegExp(`>${region}</tspan>`));
    assert.match(svg, /\d+ of \d+ with a service/);
    assert.doesNotMatch(svg, /<circle/, 'no cloud of dots');
  });

  test('10. every square of the tile map shows its authority’s code, and the table of authorities is its key, in English and Welsh', async () => {
    for (const lang of ['en', 'cy']) {
      const page = await t.app.inject(`/services/coverage?lang=${lang}`);
      // Drawn twice: three columns from tablet up and on paper, two on a phone. The same codes.
      const [wide, narrow] = ['wide', 'narrow'].map(
        (layout) =>
          new RegExp(`<svg[^>]*sp-tile-map__svg--${layout}[\\s\\S]*?<\\/svg>`).exec(page.body)![0],
      );
      const codesIn = (svg: string) =>
        [...svg.matchAll(/<text [^>]*class="sp-tile__code">([^<]+)</g)].map((m) => m[1]).sort();
      assert.deepEqual(codesIn(narrow!), codesIn(wide!), `${lang}: both layouts, the same squares`);
      const svg = wide!;
      // Each square: its name and code as a hover title, its code as text printed on it.
      const squares = [
        ...svg.matchAll(
          /<title>([^<]+) \(([A-Z0-9]{2,3})\): [^<]+<\/title><rect [^>]*\/><text [^>]*>([^<]+)<\/text>/g,
        ),
      ];
      assert.equal(squares.length, 175, `${lang}: every square has a code printed on it`);
      const codes = new Map(squares.map((m) => [m[2]!, m[1]!]));
      assert.equal(codes.size, 175, `${lang}: no two authorities share a code`);
      for (const m of squares) assert.equal(m[3], m[2]);
      // The table gives each code's authority by name.
      const rows = [
        ...page.body.matchAll(/<abbr class="sp-code" title="([^"]+)">([A-Z0-9]{2,3})<\/abbr>/g),
      ];
      assert.equal(rows.length, 175, `${lang}: the table has a code for every authority`);
      for (const [, name, code] of rows) assert.equal(codes.get(code!), name, `${code}: one name`);
    }
    const en = (await t.app.inject('/services/coverage')).body;
    assert.match(en, /<th scope="col" class="govuk-table__header">Code on the map<\/th>/);
    assert.match(en, /title="Leeds">LDS</);
    assert.match(en, /title="Rhondda Cynon Taf">RCT</);
    assert.doesNotMatch(en, /hover over a square/, 'nothing only on hover');
  });

  test('10. chart labels are whole, each on its own line', async () => {
    const page = await t.app.inject('/services/coverage');
    const labels = [...page.body.matchAll(/class="sp-chart__label">([^<]*)</g)].map((m) => m[1]!);
    assert.ok(labels.length > 5);
    assert.ok(
      labels.every((l) => !l.endsWith('…')),
      'no label is cut short',
    );
    assert.ok(labels.includes('Family Drug and Alcohol Court'));
  });

  test('7. the overview’s tables scroll in their own region, not the page', async () => {
    const page = await t.app.inject('/services/coverage');
    const regions = page.body.match(
      /<div class="sp-table-scroll" role="region"[^>]*tabindex="0">/g,
    );
    const tables = page.body.match(/<table/g) ?? [];
    assert.ok(tables.length >= 2, 'the overview has its tables');
    assert.equal(regions?.length, tables.length, 'every table in a region of its own');
  });

  test('7. on a phone the results are not below twenty checkboxes: the less used filters fold under “More filters”, open when one is in use', async () => {
    const plain = await t.app.inject('/services');
    const folded = /<details class="govuk-details sp-more-filters"( open)?>/.exec(plain.body);
    assert.ok(folded, 'the checkboxes are in a details element');
    assert.equal(folded[1], undefined, 'folded when none is chosen');
    const start = plain.body.indexOf(folded[0]);
    const end = plain.body.indexOf('</details>', start);
    const inside = plain.body.slice(start, end);
    for (const name of ['model', 'offer', 'serves'])
      assert.match(inside, new RegExp(`name="${name}"`), `${name} is folded`);
    // The place, the words and the authority stay in sight.
    assert.ok(plain.body.indexOf('id="near"') < start);
    const chosen = await t.app.inject('/services?model=fdac');
    assert.match(chosen.body, /<details class="govuk-details sp-more-filters" open>/);
    const cy = await t.app.inject('/services?lang=cy');
    assert.match(cy.body, /Rhagor o hidlwyr/);
  });

  test('11. region names are in Welsh on the Welsh overview', async () => {
    const page = await t.app.inject('/services/coverage?lang=cy');
    assert.match(page.body, /Gogledd-ddwyrain Lloegr/);
    assert.match(page.body, /Llundain/);
    assert.doesNotMatch(page.body, />North East</);
    assert.doesNotMatch(page.body, />Yorkshire and The Humber</);
  });
});
