import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import { signIn, submit } from '../../../test/helpers/session.ts';
import { enableTwoFactor, totpCode } from '../../../test/helpers/totp.ts';
import { DEMO_PASSWORD } from './seed.ts';
import { domainMatches, passwordProblem, SESSION_IDLE_SECONDS } from './service.ts';

let t: TestApp;
before(async () => {
  t = await testApp({ seed: true });
});
after(async () => t.close());

const status = async (cookie: string, url = '/account') =>
  (await t.app.inject({ url, headers: { cookie } })).statusCode;

test('sessions are stored hashed, rotated at sign-in, and end after idle or absolute expiry', async () => {
  const a = await signIn(t.app, 'member@example.org', DEMO_PASSWORD, undefined, '10.9.0.1');
  const b = await signIn(t.app, 'member@example.org', DEMO_PASSWORD, undefined, '10.9.0.2');
  const tokenA = /sp_session=([^;]+)/.exec(a)![1]!;
  const tokenB = /sp_session=([^;]+)/.exec(b)![1]!;
  assert.notEqual(tokenA, tokenB, 'a new session id at every sign-in');
  const rows = await t.database.query<{ id: string }>('SELECT id FROM sessions');
  assert.ok(
    rows.every((r) => r.id !== tokenA && r.id !== tokenB),
    'only hashes are stored',
  );
  assert.equal(await status(a), 200);

  await t.database.query(
    `UPDATE sessions SET last_seen_at = now() - $1 * interval '1 second' - interval '1 minute'`,
    [SESSION_IDLE_SECONDS],
  );
  assert.equal(await status(a), 303, 'idle too long: signed out');
  assert.equal(await status(b), 303);

  const c = await signIn(t.app, 'member@example.org', DEMO_PASSWORD, undefined, '10.9.0.3');
  await t.database.query(`UPDATE sessions SET expires_at = now() - interval '1 second'`);
  assert.equal(await status(c), 303, 'past the absolute expiry: signed out');
});

test('the session cookie is HttpOnly and SameSite=Lax (Secure in production)', async () => {
  const { res } = await submit(
    t.app,
    '/account/sign-in',
    '/account/sign-in',
    { email: 'member@example.org', password: DEMO_PASSWORD },
    '',
    '10.9.0.4',
  );
  const cookie = res.cookies.find((c) => c.name === 'sp_session')!;
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Lax');
  assert.equal(cookie.path, '/');
});

test('sign out everywhere ends every session of the account', async () => {
  const a = await signIn(t.app, 'parent@example.org', DEMO_PASSWORD, undefined, '10.9.0.5');
  const b = await signIn(t.app, 'parent@example.org', DEMO_PASSWORD, undefined, '10.9.0.6');
  const { res } = await submit(t.app, '/account', '/account/sign-out-everywhere', {}, a);
  assert.equal(res.statusCode, 303);
  assert.equal(await status(a), 303);
  assert.equal(await status(b), 303);
});

test('with two-step sign-in on, a password alone gives no access; a code or a recovery code (once) does', async () => {
  const secret = await enableTwoFactor(t.app, 'editor@example.org');
  const { res, cookie } = await submit(
    t.app,
    '/account/sign-in',
    '/account/sign-in',
    { email: 'editor@example.org', password: DEMO_PASSWORD },
    '',
    '10.9.0.7',
  );
  assert.equal(res.statusCode, 303);
  assert.equal(res.headers.location, '/account/sign-in/two-factor?next=%2Faccount');
  assert.equal(await status(cookie), 303, 'half-signed-in is not signed in');
  assert.equal(await status(cookie, '/admin'), 303);
  const wrong = await submit(
    t.app,
    '/account/sign-in/two-factor',
    '/account/sign-in/two-factor',
    { code: '000000' },
    cookie,
  );
  assert.equal(wrong.res.statusCode, 400);
  assert.match(wrong.res.body, /That code is not right/);
  const right = await submit(
    t.app,
    '/account/sign-in/two-factor',
    '/account/sign-in/two-factor',
    { code: totpCode(secret) },
    cookie,
  );
  assert.equal(right.res.statusCode, 303);
  assert.notEqual(
    /sp_session=([^;]+)/.exec(right.cookie)![1],
    /sp_session=([^;]+)/.exec(cookie)![1],
    'the session id changes',
  );
  assert.equal(await status(right.cookie, '/admin'), 200);

  const codesPage = await submit(
    t.app,
    '/account/two-factor',
    '/account/two-factor/recovery-codes',
    {},
    right.cookie,
  );
  const codes = [...codesPage.res.body.matchAll(/<code>([a-z0-9]{5}-[a-z0-9]{5})<\/code>/g)].map(
    (m) => m[1]!,
  );
  assert.equal(codes.length, 10);
  const useCode = async (code: string, ip: string) => {
    const first = await submit(
      t.app,
      '/account/sign-in',
      '/account/sign-in',
      { email: 'editor@example.org', password: DEMO_PASSWORD },
      '',
      ip,
    );
    return submit(
      t.app,
      '/account/sign-in/two-factor',
      '/account/sign-in/two-factor',
      { code },
      first.cookie,
      ip,
    );
  };
  assert.equal(
    (await useCode(codes[0]!.toUpperCase(), '10.9.0.8')).res.statusCode,
    303,
    'a recovery code works, in any case',
  );
  assert.equal((await useCode(codes[0]!, '10.9.0.9')).res.statusCode, 400, 'but only once');
  const events = await t.database.query<{ event: string }>(
    `SELECT event FROM audit_log WHERE event LIKE '2fa.%'`,
  );
  assert.ok(events.some((e) => e.event === '2fa.enabled'));
});

