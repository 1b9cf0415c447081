import { timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** A number /metrics reads when it is scraped (queue depth, requests waiting …). */
export interface MetricGauge {
  name: string;
  help: string;
  read(): number | Promise<number>;
}

export interface HealthOptions {
  ping: () => Promise<boolean>;
  /**
   * /metrics: with a token, only for `Authorization: Bearer <token>`; without
   * one it is open, except in production, where it is not served at all.
   */
  metricsToken?: string | undefined;
  production?: boolean;
  gauges?: MetricGauge[];
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * /healthz (the process answers), /readyz (the database answers: 503 while it
 * does not, and while the server is shutting down) and /metrics (Prometheus
 * text: Node's own metrics, request durations by route pattern, never by raw
 * URL, and the gauges the app passes in), behind METRICS_TOKEN.
 */
export const healthPlugin = fp<HealthOptions>(
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
    for (const g of opts.gauges ?? []) {
      new Gauge({
        name: g.name,
        help: g.help,
        registers: [registry],
        async collect() {
          this.set(await g.read());
        },
      });
    }
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
    app.get('/metrics', plain, async (req, reply) => {
      reply.header('cache-control', 'no-store');
      if (opts.metricsToken) {
        const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
        if (!sameSecret(given, opts.metricsToken))
          return reply
            .code(401)
            .header('www-authenticate', 'Bearer')
            .send({ error: 'token needed' });
      } else if (opts.production) {
        return reply.code(404).send({ error: 'not found' });
      }
      reply.header('content-type', registry.contentType);
      return registry.metrics();
    });
  },
  { name: 'health' },
);
