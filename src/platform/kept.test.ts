import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createKept, sizeOf } from './kept.ts';

test('values are kept within the budget, the least recently used dropped first', () => {
  // Each 'x'.repeat(10) is 20 bytes as kept (UTF-16); the budget holds three.
  const kept = createKept<string>(60);
  kept.set('a', 'a'.repeat(10));
  kept.set('b', 'b'.repeat(10));
  kept.set('c', 'c'.repeat(10));
  assert.deepEqual(kept.stats, { entries: 3, bytes: 60 });
  // Reading a makes it the most recently used: b is now the oldest.
  assert.equal(kept.get('a'), 'a'.repeat(10));
  kept.set('d', 'd'.repeat(10));
  assert.equal(kept.get('b'), undefined, 'the least recently used went');
  assert.equal(kept.get('a'), 'a'.repeat(10), 'the one read lately stayed');
  assert.equal(kept.get('c'), 'c'.repeat(10));
  assert.equal(kept.get('d'), 'd'.repeat(10));
  assert.deepEqual(kept.stats, { entries: 3, bytes: 60 });
});

test('a value kept again under its key replaces it, and its size is counted once', () => {
  const kept = createKept<string>(100);
  kept.set('k', 'x'.repeat(10));
  kept.set('k', 'y'.repeat(20));
  assert.equal(kept.get('k'), 'y'.repeat(20));
  assert.deepEqual(kept.stats, { entries: 1, bytes: 40 });
});

test('a value bigger than the budget is not kept, and drops nothing', () => {
  const kept = createKept<string>(50);
  kept.set('small', 'x'.repeat(5));
  kept.set('big', 'x'.repeat(26));
  assert.equal(kept.get('big'), undefined);
  assert.equal(kept.get('small'), 'x'.repeat(5));
  // Replacing a kept value with one too big drops the old one too: it is no longer true.
  kept.set('small', 'x'.repeat(26));
  assert.equal(kept.get('small'), undefined);
  assert.deepEqual(kept.stats, { entries: 0, bytes: 0 });
});

test('bytes are counted as kept: a Buffer its length, a string two a character, a list its strings', () => {
  assert.equal(sizeOf(Buffer.alloc(7)), 7);
  assert.equal(sizeOf('ŵ'.repeat(3)), 6);
  assert.equal(sizeOf(['ab', '', 'c']), 6, 'a list of strings: theirs');
  const kept = createKept<string | Buffer>(10);
  kept.set('buf', Buffer.alloc(6));
  kept.set('str', 'ab'); // 4: 10 in all
  assert.equal(kept.stats.bytes, 10);
  kept.set('more', Buffer.alloc(1));
  assert.equal(kept.get('buf'), undefined, 'the oldest made room');
  assert.equal(kept.stats.bytes, 5);
});
