import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cookiesOf, csrfFor, type TestApp, testApp } from '../../../test/helpers/app.ts';
import { linkFromMail, sentMail } from '../../../test/helpers/mail.ts';
import { signIn } from '../../../test/helpers/session.ts';
import { enableTwoFactor } from '../../../test/helpers/totp.ts';
import { DEMO_PASSWORD } from '../accounts/seed.ts';
import { fieldsOf } from './changes.ts';
import { FIELD_ORDER, type ServiceFields } from './fields.ts';

/** Post a form as a browser does, lists as repeated fields. */
async function post(
  t: TestApp,
  page: string,
  action: string,
  fields: Record<string, string | string[]>,
  cookie = '',
) {
  const { token, cookie: jar } = await csrfFor(t.app, page, cookie);
  const body = new URLSearchParams({ _csrf: token });
  for (const [k, v] of Object.entries(fields))
    for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
  const res = await t.app.inject({
    method: 'POST',
    url: action,
    headers: { cookie: jar, 'content-type': 'application/x-www-form-urlencoded' },
    payload: body.toString(),
  });
  return { res, cookie: cookiesOf(res, jar) };
}

const asForm = (f: ServiceFields): Record<string, string | string[]> =>
  Object.fromEntries(FIELD_ORDER.map((k) => [k, f[k]]));

