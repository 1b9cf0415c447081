import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import { parseImport } from './import.ts';
import { BadWebhook, parseWebhook } from './webhooks.ts';

/** Bounces and complaints: the three formats, the rules, the webhook's secret; the CSV import's checks. */

const SECRET = 'hook-secret-for-tests-0123456789';

const sns = (message: unknown) => ({
  Type: 'Notification',
  MessageId: 'demo',
  TopicArn: 'arn:aws:sns:eu-west-2:000000000000:demo',
  Message: JSON.stringify(message),
});

test('the generic format: one event or a list; hard, soft, complaint; bad input refused', () => {
  assert.deepEqual(
    parseWebhook('generic', {
      type: 'bounce',
      bounce: 'hard',
      email: 'A@Example.org',
      reason: 'no such user',
    }),
    [{ email: 'a@example.org', kind: 'hard-bounce', at: undefined, detail: 'no such user' }],
  );
  const list = parseWebhook('generic', {
    events: [
      { type: 'bounce', bounce: 'soft', email: 'b@example.org', at: '2026-01-02T03:04:05Z' },
      { type: 'complaint', email: 'c@example.org' },
    ],
  });
  assert.deepEqual(
    list.map((e) => [e.email, e.kind]),
    [
      ['b@example.org', 'soft-bounce'],
      ['c@example.org', 'complaint'],
    ],
  );
  assert.equal(list[0]!.at?.toISOString(), '2026-01-02T03:04:05.000Z');
  assert.throws(
    () => parseWebhook('generic', { type: 'bounce', email: 'not-an-address' }),
    BadWebhook,
  );
  assert.throws(() => parseWebhook('generic', '{not json'), BadWebhook);
});

test('Amazon SES through SNS: Permanent is hard, Transient soft, complaints; SNS sends JSON as text', () => {
  const hard = parseWebhook(
    'ses',
    JSON.stringify(
      sns({
        notificationType: 'Bounce',
        bounce: {
          bounceType: 'Permanent',
          bounceSubType: 'General',
          bouncedRecipients: [{ emailAddress: 'x@example.org' }, { emailAddress: 'y@example.org' }],
          timestamp: '2026-02-01T10:00:00.000Z',
        },
      }),
    ),
  );
  assert.deepEqual(
    hard.map((e) => [e.email, e.kind, e.detail]),
    [
      ['x@example.org', 'hard-bounce', 'Permanent/General'],
      ['y@example.org', 'hard-bounce', 'Permanent/General'],
    ],
  );
  const soft = parseWebhook(
    'ses',
    sns({
      notificationType: 'Bounce',
      bounce: { bounceType: 'Transient', bouncedRecipients: [{ emailAddress: 'z@example.org' }] },
    }),
  );
  assert.equal(soft[0]!.kind, 'soft-bounce');
  const complaint = parseWebhook(
    'ses',
    sns({
      notificationType: 'Complaint',
      complaint: {
        complainedRecipients: [{ emailAddress: 'c@example.org' }],
        complaintFeedbackType: 'abuse',
      },
    }),
  );
  assert.deepEqual(
    complaint.map((e) => [e.email, e.kind, e.detail]),
    [['c@example.org', 'complaint', 'abuse']],
  );
  // A subscription confirmation or a delivery is not a bounce.
  assert.deepEqual(
    parseWebhook('ses', { Type: 'SubscriptionConfirmation', SubscribeURL: 'https://example.org' }),
    [],
  );
  assert.deepEqual(parseWebhook('ses', sns({ notificationType: 'Delivery' })), []);
});

