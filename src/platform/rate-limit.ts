import rateLimit from '@fastify/rate-limit';
import fp from 'fastify-plugin';
import { Redis } from 'ioredis';

/**
 * Rate limits for sign-in and public forms (@fastify/rate-limit). Off by
 * default; a route opts in with `config: { rateLimit: { max, timeWindow } }`.
 * With REDIS_URL the counters are shared by every instance.
 */
export const rateLimitPlugin = fp<{ redisUrl: string | undefined }>(
  async (app, opts) => {
    const redis = opts.redisUrl
      ? new Redis(opts.redisUrl, {
          connectTimeout: 2000,
          maxRetriesPerRequest: 1,
          lazyConnect: false,
        })
      : undefined;
    await app.register(rateLimit, {
      global: false,
      ...(redis ? { redis, nameSpace: 'sp-rl:' } : {}),
      errorResponseBuilder: (_req, context) => {
        const err = new Error('Too many requests') as Error & { statusCode: number };
        err.statusCode = context.statusCode;
        return err;
      },
    });
    if (redis) app.addHook('onClose', async () => void redis.disconnect());
  },
  { name: 'rate-limit' },
);
