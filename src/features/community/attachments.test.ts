import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PDFDocument } from 'pdf-lib';
import sharp from 'sharp';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import { type FilePart, submitMultipart } from '../../../test/helpers/multipart.ts';
import { signIn } from '../../../test/helpers/session.ts';
import { DEMO_PASSWORD } from '../accounts/seed.ts';

/** A 1×1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
/** The start of a Windows executable. */
const EXE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(510, 0x90)]);
const SVG = Buffer.from(
  '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
);

/** A PDF whose metadata names its author, as a word processor's export would. */
async function makePdf(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage([200, 200]).drawText('Attached notes', { x: 20, y: 100, size: 12 });
  doc.setAuthor('Jane Example-Parent');
  doc.setCreator('Jane Example-Parent');
  return Buffer.from(await doc.save());
}

/** A photo carrying EXIF that names its maker (a phone's would also hold a location). */
async function photoWithExif(): Promise<Buffer> {
  return sharp({ create: { width: 8, height: 8, channels: 3, background: '#1d70b8' } })
    .png()
    .withExif({ IFD0: { Artist: 'Jane Example-Parent', Copyright: 'Jane Example-Parent' } })
    .toBuffer();
}

let PHOTO: Buffer;

describe('attachments on community posts', () => {
  let t: TestApp;
  let pdf: Buffer;
  const jar: Record<string, string> = {};
  const space = 'wales-network';
  const get = (url: string, who?: string) =>
    t.app.inject({ url, headers: who ? { cookie: jar[who]! } : {} });
  const communityFiles = () => {
    const dir = join(t.config.dataDir, 'uploads', 'community');
    return existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String) : [];
  };
  const counts = async () => {
    const [row] = await t.database.query<{ threads: number; posts: number; files: number }>(
      `SELECT (SELECT count(*)::int FROM threads) AS threads, (SELECT count(*)::int FROM posts) AS posts,
              (SELECT count(*)::int FROM post_attachments) AS files`,
    );
    return row!;
  };
  const newThread = (
    who: string,
    fields: Record<string, string | string[]>,
    files: FilePart[],
    slug = space,
  ) =>
    submitMultipart(
      t.app,
      `/community/${slug}/new`,
      `/community/${slug}/new`,
      { title: 'A thread with files', body: 'Please see the attached.', ...fields },
      files,
      jar[who]!,
    );
  const attachmentsOf = (title: string) =>
    t.database.query<{ id: string; post_id: string; mime: string; storage_key: string }>(
      `SELECT a.id, a.post_id, a.mime, a.storage_key FROM post_attachments a
       JOIN posts p ON p.id = a.post_id JOIN threads t ON t.id = p.thread_id
       WHERE t.title = $1 ORDER BY a.mime`,
      [title],
    );

  before(async () => {
    PHOTO = await photoWithExif();
    t = await testApp({ seed: true });
    jar.member = await signIn(t.app, 'member@example.org', DEMO_PASSWORD, undefined, '10.9.0.1');
    jar.parent = await signIn(t.app, 'parent@example.org', DEMO_PASSWORD, undefined, '10.9.0.2');
    pdf = await makePdf();
  });
  after(async () => t.close());

  test('a PNG and a PDF are attached, shown, and come back with the right type and without the metadata that named their maker', async () => {
    const { res } = await newThread(
      'member',
      { title: 'Our visual timetable', alt: 'A timetable' },
      [
        { name: 'attachment', filename: 'timetable.png', content: PHOTO, type: 'image/png' },
        {
          name: 'attachment',
          filename: 'Notes from the day.pdf',
          content: pdf,
          type: 'application/pdf',
        },
      ],
    );
    assert.equal(res.statusCode, 303, res.body);
    const files = await attachmentsOf('Our visual timetable');
    assert.equal(files.length, 2);
    const [pdfRow, pngRow] = files; // ordered by mime
    assert.equal(pngRow!.mime, 'image/png');
    assert.match(
      pngRow!.storage_key,
      new RegExp(`^community/${pngRow!.post_id}/${pngRow!.id}\\.png$`),
    );
    assert.match(pdfRow!.storage_key, /\.pdf$/);

    const png = await get(`/community/attachments/${pngRow!.id}`, 'member');
    assert.equal(png.statusCode, 200);
    assert.equal(png.headers['content-type'], 'image/png');
    // The same picture, without the metadata that named its maker.
    const back = await sharp(png.rawPayload).metadata();
    assert.equal(back.format, 'png');
    assert.equal(back.width, 8);
    assert.equal(back.exif, undefined, 'no EXIF is kept');
    assert.ok(!png.rawPayload.includes('Jane Example-Parent'), 'the name is gone from the bytes');
    assert.ok(PHOTO.includes('Jane Example-Parent'), 'it was there when sent');
    assert.match(
      String(png.headers['content-disposition']),
      /^inline; filename="?timetable\.png"?$/,
    );
    assert.equal(png.headers['x-content-type-options'], 'nosniff');
    assert.match(String(png.headers['content-security-policy']), /sandbox/);
    assert.match(String(png.headers['cache-control']), /private/);

    const doc = await get(`/community/attachments/${pdfRow!.id}`, 'member');
    assert.equal(doc.statusCode, 200);
    assert.equal(doc.headers['content-type'], 'application/pdf');
    const sent = await PDFDocument.load(pdf);
    assert.equal(sent.getAuthor(), 'Jane Example-Parent', 'the author was named when sent');
    const reread = await PDFDocument.load(doc.rawPayload);
    assert.ok(!reread.getAuthor(), 'and is not when stored');
    assert.ok(!reread.getCreator(), 'nor as its creator');
    assert.equal(reread.getPageCount(), 1, 'the document itself is intact');
    assert.match(String(doc.headers['content-disposition']), /^inline;/);
    assert.equal(doc.headers['x-content-type-options'], 'nosniff');
    assert.match(String(doc.headers['cache-control']), /private/);
    assert.match(String(doc.headers['content-security-policy']), /default-src 'none'/);

    // The thread shows the image with its text alternative and the PDF as a link.
    const location = String(res.headers.location);
    const page = await get(location.replace(/\?.*$/, ''), 'member');
    assert.equal(page.statusCode, 200);
    assert.match(
      page.body,
      new RegExp(
        `<img src="/community/attachments/${pngRow!.id}" alt="A timetable" loading="lazy"`,
      ),
    );
    assert.match(page.body, /Notes from the day\.pdf \(PDF, 1 KB\)/);
  });

  test('a file whose bytes are not what its name says, or not allowed, is refused and nothing is stored', async () => {
    const before = await counts();
    const filesBefore = communityFiles();
    assert.equal(
      filesBefore.filter((f) => f.endsWith('.png')).length,
      1,
      'the first test stored a PNG',
    );
    const cases: [FilePart, RegExp][] = [
      [
        { name: 'attachment', filename: 'x.png', content: pdf, type: 'image/png' },
        /x\.png is really a PDF file/,
      ],
      [
        { name: 'attachment', filename: 'x.png', content: EXE, type: 'image/png' },
        /x\.png must be a JPEG, PNG, GIF or WebP image, or a PDF/,
      ],
      [
        { name: 'attachment', filename: 'drawing.svg', content: SVG, type: 'image/svg+xml' },
        /drawing\.svg must be a JPEG, PNG, GIF or WebP image, or a PDF/,
      ],
      [
        {
          name: 'attachment',
          filename: 'big.png',
          content: Buffer.concat([PNG, Buffer.alloc(6 * 1024 * 1024)]),
          type: 'image/png',
        },
        /big\.png must be smaller than 5 MB/,
      ],
    ];
    for (const [file, message] of cases) {
      const { res } = await newThread('member', { title: 'Refused thread', alt: 'Something' }, [
        file,
      ]);
      assert.equal(res.statusCode, 400, file.filename);
      assert.match(res.body, /govuk-error-summary/);
      assert.match(res.body, message);
      // What was typed is kept; the files must be chosen again.
      assert.match(res.body, /value="Refused thread"/);
      assert.match(res.body, /Please see the attached\./);
      assert.match(res.body, /Choose your files again/);
    }
    // An image needs its text alternative.
    const { res: noAlt } = await newThread('member', { title: 'Refused thread' }, [
      { name: 'attachment', filename: 'photo.png', content: PNG, type: 'image/png' },
    ]);
    assert.equal(noAlt.statusCode, 400);
    assert.match(noAlt.body, /Describe the image photo\.png for people who cannot see it/);
    // More than three files.
    const many = [1, 2, 3, 4].map((n) => ({
      name: 'attachment',
      filename: `n${n}.pdf`,
      content: pdf,
      type: 'application/pdf',
    }));
    const { res: tooMany } = await newThread('member', { title: 'Refused thread' }, many);
    assert.equal(tooMany.statusCode, 400);
    assert.match(tooMany.body, /Attach no more than 3 files/);

    assert.deepEqual(await counts(), before, 'no thread, post or attachment was written');
    assert.deepEqual(communityFiles(), filesBefore, 'no file was stored');
    const [refused] = await t.database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM threads WHERE title = 'Refused thread'`,
    );
    assert.equal(refused!.n, 0);
  });

  test('a reply carries a file; outside the private group it is refused, a visitor signs in', async () => {
    const [thread] = await t.database.query<{ id: string }>(
      `SELECT t.id FROM threads t JOIN community_spaces s ON s.id = t.space_id
       WHERE s.slug = 'parents-panel' ORDER BY t.created_at LIMIT 1`,
    );
    const threadUrl = `/community/parents-panel/${thread!.id}`;
    const { res } = await submitMultipart(
      t.app,
      threadUrl,
      `${threadUrl}/reply`,
      {
        body: 'Our picture from the group.',
        alt: 'Children’s drawings on a wall',
        anonymous: 'yes',
      },
      [{ name: 'attachment', filename: 'wall.png', content: PNG, type: 'image/png' }],
      jar.parent!,
    );
    assert.equal(res.statusCode, 303, res.body);
    const [file] = await t.database.query<{ id: string; post_id: string; storage_key: string }>(
      `SELECT a.id, a.post_id, a.storage_key FROM post_attachments a JOIN posts p ON p.id = a.post_id
       WHERE p.thread_id = $1`,
      [thread!.id],
    );
    const url = `/community/attachments/${file!.id}`;
    const mine = await get(url, 'parent');
    assert.equal(mine.statusCode, 200);
    assert.equal((await sharp(mine.rawPayload).metadata()).format, 'png', 'the picture comes back');
    // Nothing in the file's answer names the (anonymous) author.
    assert.doesNotMatch(JSON.stringify(mine.headers), /Demo Parent|parent@example/i);
    const page = await get(threadUrl, 'parent');
    const article = page.body.slice(page.body.indexOf(`/community/attachments/${file!.id}`) - 2000);
    assert.doesNotMatch(article.slice(0, 2500), /Demo Parent/);

    const outsider = await get(url, 'member');
    assert.equal(outsider.statusCode, 403);
    assert.doesNotMatch(outsider.body, /PNG|IHDR/);
    const visitor = await get(url);
    assert.equal(visitor.statusCode, 303);
    assert.match(String(visitor.headers.location), /^\/account\/sign-in\?next=/);
  });

  test('deleting a post deletes its files', async () => {
    const { res } = await newThread('member', { title: 'Short-lived thread', alt: 'A dot' }, [
      { name: 'attachment', filename: 'dot.png', content: PNG, type: 'image/png' },
    ]);
    assert.equal(res.statusCode, 303);
    const [file] = await attachmentsOf('Short-lived thread');
    const path = join(t.config.dataDir, 'uploads', file!.storage_key);
    assert.ok(existsSync(path), 'stored');
    const threadUrl = String(res.headers.location).replace(/[?#].*$/, '');
    const { res: deleted } = await submitMultipart(
      t.app,
      threadUrl,
      `/community/posts/${file!.post_id}/delete`,
      {},
      [],
      jar.member!,
    );
    assert.equal(deleted.statusCode, 303);
    assert.equal(existsSync(path), false, 'the file is gone from storage');
    assert.equal((await attachmentsOf('Short-lived thread')).length, 0);
    assert.equal((await get(`/community/attachments/${file!.id}`, 'member')).statusCode, 404);
  });

  test('editing a post removes and adds files; more than three, or a bad file, changes nothing', async () => {
    const { res } = await newThread('member', { title: 'Files to edit', alt: 'A dot' }, [
      { name: 'attachment', filename: 'dot.png', content: PNG, type: 'image/png' },
      { name: 'attachment', filename: 'first.pdf', content: pdf, type: 'application/pdf' },
    ]);
    assert.equal(res.statusCode, 303, res.body);
    const [pdfRow, pngRow] = await attachmentsOf('Files to edit'); // ordered by mime
    const postId = pngRow!.post_id;
    const editUrl = `/community/posts/${postId}/edit`;
    const form = await get(editUrl, 'member');
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /enctype="multipart\/form-data"/);
    assert.match(form.body, /Files attached to this post/);
    assert.match(form.body, new RegExp(`name="remove" type="checkbox" value="${pngRow!.id}"`));
    assert.match(form.body, /dot\.png \(image: A dot\)/);
    assert.match(form.body, /first\.pdf \(PDF, 1 KB\)/);

    const edit = (fields: Record<string, string | string[]>, files: FilePart[], who = 'member') =>
      submitMultipart(
        t.app,
        who === 'member' ? editUrl : `/community/${space}/new`, // a token from a form they may use
        editUrl,
        { body: 'Edited words.', ...fields },
        files,
        jar[who]!,
      );
    const pdfPart = (filename: string): FilePart => ({
      name: 'attachment',
      filename,
      content: pdf,
      type: 'application/pdf',
    });
    const before = await counts();
    const stored = communityFiles();

    // Two more would make four: refused, the words kept, nothing changed.
    const { res: four } = await edit({}, [pdfPart('a.pdf'), pdfPart('b.pdf')]);
    assert.equal(four.statusCode, 400);
    assert.match(four.body, /govuk-error-summary/);
    assert.match(four.body, /A post can have no more than 3 files/);
    assert.match(four.body, /Edited words\./);
    assert.match(four.body, /Choose your files again/);
    // A bad file: refused the same way, and a ticked box stays ticked.
    const { res: bad } = await edit({ remove: pngRow!.id }, [
      { name: 'attachment', filename: 'x.pdf', content: EXE, type: 'application/pdf' },
    ]);
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /x\.pdf must be a JPEG, PNG, GIF or WebP image, or a PDF/);
    assert.match(bad.body, new RegExp(`value="${pngRow!.id}" checked`));
    // Someone else's post: refused, nothing removed.
    const { res: other } = await edit({ remove: pngRow!.id }, [], 'parent');
    assert.equal(other.statusCode, 403);
    assert.deepEqual(await counts(), before, 'nothing was written');
    assert.deepEqual(communityFiles(), stored, 'nothing was stored or removed');
    const [words] = await t.database.query<{ body: string }>(
      `SELECT body FROM posts WHERE id = $1`,
      [postId],
    );
    assert.equal(words!.body, 'Please see the attached.');

    // Remove the image, add a PDF: saved together; the image leaves storage.
    const pngPath = join(t.config.dataDir, 'uploads', pngRow!.storage_key);
    assert.ok(existsSync(pngPath));
    const { res: saved } = await edit(
      { remove: [pngRow!.id, '00000000-0000-4000-8000-000000000000'] },
      [pdfPart('second.pdf')],
    );
    assert.equal(saved.statusCode, 303, saved.body);
    const now = await attachmentsOf('Files to edit');
    assert.deepEqual(
      now.map((a) => a.mime),
      ['application/pdf', 'application/pdf'],
      'the image is gone and a second PDF is there',
    );
    assert.ok(
      now.some((a) => a.id === pdfRow!.id),
      'the PDF that was kept is the same file',
    );
    assert.equal(existsSync(pngPath), false, 'the removed image left storage');
    for (const a of now) assert.ok(existsSync(join(t.config.dataDir, 'uploads', a.storage_key)));
    assert.equal((await get(`/community/attachments/${pngRow!.id}`, 'member')).statusCode, 404);
    const page = await get(String(res.headers.location).replace(/[?#].*$/, ''), 'member');
    assert.match(page.body, /Edited words\./);
    assert.match(page.body, /second\.pdf \(PDF, 1 KB\)/);
    assert.doesNotMatch(page.body, new RegExp(pngRow!.id));
    const [audit] = await t.database.query<{ detail: Record<string, unknown> }>(
      `SELECT detail FROM audit_log WHERE event = 'community.post_edited' ORDER BY at DESC LIMIT 1`,
    );
    assert.equal(audit!.detail.filesRemoved, 1);
    assert.equal(audit!.detail.filesAdded, 1);
  });
});
