import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import { sentMail } from '../../../test/helpers/mail.ts';
import { BASE, newsletterService } from '../../../test/helpers/newsletter.ts';
import type { CurrentUser } from '../../platform/auth.ts';
import type { EventInput } from '../events/service.ts';
import { londonInstant } from '../../platform/dates.ts';
import { createNewsletterRepository } from './repository.ts';
import { DIGEST_JOB, type DigestItem } from './service.ts';

/**
 * The digest's sources as wired in app.ts, each asked through its feature's
 * service: what is new on the service map, and new events by when they were
 * published, an unsent draft replaced; and the monthly digest. (News, stories and guideline
 * versions: sending.test.ts.)
 */

/** One confirmed subscriber straight into the table. */
async function subscriber(t: TestApp, email: string, topics: string[], frequency = 'digest') {
  await t.database.query(
    `INSERT INTO newsletter_subscribers (email, state, topics, frequency, locale, confirmed_at)
     VALUES ($1, 'subscribed', $2, $3, 'en', now())`,
    [email, topics, frequency],
  );
}

/** Wait until the clock is past a time (digests cover up to "now"). */
async function past(at: Date | null | undefined) {
  while (at && Date.now() <= at.getTime()) await new Promise((r) => setImmediate(r));
}

/** Send a draft digest now, to every recipient, through the job's own steps. */
async function send(t: TestApp, issueId: string) {
  await createNewsletterRepository(t.database.db).updateIssue(issueId, {
    state: 'scheduled',
    scheduledAt: new Date(),
  });
  while ((await t.app.services.newsletter.runSend(issueId)) === 'more');
}

