import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { test } from 'node:test';
import { createLocalStorage } from './storage.ts';

test('put, stat, read whole and by range, delete', async () => {
  const root = mkdtempSync(join(tmpdir(), 'sp-store-'));
  const s = createLocalStorage(root);
  assert.deepEqual(await s.put('resources/abc/file.txt', Buffer.from('0123456789')), { size: 10 });
  assert.equal((await s.stat('resources/abc/file.txt'))?.size, 10);
  assert.equal(await text(s.read('resources/abc/file.txt')), '0123456789');
  assert.equal(await text(s.read('resources/abc/file.txt', { start: 2, end: 4 })), '234');
  await s.put('resources/abc/stream.txt', Readable.from(['a', 'b', 'c']));
  assert.equal(await text(s.read('resources/abc/stream.txt')), 'abc');
  await s.delete('resources/abc/file.txt');
  assert.equal(await s.stat('resources/abc/file.txt'), undefined);
});

test('keys that could leave the root are refused', async () => {
  const s = createLocalStorage(mkdtempSync(join(tmpdir(), 'sp-store-')));
  for (const key of ['../x', 'a/../../x', '/etc/passwd', 'a//b', '.hidden', 'a/./b', '']) {
    await assert.rejects(s.put(key, Buffer.from('x')), /Invalid storage key/, key);
  }
});

test('a failed write leaves nothing behind under the key', async () => {
  const root = mkdtempSync(join(tmpdir(), 'sp-store-'));
  const s = createLocalStorage(root);
  const failing = new Readable({
    read() {
      this.destroy(new Error('connection reset'));
    },
  });
  await assert.rejects(s.put('u/broken.bin', failing), /connection reset/);
  assert.equal(await s.stat('u/broken.bin'), undefined);
  assert.deepEqual(readdirSync(join(root, 'u')), []);
});
