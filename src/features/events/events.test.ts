import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { after, before, describe, test } from 'node:test';
import { csrfFor, type TestApp, testApp } from '../../../test/helpers/app.ts';
import { sentMail } from '../../../test/helpers/mail.ts';
import { signIn, submit } from '../../../test/helpers/session.ts';
import { DEMO_PASSWORD } from '../accounts/seed.ts';
import { createEventsRepository, type EventsRepository } from './repository.ts';
import { createEventsService } from './service.ts';
import type { Tx } from '../../db/client.ts';

const HOUR = 3600_000;

describe('events and booking', () => {
  let t: TestApp;
  let repo: EventsRepository;
  before(async () => {
    t = await testApp({ seed: true });
    repo = createEventsRepository(t.database.db);
  });
  after(async () => t.close());

  const makeEvent = (slug: string, capacity: number, extra: Record<string, unknown> = {}) =>
    repo.upsertEvent({
      slug,
      title: `Test ${slug}`,
      summary: 'A test event',
      startsAt: new Date(Date.now() + 10 * 24 * HOUR),
      endsAt: new Date(Date.now() + 10 * 24 * HOUR + 2 * HOUR),
      mode: 'online',
      joiningLink: 'https://meet.example.org/secret-room-42',
      capacity,
      maxPerBooking: 4,
      organiserName: 'Test organiser',
      organiserEmail: 'organiser@example.org',
      status: 'published',
      ...extra,
    });

  /** The queued (not yet sent) emails whose subject names `title`. */
  const mailJobsAbout = (title: string) =>
    t.database.query<{ payload: { to: string; subject: string } }>(
      `SELECT payload FROM jobs WHERE name = 'mail.send' AND payload->>'subject' LIKE $1`,
      [`%${title}%`],
    );
  const bookingRows = async (eventId: string) =>
    Number(
      (
        await t.database.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM bookings WHERE event_id = $1',
          [eventId],
        )
      )[0]!.n,
    );

  const bookingFields = (people: string[], extra: Record<string, string> = {}) => {
    const fields: Record<string, string> = {
      bookerName: 'Booker',
      bookerEmail: 'booker@example.org',
      places: String(people.length),
      ...extra,
    };
    people.forEach((name, i) => (fields[`attendee_${i}_name`] = name));
    return fields;
  };

  // On PGlite (one connection) every request is serialised anyway, so the
  // test proves nothing there: it runs on PostgreSQL, where the pool's
  // connections really book at once and only the event's row lock keeps order.
  test(
    '50 parallel booking requests for 10 places through HTTP: exactly 10 confirmed, the rest waiting, each with its email',
    {
      skip: process.env.DATABASE_URL
        ? false
        : "needs PostgreSQL (several connections); runs in CI's PostgreSQL leg (set DATABASE_URL)",
    },
    async () => {
      const event = await makeEvent('rush', 10);
      const page = `/events/${event.slug}/book`;
      // One form (its CSRF token) first, then only the 50 bookings at once.
      const { token, cookie } = await csrfFor(t.app, page);
      const results = await Promise.all(
        Array.from({ length: 50 }, async (_v, i) => ({
          res: await t.app.inject({
            method: 'POST',
            url: page,
            remoteAddress: `10.2.${Math.floor(i / 10)}.${i}`,
            headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
            payload: new URLSearchParams({
              // 50 people: each their own address (one address is limited per event).
              ...bookingFields([`Person ${i}`], {
                choice: 'split',
                bookerEmail: `person${i}@example.org`,
              }),
              _csrf: token,
            }).toString(),
          }),
        })),
      );
      assert.ok(
        results.every((r) => r.res.statusCode === 303),
        `statuses: ${[...new Set(results.map((r) => r.res.statusCode))]}`,
      );
      const counts = await repo.counts(event.id);
      assert.equal(counts.confirmed, 10);
      assert.equal(counts.waiting, 40);
      const [row] = await t.database.query<{ places_taken: number }>(
        'SELECT places_taken FROM events WHERE id = $1',
        [event.id],
      );
      assert.equal(row!.places_taken, 10);
      const pageNow = await t.app.inject(`/events/${event.slug}`);
      assert.match(pageNow.body, /Fully booked — join the waiting list/);
      assert.equal(
        (await mailJobsAbout(event.title)).length,
        50,
        'every booking committed with its confirmation email',
      );
    },
  );

  test('a booking for 3 when 2 are left offers the split, and both choices do what they say', async () => {
    const event = await makeEvent('two-left', 5);
    const page = `/events/${event.slug}/book`;
    await submit(t.app, page, page, bookingFields(['A', 'B', 'C']), '', '10.3.0.1');
    const asked = await submit(t.app, page, page, bookingFields(['D', 'E', 'F']), '', '10.3.0.2');
    assert.equal(asked.res.statusCode, 409);
    assert.match(asked.res.body, /Only 2 places are left/);
    assert.match(asked.res.body, /Book the 2 places left for the first people/);
    assert.match(asked.res.body, /Put everyone on the waiting list/);
    assert.match(asked.res.body, /value="D"/, 'what was typed is kept');
    assert.doesNotMatch(asked.res.body, /sold out/i);
    assert.equal((await repo.counts(event.id)).confirmed, 3, 'nothing booked until they choose');

    const all = await submit(
      t.app,
      page,
      page,
      bookingFields(['G', 'H', 'I'], { choice: 'waitlist' }),
      '',
      '10.3.0.3',
    );
    assert.equal(all.res.statusCode, 303);
    let counts = await repo.counts(event.id);
    assert.deepEqual([counts.confirmed, counts.waiting], [3, 3], 'everyone waiting together');

    const split = await submit(
      t.app,
      page,
      page,
      bookingFields(['D', 'E', 'F'], { choice: 'split' }),
      '',
      '10.3.0.4',
    );
    assert.equal(split.res.statusCode, 303);
    counts = await repo.counts(event.id);
    assert.deepEqual([counts.confirmed, counts.waiting], [5, 4]);
    const manage = await t.app.inject(split.res.headers.location as string);
    assert.match(
      manage.body,
      /D[\s\S]*Place confirmed[\s\S]*E[\s\S]*Place confirmed[\s\S]*F[\s\S]*Waiting list/,
    );
  });

  test('cancelling frees the place and the next in line is offered it; an expired offer moves on', async () => {
    let clock = new Date();
    const events = createEventsService({
      repo,
      transaction: (work) => t.database.transaction(work),
      mailer: t.app.platform.mailer,
      jobs: t.app.platform.jobs,
      i18n: t.app.platform.i18n,
      baseUrl: t.config.baseUrl,
      now: () => clock,
    });
    const event = await makeEvent('offers', 1, { offerHours: 48 });
    const book = (name: string, email: string, choice: 'all' | 'waitlist') =>
      events.book(event.slug, {
        bookerName: name,
        bookerEmail: email,
        attendees: [{ name }],
        choice,
        locale: 'en',
      });
    const first = await book('First', 'first@example.org', 'all');
    const second = await book('Second', 'second@example.org', 'waitlist');
    const third = await book('Third', 'third@example.org', 'waitlist');
    assert.ok('token' in first && 'token' in second && 'token' in third);
    await sentMail(t.app);

    await events.cancel(first.token, 'all');
    let b2 = (await events.booking(second.token))!;
    assert.equal(b2.people[0]!.status, 'offered');
    const offerMail = (await sentMail(t.app)).find(
      (m) => m.to === 'second@example.org' && /A place has come free/.test(m.subject),
    );
    assert.ok(offerMail, 'the next in line is emailed');
    assert.match(offerMail.text, /\/bookings\/[A-Za-z0-9_-]{40,}/);

    clock = new Date(clock.getTime() + 47 * HOUR);
    assert.deepEqual(
      await events.expireOffers(),
      { expired: 0, offered: 0 },
      'still within 48 hours',
    );
    clock = new Date(clock.getTime() + 2 * HOUR);
    assert.deepEqual(await events.expireOffers(), { expired: 1, offered: 1 });
    b2 = (await events.booking(second.token))!;
    assert.equal(b2.people[0]!.status, 'cancelled');
    const b3 = (await events.booking(third.token))!;
    assert.equal(b3.people[0]!.status, 'offered');
    assert.equal(
      await events.acceptOffer(second.token, b2.people[0]!.id),
      false,
      'a lapsed offer cannot be taken',
    );
    assert.equal(await events.acceptOffer(third.token, b3.people[0]!.id), true);
    assert.equal((await events.booking(third.token))!.people[0]!.status, 'confirmed');
    const [row] = await t.database.query<{ places_taken: number }>(
      'SELECT places_taken FROM events WHERE id = $1',
      [event.id],
    );
    assert.equal(row!.places_taken, 1, 'never more places than exist');
  });

  test('the joining link never appears in the public page, its source, the feed or the calendar file; confirmed attendees see it', async () => {
    const event = await makeEvent('secret-link', 5);
    for (const url of [
      `/events/${event.slug}`,
      `/events/${event.slug}/book`,
      '/events',
      '/events/feed.atom',
      `/events/${event.slug}.ics`,
    ]) {
      const res = await t.app.inject(url);
      assert.equal(res.statusCode, 200, url);
      assert.doesNotMatch(res.body, /secret-room-42/, url);
    }
    const page = `/events/${event.slug}/book`;
    const { res } = await submit(t.app, page, page, bookingFields(['Jo']), '', '10.4.0.1');
    const manage = await t.app.inject(res.headers.location as string);
    assert.match(manage.body, /secret-room-42/);
  });

  test('bad input gets clear messages and keeps what was typed; nothing is booked', async () => {
    const event = await makeEvent('bad-input', 5);
    const page = `/events/${event.slug}/book`;
    const { res } = await submit(
      t.app,
      page,
      page,
      {
        bookerName: '',
        bookerEmail: 'nope',
        places: '2',
        attendee_0_name: 'Kept Person',
        attendee_1_name: '',
      },
      '',
      '10.5.0.1',
    );
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /Enter your full name/);
    assert.match(res.body, /Enter an email address in the correct format/);
    assert.match(res.body, /Enter the full name of person 2/);
    assert.match(res.body, /value="Kept Person"/);
    assert.equal((await repo.counts(event.id)).confirmed, 0);
  });

  test('events list, event page with JSON-LD, past events and the mode filter', async () => {
    const list = await t.app.inject('/events');
    assert.match(list.body, /Online seminar and panel/);
    assert.doesNotMatch(
      list.body,
      /farewell contact and keeping links/,
      'past events are under Past',
    );
    const past = await t.app.inject('/events?when=past');
    assert.match(past.body, /farewell contact and keeping links/);
    const online = await t.app.inject('/events?mode=in_person');
    assert.match(online.body, /Launch in Birmingham/);
    assert.doesNotMatch(online.body, /Online seminar and panel/);
    const launch = await t.app.inject('/events/demo-birmingham-launch-born-into-care');
    assert.match(launch.body, /3 places left/);
    const ld = /<script type="application\/ld\+json"[^>]*>([^<]+)<\/script>/.exec(launch.body)![1]!;
    const data = JSON.parse(ld) as {
      '@type': string;
      startDate: string;
      eventAttendanceMode: string;
    };
    assert.equal(data['@type'], 'Event');
    assert.equal(data.eventAttendanceMode, 'https://schema.org/OfflineEventAttendanceMode');
    assert.ok(!Number.isNaN(Date.parse(data.startDate)));
  });

  test('organisers: editors and named members see the attendee list with needs, CSV, check-in, email everyone, cancel', async () => {
    const event = await makeEvent('organised', 3, { mode: 'in_person', venueName: 'Hall' });
    const page = `/events/${event.slug}/book`;
    await submit(
      t.app,
      page,
      page,
      {
        ...bookingFields(['=HYPERLINK("x")', 'Bea']),
        attendee_0_access: 'Step-free access',
        attendee_1_dietary: 'Vegan',
        attendee_1_email: 'bea@example.org',
      },
      '',
      '10.6.0.1',
    );
    await submit(
      t.app,
      page,
      page,
      bookingFields(['Cy', 'Di'], { choice: 'split', bookerEmail: 'second-booker@example.org' }),
      '',
      '10.6.0.2',
    );
    const url = `/events/${event.slug}/attendees`;

    const member = await signIn(t.app, 'member@example.org', DEMO_PASSWORD, undefined, '10.6.1.1');
    assert.equal(
      (await t.app.inject({ url, headers: { cookie: member } })).statusCode,
      403,
      'not an organiser',
    );
    assert.equal((await t.app.inject(url)).statusCode, 303, 'a visitor is sent to sign in');
    const [m] = await t.database.query<{ id: string }>(
      `SELECT id FROM users WHERE email = 'member@example.org'`,
    );
    await repo.addOrganiser(event.id, m!.id);
    const list = await t.app.inject({ url, headers: { cookie: member } });
    assert.equal(list.statusCode, 200, 'a named organiser');
    assert.match(list.body, /Step-free access/);
    assert.match(list.body, /Vegan/);
    assert.match(list.body, /3 confirmed, 0 offered a place, 1 waiting, of 3 places/);

    const csv = await t.app.inject({ url: `${url}.csv`, headers: { cookie: member } });
    assert.equal(csv.statusCode, 200);
    assert.match(csv.headers['content-type'] as string, /text\/csv/);
    assert.match(csv.body, /'=HYPERLINK/, 'a formula is defused');
    assert.match(csv.body, /Vegan/);

    const editor = await signIn(t.app, 'editor@example.org', DEMO_PASSWORD, undefined, '10.6.1.2');
    const people = await repo.attendeesOf(event.id);
    const bea = people.find((p) => p.attendee.name === 'Bea')!.attendee;
    const checked = await submit(
      t.app,
      url,
      `${url}/${bea.id}/check-in`,
      { checkedIn: 'yes' },
      editor,
    );
    assert.equal(checked.res.statusCode, 303);
    assert.ok(
      (await repo.attendeesOf(event.id)).find((p) => p.attendee.id === bea.id)!.attendee
        .checkedInAt,
    );

    await sentMail(t.app);
    const bad = await submit(
      t.app,
      url,
      `/events/${event.slug}/email-attendees`,
      { subject: '', message: 'Hello' },
      editor,
    );
    assert.equal(bad.res.statusCode, 400);
    assert.match(bad.res.body, /Enter a subject/);
    assert.match(bad.res.body, /Hello/, 'the message is kept');
    const sent = await submit(
      t.app,
      url,
      `/events/${event.slug}/email-attendees`,
      { subject: 'Parking', message: 'Use the side gate.' },
      editor,
    );
    assert.equal(sent.res.headers.location, `/events/${event.slug}/attendees?done=emailed-3`);
    const mails = await sentMail(t.app);
    const parking = mails.filter((x) => x.subject.endsWith('Parking'));
    assert.deepEqual(parking.map((x) => x.to).sort(), [
      'bea@example.org',
      'booker@example.org',
      'second-booker@example.org',
    ]);

    const cancelled = await submit(
      t.app,
      url,
      `/events/${event.slug}/status`,
      { status: 'cancelled', message: 'The venue flooded.' },
      editor,
    );
    assert.equal(cancelled.res.statusCode, 303);
    const after = await sentMail(t.app);
    const told = after.filter((x) => x.subject === `Cancelled: ${event.title}`);
    assert.equal(told.length, 3, 'everyone booked or waiting is told');
    for (const x of told) {
      assert.match(x.text, /The venue flooded/);
      const attachment = /filename=organised\.ics[\s\S]*?\n\n([A-Za-z0-9+/=\n]+)/.exec(x.raw);
      assert.ok(attachment, 'an updated calendar entry is attached');
      assert.match(
        Buffer.from(attachment[1]!.replace(/\n/g, ''), 'base64').toString('utf8'),
        /STATUS:CANCELLED/,
      );
    }
    const ics = await t.app.inject(`/events/${event.slug}.ics`);
    assert.match(ics.body, /STATUS:CANCELLED/);
    assert.match(ics.body, /SEQUENCE:1/);
    assert.match((await t.app.inject(`/events/${event.slug}`)).body, /Cancelled/);
  });

  test('reminders go the day before, once, to everyone with a place', async () => {
    const event = await makeEvent('tomorrow', 5, {
      startsAt: new Date(Date.now() + 24 * HOUR),
      endsAt: new Date(Date.now() + 26 * HOUR),
    });
    const page = `/events/${event.slug}/book`;
    await submit(t.app, page, page, bookingFields(['Early bird']), '', '10.7.0.1');
    await sentMail(t.app);
    const sent = await t.app.services.events.sendReminders();
    assert.equal(sent, 1);
    const reminder = (await sentMail(t.app)).find((x) => x.subject === `Tomorrow: ${event.title}`);
    assert.ok(reminder);
    assert.match(reminder.text, /secret-room-42/, 'the joining link goes to people with a place');
    assert.equal(await t.app.services.events.sendReminders(), 0, 'only once');
  });

  test('a member who deletes their account: bookings cancelled, places offered on, details erased; old bookings purged', async () => {
    const event = await makeEvent('leaver', 1);
    const [m] = await t.database.query<{ id: string }>(
      `SELECT id FROM users WHERE email = 'parent@example.org'`,
    );
    const mine = await t.app.services.events.book(event.slug, {
      bookerName: 'Leaving Parent',
      bookerEmail: 'parent@example.org',
      attendees: [{ name: 'Leaving Parent', accessNeeds: 'Quiet room' }],
      choice: 'all',
      locale: 'en',
      userId: m!.id,
    });
    const next = await t.app.services.events.book(event.slug, {
      bookerName: 'Next',
      bookerEmail: 'next@example.org',
      attendees: [{ name: 'Next' }],
      choice: 'waitlist',
      locale: 'en',
    });
    assert.ok('token' in mine && 'token' in next);
    await t.app.services.accounts.deleteAccount(m!.id, false);
    const text =
      JSON.stringify(await t.database.query('SELECT * FROM bookings')) +
      JSON.stringify(await t.database.query('SELECT * FROM attendees'));
    assert.doesNotMatch(text, /Leaving Parent|Quiet room/);
    assert.equal((await t.app.services.events.booking(next.token))!.people[0]!.status, 'offered');

    await t.database.query(
      `UPDATE events SET starts_at = now() - interval '200 days', ends_at = now() - interval '200 days' WHERE id = $1`,
      [event.id],
    );
    await t.app.platform.jobs.enqueue('events.purge-bookings', {});
    await t.app.platform.jobs.runDue();
    const left = await t.database.query('SELECT 1 FROM bookings WHERE event_id = $1', [event.id]);
    assert.equal(left.length, 0, 'booking details go 6 months after the event');
  });

  test('changing an attendee: bad input is shown inline with what was typed; good input is saved and emailed', async () => {
    const event = await makeEvent('edit-me', 5);
    const page = `/events/${event.slug}/book`;
    const { res } = await submit(
      t.app,
      page,
      page,
      bookingFields(['Original Name']),
      '',
      '10.8.0.1',
    );
    const manage = res.headers.location as string;
    const token = manage.split('/')[2]!.split('?')[0]!;
    const person = (await t.app.services.events.booking(token))!.people[0]!;
    const bad = await submit(t.app, manage, `/bookings/${token}/attendees/${person.id}`, {
      name: '',
      email: 'not-an-email',
      access: 'Hearing loop',
    });
    assert.equal(bad.res.statusCode, 400);
    assert.match(bad.res.body, /There is a problem/);
    assert.match(bad.res.body, /Enter a name for this person/);
    assert.match(bad.res.body, /href="#email-/);
    assert.match(bad.res.body, /Hearing loop/, 'what was typed is kept');
    assert.equal((await t.app.services.events.booking(token))!.people[0]!.name, 'Original Name');
    const good = await submit(t.app, manage, `/bookings/${token}/attendees/${person.id}`, {
      name: 'New Name',
      email: '',
      access: 'Hearing loop',
    });
    assert.equal(good.res.statusCode, 303);
    const after = (await t.app.services.events.booking(token))!.people[0]!;
    assert.equal(after.name, 'New Name');
    assert.equal(after.accessNeeds, 'Hearing loop');
    assert.ok(
      (await sentMail(t.app)).some((m) => m.subject === `Your booking has changed: ${event.title}`),
    );
  });
  /** The events service over the test database, with its unit of work wrapped by `around`. */
  const serviceWith = (around: (tx: Tx, commit: () => Promise<unknown>) => Promise<unknown>) =>
    createEventsService({
      repo,
      transaction: (work) =>
        t.database.transaction(async (tx) => {
          let out: unknown;
          await around(tx, async () => (out = await work(tx)));
          return out as never;
        }),
      mailer: t.app.platform.mailer,
      jobs: t.app.platform.jobs,
      i18n: t.app.platform.i18n,
      baseUrl: t.config.baseUrl,
    });
  const booking = (name: string) => ({
    bookerName: name,
    bookerEmail: `${name.toLowerCase()}@example.org`,
    attendees: [{ name }],
    choice: 'all' as const,
    locale: 'en' as const,
  });

  test('a failure after the emails are queued rolls back the booking and its emails together', async () => {
    const event = await makeEvent('uow-rollback', 5);
    const failing = serviceWith(async (_tx, work) => {
      await work(); // the booking is written and its email queued …
      throw new Error('crash before commit'); // … then the unit of work fails
    });
    await assert.rejects(failing.book(event.slug, booking('Rolled')), /crash before commit/);
    assert.equal(await bookingRows(event.id), 0, 'no booking');
    assert.equal((await mailJobsAbout(event.title)).length, 0, 'no email job');
    assert.equal((await repo.eventById(event.id))!.placesTaken, 0, 'no place taken');
  });

  test('a committed booking always has its email job: both are written in one transaction', async () => {
    const event = await makeEvent('uow-commit', 5);
    let before: { bookings: number; jobs: number } | undefined;
    const watching = serviceWith(async (tx, work) => {
      await work();
      // Still inside the unit of work, before COMMIT: the booking and its
      // email job are rows of this one transaction, so nothing can separate
      // them — there is no moment after the commit when the email is still
      // to be queued.
      const res = await tx.execute(
        sql`SELECT (SELECT count(*)::int FROM bookings WHERE event_id = ${event.id}) AS bookings,
                   (SELECT count(*)::int FROM jobs WHERE name = 'mail.send' AND payload->>'subject' LIKE ${`%${event.title}%`}) AS jobs`,
      );
      before = (res as unknown as { rows: { bookings: number; jobs: number }[] }).rows[0];
    });
    const out = await watching.book(event.slug, booking('Committed'));
    assert.equal(out.kind, 'booked');
    assert.deepEqual(before, { bookings: 1, jobs: 1 }, 'both in the transaction before it commits');
    assert.equal(await bookingRows(event.id), 1);
    const jobs = await mailJobsAbout(event.title);
    assert.deepEqual(
      jobs.map((j) => j.payload.to),
      ['committed@example.org'],
    );
    // And a cancellation: the freed place, the offer to the next in line and both emails together.
    const waiting = await t.app.services.events.book(event.slug, {
      ...booking('Waiter'),
      choice: 'waitlist',
    });
    assert.equal(waiting.kind, 'booked');
    const failing = serviceWith(async (_tx, work) => {
      await work();
      throw new Error('crash before commit');
    });
    if (out.kind !== 'booked') return;
    await assert.rejects(failing.cancel(out.token, 'all'), /crash before commit/);
    const counts = await repo.counts(event.id);
    assert.deepEqual(
      [counts.confirmed, counts.waiting, counts.offered],
      [1, 1, 0],
      'nothing changed',
    );
    assert.equal((await mailJobsAbout(event.title)).length, 2, 'no cancellation or offer email');
  });

  test('closed booking: refused with its GOV.UK message and nothing written', async () => {
    const open = await makeEvent('closed-form', 5);
    const formPage = `/events/${open.slug}/book`; // a page with a form, for the CSRF token
    const cases: [string, Record<string, unknown>, Record<string, string>, number, RegExp][] = [
      [
        'closed',
        { bookingClosesAt: new Date(Date.now() - HOUR) },
        {},
        409,
        /Booking for this event has closed/,
      ],
      [
        'not-yet-open',
        { bookingOpensAt: new Date(Date.now() + 2 * 24 * HOUR) },
        {},
        409,
        /Booking for this event opens on/,
      ],
      [
        'started',
        { startsAt: new Date(Date.now() - HOUR), endsAt: new Date(Date.now() + HOUR) },
        {},
        409,
        /This event has already started, so you cannot book it/,
      ],
      [
        'cancelled',
        { status: 'cancelled' },
        {},
        409,
        /This event has been cancelled, so you cannot book it/,
      ],
      ['too-many', {}, { places: '9' }, 400, /You can book up to 4 places in one booking/],
      ['none-left', { capacity: 2 }, { places: '3' }, 409, /Only 2 places are left/],
    ];
    for (const [slug, extra, fields, status, message] of cases) {
      const event = await makeEvent(`closed-${slug}`, 5, extra);
      const people =
        Number(fields.places ?? 1) > 4
          ? ['A']
          : ['A', 'B', 'C'].slice(0, Number(fields.places ?? 1));
      const { res } = await submit(
        t.app,
        formPage,
        `/events/${event.slug}/book`,
        bookingFields(people, fields),
        '',
        `10.9.${cases.findIndex((c) => c[0] === slug)}.1`,
      );
      assert.equal(res.statusCode, status, slug);
      assert.match(res.body, /<title>Error: /, `${slug}: "Error: " in the title`);
      assert.match(res.body, /govuk-error-summary/, `${slug}: an error summary`);
      assert.match(res.body, message, slug);
      assert.equal(await bookingRows(event.id), 0, `${slug}: no booking`);
      assert.equal((await mailJobsAbout(event.title)).length, 0, `${slug}: no email`);
    }
    // The service refuses too, whatever its caller: more people than one booking allows.
    const event = await makeEvent('closed-service', 10);
    const out = await t.app.services.events.book(event.slug, {
      ...booking('Many'),
      attendees: Array.from({ length: 5 }, (_v, i) => ({ name: `P${i}` })),
    });
    assert.deepEqual(out, { kind: 'refused', reason: 'tooMany', max: 4 });
    assert.equal(await bookingRows(event.id), 0);
  });
});
