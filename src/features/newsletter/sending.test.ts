import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import { submitMultipart } from '../../../test/helpers/multipart.ts';
import { type SentMail, sentMail } from '../../../test/helpers/mail.ts';
import { signIn } from '../../../test/helpers/session.ts';
import { enableTwoFactor } from '../../../test/helpers/totp.ts';
import { DEMO_PASSWORD } from '../accounts/seed.ts';
import { londonParts } from '../../platform/dates.ts';
import type { Mailer } from '../../platform/mail.ts';
import { createNewsletterRepository } from './repository.ts';
import {
  BASE,
  headersOf,
  linkIn,
  newsletterService,
  post,
  signUp,
} from '../../../test/helpers/newsletter.ts';
import { type DigestItem, SEND_CONCURRENCY, SEND_JOB } from './service.ts';

/**
 * Issues from the editor's form to the recipients: preview, test, send
 * through the job queue in batches, counts; exactly once across a crash;
 * the digest; the suppression list for everything the site sends.
 */

/** Subscribers straight into the table (confirmed, with their consent logged). */
async function subscribers(
  t: TestApp,
  n: number,
  opts: { prefix: string; topics?: string[]; frequency?: string; locale?: string },
) {
  await t.database.query(
    `INSERT INTO newsletter_subscribers (email, state, topics, frequency, locale, confirmed_at)
     SELECT $1 || g || '@example.org', 'subscribed', string_to_array($2, ','), $3, $4, now()
     FROM generate_series(1, $5::int) g`,
    [
      opts.prefix,
      (opts.topics ?? ['resources']).join(','),
      opts.frequency ?? 'each',
      opts.locale ?? 'en',
      n,
    ],
  );
}

const counts = async (t: TestApp, issueId: string) =>
  Object.fromEntries(
    (
      await t.database.query<{ state: string; n: number }>(
        `SELECT state, count(*)::int AS n FROM newsletter_deliveries WHERE issue_id = $1 GROUP BY state`,
        [issueId],
      )
    ).map((r) => [r.state, Number(r.n)]),
  );

