import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/client.ts';
import { runSeeders } from '../../src/platform/seed.ts';
import { seededCopy, testDatabase } from './database.ts';

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

/** How long a test's request may wait its turn (see testConfig). */
const TEST_QUEUE_WAIT_MS = 60_000;

/**
 * A test's configuration. A request waits its turn up to a minute, not the
 * 2 s a server gives it: the tests that send many requests at once (booking
 * rushes) test what the requests do, not the admission queue, and on a busy
 * CI machine 2 s of waiting is ordinary (test/integration/admission.test.ts
 * sets its own).
 */
const testConfig = (dataDir: string, overrides: Partial<Config> = {}): Config =>
  loadConfig(
    {
      NODE_ENV: 'test',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      REQUEST_QUEUE_WAIT_MS: String(TEST_QUEUE_WAIT_MS),
    },
    { sessionSecret: 'test-secret-test-secret-test-secret', runJobs: false, ...overrides },
  );

/**
 * buildApp over a fresh test database, with a private DATA_DIR and captured
 * logs. `seed: true` starts from the demo content: a copy of the one the
 * runner seeded (scripts/test.ts), with the files its seeders wrote, or, when
 * a file runs without the runner (or on a given database), seeded here.
 */
export async function testApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sp-test-'));
  const config = testConfig(dataDir, opts.config);
  const seeded = opts.seed && !opts.database ? seededCopy() : undefined;
  if (seeded) cpSync(seeded.dataDir, dataDir, { recursive: true });
  const database = opts.database ?? (await testDatabase(seeded ? 'seeded' : 'migrated'));
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  const app = await buildApp({ config, database, logger: { stream } });
  if (opts.before) await opts.before(app);
  if (opts.seed && !seeded) await seed(app, database);
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

const seed = (app: FastifyInstance, database: Database) =>
  runSeeders(app.platform.seeders, { db: database.db, database, log: app.log, scale: 'demo' });

/**
 * The demo content, through the app's own seeders, into `database`, with the
 * files they write under `dataDir`/uploads: what the runner copies for every
 * `testApp({ seed: true })`.
 */
export async function seedDemo(database: Database, dataDir: string): Promise<void> {
  const app = await buildApp({ config: testConfig(dataDir), database, logger: false });
  try {
    await seed(app, database);
  } finally {
    await app.close();
  }
}

/** The cookies a response set, as a Cookie header to send back. */
export function cookiesOf(
  res: { cookies: { name: string; value: string }[] },
  previous = '',
): string {
  const jar = new Map(
    previous
      .split('; ')
      .filter(Boolean)
      .map((c) => c.split('=') as [string, string]),
  );
  for (const c of res.cookies) jar.set(c.name, c.value);
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

/** The `_csrf` field of the first form on a page. */
export function formToken(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no _csrf field on the page');
  return m[1]!;
}

/** The `_csrf` token and cookies a browser would get from a page with a form. */
export async function csrfFor(
  app: FastifyInstance,
  path: string,
  cookie = '',
): Promise<{ token: string; cookie: string }> {
  const res = await app.inject({ method: 'GET', url: path, headers: cookie ? { cookie } : {} });
  return { token: formToken(res.body), cookie: cookiesOf(res, cookie) };
}

/** A page with a form, for tests of the platform (test/fixtures/views/form.njk). */
export function formRoute(app: FastifyInstance, url = '/__test/form'): void {
  app.get(url, { config: { access: 'public' } }, async (_req, reply) => reply.render('form.njk'));
}
