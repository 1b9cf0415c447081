import fp from 'fastify-plugin';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * /healthz (the process answers), /readyz (the database answers: 503 while it
 * does not) and /metrics (Prometheus text: Node's own metrics and request
 * durations by route pattern, never by raw URL).
 */
export const healthPlugin = fp<{ ping: () => Promise<boolean> }>(
  async (app, opts) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route pattern',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
    app.addHook('onResponse', async (req, reply) => {
      duration.observe(
        {
          method: req.method,
          route: req.routeOptions.url ?? 'unmatched',
          status_code: reply.statusCode,
        },
        reply.elapsedTime / 1000,
      );
    });

    const plain = {
      config: { access: 'public' as const, a11y: false as const, admission: false as const },
    };
    app.get('/healthz', plain, async (_req, reply) => {
      reply.header('cache-control', 'no-store');
      return { status: 'ok' };
    });
    app.get('/readyz', plain, async (_req, reply) => {
      reply.header('cache-control', 'no-store');
      const ok = await Promise.race([
        opts.ping(),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000).unref()),
      ]);
      reply.code(ok ? 200 : 503);
      return { status: ok ? 'ready' : 'unavailable', database: ok ? 'up' : 'down' };
    });
    app.get('/metrics', plain, async (_req, reply) => {
      reply.header('content-type', registry.contentType).header('cache-control', 'no-store');
      return registry.metrics();
    });
  },
  { name: 'health' },
);
