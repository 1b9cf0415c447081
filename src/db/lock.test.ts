import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDatabase } from './client.ts';
import { acquireDirLock, DataDirLockedError } from './lock.ts';

test('a second opener of the same DATA_DIR is refused with a clear message', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-lock-'));
  const first = await openDatabase({ dataDir: dir });
  try {
    await assert.rejects(
      openDatabase({ dataDir: dir }),
      (err: Error) => err instanceof DataDirLockedError && /already open/.test(err.message),
    );
    await first.query('CREATE TABLE kept (v text)');
    await first.query(`INSERT INTO kept VALUES ('still here')`);
  } finally {
    await first.close();
  }
  assert.equal(existsSync(join(dir, 'db.lock')), false, 'the lock is released on close');
  const again = await openDatabase({ dataDir: dir });
  try {
    assert.equal(again.created, false);
    const rows = await again.query<{ v: string }>('SELECT v FROM kept');
    assert.deepEqual(rows, [{ v: 'still here' }]);
  } finally {
    await again.close();
  }
});

test('a lock held by another live process refuses; a stale lock is taken over', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-lock-'));
  const file = join(dir, 'db.lock');
  writeFileSync(file, String(process.ppid)); // our parent: alive
  assert.throws(() => acquireDirLock(file), /in use by another process \(pid \d+\)/);
  writeFileSync(file, '999999999'); // no such process
  const lock = acquireDirLock(file);
  lock.release();
  assert.equal(existsSync(file), false);
});
