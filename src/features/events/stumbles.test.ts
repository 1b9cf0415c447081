import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import { sentMail } from '../../../test/helpers/mail.ts';
import { submit } from '../../../test/helpers/session.ts';
import { createEventsRepository, type EventsRepository } from './repository.ts';

const HOUR = 3600_000;

/** Issue #19's stumbles in booking, the waiting list, cancelling and past events. */
describe('events without a stumble (#19)', () => {
  let t: TestApp;
  let repo: EventsRepository;
  before(async () => {
    t = await testApp({ seed: true });
    repo = createEventsRepository(t.database.db);
  });
  after(async () => t.close());

  const makeEvent = (slug: string, capacity: number) =>
    repo.upsertEvent({
      slug,
      title: `Stumble ${slug}`,
      summary: 'A test event',
      startsAt: new Date(Date.now() + 10 * 24 * HOUR),
      endsAt: new Date(Date.now() + 10 * 24 * HOUR + 2 * HOUR),
      mode: 'online',
      capacity,
      maxPerBooking: 4,
      organiserName: 'Test organiser',
      organiserEmail: 'organiser@example.org',
      status: 'published',
    });
  const fields = (people: string[], extra: Record<string, string> = {}) => {
    const f: Record<string, string> = {
      bookerName: 'Booker',
      bookerEmail: 'booker@example.org',
      places: String(people.length),
      ...extra,
    };
    people.forEach((name, i) => (f[`attendee_${i}_name`] = name));
    return f;
  };
  /** The submit buttons of the booking form, in document order. */
  const submitButtons = (html: string) => {
    const form = /<form method="post" action="\/events\/[^"]+\/book"[\s\S]*?<\/form>/.exec(
      html,
    )![0];
    return [...form.matchAll(/<button[^>]*>/g)].map((m) => m[0]);
  };

  test('1. the booking form’s first submit button books, so Enter in any field books', async () => {
    const event = await makeEvent('enter-books', 10);
    const page = await t.app.inject(`/events/${event.slug}/book`);
    const [first, ...rest] = submitButtons(page.body);
    assert.ok(first, 'the form has submit buttons');
    assert.doesNotMatch(first, /name="action"/, 'the first (default) button is not "Update"');
    assert.match(first, /tabindex="-1"/, 'the extra default button is out of the tab order');
    assert.ok(
      rest.some((b) => /name="action" value="places"/.test(b)),
      '"Update the number of people" is still there',
    );
    // What Enter sends: the fields, without action=places. It books.
    const entered = await submit(
      t.app,
      `/events/${event.slug}/book`,
      `/events/${event.slug}/book`,
      {
        ...fields(['Ann']),
        shown: '1',
      },
    );
    assert.equal(entered.res.statusCode, 303);
    assert.equal((await repo.counts(event.id)).confirmed, 1);
  });

  test('1. after "Update the number of people" the focus goes to the first new person, not the top', async () => {
    const event = await makeEvent('update-focus', 10);
    const url = `/events/${event.slug}/book`;
    const more = await submit(t.app, url, url, {
      ...fields(['Ann']),
      places: '3',
      shown: '1',
      action: 'places',
    });
    assert.equal(more.res.statusCode, 200);
    assert.match(more.res.body, /<input[^>]*id="attendee_1_name"[^>]*autofocus/);
    assert.equal((more.res.body.match(/autofocus/g) ?? []).length, 1, 'one place has the focus');
    assert.match(more.res.body, /value="Ann"/, 'what was typed is kept');
    const fewer = await submit(t.app, url, url, {
      ...fields(['Ann', 'Bob', 'Cy']),
      places: '1',
      shown: '3',
      action: 'places',
    });
    assert.match(fewer.res.body, /<select[^>]*id="places"[^>]*autofocus/);
  });

  test('3. a booking of only waiting people reads as the waiting list, not as a confirmed booking', async () => {
    const event = await makeEvent('waiting-only', 1);
    const url = `/events/${event.slug}/book`;
    await submit(t.app, url, url, fields(['First']), '', '10.9.0.1');
    await sentMail(t.app);
    const waiting = await submit(
      t.app,
      url,
      url,
      { ...fields(['Second']), bookerEmail: 'waiter@example.org', choice: 'waitlist' },
      '',
      '10.9.0.2',
    );
    assert.equal(waiting.res.statusCode, 303);
    assert.match(String(waiting.res.headers.location), /done=waitlisted/);
    const page = await t.app.inject(String(waiting.res.headers.location));
    assert.match(page.body, /<h1[^>]*>Your place on the waiting list<\/h1>/);
    assert.match(page.body, /You are on the waiting list/);
    assert.doesNotMatch(page.body, /Thank you/);
    const mail = (await sentMail(t.app)).find((m) => m.to === 'waiter@example.org')!;
    assert.match(mail.subject, /You are on the waiting list/);
    assert.doesNotMatch(mail.text, /Thank you for booking|Places confirmed/);
  });

  test('4. cancelling asks first, names who in the email with the manage link, and drops the calendar link', async () => {
    const event = await makeEvent('cancel-confirm', 10);
    const url = `/events/${event.slug}/book`;
    const booked = await submit(t.app, url, url, fields(['Ann', 'Bob']), '', '10.9.0.3');
    const manageUrl = String(booked.res.headers.location).split('?')[0]!;
    const manage = await t.app.inject(manageUrl);
    assert.doesNotMatch(
      manage.body,
      /<form[^>]*action="[^"]*\/cancel"/,
      'no one-click cancel form on the booking page',
    );
    assert.match(manage.body, /href="[^"]*\.ics"/, 'the calendar link while places are held');
    const bob = (await t.app.services.events.booking(manageUrl.split('/').pop()!))!.people.find(
      (p) => p.name === 'Bob',
    )!;
    const one = await t.app.inject(`${manageUrl}/attendees/${bob.id}/cancel`);
    assert.equal(one.statusCode, 200);
    assert.match(one.body, /Are you sure you want to cancel the place for Bob\?/);
    assert.match(one.body, new RegExp(`action="${manageUrl}/attendees/${bob.id}/cancel"`));
    await sentMail(t.app);
    const cancelledOne = await submit(
      t.app,
      `${manageUrl}/attendees/${bob.id}/cancel`,
      `${manageUrl}/attendees/${bob.id}/cancel`,
      {},
    );
    assert.equal(cancelledOne.res.statusCode, 303);
    let mail = (await sentMail(t.app)).find((m) => m.to === 'booker@example.org')!;
    assert.match(mail.text, /Cancelled: Bob\./);
    assert.ok(mail.text.includes(`${t.config.baseUrl}${manageUrl}`), 'the manage link');
    assert.doesNotMatch(mail.text, /place\(s\)/);

    const all = await t.app.inject(`${manageUrl}/cancel`);
    assert.match(all.body, /Are you sure you want to cancel your whole booking\?/);
    await submit(t.app, `${manageUrl}/cancel`, `${manageUrl}/cancel`, {});
    mail = (await sentMail(t.app)).find((m) => m.to === 'booker@example.org')!;
    assert.match(mail.text, /Your booking is cancelled\. Cancelled: Ann\./);
    const after = await t.app.inject(manageUrl);
    assert.match(after.body, /<h1[^>]*>Your cancelled booking<\/h1>/);
    assert.doesNotMatch(after.body, /\.ics"/, 'no "Add to your calendar" once cancelled');
    assert.equal((await t.app.inject(`${manageUrl}/cancel`)).statusCode, 404, 'nothing to cancel');
  });

  test('5. a past event’s recording and slides link to those resources, which exist', async () => {
    const page = await t.app.inject('/events/demo-webinar-farewell-contact');
    const links = [
      ...page.body.matchAll(/<a class="govuk-link" href="([^"]+)">(Watch|See)[^<]*<\/a>/g),
    ];
    assert.equal(links.length, 2, 'a recording and slides link');
    for (const [, href] of links) {
      assert.match(href!, /^\/resources\/[a-z0-9-]+$/, `${href} is one resource`);
      assert.equal((await t.app.inject(href!)).statusCode, 200, `${href} exists`);
    }
  });
});

