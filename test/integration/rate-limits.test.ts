import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { DEMO_PASSWORD } from '../../src/features/accounts/seed.ts';
import { createEventsRepository } from '../../src/features/events/repository.ts';
import { parseTrustProxy } from '../../src/config.ts';
import { createLimits, TooMany } from '../../src/platform/rate-limit.ts';
import { csrfFor, type TestApp, testApp } from '../helpers/app.ts';
import { sentMail } from '../helpers/mail.ts';
import { signIn, submit } from '../helpers/session.ts';
import { enableTwoFactor } from '../helpers/totp.ts';

/**
 * Rate limits that tell a crowd from an attack (issue 18): guesses are
 * counted per account before the check, so parallel guesses cannot pass the
 * limit together; a crowd behind one network address (many people, many
 * email addresses) is not refused; the client address is read through
 * TRUST_PROXY only.
 */

const HOUR = 3600_000;
const form = { 'content-type': 'application/x-www-form-urlencoded' };

/** `n` POSTs of one form at once, each with its fields, from one network address. */
async function parallel(
  t: TestApp,
  page: string,
  action: string,
  n: number,
  fields: (i: number) => Record<string, string>,
  cookie = '',
  remoteAddress = '10.77.0.1',
) {
  const { token, cookie: jar } = await csrfFor(t.app, page, cookie);
  return Promise.all(
    Array.from({ length: n }, (_v, i) =>
      t.app.inject({
        method: 'POST',
        url: action,
        remoteAddress,
        headers: { ...form, cookie: jar },
        payload: new URLSearchParams({ ...fields(i), _csrf: token }).toString(),
      }),
    ),
  );
}

