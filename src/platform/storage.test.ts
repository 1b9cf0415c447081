import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer, text } from 'node:stream/consumers';
import { after, before, describe, test } from 'node:test';
import { type LocalS3, startS3 } from '../../test/helpers/s3.ts';
import { createLocalStorage, openStorage, type Storage } from './storage.ts';
import { parseStorageUrl, StorageUrlError } from './storage-url.ts';

/**
 * The storage contract: the same cases on local disk and on an S3-compatible
 * server (a local one, in this process), through openStorage() as the app
 * opens them.
 */
let s3: LocalS3;
before(async () => {
  s3 = await startS3();
});
after(async () => {
  await s3.close();
});

const drivers: [string, () => Promise<Storage>][] = [
  ['disk', () => openStorage({ dataDir: mkdtempSync(join(tmpdir(), 'sp-store-')) })],
  ['s3', () => openStorage({ dataDir: '/nonexistent', storageUrl: s3.url() })],
];

const collect = async (it: AsyncIterable<string>) => {
  const out: string[] = [];
  for await (const k of it) out.push(k);
  return out.sort();
};

for (const [name, open] of drivers) {
  describe(`storage on ${name}`, () => {
    let s: Storage;
    before(async () => {
      s = await open();
      assert.equal(s.kind, name);
    });
    after(async () => {
      await s.close();
    });

    test('put, stat, exists, read whole and by range, delete', async () => {
      assert.deepEqual(await s.put('resources/abc/file.txt', Buffer.from('0123456789')), {
        size: 10,
      });
      assert.equal((await s.stat('resources/abc/file.txt'))?.size, 10);
      assert.ok((await s.stat('resources/abc/file.txt'))?.modified instanceof Date);
      assert.equal(await s.exists('resources/abc/file.txt'), true);
      assert.equal(await text(s.read('resources/abc/file.txt')), '0123456789');
      assert.equal(await text(s.read('resources/abc/file.txt', { start: 2, end: 4 })), '234');
      assert.equal(await text(s.read('resources/abc/file.txt', { start: 9, end: 9 })), '9');
      await s.delete('resources/abc/file.txt');
      assert.equal(await s.stat('resources/abc/file.txt'), undefined);
      assert.equal(await s.exists('resources/abc/file.txt'), false);
      await s.delete('resources/abc/file.txt'); // deleting what is gone is no error
    });

    test('a stream is stored whole, with its size; a large one byte-identical', async () => {
      assert.deepEqual(await s.put('u/stream.txt', Readable.from(['a', 'b', 'c'])), { size: 3 });
      assert.equal(await text(s.read('u/stream.txt')), 'abc');
      // Over lib-storage's 5 MB part size: a multipart upload on S3.
      const big = Buffer.alloc(6 * 1024 * 1024 + 123);
      for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
      const chunks = function* () {
        for (let i = 0; i < big.length; i += 65536) yield big.subarray(i, i + 65536);
      };
      assert.deepEqual(await s.put('u/big.bin', Readable.from(chunks())), { size: big.length });
      assert.ok((await buffer(s.read('u/big.bin'))).equals(big));
      const mid = { start: 5 * 1024 * 1024 - 10, end: 5 * 1024 * 1024 + 10 };
      assert.ok(
        (await buffer(s.read('u/big.bin', mid))).equals(big.subarray(mid.start, mid.end + 1)),
      );
      await s.delete('u/big.bin');
      await s.delete('u/stream.txt');
    });

    test('list gives every key, or those under a prefix', async () => {
      await s.put('l/a/one.txt', Buffer.from('1'));
      await s.put('l/a/two.txt', Buffer.from('2'));
      await s.put('l/b/three.txt', Buffer.from('3'));
      assert.deepEqual(await collect(s.list('l/')), [
        'l/a/one.txt',
        'l/a/two.txt',
        'l/b/three.txt',
      ]);
      assert.deepEqual(await collect(s.list('l/a/')), ['l/a/one.txt', 'l/a/two.txt']);
      assert.deepEqual(await collect(s.list('nothing/')), []);
      for (const k of await collect(s.list('l/'))) await s.delete(k);
      assert.deepEqual(await collect(s.list('l/')), []);
    });

    test('reading a missing file is an error on the stream', async () => {
      await assert.rejects(text(s.read('missing/file.txt')));
    });

    test('keys that could leave the root are refused', async () => {
      for (const key of ['../x', 'a/../../x', '/etc/passwd', 'a//b', '.hidden', 'a/./b', '']) {
        await assert.rejects(s.put(key, Buffer.from('x')), /Invalid storage key/, key);
        assert.equal(await s.stat(key), undefined, key);
      }
    });

    test('a failed write leaves nothing behind under the key', async () => {
      const failing = new Readable({
        read() {
          this.destroy(new Error('connection reset'));
        },
      });
      await assert.rejects(s.put('f/broken.bin', failing), /connection reset/);
      assert.equal(await s.stat('f/broken.bin'), undefined);
      assert.deepEqual(await collect(s.list('f/')), []);
    });
  });
}

