import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cookiesOf, csrfFor, type TestApp, testApp } from '../../../test/helpers/app.ts';
import { type SentMail, sentMail } from '../../../test/helpers/mail.ts';
import { signIn } from '../../../test/helpers/session.ts';
import { enableTwoFactor } from '../../../test/helpers/totp.ts';
import { DEMO_PASSWORD } from '../accounts/seed.ts';
import { findMentions, unquoted } from './notifications.ts';

/** Post a form as a browser does: the CSRF token from `page`, the cookies kept. */
async function post(
  t: TestApp,
  page: string,
  action: string,
  fields: Record<string, string | string[]>,
  cookie: string,
) {
  const { token, cookie: jar } = await csrfFor(t.app, page, cookie);
  const body = new URLSearchParams({ _csrf: token });
  for (const [k, v] of Object.entries(fields))
    for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
  const res = await t.app.inject({
    method: 'POST',
    url: action,
    headers: { cookie: jar, 'content-type': 'application/x-www-form-urlencoded' },
    payload: body.toString(),
  });
  return { res, cookie: cookiesOf(res, jar) };
}

test('mentions: the longest display name after "@", not in quotes, not in email addresses', () => {
  const people = [
    { id: 'a', displayName: 'Sam' },
    { id: 'b', displayName: 'Sam Jones' },
    { id: 'c', displayName: 'Demo Parent (pseudonym)' },
    { id: 'd', displayName: 'Alex' },
  ];
  assert.deepEqual([...findMentions('Thanks @sam jones!', people)], ['b']);
  assert.deepEqual([...findMentions('@Sam, and @SAM again', people)], ['a']);
  assert.deepEqual([...findMentions('hi @Demo Parent (pseudonym).', people)], ['c']);
  assert.deepEqual([...findMentions('write to alex@alex.org or @Samantha', people)], []);
  assert.deepEqual([...findMentions(unquoted('> @Alex said so\nI agree'), people)], []);
});

