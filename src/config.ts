import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { parseStorageUrl, StorageUrlError } from './platform/storage-url.ts';

/**
 * Environment → typed, validated configuration.
 * Safe defaults locally; with NODE_ENV=production a missing required setting
 * stops start-up with one line naming it (see ConfigError).
 */

const optionalUrl = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === '' ? undefined : v))
  .pipe(z.url().optional());

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  BASE_URL: optionalUrl,
  DATA_DIR: z.string().min(1).default('./var'),
  DATABASE_URL: optionalUrl,
  SMTP_URL: optionalUrl,
  MAIL_FROM: z.string().min(3).default('Supporting Parents <no-reply@example.org>'),
  SESSION_SECRET: z.string().optional(),
  /** The secret SESSION_SECRET replaced, still accepted while it is rotated out (README). */
  SESSION_SECRET_PREVIOUS: z
    .string()
    .optional()
    .transform((v) => v?.trim() || undefined)
    .refine((v) => v === undefined || v.length >= 32, 'must be at least 32 characters'),
  GEOCODER_URL: z.string().default('https://api.postcodes.io'),
  TILE_URL: z.string().default('https://tile.openstreetmap.org/{z}/{x}/{y}.png'),
  TILE_ATTRIBUTION: z.string().default('© OpenStreetMap contributors'),
  REDIS_URL: optionalUrl,
  /** Stored files in an S3-compatible bucket (src/platform/storage-url.ts); unset: $DATA_DIR/uploads. */
  STORAGE_URL: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === '' ? undefined : v)),
  /** Reverse proxies whose X-Forwarded-For is believed: a number of hops, or CIDRs; unset: none. */
  TRUST_PROXY: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const parsed = parseTrustProxy(v);
      if (parsed === null) {
        ctx.addIssue({ code: 'custom', message: 'a number of hops, or comma-separated CIDRs' });
        return z.NEVER;
      }
      return parsed;
    }),
  /** Newsletter emails sent per minute, at most. */
  NEWSLETTER_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(600),
  /** The shared secret of the mail providers' webhooks (/hooks/mail/…); unset: they answer 404. */
  MAIL_WEBHOOK_SECRET: z.string().optional(),
  /** What this instance runs: `web` (HTTP requests), `worker` (the job queue and schedules), or both. */
  ROLES: z
    .string()
    .default('web,worker')
    .transform((v) => v.split(',').map((r) => r.trim().toLowerCase()))
    .pipe(
      z
        .array(z.enum(['web', 'worker']))
        .min(1)
        .transform((list) => ({ web: list.includes('web'), worker: list.includes('worker') })),
    ),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** /metrics only with `Authorization: Bearer <token>`; unset: open, but not served in production. */
  METRICS_TOKEN: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    z.string().min(16, 'at least 16 characters').optional(),
  ),
  /** /metrics on a listener of its own at this port (on HOST, or METRICS_HOST), and not on PORT. */
  METRICS_PORT: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    z.coerce.number().int().min(1).max(65535).optional(),
  ),
  METRICS_HOST: z
    .string()
    .optional()
    .transform((v) => v?.trim() || undefined),
  /** On SIGTERM: /readyz answers 503 for this long before the server stops taking requests. */
  DRAIN_SECONDS: z.coerce.number().min(0).max(300).default(0),
  /** Requests worked on at once; more wait their turn (src/platform/admission.ts). */
  MAX_CONCURRENT_REQUESTS: z.coerce.number().int().min(1).max(10_000).default(16),
  /** Requests that may wait their turn; one more is answered 503 with Retry-After. */
  REQUEST_QUEUE: z.coerce.number().int().min(0).max(100_000).default(256),
  /** The longest a request waits its turn before a 503 (milliseconds). */
  REQUEST_QUEUE_WAIT_MS: z.coerce.number().int().min(1).max(600_000).default(2000),
  /** A log line for every request; unset (or empty): on, except in production. */
  LOG_REQUESTS: z
    .enum(['true', 'false', ''])
    .optional()
    .transform((v) => (v === '' ? undefined : v)),
});

