import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type AllowedType, checkUpload, cleanFilename, fileHeaders, humanSize } from './files.ts';

const dir = mkdtempSync(join(tmpdir(), 'sp-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ALLOWED: AllowedType[] = [
  { ext: 'pdf', mime: 'application/pdf', label: 'PDF', maxBytes: 1000, inline: true },
  { ext: 'vtt', mime: 'text/vtt', label: 'WebVTT', maxBytes: 1000, inline: true },
];
const file = (name: string, content: string | Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const PDF = '%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n';

describe('platform files', () => {
  test('an upload is known by its bytes, and its name must agree', async () => {
    const pdf = file('a.pdf', PDF);
    const ok = await checkUpload(pdf, 'Report.PDF', PDF.length, false, ALLOWED);
    assert.equal(ok.ok && ok.type.ext, 'pdf');
    assert.deepEqual(await checkUpload(pdf, 'report.vtt', PDF.length, false, ALLOWED), {
      ok: false,
      reason: 'mismatch',
      detected: 'PDF',
    });
    const vtt = file('c.vtt', 'WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n');
    const captions = await checkUpload(vtt, 'c.vtt', 40, false, ALLOWED);
    assert.equal(captions.ok && captions.type.ext, 'vtt');
    const text = file('t.pdf', 'just some text, pretending');
    assert.equal((await checkUpload(text, 't.pdf', 26, false, ALLOWED)).ok, false);
    assert.deepEqual(await checkUpload(pdf, 'a.pdf', 0, false, ALLOWED), {
      ok: false,
      reason: 'empty',
    });
    assert.deepEqual(await checkUpload(pdf, 'a.pdf', 2000, false, ALLOWED), {
      ok: false,
      reason: 'tooLarge',
      max: 1000,
    });
    assert.deepEqual(await checkUpload(pdf, 'a.pdf', 10, true, ALLOWED), {
      ok: false,
      reason: 'tooLarge',
      max: 1000,
    });
  });

  test('names are made safe; sizes read as people say them', () => {
    assert.equal(cleanFilename('C:\\Users\\x\\"plan".pdf'), 'plan.pdf');
    assert.equal(cleanFilename('../../etc/passwd'), 'passwd');
    assert.equal(cleanFilename('\u0000'), 'file');
    assert.equal(humanSize(830 * 1024), '830 KB');
    assert.equal(humanSize(2.4 * 1024 * 1024), '2.4 MB');
  });

  test('a served file is never sniffed, never runs scripts; PDFs are not sandboxed', () => {
    const img = fileHeaders({ filename: 'photo é.png', mime: 'image/png', inline: true });
    assert.equal(img['content-type'], 'image/png');
    assert.equal(img['x-content-type-options'], 'nosniff');
    assert.equal(
      img['content-disposition'],
      `inline; filename="photo ?.png"; filename*=UTF-8''photo%20%C3%A9.png`,
    );
    assert.equal(img['content-security-policy'], "default-src 'none'; sandbox");
    const pdf = fileHeaders({ filename: 'a.pdf', mime: 'application/pdf', inline: false });
    assert.match(pdf['content-disposition']!, /^attachment;/);
    assert.equal(pdf['content-security-policy'], "default-src 'none'; frame-ancestors 'none'");
    const vtt = fileHeaders({ filename: 'c.vtt', mime: 'text/vtt', inline: true });
    assert.equal(vtt['content-type'], 'text/vtt; charset=utf-8');
  });
});
