import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import multipart, { type MultipartFile } from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * File uploads for a plugin scope: @fastify/multipart with form fields in
 * `req.body` (so CSRF reads `_csrf` as it does from any form) and files
 * streamed to temporary files under `$DATA_DIR/tmp/uploads`, never held in
 * memory. Only the named file fields are kept; any other file is read and
 * dropped. The temporary files are always removed when the response is sent.
 * What is allowed in a file (its type, its size) is for the caller to check,
 * from the bytes: see `files.ts` `checkUpload`.
 */

/** A file a request carried, on disk until the response is sent. */
export interface Upload {
  /** The form field it came in. */
  field: string;
  tmpPath: string;
  /** The name the browser gave (the user's: clean it before showing or storing). */
  filename: string;
  size: number;
  /** Cut short at the size limit (the file is then refused). */
  truncated: boolean;
}

export interface UploadOptions {
  dataDir: string;
  /** The form fields that may carry files; any other file part is ignored. */
  fields: readonly string[];
  limits: {
    /** The largest file of any allowed kind (a file cut short at this is `truncated`). */
    fileSize: number;
    /** At most this many files in a request. */
    files: number;
    fields?: number;
    parts?: number;
    fieldSize?: number;
  };
}

const uploadsKey = Symbol('uploads');
type WithUploads = FastifyRequest & { [uploadsKey]?: Upload[] };

/**
 * Register multipart on `app` (a plugin scope: only its routes accept
 * multipart forms). Returns a function giving a request's uploads, with empty
 * file inputs (no file chosen) left out.
 */
export async function registerUploads(
  app: FastifyInstance,
  opts: UploadOptions,
): Promise<(req: FastifyRequest) => Upload[]> {
  const tmpDir = join(opts.dataDir, 'tmp', 'uploads');
  await mkdir(tmpDir, { recursive: true });
  const fields = new Set(opts.fields);
  await app.register(multipart, {
    attachFieldsToBody: 'keyValues',
    limits: {
      fields: 60,
      parts: 70,
      fieldSize: 100_000,
      ...opts.limits,
    },
    throwFileSizeLimit: false,
    async onFile(this: FastifyRequest, part: MultipartFile) {
      // Not a value for req.body: the file is on disk (or was not wanted).
      const drop = () => ((part as unknown as { value: unknown }).value = undefined);
      if (!fields.has(part.fieldname) || !part.filename) {
        part.file.resume();
        await new Promise((resolve) => part.file.on('end', resolve));
        drop();
        return;
      }
      const tmpPath = join(tmpDir, randomUUID());
      // Recorded before writing, so the clean-up finds it even if writing fails.
      const upload: Upload = {
        field: part.fieldname,
        tmpPath,
        filename: part.filename,
        size: 0,
        truncated: false,
      };
      ((this as WithUploads)[uploadsKey] ??= []).push(upload);
      await pipeline(
        part.file,
        new Transform({
          transform(chunk: Buffer, _enc, cb) {
            upload.size += chunk.length;
            cb(null, chunk);
          },
        }),
        createWriteStream(tmpPath, { mode: 0o600 }),
      );
      upload.truncated = part.file.truncated;
      drop();
    },
  });
  app.addHook('onResponse', async (req) => {
    for (const u of (req as WithUploads)[uploadsKey] ?? []) await rm(u.tmpPath, { force: true });
  });
  return (req) => ((req as WithUploads)[uploadsKey] ?? []).filter((u) => u.size > 0 || u.truncated);
}