test('staff cannot turn two-step sign-in off; members can', async () => {
  const secret = await enableTwoFactor(t.app, 'moderator@example.org');
  const cookie = await signIn(t.app, 'moderator@example.org', DEMO_PASSWORD, secret, '10.9.0.10');
  await submit(t.app, '/account/two-factor', '/account/two-factor/disable', {}, cookie);
  const [mod] = await t.database.query<{ totp_enabled_at: Date | null }>(
    `SELECT totp_enabled_at FROM users WHERE email = 'moderator@example.org'`,
  );
  assert.ok(mod!.totp_enabled_at, 'still on');
  const member = await signIn(t.app, 'member@example.org', DEMO_PASSWORD, undefined, '10.9.0.11');
  const page = await t.app.inject({
    url: '/account/two-factor/setup',
    headers: { cookie: member },
  });
  assert.match(page.body, /<svg/, 'a QR code to scan');
  const key = /data-testid="totp-secret">([A-Z2-7 ]+)</.exec(page.body)![1]!;
  const on = await submit(
    t.app,
    '/account/two-factor/setup',
    '/account/two-factor/setup',
    { code: totpCode(key) },
    member,
  );
  assert.equal(on.res.statusCode, 200);
  assert.match(on.res.body, /Your recovery codes/);
  const [stored] = await t.database.query<{ totp_secret: string }>(
    `SELECT totp_secret FROM users WHERE email = 'member@example.org'`,
  );
  assert.ok(
    !stored!.totp_secret.includes(key.replace(/ /g, '')),
    'the secret is encrypted at rest',
  );
  const off = await submit(t.app, '/account/two-factor', '/account/two-factor/disable', {}, member);
  assert.equal(off.res.headers.location, '/account?done=2fa-off');
});

test('unverified accounts are deleted after 30 days by the scheduled job; others are kept', async () => {
  await t.app.services.accounts.register({
    email: 'old-unverified@example.org',
    displayName: 'Old',
    kind: 'other',
    password: 'a long enough passphrase',
    locale: 'en',
  });
  await t.app.services.accounts.register({
    email: 'new-unverified@example.org',
    displayName: 'New',
    kind: 'other',
    password: 'a long enough passphrase',
    locale: 'en',
  });
  await t.database.query(
    `UPDATE users SET created_at = now() - interval '31 days' WHERE email IN ('old-unverified@example.org', 'member@example.org')`,
  );
  await t.app.platform.jobs.enqueue('accounts.purge', {});
  await t.app.platform.jobs.runDue();
  const left = await t.database.query<{ email: string }>(
    `SELECT email FROM users WHERE email IN ('old-unverified@example.org', 'new-unverified@example.org', 'member@example.org') ORDER BY email`,
  );
  assert.deepEqual(
    left.map((r) => r.email),
    ['member@example.org', 'new-unverified@example.org'],
  );
  const schedules = await t.database.query<{ name: string }>(
    `SELECT name FROM job_schedules WHERE name = 'accounts.purge'`,
  );
  assert.equal(schedules.length, 1, 'it runs daily');
});

test('password rules and domain patterns', () => {
  assert.equal(passwordProblem('123456789'), 'tooShort');
  assert.equal(passwordProblem('iloveyou12'), 'common');
  assert.equal(passwordProblem('Password123'), 'common', 'case does not help');
  assert.equal(
    passwordProblem('sam.jones@example.org', { email: 'sam.jones@example.org' }),
    'likeAccount',
  );
  assert.equal(passwordProblem('kettle harbour velvet'), undefined, 'no composition rules');
  assert.ok(domainMatches('a@trust.nhs.net', ['*.nhs.net']));
  assert.ok(domainMatches('a@nhs.net', ['*.nhs.net']));
  assert.ok(!domainMatches('a@evilnhs.net', ['*.nhs.net']));
  assert.ok(!domainMatches('a@nhs.net.evil.org', ['*.nhs.net']));
  assert.ok(domainMatches('a@council.gov.uk', ['*.gov.uk']));
  assert.ok(!domainMatches('a@example.org', ['*.gov.uk', 'nhs.uk']));
});

test('a two-step code works once: the same code cannot be replayed', async () => {
  const own = await testApp({ seed: true });
  try {
    const secret = await enableTwoFactor(own.app, 'admin@example.org');
    const code = totpCode(secret);
    const first = await submit(
      own.app,
      '/account/sign-in',
      '/account/sign-in',
      { email: 'admin@example.org', password: DEMO_PASSWORD },
      '',
      '10.9.1.1',
    );
    const ok = await submit(
      own.app,
      '/account/sign-in/two-factor',
      '/account/sign-in/two-factor',
      { code },
      first.cookie,
      '10.9.1.1',
    );
    assert.equal(ok.res.statusCode, 303);
    const second = await submit(
      own.app,
      '/account/sign-in',
      '/account/sign-in',
      { email: 'admin@example.org', password: DEMO_PASSWORD },
      '',
      '10.9.1.2',
    );
    const replay = await submit(
      own.app,
      '/account/sign-in/two-factor',
      '/account/sign-in/two-factor',
      { code },
      second.cookie,
      '10.9.1.2',
    );
    assert.equal(replay.res.statusCode, 400);
    assert.match(replay.res.body, /That code is not right, or it has run out/);
  } finally {
    await own.close();
  }
});