describe('the digest’s sources, as wired in app.ts', () => {
  let t: TestApp;
  let moderator: CurrentUser;
  let member: CurrentUser;
  let editor: CurrentUser;
  const user = async (email: string, role: CurrentUser['role']): Promise<CurrentUser> => {
    const [row] = await t.database.query<{ id: string }>(`SELECT id FROM users WHERE email = $1`, [
      email,
    ]);
    return { id: row!.id, role, displayName: email, approved: true, totpEnabled: true };
  };
  const titles = async (issueId: string) =>
    (
      await t.database.query<{ topic: string; title: string }>(
        'SELECT topic, title FROM newsletter_issue_items WHERE issue_id = $1 ORDER BY title',
        [issueId],
      )
    ).map((r) => `${r.topic}: ${r.title}`);

  before(async () => {
    t = await testApp({ seed: true, config: { baseUrl: BASE, newsletterPerMinute: 100_000 } });
    moderator = await user('moderator@example.org', 'moderator');
    member = await user('member@example.org', 'member');
    editor = await user('editor@example.org', 'editor');
  });
  after(async () => t.close());

  test('the service map: a service that went live since the last digest is in the next one, an older one is not; a services-only subscriber gets it', async () => {
    const nl = t.app.services.newsletter;
    const changes = t.app.services.serviceChanges;
    const [{ slug: template } = { slug: '' }] = await t.database.query<{ slug: string }>(
      `SELECT slug FROM services WHERE status = 'active' ORDER BY slug LIMIT 1`,
    );
    const base = (await changes.current(template))!.fields;
    /** A new service, suggested by a member and approved by a moderator. */
    const newService = async (name: string, status: 'active' | 'in_development') => {
      const done = await changes.suggest({
        actor: member,
        fields: { ...base, name, status },
        note: '',
        locale: 'en',
      });
      assert.ok(done.ok);
      const [s] = await t.database.query<{ id: string }>(
        `SELECT id FROM service_suggestions WHERE proposed->>'name' = $1`,
        [name],
      );
      const row = await changes.approve(moderator, s!.id);
      assert.ok(row);
      return row.slug;
    };
    // Before the first digest: one live service, one still in development.
    await newService('Digest older live service (demo)', 'active');
    const developing = await newService('Digest developing service (demo)', 'in_development');
    const first = await nl.makeDigest();
    assert.ok(first, 'the demo content and the services above: a first digest');
    assert.ok(
      (await titles(first.id)).includes('services: Digest older live service (demo)'),
      'a new service is in the digest after it went live',
    );
    assert.ok(!(await titles(first.id)).includes('services: Digest developing service (demo)'));
    await send(t, first.id);
    await past(first.coversUntil);

    // Since then: a new live service, the developing one goes live, a new one in development,
    // and an older live service edited (not new).
    const fresh = await newService('Digest new live service (demo)', 'active');
    await newService('Digest another developing service (demo)', 'in_development');
    const developingFields = (await changes.current(developing))!.fields;
    assert.ok(await changes.edit(moderator, developing, { ...developingFields, status: 'active' }));
    const olderFields = (await changes.current(template))!.fields;
    assert.ok(
      await changes.edit(moderator, template, {
        ...olderFields,
        description: `${olderFields.description} Edited for the digest.`,
      }),
    );

    const digest = await nl.makeDigest();
    assert.ok(digest);
    assert.deepEqual(await titles(digest.id), [
      'services: Digest developing service (demo)',
      'services: Digest new live service (demo)',
    ]);

    // A subscriber of the service map only gets an email (not "skipped") with the new services.
    await t.database.query(`UPDATE newsletter_subscribers SET state = 'unsubscribed'`);
    await subscriber(t, 'digest-map@example.org', ['services']);
    await subscriber(t, 'digest-events@example.org', ['events'], 'each');
    await send(t, digest.id);
    const mail = (await sentMail(t.app)).find((m) => m.to === 'digest-map@example.org');
    assert.ok(mail, 'the services-only subscriber gets the digest');
    assert.match(mail.text, /Digest new live service \(demo\)/);
    assert.ok(mail.text.includes(`${BASE}/services/${fresh}`));
    assert.doesNotMatch(mail.text, /Digest older live service/);
    assert.ok(!(await sentMail(t.app)).some((m) => m.to === 'digest-events@example.org'));

    // Nothing new since: no digest.
    await past(digest.coversUntil);
    assert.equal(await nl.makeDigest(), undefined);
  });

  test('events: by when they were published (a draft from before counts when it is published), not cancelled or postponed ones, with no cap on how many are looked at', async () => {
    const nl = t.app.services.newsletter;
    const events = t.app.services.events;
    const inWeeks = (weeks: number) => new Date(Date.now() + weeks * 7 * 24 * 3600_000);
    const input = (title: string, status: EventInput['status'], startsAt = inWeeks(8)) => ({
      title,
      summary: `The summary of ${title}.`,
      body: `What happens at ${title}.`,
      startsAt,
      endsAt: new Date(startsAt.getTime() + 2 * 3600_000),
      mode: 'online' as const,
      joiningLink: 'https://example.org/join',
      capacity: 30,
      maxPerBooking: 4,
      waitlistEnabled: true,
      offerHours: 48,
      organiserName: 'Demo Organiser',
      organiserEmail: 'organiser@example.org',
      status,
      agenda: [],
      speakers: [],
    });
    const save = async (title: string, status: EventInput['status'], id?: string) => {
      const saved = await events.saveEvent(editor, id, input(title, status));
      assert.ok(saved?.ok, title);
      return saved.event;
    };
    // Before the last digest: a draft, a published event later postponed and published again,
    // and more than 200 upcoming published events, all starting before the new ones below.
    const drafted = await save('Digest event drafted earlier (demo)', 'draft');
    const older = await save('Digest event published earlier (demo)', 'published');
    await t.database.query(
      `INSERT INTO events (slug, title, summary, starts_at, ends_at, mode, capacity,
         organiser_name, organiser_email, status, published_at, created_at)
       SELECT 'digest-crowd-' || g, 'Digest crowd event ' || g || ' (demo)', 'A crowd.',
         now() + interval '1 day', now() + interval '1 day 2 hours', 'online', 10,
         'Demo Organiser', 'organiser@example.org', 'published', now() - interval '1 hour',
         now() - interval '1 hour'
       FROM generate_series(1, 210) g`,
    );
    const first = await nl.makeDigest();
    assert.ok(first);
    const firstTitles = await titles(first.id);
    assert.ok(firstTitles.includes('events: Digest event published earlier (demo)'));
    assert.ok(!firstTitles.includes('events: Digest event drafted earlier (demo)'), 'a draft');
    await send(t, first.id);
    await past(first.coversUntil);

    // Since then: the draft is published; a new event; one published then cancelled, one
    // published then postponed; the older one postponed and published again (not new); a draft.
    await save('Digest event drafted earlier (demo)', 'published', drafted.id);
    await save('Digest event new this week (demo)', 'published');
    const cancelled = await save('Digest event then cancelled (demo)', 'published');
    assert.equal(await events.changeStatus(editor, cancelled.slug, 'cancelled', ''), 0);
    const postponed = await save('Digest event then postponed (demo)', 'published');
    assert.equal(await events.changeStatus(editor, postponed.slug, 'postponed', ''), 0);
    await events.changeStatus(editor, older.slug, 'postponed', '');
    await save('Digest event published earlier (demo)', 'published', older.id);
    await save('Digest event still a draft (demo)', 'draft');
    const [{ upcoming } = { upcoming: 0 }] = await t.database.query<{ upcoming: number }>(
      `SELECT count(*)::int AS upcoming FROM events WHERE status = 'published' AND ends_at > now()`,
    );
    assert.ok(upcoming > 200, `more than 200 upcoming events (${upcoming})`);

    const digest = await nl.makeDigest();
    assert.ok(digest);
    assert.deepEqual(
      (await titles(digest.id)).filter((x) => x.startsWith('events: ')),
      ['events: Digest event drafted earlier (demo)', 'events: Digest event new this week (demo)'],
    );
    await send(t, digest.id);
    await past(digest.coversUntil);
  });

  test('a draft digest never sent does not move the window on: the next one covers its items too and replaces it; after one is sent, only what is newer', async () => {
    const nl = t.app.services.newsletter;
    const events = t.app.services.events;
    const publish = async (title: string) => {
      const startsAt = new Date(Date.now() + 30 * 24 * 3600_000);
      const saved = await events.saveEvent(editor, undefined, {
        title,
        summary: `The summary of ${title}.`,
        body: '',
        startsAt,
        endsAt: new Date(startsAt.getTime() + 3600_000),
        mode: 'online',
        joiningLink: 'https://example.org/join',
        capacity: 10,
        maxPerBooking: 2,
        waitlistEnabled: false,
        offerHours: 48,
        organiserName: 'Demo Organiser',
        organiserEmail: 'organiser@example.org',
        status: 'published',
        agenda: [],
        speakers: [],
      });
      assert.ok(saved?.ok);
    };
    // Whatever is left from before: sent.
    const before = await nl.makeDigest();
    if (before) await send(t, before.id);
    await past(before?.coversUntil);

    await publish('Digest unsent event one (demo)');
    const draft = await nl.makeDigest();
    assert.ok(draft);
    assert.deepEqual(await titles(draft.id), ['events: Digest unsent event one (demo)']);
    // An editor writes an introduction, and the draft is never sent.
    await nl.saveIssue(editor, draft.id, {
      subject: draft.subject,
      body: 'An introduction for the digest (demo).',
      topics: draft.topics as never,
      locale: 'en',
    });
    await past(draft.coversUntil);
    await publish('Digest unsent event two (demo)');
    const next = await nl.makeDigest();
    assert.ok(next);
    assert.deepEqual(await titles(next.id), [
      'events: Digest unsent event one (demo)',
      'events: Digest unsent event two (demo)',
    ]);
    assert.equal(next.coversFrom?.getTime(), draft.coversFrom?.getTime(), 'the same start');
    assert.equal(next.body, 'An introduction for the digest (demo).', 'the introduction kept');
    const drafts = await t.database.query<{ id: string }>(
      `SELECT id FROM newsletter_issues WHERE kind = 'digest' AND state = 'draft'`,
    );
    assert.deepEqual(
      drafts.map((d) => d.id),
      [next.id],
      'the unsent draft is replaced',
    );

    // Sent: the next digest starts where it ended.
    await send(t, next.id);
    await past(next.coversUntil);
    assert.equal(await nl.makeDigest(), undefined, 'nothing new since the one sent');
    await publish('Digest event after the sent one (demo)');
    const after = await nl.makeDigest();
    assert.ok(after);
    assert.deepEqual(await titles(after.id), ['events: Digest event after the sent one (demo)']);
    assert.equal(after.coversFrom?.getTime(), next.coversUntil?.getTime());
  });
});

