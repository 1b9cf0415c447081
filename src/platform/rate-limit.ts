import { createHmac } from 'node:crypto';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Translate } from './i18n/index.ts';
import type { Redis } from 'ioredis';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';

/**
 * Rate limits that tell a crowd from an attack (rate-limiter-flexible).
 *
 * A limit is keyed on what is abused: the account for sign-in and two-step
 * codes, the email address for sign-ups and the emails the site sends, the
 * email address and the event for bookings. Each has one or more windows
 * (5 a minute, 10 in 15 minutes, …); an attempt is counted in the shortest
 * window first and in a longer one only if the shorter let it through, so
 * refused attempts do not lock the account for longer, and the windows make
 * the back-off grow (a minute, then a quarter of an hour, an hour, a day).
 * Counting is atomic (Redis INCR, or one process's memory), and happens before
 * the expensive check, so parallel guesses cannot pass together.
 *
 * Network addresses get only a generous ceiling per route (`config.rateLimit`),
 * since many people share one (NHS and council networks).
 *
 * With REDIS_URL the counters are shared by every instance; otherwise they are
 * in this process's memory. Keys are HMACs of what they count (never an email
 * address in Redis or in a log). If Redis stops answering, each instance
 * counts in its own memory until it is back.
 */

/** A window: at most `points` in `seconds`. */
export interface Window {
  points: number;
  seconds: number;
}

/** Thrown when a limit is reached: a 429 with a Retry-After, as a page in the site's style. */
export class TooMany extends Error {
  statusCode = 429;
  constructor(
    public retryAfterSeconds: number,
    public limit = 'request',
  ) {
    super('Too many attempts');
  }
}

export type Take = { ok: true } | { ok: false; retryAfterSeconds: number };

export interface Limit {
  readonly name: string;
  readonly windows: readonly Window[];
  /** Counts one attempt for `key`; says whether it may go ahead, and if not, after how long. */
  take(key: string): Promise<Take>;
  /** Counts one attempt; throws TooMany when over. */
  consume(key: string): Promise<void>;
  /** Forgets `key`'s attempts (a successful sign-in). */
  reset(key: string): Promise<void>;
}

export interface Limits {
  /** A named limit (names are unique; one definition per name). */
  define(name: string, windows: readonly Window[]): Limit;
  /** Whether the counters are shared through Redis. */
  readonly shared: boolean;
  close(): Promise<void>;
}

export interface LimitsOptions {
  redisUrl?: string | undefined;
  /** Keys are HMAC'd with this (the session secret): the same on every instance. */
  secret: string;
  /** Redis key prefix (tests use their own). */
  prefix?: string;
  log?: FastifyBaseLogger;
}

/** How long to wait, in words: "5 minutes", up to an hour and a half; then "3 hours". */
export function waitText(t: Translate, seconds: number): string {
  const minutes = Math.max(1, Math.ceil(seconds / 60));
  return minutes <= 90
    ? t('common.wait.minutes', { count: minutes })
    : t('common.wait.hours', { count: Math.ceil(minutes / 60) });
}

/** The normal form of an email address as a key: trimmed, lower case. */
export const emailKey = (email: string): string => email.trim().toLowerCase();

export function createLimits(opts: LimitsOptions): Limits {
  const prefix = opts.prefix ?? 'sp-rl';
  let redis: Redis | undefined;
  const redisClient = async (): Promise<Redis | undefined> => {
    if (!opts.redisUrl) return undefined;
    if (!redis) {
      const { Redis } = await import('ioredis');
      redis = new Redis(opts.redisUrl, {
        connectTimeout: 2000,
        // A command waits for the connection (at most connectTimeout); when Redis
        // cannot be reached, this instance's memory answers instead.
        maxRetriesPerRequest: 1,
      });
      redis.on('error', (err) => opts.log?.warn({ err: err.message }, 'rate-limit store'));
    }
    return redis;
  };
  const hmacKey = (name: string, key: string) =>
    createHmac('sha256', opts.secret)
      .update(`rate-limit\u0000${name}\u0000${key}`)
      .digest('base64url')
      .slice(0, 32);
  const names = new Set<string>();
  const clientReady = redisClient();

  return {
    shared: Boolean(opts.redisUrl),
    define(name, windows) {
      if (names.has(name)) throw new Error(`rate limit ${name} is defined twice`);
      names.add(name);
      const sorted = [...windows].sort((a, b) => a.seconds - b.seconds);
      // Made once, on first use (every caller waits for the same promise).
      let limiters: Promise<RateLimiterAbstract[]> | undefined;
      const make = async (): Promise<RateLimiterAbstract[]> => {
        const client = await clientReady;
        return sorted.map((w) => {
          const keyPrefix = `${prefix}:${name}:${w.seconds}`;
          const memory = new RateLimiterMemory({
            keyPrefix,
            points: w.points,
            duration: w.seconds,
          });
          return client
            ? new RateLimiterRedis({
                storeClient: client,
                keyPrefix,
                points: w.points,
                duration: w.seconds,
                insuranceLimiter: memory,
              })
            : memory;
        });
      };
      const build = () => (limiters ??= make());
      const limit: Limit = {
        name,
        windows: sorted,
        async take(key) {
          const k = hmacKey(name, key);
          for (const limiter of await build()) {
            try {
              await limiter.consume(k);
            } catch (res) {
              if (res instanceof RateLimiterRes)
                return {
                  ok: false,
                  retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
                };
              throw res;
            }
          }
          return { ok: true };
        },
        async consume(key) {
          const r = await limit.take(key);
          if (!r.ok) throw new TooMany(r.retryAfterSeconds, name);
        },
        async reset(key) {
          const k = hmacKey(name, key);
          await Promise.all((await build()).map((l) => l.delete(k)));
        },
      };
      return limit;
    },
    async close() {
      await clientReady;
      if (redis) {
        redis.disconnect();
        redis = undefined;
      }
    },
  };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A ceiling per network address for this route: `max` requests in `timeWindow` ms. */
    rateLimit?: { max: number; timeWindow: number };
  }
}

/**
 * Per-route ceilings per network address (`config: { rateLimit: { max,
 * timeWindow } }`), counted in `limits`. `req.ip` is the client's address as
 * TRUST_PROXY allows it to be read.
 */
export const rateLimitPlugin = fp<{ limits: Limits }>(
  async (app, opts) => {
    const perRoute = new Map<string, Limit>();
    const limitFor = (req: FastifyRequest, max: number, timeWindow: number): Limit => {
      const name = `ip:${req.method}:${req.routeOptions.url ?? ''}`;
      let l = perRoute.get(name);
      if (!l) {
        l = opts.limits.define(name, [{ points: max, seconds: Math.ceil(timeWindow / 1000) }]);
        perRoute.set(name, l);
      }
      return l;
    };
    // Callback style: the many routes with no limit cost no promise.
    app.addHook('onRequest', (req, _reply, next) => {
      const rl = req.routeOptions.config?.rateLimit;
      if (!rl) return next();
      limitFor(req, rl.max, rl.timeWindow)
        .consume(req.ip)
        .then(() => next(), next);
    });
  },
  { name: 'rate-limit' },
);