test('Postmark: HardBounce and SpamComplaint at once, SoftBounce counted, other types ignored', () => {
  const one = (body: Record<string, unknown>) =>
    parseWebhook('postmark', { Email: 'p@example.org', ...body });
  assert.equal(one({ RecordType: 'Bounce', Type: 'HardBounce' })[0]!.kind, 'hard-bounce');
  assert.equal(one({ RecordType: 'Bounce', Type: 'SoftBounce' })[0]!.kind, 'soft-bounce');
  assert.equal(one({ RecordType: 'SpamComplaint', Type: 'SpamComplaint' })[0]!.kind, 'complaint');
  assert.deepEqual(one({ RecordType: 'Delivery' }), []);
  assert.deepEqual(one({ RecordType: 'Bounce', Type: 'Subscribe' }), []);
});

test('the import needs consent for every row and reports every bad row', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const ok = parseImport(
    'Email,Name,Topics,Frequency,Language,Consent_Date,Consent_Source\na@example.org,A,resources;events,digest,cy,2026-01-02,Stall at conference\nb@example.org,,,,,2025-12-31T10:00:00Z,Paper form\n',
    now,
  );
  assert.deepEqual(ok.problems, []);
  assert.deepEqual(
    ok.rows.map((r) => [r.email, r.topics.join(';'), r.frequency, r.locale, r.source]),
    [
      ['a@example.org', 'resources;events', 'digest', 'cy', 'Stall at conference'],
      ['b@example.org', 'resources;events;services;guidelines;news', 'each', 'en', 'Paper form'],
    ],
  );
  const bad = parseImport(
    'email,topics,frequency,language,consent_date,consent_source\n' +
      'x,,,,2026-01-01,s\n' + // 2 email
      'a@example.org,,,,2026-01-01,s\n' + // 3 fine
      'A@example.org,,,,2026-01-01,s\n' + // 4 duplicate
      'c@example.org,,,,yesterday,s\n' + // 5 date
      'd@example.org,,,,2027-01-01,s\n' + // 6 future
      'e@example.org,,,,2026-01-01,\n' + // 7 source
      'f@example.org,gossip,,,2026-01-01,s\n' + // 8 topic
      'g@example.org,,weekly,,2026-01-01,s\n' + // 9 frequency
      'h@example.org,,,fr,2026-01-01,s\n', // 10 language
    now,
  );
  assert.deepEqual(
    bad.problems.map((p) => [p.line, p.problem]),
    [
      [2, 'email'],
      [4, 'duplicate'],
      [5, 'consentDate'],
      [6, 'consentFuture'],
      [7, 'consentSource'],
      [8, 'topics'],
      [9, 'frequency'],
      [10, 'language'],
    ],
  );
  assert.deepEqual(parseImport('email,name\na@example.org,A\n', now).problems, [
    { line: 1, problem: 'columns' },
  ]);
  assert.deepEqual(parseImport('', now).problems, [{ line: 1, problem: 'empty' }]);
});