describe('newsletter issues and sending', () => {
  let t: TestApp;
  let editor: string;
  const seen = new Set<string>();
  async function fresh(to?: string): Promise<SentMail[]> {
    const all = (await sentMail(t.app)).filter((m) => !seen.has(m.raw));
    for (const m of all) seen.add(m.raw);
    return to ? all.filter((m) => m.to.includes(to)) : all;
  }
  const actor = async () => {
    const [row] = await t.database.query<{ id: string }>(
      `SELECT id FROM users WHERE email = 'editor@example.org'`,
    );
    return {
      id: row!.id,
      role: 'editor' as const,
      displayName: 'Demo Editor',
      approved: true,
      totpEnabled: true,
    };
  };

  before(async () => {
    t = await testApp({ seed: true, config: { baseUrl: BASE, newsletterPerMinute: 100_000 } });
    const secret = await enableTwoFactor(t.app, 'editor@example.org');
    editor = await signIn(t.app, 'editor@example.org', DEMO_PASSWORD, secret, '10.9.0.1');
  });
  after(async () => t.close());

  test('an editor writes, previews (HTML with inlined styles and a text part), tests and sends; only confirmed subscribers of its topics and language get it', async () => {
    // Confirmed: two on the topic in English, one on another topic, one in Welsh, one digest-only.
    await subscribers(t, 2, { prefix: 'reader-res-', topics: ['resources'] });
    await subscribers(t, 1, { prefix: 'reader-events-', topics: ['events'] });
    await subscribers(t, 1, { prefix: 'reader-cy-', topics: ['resources'], locale: 'cy' });
    await subscribers(t, 1, {
      prefix: 'reader-digest-',
      topics: ['resources'],
      frequency: 'digest',
    });
    // Unconfirmed: receives no issue.
    await signUp(t, 'unconfirmed@example.org', { topics: 'resources' });
    await fresh();

    const form = await post(
      t,
      '/admin/newsletter/issues/new',
      '/admin/newsletter/issues/new',
      {
        subject: 'Demo issue: spring',
        body: '## New this month\n\nA **demo** issue. [Read more](https://example.org/more)\n\n![A demo picture](https://example.org/picture.png)\n\n<script>alert(1)</script>',
        topics: ['resources'],
        locale: 'en',
      },
      { cookie: editor },
    );
    assert.equal(form.res.statusCode, 303);
    const id = /issues\/([0-9a-f-]{36})/.exec(String(form.res.headers.location))![1]!;

    const html = await t.app.inject({
      url: `/admin/newsletter/issues/${id}/preview`,
      headers: { cookie: editor },
    });
    assert.equal(html.statusCode, 200);
    assert.ok(!/<style/i.test(html.body), 'styles are inlined');
    assert.match(html.body, /<table role="presentation"/);
    assert.match(html.body, /<h2 style="[^"]+">New this month<\/h2>/);
    assert.match(html.body, /<img src="https:\/\/example\.org\/picture\.png" alt="A demo picture"/);
    assert.ok(!html.body.includes('<script>alert'), 'no script from the body');
    assert.equal((html.body.match(/<img /g) ?? []).length, 1, 'no tracking pixel');
    const text = await t.app.inject({
      url: `/admin/newsletter/issues/${id}/preview.txt`,
      headers: { cookie: editor },
    });
    assert.match(text.body, /Read more \(https:\/\/example\.org\/more\)/);
    assert.match(text.body, /Unsubscribe: https:\/\/sp\.example\.org\/newsletter\/unsubscribe\//);

    const tested = await post(
      t,
      `/admin/newsletter/issues/${id}`,
      `/admin/newsletter/issues/${id}/test`,
      {},
      { cookie: editor },
    );
    assert.equal(tested.res.statusCode, 303);
    const [testMail] = await fresh('editor@example.org');
    assert.equal(testMail!.subject, '[Test] Demo issue: spring');

    const sent = await post(
      t,
      `/admin/newsletter/issues/${id}`,
      `/admin/newsletter/issues/${id}/schedule`,
      { when: 'now' },
      { cookie: editor },
    );
    assert.equal(sent.res.statusCode, 303);
    const mails = await fresh();
    assert.deepEqual(mails.map((m) => m.to).sort(), [
      'reader-res-1@example.org',
      'reader-res-2@example.org',
    ]);
    const head = headersOf(mails[0]!.raw);
    assert.match(
      head,
      /^List-Unsubscribe: <https:\/\/sp\.example\.org\/newsletter\/unsubscribe\/[^>]+>$/m,
    );
    assert.match(head, /^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/m);
    assert.match(mails[0]!.raw, /Content-Type: multipart\/alternative/);
    assert.deepEqual(await counts(t, id), { sent: 2 });

    // The editors' page shows the counts; the archive shows the issue, and its feed.
    const page = await t.app.inject({
      url: `/admin/newsletter/issues/${id}`,
      headers: { cookie: editor },
    });
    assert.match(page.body, /Sent/);
    const archive = await t.app.inject({ url: '/newsletter/archive' });
    assert.match(archive.body, /Demo issue: spring/);
    const one = await t.app.inject({ url: `/newsletter/archive/${id}` });
    assert.equal(one.statusCode, 200);
    assert.match(one.body, /New this month/);
    const feed = await t.app.inject({ url: '/newsletter/archive/feed.atom' });
    assert.match(feed.headers['content-type'] as string, /atom/);
    assert.match(feed.body, new RegExp(`/newsletter/archive/${id}`));
    // A draft is not in the archive.
    const draft = await post(
      t,
      '/admin/newsletter/issues/new',
      '/admin/newsletter/issues/new',
      { subject: 'Not yet', body: 'x', topics: 'events', locale: 'en' },
      { cookie: editor },
    );
    const draftId = /issues\/([0-9a-f-]{36})/.exec(String(draft.res.headers.location))![1]!;
    assert.equal((await t.app.inject({ url: `/newsletter/archive/${draftId}` })).statusCode, 404);
  });

  test('an image for a draft: checked from its bytes, stored, added to the body with its description, served to mail programs', async () => {
    const draft = await post(
      t,
      '/admin/newsletter/issues/new',
      '/admin/newsletter/issues/new',
      { subject: 'With a picture', body: 'Hello.', topics: 'news', locale: 'en' },
      { cookie: editor },
    );
    const id = /issues\/([0-9a-f-]{36})/.exec(String(draft.res.headers.location))![1]!;
    const png = await sharp({ create: { width: 4, height: 3, channels: 3, background: '#0b5c5a' } })
      .png()
      .toBuffer();
    const page = `/admin/newsletter/issues/${id}`;
    const noAlt = await submitMultipart(
      t.app,
      page,
      `${page}/images`,
      { alt: '' },
      [{ name: 'image', filename: 'demo.png', content: png, type: 'image/png' }],
      editor,
    );
    assert.equal(noAlt.res.statusCode, 400);
    assert.match(noAlt.res.body, /Describe the image/);
    const fake = await submitMultipart(
      t.app,
      page,
      `${page}/images`,
      { alt: 'A demo' },
      [
        {
          name: 'image',
          filename: 'demo.png',
          content: Buffer.from('<svg onload=alert(1)>'),
          type: 'image/png',
        },
      ],
      editor,
    );
    assert.equal(fake.res.statusCode, 400);
    assert.match(fake.res.body, /PNG, JPEG or GIF/);
    const ok = await submitMultipart(
      t.app,
      page,
      `${page}/images`,
      { alt: 'A demo [green] square' },
      [{ name: 'image', filename: 'demo.png', content: png, type: 'image/png' }],
      editor,
    );
    assert.equal(ok.res.statusCode, 303);
    const [row] = await t.database.query<{ body: string }>(
      'SELECT body FROM newsletter_issues WHERE id = $1',
      [id],
    );
    const m =
      /!\[A demo {2}green {2}square\]\(https:\/\/sp\.example\.org(\/newsletter\/images\/[0-9a-f-]{36}\.png)\)/.exec(
        row!.body,
      );
    assert.ok(m, row!.body);
    const img = await t.app.inject({ url: m[1]! });
    assert.equal(img.statusCode, 200);
    assert.equal(img.headers['content-type'], 'image/png');
    assert.equal(img.headers['x-content-type-options'], 'nosniff');
    assert.deepEqual(img.rawPayload, png);
    assert.equal(
      (await t.app.inject({ url: '/newsletter/images/../../secret.png' })).statusCode,
      404,
    );
  });

  test('a send is in batches with a per-minute limit: the job sends its share and queues itself for the next minute', async () => {
    const repo = createNewsletterRepository(t.database.db);
    const slow = newsletterService(t, { repo, perMinute: 3 });
    await subscribers(t, 7, { prefix: 'batch-', topics: ['guidelines'] });
    const issue = await repo.insertIssue({
      subject: 'Batch',
      body: 'b',
      topics: ['guidelines'],
      locale: 'en',
    });
    await repo.updateIssue(issue.id, { state: 'scheduled', scheduledAt: new Date() });
    const before = Date.now();
    assert.equal(await slow.runSend(issue.id), 'more');
    assert.deepEqual(await counts(t, issue.id), { sent: 3, pending: 4 });
    const [next] = await t.database.query<{ run_at: Date }>(
      `SELECT run_at FROM jobs WHERE name = $1 AND status = 'pending' AND payload->>'issueId' = $2`,
      [SEND_JOB, issue.id],
    );
    assert.ok(next && next.run_at.getTime() >= before + 60_000, 'the next share waits a minute');
    assert.equal(await slow.runSend(issue.id), 'more');
    assert.equal(await slow.runSend(issue.id), 'done');
    assert.deepEqual(await counts(t, issue.id), { sent: 7 });
    await fresh();
    await t.database.query(`DELETE FROM jobs WHERE name = $1`, [SEND_JOB]);
  });

  test('a worker dies half way through a send to 2,000; after the restart each address has exactly one copy', async () => {
    await subscribers(t, 2000, { prefix: 'crash-', topics: ['news'] });
    const repo = createNewsletterRepository(t.database.db);
    const issue = await repo.insertIssue({
      subject: 'Crash test',
      body: 'Once only.',
      topics: ['news'],
      locale: 'en',
    });
    await repo.updateIssue(issue.id, { state: 'scheduled', scheduledAt: new Date() });
    const mailer = t.app.platform.mailer;
    // The first worker delivers 900 messages and is then killed: every later delivery it starts
    // never returns (as after kill -9, its claimed batch stays "sending"). No timer decides when:
    // the worker is dead once each of its SEND_CONCURRENCY lanes is stuck in a delivery, and a
    // lane marks the message it delivered before it starts the next one, so by then every one of
    // the 900 is recorded and the dead worker writes nothing more.
    const CRASH_AFTER = 900;
    let delivered = 0;
    let stuck = 0;
    let dead!: () => void;
    const killed = new Promise<void>((resolve) => (dead = resolve));
    const dying: Mailer['deliver'] = async (m) => {
      if (delivered >= CRASH_AFTER) {
        if (++stuck === SEND_CONCURRENCY) dead();
        return new Promise<never>(() => {});
      }
      delivered++;
      return mailer.deliver(m);
    };
    const first = t.app.services.newsletter.runSend(issue.id, { deliver: dying });
    // If the worker ended instead of dying, the test says so rather than waiting forever.
    await Promise.race([
      killed,
      first.then((r) => assert.fail(`the first worker ended (${r}) before its crash`)),
    ]);
    const mid = await counts(t, issue.id);
    assert.equal(mid.sent, CRASH_AFTER);
    assert.ok(mid.sending! >= SEND_CONCURRENCY, 'the dead worker holds its claimed batch');
    assert.equal(mid.sent + mid.sending! + (mid.pending ?? 0), 2000);
    // The restart: its lease has run out.
    await t.database.query(
      `UPDATE newsletter_deliveries SET claimed_at = now() - interval '1 hour' WHERE issue_id = $1 AND state = 'sending'`,
      [issue.id],
    );
    while ((await t.app.services.newsletter.runSend(issue.id)) === 'more');
    assert.deepEqual(await counts(t, issue.id), { sent: 2000 });
    const files = readdirSync(mailer.outbox!).filter((f) => f.includes(`nl-${issue.id}`));
    assert.equal(files.length, 2000, 'one message per address');
    const mails = (await sentMail(t.app)).filter((m) => m.subject === 'Crash test');
    const perAddress = new Map<string, number>();
    for (const m of mails) perAddress.set(m.to, (perAddress.get(m.to) ?? 0) + 1);
    assert.equal(perAddress.size, 2000);
    assert.ok([...perAddress.values()].every((n) => n === 1));
    for (const m of mails) seen.add(m.raw);
  });

  test('the digest holds exactly what was published since the last one, for each subscriber’s topics; nothing new, no digest', async () => {
    const published: Record<string, DigestItem[]> = { resources: [], events: [] };
    // The digests' clock: moved by the test, not by waiting.
    let clock = new Date();
    const at = (minutesAgo: number) => new Date(clock.getTime() - minutesAgo * 60_000);
    const digests = newsletterService(t, {
      sources: [
        { topic: 'resources', publishedBetween: async () => published.resources! },
        { topic: 'events', publishedBetween: async () => published.events! },
      ],
      now: () => clock,
    });
    await t.database.query(`UPDATE newsletter_subscribers SET state = 'unsubscribed'`);
    await subscribers(t, 1, { prefix: 'digest-res-', topics: ['resources'], frequency: 'digest' });
    await subscribers(t, 1, {
      prefix: 'digest-both-',
      topics: ['resources', 'events'],
      frequency: 'each',
    });
    await subscribers(t, 1, { prefix: 'digest-news-', topics: ['news'], frequency: 'digest' });
    await fresh();

    // The first digest: since the start of last month (70 days ago is always before it).
    published.resources = [
      {
        title: 'Demo resource old',
        url: 'https://example.org/r/old',
        publishedAt: at(60 * 24 * 70),
      },
      { title: 'Demo resource one', url: 'https://example.org/r/1', publishedAt: at(30) },
    ];
    published.events = [
      { title: 'Demo event one', url: 'https://example.org/e/1', publishedAt: at(20) },
    ];
    const first = await digests.makeDigest();
    assert.ok(first);
    const items = await t.database.query<{ title: string }>(
      'SELECT title FROM newsletter_issue_items WHERE issue_id = $1 ORDER BY title',
      [first.id],
    );
    assert.deepEqual(
      items.map((i) => i.title),
      ['Demo event one', 'Demo resource one'],
    );
    const repo = createNewsletterRepository(t.database.db);
    await repo.updateIssue(first.id, { state: 'scheduled', scheduledAt: clock });
    while ((await digests.runSend(first.id)) === 'more');
    const mails = await fresh();
    const byTo = new Map(mails.map((m) => [m.to, m.text]));
    assert.deepEqual([...byTo.keys()].sort(), [
      'digest-both-1@example.org',
      'digest-res-1@example.org',
    ]);
    assert.match(byTo.get('digest-res-1@example.org')!, /Demo resource one/);
    assert.ok(!byTo.get('digest-res-1@example.org')!.includes('Demo event one'));
    assert.ok(!byTo.get('digest-res-1@example.org')!.includes('Demo resource old'));
    assert.match(byTo.get('digest-both-1@example.org')!, /Demo resource one[\s\S]*|Demo event one/);
    assert.match(byTo.get('digest-both-1@example.org')!, /Demo event one/);
    assert.deepEqual(await counts(t, first.id), { sent: 2, skipped: 1 });

    // A week with nothing new: no digest at all.
    assert.equal(await digests.makeDigest(), undefined);
    // Something new after the last one: only that.
    published.resources.push({
      title: 'Demo resource two',
      url: 'https://example.org/r/2',
      publishedAt: new Date(clock.getTime() + 1000),
    });
    clock = new Date(clock.getTime() + 2000);
    const second = await digests.makeDigest();
    const secondItems = await t.database.query<{ title: string }>(
      'SELECT title FROM newsletter_issue_items WHERE issue_id = $1',
      [second!.id],
    );
    assert.deepEqual(
      secondItems.map((i) => i.title),
      ['Demo resource two'],
    );
  });

  test('a suppressed address receives nothing from any part of the site', async () => {
    const email = 'member@example.org';
    await t.database.query(
      `INSERT INTO mail_suppressions (email, reason, source) VALUES ($1, 'complaint', 'test') ON CONFLICT DO NOTHING`,
      [email],
    );
    await fresh();
    // An account email (a password reset), a newsletter sign-up, a direct send.
    // The same form for an address not suppressed does send (so the check below means something).
    await post(t, '/account/password/forgot', '/account/password/forgot', {
      email: 'parent@example.org',
    });
    assert.equal((await fresh('parent@example.org')).length, 1);
    await post(t, '/account/password/forgot', '/account/password/forgot', { email });
    await signUp(t, email);
    await t.app.platform.mailer.send({
      to: `Demo Member <${email}>`,
      subject: 'Direct',
      text: 'x',
    });
    assert.deepEqual(await fresh(email), []);
    // And after removal from the list, mail flows again.
    await t.database.query(`DELETE FROM mail_suppressions WHERE email = $1`, [email]);
    await t.app.platform.mailer.send({ to: email, subject: 'Direct again', text: 'x' });
    assert.deepEqual(
      (await fresh(email)).map((m) => m.subject),
      ['Direct again'],
    );
  });

  test('editors see subscribers by state, export them as CSV, and import only with consent evidence', async () => {
    const list = await t.app.inject({
      url: '/admin/newsletter/subscribers?state=unsubscribed&q=crash-1%40example',
      headers: { cookie: editor },
    });
    assert.equal(list.statusCode, 200);
    assert.match(list.body, /crash-1@example\.org/);
    const csv = await t.app.inject({
      url: '/admin/newsletter/subscribers.csv',
      headers: { cookie: editor },
    });
    assert.match(csv.body.split('\n')[0]!, /^email,name,state,topics/);

    const bad = await post(
      t,
      '/admin/newsletter/import',
      '/admin/newsletter/import',
      {
        csv: 'email,consent_date,consent_source\nimport1@example.org,2025-01-02,Event sign-up sheet\nnot-an-email,2025-01-02,x\nimport3@example.org,,Stall\n',
      },
      { cookie: editor },
    );
    assert.equal(bad.res.statusCode, 400);
    assert.match(bad.res.body, /Line 3/);
    assert.match(bad.res.body, /Line 4/);
    const none = await t.database.query(
      `SELECT 1 FROM newsletter_subscribers WHERE email LIKE 'import%'`,
    );
    assert.equal(none.length, 0, 'nothing imported when any row is bad');

    const noConsent = await post(
      t,
      '/admin/newsletter/import',
      '/admin/newsletter/import',
      { csv: 'email\nimport1@example.org\n' },
      { cookie: editor },
    );
    assert.equal(noConsent.res.statusCode, 400);
    assert.match(noConsent.res.body, /consent_date and consent_source/);

    const good = await post(
      t,
      '/admin/newsletter/import',
      '/admin/newsletter/import',
      {
        csv: 'email,name,topics,consent_date,consent_source\nimport1@example.org,Demo One,events;news,2025-01-02,Event sign-up sheet\n',
      },
      { cookie: editor },
    );
    assert.equal(good.res.statusCode, 200);
    const [row] = await t.database.query<{
      state: string;
      topics: string[];
      event: string;
      form: string;
    }>(
      `SELECT s.state, s.topics, c.event, c.form FROM newsletter_subscribers s JOIN newsletter_consent c ON c.subscriber_id = s.id WHERE s.email = 'import1@example.org'`,
    );
    assert.deepEqual(row, {
      state: 'subscribed',
      topics: ['events', 'news'],
      event: 'imported',
      form: 'import: Event sign-up sheet',
    });
  });

  test('only editors reach the editors’ pages; the service refuses others too', async () => {
    const member = await signIn(t.app, 'parent@example.org', DEMO_PASSWORD, undefined, '10.9.0.2');
    const res = await t.app.inject({ url: '/admin/newsletter', headers: { cookie: member } });
    assert.equal(res.statusCode, 403);
    const asMember = { ...(await actor()), role: 'member' as const };
    await assert.rejects(() => t.app.services.newsletter.issues(asMember));
  });

  test('scheduled for later: nothing goes before its time; stopped and scheduled again, the old job sends nothing early', async () => {
    const draft = await post(
      t,
      '/admin/newsletter/issues/new',
      '/admin/newsletter/issues/new',
      { subject: 'Later', body: 'later', topics: 'services', locale: 'en' },
      { cookie: editor },
    );
    const id = /issues\/([0-9a-f-]{36})/.exec(String(draft.res.headers.location))![1]!;
    const tomorrow = londonParts(new Date(Date.now() + 24 * 3600 * 1000));
    const pad = (n: number) => String(n).padStart(2, '0');
    const bad = await post(
      t,
      `/admin/newsletter/issues/${id}`,
      `/admin/newsletter/issues/${id}/schedule`,
      { when: 'later', date: '2020-01-01', time: '09:00' },
      { cookie: editor },
    );
    assert.equal(bad.res.statusCode, 400);
    assert.match(bad.res.body, /Enter a date and time in the future/);
    const ok = await post(
      t,
      `/admin/newsletter/issues/${id}`,
      `/admin/newsletter/issues/${id}/schedule`,
      {
        when: 'later',
        date: `${tomorrow.year}-${pad(tomorrow.month)}-${pad(tomorrow.day)}`,
        time: '09:00',
      },
      { cookie: editor },
    );
    assert.equal(ok.res.statusCode, 303);
    const state = async () =>
      (
        await t.database.query<{ state: string }>(
          'SELECT state FROM newsletter_issues WHERE id = $1',
          [id],
        )
      )[0]!.state;
    assert.equal(await state(), 'scheduled');
    await t.app.platform.jobs.runDue(50);
    assert.equal(await state(), 'scheduled');
    await post(
      t,
      `/admin/newsletter/issues/${id}`,
      `/admin/newsletter/issues/${id}/unschedule`,
      {},
      { cookie: editor },
    );
    assert.equal(await state(), 'draft');
    await t.app.services.newsletter.schedule(
      await actor(),
      id,
      new Date(Date.now() + 2 * 24 * 3600 * 1000),
    );
    // The first job comes due: the issue is now for a later time, so it waits.
    await t.database.query(
      `UPDATE jobs SET run_at = now() WHERE name = $1 AND status = 'pending'`,
      [SEND_JOB],
    );
    await t.app.platform.jobs.runDue(50);
    assert.equal(await state(), 'scheduled');
    assert.deepEqual(await counts(t, id), {});
    await t.database.query(`DELETE FROM jobs WHERE name = $1`, [SEND_JOB]);
  });

  test('a member who deletes their account leaves no subscription behind, nor its log', async () => {
    await t.database.query(
      `INSERT INTO newsletter_subscribers (email, state, topics, confirmed_at) VALUES ('moderator@example.org', 'subscribed', '{news}', now())`,
    );
    const [u] = await t.database.query<{ id: string }>(
      `SELECT id FROM users WHERE email = 'moderator@example.org'`,
    );
    await t.app.services.accounts.deleteAccount(u!.id, false);
    assert.equal(
      (
        await t.database.query(
          `SELECT 1 FROM newsletter_subscribers WHERE email = 'moderator@example.org'`,
        )
      ).length,
      0,
    );
  });

  test('a confirmed subscriber gets a welcome; the link in it manages their choices', async () => {
    await fresh();
    await signUp(t, 'welcome.me@example.org');
    const [c] = await fresh('welcome.me@example.org');
    const link = linkIn(c!, '/newsletter/confirm/');
    await post(t, link, link, {});
    const [w] = await fresh('welcome.me@example.org');
    const prefs = await t.app.inject({ url: linkIn(w!, '/newsletter/preferences/') });
    assert.equal(prefs.statusCode, 200);
  });
});

describe('the digest, made of what each feature published (as wired in app.ts)', () => {
  let t: TestApp;
  after(async () => t?.close());

  test('news and stories (not a scheduled one), guideline versions: exactly what is new since the last digest, each subscriber getting their topics', async () => {
    t = await testApp({ seed: true, config: { baseUrl: BASE, newsletterPerMinute: 100_000 } });
    const nl = t.app.services.newsletter;
    const [editor] = await t.database.query<{ id: string }>(
      `SELECT id FROM users WHERE email = 'editor@example.org'`,
    );
    const actor = {
      id: editor!.id,
      role: 'editor' as const,
      displayName: 'Demo Editor',
      approved: true,
      totpEnabled: true,
    };
    // Whatever the demo content published so far goes into a first digest, sent (a draft never
    // sent does not count); the test starts after it (the clock is past its end, so "since the
    // last one" is unambiguous).
    const first = await nl.makeDigest();
    if (first) {
      await createNewsletterRepository(t.database.db).updateIssue(first.id, {
        state: 'scheduled',
        scheduledAt: new Date(),
      });
      while ((await nl.runSend(first.id)) === 'more');
    }
    const since = first?.coversUntil ?? new Date();
    while (Date.now() <= since.getTime()) await new Promise((r) => setImmediate(r));

    const article = (kind: 'news' | 'story', title: string) => ({
      kind,
      title,
      standfirst: `${title}: the standfirst.`,
      body: 'A demo body.',
      language: 'en' as const,
      authors: [{ name: 'Demo Editor', role: 'Editor' }],
      topics: [],
      authorities: [],
      services: [],
      statements: [],
      featuresParent: false,
      commentsOpen: true,
    });
    const articles = t.app.services.articles;
    for (const [kind, title] of [
      ['news', 'Digest news item (demo)'],
      ['story', 'Digest practice story (demo)'],
    ] as const)
      assert.ok((await articles.save(actor, undefined, article(kind, title), 'publish'))?.ok);
    const later = await articles.save(
      actor,
      undefined,
      article('news', 'Digest news for tomorrow (demo)'),
      'schedule',
      new Date(Date.now() + 24 * 3600 * 1000),
    );
    assert.ok(later?.ok);
    const guidelines = t.app.services.guidelines;
    const [g] = await guidelines.list();
    const yaml = (await guidelines.exportYaml(g!.guideline.slug))!;
    const v2 = yaml.replace(
      /^version:\n {2}number: \d+\n {2}label: .*$/m,
      'version:\n  number: 2\n  label: A second version for the digest',
    );
    assert.notEqual(v2, yaml);
    assert.ok((await guidelines.importYaml(v2)).ok);

    const digest = await nl.makeDigest();
    assert.ok(digest, 'something new: a draft digest');
    const items = await t.database.query<{ topic: string; title: string; url: string }>(
      'SELECT topic, title, url FROM newsletter_issue_items WHERE issue_id = $1 ORDER BY title',
      [digest.id],
    );
    assert.deepEqual(
      items.map((i) => [i.topic, i.title, i.url]),
      [
        ['news', 'Digest news item (demo)', `${BASE}/news/digest-news-item-demo`],
        ['news', 'Digest practice story (demo)', `${BASE}/stories/digest-practice-story-demo`],
        [
          'guidelines',
          `${g!.guideline.title}: A second version for the digest`,
          `${BASE}/guidelines/${g!.guideline.slug}/changes?from=1&to=2`,
        ],
      ].sort((a, b) => a[1]!.localeCompare(b[1]!)),
    );
    // Each subscriber gets the items of their topics only.
    await t.database.query(`UPDATE newsletter_subscribers SET state = 'unsubscribed'`);
    await subscribers(t, 1, { prefix: 'digest-news-', topics: ['news'], frequency: 'digest' });
    await subscribers(t, 1, { prefix: 'digest-gl-', topics: ['guidelines'], frequency: 'each' });
    await subscribers(t, 1, { prefix: 'digest-ev-', topics: ['events'], frequency: 'digest' });
    await createNewsletterRepository(t.database.db).updateIssue(digest.id, {
      state: 'scheduled',
      scheduledAt: new Date(),
    });
    while ((await nl.runSend(digest.id)) === 'more');
    const mails = (await sentMail(t.app)).filter((m) => m.to.startsWith('digest-'));
    const to = (p: string) => mails.find((m) => m.to.startsWith(p))?.text ?? '';
    assert.match(to('digest-news-'), /Digest news item \(demo\)/);
    assert.match(to('digest-news-'), /Digest practice story \(demo\): the standfirst\./);
    assert.doesNotMatch(to('digest-news-'), /A second version for the digest/);
    assert.match(to('digest-gl-'), /A second version for the digest/);
    assert.match(to('digest-gl-'), /\/guidelines\/[a-z0-9-]+\/changes\?from=1&to=2/);
    assert.doesNotMatch(to('digest-gl-'), /Digest news item/);
    assert.equal(to('digest-ev-'), '', 'nothing on their topics: no email');
    assert.deepEqual(await counts(t, digest.id), { sent: 2, skipped: 1 });
    // Nothing new since: no digest.
    while (Date.now() <= digest.coversUntil!.getTime()) await new Promise((r) => setImmediate(r));
    assert.equal(await nl.makeDigest(), undefined);
  });
});
