import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import { sentMail } from '../../../test/helpers/mail.ts';
import { signIn, submit } from '../../../test/helpers/session.ts';
import { enableTwoFactor } from '../../../test/helpers/totp.ts';
import { DEMO_PASSWORD } from '../accounts/seed.ts';

/** Issue #19: moderators find their queues and hear of reports; members are told what happens. */
describe('moderation and membership without a stumble (#19)', () => {
  let t: TestApp;
  const jar: Record<string, string> = {};
  const get = (url: string, who?: string) =>
    t.app.inject({ url, headers: who ? { cookie: jar[who]! } : {} });
  let thread: string;
  let postId: string;

  before(async () => {
    t = await testApp({ seed: true });
    for (const [who, email, ip] of [
      ['moderator', 'moderator@example.org', '10.19.0.1'],
      ['admin', 'admin@example.org', '10.19.0.2'],
      ['editor', 'editor@example.org', '10.19.0.6'],
    ] as const)
      jar[who] = await signIn(t.app, email, DEMO_PASSWORD, await enableTwoFactor(t.app, email), ip);
    jar.member = await signIn(t.app, 'member@example.org', DEMO_PASSWORD, undefined, '10.19.0.3');
    jar.pending = await signIn(t.app, 'pending@example.org', DEMO_PASSWORD, undefined, '10.19.0.4');
    const [row] = await t.database.query<{ thread: string; post: string }>(
      `SELECT t.id AS thread, p.id AS post FROM threads t
       JOIN community_spaces s ON s.id = t.space_id JOIN posts p ON p.thread_id = t.id
       WHERE s.slug = 'wales-network' AND p.status = 'visible' ORDER BY t.created_at, p.number LIMIT 1`,
    );
    thread = `/community/wales-network/${row!.thread}`;
    postId = row!.post;
  });
  after(async () => t.close());

  /** A subject as read: RFC 2047 encoded words decoded. */
  const subject = (s: string) =>
    s.replace(/=\?UTF-8\?Q\?([^?]*)\?=\s*/gi, (_m, q: string) =>
      decodeURIComponent(q.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, '%$1')),
    );
  const hrefs = (html: string) => [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!);

  test('2. /admin links to every queue in one click, with counts, for those who may open it', async () => {
    const asModerator = await get('/admin', 'moderator');
    assert.equal(asModerator.statusCode, 200);
    for (const [href, label] of [
      ['/admin/moderation', 'Reported posts'],
      ['/admin/moderation#pending', 'Posts waiting for approval'],
      ['/admin/services/suggestions', 'Suggested changes to services'],
    ])
      assert.match(
        asModerator.body,
        new RegExp(`href="${href}">${label}</a>: <strong>\\d+</strong>`),
        `${label} with its count`,
      );
    assert.ok(!hrefs(asModerator.body).includes('/admin/resources?status=submitted'));
    const asAdmin = await get('/admin', 'admin');
    assert.match(
      asAdmin.body,
      /href="\/admin\/resources\?status=submitted">Resources sent in by members<\/a>: <strong>\d+<\/strong>/,
    );
    const asEditor = await get('/admin', 'editor');
    assert.ok(hrefs(asEditor.body).includes('/admin/resources?status=submitted'));
    assert.ok(!hrefs(asEditor.body).includes('/admin/moderation'), 'not a moderator');
  });

  test('2. /community and /admin/community link moderators to the moderation queue; members see no link', async () => {
    assert.ok(hrefs((await get('/community', 'moderator')).body).includes('/admin/moderation'));
    assert.ok(hrefs((await get('/admin/community', 'admin')).body).includes('/admin/moderation'));
    assert.ok(!hrefs((await get('/community', 'member')).body).includes('/admin/moderation'));
  });

  test('2. a report is emailed to moderators as their settings say, queued with the report', async () => {
    // The admin wants no emails about reports; the moderator keeps the default (at once).
    await submit(
      t.app,
      '/community/notifications/settings',
      '/community/notifications/settings',
      { email: 'immediately', kinds: 'mention' },
      jar.admin,
    );
    await sentMail(t.app);
    const before = await get('/admin', 'moderator');
    const reportsBefore = Number(/Reported posts<\/a>: <strong>(\d+)/.exec(before.body)![1]);
    const reported = await submit(
      t.app,
      `/community/posts/${postId}/report`,
      `/community/posts/${postId}/report`,
      { reason: 'This names a child’s school.' },
      jar.member,
    );
    assert.equal(reported.res.statusCode, 200);
    // Queued in the report's own transaction: the job is there before any job runs.
    const [queued] = await t.database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM jobs WHERE name = 'mail.send' AND payload->>'to' = 'moderator@example.org'`,
    );
    assert.ok(queued!.n >= 1, 'the email is queued with the report');
    const mails = await sentMail(t.app);
    const toModerator = mails.find((m) => m.to === 'moderator@example.org');
    assert.ok(toModerator, 'the moderator is emailed');
    assert.match(subject(toModerator.subject), /A member reported a post/);
    assert.match(toModerator.text, /\/admin\/moderation/);
    assert.doesNotMatch(
      toModerator.text,
      /Member|member@example\.org/,
      'the reporter is not named',
    );
    assert.ok(!mails.some((m) => m.to === 'admin@example.org'), 'the admin turned these off');
    const after = await get('/admin', 'moderator');
    assert.match(after.body, new RegExp(`Reported posts</a>: <strong>${reportsBefore + 1}<`));
    const notes = await get('/community/notifications', 'moderator');
    assert.match(notes.body, /A member reported a post/);
    const settings = await get('/community/notifications/settings', 'member');
    assert.doesNotMatch(settings.body, /Reports of posts/, 'members are not offered that kind');
  });

  test('2. a post held for approval is emailed to moderators as their settings say, queued with the post', async () => {
    await t.app.services.accounts.createUserDirect({
      email: 'held-poster@example.org',
      displayName: 'Held Poster',
      role: 'member',
      kind: 'practitioner',
      password: DEMO_PASSWORD,
      approved: true,
    });
    const cookie = await signIn(
      t.app,
      'held-poster@example.org',
      DEMO_PASSWORD,
      undefined,
      '10.19.0.6',
    );
    await sentMail(t.app);
    // A new member's first thread is held (the space's page says "waiting for approval").
    const title = 'A first question from a new member';
    const space = thread.split('/').slice(0, 3).join('/');
    const posted = await submit(
      t.app,
      `${space}/new`,
      `${space}/new`,
      { title, body: 'Where do I find the local pre-birth team?' },
      cookie,
    );
    assert.ok([200, 303].includes(posted.res.statusCode), `posted: ${posted.res.statusCode}`);
    const [held] = await t.database.query<{ id: string; status: string }>(
      `SELECT p.id, p.status FROM posts p JOIN threads t ON t.id = p.thread_id WHERE t.title = $1`,
      [title],
    );
    assert.equal(held?.status, 'pending', 'the post is held');
    // Queued in the post's own transaction: the job is there before any job runs.
    const [queued] = await t.database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM jobs WHERE name = 'mail.send' AND payload->>'to' = 'moderator@example.org'`,
    );
    assert.ok(queued!.n >= 1, 'the email is queued with the post');
    const mails = await sentMail(t.app);
    const toModerator = mails.find((m) => m.to === 'moderator@example.org');
    assert.ok(toModerator, 'the moderator is emailed');
    assert.match(subject(toModerator.subject), /^A post in ‘A first question/);
    assert.match(toModerator.text, /is waiting for a moderator.{1,3}s approval/);
    assert.match(toModerator.text, /\/admin\/moderation/);
    assert.match(toModerator.text, new RegExp(`/community/posts/${held!.id}`));
    assert.doesNotMatch(toModerator.text, /held-poster@example\.org/);
    assert.ok(!mails.some((m) => m.to === 'admin@example.org'), 'the admin turned these off');
    assert.ok(!mails.some((m) => m.to === 'held-poster@example.org'), 'the author is not told');
    const notes = await get('/community/notifications', 'moderator');
    assert.match(notes.body, /is waiting for a moderator’s approval/);
    const settings = await get('/community/notifications/settings', 'member');
    assert.doesNotMatch(settings.body, /Posts waiting for approval/, 'members are not offered it');
    const modSettings = await get('/community/notifications/settings', 'moderator');
    assert.match(modSettings.body, /Posts waiting for approval \(moderators only\)/);
  });

  test('6. approving a new member’s first post tells them it was approved, not “restored”', async () => {
    await t.app.services.accounts.createUserDirect({
      email: 'first-poster@example.org',
      displayName: 'First Poster',
      role: 'member',
      kind: 'practitioner',
      password: DEMO_PASSWORD,
      approved: true,
    });
    jar.newcomer = await signIn(
      t.app,
      'first-poster@example.org',
      DEMO_PASSWORD,
      undefined,
      '10.19.0.5',
    );
    await submit(t.app, thread, `${thread}/reply`, { body: 'Hello, my first post.' }, jar.newcomer);
    const [p] = await t.database.query<{ id: string }>(
      `SELECT id FROM posts WHERE body = 'Hello, my first post.'`,
    );
    await sentMail(t.app);
    await submit(
      t.app,
      '/admin/moderation',
      `/admin/moderation/posts/${p!.id}`,
      { action: 'restore' },
      jar.moderator,
    );
    const mail = (await sentMail(t.app)).find((m) => m.to === 'first-poster@example.org');
    assert.ok(mail);
    assert.match(subject(mail.subject), /A moderator approved your post/);
    assert.doesNotMatch(subject(mail.subject), /restored/);
  });

  test('8. a member waiting for approval is told why they cannot start a thread', async () => {
    const space = await get('/community/contact-and-keeping-links', 'pending');
    assert.equal(space.statusCode, 200);
    assert.doesNotMatch(space.body, /Start a new thread<\/a>/);
    assert.match(space.body, /You can start a thread or reply once a moderator has approved/);
  });
});
