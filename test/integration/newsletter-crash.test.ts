import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { type Database, openDatabase } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createNewsletterRepository } from '../../src/features/newsletter/repository.ts';
import { SEND_JOB } from '../../src/features/newsletter/service.ts';
import { createJobQueue } from '../../src/platform/jobs/index.ts';
import { freePort } from '../helpers/cli.ts';
import { testDatabase } from '../helpers/database.ts';

// A real crash: the site (`node dist/main.js serve`) sending an issue to 2,000
// addresses is killed with SIGKILL half way, and started again, and every
// address ends with exactly one copy: a message sent again is the same
// message (its Message-ID, so its .eml file).
// - On the embedded database (in its DATA_DIR, as `npm start` runs it), the
//   restart takes back what the dead process had claimed at start: only one
//   process can open it, so a claim made before it opened is a dead one's.
// - On PostgreSQL, the dead process's claimant lock went with its session
//   (Database.claimant), so the restarted server takes its job and its batch
//   back at once, not after their 5-minute leases: the test gives the whole
//   restart 2 minutes.

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');
const MAIN = join(ROOT, 'dist', 'main.js');
const RECIPIENTS = 2000;

describe('the newsletter across kill -9', () => {
  let dataDir = '';
  /** On PostgreSQL: the test's own database, and its address for the server. */
  let pgDatabase: Database | undefined;
  let databaseUrl: string | undefined;
  const open = () => pgDatabase ?? openDatabase({ dataDir });
  let issueId = '';
  let child: ChildProcess | undefined;
  const outbox = () => join(dataDir, 'mail');
  /** The issue's .eml files: one file per message (named by its Message-ID). */
  const files = () => {
    try {
      return readdirSync(outbox()).filter((f) => f.includes(`nl-${issueId}`));
    } catch {
      return [];
    }
  };
  const serve = async () => {
    const port = await freePort();
    const logs: string[] = [];
    const c = spawn(process.execPath, [MAIN, 'serve'], {
      cwd: dataDir,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'development',
        HOST: '127.0.0.1',
        PORT: port,
        DATA_DIR: dataDir,
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
        LOG_LEVEL: 'warn',
        NEWSLETTER_PER_MINUTE: String(RECIPIENTS * 2),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    c.stdout!.on('data', (d: Buffer) => logs.push(d.toString()));
    c.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
    child = c;
    return { child: c, logs };
  };
  const exited = (c: ChildProcess) =>
    c.exitCode !== null || c.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => c.once('exit', () => resolve()));
  /** Wait for `ok`, up to `ms`, looking every 20 ms. */
  const until = async (ok: () => boolean, ms: number, what: string, logs: string[]) => {
    const end = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > end)
        assert.fail(`${what} (after ${ms} ms); the server said:\n${logs.join('')}`);
      await sleep(20);
    }
  };

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sp-crash-'));
    if (process.env.DATABASE_URL) {
      pgDatabase = await testDatabase();
      const [here] = await pgDatabase.query<{ name: string }>('SELECT current_database() AS name');
      const url = new URL(process.env.DATABASE_URL);
      url.pathname = `/${here!.name}`;
      databaseUrl = url.toString();
    }
    const database = await open();
    try {
      if (!pgDatabase) await migrate(database);
      await database.query(
        `INSERT INTO newsletter_subscribers (email, state, topics, frequency, locale, confirmed_at)
         SELECT 'crash-' || g || '@example.org', 'subscribed', '{news}', 'each', 'en', now()
         FROM generate_series(1, $1::int) g`,
        [RECIPIENTS],
      );
      const repo = createNewsletterRepository(database.db);
      const issue = await repo.insertIssue({
        subject: 'Killed half way',
        body: 'Once only.',
        topics: ['news'],
        locale: 'en',
      });
      issueId = issue.id;
      await repo.updateIssue(issue.id, { state: 'scheduled', scheduledAt: new Date() });
      await createJobQueue(database, pino({ level: 'silent' })).enqueue(SEND_JOB, {
        issueId: issue.id,
      });
    } finally {
      if (!pgDatabase) await database.close();
    }
  });
  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited(child);
    }
    rmSync(dataDir, { recursive: true, force: true });
    await pgDatabase?.close();
  });

  test('killed half way through a send to 2,000 and started again: each address has exactly one copy', async () => {
    const first = await serve();
    await until(
      () => files().length >= RECIPIENTS / 4,
      120_000,
      'the send did not start',
      first.logs,
    );
    first.child.kill('SIGKILL');
    await exited(first.child);
    const atKill = files().length;
    assert.ok(
      atKill < RECIPIENTS,
      `the send had finished (${atKill} messages) before the kill: the test proves nothing`,
    );

    const second = await serve();
    await until(
      () => files().length >= RECIPIENTS,
      120_000,
      `only ${files().length} messages after the restart`,
      second.logs,
    );
    // Stopped the proper way: it finishes the job it is running (marks, the issue sent).
    second.child.kill('SIGTERM');
    await exited(second.child);
    // It took back the dead process's job (and its batch) at once, not after the lease: on the
    // embedded database at start (it says so), on PostgreSQL as their claimant was gone.
    if (!pgDatabase)
      assert.match(second.logs.join(''), /taken back what a stopped process had claimed/);
    const db = await open();
    try {
      const rows = await db.query<{ state: string; n: number }>(
        `SELECT state, count(*)::int AS n FROM newsletter_deliveries WHERE issue_id = $1 GROUP BY state`,
        [issueId],
      );
      assert.deepEqual(rows, [{ state: 'sent', n: RECIPIENTS }]);
      const [issue] = await db.query<{ state: string }>(
        'SELECT state FROM newsletter_issues WHERE id = $1',
        [issueId],
      );
      assert.equal(issue!.state, 'sent');
    } finally {
      if (!pgDatabase) await db.close();
    }

    const names = files();
    assert.equal(names.length, RECIPIENTS, 'one file per address');
    const perAddress = new Map<string, number>();
    for (const name of names) {
      const raw = readFileSync(join(outbox(), name), 'utf8');
      const to = /^To: (.*)$/m.exec(raw)?.[1]?.trim() ?? '';
      perAddress.set(to, (perAddress.get(to) ?? 0) + 1);
    }
    assert.equal(perAddress.size, RECIPIENTS, 'every address');
    assert.ok(
      [...perAddress.values()].every((n) => n === 1),
      'each once',
    );
  });
});
