import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import type { CurrentUser } from '../../platform/auth.ts';
import type { SearchDocument, SearchSource } from '../../platform/search.ts';
import { createEventsRepository } from './repository.ts';
import { createEventsService, type EventInput, type EventsService } from './service.ts';

const editor: CurrentUser = {
  id: '00000000-0000-4000-8000-000000000002',
  displayName: 'Search test editor',
  role: 'editor',
  approved: true,
  totpEnabled: true,
};

const DAY = 86400_000;

describe('events: the site search source', () => {
  let t: TestApp;
  let told: { source: string; ids: string[] }[];
  let events: EventsService;
  let source: SearchSource;
  const query = <T>(sqlText: string, params: unknown[] = []) =>
    t.database.query<T>(sqlText, params);
  const input = (title: string, startsAt: Date, status: EventInput['status']): EventInput => ({
    title,
    summary: `The summary of ${title}.`,
    body: `What happens at ${title}.`,
    startsAt,
    endsAt: new Date(startsAt.getTime() + 2 * 3600_000),
    mode: 'in_person',
    venueName: 'The Search Test Hall',
    venueAddress: '1 Example Street, Leeds',
    audience: 'Practitioners',
    capacity: 30,
    maxPerBooking: 4,
    waitlistEnabled: true,
    offerHours: 48,
    organiserName: 'Demo Organiser',
    organiserEmail: 'organiser@example.org',
    status,
    agenda: [{ time: '10:00', title: 'Welcome and introductions' }],
    speakers: [{ name: 'Dr Sam Speaker', role: 'Researcher' }],
  });
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
    const p = t.app.platform;
    events = createEventsService({
      repo: createEventsRepository(t.database.db),
      transaction: (work) => t.database.transaction(work),
      mailer: p.mailer,
      jobs: p.jobs,
      i18n: p.i18n,
      baseUrl: p.config.baseUrl,
      people: {
        memberByEmail: async () => undefined,
        displayName: async () => undefined,
        audit: async () => {},
      },
      searchChanged: (s, ids) => void told.push({ source: s, ids: [...ids] }),
    });
    source = events.searchSource();
  });
  after(() => t.close());

  test('pages through every published event in id order', async () => {
    assert.equal(source.name, 'events');
    const all = await everything(2);
    const ids = all.map((d) => d.id);
    assert.deepEqual(ids, [...ids].sort(), 'in id order');
    const findable = await query<{ id: string }>(
      `SELECT id FROM events WHERE status IN ('published', 'postponed') ORDER BY id`,
    );
    assert.ok(findable.length >= 4, 'the demo events are there');
    assert.deepEqual(
      ids,
      findable.map((r) => r.id),
    );
    const [venue] = await query<{ id: string; slug: string; venue_name: string; starts_at: Date }>(
      `SELECT id, slug, venue_name, starts_at FROM events
        WHERE status = 'published' AND mode = 'in_person' ORDER BY id LIMIT 1`,
    );
    const doc = all.find((d) => d.id === venue!.id)!;
    assert.equal(doc.kind, 'event');
    assert.equal(doc.url, `/events/${venue!.slug}`);
    assert.equal(doc.typeLabel, 'In-person event');
    assert.equal(doc.typeLabelCy, 'Digwyddiad wyneb yn wyneb');
    assert.ok(doc.body!.includes(venue!.venue_name), 'the venue');
    assert.equal(doc.date?.getTime(), new Date(venue!.starts_at).getTime());
    assert.equal(doc.access, 'public');
    const page = await t.app.inject({ url: doc.url });
    assert.equal(page.statusCode, 200);
  });

  test('a draft is found once published; cancelled, it leaves; every change is told', async () => {
    const since = new Date(Date.now() - 1000);
    const start = new Date(Date.now() + 30 * DAY);
    const draft = await events.saveEvent(
      editor,
      undefined,
      input('Search source seminar', start, 'draft'),
    );
    assert.ok(draft?.ok);
    const { id, slug } = draft.event;
    assert.deepEqual(told, [{ source: 'events', ids: [id] }]);
    assert.deepEqual(await source.documents({ ids: [id], limit: 5 }), []);
    assert.equal((await source.openable([id], editor)).size, 0);
    assert.ok(!(await everything(50)).some((d) => d.id === id), 'no draft when paging');

    told.length = 0;
    const published = await events.saveEvent(
      editor,
      id,
      input('Search source seminar', start, 'published'),
    );
    assert.ok(published?.ok);
    assert.deepEqual(told, [{ source: 'events', ids: [id] }]);
    const [doc] = await source.documents({ ids: [id], limit: 5 });
    assert.equal(doc?.title, 'Search source seminar');
    assert.equal(doc.summary, 'The summary of Search source seminar.');
    assert.equal(doc.date?.getTime(), start.getTime());
    for (const words of [
      'What happens at Search source seminar.',
      'The Search Test Hall, 1 Example Street, Leeds',
      'Dr Sam Speaker, Researcher',
      'Welcome and introductions',
    ])
      assert.ok(doc.body!.includes(words), words);
    assert.deepEqual([...(await source.openable([id], undefined))], [id]);

    told.length = 0;
    await events.changeStatus(editor, slug, 'cancelled', 'Sorry, the hall is closed.');
    assert.deepEqual(told, [{ source: 'events', ids: [id] }]);
    assert.equal((await source.openable([id], undefined)).size, 0);
    assert.deepEqual(await source.documents({ ids: [id], limit: 5 }), []);
    assert.ok((await source.changedSince!(since, 100)).includes(id));
    assert.deepEqual(await source.changedSince!(new Date(Date.now() + 60_000), 100), []);
  });

  test('past events stay findable, and postponed ones', async () => {
    const past = await events.saveEvent(
      editor,
      undefined,
      input('Search source last year', new Date(Date.now() - 365 * DAY), 'published'),
    );
    assert.ok(past?.ok);
    const [doc] = await source.documents({ ids: [past.event.id], limit: 5 });
    assert.ok(doc && doc.date! < new Date());

    const soon = await events.saveEvent(
      editor,
      undefined,
      input('Search source postponed', new Date(Date.now() + 10 * DAY), 'published'),
    );
    assert.ok(soon?.ok);
    told.length = 0;
    await events.changeStatus(editor, soon.event.slug, 'postponed', 'New date to follow.');
    assert.deepEqual(told, [{ source: 'events', ids: [soon.event.id] }]);
    assert.equal((await source.openable([soon.event.id], undefined)).size, 1);
  });

  test('ids: only those asked for, in id order; unknown and malformed ids are not returned', async () => {
    const [a, b] = await query<{ id: string }>(
      `SELECT id FROM events WHERE status = 'published' ORDER BY id LIMIT 2`,
    );
    const docs = await source.documents({
      ids: [b!.id, 'x', a!.id, '00000000-0000-4000-8000-00000000dead'],
      limit: 10,
    });
    assert.deepEqual(
      docs.map((d) => d.id),
      [a!.id, b!.id],
    );
    assert.deepEqual([...(await source.openable(['x', b!.id], undefined))], [b!.id]);
  });
});
