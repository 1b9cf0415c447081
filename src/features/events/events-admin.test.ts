import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AccessDenied } from '../../platform/auth.ts';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import { sentMail } from '../../../test/helpers/mail.ts';
import { signIn, submit } from '../../../test/helpers/session.ts';
import { enableTwoFactor } from '../../../test/helpers/totp.ts';
import { DEMO_PASSWORD } from '../accounts/seed.ts';
import { readEventForm } from './admin-routes.ts';

const base = {
  title: 'Learning set: working with fathers',
  summary: 'A learning set for services working with fathers.',
  body: 'First paragraph.\n\nSecond paragraph.',
  'starts-day': '15',
  'starts-month': '7',
  'starts-year': '2030',
  'starts-time': '10:00',
  'ends-day': '15',
  'ends-month': '7',
  'ends-year': '2030',
  'ends-time': '12:30',
  mode: 'hybrid',
  venueName: 'Demo Hall',
  venueAddress: '1 Example Street, Cardiff',
  joiningLink: 'https://meet.example.org/fathers-room',
  capacity: '30',
  maxPerBooking: '3',
  waitlistEnabled: 'yes',
  offerHours: '24',
  organiserName: 'Demo team',
  organiserEmail: 'events@example.org',
  agenda: '10:00 | Welcome | Chair\n10:15 | Fathers’ voices',
  speakers: 'Sam Example | Practitioner | Works with fathers',
  status: 'published',
};

