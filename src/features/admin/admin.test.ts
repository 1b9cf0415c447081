import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import { linkFromMail, sentMail } from '../../../test/helpers/mail.ts';
import { signIn, submit } from '../../../test/helpers/session.ts';
import { enableTwoFactor } from '../../../test/helpers/totp.ts';
import { DEMO_PASSWORD } from '../accounts/seed.ts';

const PASSWORD = 'maple lantern river 42';

/** The cells of each body row of the first table on a page. */
function tableRows(html: string): string[][] {
  return [...html.matchAll(/<tr class="govuk-table__row">([\s\S]*?)<\/tr>/g)]
    .map((row) =>
      [...row[1]!.matchAll(/<td class="govuk-table__cell">([\s\S]*?)<\/td>/g)].map((c) =>
        c[1]!.trim(),
      ),
    )
    .filter((cells) => cells.length > 0);
}

/** The event column of the audit log page. */
const auditEventsShown = (html: string): string[] => tableRows(html).map((cells) => cells[1]!);

const today = () => new Date().toISOString().slice(0, 10);

describe('admin', () => {
  let t: TestApp;
  let adminSecret: string;
  let moderatorSecret: string;
  let address = 0;
  /** A distinct client address per sign-in keeps each under the per-address rate limit. */
  const nextAddress = () => `10.1.0.${++address}`;
  const asAdmin = () =>
    signIn(t.app, 'admin@example.org', DEMO_PASSWORD, adminSecret, nextAddress());
  const asModerator = () =>
    signIn(t.app, 'moderator@example.org', DEMO_PASSWORD, moderatorSecret, nextAddress());
  const asMember = (email: string, password = DEMO_PASSWORD) =>
    signIn(t.app, email, password, undefined, nextAddress());

  const get = (url: string, cookie: string) => t.app.inject({ url, headers: { cookie } });
  const idOf = async (email: string): Promise<string> => {
    const [row] = await t.database.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [
      email,
    ]);
    assert.ok(row, `no account ${email}`);
    return row.id;
  };
  const userRow = async (email: string) => {
    const [row] = await t.database.query<{
      id: string;
      role: string;
      status: string;
      status_reason: string | null;
      approved_at: Date | null;
      approved_by: string | null;
      email_verified_at: Date | null;
    }>(
      'SELECT id, role, status, status_reason, approved_at, approved_by, email_verified_at FROM users WHERE email = $1',
      [email],
    );
    assert.ok(row, `no account ${email}`);
    return row;
  };
  const auditRows = (event: string, subjectId: string) =>
    t.database.query<{ actor_id: string | null; detail: Record<string, unknown> }>(
      'SELECT actor_id, detail FROM audit_log WHERE event = $1 AND subject_id = $2 ORDER BY id',
      [event, subjectId],
    );
  const mailsTo = async (to: string) => (await sentMail(t.app)).filter((m) => m.to === to);

  before(async () => {
    t = await testApp({ seed: true });
    adminSecret = await enableTwoFactor(t.app, 'admin@example.org');
    moderatorSecret = await enableTwoFactor(t.app, 'moderator@example.org');
  });
  after(async () => t.close());

  test('visitors sign in first, members and editors are refused, staff without two-step sign-in set it up', async () => {
    const member = await asMember('parent@example.org');
    const refused = await get('/admin/users', member);
    assert.equal(refused.statusCode, 403);
    const editor = await asMember('editor@example.org');
    const setup = await get('/admin', editor);
    assert.equal(setup.statusCode, 303);
    assert.equal(setup.headers.location, '/account/two-factor/setup?next=%2Fadmin');
    assert.equal(
      (await get('/admin/users', editor)).statusCode,
      403,
      'editors do not manage members',
    );
    const visitor = await t.app.inject('/admin/users');
    assert.equal(visitor.statusCode, 303);
    assert.match(String(visitor.headers.location), /^\/account\/sign-in\?next=/);
  });

  test('a moderator finds members by name, by email, by approval, page by page', async () => {
    const cookie = await asModerator();

    const byName = await get('/admin/users?q=researcher', cookie);
    assert.equal(byName.statusCode, 200);
    assert.match(byName.body, /Demo Researcher/);
    assert.doesNotMatch(byName.body, /Demo Admin|Demo Practitioner/);
    assert.match(byName.body, /1 member\b/);

    const byEmail = await get(`/admin/users?q=${encodeURIComponent('parent@example.org')}`, cookie);
    assert.equal(byEmail.statusCode, 200);
    assert.match(byEmail.body, /Demo Parent \(pseudonym\)/);
    assert.doesNotMatch(byEmail.body, /Demo Researcher|Demo Admin/);
    assert.match(byEmail.body, /1 member\b/);

    const pending = await get('/admin/users?approval=pending', cookie);
    assert.equal(pending.statusCode, 200);
    const pendingRows = tableRows(pending.body);
    assert.equal(pendingRows.length, 1);
    assert.match(pendingRows[0]![0]!, /Demo Researcher/);
    assert.match(pendingRows[0]![3]!, /Waiting for approval/);
    assert.match(pending.body, /1 member\b/);
    const researcher = await idOf('pending@example.org');
    assert.match(pending.body, new RegExp(`href="/admin/users/${researcher}"`));

    const none = await get('/admin/users?q=nobody-is-called-this', cookie);
    assert.equal(none.statusCode, 200);
    assert.match(none.body, /0 members/);
    assert.equal(tableRows(none.body).length, 0);

    for (let i = 1; i <= 30; i++) {
      const n = String(i).padStart(2, '0');
      await t.app.services.accounts.createUserDirect({
        email: `extra${n}@example.com`,
        role: 'member',
        displayName: `Extra Member ${n}`,
      });
    }
    const first = await get('/admin/users?q=Extra+Member', cookie);
    assert.equal(first.statusCode, 200);
    assert.match(first.body, /30 members/);
    assert.equal(tableRows(first.body).length, 25);
    assert.match(first.body, /class="govuk-pagination/);
    assert.match(first.body, /href="\/admin\/users\?q=Extra\+Member&(amp;)?page=2"[^>]*rel="next"/);
    assert.doesNotMatch(first.body, /rel="prev"/);

    const second = await get('/admin/users?q=Extra+Member&page=2', cookie);
    assert.equal(second.statusCode, 200);
    assert.equal(tableRows(second.body).length, 5);
    assert.match(
      second.body,
      /href="\/admin\/users\?q=Extra\+Member&(amp;)?page=1"[^>]*rel="prev"/,
    );
    assert.doesNotMatch(second.body, /rel="next"/);
    const names = [
      ...first.body.matchAll(/Extra Member \d\d/g),
      ...second.body.matchAll(/Extra Member \d\d/g),
    ].map((m) => m[0]);
    assert.equal(new Set(names).size, 30, 'every member appears once across the pages');

    const all = await get('/admin/users', cookie);
    assert.match(all.body, /href="\/admin\/users\?page=2"[^>]*rel="next"/);

    const few = await get('/admin/users?q=researcher', cookie);
    assert.doesNotMatch(few.body, /class="govuk-pagination/, 'no pages for one result');
  });

  test('a moderator approves a waiting member, who is emailed; it is audited', async () => {
    const cookie = await asModerator();
    const moderatorId = await idOf('moderator@example.org');
    const id = await idOf('pending@example.org');
    const page = `/admin/users/${id}`;
    const before = await get(page, cookie);
    assert.equal(before.statusCode, 200);
    assert.match(before.body, /Approve for the community/);

    const { res } = await submit(t.app, page, `${page}/approve`, {}, cookie);
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, `${page}?done=approved`);
    const shown = await get(String(res.headers.location), cookie);
    assert.equal(shown.statusCode, 200);
    assert.match(shown.body, /govuk-notification-banner--success/);
    assert.match(shown.body, /The member is approved and has been emailed\./);
    assert.doesNotMatch(shown.body, /Approve for the community/);

    const row = await userRow('pending@example.org');
    assert.ok(row.approved_at, 'approved_at is set');
    assert.equal(row.approved_by, moderatorId);

    const mails = await mailsTo('pending@example.org');
    assert.equal(mails.filter((m) => m.subject === 'You can now join the community').length, 1);

    const audit = await auditRows('account.approved', id);
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.actor_id, moderatorId);

    const pending = await get('/admin/users?approval=pending', cookie);
    assert.match(pending.body, /0 members/);

    // Approving again changes nothing and sends nothing.
    await submit(t.app, page, `${page}/approve`, {}, cookie);
    assert.equal((await auditRows('account.approved', id)).length, 1);
    const again = await mailsTo('pending@example.org');
    assert.equal(again.filter((m) => m.subject === 'You can now join the community').length, 1);
  });

  test('suspending needs a reason; it ends sessions, emails the member and blocks sign-in; restoring works', async () => {
    const memberCookie = await asMember('member@example.org');
    assert.equal((await get('/account', memberCookie)).statusCode, 200);

    const cookie = await asModerator();
    const moderatorId = await idOf('moderator@example.org');
    const id = await idOf('member@example.org');
    const page = `/admin/users/${id}`;
    assert.match((await get(page, cookie)).body, /Suspend account/);

    const empty = await submit(
      t.app,
      page,
      `${page}/status`,
      { status: 'suspended', reason: '   ' },
      cookie,
    );
    assert.equal(empty.res.statusCode, 400);
    assert.match(empty.res.body, /There is a problem/);
    assert.match(empty.res.body, /govuk-error-summary/);
    assert.match(empty.res.body, /href="#reason"/);
    assert.match(empty.res.body, /govuk-error-message/);
    assert.match(empty.res.body, /Enter a reason/);
    assert.match(empty.res.body, /<title>Error: /);
    assert.equal((await userRow('member@example.org')).status, 'active', 'nothing changed');
    assert.equal((await get('/account', memberCookie)).statusCode, 200);

    const reason = 'Repeated off-topic advertising in the forums';
    const { res } = await submit(
      t.app,
      page,
      `${page}/status`,
      { status: 'suspended', reason },
      cookie,
    );
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, `${page}?done=suspended`);
    const shown = await get(String(res.headers.location), cookie);
    assert.match(shown.body, /The account is suspended and the member has been emailed\./);
    assert.match(shown.body, /Restore account/);
    assert.match(shown.body, new RegExp(`Suspended — ${reason}`));

    const row = await userRow('member@example.org');
    assert.equal(row.status, 'suspended');
    assert.equal(row.status_reason, reason);
    const sessions = await t.database.query('SELECT 1 FROM sessions WHERE user_id = $1', [id]);
    assert.equal(sessions.length, 0, 'every session of the member has ended');
    const account = await get('/account', memberCookie);
    assert.equal(account.statusCode, 303);
    assert.match(String(account.headers.location), /^\/account\/sign-in/);

    const mail = (await mailsTo('member@example.org')).find(
      (m) => m.subject === 'Your account has been suspended',
    );
    assert.ok(mail, 'the member is emailed');
    assert.match(mail.text, new RegExp(reason));

    const again = await submit(
      t.app,
      '/account/sign-in',
      '/account/sign-in',
      { email: 'member@example.org', password: DEMO_PASSWORD },
      '',
      nextAddress(),
    );
    assert.equal(again.res.statusCode, 403);
    assert.match(again.res.body, /Your account is suspended/);
    assert.match(again.res.body, new RegExp(reason));
    assert.equal(
      (await t.database.query('SELECT 1 FROM sessions WHERE user_id = $1', [id])).length,
      0,
      'no session is made for a suspended account',
    );

    const suspendedList = await get('/admin/users?status=suspended', cookie);
    assert.match(suspendedList.body, /Demo Practitioner/);
    assert.match(suspendedList.body, /1 member\b/);

    const restore = await submit(
      t.app,
      page,
      `${page}/status`,
      { status: 'active', reason: 'Agreed to the community rules' },
      cookie,
    );
    assert.equal(restore.res.statusCode, 303);
    assert.equal(restore.res.headers.location, `${page}?done=active`);
    assert.match(
      (await get(String(restore.res.headers.location), cookie)).body,
      /The account is restored and the member has been emailed\./,
    );
    assert.equal((await userRow('member@example.org')).status, 'active');
    const restoredMail = (await mailsTo('member@example.org')).find(
      (m) => m.subject === 'Your account has been restored',
    );
    assert.ok(restoredMail);
    assert.match(restoredMail.text, /Agreed to the community rules/);
    const back = await asMember('member@example.org');
    assert.equal((await get('/account', back)).statusCode, 200, 'the member can sign in again');

    const suspended = await auditRows('account.suspended', id);
    assert.equal(suspended.length, 1);
    assert.equal(suspended[0]!.actor_id, moderatorId);
    assert.equal(suspended[0]!.detail.reason, reason);
    const restored = await auditRows('account.restored', id);
    assert.equal(restored.length, 1);
    assert.equal(restored[0]!.actor_id, moderatorId);
    assert.equal(restored[0]!.detail.reason, 'Agreed to the community rules');
  });

  test('a moderator cannot suspend themselves or an admin', async () => {
    const cookie = await asModerator();
    const self = await idOf('moderator@example.org');
    const own = await submit(
      t.app,
      `/admin/users/${self}`,
      `/admin/users/${self}/status`,
      { status: 'suspended', reason: 'testing' },
      cookie,
    );
    assert.equal(own.res.statusCode, 400);
    assert.match(own.res.body, /You cannot do this to your own account/);
    assert.equal((await userRow('moderator@example.org')).status, 'active');

    const admin = await idOf('admin@example.org');
    const other = await submit(
      t.app,
      `/admin/users/${admin}`,
      `/admin/users/${admin}/status`,
      { status: 'suspended', reason: 'testing' },
      cookie,
    );
    assert.equal(other.res.statusCode, 403);
    assert.equal((await userRow('admin@example.org')).status, 'active');
  });

  test('only admins change roles; the member is signed out; admins cannot change their own', async () => {
    const id = await idOf('member@example.org');
    const page = `/admin/users/${id}`;

    const moderator = await asModerator();
    assert.doesNotMatch((await get(page, moderator)).body, /Change role/);
    const refused = await submit(t.app, page, `${page}/role`, { role: 'editor' }, moderator);
    assert.equal(refused.res.statusCode, 403);
    assert.equal((await userRow('member@example.org')).role, 'member');

    const memberCookie = await asMember('member@example.org');
    assert.equal((await get('/account', memberCookie)).statusCode, 200);

    const admin = await asAdmin();
    const adminId = await idOf('admin@example.org');
    assert.match((await get(page, admin)).body, /Change role/);
    const { res } = await submit(t.app, page, `${page}/role`, { role: 'editor' }, admin);
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, `${page}?done=role`);
    assert.match(
      (await get(String(res.headers.location), admin)).body,
      /The role has been changed\. The member has been signed out everywhere\./,
    );
    assert.equal((await userRow('member@example.org')).role, 'editor');
    assert.equal(
      (await t.database.query('SELECT 1 FROM sessions WHERE user_id = $1', [id])).length,
      0,
    );
    const account = await get('/account', memberCookie);
    assert.equal(account.statusCode, 303);
    assert.match(String(account.headers.location), /^\/account\/sign-in/);

    const audit = await auditRows('account.role-changed', id);
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.actor_id, adminId);
    assert.deepEqual(audit[0]!.detail, { from: 'member', to: 'editor' });

    const bad = await submit(t.app, page, `${page}/role`, { role: 'overlord' }, admin);
    assert.equal(bad.res.statusCode, 400);
    assert.match(bad.res.body, /Select a role/);

    const own = await submit(
      t.app,
      `/admin/users/${adminId}`,
      `/admin/users/${adminId}/role`,
      { role: 'member' },
      admin,
    );
    assert.equal(own.res.statusCode, 400);
    assert.match(own.res.body, /You cannot do this to your own account\. Ask another admin/);
    assert.equal((await userRow('admin@example.org')).role, 'admin');
    assert.equal((await auditRows('account.role-changed', adminId)).length, 0);

    // Put it back, for the tests that follow.
    await submit(t.app, page, `${page}/role`, { role: 'member' }, admin);
    assert.equal((await userRow('member@example.org')).role, 'member');
  });

  test('the audit log: admins only; filter by event, by member and by date', async () => {
    const moderator = await asModerator();
    assert.equal((await get('/admin/audit', moderator)).statusCode, 403);

    const admin = await asAdmin();
    const all = await get('/admin/audit', admin);
    assert.equal(all.statusCode, 200);
    assert.ok(tableRows(all.body).length > 0);

    const byEvent = await get('/admin/audit?event=account.suspended', admin);
    assert.equal(byEvent.statusCode, 200);
    const events = auditEventsShown(byEvent.body);
    assert.ok(events.length >= 1);
    assert.deepEqual(new Set(events), new Set(['account.suspended']));
    const [{ n }] = (await t.database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_log WHERE event = 'account.suspended'`,
    )) as [{ n: number }];
    assert.match(byEvent.body, new RegExp(`\\b${n} events?\\b`));

    const member = await idOf('member@example.org');
    const about = await get(`/admin/audit?user=${member}`, admin);
    assert.equal(about.statusCode, 200);
    assert.match(about.body, /Showing events about one member\./);
    const rows = tableRows(about.body);
    assert.ok(rows.length > 0);
    for (const cells of rows) {
      assert.ok(
        cells[2]!.includes(`/admin/users/${member}"`) ||
          cells[3]!.includes(`/admin/audit?user=${member}"`),
        `a row not about the member: ${cells.join(' | ')}`,
      );
    }
    const shown = rows.map((cells) => cells[1]!);
    assert.ok(shown.includes('account.suspended'));
    assert.ok(shown.includes('account.restored'));
    assert.ok(shown.includes('account.role-changed'));
    assert.ok(!shown.includes('account.approved'), 'the approval was about someone else');
    const [{ m }] = (await t.database.query<{ m: number }>(
      'SELECT count(*)::int AS m FROM audit_log WHERE subject_id = $1 OR actor_id = $1',
      [member],
    )) as [{ m: number }];
    assert.match(about.body, new RegExp(`\\b${m} events?\\b`));
    const both = await get(`/admin/audit?user=${member}&event=account.role-changed`, admin);
    assert.deepEqual(auditEventsShown(both.body), ['account.role-changed', 'account.role-changed']);

    await t.database.query(
      `INSERT INTO audit_log (at, event, subject_id, detail) VALUES ('2020-01-15T12:00:00Z', 'test.long-ago', $1, '{}')`,
      [member],
    );
    const january = await get('/admin/audit?from=2020-01-01&to=2020-01-31', admin);
    assert.equal(january.statusCode, 200);
    assert.deepEqual(auditEventsShown(january.body), ['test.long-ago']);
    assert.match(january.body, /\b1 event\b/);
    const sameDay = await get('/admin/audit?from=2020-01-15&to=2020-01-15', admin);
    assert.deepEqual(auditEventsShown(sameDay.body), ['test.long-ago'], 'the to date is inclusive');
    const later = await get('/admin/audit?from=2020-01-16&to=2020-01-31', admin);
    assert.equal(auditEventsShown(later.body).length, 0);
    assert.match(later.body, /\b0 events\b/);
    const earlier = await get('/admin/audit?to=2020-01-14', admin);
    assert.equal(auditEventsShown(earlier.body).length, 0);
    const sinceToday = await get(`/admin/audit?from=${today()}`, admin);
    const recent = auditEventsShown(sinceToday.body);
    assert.ok(recent.length > 0);
    assert.ok(!recent.includes('test.long-ago'));
    assert.match(sinceToday.body, new RegExp(`value="${today()}"`), 'the filter keeps the date');
  });

  test('settings: auto-approve domains are saved, bad ones explained, and used at verification', async () => {
    const moderator = await asModerator();
    assert.equal((await get('/admin/settings', moderator)).statusCode, 403);

    const admin = await asAdmin();
    const form = await get('/admin/settings', admin);
    assert.equal(form.statusCode, 200);

    const { res } = await submit(
      t.app,
      '/admin/settings',
      '/admin/settings',
      { domains: '*.Example.net\ntrust.nhs.uk\n\n*.example.net' },
      admin,
    );
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/admin/settings?done=saved');
    const saved = await get(String(res.headers.location), admin);
    assert.match(saved.body, /Settings saved\./);
    assert.match(saved.body, /\*\.example\.net\ntrust\.nhs\.uk<\/textarea>/);
    const [setting] = await t.database.query<{ value: string[] }>(
      `SELECT value FROM site_settings WHERE key = 'accounts.autoApproveDomains'`,
    );
    assert.deepEqual(setting!.value, ['*.example.net', 'trust.nhs.uk']);
    const audit = await t.database.query<{ detail: { patterns: string[] } }>(
      `SELECT detail FROM audit_log WHERE event = 'settings.auto-approve-domains'`,
    );
    assert.equal(audit.length, 1);
    assert.deepEqual(audit[0]!.detail.patterns, ['*.example.net', 'trust.nhs.uk']);

    const bad = await submit(
      t.app,
      '/admin/settings',
      '/admin/settings',
      { domains: 'trust.nhs.uk\nnot a domain!' },
      admin,
    );
    assert.equal(bad.res.statusCode, 400);
    assert.match(bad.res.body, /There is a problem/);
    assert.match(bad.res.body, /href="#domains"/);
    assert.match(bad.res.body, /Enter each domain like nhs\.net or \*\.gov\.uk, one on each line/);
    assert.match(bad.res.body, /trust\.nhs\.uk\nnot a domain!<\/textarea>/, 'keeps what was typed');
    const [unchanged] = await t.database.query<{ value: string[] }>(
      `SELECT value FROM site_settings WHERE key = 'accounts.autoApproveDomains'`,
    );
    assert.deepEqual(unchanged!.value, ['*.example.net', 'trust.nhs.uk']);

    const reg = await submit(
      t.app,
      '/account/register',
      '/account/register',
      {
        email: 'staff@x.example.net',
        displayName: 'Sam Staff',
        kind: 'practitioner',
        organisation: '',
        region: '',
        password: PASSWORD,
        agree: 'yes',
      },
      '',
      nextAddress(),
    );
    assert.equal(reg.res.statusCode, 303);
    assert.equal((await userRow('staff@x.example.net')).approved_at, null);
    const link = await linkFromMail(t.app, 'staff@x.example.net', '/account/verify/');
    const verified = await submit(t.app, link, link, {});
    assert.equal(verified.res.statusCode, 200);
    assert.match(verified.res.body, /Your account is ready/);
    const row = await userRow('staff@x.example.net');
    assert.ok(row.email_verified_at);
    assert.ok(row.approved_at, 'approved automatically');
    const auto = await auditRows('account.approved', row.id);
    assert.equal(auto.length, 1);
    assert.equal(auto[0]!.actor_id, null);
    assert.deepEqual(auto[0]!.detail, { automatic: true });

    // The old defaults no longer apply.
    await t.app.services.accounts.register({
      email: 'someone@council.gov.uk',
      displayName: 'Council Someone',
      kind: 'practitioner',
      password: PASSWORD,
      locale: 'en',
    });
    const other = await linkFromMail(t.app, 'someone@council.gov.uk', '/account/verify/');
    const pending = await submit(t.app, other, other, {});
    assert.match(pending.res.body, /moderator will check/);
    assert.equal((await userRow('someone@council.gov.uk')).approved_at, null);
  });

  test('the mail viewer lists sent mails and shows one; odd file names are not found', async () => {
    const sent = await sentMail(t.app);
    assert.ok(sent.length > 0);
    const moderator = await asModerator();
    assert.equal((await get('/admin/mail', moderator)).statusCode, 403);

    const admin = await asAdmin();
    const list = await get('/admin/mail', admin);
    assert.equal(list.statusCode, 200);
    assert.match(list.body, /No mail server is set up/);
    for (const subject of [
      'You can now join the community',
      'Your account has been suspended',
      'Your account has been restored',
      'Confirm your email address',
    ])
      assert.ok(list.body.includes(subject), `the list shows "${subject}"`);
    const files = [...list.body.matchAll(/href="\/admin\/mail\/([\w.-]+\.eml)"/g)].map(
      (m) => m[1]!,
    );
    assert.equal(files.length, Math.min(sent.length, 200));

    const approvedMail = sent.find((m) => m.subject === 'You can now join the community')!;
    const row = tableRows(list.body).find((cells) => cells[2]!.includes(approvedMail.subject))!;
    const file = /href="\/admin\/mail\/([\w.-]+\.eml)"/.exec(row[2]!)![1]!;
    assert.match(row[1]!, /pending@example\.org/);
    const one = await get(`/admin/mail/${file}`, admin);
    assert.equal(one.statusCode, 200);
    assert.match(one.body, /<h1 class="govuk-heading-l">You can now join the community<\/h1>/);
    assert.match(one.body, /To: pending@example\.org/);
    assert.match(one.body, /Back to mail sent/);

    for (const name of [
      '..%2F..%2Fetc%2Fpasswd',
      '..%2F..%2F..%2Fetc%2Fpasswd.eml',
      'nothing-here.eml',
      '%2Fetc%2Fpasswd',
    ]) {
      const res = await get(`/admin/mail/${name}`, admin);
      assert.equal(res.statusCode, 404, name);
      assert.doesNotMatch(res.body, /root:/);
    }
  });

  test('resending the confirmation email: sent for an unverified member, not for a verified one', async () => {
    await t.app.services.accounts.register({
      email: 'unconfirmed@example.org',
      displayName: 'Una Confirmed',
      kind: 'parent',
      password: PASSWORD,
      locale: 'en',
    });
    const verifyMails = async (to: string) =>
      (await mailsTo(to)).filter((m) => m.subject === 'Confirm your email address');
    assert.equal((await verifyMails('unconfirmed@example.org')).length, 1);
    const firstLink = await linkFromMail(t.app, 'unconfirmed@example.org', '/account/verify/');

    const cookie = await asModerator();
    const moderatorId = await idOf('moderator@example.org');
    const id = await idOf('unconfirmed@example.org');
    const page = `/admin/users/${id}`;
    const shown = await get(page, cookie);
    assert.match(shown.body, /Send the confirmation email again/);
    // By name: a moderator's search matches a whole address or a domain, not part of one.
    const unverifiedList = await get('/admin/users?q=Una+Confirmed', cookie);
    assert.match(unverifiedList.body, /Email not confirmed/);

    const { res } = await submit(t.app, page, `${page}/resend`, {}, cookie);
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, `${page}?done=resent`);
    assert.match(
      (await get(String(res.headers.location), cookie)).body,
      /The confirmation email has been sent again\./,
    );
    const mails = await verifyMails('unconfirmed@example.org');
    assert.equal(mails.length, 2);
    const audit = await auditRows('account.verification-resent', id);
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.actor_id, moderatorId);

    const links = mails.map((m) => /\/account\/verify\/[A-Za-z0-9_-]+/.exec(m.text)![0]);
    const newLink = links.find((l) => l !== firstLink)!;
    assert.ok(newLink, 'the new email has a new link');
    assert.equal((await t.app.inject(firstLink)).statusCode, 404, 'the old link no longer works');
    const verified = await submit(t.app, newLink, newLink, {});
    assert.equal(verified.res.statusCode, 200);
    assert.ok((await userRow('unconfirmed@example.org')).email_verified_at);

    const parent = await idOf('parent@example.org');
    const before = (await verifyMails('parent@example.org')).length;
    const nothing = await submit(
      t.app,
      `/admin/users/${parent}`,
      `/admin/users/${parent}/resend`,
      {},
      cookie,
    );
    assert.equal(nothing.res.statusCode, 303);
    assert.equal(nothing.res.headers.location, `/admin/users/${parent}?done=not-resent`);
    assert.match(
      (await get(String(nothing.res.headers.location), cookie)).body,
      /Nothing was sent: this email address is already confirmed\./,
    );
    assert.equal((await verifyMails('parent@example.org')).length, before);
    assert.equal((await auditRows('account.verification-resent', parent)).length, 0);
  });
});
