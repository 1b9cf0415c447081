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
    await runSeeders(t.app.platform.seeders, ctx);
    assert.equal(await count(), first, 'a second run adds nothing');
    assert.equal(await demoSeeded(t.database), true);
    const emails = await t.database.query<{ email: string }>('SELECT email FROM users');
    assert.ok(emails.every((e) => e.email.endsWith('@example.org')));
  } finally {
    await t.close();
  }
});