describe('editors create and change events, and name organisers', () => {
  let t: TestApp;
  let editor: string;
  let member: string;
  before(async () => {
    t = await testApp({ seed: true });
    const secret = await enableTwoFactor(t.app, 'editor@example.org');
    editor = await signIn(t.app, 'editor@example.org', DEMO_PASSWORD, secret, '10.8.0.1');
    member = await signIn(t.app, 'member@example.org', DEMO_PASSWORD, undefined, '10.8.0.2');
  });
  after(async () => t.close());

  test('an editor creates a published event in London time; it is listed with its programme', async () => {
    const { res } = await submit(t.app, '/admin/events/new', '/admin/events/new', base, editor);
    assert.equal(res.statusCode, 303, res.body.slice(0, 300));
    const [row] = await t.database.query<{
      id: string;
      slug: string;
      starts_at: Date;
      ends_at: Date;
    }>(`SELECT id, slug, starts_at, ends_at FROM events WHERE title = $1`, [base.title]);
    assert.equal(row!.slug, 'learning-set-working-with-fathers');
    assert.equal(row!.starts_at.toISOString(), '2030-07-15T09:00:00.000Z', '10:00 BST');
    assert.equal(row!.ends_at.toISOString(), '2030-07-15T11:30:00.000Z');
    const list = await t.app.inject('/events?mode=hybrid');
    assert.match(list.body, /Learning set: working with fathers/);
    const page = await t.app.inject(`/events/${row!.slug}`);
    assert.match(page.body, /Fathers’ voices/);
    assert.match(page.body, /Sam Example/);
    assert.doesNotMatch(page.body, /fathers-room/, 'the joining link stays private');
    const edit = await t.app.inject({
      url: `/admin/events/${row!.id}/edit`,
      headers: { cookie: editor },
    });
    assert.match(edit.body, /name="starts-time" type="text" inputmode="numeric" value="10:00"/);
  });

  test('a bad form shows every problem and keeps what was typed; nothing is saved', async () => {
    const { res } = await submit(
      t.app,
      '/admin/events/new',
      '/admin/events/new',
      {
        ...base,
        title: 'Half-written event',
        'ends-time': '09:00',
        mode: 'online',
        joiningLink: 'http://not-secure.example.org',
        capacity: 'lots',
        'starts-day': '31',
        'starts-month': '6',
      },
      editor,
    );
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /<title>Error: /);
    assert.match(res.body, /Enter a real date and a time/);
    assert.match(res.body, /Enter a link starting with https:\/\//);
    assert.match(res.body, /Places must be a whole number from 1 to 100000/);
    assert.match(res.body, /href="#starts"/, 'the summary links to the first date field');
    assert.match(res.body, /value="Half-written event"/);
    const rows = await t.database.query(`SELECT 1 FROM events WHERE title = 'Half-written event'`);
    assert.equal(rows.length, 0);
  });

  test('a title or web address already used is refused with a clear message', async () => {
    const { res } = await submit(t.app, '/admin/events/new', '/admin/events/new', base, editor);
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /Another event has this title/);
    const second = await submit(
      t.app,
      '/admin/events/new',
      '/admin/events/new',
      { ...base, title: 'Other', slug: 'learning-set-working-with-fathers' },
      editor,
    );
    assert.match(second.res.body, /Another event already uses this web address/);
  });

  test('places cannot go below the places already taken', async () => {
    const [row] = await t.database.query<{ id: string }>(
      `SELECT id FROM events WHERE slug = 'learning-set-working-with-fathers'`,
    );
    const booked = await t.app.services.events.book('learning-set-working-with-fathers', {
      bookerName: 'Booker',
      bookerEmail: 'booker@example.org',
      attendees: [{ name: 'One' }, { name: 'Two' }, { name: 'Three' }],
      choice: 'all',
      locale: 'en',
    });
    assert.ok('token' in booked);
    const url = `/admin/events/${row!.id}/edit`;
    const { res } = await submit(t.app, url, url, { ...base, capacity: '2' }, editor);
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /Places cannot be fewer than the 3 places already taken/);
    const ok = await submit(
      t.app,
      url,
      url,
      { ...base, capacity: '3', summary: 'Changed' },
      editor,
    );
    assert.equal(ok.res.statusCode, 303);
    const [after] = await t.database.query<{ capacity: number; summary: string }>(
      'SELECT capacity, summary FROM events WHERE id = $1',
      [row!.id],
    );
    assert.deepEqual(after, { capacity: 3, summary: 'Changed' });
  });

  test('a member cannot open or post the editor pages', async () => {
    assert.equal(
      (await t.app.inject({ url: '/admin/events', headers: { cookie: member } })).statusCode,
      403,
    );
    const { res } = await submit(t.app, '/account', '/admin/events/new', base, member);
    assert.equal(res.statusCode, 403);
  });

  test('naming a member as organiser opens the attendee page to them; removing them closes it', async () => {
    const [row] = await t.database.query<{ id: string; slug: string }>(
      `SELECT id, slug FROM events WHERE slug = 'learning-set-working-with-fathers'`,
    );
    const attendees = `/events/${row!.slug}/attendees`;
    assert.equal(
      (await t.app.inject({ url: attendees, headers: { cookie: member } })).statusCode,
      403,
    );
    const url = `/admin/events/${row!.id}/edit`;
    const unknown = await submit(
      t.app,
      url,
      `/admin/events/${row!.id}/organisers`,
      { email: 'nobody@example.org' },
      editor,
    );
    assert.equal(unknown.res.statusCode, 400);
    assert.match(unknown.res.body, /There is no approved member with that email address/);
    const pending = await submit(
      t.app,
      url,
      `/admin/events/${row!.id}/organisers`,
      { email: 'pending@example.org' },
      editor,
    );
    assert.match(
      pending.res.body,
      /There is no approved member/,
      'an unapproved account cannot organise',
    );
    const added = await submit(
      t.app,
      url,
      `/admin/events/${row!.id}/organisers`,
      { email: 'member@example.org' },
      editor,
    );
    assert.equal(added.res.statusCode, 303);
    assert.equal(
      (await t.app.inject({ url: attendees, headers: { cookie: member } })).statusCode,
      200,
    );
    const [memberRow] = await t.database.query<{ id: string }>(
      `SELECT id FROM users WHERE email = 'member@example.org'`,
    );
    const removed = await submit(
      t.app,
      url,
      `/admin/events/${row!.id}/organisers/${memberRow!.id}/delete`,
      {},
      editor,
    );
    assert.equal(removed.res.statusCode, 303);
    assert.equal(
      (await t.app.inject({ url: attendees, headers: { cookie: member } })).statusCode,
      403,
    );
  });
  test('the list shows every event, drafts too, with places taken and links to edit and attendees', async () => {
    const draft = await submit(
      t.app,
      '/admin/events/new',
      '/admin/events/new',
      { ...base, title: 'A draft for later', status: 'draft' },
      editor,
    );
    assert.equal(draft.res.statusCode, 303);
    assert.match(
      String(draft.res.headers.location),
      /^\/admin\/events\/[0-9a-f-]{36}\/edit\?saved=created$/,
    );
    const list = await t.app.inject({ url: '/admin/events', headers: { cookie: editor } });
    assert.equal(list.statusCode, 200);
    assert.match(list.body, /Create an event/);
    assert.match(list.body, /A draft for later/);
    assert.match(list.body, /<td class="govuk-table__cell">Draft<\/td>/);
    assert.match(list.body, /3 of 3/, 'places taken of capacity');
    assert.match(list.body, /href="\/events\/learning-set-working-with-fathers\/attendees"/);
    assert.match(list.body, /href="\/admin\/events\/[0-9a-f-]{36}\/edit"/);
    const publicList = await t.app.inject('/events');
    assert.doesNotMatch(publicList.body, /A draft for later/, 'a draft is not public');
    const cy = await t.app.inject({
      url: '/admin/events/new?lang=cy',
      headers: { cookie: editor },
    });
    assert.match(cy.body, /Creu digwyddiad/);
    assert.match(cy.body, /Sut mae pobl yn cymryd rhan/);
    assert.doesNotMatch(cy.body, /events\.admin\./, 'no missing Welsh strings');
  });

  test('the service itself refuses anyone but an editor', async () => {
    const [memberRow] = await t.database.query<{ id: string }>(
      `SELECT id FROM users WHERE email = 'member@example.org'`,
    );
    const asMember = {
      id: memberRow!.id,
      role: 'member' as const,
      displayName: 'Member',
      approved: true,
      totpEnabled: false,
    };
    const events = t.app.services.events;
    await assert.rejects(events.adminList(asMember, 1, 10), AccessDenied);
    await assert.rejects(events.adminList(undefined, 1, 10), AccessDenied);
    await assert.rejects(
      events.addOrganiser(asMember, '00000000-0000-4000-8000-000000000000', 'member@example.org'),
      AccessDenied,
    );
    const input = {
      title: 'Sneaky',
      summary: 'x',
      body: '',
      startsAt: new Date('2030-01-01T10:00:00Z'),
      endsAt: new Date('2030-01-01T11:00:00Z'),
      mode: 'online' as const,
      joiningLink: 'https://meet.example.org/x',
      capacity: 10,
      maxPerBooking: 2,
      waitlistEnabled: true,
      offerHours: 48,
      organiserName: 'x',
      organiserEmail: 'x@example.org',
      status: 'published' as const,
      agenda: [],
      speakers: [],
    };
    await assert.rejects(events.saveEvent(asMember, undefined, input), AccessDenied);
    const rows = await t.database.query(`SELECT 1 FROM events WHERE title = 'Sneaky'`);
    assert.equal(rows.length, 0);
  });

  test('an organiser form error is in the summary and the page title', async () => {
    const [row] = await t.database.query<{ id: string }>(
      `SELECT id FROM events WHERE slug = 'learning-set-working-with-fathers'`,
    );
    const url = `/admin/events/${row!.id}/edit`;
    const { res } = await submit(
      t.app,
      url,
      `/admin/events/${row!.id}/organisers`,
      { email: '' },
      editor,
    );
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /<title>Error: /);
    assert.match(res.body, /href="#organiser"/);
    assert.match(res.body, /Enter the email address of the member to name as organiser/);
  });

  test('an event with bookings cannot go back to draft; postponing it emails everyone booked', async () => {
    const [row] = await t.database.query<{ id: string; title: string }>(
      `SELECT id, title FROM events WHERE slug = 'learning-set-working-with-fathers'`,
    );
    const url = `/admin/events/${row!.id}/edit`;
    const fields = { ...base, capacity: '3', summary: 'Changed' };
    const draft = await submit(t.app, url, url, { ...fields, status: 'draft' }, editor);
    assert.equal(draft.res.statusCode, 400);
    assert.match(draft.res.body, /People have booked this event, so it cannot go back to draft/);

    const noMessage = await submit(t.app, url, url, { ...fields, status: 'postponed' }, editor);
    assert.equal(noMessage.res.statusCode, 400);
    assert.match(noMessage.res.body, /Enter a message to email to everyone booked or waiting/);
    assert.match(noMessage.res.body, /value="postponed" checked/, 'the choice is kept');
    const [still] = await t.database.query<{ status: string }>(
      'SELECT status FROM events WHERE id = $1',
      [row!.id],
    );
    assert.equal(still!.status, 'published', 'nothing is saved');

    await sentMail(t.app);
    const postponed = await submit(
      t.app,
      url,
      url,
      { ...fields, status: 'postponed', statusMessage: 'The speaker is unwell.' },
      editor,
    );
    assert.equal(postponed.res.statusCode, 303);
    assert.match(String(postponed.res.headers.location), /told=1$/);
    const told = (await sentMail(t.app)).filter((m) => m.subject === `Postponed: ${row!.title}`);
    assert.deepEqual(
      told.map((m) => m.to),
      ['booker@example.org'],
    );
    assert.match(told[0]!.text, /The speaker is unwell/);
    const page = await t.app.inject({
      url: postponed.res.headers.location!,
      headers: { cookie: editor },
    });
    assert.match(page.body, /1 person booked or waiting has been emailed/);

    const [audit] = await t.database.query<{ detail: Record<string, unknown> }>(
      `SELECT detail FROM audit_log WHERE event = 'event.updated' ORDER BY at DESC LIMIT 1`,
    );
    assert.equal(audit!.detail.status, 'postponed');
    assert.equal(audit!.detail.was, 'published');

    const again = await submit(t.app, url, url, { ...fields, status: 'published' }, editor);
    assert.equal(again.res.statusCode, 303, 'a postponed event can be published again');
  });
});

