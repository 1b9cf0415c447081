import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as OTPAuth from 'otpauth';
import { DEMO_PASSWORD } from '../../src/features/accounts/seed.ts';
import { makeUnsubscribeToken } from '../../src/features/community/notifications.ts';
import { main } from '../../src/main.ts';
import { signer } from '../../src/platform/signing.ts';
import { type TestApp, testApp } from '../helpers/app.ts';
import { signIn, submit } from '../helpers/session.ts';
import { enableTwoFactor } from '../helpers/totp.ts';

// Rotating SESSION_SECRET (README, Configuration): with the old one given as
// SESSION_SECRET_PREVIOUS, two-step sign-in and the links in emails sent
// before the change keep working; `secrets:reseal` seals every two-step
// secret with the new one. Several apps in turn over one database, each with
// its own secrets, as a restart with new settings would be.

const OLD = 'the-old-session-secret-0123456789-abcdef';
const NEW = 'the-new-session-secret-0123456789-ghijkl';
const OTHER = 'a-third-session-secret-0123456789-mnopqr';

describe('rotating the session secret', () => {
  let first: TestApp;
  const totp: Record<string, string> = {};
  let subscriberId = '';
  let memberId = '';
  /** The app again over the same database, with these secrets. */
  const restart = (sessionSecret: string, previousSessionSecret?: string) =>
    testApp({ database: first.database, config: { sessionSecret, previousSessionSecret } });
  const sealed = async (email: string) =>
    (
      await first.database.query<{ totp_secret: string }>(
        'SELECT totp_secret FROM users WHERE email = $1',
        [email],
      )
    )[0]!.totp_secret;

  before(async () => {
    first = await testApp({ seed: true, config: { sessionSecret: OLD } });
    totp.editor = await enableTwoFactor(first.app, 'editor@example.org');
    totp.admin = await enableTwoFactor(first.app, 'admin@example.org');
    // A confirmed subscriber, as the newsletter's own tests make one.
    const [s] = await first.database.query<{ id: string }>(
      `INSERT INTO newsletter_subscribers (email, state, topics, confirmed_at)
       VALUES ('rotation@example.org', 'subscribed', '{news}', now()) RETURNING id`,
    );
    subscriberId = s!.id;
    const [m] = await first.database.query<{ id: string }>(
      `SELECT id FROM users WHERE email = 'member@example.org'`,
    );
    memberId = m!.id;
  });
  after(async () => first.close());

  // Links as the emails sent before the change carry them (signed with the old secret).
  const newsletterLink = () =>
    `/newsletter/unsubscribe/${subscriberId}.${signer([OLD], 'newsletter', 32).sign(`unsubscribe:${subscriberId}`)}`;
  const communityLink = () =>
    `/community/notifications/unsubscribe/${makeUnsubscribeToken(OLD, memberId, 'reply')}`;

  test('with the old secret as SESSION_SECRET_PREVIOUS: two-step sign-in and old links work, and a used secret is sealed again', async () => {
    const before = await sealed('editor@example.org');
    const b = await restart(NEW, OLD);
    try {
      await signIn(b.app, 'editor@example.org', DEMO_PASSWORD, totp.editor);
      assert.notEqual(await sealed('editor@example.org'), before, 'sealed again on use');
      const news = await b.app.inject(newsletterLink());
      assert.equal(news.statusCode, 200);
      assert.match(news.body, /action="\/newsletter\/unsubscribe\//);
      const community = await b.app.inject(communityLink());
      assert.equal(community.statusCode, 200);
      assert.match(community.body, /action="\/community\/notifications\/unsubscribe\//);
    } finally {
      await b.app.close();
    }
  });

  test('secrets:reseal seals the rest; then the old secret can go for two-step sign-in', async () => {
    const env = {
      DATABASE_URL: process.env.DATABASE_URL,
      SESSION_SECRET: NEW,
      LOG_LEVEL: 'warn',
    };
    // The command needs the old secret, and says so.
    let err = '';
    const refused = await main(['secrets:reseal'], {
      env,
      out: () => {},
      err: (t) => (err += t),
    });
    assert.equal(refused, 2);
    assert.match(err, /SESSION_SECRET_PREVIOUS is not set/);

    const b = await restart(NEW, OLD);
    try {
      assert.deepEqual(await b.app.services.accounts.resealTwoStepSecrets(), {
        resealed: 1, // the admin's (the editor's was sealed again on use)
        current: 1,
        left: 0,
      });
      assert.deepEqual(await b.app.services.accounts.resealTwoStepSecrets(), {
        resealed: 0,
        current: 2,
        left: 0,
      });
    } finally {
      await b.app.close();
    }
    const c = await restart(NEW);
    try {
      await signIn(c.app, 'admin@example.org', DEMO_PASSWORD, totp.admin);
      await signIn(c.app, 'editor@example.org', DEMO_PASSWORD, totp.editor);
      // Without the old secret, links signed with it no longer work: why it stays given.
      const news = await c.app.inject(newsletterLink());
      assert.doesNotMatch(news.body, /action="\/newsletter\/unsubscribe\//);
      const community = await c.app.inject(communityLink());
      assert.doesNotMatch(community.body, /action="\/community\/notifications\/unsubscribe\//);
    } finally {
      await c.app.close();
    }
  });

  test('a two-step secret sealed under a secret no longer given: the code is refused with a message, not an error', async () => {
    const d = await restart(OTHER);
    try {
      const { res, cookie } = await submit(
        d.app,
        '/account/sign-in',
        '/account/sign-in',
        { email: 'admin@example.org', password: DEMO_PASSWORD },
        '',
      );
      assert.equal(res.statusCode, 303);
      assert.match(String(res.headers.location), /^\/account\/sign-in\/two-factor/);
      const code = new OTPAuth.TOTP({
        algorithm: 'SHA1',
        digits: 6,
        period: 30,
        secret: OTPAuth.Secret.fromBase32(totp.admin!),
      }).generate({ timestamp: Date.now() + 60_000 });
      const second = await submit(
        d.app,
        '/account/sign-in/two-factor',
        '/account/sign-in/two-factor',
        { code },
        cookie,
      );
      assert.equal(second.res.statusCode, 400);
      assert.match(second.res.body, /govuk-error-summary/);
    } finally {
      await d.app.close();
    }
  });
});