describe('the monthly digest (the issue: "each issue, or a monthly digest only")', () => {
  let t: TestApp;
  after(async () => t?.close());

  test('the daily job makes a draft on the first day of a month with something new since the last digest sent, and no more that month', async () => {
    t = await testApp({ config: { baseUrl: BASE } });
    // London wall-clock times (2031: in the future, clear of anything else in the database).
    const london = (month: number, day: number, hour = 0, minute = 30) =>
      londonInstant(2031, month, day, hour, minute)!;
    let clock = london(3, 1);
    const published: DigestItem[] = [];
    const item = (title: string, at: Date) =>
      published.push({ title, url: `https://example.org/${title}`, publishedAt: at });
    const nl = newsletterService(t, {
      people: { contact: async () => undefined },
      sources: [{ topic: 'resources', publishedBetween: async () => published }],
      now: () => clock,
    });
    const titles = async (id: string) =>
      (
        await t.database.query<{ title: string }>(
          'SELECT title FROM newsletter_issue_items WHERE issue_id = $1 ORDER BY title',
          [id],
        )
      ).map((r) => r.title);
    const sent = async (id: string) =>
      createNewsletterRepository(t.database.db).updateIssue(id, { state: 'sent', sentAt: clock });

    // The first: since the start of last month.
    item('january', london(1, 20, 12));
    item('february', london(2, 10, 12));
    const march = await nl.monthlyDigest();
    assert.ok(march);
    assert.deepEqual(await titles(march.id), ['february']);
    assert.equal(march.coversFrom?.getTime(), london(2, 1, 0, 0).getTime());
    await sent(march.id);
    // Every other day of March: nothing, though something new was published.
    item('march', london(3, 1, 6));
    for (const day of [2, 15, 31]) {
      clock = london(3, day, 23);
      assert.equal(await nl.monthlyDigest(), undefined, `not again in March (day ${day})`);
    }
    // 1 April (British Summer Time by then): March's.
    clock = london(4, 1);
    const april = await nl.monthlyDigest();
    assert.ok(april);
    assert.deepEqual(await titles(april.id), ['march']);
    assert.equal(april.coversFrom?.getTime(), march.coversUntil?.getTime());
    assert.equal(await nl.monthlyDigest(), undefined, 'one a month');
    await sent(april.id);
    // A month with nothing new: no draft on the 1st; the first day with something new, one.
    clock = london(5, 1);
    assert.equal(await nl.monthlyDigest(), undefined);
    item('may', london(5, 3, 9));
    clock = london(5, 4);
    const may = await nl.monthlyDigest();
    assert.ok(may);
    assert.deepEqual(await titles(may.id), ['may']);

    // The job runs daily; the sign-up form says monthly.
    const [schedule] = await t.database.query<{ every: number }>(
      'SELECT every_seconds AS every FROM job_schedules WHERE name = $1',
      [DIGEST_JOB],
    );
    assert.equal(Number(schedule?.every), 24 * 3600);
    const page = await t.app.inject('/newsletter');
    assert.match(page.body, /The monthly digest only/);
    assert.match(page.body, /once a month/);
  });
});
