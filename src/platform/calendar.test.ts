import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import ICAL from 'ical.js';
import { cleanCalendarText, icsFor, PRODUCT_ID, type CalendarEvent } from './calendar.ts';

// X-WR-CALNAME is an extension property; calendar apps treat it as TEXT, so
// tell ical.js to do the same (otherwise it hands back the escaped form).
ICAL.design.icalendar.property['x-wr-calname'] = { defaultType: 'text' };

function parse(ics: string): { calendar: ICAL.Component; events: ICAL.Component[] } {
  const calendar = new ICAL.Component(ICAL.parse(ics));
  return { calendar, events: calendar.getAllSubcomponents('vevent') };
}

function only(ics: string): ICAL.Component {
  const { events } = parse(ics);
  assert.equal(events.length, 1);
  return events[0]!;
}

function instantOf(event: ICAL.Component, name: 'dtstart' | 'dtend'): number {
  const time = event.getFirstPropertyValue(name);
  assert.ok(time instanceof ICAL.Time, `${name} is a date-time`);
  assert.equal(time.zone, ICAL.Timezone.utcTimezone, `${name} is written in UTC`);
  return time.toJSDate().getTime();
}

/** The wall-clock time of an instant in London, to check the comments below. */
function londonTime(date: Date): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/London',
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).format(date);
}

const base: CalendarEvent = {
  uid: 'evt-1@supporting-parents',
  title: 'Drop-in',
  description: 'Come along',
  start: new Date(Date.UTC(2026, 0, 10, 10, 0)),
  end: new Date(Date.UTC(2026, 0, 10, 11, 0)),
  url: 'https://supporting-parents.example/events/1',
};

test('the file is CRLF-terminated, folded at 75 octets and has our PRODID', () => {
  const ics = icsFor([
    { ...base, description: 'Croeso! Mae’r sesiwn yn agored i bawb — ☕ '.repeat(12) },
  ]);
  assert.ok(ics.endsWith('END:VCALENDAR\r\n'));
  const lines = ics.split('\r\n');
  assert.equal(lines.pop(), '');
  for (const line of lines) {
    assert.doesNotMatch(line, /[\r\n]/, 'no bare CR or LF');
    assert.ok(Buffer.byteLength(line) <= 75, `line too long: ${line}`);
  }
  assert.ok(
    lines.some((l) => l.startsWith(' ')),
    'the long description is folded',
  );
  assert.ok(lines.includes(`PRODID:${PRODUCT_ID}`));
  assert.ok(lines.includes('METHOD:PUBLISH'));
  assert.equal(parse(ics).calendar.getFirstPropertyValue('prodid'), PRODUCT_ID);
});

test('title, description, location, url, uid and organizer round-trip, with , ; \\ and newlines', () => {
  const event: CalendarEvent = {
    ...base,
    uid: 'evt-2,x;y@supporting-parents',
    title: 'Coffee, cake; and a chat\\catch-up',
    description: 'Line one, with a comma;\nline two; semicolon\r\nline three\\n (not a newline)',
    location: 'Church hall, Room 2; side door\nHigh Street',
    url: 'https://supporting-parents.example/events/2?lang=cy&ref=a,b;c',
    organizer: { name: 'Jo "JJ" Bloggs, ^Events^; Team', email: 'jo@supporting-parents.example' },
    sequence: 3,
  };
  const ics = icsFor([event], { calendarName: 'Events, all; of them\nnew line' });
  assert.match(ics, /\r\nSUMMARY:Coffee\\, cake\\; and a chat\\\\catch-up\r\n/);
  const { calendar } = parse(ics);
  assert.equal(calendar.getFirstPropertyValue('x-wr-calname'), 'Events, all; of them\nnew line');
  const vevent = only(ics);
  const parsed = new ICAL.Event(vevent);
  assert.equal(parsed.summary, event.title);
  assert.equal(
    parsed.description,
    'Line one, with a comma;\nline two; semicolon\nline three\\n (not a newline)',
  );
  assert.equal(parsed.location, event.location);
  assert.equal(parsed.uid, event.uid);
  assert.equal(parsed.sequence, 3);
  assert.equal(vevent.getFirstPropertyValue('url'), event.url);
  const organizer = vevent.getFirstProperty('organizer')!;
  assert.equal(organizer.getFirstValue(), 'MAILTO:jo@supporting-parents.example');
  assert.equal(organizer.getParameter('cn'), event.organizer!.name);
});