describe('community notifications', () => {
  let t: TestApp;
  const jar: Record<string, string> = {};
  const id: Record<string, string> = {};
  let open: { slug: string; threadId: string };
  let other: { slug: string; name: string; threadId: string };
  let group: { threadId: string };
  const seen = new Set<string>();
  /** Mail sent since the last call. */
  async function fresh(to?: string): Promise<SentMail[]> {
    const all = (await sentMail(t.app)).filter((m) => !seen.has(m.raw));
    for (const m of all) seen.add(m.raw);
    return to ? all.filter((m) => m.to.includes(to)) : all;
  }
  const get = (url: string, who: string) => t.app.inject({ url, headers: { cookie: jar[who]! } });
  async function reply(who: string, slug: string, threadId: string, body: string, anon = false) {
    const at = `/community/${slug}/${threadId}`;
    const { res } = await post(
      t,
      at,
      `${at}/reply`,
      { body, ...(anon ? { anonymous: 'yes' } : {}) },
      jar[who]!,
    );
    assert.equal(res.statusCode, 303, `${who} replied`);
    assert.doesNotMatch(String(res.headers.location), /held=1/, `${who}'s reply is published`);
    const [row] = await t.database.query<{ id: string }>(
      `SELECT id FROM posts WHERE body = $1 ORDER BY created_at DESC LIMIT 1`,
      [body],
    );
    return row!.id;
  }
  async function settings(who: string, email: string, kinds?: string[]) {
    const { res } = await post(
      t,
      '/community/notifications/settings',
      '/community/notifications/settings',
      {
        email,
        kinds: kinds ?? [
          'mention',
          'reply',
          'followed',
          'new_thread',
          'moderation',
          'comment',
          'comment_reply',
        ],
      },
      jar[who]!,
    );
    return res;
  }
  const notificationsFor = (userId: string, postId: string) =>
    t.database.query<Record<string, unknown>>(
      `SELECT * FROM community_notifications WHERE user_id = $1 AND post_id = $2`,
      [userId, postId],
    );

  before(async () => {
    t = await testApp({ seed: true });
    const secret = await enableTwoFactor(t.app, 'moderator@example.org');
    jar.moderator = await signIn(t.app, 'moderator@example.org', DEMO_PASSWORD, secret, '10.9.0.1');
    jar.member = await signIn(t.app, 'member@example.org', DEMO_PASSWORD, undefined, '10.9.0.2');
    jar.parent = await signIn(t.app, 'parent@example.org', DEMO_PASSWORD, undefined, '10.9.0.3');
    for (const who of ['moderator', 'member', 'parent', 'editor']) {
      const [u] = await t.database.query<{ id: string }>(`SELECT id FROM users WHERE email = $1`, [
        `${who}@example.org`,
      ]);
      id[who] = u!.id;
    }
    const threadIn = async (slug: string) => {
      const [row] = await t.database.query<{ id: string; name: string }>(
        `SELECT t.id, s.name FROM threads t JOIN community_spaces s ON s.id = t.space_id
         WHERE s.slug = $1 AND NOT t.hidden AND NOT t.locked ORDER BY t.created_at LIMIT 1`,
        [slug],
      );
      return row!;
    };
    open = { slug: 'wales-network', threadId: (await threadIn('wales-network')).id };
    const [s] = await t.database.query<{ slug: string }>(
      `SELECT slug FROM community_spaces WHERE visibility = 'members' AND slug NOT IN ('wales-network', 'generated-bench')
       AND EXISTS (SELECT 1 FROM threads WHERE space_id = community_spaces.id) ORDER BY position LIMIT 1`,
    );
    const o = await threadIn(s!.slug);
    other = { slug: s!.slug, name: o.name, threadId: o.id };
    group = { threadId: (await threadIn('parents-panel')).id };
    await fresh();
  });
  after(async () => t.close());

  test('a mention notifies, and emails a member on "immediately" but not one on "never"', async () => {
    assert.equal((await settings('parent', 'never')).statusCode, 303);
    const bad = await settings('member', 'sometimes');
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /govuk-error-summary/);
    assert.match(bad.body, /Select when we should email you/);

    const postId = await reply(
      'moderator',
      open.slug,
      open.threadId,
      '> @Demo Editor wrote this earlier\n\nThanks @demo practitioner and @Demo Parent (pseudonym), see above.',
    );
    assert.equal((await notificationsFor(id.member!, postId))[0]?.kind, 'mention');
    assert.equal((await notificationsFor(id.parent!, postId))[0]?.kind, 'mention');
    assert.ok(
      (await notificationsFor(id.editor!, postId)).every((n) => n.kind !== 'mention'),
      'a quoted mention does not count',
    );
    assert.equal((await notificationsFor(id.moderator!, postId)).length, 0, 'not the writer');

    const mail = await fresh();
    const toMember = mail.filter((m) => m.to.includes('member@example.org'));
    assert.equal(toMember.length, 1);
    assert.match(toMember[0]!.text, /Demo Moderator mentioned you/);
    assert.match(toMember[0]!.text, new RegExp(`/community/posts/${postId}`));
    assert.match(
      toMember[0]!.raw,
      /List-Unsubscribe:\s+<https?:\/\/[^>]+\/community\/notifications\/unsubscribe\//,
    );
    assert.match(toMember[0]!.raw, /List-Unsubscribe-Post: List-Unsubscribe=One-Click/);
    assert.equal(mail.filter((m) => m.to.includes('parent@example.org')).length, 0);
    // The editor, quoted, is not mentioned (they may hear of the reply as the thread's author).
    assert.ok(
      mail
        .filter((m) => m.to.includes('editor@example.org'))
        .every((m) => !/mentioned you/.test(m.text)),
    );

    // The page: newest first, filtered by kind, unread until "Mark all as read".
    const page = await get('/community/notifications', 'member');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /noindex/);
    assert.match(page.body, /Demo Moderator mentioned you/);
    assert.match(page.body, /Unread/);
    // Opening one marks it read and goes to its post; someone else's cannot be opened.
    const link = /href="(\/community\/notifications\/[0-9a-f-]{36})"/.exec(page.body)![1]!;
    const opened = await get(link, 'member');
    assert.equal(opened.statusCode, 303);
    assert.equal(opened.headers.location, `/community/posts/${postId}`);
    assert.equal((await get(link, 'moderator')).statusCode, 404, 'not the moderator’s');
    const [one] = await t.database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM community_notifications WHERE post_id = $1 AND read_at IS NOT NULL`,
      [postId],
    );
    assert.equal(one!.n, 1, 'that one is read');
    const filtered = await get('/community/notifications?kind=moderation', 'member');
    assert.doesNotMatch(filtered.body, /mentioned you/);
    const { res } = await post(
      t,
      '/community/notifications/settings',
      '/community/notifications/read',
      {},
      jar.member!,
    );
    assert.equal(res.statusCode, 303);
    const after = await get('/community/notifications', 'member');
    assert.doesNotMatch(after.body, /govuk-tag--blue">Unread/);
    assert.doesNotMatch(after.body, /action="\/community\/notifications\/read"/);
  });

  test('an author’s edit that adds a mention tells the newly mentioned only; the header counts unread', async () => {
    await fresh();
    const postId = await reply(
      'member',
      open.slug,
      open.threadId,
      'Thanks @Demo Moderator for this.',
    );
    const edit = async (who: string, body: string) => {
      const at = `/community/posts/${postId}/edit`;
      const { res } = await post(t, at, at, { body }, jar[who]!);
      assert.equal(res.statusCode, 303, `${who}'s edit is saved`);
    };
    const mentionsOf = async (userId: string) =>
      (await notificationsFor(userId, postId)).filter((n) => n.kind === 'mention').length;
    assert.equal(await mentionsOf(id.moderator!), 1, 'mentioned when posted');
    await fresh();

    // The author adds a mention: that member is told; the one mentioned before is not told again.
    await edit('member', 'Thanks @Demo Moderator and @Demo Editor for this.');
    assert.equal(await mentionsOf(id.editor!), 1, 'the newly mentioned member is told');
    assert.equal(await mentionsOf(id.moderator!), 1, 'not told twice');
    const told = await fresh();
    assert.equal(told.length, 1, 'one email, to the newly mentioned (on "immediately")');
    assert.ok(told[0]!.to.includes('editor@example.org'));
    assert.match(told[0]!.text, /Demo Practitioner mentioned you/);
    // Editing again without new names tells nobody more.
    await edit('member', 'Thanks @Demo Moderator and @Demo Editor for all this.');
    assert.equal(await mentionsOf(id.editor!), 1, 'an unchanged mention is not repeated');
    // A moderator's edit is not the author's words: it tells nobody.
    await edit('moderator', 'Thanks @Demo Moderator, @Demo Editor and @Demo Parent (pseudonym).');
    assert.equal(await mentionsOf(id.parent!), 0, 'a moderator’s edit mentions nobody');
    assert.equal((await fresh()).length, 0);

    // The header: "Notifications" with the unread count, gone once all are read.
    const [unread] = await t.database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM community_notifications WHERE user_id = $1 AND read_at IS NULL`,
      [id.moderator],
    );
    assert.ok(unread!.n > 0, 'the moderator has unread notifications');
    const home = await get('/', 'moderator');
    assert.match(
      home.body,
      new RegExp(
        `href="/community/notifications"[^>]*>\\s*Notifications <span class="sp-nav-count">${unread!.n}<span class="govuk-visually-hidden"> unread</span>`,
      ),
      'the header shows the count',
    );
    const { res } = await post(
      t,
      '/community/notifications/settings',
      '/community/notifications/read',
      {},
      jar.moderator!,
    );
    assert.equal(res.statusCode, 303);
    const later = await get('/', 'moderator');
    assert.match(later.body, /href="\/community\/notifications"/, 'the link stays');
    assert.doesNotMatch(later.body, /sp-nav-count/, 'no count when all are read');
    // A visitor has no notifications link.
    const visitor = await t.app.inject({ url: '/' });
    assert.doesNotMatch(visitor.body, /href="\/community\/notifications"/);
  });

  test('the daily digest sends one email grouping the day by space, and marks it', async () => {
    assert.equal((await settings('member', 'daily')).statusCode, 303);
    const a = await reply(
      'moderator',
      open.slug,
      open.threadId,
      'Digest one for @Demo Practitioner',
    );
    const b = await reply(
      'moderator',
      other.slug,
      other.threadId,
      'Digest two, @Demo Practitioner',
    );
    assert.equal((await fresh('member@example.org')).length, 0, 'nothing straight away');

    await t.app.platform.jobs.enqueue('community.daily-digest', {});
    const digest = await fresh('member@example.org');
    assert.equal(digest.length, 1, 'one email');
    const text = digest[0]!.text;
    const [wales] = await t.database.query<{ name: string }>(
      `SELECT name FROM community_spaces WHERE slug = 'wales-network'`,
    );
    const line = (s: string) => new RegExp(`^${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm');
    assert.match(text, line(wales!.name), 'a heading line for each space');
    assert.match(text, line(other.name));
    assert.match(text, new RegExp(`/community/posts/${a}`));
    assert.match(text, new RegExp(`/community/posts/${b}`));
    assert.match(digest[0]!.raw, /List-Unsubscribe-Post: List-Unsubscribe=One-Click/);
    const rows = await t.database.query<{ digested_at: Date | null }>(
      `SELECT digested_at FROM community_notifications WHERE post_id IN ($1, $2) AND user_id = $3`,
      [a, b, id.member!],
    );
    assert.ok(rows.length === 2 && rows.every((r) => r.digested_at));

    await t.app.platform.jobs.enqueue('community.daily-digest', {});
    assert.equal((await fresh('member@example.org')).length, 0, 'nothing twice');
    assert.equal((await settings('member', 'immediately')).statusCode, 303);
  });

  test('an anonymous reply reaches followers as "A parent", with no trace of its author', async () => {
    const at = `/community/parents-panel/${group.threadId}`;
    const followed = await post(t, at, `${at}/follow`, { mode: 'follow' }, jar.moderator!);
    assert.equal(followed.res.statusCode, 303);
    const page = await get(at, 'moderator');
    assert.match(page.body, /You follow this thread/);
    // The member is outside the private group: they may not follow it, and are never told.
    const refused = await post(t, '/community', `${at}/follow`, { mode: 'follow' }, jar.member!);
    assert.equal(refused.res.statusCode, 403);

    const postId = await reply(
      'parent',
      'parents-panel',
      group.threadId,
      'Nobody can trace this to me, @Demo Practitioner.',
      true,
    );
    const [row] = await notificationsFor(id.moderator!, postId);
    assert.ok(row, 'the follower is told');
    assert.equal(row.actor_label, null);
    assert.doesNotMatch(JSON.stringify(row), new RegExp(id.parent!));
    assert.equal((await notificationsFor(id.member!, postId)).length, 0, 'not outside the group');
    const all = await t.database.query<Record<string, unknown>>(
      `SELECT * FROM community_notifications WHERE post_id = $1`,
      [postId],
    );
    assert.doesNotMatch(JSON.stringify(all), new RegExp(`${id.parent!}|Demo Parent`));

    const list = await get('/community/notifications', 'moderator');
    assert.match(list.body, /A parent replied in/);
    assert.doesNotMatch(list.body, /Demo Parent \(pseudonym\)/);
    assert.doesNotMatch(list.body, new RegExp(id.parent!));
    const mail = await fresh();
    const toModerator = mail.filter((m) => m.to.includes('moderator@example.org'));
    assert.equal(toModerator.length, 1);
    assert.match(toModerator[0]!.text, /A parent replied in/);
    for (const m of mail) {
      assert.doesNotMatch(m.raw, /Demo Parent \(pseudonym\)/);
      assert.doesNotMatch(m.raw, new RegExp(id.parent!));
    }
    assert.equal(mail.filter((m) => m.to.includes('member@example.org')).length, 0);
  });

  test('muting a thread stops reply notifications, but not mentions', async () => {
    const at = `/community/${open.slug}/${open.threadId}`;
    await reply('member', open.slug, open.threadId, 'I will follow this thread by writing in it.');
    const first = await reply(
      'moderator',
      open.slug,
      open.threadId,
      'A reply the member hears of.',
    );
    assert.equal((await notificationsFor(id.member!, first)).length, 1);
    const muted = await post(t, at, `${at}/follow`, { mode: 'mute' }, jar.member!);
    assert.equal(muted.res.statusCode, 303);
    assert.match((await get(at, 'member')).body, /You have muted this thread/);
    await fresh();
    const second = await reply('moderator', open.slug, open.threadId, 'A reply the member misses.');
    assert.equal((await notificationsFor(id.member!, second)).length, 0);
    assert.equal((await fresh('member@example.org')).length, 0);
    const third = await reply(
      'moderator',
      open.slug,
      open.threadId,
      'But @Demo Practitioner, look.',
    );
    assert.equal((await notificationsFor(id.member!, third))[0]?.kind, 'mention');
    await post(t, at, `${at}/follow`, { mode: 'none' }, jar.member!);
  });

  test('following a space tells of new threads; a moderator’s decision is told to the author', async () => {
    const at = `/community/${other.slug}`;
    const followed = await post(t, at, `${at}/follow`, { mode: 'follow' }, jar.member!);
    assert.equal(followed.res.statusCode, 303);
    assert.match((await get(at, 'member')).body, /You follow this space/);
    const created = await post(
      t,
      `${at}/new`,
      `${at}/new`,
      { title: 'A brand new thread', body: 'Opening words.' },
      jar.moderator!,
    );
    assert.equal(created.res.statusCode, 303);
    const [n] = await t.database.query<{ kind: string; post_id: string }>(
      `SELECT n.kind, n.post_id FROM community_notifications n JOIN threads t ON t.id = n.thread_id
       WHERE n.user_id = $1 AND t.title = 'A brand new thread'`,
      [id.member!],
    );
    assert.equal(n?.kind, 'new_thread');

    const postId = await reply('member', open.slug, open.threadId, 'A post a moderator will hide.');
    const hidden = await post(
      t,
      '/account',
      `/admin/moderation/posts/${postId}`,
      { action: 'hide', reason: 'It named a child' },
      jar.moderator!,
    );
    assert.equal(hidden.res.statusCode, 303);
    const [m] = await notificationsFor(id.member!, postId);
    assert.equal(m?.kind, 'moderation');
    assert.equal(m?.action, 'hide');
    const page = await get('/community/notifications?kind=moderation', 'member');
    assert.match(page.body, /A moderator hid your post/);
    assert.match(page.body, /It named a child/);
  });

  test('the unsubscribe link turns off that kind of email only', async () => {
    await fresh();
    await reply('moderator', open.slug, open.threadId, 'Unsubscribe test, @Demo Practitioner.');
    const [mail] = await fresh('member@example.org');
    assert.ok(mail);
    const path = /\/community\/notifications\/unsubscribe\/[A-Za-z0-9_.-]+/.exec(mail.text)?.[0];
    assert.ok(path, mail.raw);
    // Following the link changes nothing: a mail scanner may follow it.
    const shown = await t.app.inject({ url: path });
    assert.equal(shown.statusCode, 200);
    assert.match(shown.body, /Stop these emails/);
    const [prefsBefore] = await t.database.query<{ email_off: string[] }>(
      `SELECT email_off FROM notification_prefs WHERE user_id = $1`,
      [id.member!],
    );
    assert.deepEqual(prefsBefore?.email_off ?? [], []);
    // One-click (RFC 8058): a POST with no cookie and no CSRF token.
    const done = await t.app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    assert.equal(done.statusCode, 200);
    const [prefs] = await t.database.query<{ email: string; email_off: string[] }>(
      `SELECT email, email_off FROM notification_prefs WHERE user_id = $1`,
      [id.member!],
    );
    assert.deepEqual(prefs, { email: 'immediately', email_off: ['mention'] });
    const forged = await t.app.inject({
      method: 'POST',
      url: `${path.slice(0, -4)}AAAA`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    assert.equal(forged.statusCode, 404);
    const nonsense = await t.app.inject({ url: '/community/notifications/unsubscribe/nonsense' });
    assert.equal(nonsense.statusCode, 404);
    assert.match(nonsense.body, /This link does not work/);

    const mention = await reply(
      'moderator',
      open.slug,
      open.threadId,
      'Again, @Demo Practitioner.',
    );
    assert.equal((await notificationsFor(id.member!, mention)).length, 1, 'still on the page');
    assert.equal((await fresh('member@example.org')).length, 0, 'no mention email');
    // Other kinds still come: the member's own thread gets a reply.
    const own = await post(
      t,
      `/community/${open.slug}/new`,
      `/community/${open.slug}/new`,
      { title: 'The member’s own thread', body: 'Tell me things.' },
      jar.member!,
    );
    assert.equal(own.res.statusCode, 303);
    const threadId = /\/community\/[a-z-]+\/([0-9a-f-]{36})/.exec(
      String(own.res.headers.location),
    )![1]!;
    await reply('moderator', open.slug, threadId, 'A reply to your thread.');
    const replies = await fresh('member@example.org');
    assert.equal(replies.length, 1);
    assert.match(replies[0]!.text, /Demo Moderator replied to your thread/);
  });

  test('elsewhere on the site: links only to this site, only active people, nothing written until the caller’s unit of work', async () => {
    const notices = t.app.services.notifications;
    const base = {
      userId: id.member!,
      kind: 'comment' as const,
      actorLabel: 'Somebody',
      title: 'A demo article',
    };
    for (const link of ['https://example.org/x', '//example.org/x', '/\\example.org', 'news/x'])
      await assert.rejects(() => notices.elsewhere([{ ...base, link }]), /this site only/);
    assert.equal(
      await notices.elsewhere([
        { ...base, userId: '00000000-0000-4000-8000-000000000000', link: '/news/x' },
      ]),
      undefined,
      'nobody to tell',
    );
    const write = await notices.elsewhere([{ ...base, link: '/news/a-demo#comment-1' }]);
    assert.ok(write);
    const count = async () =>
      (
        await t.database.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM community_notifications WHERE user_id = $1 AND link = '/news/a-demo#comment-1'`,
          [id.member!],
        )
      )[0]!.n;
    assert.equal(await count(), 0, 'nothing before the unit of work runs');
    await t.database.transaction(write);
    assert.equal(await count(), 1);
    // The database refuses a notification that is about nothing.
    await assert.rejects(() =>
      t.database.query(
        `INSERT INTO community_notifications (user_id, kind, title) VALUES ($1, 'comment', 'x')`,
        [id.member!],
      ),
    );
  });
});
