import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import { signIn } from '../../../test/helpers/session.ts';
import { enableTwoFactor } from '../../../test/helpers/totp.ts';
import type { CurrentUser } from '../../platform/auth.ts';
import type { SearchChanged, SearchDocument, SearchSource } from '../../platform/search.ts';
import { DEMO_PASSWORD } from '../accounts/seed.ts';
import { createCommunityAdmin } from './admin.ts';
import { createCommunityAdminRepository } from './admin-repository.ts';
import { createCommunityRepository } from './repository.ts';
import { createCommunityService } from './service.ts';

/** Every document, a page of `limit` at a time, as a rebuild reads them. */
async function all(source: SearchSource, limit: number): Promise<SearchDocument[]> {
  const out: SearchDocument[] = [];
  let afterId: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const rows = await source.documents({ ...(afterId ? { after: afterId } : {}), limit });
    assert.ok(rows.length <= limit, 'never more than the limit');
    out.push(...rows);
    if (rows.length < limit) return out;
    afterId = rows.at(-1)!.id;
  }
  throw new Error('documents never ended');
}

type Who = 'visitor' | 'unapproved' | 'member' | 'parent' | 'moderator' | 'editor';
const PEOPLE: Record<Exclude<Who, 'visitor'>, string> = {
  unapproved: 'pending@example.org',
  member: 'member@example.org',
  parent: 'parent@example.org',
  moderator: 'moderator@example.org',
  editor: 'editor@example.org',
};