test('spring clock change: GMT and BST evenings parse back to the right instants', () => {
  // Saturday 28 March 2026, 18:00–19:30 Europe/London: still GMT (UTC+0).
  const beforeChange = {
    start: new Date(Date.UTC(2026, 2, 28, 18, 0)),
    end: new Date(Date.UTC(2026, 2, 28, 19, 30)),
  };
  // Monday 30 March 2026, 18:00–19:30 Europe/London: BST (UTC+1) since 29 March, so 17:00Z.
  const afterChange = {
    start: new Date(Date.UTC(2026, 2, 30, 17, 0)),
    end: new Date(Date.UTC(2026, 2, 30, 18, 30)),
  };
  assert.equal(londonTime(beforeChange.start), '28/03/2026, 18:00 GMT');
  assert.equal(londonTime(afterChange.start), '30/03/2026, 18:00 BST');
  assert.equal(londonTime(afterChange.end), '30/03/2026, 19:30 BST');

  const ics = icsFor([
    { ...base, uid: 'gmt@supporting-parents', ...beforeChange },
    { ...base, uid: 'bst@supporting-parents', ...afterChange },
  ]);
  assert.match(ics, /\r\nDTSTART:20260328T180000Z\r\nDTEND:20260328T193000Z\r\n/);
  assert.match(ics, /\r\nDTSTART:20260330T170000Z\r\nDTEND:20260330T183000Z\r\n/);
  const [gmt, bst] = parse(ics).events;
  assert.equal(instantOf(gmt!, 'dtstart'), beforeChange.start.getTime());
  assert.equal(instantOf(gmt!, 'dtend'), beforeChange.end.getTime());
  assert.equal(instantOf(bst!, 'dtstart'), afterChange.start.getTime());
  assert.equal(instantOf(bst!, 'dtend'), afterChange.end.getTime());
});

test('autumn clock change: BST and GMT evenings parse back to the right instants', () => {
  // Saturday 24 October 2026, 18:00–19:30 Europe/London: still BST (UTC+1), so 17:00Z.
  const beforeChange = {
    start: new Date(Date.UTC(2026, 9, 24, 17, 0)),
    end: new Date(Date.UTC(2026, 9, 24, 18, 30)),
  };
  // Monday 26 October 2026, 18:00–19:30 Europe/London: GMT (UTC+0) since 25 October.
  const afterChange = {
    start: new Date(Date.UTC(2026, 9, 26, 18, 0)),
    end: new Date(Date.UTC(2026, 9, 26, 19, 30)),
  };
  assert.equal(londonTime(beforeChange.start), '24/10/2026, 18:00 BST');
  assert.equal(londonTime(afterChange.start), '26/10/2026, 18:00 GMT');

  const ics = icsFor([
    { ...base, uid: 'bst@supporting-parents', ...beforeChange },
    { ...base, uid: 'gmt@supporting-parents', ...afterChange },
  ]);
  assert.match(ics, /\r\nDTSTART:20261024T170000Z\r\n/);
  assert.match(ics, /\r\nDTSTART:20261026T180000Z\r\n/);
  const [bst, gmt] = parse(ics).events;
  assert.equal(instantOf(bst!, 'dtstart'), beforeChange.start.getTime());
  assert.equal(instantOf(bst!, 'dtend'), beforeChange.end.getTime());
  assert.equal(instantOf(gmt!, 'dtstart'), afterChange.start.getTime());
  assert.equal(instantOf(gmt!, 'dtend'), afterChange.end.getTime());
});

