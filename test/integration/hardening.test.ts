import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { createAccountsRepository } from '../../src/features/accounts/repository.ts';
import { DEMO_PASSWORD } from '../../src/features/accounts/seed.ts';
import { ARGON2, argonCost, createAccountsService } from '../../src/features/accounts/service.ts';
import { createEventsRepository } from '../../src/features/events/repository.ts';
import { type TestApp, testApp } from '../helpers/app.ts';
import { signIn, submit } from '../helpers/session.ts';
import { enableTwoFactor } from '../helpers/totp.ts';

/**
 * Findings of the outside probe (issue 18), each with the test that failed
 * before its fix: sign-in costs the same argon2 work for unknown addresses as
 * for real ones; moderators see only what their work needs at /admin/users;
 * an event's places left are right the moment after a booking.
 */

const HOUR = 3600_000;
const COST = `m=${ARGON2.memoryCost},t=${ARGON2.timeCost},p=${ARGON2.parallelism}`;

describe('hardening', () => {
  let t: TestApp;
  before(async () => {
    t = await testApp({ seed: true });
  });
  after(async () => t.close());

  /** An accounts service whose argon2 calls are recorded: the cost of each hash verified. */
  const watched = () => {
    const verified: string[] = [];
    const p = t.app.platform;
    const accounts = createAccountsService({
      repo: createAccountsRepository(p.database.db),
      mailer: p.mailer,
      jobs: p.jobs,
      i18n: p.i18n,
      baseUrl: p.config.baseUrl,
      secret: p.config.sessionSecret,
      log: t.app.log,
      transaction: (work) => p.database.transaction(work),
      argon2: {
        hash: (password, options) => argon2Hash(password, options),
        verify: (hash, password) => {
          verified.push(argonCost(hash) ?? `unreadable ${hash.slice(0, 20)}`);
          return argon2Verify(hash, password);
        },
      },
    });
    return { accounts, verified };
  };

  test('an unknown address, an account without a password and a real account: each one argon2 check of the same cost', async () => {
    const { accounts, verified } = watched();
    await accounts.createUserDirect({
      email: 'no-password@example.org',
      role: 'member',
      displayName: 'No password',
    });
    for (const email of [
      'nobody-at-all@example.org',
      'no-password@example.org',
      'member@example.org',
      'editor@example.org',
    ]) {
      verified.length = 0;
      const result = await accounts.signInWithPassword(email, 'a wrong password 1');
      assert.equal(result.ok, false);
      assert.deepEqual(verified, [COST], `${email}: one check at ${COST}`);
    }
  });

  test('a password hashed with another cost is rehashed with the current one at the next sign-in', async () => {
    const { accounts, verified } = watched();
    await accounts.createUserDirect({
      email: 'old-hash@example.org',
      role: 'member',
      displayName: 'Old hash',
    });
    const cheap = await argon2Hash('an old password 123', { memoryCost: 4096, timeCost: 3 });
    await t.database.query(`UPDATE users SET password_hash = $1 WHERE email = $2`, [
      cheap,
      'old-hash@example.org',
    ]);
    const result = await accounts.signInWithPassword('old-hash@example.org', 'an old password 123');
    assert.equal(result.ok, true);
    assert.deepEqual(verified, ['m=4096,t=3,p=1']);
    const [row] = await t.database.query<{ password_hash: string }>(
      `SELECT password_hash FROM users WHERE email = 'old-hash@example.org'`,
    );
    assert.equal(argonCost(row!.password_hash), COST);
    assert.ok(await argon2Verify(row!.password_hash, 'an old password 123'));
    // The demo accounts and new accounts use the current cost too.
    const demo = await t.database.query<{ password_hash: string }>(
      `SELECT password_hash FROM users WHERE email LIKE '%@example.org' AND password_hash IS NOT NULL`,
    );
    assert.ok(demo.length >= 5);
    for (const r of demo) assert.equal(argonCost(r.password_hash), COST);
  });

  describe('/admin/users: each role sees what its work needs', () => {
    let moderator: string;
    let admin: string;
    let parentId: string;
    before(async () => {
      const modSecret = await enableTwoFactor(t.app, 'moderator@example.org');
      moderator = await signIn(t.app, 'moderator@example.org', DEMO_PASSWORD, modSecret);
      const adminSecret = await enableTwoFactor(t.app, 'admin@example.org');
      admin = await signIn(t.app, 'admin@example.org', DEMO_PASSWORD, adminSecret);
      const [row] = await t.database.query<{ id: string }>(
        `SELECT id FROM users WHERE email = 'parent@example.org'`,
      );
      parentId = row!.id;
    });
    const get = (url: string, cookie: string) => t.app.inject({ url, headers: { cookie } });

    test('a moderator sees the email domain, never the address; an admin sees the address', async () => {
      const asMod = await get(`/admin/users/${parentId}`, moderator);
      assert.equal(asMod.statusCode, 200);
      assert.doesNotMatch(asMod.body, /parent@example\.org/);
      assert.match(asMod.body, /Email domain[\s\S]*example\.org/);
      const list = await get('/admin/users', moderator);
      assert.doesNotMatch(list.body, /[a-z]+@example\.org/);
      const asAdmin = await get(`/admin/users/${parentId}`, admin);
      assert.match(asAdmin.body, /parent@example\.org/);
    });

    test('the rule is in the service: a moderator is given no address', async () => {
      const accounts = t.app.services.accounts;
      const mod = {
        id: '00000000-0000-4000-8000-000000000001',
        displayName: 'M',
        role: 'moderator' as const,
        approved: true,
        totpEnabled: true,
      };
      const one = await accounts.userForAdmin(mod, parentId);
      assert.equal(one?.email, null);
      assert.equal(one?.emailDomain, 'example.org');
      const { rows } = await accounts.listUsers(mod, { limit: 50, offset: 0 });
      assert.ok(rows.length > 3);
      assert.ok(rows.every((r) => r.email === null));
      const asAdmin = await accounts.userForAdmin({ ...mod, role: 'admin' }, parentId);
      assert.equal(asAdmin?.email, 'parent@example.org');
    });

    test('a moderator finds by whole address or domain, not by part of an address', async () => {
      const found = (body: string) => /Demo Parent \(pseudonym\)/.test(body);
      assert.ok(found((await get('/admin/users?q=parent%40example.org', moderator)).body));
      assert.ok(found((await get('/admin/users?q=example.org', moderator)).body));
      assert.ok(!found((await get('/admin/users?q=parent%40exam', moderator)).body));
      assert.ok(!found((await get('/admin/users?q=rent%40', moderator)).body));
      assert.ok(found((await get('/admin/users?q=rent%40', admin)).body), 'admins: any part');
    });
  });

  test('an event page and the events list say the right number of places the moment after a booking', async () => {
    const repo = createEventsRepository(t.database.db);
    const event = await repo.upsertEvent({
      slug: 'fresh-places',
      title: 'Fresh places',
      summary: 'An event',
      startsAt: new Date(Date.now() + 10 * 24 * HOUR),
      endsAt: new Date(Date.now() + 10 * 24 * HOUR + 2 * HOUR),
      mode: 'online',
      joiningLink: 'https://meet.example.org/fresh',
      capacity: 3,
      maxPerBooking: 4,
      organiserName: 'Organiser',
      organiserEmail: 'organiser@example.org',
      status: 'published',
    });
    const page = `/events/${event.slug}`;
    // Seen by visitors first (a page cache would keep these).
    assert.match((await t.app.inject(page)).body, /3 places left/);
    assert.match((await t.app.inject(page)).body, /3 places left/);
    /** The events list's entry for this event. */
    const entry = async () =>
      /href="\/events\/fresh-places"[\s\S]*?<\/li>/.exec(
        (await t.app.inject('/events')).body,
      )?.[0] ?? '';
    assert.match(await entry(), /3 places left/);
    assert.match(await entry(), /3 places left/);
    const booked = await submit(t.app, `${page}/book`, `${page}/book`, {
      bookerName: 'Fresh',
      bookerEmail: 'fresh@example.org',
      places: '3',
      attendee_0_name: 'A',
      attendee_1_name: 'B',
      attendee_2_name: 'C',
    });
    assert.equal(booked.res.statusCode, 303);
    const after = await t.app.inject(page);
    assert.doesNotMatch(after.body, /places? left/);
    assert.match(after.body, /Fully booked/);
    assert.match(await entry(), /Fully booked/);
  });
});
