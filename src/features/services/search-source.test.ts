import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import type { CurrentUser } from '../../platform/auth.ts';
import type { SearchDocument, SearchSource } from '../../platform/search.ts';
import { createServiceChanges, type ServiceChanges } from './changes.ts';
import { createDirectory } from './directory.ts';
import { createServicesRepository } from './repository.ts';
import { createServicesService, type ServicesService } from './service.ts';

describe('services: the site search source', () => {
  let t: TestApp;
  let told: { source: string; ids: string[] }[];
  let services: ServicesService;
  let changes: ServiceChanges;
  let source: SearchSource;
  let moderator: CurrentUser;
  const query = <T>(sqlText: string, params: unknown[] = []) =>
    t.database.query<T>(sqlText, params);
  async function everything(size: number): Promise<SearchDocument[]> {
    const all: SearchDocument[] = [];
    let last: string | undefined;
    for (;;) {
      const page = await source.documents({ after: last, limit: size });
      assert.ok(page.length <= size);
      if (!page.length) return all;
      all.push(...page);
      last = page.at(-1)!.id;
    }
  }

  before(async () => {
    t = await testApp({ seed: true });
    told = [];
    const record = (s: string, ids: readonly string[]) =>
      void told.push({ source: s, ids: [...ids] });
    const p = t.app.platform;
    const repo = createServicesRepository(t.database.db);
    const directory = createDirectory(repo);
    services = createServicesService({ repo, directory, searchChanged: record });
    changes = createServiceChanges({
      repo,
      transaction: (work) => t.database.transaction(work),
      directory,
      mailer: p.mailer,
      jobs: p.jobs,
      i18n: p.i18n,
      baseUrl: p.config.baseUrl,
      people: {
        user: async () => undefined,
        memberByEmail: async () => undefined,
        audit: async () => {},
      },
      searchChanged: record,
    });
    source = services.searchSource();
    const [mod] = await query<{ id: string }>(
      `SELECT id FROM users WHERE role = 'moderator' ORDER BY created_at LIMIT 1`,
    );
    moderator = {
      id: mod!.id,
      displayName: 'Moderator',
      role: 'moderator',
      approved: true,
      totpEnabled: true,
    };
  });
  after(() => t.close());

  test('pages through every listed service in id order, with its places', async () => {
    assert.equal(source.name, 'services');
    const all = await everything(9);
    const ids = all.map((d) => d.id);
    assert.deepEqual(ids, [...ids].sort(), 'in id order');
    assert.equal(new Set(ids).size, ids.length);
    const listed = await query<{ id: string }>(
      `SELECT id FROM services WHERE status <> 'closed' ORDER BY id`,
    );
    assert.ok(listed.length >= 30, 'the demo services are there');
    assert.deepEqual(
      ids,
      listed.map((r) => r.id),
    );
    assert.ok(all.every((d) => d.kind === 'service' && d.access === 'public'));
    // The same as the directory's own list.
    const dir = await services.search({ models: [], offers: [], serves: [] });
    assert.equal(dir.total, all.length);

    // A Family Drug and Alcohol Court is found by "FDAC" and its town.
    const [fdac] = await query<{
      id: string;
      slug: string;
      name: string;
      city: string;
      org: string;
    }>(
      `SELECT s.id, s.slug, s.name, l.city, o.name AS org FROM services s
         JOIN organisations o ON o.id = s.organisation_id
         JOIN service_at_locations sal ON sal.service_id = s.id JOIN locations l ON l.id = sal.location_id
        WHERE s.model = 'fdac' AND s.status <> 'closed' ORDER BY s.slug LIMIT 1`,
    );
    const doc = all.find((d) => d.id === fdac!.id)!;
    assert.equal(doc.url, `/services/${fdac!.slug}`);
    assert.equal(doc.title, fdac!.name);
    assert.equal(doc.typeLabel, 'Family Drug and Alcohol Court');
    assert.equal(doc.typeLabelCy, 'Llys Teulu Cyffuriau ac Alcohol');
    assert.match(doc.body!, /\bFDAC\b/);
    assert.ok(doc.body!.includes(fdac!.city), 'its town');
    assert.ok(doc.body!.includes(fdac!.org), 'its organisation');
    const areas = await query<{ gss_code: string; region_name: string }>(
      `SELECT a.gss_code, a.region_name FROM service_areas sa JOIN local_authorities a USING (gss_code)
        WHERE sa.service_id = $1`,
      [fdac!.id],
    );
    assert.ok(areas.length > 0);
    assert.deepEqual([...doc.authorities!].sort(), areas.map((a) => a.gss_code).sort());
    assert.deepEqual(
      [...doc.regions!].sort(),
      [...new Set(areas.map((a) => a.region_name))].sort(),
    );

    // A Welsh service has its Welsh name and words.
    const [welsh] = await query<{ id: string; name_cy: string }>(
      `SELECT id, name_cy FROM services WHERE name_cy IS NOT NULL AND description_cy IS NOT NULL AND status <> 'closed' LIMIT 1`,
    );
    const cy = all.find((d) => d.id === welsh!.id)!;
    assert.equal(cy.titleCy, welsh!.name_cy);
    assert.ok(cy.summaryCy && cy.bodyCy);
    assert.deepEqual(cy.regions, ['Wales']);
  });

  test('ids: only those asked for, in id order; unknown and malformed ids are not returned', async () => {
    const [a, b] = await query<{ id: string }>(
      `SELECT id FROM services WHERE status <> 'closed' ORDER BY id LIMIT 2`,
    );
    const docs = await source.documents({
      ids: [b!.id, 'nonsense', a!.id, '00000000-0000-4000-8000-00000000dead'],
      limit: 10,
    });
    assert.deepEqual(
      docs.map((d) => d.id),
      [a!.id, b!.id],
    );
    assert.deepEqual([...(await source.openable([a!.id, 'nonsense'], undefined))], [a!.id]);
  });

  test('an edit that closes a service is told, and it leaves: not a document, not openable', async () => {
    const since = new Date(Date.now() - 1000);
    const [row] = await query<{ id: string; slug: string }>(
      `SELECT id, slug FROM services WHERE status = 'active' ORDER BY slug LIMIT 1`,
    );
    assert.equal((await source.openable([row!.id], undefined)).size, 1);
    const { fields } = (await changes.current(row!.slug))!;
    told.length = 0;
    const saved = await changes.edit(moderator, row!.slug, {
      ...fields,
      description: `${fields.description} Now closed.`,
      status: 'closed',
    });
    assert.equal(saved?.id, row!.id);
    assert.deepEqual(told, [{ source: 'services', ids: [row!.id] }]);
    assert.equal((await source.openable([row!.id], moderator)).size, 0);
    assert.deepEqual(await source.documents({ ids: [row!.id], limit: 5 }), []);
    assert.ok(!(await everything(50)).some((d) => d.id === row!.id));
    assert.ok((await source.changedSince!(since, 100)).includes(row!.id));
    assert.deepEqual(await source.changedSince!(new Date(Date.now() + 60_000), 100), []);
  });

  test('an approved suggestion of a new service is told, and it is a document', async () => {
    const [pending] = await query<{ id: string; name: string }>(
      `SELECT id, proposed->>'name' AS name FROM service_suggestions
        WHERE status = 'pending' AND service_id IS NULL LIMIT 1`,
    );
    told.length = 0;
    const row = await changes.approve(moderator, pending!.id);
    assert.ok(row);
    assert.deepEqual(told, [{ source: 'services', ids: [row.id] }]);
    const [doc] = await source.documents({ ids: [row.id], limit: 1 });
    assert.equal(doc?.title, pending!.name);
  });

  test('an import tells the search of every service it wrote', async () => {
    const csv = await services.exportCsv();
    const [{ n }] = (await query<{ n: number }>(`SELECT count(*)::int AS n FROM services`)) as [
      { n: number },
    ];
    told.length = 0;
    const result = await services.importServices(csv);
    assert.ok(result.ok);
    assert.equal(told.length, 1);
    assert.equal(told[0]!.source, 'services');
    assert.equal(told[0]!.ids.length, n);
    const all = await query<{ id: string }>(`SELECT id FROM services ORDER BY id`);
    assert.deepEqual(
      [...told[0]!.ids].sort(),
      all.map((r) => r.id),
    );
  });
});
