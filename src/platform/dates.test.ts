import assert from 'node:assert/strict';
import { test } from 'node:test';
import { londonInstant, londonParts } from './dates.ts';

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
