import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PDFDocument } from 'pdf-lib';
import { DEMO_PASSWORD } from '../../src/features/accounts/seed.ts';
import { type TestApp, testApp } from '../helpers/app.ts';
import { submitMultipart } from '../helpers/multipart.ts';
import { type LocalS3, startS3 } from '../helpers/s3.ts';
import { signIn } from '../helpers/session.ts';

/**
 * An upload through the site and its download, whole and by byte range,
 * answer the same on local disk and on an S3-compatible server (STORAGE_URL).
 */
let s3: LocalS3;
before(async () => {
  s3 = await startS3();
});
after(async () => {
  await s3.close();
});

for (const driver of ['disk', 's3'] as const) {
  describe(`uploads and downloads with files on ${driver}`, () => {
    let t: TestApp;
    before(async () => {
      t = await testApp({
        seed: true,
        config: driver === 's3' ? { storageUrl: s3.url() } : {},
      });
    });
    after(async () => t.close());

    test('a member’s PDF is stored, and comes back byte-identical, whole and by range', async () => {
      assert.equal(t.app.platform.storage.kind, driver);
      const member = await signIn(
        t.app,
        'member@example.org',
        DEMO_PASSWORD,
        undefined,
        '10.9.0.1',
      );
      const doc = await PDFDocument.create();
      doc.addPage().drawText(`Stored on ${driver}`);
      const pdf = Buffer.from(await doc.save());
      const ok = await submitMultipart(
        t.app,
        '/resources/submit',
        '/resources/submit',
        {
          title: `Leaflet stored on ${driver}`,
          summary: 'A leaflet we made with parents.',
          type: 'guide',
          topics: ['lived-experience'],
          audiences: ['parents'],
          language: 'en',
        },
        [{ name: 'file', filename: 'leaflet.pdf', content: pdf }],
        member,
      );
      assert.equal(ok.res.statusCode, 303);
      const [file] = await t.database.query<{ id: string; slug: string; storage_key: string }>(
        `SELECT f.id, r.slug, f.storage_key FROM resource_files f JOIN resources r ON r.id = f.resource_id
         WHERE r.title = $1`,
        [`Leaflet stored on ${driver}`],
      );
      assert.ok(file);
      assert.equal(await t.app.platform.storage.exists(file.storage_key), true);
      assert.equal(
        existsSync(join(t.config.dataDir, 'uploads', file.storage_key)),
        driver === 'disk',
        'on S3 nothing is written to the disk',
      );

      const url = `/resources/${file.slug}/files/${file.id}`;
      const whole = await t.app.inject({ url, headers: { cookie: member } });
      assert.equal(whole.statusCode, 200);
      assert.equal(whole.headers['content-type'], 'application/pdf');
      assert.equal(Number(whole.headers['content-length']), pdf.length);
      assert.ok(whole.rawPayload.equals(pdf), 'byte-identical');
      const part = await t.app.inject({ url, headers: { cookie: member, range: 'bytes=5-24' } });
      assert.equal(part.statusCode, 206);
      assert.equal(part.headers['content-range'], `bytes 5-24/${pdf.length}`);
      assert.ok(part.rawPayload.equals(pdf.subarray(5, 25)));
      const tail = await t.app.inject({ url, headers: { cookie: member, range: 'bytes=-10' } });
      assert.equal(tail.statusCode, 206);
      assert.ok(tail.rawPayload.equals(pdf.subarray(pdf.length - 10)));
      const beyond = await t.app.inject({
        url,
        headers: { cookie: member, range: `bytes=${pdf.length + 5}-` },
      });
      assert.equal(beyond.statusCode, 416);
    });
  });
}