describe('community: the site search source', () => {
  let t: TestApp;
  let source: SearchSource;
  const users = {} as Record<Exclude<Who, 'visitor'>, CurrentUser>;
  const jar = {} as Record<Exclude<Who, 'visitor'>, string>;
  const viewer = (who: Who) => (who === 'visitor' ? undefined : users[who]);
  let panel: { id: string; slug: string };
  const threads = () =>
    t.database.query<{ id: string; slug: string; space_id: string; visibility: string }>(
      `SELECT t.id, s.slug, s.id AS space_id, s.visibility FROM threads t
       JOIN community_spaces s ON s.id = t.space_id ORDER BY t.id`,
    );
  /** The community's own answer: may this person open the thread's page? */
  const opens = async (who: Who, th: { id: string; slug: string }) => {
    const res = await t.app.inject({
      url: `/community/${th.slug}/${th.id}`,
      headers: who === 'visitor' ? {} : { cookie: jar[who] },
    });
    return res.statusCode === 200;
  };
  /** The community service over the test's database, telling the search through `searchChanged`. */
  const serviceWith = (searchChanged: SearchChanged) =>
    createCommunityService({
      repo: createCommunityRepository(t.database.db),
      people: {
        person: async (id) => ({ id, displayName: 'Someone', kind: 'practitioner' }),
        people: async () => new Map(),
        setting: async () => undefined,
        audit: async () => {},
      },
      searchChanged,
    });

  before(async () => {
    t = await testApp({ seed: true });
    source = t.app.services.community.searchSource();
    const rows = await t.database.query<{
      id: string;
      email: string;
      display_name: string;
      role: CurrentUser['role'];
      approved_at: Date | null;
    }>(`SELECT id, email, display_name, role, approved_at FROM users`);
    let n = 1;
    for (const [who, email] of Object.entries(PEOPLE) as [Exclude<Who, 'visitor'>, string][]) {
      const u = rows.find((r) => r.email === email)!;
      const staff = u.role !== 'member';
      users[who] = {
        id: u.id,
        displayName: u.display_name,
        role: u.role,
        approved: Boolean(u.approved_at) || staff,
        totpEnabled: staff,
      };
      const secret = staff ? await enableTwoFactor(t.app, email) : undefined;
      jar[who] = await signIn(t.app, email, DEMO_PASSWORD, secret, `10.9.0.${n++}`);
    }
    assert.equal(users.unapproved.approved, false);
    const [p] = await t.database.query<{ id: string; slug: string }>(
      `SELECT id, slug FROM community_spaces WHERE slug = 'parents-panel'`,
    );
    panel = p!;
    // A held thread (its opening post waits for a moderator) and a hidden one, in the group.
    const [held, hidden] = await t.database.query<{ id: string }>(
      `SELECT id FROM threads WHERE space_id = $1 ORDER BY id LIMIT 2`,
      [panel.id],
    );
    await t.database.query(`UPDATE threads SET hidden = true WHERE id IN ($1, $2)`, [
      held!.id,
      hidden!.id,
    ]);
    await t.database.query(`UPDATE posts SET status = 'pending' WHERE thread_id = $1`, [held!.id]);
  });
  after(async () => t.close());

  test('pages through every thread shown to readers, in id order; hidden and held ones are not there', async () => {
    const shown = await t.database.query<{ id: string }>(
      `SELECT id FROM threads WHERE NOT hidden ORDER BY id`,
    );
    const hidden = await t.database.query<{ id: string }>(`SELECT id FROM threads WHERE hidden`);
    assert.ok(shown.length >= 25 && hidden.length === 2);
    const docs = await all(source, 7);
    assert.deepEqual(
      docs.map((d) => d.id),
      shown.map((r) => r.id),
    );
    assert.deepEqual(
      docs.map((d) => d.id),
      [...docs.map((d) => d.id)].sort(),
    );
    for (const h of hidden) {
      assert.ok(!docs.some((d) => d.id === h.id));
      assert.deepEqual(await source.documents({ ids: [h.id], limit: 1 }), []);
    }
  });

  test('never public: members, or the private group’s own key; addresses, titles and plain words', async () => {
    const rows = await threads();
    const docs = await all(source, 100);
    const titles = new Map(
      (await t.database.query<{ id: string; title: string }>(`SELECT id, title FROM threads`)).map(
        (r) => [r.id, r.title],
      ),
    );
    for (const d of docs) {
      const th = rows.find((r) => r.id === d.id)!;
      assert.equal(d.kind, 'thread');
      assert.equal(d.typeLabel, 'Discussion');
      assert.equal(d.url, `/community/${th.slug}/${th.id}`);
      assert.equal(d.title, titles.get(d.id));
      assert.equal(d.access, th.visibility === 'group' ? `space:${th.space_id}` : 'members');
      assert.notEqual(d.access, 'public');
      assert.ok(d.date instanceof Date);
      assert.ok(d.body && d.body.length > 40);
      assert.doesNotMatch(d.body, /<[a-z/]|\*\*|&amp;|&lt;/i, 'plain text');
    }
    // The public-to-read space's threads too.
    assert.ok(docs.some((d) => d.url.startsWith('/community/contact-and-keeping-links/')));
    assert.ok(docs.some((d) => d.access === `space:${panel.id}`));
  });

  test('no author is named: not the anonymous parent, nor anyone', async () => {
    const people = await t.database.query<{ display_name: string; email: string }>(
      `SELECT display_name, email FROM users`,
    );
    const words = JSON.stringify(await all(source, 100));
    for (const p of people) {
      assert.ok(!words.includes(p.display_name), p.display_name);
      assert.ok(!words.includes(p.email), p.email);
    }
  });

  test('openable: exactly the threads each person may open, and only approved members', async () => {
    const rows = await threads();
    const ids = rows.map((r) => r.id);
    const whos: Who[] = ['visitor', 'unapproved', 'member', 'parent', 'moderator', 'editor'];
    for (const who of whos) {
      const open = await source.openable(ids, viewer(who));
      const approved = who !== 'visitor' && users[who].approved;
      const problems: string[] = [];
      for (const th of rows) {
        // The community's answer, less what a visitor reads of a public-to-read space.
        const expected = approved && (await opens(who, th));
        if (open.has(th.id) !== expected)
          problems.push(`${who}: ${th.slug}/${th.id} ${open.has(th.id)} (page: ${expected})`);
      }
      assert.deepEqual(problems, []);
    }
    // Every private-group thread of the demo, person by person.
    const group = rows.filter((r) => r.visibility === 'group');
    assert.ok(group.length >= 5);
    const groupIds = group.map((g) => g.id);
    const shownInGroup = (
      await t.database.query<{ id: string }>(
        `SELECT id FROM threads WHERE space_id = $1 AND NOT hidden`,
        [panel.id],
      )
    ).map((r) => r.id);
    const count = async (who: Who) => (await source.openable(groupIds, viewer(who))).size;
    assert.equal(await count('visitor'), 0);
    assert.equal(await count('unapproved'), 0);
    assert.equal(await count('member'), 0, 'an approved member outside the group');
    assert.equal(await count('editor'), 0, 'staff outside the group who do not moderate');
    assert.equal(await count('parent'), shownInGroup.length, 'a member of the group');
    assert.equal(await count('moderator'), groupIds.length, 'a moderator (hidden ones too)');
    // A visitor may read the public-to-read space on the site, never through the search.
    const publicRead = rows.find((r) => r.slug === 'contact-and-keeping-links')!;
    assert.equal(await opens('visitor', publicRead), true);
    assert.equal((await source.openable([publicRead.id], undefined)).size, 0);
    assert.equal(
      (await source.openable(['nope', '00000000-0000-0000-0000-000000000000'], users.member)).size,
      0,
    );
  });

  test('accessFor: a group’s members and moderators hold its key; others none', async () => {
    const key = `space:${panel.id}`;
    assert.deepEqual(await source.accessFor!(users.parent), [key]);
    assert.deepEqual(await source.accessFor!(users.moderator), [key]);
    assert.deepEqual(await source.accessFor!(users.member), []);
    assert.deepEqual(await source.accessFor!(users.editor), []);
    assert.deepEqual(await source.accessFor!(users.unapproved), []);
    // An unapproved member of the group holds nothing either.
    await t.database.query(
      `INSERT INTO space_members (space_id, user_id, status) VALUES ($1, $2, 'member')`,
      [panel.id, users.unapproved.id],
    );
    try {
      assert.deepEqual(await source.accessFor!(users.unapproved), []);
      const ids = (await threads()).filter((r) => r.visibility === 'group').map((r) => r.id);
      assert.equal((await source.openable(ids, users.unapproved)).size, 0);
    } finally {
      await t.database.query(`DELETE FROM space_members WHERE space_id = $1 AND user_id = $2`, [
        panel.id,
        users.unapproved.id,
      ]);
    }
  });

  test('the body: the posts shown, in order, cut at 20,000 characters', async () => {
    const community = serviceWith(() => {});
    const created = await community.createThread(users.moderator, 'wales-network', {
      title: 'A long thread for the search',
      body: 'The **opening** post & its words.',
      anonymous: false,
    });
    const id = created!.thread.id;
    const reply = await community.reply(users.moderator, 'wales-network', id, {
      body: 'A reply that a moderator then hides.',
      anonymous: false,
    });
    await community.moderatePost(users.moderator, reply!.post.id, 'hide', 'test');
    let [doc] = await source.documents({ ids: [id], limit: 1 });
    assert.equal(doc!.body, 'The opening post & its words.');
    assert.equal(doc!.summary, 'The opening post & its words.');
    for (let i = 0; i < 5; i++)
      await community.reply(users.moderator, 'wales-network', id, {
        body: `Reply ${i}. ${'word '.repeat(1800)}`,
        anonymous: false,
      });
    [doc] = await source.documents({ ids: [id], limit: 1 });
    assert.equal(doc!.body!.length, 20_000);
    assert.ok(doc!.body!.startsWith('The opening post & its words. Reply 0.'));
    assert.ok(!doc!.body!.includes('moderator then hides'));
    assert.ok(doc!.summary!.length <= 201);
  });

  test('every change that alters a thread tells the search, after it is saved', async () => {
    const calls: { source: string; ids: string[]; committed: Promise<unknown> }[] = [];
    const community = serviceWith((s, ids) => {
      // Read from outside the change: what the search would read when told.
      const committed = t.database
        .query<{ space_id: string; hidden: boolean; post_count: number }>(
          `SELECT space_id, hidden, post_count FROM threads WHERE id = $1`,
          [ids[0]!],
        )
        .then((r) => r[0]);
      committed.catch(() => {});
      calls.push({ source: s, ids: [...ids], committed });
    });
    const last = () => calls.at(-1)!;
    const mod = users.moderator;

    const created = await community.createThread(mod, 'wales-network', {
      title: 'Told to the search',
      body: 'First words.',
      anonymous: false,
    });
    const id = created!.thread.id;
    assert.equal(calls.length, 1);
    assert.equal(last().source, 'community');
    assert.deepEqual(last().ids, [id]);

    const reply = await community.reply(mod, 'wales-network', id, {
      body: 'A reply.',
      anonymous: false,
    });
    assert.equal(calls.length, 2);
    assert.deepEqual(last().ids, [id]);
    assert.equal(((await last().committed) as { post_count: number }).post_count, 2);

    await community.edit(mod, reply!.post.id, 'An edited reply.');
    assert.equal(calls.length, 3);
    assert.deepEqual(last().ids, [id]);

    await community.moderatePost(mod, reply!.post.id, 'hide', 'test');
    assert.equal(calls.length, 4);
    await community.moderatePost(mod, reply!.post.id, 'restore', '');
    assert.equal(calls.length, 5);
    await community.moderatePost(mod, reply!.post.id, 'dismiss', '');
    assert.equal(calls.length, 5, 'dismissing reports changes nothing found');

    await community.remove(mod, reply!.post.id);
    assert.equal(calls.length, 6);
    assert.deepEqual(last().ids, [id]);

    await community.moderateThread(mod, 'wales-network', id, { hidden: true });
    assert.equal(calls.length, 7);
    assert.equal(((await last().committed) as { hidden: boolean }).hidden, true);
    assert.deepEqual(await source.documents({ ids: [id], limit: 1 }), []);
    await community.moderateThread(mod, 'wales-network', id, { hidden: false });

    // Moved into the private group: only its members may find it now.
    await community.moderateThread(mod, 'wales-network', id, { moveTo: 'parents-panel' });
    assert.deepEqual(last().ids, [id]);
    assert.equal(((await last().committed) as { space_id: string }).space_id, panel.id);
    const [moved] = await source.documents({ ids: [id], limit: 1 });
    assert.equal(moved!.access, `space:${panel.id}`);
    assert.equal(moved!.url, `/community/parents-panel/${id}`);
    assert.equal((await source.openable([id], users.member)).size, 0);
    assert.equal((await source.openable([id], users.parent)).size, 1);

    // A held reply (a new member's) changes nothing found until it is approved.
    const n = calls.length;
    await t.database.query(`UPDATE users SET approved_at = now() WHERE id = $1`, [
      users.unapproved.id,
    ]);
    const newcomer = { ...users.unapproved, approved: true };
    const wales = 'wales-network';
    const [other] = await t.database.query<{ id: string }>(
      `SELECT t.id FROM threads t JOIN community_spaces s ON s.id = t.space_id
       WHERE s.slug = $1 AND NOT t.hidden LIMIT 1`,
      [wales],
    );
    const held = await community.reply(newcomer, wales, other!.id, {
      body: 'My first post.',
      anonymous: false,
    });
    assert.equal(held!.held, true);
    assert.equal(calls.length, n, 'a held post is not told');
    await community.moderatePost(mod, held!.post.id, 'restore', '');
    assert.equal(calls.length, n + 1);
    assert.deepEqual(last().ids, [other!.id]);

    // A member's posts erased: their threads.
    await community.personalData.erase(newcomer.id, true);
    assert.deepEqual(last().ids, [other!.id]);
    const [after] = await source.documents({ ids: [other!.id], limit: 1 });
    assert.ok(!after!.body!.includes('My first post.'));
    const m = calls.length;
    await community.personalData.erase(newcomer.id, false);
    assert.equal(calls.length, m, 'keeping the words changes nothing found');

    // A failing search never fails the change.
    const throwing = serviceWith(() => {
      throw new Error('the search is down');
    });
    const ok = await throwing.reply(mod, 'parents-panel', id, {
      body: 'Still posted.',
      anonymous: false,
    });
    assert.ok(ok?.post);
  });

  test('a space made private (or open again): all its threads are told', async () => {
    const calls: string[][] = [];
    const admin = createCommunityAdmin({
      repo: createCommunityAdminRepository(t.database.db),
      people: {
        contact: async () => undefined,
        memberByEmail: async () => undefined,
        setting: async () => undefined,
        putSetting: async () => {},
        audit: async () => {},
      },
      searchChanged: (s, ids) => {
        assert.equal(s, 'community');
        calls.push([...ids]);
      },
    });
    const [a] = await t.database.query<{ id: string }>(
      `SELECT id FROM users WHERE email = 'admin@example.org'`,
    );
    const actor: CurrentUser = {
      id: a!.id,
      displayName: 'Admin',
      role: 'admin',
      approved: true,
      totpEnabled: true,
    };
    const found = (await admin.space(actor, 'wales-network'))!.space;
    const input = {
      name: found.name,
      nameCy: found.nameCy ?? undefined,
      description: found.description,
      descriptionCy: found.descriptionCy ?? undefined,
      kind: found.kind,
      visibility: 'group' as const,
      publicRead: false,
      allowAnonymous: found.allowAnonymous,
      position: found.position,
    };
    const inSpace = (
      await t.database.query<{ id: string }>(
        `SELECT id FROM threads WHERE space_id = $1 ORDER BY id`,
        [found.id],
      )
    ).map((r) => r.id);
    assert.ok((await admin.updateSpace(actor, 'wales-network', input))?.ok);
    assert.deepEqual(calls.flat().sort(), [...inSpace].sort());
    const docs = await source.documents({ ids: inSpace, limit: 1000 });
    assert.ok(docs.length && docs.every((d) => d.access === `space:${found.id}`));
    // A change that leaves who may read alone tells nothing.
    calls.length = 0;
    assert.ok((await admin.updateSpace(actor, 'wales-network', { ...input, position: 7 }))?.ok);
    assert.deepEqual(calls, []);
    assert.ok(
      (await admin.updateSpace(actor, 'wales-network', { ...input, visibility: 'members' }))?.ok,
    );
    assert.equal(calls.flat().length, inSpace.length);
  });

  test('changedSince: threads with a new or changed post since then', async () => {
    const since = new Date(Date.now() - 1000);
    const [th] = await t.database.query<{ id: string }>(
      `SELECT t.id FROM threads t JOIN community_spaces s ON s.id = t.space_id
       WHERE s.slug = 'reproductive-and-sexual-health' AND NOT t.hidden ORDER BY t.id LIMIT 1`,
    );
    assert.ok(!(await source.changedSince!(since, 1000)).includes(th!.id));
    await t.database.query(
      `UPDATE posts SET edited_at = now() WHERE thread_id = $1 AND number = 1`,
      [th!.id],
    );
    assert.ok((await source.changedSince!(since, 1000)).includes(th!.id));
    assert.deepEqual(await source.changedSince!(new Date(Date.now() + 60_000), 1000), []);
  });
});
