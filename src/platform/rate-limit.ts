import rateLimit from '@fastify/rate-limit';
import fp from 'fastify-plugin';

/**
 * Rate limits for sign-in and public forms (@fastify/rate-limit). Off by
 * default; a route opts in with `config: { rateLimit: { max, timeWindow } }`.
 * With REDIS_URL the counters are shared by every instance.
 */
export const rateLimitPlugin = fp<{ redisUrl: string | undefined }>(
  async (app, opts) => {
    // ioredis is loaded only when there is a Redis to talk to.
    const redis = opts.redisUrl
      ? new (await import('ioredis')).Redis(opts.redisUrl, {
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