describe('Welsh times and the README (#19)', () => {
  let t: TestApp;
  before(async () => {
    t = await testApp({ seed: true });
  });
  after(async () => t.close());

  test('11. times on Welsh pages read "10yb" and "2yh", not "am" and "pm"', async () => {
    const page = await t.app.inject('/events/demo-birmingham-launch-born-into-care?lang=cy');
    assert.match(page.body, /\d(:\d\d)?(yb|yh)\b/);
    assert.doesNotMatch(page.body, /\d(:\d\d)?(am|pm)\b/);
    const english = await t.app.inject('/events/demo-birmingham-launch-born-into-care?lang=en');
    assert.match(english.body, /\d(:\d\d)?(am|pm)\b/);
  });

  test('11. on Welsh pages, what organisers wrote in English is marked lang="en", with a notice', async () => {
    const page = await t.app.inject('/events/demo-birmingham-launch-born-into-care?lang=cy');
    assert.match(page.body, /<h1 class="govuk-heading-xl" lang="en">Launch in Birmingham/);
    assert.match(page.body, /yn Saesneg yn unig/);
    assert.match(page.body, /<td class="govuk-table__cell" lang="en">Arrival and coffee/);
    const list = await t.app.inject('/events?lang=cy');
    assert.match(list.body, /<a class="govuk-link" href="\/events\/[a-z0-9-]+" lang="en">/);
    const english = await t.app.inject('/events/demo-birmingham-launch-born-into-care?lang=en');
    assert.doesNotMatch(english.body, / lang="en">Launch/, 'no marking on English pages');
  });

  test('12. the README says where mail goes, when staff set up two-step sign-in, and the Node versions', async () => {
    const { readFile } = await import('node:fs/promises');
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
    assert.match(readme, /`\$DATA_DIR\/mail\/`/);
    assert.doesNotMatch(readme, /two-step sign-in at first sign-in/);
    assert.match(readme, /first time they open a staff page/);
    assert.match(readme, /Node\.js 20\.19 or\s+later, 22 or 24/);
  });
});
