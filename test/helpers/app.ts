import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/client.ts';
import { runSeeders } from '../../src/platform/seed.ts';
import { testDatabase } from './database.ts';

export interface TestApp {
  app: FastifyInstance;
  database: Database;
  config: Config;
  /** Every log line the app wrote, as text (to check nothing secret is logged). */
  logs: string[];
  close(): Promise<void>;
}

export interface TestAppOptions {
  seed?: boolean;
  config?: Partial<Config>;
  /** Register extra routes before the app is ready (e.g. a route that throws). */
  before?: (app: FastifyInstance) => void | Promise<void>;
  database?: Database;
}

/** buildApp over a fresh test database, with a private DATA_DIR and captured logs. */
export async function testApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sp-test-'));
  const config = loadConfig(
    { NODE_ENV: 'test', DATA_DIR: dataDir, LOG_LEVEL: 'info' },
    { sessionSecret: 'test-secret-test-secret-test-secret', runJobs: false, ...opts.config },
  );
  const database = opts.database ?? (await testDatabase());
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  const app = await buildApp({ config, database, logger: { stream } });
  if (opts.before) await opts.before(app);
  if (opts.seed) {
    const p = app.platform;
    await runSeeders(p.seeders, { db: database.db, database, log: app.log, scale: 'demo' });
  }
  await app.ready();
  return {
    app,
    database,
    config,
    logs,
    async close() {
      await app.close();
      await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The `_csrf` token and cookie a browser would get from a page with a form. */
export async function csrfFor(
  app: FastifyInstance,
  path = '/',
): Promise<{ token: string; cookie: string }> {
  const res = await app.inject({
    method: 'GET',
    url: `/__test/csrf?from=${encodeURIComponent(path)}`,
  });
  const token = (res.json() as { token: string }).token;
  const cookie = res.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  return { token, cookie };
}

/** A helper route tests can register (through `before`) to get a CSRF token. */
export function csrfTokenRoute(app: FastifyInstance): void {
  app.get('/__test/csrf', { config: { access: 'public', a11y: false } }, async (_req, reply) => ({
    token: reply.generateCsrf(),
  }));
}
