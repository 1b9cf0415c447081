import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEMO_ACCOUNTS } from '../../src/features/accounts/seed.ts';
import { demoSeeded, runSeeders } from '../../src/platform/seed.ts';
import { testApp } from '../helpers/app.ts';

test('seed --demo is idempotent and uses only example.org addresses', async () => {
  const t = await testApp();
  try {
    assert.equal(await demoSeeded(t.database), false);
    const ctx = { db: t.database.db, database: t.database, log: t.app.log, scale: 'demo' as const };
    await runSeeders(t.app.platform.seeders, ctx);
    const count = async () =>
      Number((await t.database.query<{ n: string }>('SELECT count(*) AS n FROM users'))[0]!.n);
    const first = await count();
    assert.equal(first, DEMO_ACCOUNTS.length);
    const notifications = async () =>
      (
        await t.database.query<{ kind: string; read_at: Date | null; emailed_at: Date | null }>(
          `SELECT n.kind, n.read_at, n.emailed_at FROM community_notifications n
           JOIN users u ON u.id = n.user_id WHERE u.email = 'member@example.org'`,
        )
      ).map((n) => `${n.kind}:${n.read_at ? 'read' : 'unread'}:${n.emailed_at ? 'sent' : 'due'}`);
    // The demo member has two unread replies to show (never emailed: they are in the past).
    assert.deepEqual(await notifications(), ['reply:unread:sent', 'reply:unread:sent']);
    await runSeeders(t.app.platform.seeders, ctx);
    assert.equal(await count(), first, 'a second run adds nothing');
    assert.equal((await notifications()).length, 2, 'nor notifications');
    assert.equal(await demoSeeded(t.database), true);
    const emails = await t.database.query<{ email: string }>('SELECT email FROM users');
    assert.ok(emails.every((e) => e.email.endsWith('@example.org')));
  } finally {
    await t.close();
  }
});