test('on disk a failed write leaves no temporary file either', async () => {
  const root = mkdtempSync(join(tmpdir(), 'sp-store-'));
  const s = createLocalStorage(root);
  // A source that fails at once, many times over: the failure can come before the stream has
  // opened its file (on a busy machine it once did, and the file was left behind; put now
  // waits for the stream to close before removing it), or after.
  await Promise.all(
    Array.from({ length: 40 }, async (_v, i) => {
      const failing = new Readable({
        read() {
          this.destroy(new Error('connection reset'));
        },
      });
      await assert.rejects(s.put(`u/broken-${i}.bin`, failing), /connection reset/);
    }),
  );
  const later = new Readable({
    read() {
      this.push(Buffer.alloc(1024));
      setImmediate(() => this.destroy(new Error('connection reset')));
    },
  });
  await assert.rejects(s.put('u/later.bin', later), /connection reset/);
  assert.deepEqual(readdirSync(join(root, 'u')), []);
});

test('STORAGE_URL is read with its options, and bad ones are named', () => {
  assert.deepEqual(
    parseStorageUrl(
      's3://AK%2FID:se%2Bcret@my-bucket/site/files?region=eu-west-2&endpoint=http://127.0.0.1:9000&path_style=true',
    ),
    {
      bucket: 'my-bucket',
      prefix: 'site/files',
      region: 'eu-west-2',
      endpoint: 'http://127.0.0.1:9000',
      pathStyle: true,
      credentials: { accessKeyId: 'AK/ID', secretAccessKey: 'se+cret' },
    },
  );
  assert.deepEqual(parseStorageUrl('s3://bucket.example?region=eu-west-1'), {
    bucket: 'bucket.example',
    prefix: '',
    region: 'eu-west-1',
    endpoint: undefined,
    pathStyle: false,
    credentials: undefined,
  });
  assert.equal(parseStorageUrl('s3://b12?endpoint=https://s3.example.org').region, 'us-east-1');
  for (const [bad, message] of [
    ['https://bucket', /must start with s3:\/\//],
    ['s3://B', /bucket name/],
    ['s3://bucket', /region/],
    ['s3://bucket/a b?region=eu-west-2', /prefix/],
    ['s3://bucket?region=eu-west-2&pathstyle=1', /unknown option pathstyle/],
    ['s3://bucket?endpoint=ftp://x', /endpoint/],
    ['s3://key@bucket?region=eu-west-2', /key and the secret/],
    ['s3://bucket?region=eu-west-2&path_style=yes', /path_style/],
  ] as const) {
    assert.throws(
      () => parseStorageUrl(bad),
      (e: Error) => {
        assert.ok(e instanceof StorageUrlError, bad);
        assert.match(e.message, message, bad);
        return true;
      },
    );
  }
});
