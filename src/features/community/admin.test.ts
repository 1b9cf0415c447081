import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import { signIn, submit } from '../../../test/helpers/session.ts';
import { enableTwoFactor } from '../../../test/helpers/totp.ts';
import { AccessDenied, type CurrentUser } from '../../platform/auth.ts';
import { DEMO_PASSWORD } from '../accounts/seed.ts';
import { createCommunityAdmin } from './admin.ts';
import { createCommunityAdminRepository } from './admin-repository.ts';
import { HELD_POSTS_SETTING } from './service.ts';

/** The community's admin pages: spaces, their moderators, and held first posts. */

interface AuditDetail {
  slug?: string;
  changes?: Record<string, { from: unknown; to: unknown }>;
  from?: number;
  to?: number;
}
interface SpaceDbRow {
  id: string;
  name: string;
  name_cy: string | null;
  description: string;
  description_cy: string | null;
  kind: string;
  visibility: string;
  public_read: boolean;
  allow_anonymous: boolean;
  position: number;
  is_demo: boolean;
}

describe('community administration', () => {
  let t: TestApp;
  const jar: Record<string, string> = {};
  let address = 0;
  const nextAddress = () => `10.9.0.${++address}`;
  const get = (url: string, who?: string) =>
    t.app.inject({ url, headers: who ? { cookie: jar[who]! } : {} });
  /** Post a form as the signed-in `who`, with the CSRF token of `page`. */
  const send = async (who: string, page: string, action: string, fields: Record<string, string>) =>
    (await submit(t.app, page, action, fields, jar[who]!)).res;
  const count = async (sql: string, params: unknown[] = []) =>
    Number((await t.database.query<{ n: number }>(sql, params))[0]!.n);
  const spaceCount = () => count('SELECT count(*)::int AS n FROM community_spaces');
  const audits = (event: string) =>
    t.database.query<{ actor_id: string; subject_id: string | null; detail: AuditDetail }>(
      'SELECT actor_id, subject_id, detail FROM audit_log WHERE event = $1 ORDER BY id',
      [event],
    );
  const idOf = async (email: string) =>
    (await t.database.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [email]))[0]!
      .id;
  const space = async (slug: string) =>
    (
      await t.database.query<SpaceDbRow>('SELECT * FROM community_spaces WHERE slug = $1', [slug])
    )[0];
  /** A new, approved member with no posts yet. */
  const newMember = async (email: string) => {
    await t.app.services.accounts.createUserDirect({
      email,
      role: 'member',
      displayName: email.split('@')[0]!,
      password: DEMO_PASSWORD,
      approved: true,
    });
    jar[email] = await signIn(t.app, email, DEMO_PASSWORD, undefined, nextAddress());
    return email;
  };
  const newThread = (who: string, slug: string, title: string) =>
    send(who, `/community/${slug}/new`, `/community/${slug}/new`, {
      title,
      body: `The first post of “${title}”.`,
    });
  const validSpace = (over: Record<string, string> = {}) => ({
    name: 'Kinship carers',
    nameCy: 'Gofalwyr sy’n berthnasau',
    description: 'Working with grandparents and other family members who care for children.',
    descriptionCy: 'Gweithio gyda neiniau a theidiau ac aelodau eraill o’r teulu.',
    slug: '',
    kind: 'themed',
    visibility: 'members',
    position: '7',
    ...over,
  });

  before(async () => {
    t = await testApp({ seed: true });
    const adminSecret = await enableTwoFactor(t.app, 'admin@example.org');
    const moderatorSecret = await enableTwoFactor(t.app, 'moderator@example.org');
    jar.admin = await signIn(t.app, 'admin@example.org', DEMO_PASSWORD, adminSecret, nextAddress());
    jar.moderator = await signIn(
      t.app,
      'moderator@example.org',
      DEMO_PASSWORD,
      moderatorSecret,
      nextAddress(),
    );
    jar.member = await signIn(t.app, 'member@example.org', DEMO_PASSWORD, undefined, nextAddress());
    jar.parent = await signIn(t.app, 'parent@example.org', DEMO_PASSWORD, undefined, nextAddress());
  });
  after(async () => t.close());

  test('admins only: a visitor signs in first; a member and a site moderator get 403; the service refuses too', async () => {
    const pages = [
      '/admin/community',
      '/admin/community/spaces/new',
      '/admin/community/spaces/wales-network',
    ];
    for (const url of pages) {
      const visitor = await get(url);
      assert.equal(visitor.statusCode, 303, url);
      assert.equal(visitor.headers.location, `/account/sign-in?next=${encodeURIComponent(url)}`);
      for (const who of ['member', 'moderator']) {
        const res = await get(url, who);
        assert.equal(res.statusCode, 403, `${url} as ${who}`);
        assert.doesNotMatch(res.body, /Remove as moderator|Add a space/);
      }
      assert.equal((await get(url, 'admin')).statusCode, 200, `${url} as admin`);
    }
    // Forms too: a site moderator cannot appoint, create or change the setting.
    const before = await spaceCount();
    for (const [action, fields] of [
      ['/admin/community/spaces/new', validSpace({ name: 'Not by a moderator' })],
      ['/admin/community/held-posts', { heldPosts: '0' }],
      ['/admin/community/spaces/wales-network/moderators', { email: 'member@example.org' }],
    ] as const) {
      const res = await send('moderator', '/account', action, fields);
      assert.equal(res.statusCode, 403, action);
    }
    assert.equal(await spaceCount(), before);
    // The service checks the role itself, whatever route calls it.
    const admin = createCommunityAdmin({
      repo: createCommunityAdminRepository(t.database.db),
      people: {
        contact: (id) => t.app.services.accounts.contact(id),
        memberByEmail: (e) => t.app.services.accounts.approvedMemberByEmail(e),
        setting: (key) => t.app.services.accounts.setting(key),
        putSetting: (key, value) => t.app.services.accounts.putSetting(key, value),
        audit: t.app.services.accounts.audit,
      },
    });
    const moderator: CurrentUser = {
      id: await idOf('moderator@example.org'),
      displayName: 'Moderator',
      role: 'moderator',
      approved: true,
      totpEnabled: true,
    };
    await assert.rejects(admin.overview(moderator), AccessDenied);
    await assert.rejects(admin.setHeldPosts(moderator, 0), AccessDenied);
    await assert.rejects(
      admin.appointModerator(moderator, 'wales-network', 'member@example.org'),
      AccessDenied,
    );
    await assert.rejects(admin.overview(undefined), AccessDenied);
  });

  test('the dashboard links to the page; it lists every space with its settings and moderators', async () => {
    const dashboard = await get('/admin', 'admin');
    assert.match(dashboard.body, /href="\/admin\/community">Community spaces<\/a>/);
    const moderatorDashboard = await get('/admin', 'moderator');
    assert.doesNotMatch(moderatorDashboard.body, /href="\/admin\/community"/);

    const res = await get('/admin/community', 'admin');
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /<meta name="robots" content="noindex, nofollow">/);
    const rows = [...res.body.matchAll(/<tr class="govuk-table__row">([\s\S]*?)<\/tr>/g)]
      .map((m) =>
        m[1]!
          .replace(/<[^>]+>/g, ' ')
          .replace(/\s+/g, ' ')
          .trim(),
      )
      .slice(1);
    assert.equal(rows.length, 4, 'the four demo spaces');
    const row = (name: string) => rows.find((r) => r.includes(name))!;
    assert.match(row('Parents’ panel'), /Group members only No Yes 1$/);
    assert.match(row('Contact and keeping links'), /Approved members Yes No 0$/);
    assert.match(row('Wales network'), /Approved members No No 0$/);
    assert.match(res.body, /href="\/admin\/community\/spaces\/parents-panel"/);
    assert.match(res.body, /href="\/admin\/community\/spaces\/new">Add a space<\/a>/);
    assert.match(res.body, /name="heldPosts"[^>]*value="2"/);

    const cy = await get('/admin/community?lang=cy', 'admin');
    assert.match(cy.body, /Mannau’r gymuned/);
    assert.match(cy.body, /Rhwydwaith Cymru \(enghraifft\)/);
  });

  test('a new space: every problem is shown at once, what was typed is kept, and nothing is written', async () => {
    const before = await spaceCount();
    const cases: [Record<string, string>, RegExp, string][] = [
      [validSpace({ name: '  ' }), /Enter a name for the space/, '#name'],
      [
        validSpace({ name: 'Wales network' }),
        /There is already a space at \/community\/wales-network\./,
        '#slug',
      ],
      [
        validSpace({ slug: 'parents-panel' }),
        /There is already a space at \/community\/parents-panel/,
        '#slug',
      ],
      [validSpace({ slug: 'search' }), /is used by another page/, '#slug'],
      [
        validSpace({ slug: 'Not A Slug!' }),
        /lower-case letters, numbers and single hyphens/,
        '#slug',
      ],
      [
        validSpace({ visibility: 'group', publicRead: 'yes' }),
        /Only a space open to all approved members can be public to read/,
        '#publicRead',
      ],
      [validSpace({ position: 'first' }), /Enter the position as a whole number/, '#position'],
      [validSpace({ visibility: 'everyone' }), /Select who can read and post/, '#visibility'],
    ];
    for (const [fields, message, href] of cases) {
      const res = await send(
        'admin',
        '/admin/community/spaces/new',
        '/admin/community/spaces/new',
        fields,
      );
      assert.equal(res.statusCode, 400, String(message));
      assert.match(res.body, /govuk-error-summary/);
      assert.match(res.body, message);
      assert.match(res.body, new RegExp(`href="${href}"`), `${message} links to ${href}`);
      assert.match(res.body, /<title>Error: /);
      // What was typed is kept.
      assert.match(res.body, /Working with grandparents and other family members/);
    }
    // Several problems at once, in the order of the fields.
    const many = await send('admin', '/admin/community/spaces/new', '/admin/community/spaces/new', {
      ...validSpace({ name: '', visibility: 'group', publicRead: 'yes', position: '' }),
    });
    assert.equal(many.statusCode, 400);
    const order = [...many.body.matchAll(/<a href="#(\w+)">/g)].map((m) => m[1]);
    assert.deepEqual(order, ['name', 'publicRead', 'position']);
    assert.equal(await spaceCount(), before, 'nothing written');
    assert.equal((await audits('community.space_created')).length, 0);
  });

  test('creating a space: its address is made from the name, it is audited and appears in the community', async () => {
    const form = await get('/admin/community/spaces/new', 'admin');
    assert.match(form.body, /name="position"[^>]*value="4"/, 'after the four demo spaces');
    const res = await send(
      'admin',
      '/admin/community/spaces/new',
      '/admin/community/spaces/new',
      validSpace({ publicRead: 'yes', allowAnonymous: 'yes' }),
    );
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/admin/community/spaces/kinship-carers?done=created');
    const row = await space('kinship-carers');
    assert.ok(row);
    assert.equal(row.name, 'Kinship carers');
    assert.equal(row.name_cy, 'Gofalwyr sy’n berthnasau');
    assert.equal(row.visibility, 'members');
    assert.equal(row.public_read, true);
    assert.equal(row.allow_anonymous, true);
    assert.equal(row.position, 7);
    assert.equal(row.kind, 'themed');
    assert.equal(row.is_demo, false);
    const [audit] = await audits('community.space_created');
    assert.ok(audit);
    assert.equal(audit.subject_id, row.id);
    assert.equal(audit.detail.slug, 'kinship-carers');
    assert.equal(audit.actor_id, await idOf('admin@example.org'));

    const page = await get(res.headers.location as string, 'admin');
    assert.match(page.body, /The space has been added/);
    assert.match(page.body, /This space has no moderators of its own/);
    // In the community: for members, in Welsh, and (public to read) for visitors.
    assert.match(
      (await get('/community', 'member')).body,
      /href="\/community\/kinship-carers">Kinship carers</,
    );
    assert.match((await get('/community?lang=cy', 'member')).body, /Gofalwyr sy’n berthnasau/);
    assert.equal((await get('/community/kinship-carers')).statusCode, 200);
    // And a member can start a thread there.
    const thread = await newThread('member', 'kinship-carers', 'Grandparents as carers');
    assert.equal(thread.statusCode, 303);
    // The same name again is refused: its address is taken.
    const again = await send(
      'admin',
      '/admin/community/spaces/new',
      '/admin/community/spaces/new',
      validSpace(),
    );
    assert.equal(again.statusCode, 400);
    assert.match(again.body, /There is already a space at \/community\/kinship-carers/);
  });

  test('changing a space: checked, audited, and what members see changes', async () => {
    const url = '/admin/community/spaces/wales-network';
    const form = await get(url, 'admin');
    assert.match(form.body, /name="name"[^>]*value="Wales network \(demo\)"/);
    assert.doesNotMatch(form.body, /name="slug"/, 'the address is not changed');
    const before = await space('wales-network');
    const bad = await send('admin', url, url, {
      name: 'Wales network',
      nameCy: before!.name_cy ?? '',
      description: 'Changed',
      descriptionCy: '',
      kind: 'regional',
      visibility: 'group',
      publicRead: 'yes',
      position: '2',
    });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /Only a space open to all approved members can be public to read/);
    assert.match(bad.body, /name="description"[^>]*>Changed<\/textarea>/);
    assert.deepEqual(await space('wales-network'), before, 'nothing written');

    const good = await send('admin', url, url, {
      name: 'Wales and borders network',
      nameCy: 'Rhwydwaith Cymru a’r gororau',
      description: 'For practitioners across Wales and the borders.',
      descriptionCy: before!.description_cy ?? '',
      kind: 'regional',
      visibility: 'members',
      publicRead: 'yes',
      position: '2',
    });
    assert.equal(good.statusCode, 303);
    assert.equal(good.headers.location, `${url}?done=saved`);
    const after = await space('wales-network');
    assert.equal(after!.name, 'Wales and borders network');
    assert.equal(after!.public_read, true);
    assert.equal(after!.allow_anonymous, false);
    const [audit] = await audits('community.space_changed');
    assert.deepEqual(audit!.detail.changes!.name, {
      from: 'Wales network (demo)',
      to: 'Wales and borders network',
    });
    assert.deepEqual(audit!.detail.changes!.publicRead, { from: false, to: true });
    assert.equal(audit!.detail.changes!.kind, undefined, 'only what changed');
    assert.match((await get('/community', 'member')).body, /Wales and borders network/);
    assert.equal((await get('/community/wales-network')).statusCode, 200, 'now public to read');
    assert.equal((await get('/admin/community/spaces/no-such-space', 'admin')).statusCode, 404);
  });

  test('the held-posts setting: a whole number from 0 to 20, audited, and it decides how many posts are held', async () => {
    for (const value of ['', 'three', '21', '-1', '2.5', '100']) {
      const res = await send('admin', '/admin/community', '/admin/community/held-posts', {
        heldPosts: value,
      });
      assert.equal(res.statusCode, 400, `"${value}"`);
      assert.match(
        res.body,
        value === '' ? /Enter how many of a new member/ : /Enter a whole number from 0 to 20/,
      );
      assert.match(res.body, /href="#heldPosts"/);
      assert.match(
        res.body,
        new RegExp(`name="heldPosts"[^>]*value="${value.replace('.', '\\.')}"`),
      );
    }
    const stored = await t.database.query('SELECT 1 FROM site_settings WHERE key = $1', [
      HELD_POSTS_SETTING,
    ]);
    assert.equal(stored.length, 0, 'nothing written');

    // 0: a new member's first post is published straight away.
    const saved = await send('admin', '/admin/community', '/admin/community/held-posts', {
      heldPosts: '0',
    });
    assert.equal(saved.statusCode, 303);
    assert.equal(saved.headers.location, '/admin/community?done=held');
    assert.match((await get('/admin/community', 'admin')).body, /name="heldPosts"[^>]*value="0"/);
    const first = await newMember('first-poster@example.org');
    const published = await newThread(first, 'contact-and-keeping-links', 'Published at once');
    assert.equal(published.statusCode, 303);
    assert.doesNotMatch(String(published.headers.location), /held=1/);

    // 3: a new member's first three posts wait; the fourth would not once three are approved.
    await send('admin', '/admin/community', '/admin/community/held-posts', { heldPosts: '3' });
    const second = await newMember('second-poster@example.org');
    for (const n of [1, 2, 3]) {
      const res = await newThread(second, 'contact-and-keeping-links', `Held thread ${n}`);
      assert.match(String(res.headers.location), /held=1/, `post ${n} is held`);
    }
    const statuses = await t.database.query<{ status: string }>(
      `SELECT p.status FROM posts p JOIN users u ON u.id = p.author_id WHERE u.email = $1`,
      [second],
    );
    assert.deepEqual(
      statuses.map((s) => s.status),
      ['pending', 'pending', 'pending'],
    );
    const changes = await audits('settings.community-held-first-posts');
    assert.deepEqual(
      changes.map((c) => c.detail),
      [
        { from: 2, to: 0 },
        { from: 0, to: 3 },
      ],
    );
  });

  test('appointing a moderator: only an existing, approved, active member; nothing written otherwise', async () => {
    const url = '/admin/community/spaces/contact-and-keeping-links';
    const action = `${url}/moderators`;
    await newMember('suspended-member@example.org');
    await t.database.query(`UPDATE users SET status = 'suspended' WHERE email = $1`, [
      'suspended-member@example.org',
    ]);
    const cases: [string, RegExp][] = [
      ['', /Enter the email address of the member to appoint/],
      ['not-an-address', /Enter an email address in the correct format/],
      ['nobody@example.org', /There is no approved, active member with that email address/],
      ['pending@example.org', /There is no approved, active member with that email address/],
      [
        'suspended-member@example.org',
        /There is no approved, active member with that email address/,
      ],
    ];
    for (const [email, message] of cases) {
      const res = await send('admin', url, action, { email });
      assert.equal(res.statusCode, 400, email);
      assert.match(res.body, message);
      assert.match(res.body, /href="#email"/);
      if (email)
        assert.match(res.body, new RegExp(`name="email" type="email"[^>]*value="${email}"`));
    }
    const rows = await count(
      `SELECT count(*)::int AS n FROM space_members m JOIN community_spaces s ON s.id = m.space_id
       WHERE s.slug = 'contact-and-keeping-links'`,
    );
    assert.equal(rows, 0, 'nothing written');
    assert.equal((await audits('community.moderator_appointed')).length, 0);
  });

  test('an appointed moderator moderates that space only, until removed', async () => {
    const url = '/admin/community/spaces/contact-and-keeping-links';
    const memberId = await idOf('member@example.org');
    const threadIn = async (slug: string) =>
      (
        await t.database.query<{ id: string }>(
          `SELECT t.id FROM threads t JOIN community_spaces s ON s.id = t.space_id
           WHERE s.slug = $1 AND NOT t.hidden ORDER BY t.created_at LIMIT 1`,
          [slug],
        )
      )[0]!.id;
    const here = await threadIn('contact-and-keeping-links');
    const elsewhere = await threadIn('reproductive-and-sexual-health');
    const moderate = (slug: string, id: string, action: string) =>
      send('member', `/community/${slug}/${id}`, `/community/${slug}/${id}/moderate`, { action });
    const pin = (slug: string, id: string) => moderate(slug, id, 'pin');

    // Before: an ordinary member.
    assert.equal(
      (await get('/community/contact-and-keeping-links/members', 'member')).statusCode,
      403,
    );
    assert.equal((await pin('contact-and-keeping-links', here)).statusCode, 403);

    const res = await send('admin', url, `${url}/moderators`, { email: 'MEMBER@example.org' });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, `${url}?done=appointed#moderators`);
    const page = await get(`${url}?done=appointed`, 'admin');
    assert.match(page.body, /The moderator has been appointed/);
    const [{ display_name: name } = { display_name: '' }] = await t.database.query<{
      display_name: string;
    }>('SELECT display_name FROM users WHERE id = $1', [memberId]);
    assert.match(page.body, new RegExp(`<th scope="row" class="govuk-table__header">${name}</th>`));
    assert.match(page.body, /<td class="govuk-table__cell">member@example.org<\/td>/);
    assert.match(page.body, /Remove as moderator/);
    const [appointed] = await audits('community.moderator_appointed');
    assert.equal(appointed!.subject_id, memberId);
    assert.equal(appointed!.detail.slug, 'contact-and-keeping-links');
    const list = await get('/admin/community', 'admin');
    assert.match(
      list.body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' '),
      /Contact and keeping links \(demo\) Demo Approved members Yes No 1/,
    );
    // Appointing again is refused with a message.
    const twice = await send('admin', url, `${url}/moderators`, { email: 'member@example.org' });
    assert.equal(twice.statusCode, 400);
    assert.match(twice.body, /is already a moderator of this space/);

    // Now a moderator of this space: its members page and pinning a thread; not elsewhere.
    assert.equal(
      (await get('/community/contact-and-keeping-links/members', 'member')).statusCode,
      200,
    );
    assert.equal((await pin('contact-and-keeping-links', here)).statusCode, 303);
    const [pinned] = await t.database.query<{ pinned: boolean }>(
      'SELECT pinned FROM threads WHERE id = $1',
      [here],
    );
    assert.equal(pinned!.pinned, true);
    // Hiding a thread there, and showing it again.
    assert.equal((await moderate('contact-and-keeping-links', here, 'hide')).statusCode, 303);
    const hiddenRow = async (id: string) =>
      (
        await t.database.query<{ hidden: boolean }>('SELECT hidden FROM threads WHERE id = $1', [
          id,
        ])
      )[0]!.hidden;
    assert.equal(await hiddenRow(here), true);
    assert.equal((await moderate('contact-and-keeping-links', here, 'show')).statusCode, 303);
    assert.equal(await hiddenRow(here), false);
    assert.equal(
      (await moderate('reproductive-and-sexual-health', elsewhere, 'hide')).statusCode,
      403,
    );
    assert.equal(await hiddenRow(elsewhere), false);
    assert.equal(
      (await get('/community/reproductive-and-sexual-health/members', 'member')).statusCode,
      403,
    );
    assert.equal((await pin('reproductive-and-sexual-health', elsewhere)).statusCode, 403);

    // Removed: an ordinary member again.
    const removed = await send('admin', url, `${url}/moderators/${memberId}/remove`, {});
    assert.equal(removed.statusCode, 303);
    assert.equal(removed.headers.location, `${url}?done=removed#moderators`);
    assert.match((await get(url, 'admin')).body, /This space has no moderators of its own/);
    assert.equal(
      (await get('/community/contact-and-keeping-links/members', 'member')).statusCode,
      403,
    );
    assert.equal((await pin('contact-and-keeping-links', here)).statusCode, 403);
    const [gone] = await audits('community.moderator_removed');
    assert.equal(gone!.subject_id, memberId);
  });

  test('removing a group moderator keeps them in the group', async () => {
    const url = '/admin/community/spaces/parents-panel';
    const parentId = await idOf('parent@example.org');
    const appointed = await send('admin', url, `${url}/moderators`, {
      email: 'parent@example.org',
    });
    assert.equal(appointed.statusCode, 303);
    assert.equal((await get('/community/parents-panel/members', 'parent')).statusCode, 200);
    const page = await get(url, 'admin');
    assert.match(page.body, /moderator@example.org/, 'the demo moderator of the group is listed');
    assert.match(page.body, /parent@example.org/);
    await send('admin', url, `${url}/moderators/${parentId}/remove`, {});
    const [row] = await t.database.query<{ role: string; status: string }>(
      `SELECT m.role, m.status FROM space_members m JOIN community_spaces s ON s.id = m.space_id
       WHERE s.slug = 'parents-panel' AND m.user_id = $1`,
      [parentId],
    );
    assert.deepEqual(row, { role: 'member', status: 'member' });
    assert.equal(
      (await get('/community/parents-panel', 'parent')).statusCode,
      200,
      'still in the group',
    );
    assert.equal((await get('/community/parents-panel/members', 'parent')).statusCode, 403);
    // Removing someone who is not a moderator changes nothing and writes no audit row.
    const before = (await audits('community.moderator_removed')).length;
    const again = await send('admin', url, `${url}/moderators/${parentId}/remove`, {});
    assert.equal(again.statusCode, 303);
    assert.equal((await audits('community.moderator_removed')).length, before);
    const bogus = await send('admin', url, `${url}/moderators/not-a-uuid/remove`, {});
    assert.equal(bogus.statusCode, 404);
  });
});