describe('keeping the service map true', () => {
  let t: TestApp;
  let moderator: string;
  let member: string;
  let slug: string;
  const count = async (sql: string, params: unknown[] = []) =>
    Number((await t.database.query<{ n: number }>(sql, params))[0]!.n);

  before(async () => {
    t = await testApp({ seed: true });
    const secret = await enableTwoFactor(t.app, 'moderator@example.org');
    moderator = await signIn(t.app, 'moderator@example.org', DEMO_PASSWORD, secret, '10.9.0.1');
    member = await signIn(t.app, 'member@example.org', DEMO_PASSWORD, undefined, '10.9.0.2');
    const [row] = await t.database.query<{ slug: string }>(
      `SELECT slug FROM services WHERE is_demo AND status = 'active' ORDER BY slug LIMIT 1`,
    );
    slug = row!.slug;
  });
  after(async () => t.close());

  test("a visitor's change, confirmed by email and approved, is on the page and in the history, and the visitor is told", async () => {
    const form = await t.app.inject(`/services/${slug}/suggest-change`);
    assert.equal(form.statusCode, 200);
    const current = (await t.app.services.serviceChanges.current(slug))!.fields;
    assert.ok(form.body.includes(`value="${current.name}"`), 'the form starts as the entry is');

    const pending = () =>
      count(`SELECT count(*)::int AS n FROM service_suggestions WHERE status = 'pending'`);
    const pendingBefore = await pending();
    const sent = await post(
      t,
      `/services/${slug}/suggest-change`,
      `/services/${slug}/suggest-change`,
      {
        ...asForm(current),
        funding: 'Jointly funded by two councils (changed)',
        note: 'I work with this team.',
        suggesterEmail: 'visitor.one@example.org',
      },
    );
    assert.equal(sent.res.statusCode, 303);
    assert.equal(sent.res.headers.location, '/services/suggestions/sent?confirm=yes');
    assert.equal(await pending(), pendingBefore, 'not in the queue until the email is confirmed');
    const link = await linkFromMail(
      t.app,
      'visitor.one@example.org',
      '/services/suggestions/confirm/',
    );
    const confirmPage = await t.app.inject(link);
    assert.equal(confirmPage.statusCode, 200);
    assert.match(confirmPage.body, /Confirm suggestion/);
    const token = link.split('/').pop()!;
    const confirmed = await post(t, link, '/services/suggestions/confirm', { token });
    assert.equal(confirmed.res.statusCode, 303);
    const again = await t.app.inject(link);
    assert.equal(again.statusCode, 404, 'a link works once');

    const queue = await t.app.inject({
      url: '/admin/services/suggestions',
      headers: { cookie: moderator },
    });
    assert.equal(queue.statusCode, 200);
    const [mine] = await t.database.query<{ id: string }>(
      `SELECT id FROM service_suggestions WHERE status = 'pending' AND proposed->>'funding' = $1`,
      ['Jointly funded by two councils (changed)'],
    );
    const id = mine!.id;
    assert.ok(queue.body.includes(`/admin/services/suggestions/${id}`), 'it is in the queue');
    const review = await t.app.inject({
      url: `/admin/services/suggestions/${id}`,
      headers: { cookie: moderator },
    });
    assert.equal(review.statusCode, 200);
    assert.match(review.body, /1 detail changed/);
    assert.match(review.body, /<del>[^<]*<\/del>/);
    assert.match(review.body, /<ins>Jointly funded by two councils \(changed\)<\/ins>/);
    assert.match(review.body, /I work with this team\./);
    assert.doesNotMatch(
      review.body,
      /visitor\.one@example\.org/,
      'moderators do not need the address',
    );

    const noReason = await post(
      t,
      `/admin/services/suggestions/${id}`,
      `/admin/services/suggestions/${id}`,
      { decision: 'reject' },
      moderator,
    );
    assert.equal(noReason.res.statusCode, 400);
    assert.match(noReason.res.body, /Enter the reason for rejecting/);
    assert.match(noReason.res.body, /govuk-error-summary/);

    const approved = await post(
      t,
      `/admin/services/suggestions/${id}`,
      `/admin/services/suggestions/${id}`,
      { decision: 'approve' },
      moderator,
    );
    assert.equal(approved.res.statusCode, 303);
    const page = await t.app.inject(`/services/${slug}`);
    assert.match(page.body, /Jointly funded by two councils \(changed\)/, 'on the page at once');
    const history = await t.app.inject(`/services/${slug}/history`);
    assert.match(history.body, /A suggested change, approved by a moderator/);
    assert.match(history.body, /Jointly funded by two councils \(changed\)/);
    assert.ok(
      current.funding === '' || history.body.includes(current.funding),
      'the old value is kept',
    );
    const told = (await sentMail(t.app)).filter((m) => m.to === 'visitor.one@example.org');
    assert.ok(
      told.some(
        (m) => /has approved your suggestion/.test(m.text) && m.text.includes(`/services/${slug}`),
      ),
      'the visitor is told, with a link to the entry',
    );
    assert.equal(
      await count(
        `SELECT count(*)::int AS n FROM service_suggestions WHERE email IS NOT NULL AND status = 'approved'`,
      ),
      0,
      "the visitor's address is not kept after they are told",
    );
    const twice = await post(
      t,
      `/services/${slug}`,
      `/admin/services/suggestions/${id}`,
      { decision: 'approve' },
      moderator,
    );
    assert.equal(twice.res.statusCode, 409, 'a suggestion is decided once');
    assert.match(twice.res.body, /already been decided/);
    assert.doesNotMatch(twice.res.body, /name="decision"/);
  });

  test('bad input gets every message, keeps what was typed, and stores nothing', async () => {
    const before = await count('SELECT count(*)::int AS n FROM service_suggestions');
    const { res } = await post(t, '/services/suggest', '/services/suggest', {
      name: '',
      organisation: 'Example Trust (demo)',
      description: 'Keeps this text <b>safe</b>',
      status: 'active',
      model: 'not-a-model',
      postcode: 'NOT A POSTCODE',
      yearStarted: '1850',
      url: 'javascript:alert(1)',
      suggesterEmail: 'not-an-email',
    });
    assert.equal(res.statusCode, 400);
    for (const message of [
      'Enter the name of the service',
      'Choose the service model',
      'Choose at least one local authority area',
      'Enter a full postcode',
      'Enter the year it started as 4 digits',
      'Enter a website address starting with https://',
      'Enter your email address in the correct format',
    ])
      assert.ok(res.body.includes(message), `says: ${message}`);
    assert.match(
      res.body,
      /Keeps this text &lt;b&gt;safe&lt;\/b&gt;/,
      'typed text is kept, escaped',
    );
    assert.match(res.body, /value="NOT A POSTCODE"/);
    assert.equal(await count('SELECT count(*)::int AS n FROM service_suggestions'), before);
    // The summary links go to the fields, in the order of the form.
    const summary = res.body.slice(res.body.indexOf('govuk-error-summary'));
    const hrefs = [...summary.matchAll(/<a href="#([a-zA-Z-]+)"/g)].map((m) => m[1]);
    assert.deepEqual(hrefs.slice(0, 3), ['name', 'model', 'areas']);
    assert.match(res.body, /id="areas"/);
  });

  test("a member's new service goes straight to review; a rejection is emailed with its reason; an approval creates it", async () => {
    const [la] = await t.database.query<{ gss_code: string }>(
      'SELECT gss_code FROM local_authorities WHERE retired_on IS NULL ORDER BY gss_code LIMIT 1',
    );
    const fields = {
      name: 'Coastal Parents Project (demo)',
      organisation: 'Example Coastal Trust (demo)',
      description: 'Support for parents after their children were removed.',
      status: 'active',
      model: 'third_sector',
      offers: ['peer_support', 'contraception'],
      serves: ['mothers'],
      areas: [la!.gss_code],
      phone: '01632 960 123',
    };
    const first = await post(t, '/services/suggest', '/services/suggest', fields, member);
    assert.equal(first.res.statusCode, 303);
    assert.equal(first.res.headers.location, '/services/suggestions/sent?confirm=no');
    const [s1] = await t.database.query<{ id: string }>(
      `SELECT id FROM service_suggestions WHERE status = 'pending' AND proposed->>'name' = $1`,
      [fields.name],
    );
    const rejected = await post(
      t,
      `/admin/services/suggestions/${s1!.id}`,
      `/admin/services/suggestions/${s1!.id}`,
      { decision: 'reject', reason: 'We could not find this service.' },
      moderator,
    );
    assert.equal(rejected.res.statusCode, 303);
    const mail = (await sentMail(t.app)).filter((m) => m.to === 'member@example.org');
    assert.ok(
      mail.some((m) => m.text.includes('We could not find this service.')),
      'the reason is emailed',
    );
    assert.equal(
      await count(`SELECT count(*)::int AS n FROM services WHERE name = $1`, [fields.name]),
      0,
    );

    await post(t, '/services/suggest', '/services/suggest', fields, member);
    const [s2] = await t.database.query<{ id: string }>(
      `SELECT id FROM service_suggestions WHERE status = 'pending' AND proposed->>'name' = $1`,
      [fields.name],
    );
    await post(
      t,
      `/admin/services/suggestions/${s2!.id}`,
      `/admin/services/suggestions/${s2!.id}`,
      { decision: 'approve' },
      moderator,
    );
    const page = await t.app.inject('/services/coastal-parents-project-demo');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Example Coastal Trust \(demo\)/);
    assert.match(page.body, /01632 960 123/);
    const found = await t.app.services.services.search({
      q: 'coastal parents',
      models: [],
      offers: [],
      serves: [],
    });
    assert.deepEqual(
      found.rows.map((r) => r.slug),
      ['coastal-parents-project-demo'],
      'in the directory at once',
    );
  });

  test('managers edit their service directly; others cannot; every save is in the history', async () => {
    const managers = `/admin/services/${slug}/managers`;
    const unknown = await post(t, managers, managers, { email: 'nobody@example.org' }, moderator);
    assert.equal(unknown.res.statusCode, 400);
    assert.match(unknown.res.body, /There is no approved member with that email address/);
    const added = await post(t, managers, managers, { email: 'member@example.org' }, moderator);
    assert.equal(added.res.statusCode, 303);
    assert.ok(
      (await sentMail(t.app)).some(
        (m) => m.to === 'member@example.org' && /made a manager of/.test(m.text),
      ),
      'the new manager is told',
    );

    const visitor = await t.app.inject(`/services/${slug}/edit`);
    assert.equal(visitor.statusCode, 303, 'a visitor is sent to sign in');
    const page = await t.app.inject({ url: `/services/${slug}`, headers: { cookie: member } });
    assert.match(page.body, /You manage this entry/);
    const current = (await t.app.services.serviceChanges.current(slug))!.fields;
    const saved = await post(
      t,
      `/services/${slug}/edit`,
      `/services/${slug}/edit`,
      {
        ...asForm(current),
        referralRoute: 'Self-referral by phone, or through a social worker.',
      },
      member,
    );
    assert.equal(saved.res.statusCode, 303);
    const after = await t.app.services.serviceChanges.current(slug);
    assert.equal(
      after!.fields.referralRoute,
      'Self-referral by phone, or through a social worker.',
    );
    assert.equal(
      after!.found.service.lastVerified,
      new Date().toISOString().slice(0, 10),
      "a manager's save is a check",
    );
    const history = await t.app.inject(`/services/${slug}/history`);
    assert.match(history.body, /Updated by the service’s manager/);
    assert.doesNotMatch(
      history.body,
      /member@example\.org|Demo Member/i,
      'the history does not name people',
    );

    // Someone who does not manage it is refused, in the service layer too.
    await t.app.services.accounts.createUserDirect({
      email: 'other.member@example.org',
      displayName: 'Other member',
      kind: 'practitioner',
      role: 'member',
      password: DEMO_PASSWORD,
      approved: true,
    });
    const other = await signIn(
      t.app,
      'other.member@example.org',
      DEMO_PASSWORD,
      undefined,
      '10.9.0.3',
    );
    const refused = await t.app.inject({
      url: `/services/${slug}/edit`,
      headers: { cookie: other },
    });
    assert.equal(refused.statusCode, 403);
    const otherUser = (
      await t.database.query<{ id: string }>(
        `SELECT id FROM users WHERE email = 'other.member@example.org'`,
      )
    )[0]!;
    await assert.rejects(
      t.app.services.serviceChanges.edit(
        {
          id: otherUser.id,
          role: 'member',
          approved: true,
          totpEnabled: false,
          displayName: 'x',
        } as never,
        slug,
        current,
      ),
      /Not allowed/,
    );
  });

  test('managers are reminded once when an entry has not been checked for 12 months, and a check resets it', async () => {
    const changes = t.app.services.serviceChanges;
    await t.database.query(
      `UPDATE services SET last_verified = current_date - 400, verification_reminded_at = NULL WHERE slug = $1`,
      [slug],
    );
    const before = (await sentMail(t.app)).filter((m) =>
      /has not been checked for 12 months/.test(m.text),
    ).length;
    assert.equal(await changes.sendReminders(), 1, 'only the managed, stale entry');
    assert.equal(await changes.sendReminders(), 0, 'not again within the month');
    const reminders = (await sentMail(t.app)).filter((m) =>
      /has not been checked for 12 months/.test(m.text),
    );
    assert.equal(reminders.length, before + 1);
    assert.equal(reminders.at(-1)!.to, 'member@example.org');
    const checked = await post(t, `/services/${slug}`, `/services/${slug}/verify`, {}, member);
    assert.equal(checked.res.statusCode, 303);
    const [row] = await t.database.query<{ fresh: boolean }>(
      `SELECT last_verified = current_date AS fresh FROM services WHERE slug = $1`,
      [slug],
    );
    assert.equal(row!.fresh, true);
    const history = await t.app.inject(`/services/${slug}/history`);
    assert.match(history.body, /still correct/);
  });

  test('a suggestion that changes nothing is refused; unconfirmed ones are purged after 7 days', async () => {
    const found = await t.app.services.serviceChanges.current(slug);
    const same = await post(
      t,
      `/services/${slug}/suggest-change`,
      `/services/${slug}/suggest-change`,
      {
        ...asForm(fieldsOf(found!.found)),
        suggesterEmail: 'visitor.two@example.org',
      },
    );
    assert.equal(same.res.statusCode, 400);
    assert.match(same.res.body, /You have not changed anything/);
    await t.database.query(
      `INSERT INTO service_suggestions (proposed, status, created_at) VALUES ('{}', 'unconfirmed', now() - interval '8 days'), ('{}', 'unconfirmed', now())`,
    );
    assert.equal(await t.app.services.serviceChanges.purgeUnconfirmed(), 1);
  });
});