export type Env = z.infer<typeof envSchema>;

export type TrustProxy = false | number | string[];

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * TRUST_PROXY: unset, empty or `false` → trust no proxy (the client address
 * is the socket's); a whole number → that many hops; otherwise
 * comma-separated addresses, CIDRs or the names `loopback`, `linklocal`,
 * `uniquelocal`. Null when it is none of these.
 */
export function parseTrustProxy(raw: string | undefined): TrustProxy | null {
  const v = raw?.trim() ?? '';
  if (v === '' || v === 'false' || v === '0') return false;
  if (/^\d+$/.test(v)) return Math.min(Number(v), 100);
  const parts = v.split(',').map((p) => p.trim());
  const valid = parts.every((p) => {
    if (PROXY_NAMES.has(p)) return true;
    const [addr, bits, extra] = p.split('/');
    const family = isIP(addr ?? '');
    if (!family || extra !== undefined) return false;
    if (bits === undefined) return true;
    const n = /^\d+$/.test(bits) ? Number(bits) : -1;
    return n >= 0 && n <= (family === 4 ? 32 : 128);
  });
  return valid ? parts : null;
}

export interface Config {
  env: Env['NODE_ENV'];
  production: boolean;
  port: number;
  host: string;
  baseUrl: string;
  dataDir: string;
  databaseUrl: string | undefined;
  smtpUrl: string | undefined;
  mailFrom: string;
  sessionSecret: string;
  /** SESSION_SECRET_PREVIOUS: checked after the current one (src/platform/signing.ts). */
  previousSessionSecret: string | undefined;
  geocoderUrl: string;
  tileUrl: string;
  tileAttribution: string;
  redisUrl: string | undefined;
  /** s3://… for an S3-compatible bucket; unset: files on disk under dataDir (src/platform/storage.ts). */
  storageUrl: string | undefined;
  /** Fastify's trustProxy: false (the default), a number of hops, or addresses/CIDRs. */
  trustProxy: TrustProxy;
  newsletterPerMinute: number;
  mailWebhookSecret: string | undefined;
  logLevel: Env['LOG_LEVEL'];
  /** Log every request (errors and 5xx are logged either way). */
  logRequests: boolean;
  /** /metrics' bearer token (src/platform/health.ts). */
  metricsToken: string | undefined;
  /** /metrics on a listener of its own (src/main.ts), instead of on `port`. */
  metricsPort: number | undefined;
  metricsHost: string;
  /** Seconds /readyz says 503 on SIGTERM before the server closes (src/main.ts). */
  drainSeconds: number;
  /** Admission: requests at once, requests waiting, longest wait (src/platform/admission.ts). */
  admission: { concurrency: number; queue: number; maxWaitMs: number };
  /**
   * ROLES: `web` serves pages (without it, only /healthz, /readyz and
   * /metrics answer); `worker` runs the job queue and the schedules.
   */
  roles: { web: boolean; worker: boolean };
  /** Run the job worker in this process: the worker role (tests turn it off to drive jobs by hand). */
  runJobs: boolean;
}

export class ConfigError extends Error {}

/** Settings that must be given explicitly when NODE_ENV=production. */
const REQUIRED_IN_PRODUCTION = ['SESSION_SECRET', 'BASE_URL'] as const;

/**
 * `NAME_FILE=/run/secrets/name` for any setting NAME: its value is read from
 * that file (container secrets), without the file's final line break. Giving
 * both NAME and NAME_FILE, or a file that cannot be read, stops start-up;
 * an empty file leaves the setting unset.
 */
export function withSecretFiles(
  source: Record<string, string | undefined>,
): Record<string, string | undefined> {
  const names = new Set(Object.keys(envSchema.shape));
  const out = { ...source };
  for (const [key, path] of Object.entries(source)) {
    if (!key.endsWith('_FILE') || !path?.trim()) continue;
    const name = key.slice(0, -'_FILE'.length);
    if (!names.has(name)) continue;
    if (source[name]?.trim()) throw new ConfigError(`Give ${name} or ${key}, not both`);
    let value: string;
    try {
      value = readFileSync(path.trim(), 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new ConfigError(
        `${key}: cannot read ${path.trim()} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    // An empty file leaves the setting unset (its default), as an empty value does.
    if (value.trim() === '') delete out[name];
    else out[name] = value;
    delete out[key];
  }
  return out;
}

export function loadConfig(
  given: Record<string, string | undefined> = process.env,
  overrides: Partial<Config> = {},
): Config {
  const source = withSecretFiles(given);
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const names = [...new Set(parsed.error.issues.map((i) => String(i.path[0])))];
    throw new ConfigError(`Invalid setting${names.length > 1 ? 's' : ''}: ${names.join(', ')}`);
  }
  const env = parsed.data;
  const production = env.NODE_ENV === 'production';
  if (production) {
    const missing = REQUIRED_IN_PRODUCTION.filter((k) => !source[k]?.trim());
    if (missing.length > 0) {
      throw new ConfigError(
        `Missing required setting${missing.length > 1 ? 's' : ''} for production: ${missing.join(', ')}`,
      );
    }
    if ((source.SESSION_SECRET ?? '').length < 32) {
      throw new ConfigError('SESSION_SECRET must be at least 32 characters in production');
    }
  }
  if (env.STORAGE_URL) {
    try {
      parseStorageUrl(env.STORAGE_URL);
    } catch (err) {
      if (err instanceof StorageUrlError) throw new ConfigError(err.message);
      throw err;
    }
  }
  const dataDir = resolve(env.DATA_DIR);
  const sessionSecret = env.SESSION_SECRET ?? overrides.sessionSecret ?? generatedSecret(dataDir);
  return {
    env: env.NODE_ENV,
    production,
    port: env.PORT,
    host: env.HOST,
    baseUrl: (env.BASE_URL ?? `http://localhost:${env.PORT}`).replace(/\/$/, ''),
    dataDir,
    databaseUrl: env.DATABASE_URL,
    smtpUrl: env.SMTP_URL,
    mailFrom: env.MAIL_FROM,
    sessionSecret,
    previousSessionSecret: env.SESSION_SECRET_PREVIOUS,
    geocoderUrl: env.GEOCODER_URL,
    tileUrl: env.TILE_URL,
    tileAttribution: env.TILE_ATTRIBUTION,
    redisUrl: env.REDIS_URL,
    storageUrl: env.STORAGE_URL,
    trustProxy: env.TRUST_PROXY,
    newsletterPerMinute: env.NEWSLETTER_PER_MINUTE,
    mailWebhookSecret: env.MAIL_WEBHOOK_SECRET?.trim() || undefined,
    logLevel: env.LOG_LEVEL,
    logRequests: env.LOG_REQUESTS === undefined ? !production : env.LOG_REQUESTS === 'true',
    metricsToken: env.METRICS_TOKEN,
    metricsPort: env.METRICS_PORT,
    metricsHost: env.METRICS_HOST ?? env.HOST,
    drainSeconds: env.DRAIN_SECONDS,
    admission: {
      concurrency: env.MAX_CONCURRENT_REQUESTS,
      queue: env.REQUEST_QUEUE,
      maxWaitMs: env.REQUEST_QUEUE_WAIT_MS,
    },
    roles: env.ROLES,
    runJobs: env.ROLES.worker,
    ...overrides,
  };
}

/** A secret generated once into $DATA_DIR, so local sessions survive restarts. */
function generatedSecret(dataDir: string): string {
  const file = join(dataDir, 'session-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600, flag: 'w' });
  return secret;
}
