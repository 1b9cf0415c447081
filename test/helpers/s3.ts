import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The few parts of @20minutes/s3rver (a local S3-compatible server, no types) used here. */
interface S3rverServer {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
type S3rverClass = new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
  allowMismatchedSignatures: boolean;
}) => S3rverServer;

export interface LocalS3 {
  /** A STORAGE_URL for a prefix of its own in the server's bucket (one per call). */
  url(prefix?: string): string;
  endpoint: string;
  bucket: string;
  close(): Promise<void>;
}

/**
 * A local S3-compatible server in this process, on a free loopback port, its
 * objects in a temporary folder removed by close(). Its credentials are the
 * fixed S3RVER:S3RVER; the bucket exists from the start.
 */
export async function startS3(): Promise<LocalS3> {
  const S3rver = createRequire(import.meta.url)('@20minutes/s3rver') as S3rverClass;
  const directory = mkdtempSync(join(tmpdir(), 'sp-s3-'));
  const bucket = 'sp-test';
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
    // s3rver signs a bucket's own address (a listing: GET /bucket/) without
    // its final slash, unlike S3 and the current SDK: every listing would be
    // refused. The access key must still be S3RVER.
    allowMismatchedSignatures: true,
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    url: (prefix = `t${randomBytes(4).toString('hex')}`) =>
      `s3://S3RVER:S3RVER@${bucket}/${prefix}?endpoint=${encodeURIComponent(endpoint)}&region=eu-west-2&path_style=true`,
    async close() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
