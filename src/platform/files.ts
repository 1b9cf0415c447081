import { open } from 'node:fs/promises';
import { create as contentDisposition } from 'content-disposition';

/**
 * Uploaded files and sending them back, for every feature that takes files:
 * what a file is, decided from its bytes, never its name (file-type reads the
 * signature; WebVTT, plain text, is recognised by its required first line),
 * and the name's extension must agree; names made safe; sizes for people;
 * and the headers that keep a served file from ever acting as a page of ours.
 * Each feature passes its own list of allowed types.
 */

/** A kind of file a feature accepts. */
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
 * Check an uploaded file on disk against the caller's allowed types. A file
 * cut short at the parser's limit is too large for the largest allowed kind.
 */
export async function checkUpload(
  path: string,
  filename: string,
  size: number,
  truncated: boolean,
  allowed: readonly AllowedType[],
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

/**
 * The headers that send a stored file back: its type (never sniffed), its
 * name, shown in the browser (`inline`) or downloaded. A file is never a page
 * of ours: no scripts, no frames; a PDF keeps a no-scripts policy without
 * `sandbox`, as browsers' PDF viewers refuse to run sandboxed.
 */
export function fileHeaders(file: {
  filename: string;
  mime: string;
  inline: boolean;
}): Record<string, string> {
  return {
    'content-type': file.mime === 'text/vtt' ? 'text/vtt; charset=utf-8' : file.mime,
    'content-disposition': contentDisposition(file.filename, {
      type: file.inline ? 'inline' : 'attachment',
    }),
    'x-content-type-options': 'nosniff',
    'content-security-policy':
      file.mime === 'application/pdf'
        ? "default-src 'none'; frame-ancestors 'none'"
        : "default-src 'none'; sandbox",
  };
}