describe('the mail webhooks', () => {
  let t: TestApp;
  before(async () => {
    t = await testApp({ config: { mailWebhookSecret: SECRET } });
  });
  after(async () => t.close());
  const hook = (
    provider: string,
    body: unknown,
    headers: Record<string, string> = { 'x-webhook-secret': SECRET },
  ) =>
    t.app.inject({
      method: 'POST',
      url: `/hooks/mail/${provider}`,
      headers: {
        'content-type': typeof body === 'string' ? 'text/plain' : 'application/json',
        ...headers,
      },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const suppression = async (email: string) =>
    (
      await t.database.query<{ reason: string; source: string }>(
        'SELECT reason, source FROM mail_suppressions WHERE email = $1',
        [email],
      )
    )[0];

  test('the shared secret is required (header, basic auth or query), and unknown providers are not found', async () => {
    const body = { type: 'bounce', bounce: 'hard', email: 'h@example.org' };
    assert.equal((await hook('generic', body, {})).statusCode, 401);
    assert.equal((await hook('generic', body, { 'x-webhook-secret': 'wrong' })).statusCode, 401);
    assert.equal(await suppression('h@example.org'), undefined);
    assert.equal((await hook('sendgrid', body)).statusCode, 404);
    const basic = `Basic ${Buffer.from(`mail:${SECRET}`).toString('base64')}`;
    assert.equal((await hook('generic', body, { authorization: basic })).statusCode, 200);
    assert.deepEqual(await suppression('h@example.org'), {
      reason: 'hard-bounce',
      source: 'generic',
    });
    const viaQuery = await t.app.inject({
      method: 'POST',
      url: `/hooks/mail/generic?secret=${SECRET}`,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ type: 'complaint', email: 'q@example.org' }),
    });
    assert.equal(viaQuery.statusCode, 200);
    assert.equal((await hook('generic', { nonsense: true })).statusCode, 400);
  });

  test('a complaint (SES, as SNS sends it) suppresses at once and is logged as consent for a subscriber', async () => {
    await t.database.query(
      `INSERT INTO newsletter_subscribers (email, state, topics, confirmed_at) VALUES ('complainer@example.org', 'subscribed', '{news}', now())`,
    );
    const res = await hook(
      'ses',
      JSON.stringify(
        sns({
          notificationType: 'Complaint',
          complaint: { complainedRecipients: [{ emailAddress: 'complainer@example.org' }] },
        }),
      ),
    );
    assert.equal(res.statusCode, 200);
    assert.deepEqual(await suppression('complainer@example.org'), {
      reason: 'complaint',
      source: 'ses',
    });
    const log = await t.database.query<{ event: string; detail: { reason: string } }>(
      `SELECT c.event, c.detail FROM newsletter_consent c JOIN newsletter_subscribers s ON s.id = c.subscriber_id WHERE s.email = 'complainer@example.org'`,
    );
    assert.deepEqual(log, [{ event: 'suppressed', detail: { reason: 'complaint' } }]);
    // Said twice: still one suppression and one log entry.
    await hook(
      'ses',
      sns({
        notificationType: 'Complaint',
        complaint: { complainedRecipients: [{ emailAddress: 'complainer@example.org' }] },
      }),
    );
    assert.equal(
      (
        await t.database.query(
          `SELECT 1 FROM newsletter_consent c JOIN newsletter_subscribers s ON s.id = c.subscriber_id WHERE s.email = 'complainer@example.org'`,
        )
      ).length,
      1,
    );
  });

  test('soft bounces (Postmark): suppressed at the third within 30 days, not before; older ones do not count', async () => {
    const soft = () =>
      hook('postmark', { RecordType: 'Bounce', Type: 'SoftBounce', Email: 'soft@example.org' });
    await t.database.query(
      `INSERT INTO mail_events (email, kind, provider, at) VALUES ('soft@example.org', 'soft-bounce', 'postmark', now() - interval '40 days')`,
    );
    await soft();
    await soft();
    assert.equal(await suppression('soft@example.org'), undefined);
    await soft();
    assert.deepEqual(await suppression('soft@example.org'), {
      reason: 'soft-bounces',
      source: 'postmark',
    });
    // Hard bounce and complaint kept apart in the record.
    await hook('postmark', {
      RecordType: 'SpamComplaint',
      Type: 'SpamComplaint',
      Email: 'soft@example.org',
    });
    const kinds = await t.database.query<{ kind: string }>(
      `SELECT kind FROM mail_events WHERE email = 'soft@example.org' ORDER BY id`,
    );
    assert.deepEqual(
      kinds.map((k) => k.kind),
      ['soft-bounce', 'soft-bounce', 'soft-bounce', 'soft-bounce', 'complaint'],
    );
  });

  test('without a secret configured the webhooks are not there', async () => {
    const bare = await testApp();
    try {
      const res = await bare.app.inject({
        method: 'POST',
        url: '/hooks/mail/generic',
        headers: { 'content-type': 'application/json', 'x-webhook-secret': '' },
        payload: '{}',
      });
      assert.equal(res.statusCode, 404);
    } finally {
      await bare.close();
    }
  });
});
