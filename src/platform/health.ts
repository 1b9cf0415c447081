import { timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** A number /metrics reads when it is scraped (queue depth, requests waiting …). */
export interface MetricGauge {
  name: string;
  help: string;
  read(): number | Promise<number>;
  /** 'counter' for a number that only grows (its name ends in _total); default 'gauge'. */
  type?: 'gauge' | 'counter';
}

/**
 * `read`, shared by the callers that ask while it is under way: the gauges of
 * one scrape (collected at once) read one query's answer.
 */
export function sharedWhileRunning<T>(read: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  return () => {
    running ??= read().finally(() => {
      running = undefined;
    });
    return running;
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    health: {
      /** True from drain() (or the server's closing) on: /readyz answers 503. */
      readonly draining: boolean;
      /** Stop being ready (the proxy takes this instance out) while requests still get answers. */
      drain(): void;
      /** The Prometheus text (for a listener of its own on METRICS_PORT). */
      metrics(): Promise<{ contentType: string; body: string }>;
    };
  }
}

export interface HealthOptions {
  ping: () => Promise<boolean>;
  /**
   * /metrics: with a token, only for `Authorization: Bearer <token>`; without
   * one it is open, except in production, where it is not served at all.
   */
  metricsToken?: string | undefined;
  production?: boolean;
  /** /metrics is served on a port of its own (METRICS_PORT): none here. */
  metricsElsewhere?: boolean;
  /** An instance without the web role (ROLES=worker): every other path answers 404. */
  only?: boolean;
  gauges?: MetricGauge[];
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `Authorization: Bearer <token>` with this token (compared in constant time). */
function bearerMatches(header: string | undefined, token: string): boolean {
  return sameSecret(/^Bearer (.+)$/.exec(header ?? '')?.[1] ?? '', token);
}

/**
 * /healthz (the process answers), /readyz (the database answers: 503 while it
 * does not, and from drain() — on SIGTERM — until the server has closed) and
 * /metrics (Prometheus text: Node's own metrics, request durations by route
 * pattern, never by raw URL, and the gauges the app passes in), behind
 * METRICS_TOKEN, or on a port of its own (METRICS_PORT, src/main.ts).
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
      if (g.type === 'counter')
        new Counter({
          name: g.name,
          help: g.help,
          registers: [registry],
          async collect() {
            this.reset();
            this.inc(await g.read());
          },
        });
      else
        new Gauge({
          name: g.name,
          help: g.help,
          registers: [registry],
          async collect() {
            this.set(await g.read());
          },
        });
    }
    let draining = false;
    app.decorate('health', {
      get draining() {
        return draining;
      },
      drain() {
        draining = true;
      },
      async metrics() {
        return { contentType: registry.contentType, body: await registry.metrics() };
      },
    });
    app.addHook('preClose', async () => {
      draining = true;
    });
    if (opts.only) {
      const own = new Set(['/healthz', '/readyz', '/metrics']);
      app.addHook('onRequest', async (req, reply) => {
        if (!own.has(req.url.split('?')[0]!))
          return reply.code(404).header('cache-control', 'no-store').send({ error: 'not found' });
      });
    }
    app.addHook('onResponse', (req, reply, next) => {
      duration.observe(
        {
          method: req.method,
          route: req.routeOptions.url ?? 'unmatched',
          status_code: reply.statusCode,
        },
        reply.elapsedTime / 1000,
      );
      next();
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
      if (draining) {
        reply.code(503);
        return { status: 'draining' };
      }
      const ok = await Promise.race([
        opts.ping(),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000).unref()),
      ]);
      reply.code(ok ? 200 : 503);
      return { status: ok ? 'ready' : 'unavailable', database: ok ? 'up' : 'down' };
    });
    app.get('/metrics', plain, async (req, reply) => {
      reply.header('cache-control', 'no-store');
      if (opts.metricsElsewhere) return reply.code(404).send({ error: 'not found' });
      if (opts.metricsToken) {
        if (!bearerMatches(req.headers.authorization, opts.metricsToken))
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

/**
 * METRICS_PORT: /metrics alone on a listener of its own, on a port the
 * outside cannot reach (with METRICS_TOKEN set, the token is asked here too).
 * Resolves once listening, with its port and a close().
 */
export async function listenForMetrics(
  app: FastifyInstance,
  port: number,
  host: string,
  token?: string,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n');
      return;
    }
    if (token && !bearerMatches(req.headers.authorization, token)) {
      res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
      return;
    }
    app.health.metrics().then(
      ({ contentType, body }) =>
        res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body),
      (err: unknown) => {
        app.log.error({ err }, 'metrics failed');
        res.writeHead(500).end();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as { port: number }).port;
  app.log.info(`metrics at http://${host}:${bound}/metrics`);
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