test('status round-trips; a CANCEL message marks its events CANCELLED', () => {
  const cancelled = only(icsFor([{ ...base, status: 'CANCELLED', sequence: 1 }]));
  assert.equal(cancelled.getFirstPropertyValue('status'), 'CANCELLED');
  assert.equal(new ICAL.Event(cancelled).sequence, 1);
  assert.equal(
    only(icsFor([{ ...base, status: 'TENTATIVE' }])).getFirstPropertyValue('status'),
    'TENTATIVE',
  );

  const organizer = { name: 'Supporting Parents', email: 'events@supporting-parents.example' };
  const cancel = icsFor([{ ...base, organizer, sequence: 2 }], { method: 'CANCEL' });
  const { calendar, events } = parse(cancel);
  assert.equal(calendar.getFirstPropertyValue('method'), 'CANCEL');
  assert.equal(events[0]!.getFirstPropertyValue('status'), 'CANCELLED');
  assert.throws(() => icsFor([base], { method: 'REQUEST' }), /needs an organizer/);
  assert.throws(
    () => icsFor([{ ...base, organizer, status: 'CONFIRMED' }], { method: 'CANCEL' }),
    /CANCEL message but has status CONFIRMED/,
  );
});

test('several events in one file keep their order and their own data', () => {
  const events = [1, 2, 3].map((n): CalendarEvent => ({
    ...base,
    uid: `evt-${n}@supporting-parents`,
    title: `Session ${n}`,
    start: new Date(Date.UTC(2026, 4, n, 9)),
    end: new Date(Date.UTC(2026, 4, n, 10)),
    url: `https://supporting-parents.example/events/${n}`,
  }));
  const parsed = parse(icsFor(events)).events.map((e) => new ICAL.Event(e));
  assert.deepEqual(
    parsed.map((e) => [e.uid, e.summary, e.startDate.toJSDate().getTime()]),
    events.map((e) => [e.uid, e.title, e.start.getTime()]),
  );
  assert.equal(parse(icsFor([])).events.length, 0);
});

test('bad input is refused with a clear error', () => {
  assert.throws(() => icsFor([{ ...base, url: '/events/1' }]), /url must be an absolute URL/);
  assert.throws(
    () => icsFor([{ ...base, url: 'javascript:alert(1)' }]),
    /must be an http\(s\) URL/,
  );
  assert.throws(() => icsFor([{ ...base, start: new Date(NaN) }]), /invalid start date/);
  assert.throws(() => icsFor([{ ...base, end: new Date(Date.UTC(2026, 0, 1)) }]), /ends before/);
  assert.throws(() => icsFor([{ ...base, uid: ' ' }]), /uid must not be empty/);
  assert.throws(
    () => icsFor([{ ...base, organizer: { name: 'X', email: 'x@y.example\r\nATTENDEE:z' } }]),
    /organizer email is not valid/,
  );
  // An error reported by the ics library itself (its URL check rejects "_" in host names).
  assert.throws(
    () => icsFor([{ ...base, url: 'https://under_score.example/' }]),
    /^Error: Could not build the iCalendar file: .*url/,
  );
});

const textUnit = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.constantFrom(',', ';', ':', '\\', '\n', '\t', ' ', '"', '^', '\\n') },
);

test('property: any title and description round-trip exactly through ical.js', () => {
  fc.assert(
    fc.property(
      // size 'max': the default 'small' size never makes strings long enough to fold
      fc.string({ unit: textUnit, maxLength: 120, size: 'max' }),
      fc.string({ unit: textUnit, maxLength: 400, size: 'max' }),
      (title, description) => {
        const parsed = new ICAL.Event(only(icsFor([{ ...base, title, description }])));
        assert.equal(parsed.summary ?? '', title);
        assert.equal(parsed.description ?? '', description);
      },
    ),
    { numRuns: 200 },
  );
});

test('property: any code points, control characters included, come back as cleaned text', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 200, size: 'max' }), (text) => {
      const ics = icsFor([{ ...base, title: text, description: text, location: text }]);
      for (const line of ics.split('\r\n')) assert.ok(Buffer.byteLength(line) <= 75);
      const parsed = new ICAL.Event(only(ics));
      const expected = cleanCalendarText(text);
      assert.equal(parsed.summary ?? '', expected);
      assert.equal(parsed.description ?? '', expected);
      assert.equal(parsed.location ?? '', expected);
    }),
    { numRuns: 200 },
  );
});
