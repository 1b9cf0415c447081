import { PassThrough, type Readable, Transform } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { checkKey, isValidKey, type Storage } from './storage-contract.ts';
import { describeStorage, type S3Location } from './storage-url.ts';

/**
 * Stored files in an S3-compatible bucket (STORAGE_URL), through the official
 * client. The same behaviour as the disk (storage.ts): a streamed upload goes
 * up in parts (lib-storage), so a failed one leaves nothing under its key
 * (an unfinished multipart upload is aborted); a read is a stream, of a byte
 * range when asked.
 */
export function createS3Storage(loc: S3Location): Storage {
  const client = new S3Client({
    region: loc.region,
    ...(loc.endpoint ? { endpoint: loc.endpoint } : {}),
    forcePathStyle: loc.pathStyle,
    ...(loc.credentials ? { credentials: loc.credentials } : {}),
    // S3-compatible services do not all take the newer default checksums
    // (CRC32 trailers on every upload): send and check them only where S3
    // requires them. AWS itself computes and checks its own either way.
    ...(loc.endpoint
      ? {
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
  });
  const base = loc.prefix ? `${loc.prefix}/` : '';
  const objectKey = (key: string) => base + checkKey(key);
  const Bucket = loc.bucket;

  const notFound = (err: unknown) =>
    err instanceof S3ServiceException &&
    (err.name === 'NotFound' || err.name === 'NoSuchKey' || err.$metadata.httpStatusCode === 404);

  const storage: Storage = {
    kind: 's3',
    description: describeStorage(loc),
    async put(key, data) {
      const Key = objectKey(key);
      let size = 0;
      const counted = Buffer.isBuffer(data)
        ? data
        : data.pipe(
            new Transform({
              transform(chunk: Buffer, _enc, cb) {
                size += chunk.length;
                cb(null, chunk);
              },
            }),
          );
      if (!Buffer.isBuffer(data) && !Buffer.isBuffer(counted))
        data.once('error', (err) => counted.destroy(err));
      const upload = new Upload({
        client,
        params: { Bucket, Key, Body: counted },
        leavePartsOnError: false,
      });
      await upload.done();
      return { size: Buffer.isBuffer(data) ? data.length : size };
    },
    read(key, range) {
      const Key = objectKey(key);
      const out = new PassThrough();
      client
        .send(
          new GetObjectCommand({
            Bucket,
            Key,
            ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
          }),
        )
        .then(
          (res) => {
            const body = res.Body as Readable | undefined;
            if (!body) return out.destroy(new Error(`No body for ${key}`));
            body.on('error', (err) => out.destroy(err));
            out.on('close', () => body.destroy());
            body.pipe(out);
          },
          (err: unknown) => out.destroy(err as Error),
        );
      return out;
    },
    async stat(key) {
      if (!isValidKey(key)) return undefined;
      try {
        const res = await client.send(new HeadObjectCommand({ Bucket, Key: objectKey(key) }));
        return { size: res.ContentLength ?? 0, modified: res.LastModified ?? new Date(0) };
      } catch (err) {
        if (notFound(err)) return undefined;
        throw err;
      }
    },
    async exists(key) {
      return (await storage.stat(key)) !== undefined;
    },
    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket, Key: objectKey(key) }));
    },
    async *list(prefix = '') {
      let ContinuationToken: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket, Prefix: base + prefix, ContinuationToken }),
        );
        for (const o of page.Contents ?? []) {
          const key = o.Key?.slice(base.length);
          if (key && isValidKey(key)) yield key;
        }
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
    },
    async close() {
      client.destroy();
    },
  };
  return storage;
}
