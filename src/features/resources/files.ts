import { open } from 'node:fs/promises';

/**
 * What may be uploaded to the repository, decided from the bytes, never the
 * name: file-type reads the signature; WebVTT (plain text) is recognised by
 * its required first line. The name's extension must agree with the bytes.
 */
export interface AllowedType {
  ext: string;
  mime: string;
  /** For messages: "a PDF", "an MP4 video". */
  label: string;
  maxBytes: number;
  /** Shown in the browser (PDF, media, captions) or downloaded. */
  inline: boolean;
  /** Name endings that agree with this type, when more than `ext` does ("jpg" and "jpeg"). */
  exts?: readonly string[];
}

const MB = 1024 * 1024;
export const ALLOWED: AllowedType[] = [
  { ext: 'pdf', mime: 'application/pdf', label: 'PDF', maxBytes: 25 * MB, inline: true },
  {
    ext: 'pptx',
    mime: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    label: 'PowerPoint',
    maxBytes: 50 * MB,
    inline: false,
  },
  {
    ext: 'docx',
    mime: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    label: 'Word',
    maxBytes: 25 * MB,
    inline: false,
  },
  {
    ext: 'odp',
    mime: 'application/vnd.oasis.opendocument.presentation',
    label: 'OpenDocument presentation',
    maxBytes: 50 * MB,
    inline: false,
  },
  {
    ext: 'odt',
    mime: 'application/vnd.oasis.opendocument.text',
    label: 'OpenDocument text',
    maxBytes: 25 * MB,
    inline: false,
  },
  { ext: 'mp4', mime: 'video/mp4', label: 'MP4', maxBytes: 300 * MB, inline: true },
  { ext: 'mp3', mime: 'audio/mpeg', label: 'MP3', maxBytes: 100 * MB, inline: true },
  { ext: 'vtt', mime: 'text/vtt', label: 'WebVTT', maxBytes: 1 * MB, inline: true },
];
/** The largest upload of any kind: the multipart parser's own limit. */
export const MAX_UPLOAD_BYTES = Math.max(...ALLOWED.map((a) => a.maxBytes));

export type CheckResult =
  | { ok: true; type: AllowedType }
  | {
      ok: false;
      reason: 'type' | 'mismatch' | 'tooLarge' | 'empty';
      detected?: string;
      max?: number;
    };

const extOf = (name: string): string => {
  const m = /\.([a-z0-9]{1,8})$/i.exec(name);
  return m ? m[1]!.toLowerCase() : '';
};

async function isWebVtt(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(16);
    const { bytesRead } = await fh.read(buf, 0, 16, 0);
    const head = buf
      .subarray(0, bytesRead)
      .toString('utf8')
      .replace(/^\uFEFF/, '');
    return /^WEBVTT(\s|$)/.test(head);
  } finally {
    await fh.close();
  }
}

/**
 * Check an uploaded file on disk against the allowed types (the repository's
 * by default; another feature passes its own list). A file cut short at the
 * parser's limit is too large for the largest allowed kind.
 */
export async function checkUpload(
  path: string,
  filename: string,
  size: number,
  truncated: boolean,
  allowed: readonly AllowedType[] = ALLOWED,
): Promise<CheckResult> {
  const largest = Math.max(...allowed.map((a) => a.maxBytes));
  if (truncated) return { ok: false, reason: 'tooLarge', max: largest };
  if (size === 0) return { ok: false, reason: 'empty' };
  const { fileTypeFromFile } = await import('file-type'); // loaded with the first upload
  const detected = await fileTypeFromFile(path);
  let type: AllowedType | undefined;
  if (detected) type = allowed.find((a) => a.ext === detected.ext || a.mime === detected.mime);
  else if (allowed.some((a) => a.ext === 'vtt') && (await isWebVtt(path)))
    type = allowed.find((a) => a.ext === 'vtt');
  if (!type) return { ok: false, reason: 'type', ...(detected ? { detected: detected.ext } : {}) };
  if (!(type.exts ?? [type.ext]).includes(extOf(filename)))
    return { ok: false, reason: 'mismatch', detected: type.label };
  if (size > type.maxBytes) return { ok: false, reason: 'tooLarge', max: type.maxBytes };
  return { ok: true, type };
}

/** A file name safe to show and to send back: no path, no control characters. */
export function cleanFilename(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? 'file';
  const cleaned = base
    .replace(/\p{Cc}/gu, '')
    .replace(/["<>|?*:]/g, '')
    .trim()
    .slice(-120);
  return cleaned || 'file';
}

/** "2.4 MB", "830 KB". */
export function humanSize(bytes: number): string {
  if (bytes >= MB) return `${(bytes / MB).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}
