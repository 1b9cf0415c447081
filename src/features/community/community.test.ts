import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DomUtils, parseDocument } from 'htmlparser2';
import { cookiesOf, csrfFor, type TestApp, testApp } from '../../../test/helpers/app.ts';
import { signIn } from '../../../test/helpers/session.ts';
import { enableTwoFactor } from '../../../test/helpers/totp.ts';
import { DEMO_PASSWORD } from '../accounts/seed.ts';

/** Post a form as a browser does: the CSRF token from `page`, the cookies kept. */
async function post(
  t: TestApp,
  page: string,
  action: string,
  fields: Record<string, string>,
  cookie: string,
) {
  const { token, cookie: jar } = await csrfFor(t.app, page, cookie);
  const res = await t.app.inject({
    method: 'POST',
    url: action,
    headers: { cookie: jar, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ ...fields, _csrf: token }).toString(),
  });
  return { res, cookie: cookiesOf(res, jar) };
}

describe('the community of practice', () => {
  let t: TestApp;
  const jar: Record<string, string> = {};
  let group: { threadId: string; postId: string; attachmentId: string };
  let open: { slug: string; threadId: string };
  const get = (url: string, who?: string) =>
    t.app.inject({ url, headers: who ? { cookie: jar[who]! } : {} });

  before(async () => {
    t = await testApp({ seed: true });
    const secret = await enableTwoFactor(t.app, 'moderator@example.org');
    jar.moderator = await signIn(t.app, 'moderator@example.org', DEMO_PASSWORD, secret, '10.8.0.1');
    jar.member = await signIn(t.app, 'member@example.org', DEMO_PASSWORD, undefined, '10.8.0.2');
    jar.parent = await signIn(t.app, 'parent@example.org', DEMO_PASSWORD, undefined, '10.8.0.3');
    jar.unapproved = await signIn(
      t.app,
      'pending@example.org',
      DEMO_PASSWORD,
      undefined,
      '10.8.0.4',
    );
    const [g] = await t.database.query<{ thread_id: string; post_id: string }>(
      `SELECT t.id AS thread_id, p.id AS post_id FROM threads t
       JOIN community_spaces s ON s.id = t.space_id JOIN posts p ON p.thread_id = t.id
       WHERE s.slug = 'parents-panel' ORDER BY t.created_at, p.number LIMIT 1`,
    );
    // A file on the group's post (its row is enough: the refusal comes first).
    const [a] = await t.database.query<{ id: string }>(
      `INSERT INTO post_attachments (post_id, storage_key, filename, mime, size, alt)
       VALUES ($1, 'community/x/y.png', 'y.png', 'image/png', 1, 'A picture') RETURNING id`,
      [g!.post_id],
    );
    group = { threadId: g!.thread_id, postId: g!.post_id, attachmentId: a!.id };
    const [o] = await t.database.query<{ id: string }>(
      `SELECT t.id FROM threads t JOIN community_spaces s ON s.id = t.space_id
       WHERE s.slug = 'wales-network' ORDER BY t.created_at LIMIT 1`,
    );
    open = { slug: 'wales-network', threadId: o!.id };
  });
  after(async () => t.close());

  test('every community route refuses a visitor, an unapproved member and a member outside a private group', async () => {
    const routes = t.app.platform.routes.routes.filter(
      (r) =>
        r.url.startsWith('/community/') &&
        r.url !== '/community/search' &&
        // A member's own pages, not a space's: the directory and their notifications.
        !r.url.startsWith('/community/people') &&
        !r.url.startsWith('/community/notifications'),
    );
    assert.ok(routes.length >= 14, `the community's routes are read (${routes.length})`);
    const sample = (url: string) =>
      url
        .replace(':space', 'parents-panel')
        .replace('/posts/:id', `/posts/${group.postId}`)
        .replace('/attachments/:id', `/attachments/${group.attachmentId}`)
        .replace(':id', group.threadId);
    const problems: string[] = [];
    for (const route of routes)
      for (const who of ['visitor', 'unapproved', 'member'] as const) {
        const url = sample(route.url);
        let res;
        if (route.method === 'GET') res = await get(url, who === 'visitor' ? undefined : who);
        else {
          const cookie = who === 'visitor' ? '' : jar[who]!;
          const page = cookie ? '/account' : '/account/sign-in';
          const { token, cookie: withCsrf } = await csrfFor(t.app, page, cookie);
          res = await t.app.inject({
            method: 'POST',
            url,
            headers: { cookie: withCsrf, 'content-type': 'application/x-www-form-urlencoded' },
            payload: new URLSearchParams({
              _csrf: token,
              body: 'x',
              title: 'x',
              reason: 'x',
              action: 'pin',
              userId: '00000000-0000-0000-0000-000000000000',
              decision: 'accept',
            }).toString(),
          });
        }
        const toSignIn =
          res.statusCode === 303 &&
          String(res.headers.location).startsWith('/account/sign-in?next=');
        const label = `${route.method} ${route.url} as ${who}: ${res.statusCode}`;
        // Asking to join a group is what a member outside it may do.
        if (route.url === '/community/:space/join' && who === 'member') {
          if (res.statusCode !== 303) problems.push(`${label}: may ask to join`);
          continue;
        }
        if (who === 'visitor' && route.method === 'GET' && !toSignIn)
          problems.push(`${label}: a visitor is sent to sign in`);
        if (who === 'visitor' && route.method === 'POST' && ![401, 403].includes(res.statusCode))
          problems.push(`${label}: refused`);
        if (who !== 'visitor' && res.statusCode !== 403)
          problems.push(`${label}: refused with 403`);
        if (res.body.includes('Jointly') || res.body.includes('invented thread'))
          problems.push(`${label}: leaks content`);
      }
    assert.deepEqual(problems, []);
    // And they are told why, in words.
    const outside = await get('/community/parents-panel', 'member');
    assert.match(outside.body, /private group/i);
    assert.match(outside.body, /action="\/community\/parents-panel\/join"/);
    const waiting = await get(`/community/${open.slug}`, 'unapproved');
    assert.equal(waiting.statusCode, 403);
    assert.match(waiting.body, /waiting/i);
  });

  test('community pages carry noindex; a public space can be read by anyone, but not written in', async () => {
    const list = await get(`/community/${open.slug}/${open.threadId}`, 'member');
    assert.equal(list.statusCode, 200);
    assert.match(list.body, /<meta name="robots" content="noindex, nofollow">/);
    const publicSpace = await get('/community/contact-and-keeping-links');
    assert.equal(publicSpace.statusCode, 200, 'an admin made this space public to read');
    assert.match(publicSpace.body, /noindex/);
    assert.doesNotMatch(publicSpace.body, /href="\/community\/contact-and-keeping-links\/new"/);
    const index = await get('/community');
    assert.equal(index.statusCode, 200);
    assert.doesNotMatch(
      index.body,
      /href="\/community\/wales-network"/,
      'members-only spaces are not offered',
    );
    const found = await get('/community/search?q=letter');
    assert.equal(found.statusCode, 200);
    assert.doesNotMatch(
      found.body,
      /wales-network|parents-panel/,
      'search keeps to what one may read',
    );
  });

  test('script, handlers, javascript: links and SVG in a post render inert', async () => {
    const payloads = [
      '<script>alert(1)</script>',
      '<img src=x onerror=alert(1)>',
      '[click](javascript:alert(1))',
      '<svg onload=alert(1)><script>alert(2)</script></svg>',
      '<a href="jav&#x09;ascript:alert(1)">x</a>',
      '<iframe src="https://example.org"></iframe>',
      '![x](javascript:alert(1))',
      '<details open ontoggle=alert(1)>',
      '[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
      '<math><a xlink:href="javascript:alert(1)">x</a></math>',
    ];
    const at = `/community/${open.slug}/${open.threadId}`;
    const { res } = await post(
      t,
      at,
      `${at}/reply`,
      { body: payloads.join('\n\n') },
      jar.moderator!,
    );
    assert.equal(res.statusCode, 303);
    const page = await get(String(res.headers.location).split('#')[0]!, 'member');
    const posted = page.body.slice(page.body.lastIndexOf('<article'));
    const body = posted.slice(0, posted.indexOf('</article>'));
    assert.match(body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/, 'the script is shown as text');
    // Parsed as a browser would: no active element, no handler, no script link.
    const dom = parseDocument(body);
    const elements = DomUtils.findAll(() => true, dom.children);
    for (const el of elements) {
      assert.ok(
        !['script', 'iframe', 'svg', 'math', 'object', 'embed', 'style'].includes(el.name),
        `no <${el.name}>`,
      );
      for (const [name, value] of Object.entries(el.attribs)) {
        assert.ok(!/^on/i.test(name), `no ${name} handler`);
        if (['href', 'src', 'action'].includes(name))
          assert.ok(
            /^(https?:|mailto:|\/|#|\?)/i.test([...value].filter((c) => c > ' ').join('')),
            `a safe ${name}: ${value}`,
          );
      }
    }
    // The same inertness is checked for 123 payloads on the renderer itself (platform/rich-text.test.ts).
  });

  test("a parent's anonymous post shows no trace of its author, in the page or its source", async () => {
    const at = `/community/parents-panel/${group.threadId}`;
    const form = await get(at, 'parent');
    assert.match(form.body, /name="anonymous"/, 'parents are offered it here');
    assert.match(
      form.body,
      /only the site’s administrators|administrators/i,
      'the reason is explained first',
    );
    const { res } = await post(
      t,
      at,
      `${at}/reply`,
      { body: 'A reply nobody can trace to me.', anonymous: 'yes' },
      jar.parent!,
    );
    assert.equal(res.statusCode, 303);
    const [me] = await t.database.query<{ id: string; display_name: string }>(
      `SELECT id, display_name FROM users WHERE email = 'parent@example.org'`,
    );
    const [row] = await t.database.query<{ author_id: string; anonymous: boolean }>(
      `SELECT author_id, anonymous FROM posts WHERE body = 'A reply nobody can trace to me.'`,
    );
    assert.equal(row!.anonymous, true);
    assert.equal(row!.author_id, me!.id, 'admins can trace it in the database');
    for (const who of ['moderator', 'parent'] as const) {
      const page = await get(String(res.headers.location).split('#')[0]!, who);
      const article = page.body.slice(page.body.indexOf('A reply nobody can trace to me.') - 2000);
      const mine = article.slice(0, article.indexOf('</article>', 2000));
      assert.ok(mine.includes('A parent'), `shown as "A parent" to ${who}`);
      assert.ok(!mine.includes(me!.display_name), `no name for ${who}`);
      assert.ok(!page.body.includes(me!.id), `no id anywhere in the page for ${who}`);
    }
    // A member who is not a parent is not offered it, and cannot force it.
    const wales = `/community/${open.slug}/${open.threadId}`;
    const notOffered = await get(wales, 'member');
    assert.doesNotMatch(notOffered.body, /name="anonymous"/);
  });

  test('a reported post reaches the queue; hiding removes it for members and leaves it, marked, for moderators', async () => {
    const at = `/community/${open.slug}/${open.threadId}`;
    const { res } = await post(
      t,
      at,
      `${at}/reply`,
      { body: 'A post that will be reported.' },
      jar.moderator!,
    );
    const [p] = await t.database.query<{ id: string }>(
      `SELECT id FROM posts WHERE body = 'A post that will be reported.'`,
    );
    assert.equal(res.statusCode, 303);
    const reported = await post(
      t,
      `/community/posts/${p!.id}/report`,
      `/community/posts/${p!.id}/report`,
      { reason: 'This names a child.' },
      jar.member!,
    );
    assert.equal(reported.res.statusCode, 200);
    const noReason = await post(
      t,
      `/community/posts/${p!.id}/report`,
      `/community/posts/${p!.id}/report`,
      { reason: '' },
      jar.member!,
    );
    assert.equal(noReason.res.statusCode, 400);
    const queue = await get('/admin/moderation', 'moderator');
    assert.equal(queue.statusCode, 200);
    assert.match(queue.body, /This names a child\./);
    // A warning needs its reason; it reaches the author and the audit log, and leaves the post.
    const noWhy = await post(
      t,
      '/admin/moderation',
      `/admin/moderation/posts/${p!.id}`,
      { action: 'warn' },
      jar.moderator!,
    );
    assert.equal(noWhy.res.statusCode, 400);
    assert.match(noWhy.res.body, /Enter the reason for the warning/);
    const warned = await post(
      t,
      '/admin/moderation',
      `/admin/moderation/posts/${p!.id}`,
      { action: 'warn', reason: 'Please do not name children.' },
      jar.moderator!,
    );
    assert.equal(warned.res.statusCode, 303);
    const [told] = await t.database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM community_notifications WHERE post_id = $1 AND action = 'warn'`,
      [p!.id],
    );
    assert.equal(told!.n, 1, 'the author is told');
    const [warnAudit] = await t.database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_log WHERE event = 'community.post_warn'`,
    );
    assert.equal(warnAudit!.n, 1);
    // The report was resolved by the warning; report again to try hiding.
    await post(
      t,
      `/community/posts/${p!.id}/report`,
      `/community/posts/${p!.id}/report`,
      { reason: 'This names a child.' },
      jar.member!,
    );
    const hid = await post(
      t,
      '/admin/moderation',
      `/admin/moderation/posts/${p!.id}`,
      { action: 'hide', reason: 'Identifies a child' },
      jar.moderator!,
    );
    assert.equal(hid.res.statusCode, 303);
    const asMember = await get(at, 'member');
    assert.doesNotMatch(asMember.body, /A post that will be reported\./, 'gone for members');
    const asModerator = await get(`/community/posts/${p!.id}`, 'moderator');
    const page = await get(String(asModerator.headers.location).split('#')[0]!, 'moderator');
    assert.match(page.body, /A post that will be reported\./, 'still there for moderators');
    assert.match(page.body, /Hidden/);
    const after = await get('/admin/moderation', 'moderator');
    assert.doesNotMatch(after.body, /This names a child\./, 'the report is resolved');
    const [audit] = await t.database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_log WHERE event = 'community.post_hide'`,
    );
    assert.equal(audit!.n, 1, 'the action is in the audit log');
  });

  test("a new member's first posts wait for a moderator; edits keep the old text for moderators only", async () => {
    await t.app.services.accounts.createUserDirect({
      email: 'newcomer@example.org',
      displayName: 'Newcomer',
      role: 'member',
      kind: 'practitioner',
      password: DEMO_PASSWORD,
      approved: true,
    });
    jar.newcomer = await signIn(
      t.app,
      'newcomer@example.org',
      DEMO_PASSWORD,
      undefined,
      '10.8.0.5',
    );
    const at = `/community/${open.slug}/${open.threadId}`;
    const first = await post(t, at, `${at}/reply`, { body: 'My very first post.' }, jar.newcomer!);
    assert.match(String(first.res.headers.location), /held=1/);
    assert.doesNotMatch((await get(at, 'member')).body, /My very first post\./, 'waiting');
    const [p] = await t.database.query<{ id: string }>(
      `SELECT id FROM posts WHERE body = 'My very first post.'`,
    );
    const queue = await get('/admin/moderation', 'moderator');
    assert.match(queue.body, /My very first post\./);
    await post(
      t,
      '/admin/moderation',
      `/admin/moderation/posts/${p!.id}`,
      { action: 'restore' },
      jar.moderator!,
    );
    const shown = await get(`/community/posts/${p!.id}`, 'member');
    assert.equal(shown.statusCode, 303);

    const edited = await post(
      t,
      `/community/posts/${p!.id}/edit`,
      `/community/posts/${p!.id}/edit`,
      { body: 'My first post, edited.' },
      jar.newcomer!,
    );
    assert.equal(edited.res.statusCode, 303);
    const history = await get(`/community/posts/${p!.id}/history`, 'moderator');
    assert.equal(history.statusCode, 200);
    assert.match(history.body, /My very first post\./);
    const notForMembers = await get(`/community/posts/${p!.id}/history`, 'newcomer');
    assert.equal(notForMembers.statusCode, 403);
    const someoneElse = await post(
      t,
      at,
      `/community/posts/${p!.id}/edit`,
      { body: 'Not mine.' },
      jar.member!,
    );
    assert.equal(someoneElse.res.statusCode, 403);
    const empty = await post(
      t,
      `/community/posts/${p!.id}/edit`,
      `/community/posts/${p!.id}/edit`,
      { body: '   ' },
      jar.newcomer!,
    );
    assert.equal(empty.res.statusCode, 400);
    assert.match(empty.res.body, /govuk-error-summary/);
  });

  test('likes toggle; locked threads take no replies from members; threads page at 20 posts', async () => {
    const at = `/community/${open.slug}/${open.threadId}`;
    const [p] = await t.database.query<{ id: string }>(
      `SELECT id FROM posts WHERE thread_id = $1 AND status = 'visible' ORDER BY number LIMIT 1`,
      [open.threadId],
    );
    const likes = async () =>
      (
        await t.database.query<{ n: number }>('SELECT like_count AS n FROM posts WHERE id = $1', [
          p!.id,
        ])
      )[0]!.n;
    const before = await likes();
    await post(t, at, `/community/posts/${p!.id}/like`, {}, jar.member!);
    assert.equal(await likes(), before + 1);
    await post(t, at, `/community/posts/${p!.id}/like`, {}, jar.member!);
    assert.equal(await likes(), before);

    for (let i = 0; i < 25; i++)
      await t.app.services.community.reply(
        {
          id: (
            await t.database.query<{ id: string }>(
              `SELECT id FROM users WHERE email = 'moderator@example.org'`,
            )
          )[0]!.id,
          role: 'moderator',
          approved: true,
          totpEnabled: true,
          displayName: 'm',
        },
        open.slug,
        open.threadId,
        { body: `Filler reply ${i}`, anonymous: false },
      );
    const first = await get(at, 'member');
    assert.match(first.body, /govuk-pagination/);
    assert.equal([...first.body.matchAll(/<article/g)].length, 20);

    await post(t, at, `${at}/moderate`, { action: 'lock' }, jar.moderator!);
    const locked = await post(t, at, `${at}/reply`, { body: 'Too late.' }, jar.member!);
    assert.equal(locked.res.statusCode, 403);
    await post(t, at, `${at}/moderate`, { action: 'unlock' }, jar.moderator!);
  });

  test('a very deep list pages on from its last thread: the same threads as numbered pages, in order', async () => {
    // More threads than the list counts (1,000), some sharing a time, so the id breaks ties.
    const [space] = await t.database.query<{ id: string }>(
      `INSERT INTO community_spaces (slug, name, kind) VALUES ('deep-list', 'Deep list', 'themed') RETURNING id`,
    );
    await t.database.query(
      `INSERT INTO threads (space_id, title, post_count, last_post_at)
       SELECT $1, 'Deep thread ' || n, 1, timestamptz '2026-01-01' + (n / 2) * interval '1 minute'
       FROM generate_series(1, 1040) AS n`,
      [space!.id],
    );
    const ordered = (
      await t.database.query<{ id: string }>(
        `SELECT id FROM threads WHERE space_id = $1 ORDER BY pinned DESC, last_post_at DESC, id DESC`,
        [space!.id],
      )
    ).map((r) => r.id);
    const idsOn = (html: string) =>
      [...html.matchAll(/href="\/community\/deep-list\/([0-9a-f-]{36})"/g)].map((m) => m[1]);
    const nextOf = (html: string) =>
      /<link rel="next" href="([^"]+)"|class="govuk-pagination__next">\s*<a[^>]*href="([^"]+)"/
        .exec(html)
        ?.slice(1)
        .find(Boolean)
        ?.replace(/&amp;/g, '&');

    const first = await get('/community/deep-list', 'member');
    assert.equal(first.statusCode, 200);
    assert.deepEqual(idsOn(first.body), ordered.slice(0, 30), 'page 1 in order');
    const next = nextOf(first.body);
    assert.equal(
      next,
      `/community/deep-list?page=2&after=${ordered[29]}`,
      'next carries the last id',
    );
    const second = await get(next!, 'member');
    assert.deepEqual(idsOn(second.body), ordered.slice(30, 60), 'page 2 continues from it');
    const numbered = await get('/community/deep-list?page=2', 'member');
    assert.deepEqual(idsOn(numbered.body), idsOn(second.body), 'the same as the numbered page');
    // Deep in the list, still in order.
    const deep = await get(`/community/deep-list?page=20&after=${ordered[569]}`, 'member');
    assert.deepEqual(idsOn(deep.body), ordered.slice(570, 600));
    assert.equal(nextOf(deep.body), `/community/deep-list?page=21&after=${ordered[599]}`);
    // An id from elsewhere is no place in this list: nothing, not an error.
    const elsewhere = await get(`/community/deep-list?after=${open.threadId}`, 'member');
    assert.equal(elsewhere.statusCode, 200);
    assert.deepEqual(idsOn(elsewhere.body), []);
    // The last page has no "next".
    const last = await get(`/community/deep-list?page=35&after=${ordered[1019]}`, 'member');
    assert.deepEqual(idsOn(last.body), ordered.slice(1020));
    assert.equal(nextOf(last.body), undefined);

    // The list of spaces: counted to the cap; the latest activity, pinned threads included.
    await t.database.query(
      `UPDATE threads SET pinned = true, last_post_at = '2026-06-01T12:00:00Z' WHERE id = $1`,
      [ordered[500]],
    );
    const index = await get('/community', 'member');
    const card = index.body.slice(index.body.indexOf('Deep list'));
    assert.match(card.slice(0, 2000), /More than 1,000 threads/);
    assert.match(card.slice(0, 2000), /Last activity: [^<]*June 2026/);
    // And the true number for a space under the cap (it once read 0 for every space).
    const [wales] = await t.database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM threads t JOIN community_spaces s ON s.id = t.space_id
       WHERE s.slug = 'wales-network' AND NOT t.hidden`,
    );
    assert.ok(wales!.n > 1);
    const walesCard = index.body.slice(index.body.indexOf('href="/community/wales-network"'));
    assert.match(walesCard.slice(0, 1500), new RegExp(`>${wales!.n} threads<`));
  });
});
