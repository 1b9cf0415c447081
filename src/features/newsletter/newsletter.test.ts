import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import { type SentMail, sentMail } from '../../../test/helpers/mail.ts';
import { signIn } from '../../../test/helpers/session.ts';
import { DEMO_PASSWORD } from '../accounts/seed.ts';
import { PURGE_JOB } from './service.ts';
import {
  BASE,
  headersOf,
  linkIn,
  nextIp,
  post,
  samePage,
  signUp,
} from '../../../test/helpers/newsletter.ts';

/**
 * The mailing list against the real database: double opt-in, the same
 * answer for every address, the consent log, preferences, RFC 8058
 * unsubscribe, member sign-up, the removal of unconfirmed sign-ups.
 */

describe('newsletter sign-up and consent', () => {
  let t: TestApp;
  const seen = new Set<string>();
  async function fresh(to?: string): Promise<SentMail[]> {
    const all = (await sentMail(t.app)).filter((m) => !seen.has(m.raw));
    for (const m of all) seen.add(m.raw);
    return to ? all.filter((m) => m.to.includes(to)) : all;
  }
  const consent = (email: string) =>
    t.database.query<{
      event: string;
      form: string;
      wording: string;
      locale: string;
      ip_hash: string | null;
    }>(
      `SELECT c.event, c.form, c.wording, c.locale, c.ip_hash FROM newsletter_consent c
       JOIN newsletter_subscribers s ON s.id = c.subscriber_id WHERE s.email = $1 ORDER BY c.id`,
      [email],
    );
  const state = async (email: string) =>
    (
      await t.database.query<{ state: string }>(
        'SELECT state FROM newsletter_subscribers WHERE email = $1',
        [email],
      )
    )[0]?.state;

  before(async () => {
    t = await testApp({ seed: true, config: { baseUrl: BASE } });
  });
  after(async () => t.close());

  test('sign-up → confirmation email → a page with a button → confirmed → welcome; the consent log records each step', async () => {
    const email = 'new.reader@example.org';
    const { res } = await signUp(t, email, { name: 'Demo Reader' }, '192.0.2.7');
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/newsletter/check-email');
    const [confirmation, ...others] = await fresh(email);
    assert.equal(others.length, 0, 'nothing but the confirmation before the link is used');
    assert.match(confirmation!.subject, /Confirm your sign-up/);
    const link = linkIn(confirmation!, '/newsletter/confirm/');

    // Opening the link (a mail scanner, a preview) changes nothing.
    const page = await t.app.inject({ url: link });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Confirm my sign-up/);
    assert.equal(await state(email), 'pending');

    const done = await post(t, link, link, {}, { ip: '192.0.2.8' });
    assert.equal(done.res.statusCode, 200);
    assert.match(done.res.body, /You are signed up/);
    assert.equal(await state(email), 'subscribed');
    const [welcome] = await fresh(email);
    assert.match(welcome!.subject, /Welcome/);
    const head = headersOf(welcome!.raw);
    assert.match(
      head,
      /^List-Unsubscribe: <https:\/\/sp\.example\.org\/newsletter\/unsubscribe\//m,
    );
    assert.match(head, /^List-Unsubscribe-Post: List-Unsubscribe=One-Click/m);
    assert.ok(linkIn(welcome!, '/newsletter/preferences/'));

    // The button again: the link is used up.
    const again = await post(t, '/newsletter', link, {});
    assert.equal(again.res.statusCode, 404);

    const log = await consent(email);
    assert.deepEqual(
      log.map((c) => [c.event, c.form, c.wording, c.locale]),
      [
        ['asked', 'page', 'signup-2026-12', 'en'],
        ['confirmed', 'confirmation-link', 'confirm-2026-12', 'en'],
      ],
    );
    // A hash of the address, never the address; different addresses, different hashes.
    assert.match(log[0]!.ip_hash!, /^[0-9a-f]{32}$/);
    assert.notEqual(log[0]!.ip_hash, log[1]!.ip_hash);
    const raw = await t.database.query(`SELECT * FROM newsletter_consent`);
    assert.ok(!JSON.stringify(raw).includes('192.0.2.7'));
  });

  test('the consent log is only ever added to: the database refuses updates and deletes', async () => {
    await assert.rejects(
      () => t.database.query(`UPDATE newsletter_consent SET form = 'x'`),
      /append-only/,
    );
    await assert.rejects(() => t.database.query(`DELETE FROM newsletter_consent`), /append-only/);
  });

  test('the same answer for a new, pending, subscribed and suppressed address; only the owner learns which', async () => {
    await signUp(t, 'pending.one@example.org');
    await t.database.query(
      `UPDATE newsletter_subscribers SET asked_at = now() - interval '1 hour' WHERE email = 'pending.one@example.org'`,
    );
    await t.database.query(
      `INSERT INTO mail_suppressions (email, reason, source) VALUES ('bounced@example.org', 'hard-bounce', 'test')`,
    );
    await fresh();
    const answers = [];
    for (const email of [
      'brand.new@example.org',
      'pending.one@example.org',
      'new.reader@example.org', // subscribed above
      'bounced@example.org',
    ]) {
      const { res } = await signUp(t, email);
      const page = await t.app.inject({ url: res.headers.location as string });
      answers.push([res.statusCode, res.headers.location, samePage(page.body)]);
    }
    for (const a of answers) assert.deepEqual(a, answers[0]);
    const mails = await fresh();
    const to = (e: string) => mails.filter((m) => m.to.includes(e)).map((m) => m.subject);
    assert.deepEqual(to('brand.new@example.org'), [
      'Confirm your sign-up to the Supporting Parents newsletter',
    ]);
    assert.deepEqual(to('pending.one@example.org'), [
      'Confirm your sign-up to the Supporting Parents newsletter',
    ]);
    assert.deepEqual(to('new.reader@example.org'), [
      'You are already on the Supporting Parents mailing list',
    ]);
    assert.deepEqual(to('bounced@example.org'), []);
    // Already subscribed: nothing about the subscription changed.
    assert.equal(await state('new.reader@example.org'), 'subscribed');
  });

  test('a form with problems: GOV.UK errors, what was typed kept, nothing stored', async () => {
    const { res } = await post(t, '/newsletter', '/newsletter', {
      email: 'not-an-address',
      name: 'Kept Name',
      frequency: 'each',
      locale: 'en',
    });
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /govuk-error-summary/);
    assert.match(res.body, /Enter an email address in the correct format/);
    assert.match(res.body, /Select at least one topic/);
    assert.match(res.body, /value="not-an-address"/);
    assert.match(res.body, /value="Kept Name"/);
    assert.equal(await state('not-an-address'), undefined);
  });

  test('unconfirmed sign-ups are removed after 7 days by the job queue, their log with them', async () => {
    await signUp(t, 'old.pending@example.org');
    await signUp(t, 'young.pending@example.org');
    await t.database.query(
      `UPDATE newsletter_subscribers SET asked_at = now() - interval '8 days' WHERE email = 'old.pending@example.org'`,
    );
    await t.app.platform.jobs.enqueue(PURGE_JOB, {});
    await t.app.platform.jobs.runDue(50);
    assert.equal(await state('old.pending@example.org'), undefined);
    assert.equal(await state('young.pending@example.org'), 'pending');
    assert.equal(await state('new.reader@example.org'), 'subscribed');
  });

  test('the footer of every page has the short form, which leads to the full one with the address filled in', async () => {
    for (const url of ['/', '/events', '/resources', '/newsletter/archive']) {
      const res = await t.app.inject({ url });
      assert.match(res.body, /<form method="get" action="\/newsletter"/, url);
      assert.match(res.body, /id="newsletter-footer-email"/, url);
    }
    const res = await t.app.inject({ url: '/newsletter?source=footer&email=foot%40example.org' });
    assert.match(res.body, /value="foot@example.org"/);
    assert.match(res.body, /name="source" value="footer"/);
    await signUp(t, 'foot@example.org', { source: 'footer' });
    assert.equal((await consent('foot@example.org'))[0]!.form, 'footer');
  });

  test('Welsh: the pages and the emails', async () => {
    const page = await t.app.inject({ url: '/newsletter?lang=cy' });
    assert.match(page.body, /Ymunwch â&#39;n rhestr bostio|Ymunwch â'n rhestr bostio/);
    await fresh();
    await signUp(t, 'cymraeg@example.org', { locale: 'cy' });
    const [mail] = await fresh('cymraeg@example.org');
    assert.match(mail!.subject, /Cadarnhewch/);
    assert.equal((await consent('cymraeg@example.org'))[0]!.locale, 'cy');
  });

  test('one-click unsubscribe (RFC 8058): a POST with no cookie, no token and no body; twice, the same answer; a GET changes nothing', async () => {
    await fresh();
    await signUp(t, 'leaver@example.org');
    const [c] = await fresh('leaver@example.org');
    const link = linkIn(c!, '/newsletter/confirm/');
    await post(t, link, link, {});
    const [welcome] = await fresh('leaver@example.org');
    const header = /^List-Unsubscribe: <https:\/\/sp\.example\.org([^>]+)>/m.exec(
      headersOf(welcome!.raw),
    )![1]!;

    const view = await t.app.inject({ url: header });
    assert.equal(view.statusCode, 200);
    assert.match(view.body, /Unsubscribe/);
    assert.equal(await state('leaver@example.org'), 'subscribed', 'a GET unsubscribes nobody');

    const one = await t.app.inject({ method: 'POST', url: header });
    assert.equal(one.statusCode, 200);
    assert.equal(await state('leaver@example.org'), 'unsubscribed');
    const two = await t.app.inject({
      method: 'POST',
      url: header,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    assert.equal(two.statusCode, 200);
    assert.equal(samePage(two.body), samePage(one.body));
    assert.equal(
      (await consent('leaver@example.org')).filter((c) => c.event === 'unsubscribed').length,
      1,
    );
    // The page after it offers an undo, which puts them back.
    const undo = await post(t, header, `${header}/undo`, {});
    assert.equal(undo.res.statusCode, 200);
    assert.equal(await state('leaver@example.org'), 'subscribed');
    // A link we did not sign: nothing, and no CSRF demand.
    const forged = await t.app.inject({
      method: 'POST',
      url: '/newsletter/unsubscribe/00000000-0000-4000-8000-000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    });
    assert.equal(forged.statusCode, 404);
  });

  test('preferences: a fresh link for anyone who asks (the same answer for unknown addresses); changes logged', async () => {
    await fresh();
    const known = await post(t, '/newsletter/manage', '/newsletter/manage', {
      email: 'new.reader@example.org',
    });
    const unknown = await post(t, '/newsletter/manage', '/newsletter/manage', {
      email: 'nobody.here@example.org',
    });
    assert.equal(known.res.statusCode, 303);
    assert.deepEqual(
      [known.res.statusCode, known.res.headers.location],
      [unknown.res.statusCode, unknown.res.headers.location],
    );
    const mails = await fresh();
    assert.equal(mails.filter((m) => m.to.includes('nobody.here')).length, 0);
    const [m] = mails.filter((x) => x.to.includes('new.reader@example.org'));
    const link = linkIn(m!, '/newsletter/preferences/');
    const page = await t.app.inject({ url: link });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /new\.reader@example\.org/);
    const saved = await post(t, link, link, {
      topics: ['news'],
      frequency: 'digest',
      locale: 'cy',
    });
    assert.equal(saved.res.statusCode, 303);
    const [row] = await t.database.query<{ topics: string[]; frequency: string; locale: string }>(
      `SELECT topics, frequency, locale FROM newsletter_subscribers WHERE email = 'new.reader@example.org'`,
    );
    assert.deepEqual(row, { topics: ['news'], frequency: 'digest', locale: 'cy' });
    assert.equal((await consent('new.reader@example.org')).at(-1)!.event, 'topics');
    // Its data, with the consent log.
    const data = await t.app.inject({ url: `${link}/data.json` });
    const json = data.json() as { consentLog: { event: string; wording: string }[] };
    assert.deepEqual(
      json.consentLog.map((c) => c.event),
      ['asked', 'confirmed', 'topics'],
    );
    // A tampered link shows nothing.
    const bad = await t.app.inject({ url: `${link.slice(0, -3)}xyz` });
    assert.equal(bad.statusCode, 404);
  });

  test('a member signs up from their account page in one step; their export shows the consent log', async () => {
    const cookie = await signIn(t.app, 'member@example.org', DEMO_PASSWORD, undefined, nextIp());
    const account = await t.app.inject({ url: '/account', headers: { cookie } });
    assert.match(account.body, /action="\/newsletter\/account"/);
    await fresh();
    const { res } = await post(t, '/account', '/newsletter/account', {}, { cookie });
    assert.equal(res.statusCode, 303);
    assert.match(String(res.headers.location), /^\/newsletter\/preferences\/.+\?joined=1$/);
    assert.equal(await state('member@example.org'), 'subscribed');
    const mails = await fresh('member@example.org');
    assert.deepEqual(
      mails.map((m) => m.subject),
      ['Welcome to the Supporting Parents newsletter'],
    );
    assert.deepEqual(
      (await consent('member@example.org')).map((c) => [c.event, c.form, c.wording]),
      [['confirmed', 'account', 'account-2026-12']],
    );
    const exp = await post(t, '/account', '/account/export', {}, { cookie });
    const body = JSON.parse(exp.res.body) as { newsletter: { consentLog: { form: string }[] } };
    assert.equal(body.newsletter.consentLog[0]!.form, 'account');
    // Visitors cannot use the one-step form.
    const visitor = await post(t, '/newsletter', '/newsletter/account', {});
    assert.equal(visitor.res.statusCode, 401);
  });

  test('the public forms are rate limited per address', async () => {
    const ip = '198.51.100.9';
    const codes: number[] = [];
    for (let i = 0; i < 12; i++)
      codes.push((await signUp(t, `limit${i}@example.org`, {}, ip)).res.statusCode);
    assert.ok(codes.slice(0, 10).every((c) => c === 303));
    assert.equal(codes.at(-1), 429);
  });
});
