import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import { linkFromMail, sentMail } from '../../../test/helpers/mail.ts';
import { signIn, submit } from '../../../test/helpers/session.ts';
import { DEMO_PASSWORD } from './seed.ts';
import { SIGN_IN_FAILURES_PER_MINUTE } from './service.ts';

const PASSWORD = 'maple lantern river 42';

describe('accounts', () => {
  let t: TestApp;
  before(async () => {
    t = await testApp({ seed: true });
  });
  after(async () => t.close());

  const register = (email: string, extra: Record<string, string> = {}) =>
    submit(t.app, '/account/register', '/account/register', {
      email,
      displayName: 'Robin',
      kind: 'practitioner',
      organisation: '',
      region: '',
      password: PASSWORD,
      agree: 'yes',
      ...extra,
    });

  test('register, verify by email link, sign in, see the account, sign out', async () => {
    const { res } = await register('robin@example.org');
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/account/check-email?for=register');
    const link = await linkFromMail(t.app, 'robin@example.org', '/account/verify/');
    const page = await t.app.inject(link);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Confirm my email address/);
    const { res: verified } = await submit(t.app, link, link, {});
    assert.equal(verified.statusCode, 200);
    assert.match(verified.body, /Your email address is confirmed/);
    assert.match(
      verified.body,
      /moderator will check/,
      'example.org is not an auto-approved domain',
    );
    const again = await submit(t.app, '/account/sign-in', link, {});
    assert.equal(again.res.statusCode, 404, 'the token is used up');
    const reuse = await t.app.inject(link);
    assert.equal(reuse.statusCode, 404, 'a verification link works once');

    const cookie = await signIn(t.app, 'robin@example.org', PASSWORD);
    const account = await t.app.inject({ url: '/account', headers: { cookie } });
    assert.equal(account.statusCode, 200);
    assert.match(account.body, /robin@example\.org/);
    assert.match(account.body, /A moderator is checking your account/);
    const { res: out } = await submit(t.app, '/account/sign-out', '/account/sign-out', {}, cookie);
    assert.equal(out.statusCode, 303);
    const after = await t.app.inject({ url: '/account', headers: { cookie } });
    assert.equal(after.statusCode, 303, 'the old session no longer works');
  });

  test('the form keeps what was typed and explains each problem; nothing is created', async () => {
    const { res } = await register('not-an-email', {
      displayName: 'Kept Name',
      kind: '',
      agree: '',
    });
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /There is a problem/);
    assert.match(res.body, /href="#email"/);
    assert.match(res.body, /Enter an email address in the correct format/);
    assert.match(res.body, /Select which best describes you/);
    assert.match(res.body, /You must agree to the terms/);
    assert.match(res.body, /value="Kept Name"/);
    assert.doesNotMatch(res.body, new RegExp(PASSWORD), 'the password is never echoed');
    assert.match(res.body, /<title>Error: /);
  });

  test('short and common passwords are refused with a kind explanation', async () => {
    const short = await register('short@example.org', { password: 'tiny' });
    assert.equal(short.res.statusCode, 400);
    assert.match(short.res.body, /at least 10 characters/);
    const common = await register('common@example.org', { password: 'password123' });
    assert.equal(common.res.statusCode, 400);
    assert.match(common.res.body, /too easy to guess/);
    const rows = await t.database.query(
      `SELECT 1 FROM users WHERE email IN ('short@example.org', 'common@example.org')`,
    );
    assert.equal(rows.length, 0);
  });

  test('registering an address that already has an account looks the same, and mails the owner', async () => {
    const { res } = await register('member@example.org');
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/account/check-email?for=register');
    const mails = (await sentMail(t.app)).filter((m) => m.to === 'member@example.org');
    assert.ok(mails.some((m) => m.subject === 'You already have an account'));
  });

  test('passwords are never stored or logged in clear', async () => {
    await register('clear@example.org', { password: 'clear text never stored 9' });
    await submit(t.app, '/account/sign-in', '/account/sign-in', {
      email: 'clear@example.org',
      password: 'clear text never stored 9',
    });
    const [row] = await t.database.query<{ password_hash: string }>(
      `SELECT password_hash FROM users WHERE email = 'clear@example.org'`,
    );
    assert.match(row!.password_hash, /^\$argon2id\$/);
    const dump =
      JSON.stringify(await t.database.query(`SELECT * FROM users`)) +
      JSON.stringify(await t.database.query(`SELECT * FROM audit_log`));
    assert.doesNotMatch(dump, /clear text never stored/);
    assert.doesNotMatch(t.logs.join('\n'), /clear text never stored|clear@example\.org/);
  });

  test(`${SIGN_IN_FAILURES_PER_MINUTE + 1} failed sign-ins in a minute for one account: the last is refused with 429`, async () => {
    const statuses: number[] = [];
    let last;
    for (let i = 0; i <= SIGN_IN_FAILURES_PER_MINUTE; i++) {
      const { res } = await submit(t.app, '/account/sign-in', '/account/sign-in', {
        email: 'editor@example.org',
        password: `wrong guess ${i}`,
      });
      statuses.push(res.statusCode);
      last = res;
    }
    assert.deepEqual(statuses, [400, 400, 400, 400, 400, 429]);
    assert.ok(Number(last!.headers['retry-after']) > 0);
    assert.match(last!.body, /too many times\. Wait 1 minute/);
    const right = await submit(t.app, '/account/sign-in', '/account/sign-in', {
      email: 'editor@example.org',
      password: DEMO_PASSWORD,
    });
    assert.equal(right.res.statusCode, 429, 'even the right password waits');
    const other = await submit(t.app, '/account/sign-in', '/account/sign-in', {
      email: 'member@example.org',
      password: DEMO_PASSWORD,
    });
    assert.equal(other.res.statusCode, 303, 'other accounts are not affected');
    const audit = await t.database.query(
      `SELECT event FROM audit_log WHERE event IN ('signin.failure', 'signin.throttled')`,
    );
    assert.ok(audit.length >= SIGN_IN_FAILURES_PER_MINUTE + 1);
  });

  test('the reset form answers identically for known and unknown addresses', async () => {
    const strip = (s: string) => s.replace(/nonce="[^"]+"/g, '').replace(/value="[^"]{20,}"/g, '');
    const known = await submit(t.app, '/account/password/forgot', '/account/password/forgot', {
      email: 'member@example.org',
    });
    const unknown = await submit(t.app, '/account/password/forgot', '/account/password/forgot', {
      email: 'nobody@example.org',
    });
    assert.equal(known.res.statusCode, unknown.res.statusCode);
    assert.equal(known.res.headers.location, unknown.res.headers.location);
    assert.equal(strip(known.res.body), strip(unknown.res.body));
    const a = await t.app.inject(known.res.headers.location as string);
    assert.match(a.body, /If there is an account for that address/);
  });

  test('reset a forgotten password by email: old sessions end, the new password works', async () => {
    const before = await signIn(t.app, 'parent@example.org', DEMO_PASSWORD);
    await submit(t.app, '/account/password/forgot', '/account/password/forgot', {
      email: 'parent@example.org',
    });
    const link = await linkFromMail(t.app, 'parent@example.org', '/account/password/reset/');
    const weak = await submit(t.app, link, link, { password: 'short' });
    assert.equal(weak.res.statusCode, 400);
    const { res } = await submit(t.app, link, link, { password: 'a brand new parent passphrase' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Your password has been changed/);
    assert.equal(
      (await t.app.inject({ url: '/account', headers: { cookie: before } })).statusCode,
      303,
    );
    await signIn(t.app, 'parent@example.org', 'a brand new parent passphrase');
    assert.equal((await t.app.inject(link)).statusCode, 404, 'the reset link works once');
  });

  test('sign in with a one-time email link', async () => {
    const { res } = await submit(t.app, '/account/sign-in/email', '/account/sign-in/email', {
      email: 'member@example.org',
    });
    assert.equal(res.headers.location, '/account/check-email?for=link');
    const link = await linkFromMail(t.app, 'member@example.org', '/account/sign-in/link/');
    const { res: signedIn, cookie } = await submit(t.app, link, link, {});
    assert.equal(signedIn.statusCode, 303);
    assert.equal((await t.app.inject({ url: '/account', headers: { cookie } })).statusCode, 200);
    const second = await submit(t.app, '/account/sign-in', link, {});
    assert.equal(second.res.statusCode, 404, 'the link works once');
  });

  test('an address on an auto-approved domain is approved when it is verified', async () => {
    await register('nurse@trust.nhs.net');
    const link = await linkFromMail(t.app, 'nurse@trust.nhs.net', '/account/verify/');
    const { res } = await submit(t.app, link, link, {});
    assert.match(res.body, /Your account is ready/);
    const [row] = await t.database.query<{ approved_at: Date | null }>(
      `SELECT approved_at FROM users WHERE email = 'nurse@trust.nhs.net'`,
    );
    assert.ok(row!.approved_at);
  });

  test('your data: the export holds your profile; deletion erases your email and name from every table', async () => {
    await register('leaving@example.org', { displayName: 'Uniquename Leaving' });
    const link = await linkFromMail(t.app, 'leaving@example.org', '/account/verify/');
    await submit(t.app, link, link, {});
    const cookie = await signIn(t.app, 'leaving@example.org', PASSWORD);
    const { res: exp } = await submit(t.app, '/account', '/account/export', {}, cookie);
    assert.equal(exp.statusCode, 200);
    assert.match(exp.headers['content-disposition'] as string, /attachment/);
    const data = JSON.parse(exp.body) as {
      account: { email: string; displayName: string };
      securityEvents: unknown[];
    };
    assert.equal(data.account.email, 'leaving@example.org');
    assert.equal(data.account.displayName, 'Uniquename Leaving');
    assert.ok(data.securityEvents.length > 0);

    const page = await t.app.inject({ url: '/account/delete', headers: { cookie } });
    assert.match(page.body, /What happens when you delete your account/);
    const wrong = await submit(
      t.app,
      '/account/delete',
      '/account/delete',
      { method: 'password', current: 'not my password' },
      cookie,
    );
    assert.equal(wrong.res.statusCode, 400);
    const { res } = await submit(
      t.app,
      '/account/delete',
      '/account/delete',
      { method: 'password', current: PASSWORD },
      cookie,
    );
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Your account has been deleted/);

    const tables = await t.database.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'jobs'`,
    );
    for (const { table_name } of tables) {
      const rows = await t.database.query(`SELECT * FROM "${table_name}"`);
      const text = JSON.stringify(rows);
      assert.doesNotMatch(
        text,
        /leaving@example\.org|Uniquename Leaving/,
        `${table_name} still holds the member's data`,
      );
    }
    const signInAgain = await submit(t.app, '/account/sign-in', '/account/sign-in', {
      email: 'leaving@example.org',
      password: PASSWORD,
    });
    assert.equal(signInAgain.res.statusCode, 400);
  });
});
