/**
 * STORAGE_URL: where stored files live. Unset → local disk under
 * $DATA_DIR/uploads; otherwise an S3-compatible bucket:
 *
 *   s3://[KEY:SECRET@]bucket[/prefix]?region=…&endpoint=…&path_style=true
 *
 * Without KEY:SECRET the S3 client's own chain is used (AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY, a profile, or an instance role). KEY and SECRET are
 * percent-encoded when they hold reserved characters. This module only
 * parses (config.ts checks the setting with it at start-up); the driver is in
 * s3-storage.ts.
 */

export interface S3Location {
  bucket: string;
  /** Keys are stored under this prefix (no slash at either end); '' for the bucket's root. */
  prefix: string;
  region: string;
  /** An S3-compatible service's address (MinIO, Ceph, R2…); unset: AWS. */
  endpoint: string | undefined;
  /** Address the bucket in the path (http://host/bucket/key), as most S3-compatible services need. */
  pathStyle: boolean;
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
}

export class StorageUrlError extends Error {}

/** Bucket names as S3 allows them (3–63 lower-case letters, digits, dots and hyphens). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;
const KNOWN = new Set(['region', 'endpoint', 'path_style']);

export function parseStorageUrl(text: string): S3Location {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new StorageUrlError('STORAGE_URL is not a URL (s3://bucket?region=…)');
  }
  if (url.protocol !== 's3:') throw new StorageUrlError('STORAGE_URL must start with s3://');
  const bucket = url.hostname;
  if (!BUCKET.test(bucket)) throw new StorageUrlError('STORAGE_URL: the bucket name is not valid');
  if (url.port)
    throw new StorageUrlError('STORAGE_URL: give the port in endpoint=, not after the bucket');
  const prefix = decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, '');
  if (prefix && (!PREFIX.test(prefix) || prefix.split('/').some((p) => p === '.' || p === '..')))
    throw new StorageUrlError('STORAGE_URL: the prefix after the bucket is not valid');
  for (const name of url.searchParams.keys())
    if (!KNOWN.has(name))
      throw new StorageUrlError(
        `STORAGE_URL: unknown option ${name} (region, endpoint, path_style)`,
      );
  const endpoint = url.searchParams.get('endpoint')?.trim() || undefined;
  if (endpoint) {
    let e: URL;
    try {
      e = new URL(endpoint);
    } catch {
      throw new StorageUrlError('STORAGE_URL: endpoint must be a URL (https://host:port)');
    }
    if (e.protocol !== 'http:' && e.protocol !== 'https:')
      throw new StorageUrlError('STORAGE_URL: endpoint must be an http:// or https:// URL');
  }
  const pathStyleText = url.searchParams.get('path_style');
  if (pathStyleText !== null && !['true', 'false', '1', '0'].includes(pathStyleText))
    throw new StorageUrlError('STORAGE_URL: path_style must be true or false');
  const region = url.searchParams.get('region')?.trim() || (endpoint ? 'us-east-1' : undefined);
  if (!region)
    throw new StorageUrlError(
      'STORAGE_URL: give region= (or endpoint= for an S3-compatible service)',
    );
  if (!/^[a-z0-9-]{1,40}$/.test(region))
    throw new StorageUrlError('STORAGE_URL: region is not valid');
  const user = url.username ? decodeURIComponent(url.username) : '';
  const secret = url.password ? decodeURIComponent(url.password) : '';
  if (Boolean(user) !== Boolean(secret))
    throw new StorageUrlError(
      'STORAGE_URL: give both the key and the secret (KEY:SECRET@), or neither',
    );
  return {
    bucket,
    prefix,
    region,
    endpoint,
    pathStyle: pathStyleText === 'true' || pathStyleText === '1',
    credentials: user ? { accessKeyId: user, secretAccessKey: secret } : undefined,
  };
}

/** The URL without its secret, for logs and messages. */
export function describeStorage(loc: S3Location): string {
  return `s3://${loc.bucket}${loc.prefix ? `/${loc.prefix}` : ''}${loc.endpoint ? ` at ${loc.endpoint}` : ''}`;
}
