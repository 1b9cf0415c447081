import { readFile } from 'node:fs/promises';
import { type AllowedType, checkUpload, cleanFilename } from '../../platform/files.ts';
import type { Upload } from '../../platform/uploads.ts';

/**
 * What may be attached to a community post: JPEG, PNG, GIF and WebP images up
 * to 5 MB and PDFs up to 10 MB, at most three a post. The type is decided from
 * the bytes (`checkUpload` in platform/files.ts, as the resources repository's are) and the
 * name's ending must agree. SVG is never accepted (it can carry script): it is
 * not in the list, and file-type does not take text for an image.
 */

const MB = 1024 * 1024;
export const ATTACHMENT_TYPES: readonly AllowedType[] = [
  {
    ext: 'jpg',
    exts: ['jpg', 'jpeg'],
    mime: 'image/jpeg',
    label: 'JPEG',
    maxBytes: 5 * MB,
    inline: true,
  },
  { ext: 'png', mime: 'image/png', label: 'PNG', maxBytes: 5 * MB, inline: true },
  { ext: 'gif', mime: 'image/gif', label: 'GIF', maxBytes: 5 * MB, inline: true },
  { ext: 'webp', mime: 'image/webp', label: 'WebP', maxBytes: 5 * MB, inline: true },
  { ext: 'pdf', mime: 'application/pdf', label: 'PDF', maxBytes: 10 * MB, inline: true },
];
export const MAX_ATTACHMENTS = 3;
/** The multipart parser's own limit on one file: the largest kind. */
export const MAX_ATTACHMENT_BYTES = Math.max(...ATTACHMENT_TYPES.map((a) => a.maxBytes));
export const ALT_MAX = 500;
/** The form field that carries files, and the one for the images' text alternative. */
export const ATTACHMENT_FIELD = 'attachment';

export const isImage = (mime: string) => mime.startsWith('image/');

/** A file that passed the checks, waiting on disk to be stored with its post. */
export interface CheckedAttachment {
  /** What will be stored: the file without its metadata (see withoutMetadata). */
  content: Buffer;
  filename: string;
  mime: string;
  ext: string;
  alt: string | null;
}

export interface AttachmentProblem {
  field: string;
  key: string;
  vars?: Record<string, string | number>;
}

/**
 * Check a post's uploads and the images' text alternative. `alt` is one text
 * for every image, or (sent more than once) one for each image in order.
 * Nothing is stored here.
 */
export async function checkAttachments(
  uploads: Upload[],
  alt: unknown,
): Promise<
  { ok: true; files: CheckedAttachment[] } | { ok: false; problems: AttachmentProblem[] }
> {
  const problems: AttachmentProblem[] = [];
  if (uploads.length > MAX_ATTACHMENTS)
    return {
      ok: false,
      problems: [
        {
          field: ATTACHMENT_FIELD,
          key: 'community.attachments.errors.tooMany',
          vars: { max: MAX_ATTACHMENTS },
        },
      ],
    };
  const alts = (Array.isArray(alt) ? alt : [alt]).map((a) =>
    typeof a === 'string' ? a.trim() : '',
  );
  const files: CheckedAttachment[] = [];
  let images = 0;
  for (const u of uploads) {
    const name = cleanFilename(u.filename);
    const r = await checkUpload(u.tmpPath, u.filename, u.size, u.truncated, ATTACHMENT_TYPES);
    if (!r.ok) {
      problems.push({
        field: ATTACHMENT_FIELD,
        key: `community.attachments.errors.${r.reason}`,
        vars: {
          name,
          detected: r.detected ?? '',
          max: r.max ? Math.round(r.max / MB) : 0,
        },
      });
      continue;
    }
    let text: string | null = null;
    if (isImage(r.type.mime)) {
      text = (alts.length > 1 ? alts[images] : alts[0]) ?? '';
      images += 1;
      if (!text)
        problems.push({
          field: 'alt',
          key: 'community.attachments.errors.altRequired',
          vars: { name },
        });
      else if (text.length > ALT_MAX)
        problems.push({
          field: 'alt',
          key: 'community.attachments.errors.altTooLong',
          vars: { max: ALT_MAX },
        });
    }
    const content = await withoutMetadata({
      tmpPath: u.tmpPath,
      mime: r.type.mime,
      ext: r.type.ext,
    });
    if (!content) {
      problems.push({
        field: ATTACHMENT_FIELD,
        key: 'community.attachments.errors.unreadable',
        vars: { name },
      });
      continue;
    }
    files.push({ filename: name, mime: r.type.mime, ext: r.type.ext, alt: text, content });
  }
  return problems.length ? { ok: false, problems } : { ok: true, files };
}

/**
 * The bytes to store, without what could identify the person who posted:
 * images are decoded and encoded again by sharp (libvips), which drops EXIF
 * (a phone photo's location, its camera's serial), XMP and text chunks and
 * turns the picture upright first; PDFs lose their author, creator, producer,
 * subject and keywords fields and their XMP metadata (pdf-lib). A file that
 * cannot be read this way (an encrypted or damaged PDF, a broken image) is
 * refused rather than stored with its metadata.
 */
export async function withoutMetadata(f: {
  tmpPath: string;
  mime: string;
  ext: string;
}): Promise<Buffer | undefined> {
  // sharp and pdf-lib load when the first attachment arrives, not when the server starts.
  if (isImage(f.mime)) {
    const { default: sharp } = await import('sharp');
    const animated = f.mime === 'image/gif' || f.mime === 'image/webp';
    const format = f.ext === 'jpg' ? 'jpeg' : (f.ext as 'png' | 'gif' | 'webp');
    try {
      return await sharp(f.tmpPath, { animated }).rotate().toFormat(format).toBuffer();
    } catch {
      return undefined; // not a picture libvips can read, whatever its first bytes say
    }
  }
  const { PDFDocument, PDFName } = await import('pdf-lib');
  try {
    const doc = await PDFDocument.load(await readFile(f.tmpPath), { updateMetadata: false });
    doc.setAuthor('');
    doc.setCreator('');
    doc.setProducer('');
    doc.setSubject('');
    doc.setKeywords([]);
    doc.catalog.delete(PDFName.of('Metadata'));
    return Buffer.from(await doc.save({ updateFieldAppearances: false }));
  } catch {
    return undefined;
  }
}