const countAudit = async (t: TestApp, event: string, method: string) =>
  Number(
    (
      await t.database.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM audit_log WHERE event = $1 AND detail->>'method' = $2`,
        [event, method],
      )
    )[0]!.n,
  );

describe('rate limits', () => {
  let t: TestApp;
  before(async () => {
    // Admission may queue requests as long as it likes here: on a busy test
    // machine its 2-second wait answered 503 to a rush, which is not what
    // these tests are about (none may be 429).
    t = await testApp({
      seed: true,
      config: {
        admission: { concurrency: 16, queue: 1000, maxWaitMs: 300_000 },
        // With REDIS_URL the counters are in Redis; a secret of this run's own
        // keeps earlier runs' counts (they last a day) from mattering.
        redisUrl: process.env.REDIS_URL || undefined,
        sessionSecret: randomBytes(32).toString('base64url'),
      },
    });
  });
  after(async () => t.close());

  test('30 parallel wrong passwords for one account: 5 are checked, the rest refused with when to try again', async () => {
    await t.app.services.accounts.createUserDirect({
      email: 'target@example.org',
      role: 'member',
      displayName: 'Target',
      password: 'the right password 42',
    });
    const before = await countAudit(t, 'signin.failure', 'password');
    const results = await parallel(t, '/account/sign-in', '/account/sign-in', 30, (i) => ({
      // The same account however it is typed.
      email: i % 2 ? 'target@example.org' : ' TARGET@Example.org',
      password: `guess number ${i}`,
    }));
    const statuses = results.map((r) => r.statusCode).sort();
    assert.deepEqual(statuses, [...Array(5).fill(400), ...Array(25).fill(429)]);
    assert.equal(
      (await countAudit(t, 'signin.failure', 'password')) - before,
      5,
      'only 5 passwords were checked',
    );
    const refused = results.find((r) => r.statusCode === 429)!;
    assert.ok(Number(refused.headers['retry-after']) > 0);
    assert.match(refused.body, /govuk-error-summary/);
    assert.match(refused.body, /too many times\. Wait 1 minute and try again/);
    assert.match(refused.body, /value="target@example\.org"/i, 'what was typed is kept');
    const right = await submit(t.app, '/account/sign-in', '/account/sign-in', {
      email: 'target@example.org',
      password: 'the right password 42',
    });
    assert.equal(right.res.statusCode, 429, 'the right password waits too');
    const other = await signIn(t.app, 'member@example.org', DEMO_PASSWORD);
    assert.ok(other.includes('sp_session='), 'other accounts are not affected');
  });

  test('Welsh: the refusal is in Welsh', async () => {
    await t.app.services.accounts.createUserDirect({
      email: 'cymraeg@example.org',
      role: 'member',
      displayName: 'Cymraeg',
      password: 'the right password 43',
    });
    const results = await parallel(
      t,
      '/account/sign-in?lang=cy',
      '/account/sign-in?lang=cy',
      6,
      (i) => ({ email: 'cymraeg@example.org', password: `dyfaliad ${i}` }),
    );
    const refused = results.find((r) => r.statusCode === 429);
    assert.ok(refused);
    assert.match(refused.body, /ormod o weithiau\. Arhoswch 1 munud/);
  });

  test('30 parallel wrong two-step codes: 5 are checked', async () => {
    await t.app.services.accounts.createUserDirect({
      email: 'twostep@example.org',
      role: 'member',
      displayName: 'Two Step',
      password: 'the right password 44',
    });
    await enableTwoFactor(t.app, 'twostep@example.org');
    const first = await submit(t.app, '/account/sign-in', '/account/sign-in', {
      email: 'twostep@example.org',
      password: 'the right password 44',
    });
    assert.match(String(first.res.headers.location), /two-factor/);
    const before = await countAudit(t, 'signin.failure', 'two-factor');
    const results = await parallel(
      t,
      '/account/sign-in/two-factor',
      '/account/sign-in/two-factor',
      30,
      (i) => ({ code: String(100000 + i) }),
      first.cookie,
    );
    const statuses = results.map((r) => r.statusCode).sort();
    assert.deepEqual(statuses, [...Array(5).fill(400), ...Array(25).fill(429)]);
    assert.equal((await countAudit(t, 'signin.failure', 'two-factor')) - before, 5);
    assert.match(results.find((r) => r.statusCode === 429)!.body, /too many codes\. Wait/);
  });

  test('30 parallel wrong current passwords on the change-password form: 5 are checked', async () => {
    await t.app.services.accounts.createUserDirect({
      email: 'changer@example.org',
      role: 'member',
      displayName: 'Changer',
      password: 'the right password 45',
    });
    const cookie = await signIn(t.app, 'changer@example.org', 'the right password 45');
    const results = await parallel(
      t,
      '/account/password',
      '/account/password',
      30,
      (i) => ({ current: `not it ${i}`, password: 'a brand new password 1' }),
      cookie,
    );
    const statuses = results.map((r) => r.statusCode).sort();
    assert.deepEqual(statuses, [...Array(5).fill(400), ...Array(25).fill(429)]);
    assert.match(results.find((r) => r.statusCode === 429)!.body, /your password too many times/);
  });

  test('sign-ups: 5 an hour per email address, whoever asks; other addresses from the same network go on', async () => {
    const register = (email: string, i: number) =>
      submit(
        t.app,
        '/account/register',
        '/account/register',
        {
          email,
          displayName: `Joiner ${i}`,
          kind: 'practitioner',
          password: 'a long enough password 9',
          agree: 'yes',
        },
        '',
        '10.77.1.1',
      );
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await register('joiner@example.org', i)).res.statusCode);
    assert.deepEqual(statuses, [303, 303, 303, 303, 303, 429]);
    const last = await register('joiner@example.org', 7);
    assert.match(last.res.body, /Too many accounts have been asked for with this email address/);
    for (let i = 0; i < 10; i++)
      assert.equal((await register(`colleague${i}@example.org`, i)).res.statusCode, 303);
  });

  test('reset emails: 3 an hour to one address, the page the same for the rest', async () => {
    await t.app.services.accounts.createUserDirect({
      email: 'forgetful@example.org',
      role: 'member',
      displayName: 'Forgetful',
      password: 'the right password 46',
    });
    for (let i = 0; i < 5; i++) {
      const { res } = await submit(t.app, '/account/password/forgot', '/account/password/forgot', {
        email: 'forgetful@example.org',
      });
      assert.equal(res.statusCode, 303);
    }
    const resets = (await sentMail(t.app)).filter(
      (m) => m.to === 'forgetful@example.org' && m.text.includes('/account/password/reset/'),
    );
    assert.equal(resets.length, 3);
  });

  test('100 different bookers from one network address within a minute all get an answer, none 429', async () => {
    const repo = createEventsRepository(t.database.db);
    const event = await repo.upsertEvent({
      slug: 'launch-rush',
      title: 'Launch rush',
      summary: 'A launch event',
      startsAt: new Date(Date.now() + 10 * 24 * HOUR),
      endsAt: new Date(Date.now() + 10 * 24 * HOUR + 2 * HOUR),
      mode: 'online',
      joiningLink: 'https://meet.example.org/launch',
      capacity: 60,
      maxPerBooking: 4,
      waitlistEnabled: true,
      organiserName: 'Organiser',
      organiserEmail: 'organiser@example.org',
      status: 'published',
    });
    const page = `/events/${event.slug}/book`;
    const book = (i: number) => ({
      bookerName: `Booker ${i}`,
      bookerEmail: `nhs-staff-${i}@example.org`,
      places: '1',
      attendee_0_name: `Booker ${i}`,
      choice: 'split',
    });
    // On PostgreSQL all at once; on PGlite (one connection) they queue anyway.
    const results = process.env.DATABASE_URL
      ? await parallel(t, page, page, 100, book, '', '10.50.0.1')
      : await (async () => {
          const out = [];
          for (let i = 0; i < 100; i += 10) {
            out.push(...(await parallel(t, page, page, 10, (j) => book(i + j), '', '10.50.0.1')));
          }
          return out;
        })();
    const statuses = results.map((r) => r.statusCode);
    assert.deepEqual(
      statuses.filter((s) => s !== 303),
      [],
      `every booking confirmed or on the waiting list: ${[...new Set(statuses)]}`,
    );
    const counts = await repo.counts(event.id);
    assert.deepEqual([counts.confirmed, counts.waiting], [60, 40]);
  });

  test('one address booking one event again and again is stopped after 6 in an hour, with a message at the email field', async () => {
    const repo = createEventsRepository(t.database.db);
    const event = await repo.upsertEvent({
      slug: 'one-booker',
      title: 'One booker',
      summary: 'An event',
      startsAt: new Date(Date.now() + 10 * 24 * HOUR),
      endsAt: new Date(Date.now() + 10 * 24 * HOUR + 2 * HOUR),
      mode: 'online',
      joiningLink: 'https://meet.example.org/one',
      capacity: 100,
      maxPerBooking: 4,
      organiserName: 'Organiser',
      organiserEmail: 'organiser@example.org',
      status: 'published',
    });
    const page = `/events/${event.slug}/book`;
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 7; i++) {
      last = await submit(
        t.app,
        page,
        page,
        {
          bookerName: 'Same',
          bookerEmail: i % 2 ? 'same@example.org' : 'SAME@example.org',
          places: '1',
          attendee_0_name: `Same ${i}`,
        },
        '',
        '10.51.0.1',
      );
      statuses.push(last.res.statusCode);
    }
    assert.deepEqual(statuses, [303, 303, 303, 303, 303, 303, 429]);
    assert.match(last!.res.body, /used to book this event too many times\. Wait/);
    assert.match(last!.res.body, /id="bookerEmail-error"/);
    assert.ok(Number(last!.res.headers['retry-after']) > 0);
  });
});

describe('rate limits: the counters', () => {
  test('a daily cap: once the day is used up the wait is in hours; per key; a reset starts again', async () => {
    const limits = createLimits({ secret: 'test' });
    const l = limits.define('capped', [
      { points: 100, seconds: 60 },
      { points: 3, seconds: 24 * 3600 },
    ]);
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await l.take('someone'));
    assert.deepEqual(
      results.map((r) => r.ok),
      [true, true, true, false, false],
    );
    const refused = results[3]!;
    assert.ok(!refused.ok && refused.retryAfterSeconds > 23 * 3600, 'until the day is over');
    await assert.rejects(l.consume('someone'), TooMany);
    assert.equal((await l.take('someone-else')).ok, true, 'per key');
    await l.reset('someone');
    assert.equal((await l.take('someone')).ok, true, 'a reset starts again');

    await limits.close();
  });

  test(
    'with Redis: two instances share the counters, and no email address is stored in clear',
    {
      skip: process.env.REDIS_URL ? false : 'set REDIS_URL (e.g. redis://127.0.0.1:6379) to run it',
    },
    async () => {
      const prefix = `sp-rl-test-${randomBytes(4).toString('hex')}`;
      const a = createLimits({ redisUrl: process.env.REDIS_URL, secret: 's', prefix });
      const b = createLimits({ redisUrl: process.env.REDIS_URL, secret: 's', prefix });
      const la = a.define('signin', [{ points: 5, seconds: 60 }]);
      const lb = b.define('signin', [{ points: 5, seconds: 60 }]);
      const all = await Promise.all(
        Array.from({ length: 20 }, (_v, i) => (i % 2 ? la : lb).take('someone@example.org')),
      );
      assert.equal(all.filter((r) => r.ok).length, 5, 'five across both instances');
      const { Redis } = await import('ioredis');
      const redis = new Redis(process.env.REDIS_URL!);
      const keys = await redis.keys(`${prefix}*`);
      assert.ok(keys.length > 0);
      assert.ok(keys.every((k) => !k.includes('someone') && !k.includes('@')));
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      await a.close();
      await b.close();
    },
  );
});

describe('TRUST_PROXY', () => {
  test('parses hops, CIDRs and names; refuses anything else', () => {
    assert.equal(parseTrustProxy(undefined), false);
    assert.equal(parseTrustProxy(''), false);
    assert.equal(parseTrustProxy('false'), false);
    assert.equal(parseTrustProxy('2'), 2);
    assert.deepEqual(parseTrustProxy('10.0.0.0/8, loopback'), ['10.0.0.0/8', 'loopback']);
    assert.deepEqual(parseTrustProxy('fd00::/8,192.168.1.10'), ['fd00::/8', '192.168.1.10']);
    assert.equal(parseTrustProxy('10.0.0.0/33'), null);
    assert.equal(parseTrustProxy('true'), null, 'trusting every hop is not offered');
    assert.equal(parseTrustProxy('proxy.example'), null);
  });

  const ceilingRoute = (app: FastifyInstance) =>
    app.get(
      '/__test/ceiling',
      { config: { access: 'public', a11y: false, rateLimit: { max: 2, timeWindow: 60_000 } } },
      async (req) => ({ ip: req.ip }),
    );

  test('off by default: X-Forwarded-For is ignored, so it cannot dodge a ceiling', async () => {
    const t = await testApp({ before: (app) => void ceilingRoute(app) });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) {
        const res = await t.app.inject({
          url: '/__test/ceiling',
          remoteAddress: '10.60.0.1',
          headers: { 'x-forwarded-for': `203.0.113.${i}` },
        });
        statuses.push(res.statusCode);
        if (res.statusCode === 200) assert.equal(res.json().ip, '10.60.0.1');
      }
      assert.deepEqual(statuses, [200, 200, 429]);
    } finally {
      await t.close();
    }
  });

  test('behind one proxy (TRUST_PROXY=1): each client behind it has its own ceiling', async () => {
    const t = await testApp({
      config: { trustProxy: 1 },
      before: (app) => void ceilingRoute(app),
    });
    try {
      const get = (client: string) =>
        t.app.inject({
          url: '/__test/ceiling',
          remoteAddress: '10.60.0.1',
          headers: { 'x-forwarded-for': `198.51.100.7, ${client}` },
        });
      const first = await get('203.0.113.1');
      assert.equal(first.json().ip, '203.0.113.1', 'the nearest hop beyond the proxy');
      assert.equal((await get('203.0.113.1')).statusCode, 200);
      assert.equal((await get('203.0.113.1')).statusCode, 429);
      assert.equal((await get('203.0.113.2')).statusCode, 200, 'another client goes on');
    } finally {
      await t.close();
    }
  });
});