test('the editors’ form is parsed with zod: every problem at once, in the form’s order; blanks take their defaults', () => {
  const blank = readEventForm({ mode: 'hybrid', capacity: '0' });
  assert.equal(blank.ok, false);
  if (blank.ok) return;
  assert.deepEqual(
    blank.problems.map((p) => p.field),
    [
      'title',
      'summary',
      'starts',
      'ends',
      'venueName',
      'joiningLink',
      'capacity',
      'organiserName',
      'organiserEmail',
    ],
  );
  assert.deepEqual(blank.problems.find((p) => p.field === 'capacity')!.vars, {
    min: 1,
    max: 100000,
  });
  const day = {
    'starts-day': '3',
    'starts-month': '3',
    'starts-year': '2031',
    'starts-time': '10:00',
  };
  const good = readEventForm({
    title: ' Launch ',
    summary: 'A launch',
    ...day,
    'ends-day': '3',
    'ends-month': '3',
    'ends-year': '2031',
    'ends-time': '09:00',
    mode: 'online',
    joiningLink: 'https://meet.example.org/x',
    capacity: '30',
    organiserName: 'Org',
    organiserEmail: 'org@example.org',
  });
  assert.equal(good.ok, false, 'the end before the start');
  if (!good.ok)
    assert.deepEqual(
      good.problems.map((p) => p.key),
      ['events.admin.errors.endsBeforeStart'],
    );
  const ok = readEventForm({
    title: ' Launch ',
    summary: 'A launch',
    ...day,
    'ends-day': '3',
    'ends-month': '3',
    'ends-year': '2031',
    'ends-time': '12:00',
    mode: 'online',
    joiningLink: 'https://meet.example.org/x',
    capacity: '30',
    organiserName: 'Org',
    organiserEmail: 'org@example.org',
    agenda: '10:00 | Welcome | Chair',
  });
  assert.ok(ok.ok);
  if (!ok.ok) return;
  assert.equal(ok.input.title, 'Launch');
  assert.equal(ok.input.maxPerBooking, 4);
  assert.equal(ok.input.offerHours, 48);
  assert.equal(ok.input.waitlistEnabled, true);
  assert.equal(ok.input.status, 'draft');
  assert.deepEqual(ok.input.agenda, [{ time: '10:00', title: 'Welcome', speakers: 'Chair' }]);
  assert.equal(ok.input.bookingOpensAt, undefined);
});
