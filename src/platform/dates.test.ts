import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDate, formatTime, londonInstant, londonParts } from './dates.ts';

test('London wall-clock times become the right instants across both clock changes', () => {
  assert.equal(londonInstant(2026, 1, 15, 10, 0)?.toISOString(), '2026-01-15T10:00:00.000Z');
  assert.equal(londonInstant(2026, 7, 15, 10, 0)?.toISOString(), '2026-07-15T09:00:00.000Z');
  // 29 March 2026: clocks go forward at 01:00 GMT; 01:30 does not exist.
  assert.equal(londonInstant(2026, 3, 29, 0, 30)?.toISOString(), '2026-03-29T00:30:00.000Z');
  assert.equal(londonInstant(2026, 3, 29, 1, 30), undefined);
  assert.equal(londonInstant(2026, 3, 29, 2, 30)?.toISOString(), '2026-03-29T01:30:00.000Z');
  // 25 October 2026: clocks go back; 01:30 happens twice (the second, GMT, is taken).
  assert.equal(londonInstant(2026, 10, 25, 1, 30)?.toISOString(), '2026-10-25T01:30:00.000Z');
  assert.equal(londonInstant(2026, 6, 31, 10, 0), undefined, '31 June');
  assert.equal(londonInstant(2026, 2, 29, 10, 0), undefined, 'not a leap year');
  assert.equal(londonInstant(2026, 13, 1, 10, 0), undefined);
  assert.equal(londonInstant(2026, 1, 1, 24, 0), undefined);
  assert.deepEqual(londonParts(new Date('2026-07-15T09:05:00Z')), {
    year: 2026,
    month: 7,
    day: 15,
    hour: 10,
    minute: 5,
  });
});

test('dates and times kept by the hour and minute read as Intl says, across both clock changes', () => {
  // The oracle: Intl asked afresh, in London, for each instant.
  const day = (locale: string) =>
    new Intl.DateTimeFormat(locale, {
      timeZone: 'Europe/London',
      weekday: 'long',
      day: 'numeric',
      month: 'long',
      year: 'numeric',
    });
  const clock = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/London',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  const days = { en: day('en-GB'), cy: day('cy-GB') };
  // Every 7 minutes over the two days around each change of 2026, and around 1940s double
  // summer time and 1968-71's all-year summer time; each instant asked twice (the second a
  // kept answer), and at a second and a minute less one second past it.
  const spans = [
    ['2026-03-28T12:00:00Z', '2026-03-30T12:00:00Z'],
    ['2026-10-24T12:00:00Z', '2026-10-26T12:00:00Z'],
    ['1944-04-01T12:00:00Z', '1944-04-03T12:00:00Z'],
    ['1970-06-01T21:00:00Z', '1970-06-02T03:00:00Z'],
  ] as const;
  let checked = 0;
  for (const [from, to] of spans) {
    for (let t = Date.parse(from); t < Date.parse(to); t += 7 * 60_000) {
      for (const at of [t, t + 1000, t + 59_000]) {
        const d = new Date(at);
        for (const locale of ['en', 'cy'] as const) {
          const want = days[locale].format(d).replace(',', '');
          assert.equal(formatDate(d, locale), want, `${d.toISOString()} ${locale}`);
          assert.equal(
            formatDate(new Date(at), locale),
            want,
            `${d.toISOString()} ${locale}, kept`,
          );
          const [h, m] = clock.format(d).split(':').map(Number) as [number, number];
          const time = formatTime(d, locale);
          assert.equal(formatTime(new Date(at), locale), time);
          if (h === 0 && m === 0) assert.equal(time, locale === 'cy' ? 'canol nos' : 'midnight');
          else if (h === 12 && m === 0)
            assert.equal(time, locale === 'cy' ? 'canol dydd' : 'midday');
          else {
            const suffix = locale === 'cy' ? (h < 12 ? 'yb' : 'yh') : h < 12 ? 'am' : 'pm';
            const mm = m === 0 ? '' : `:${String(m).padStart(2, '0')}`;
            assert.equal(time, `${h % 12 === 0 ? 12 : h % 12}${mm}${suffix}`, d.toISOString());
          }
          checked++;
        }
      }
    }
  }
  assert.ok(checked > 4000);
  // Before London kept GMT (local mean time, 1 minute 15 seconds behind) nothing is kept.
  const old = new Date('1800-01-01T00:00:30Z');
  assert.equal(formatDate(old, 'en'), days.en.format(old).replace(',', ''));
  assert.throws(() => formatDate(new Date(Number.NaN), 'en'), RangeError);
});
