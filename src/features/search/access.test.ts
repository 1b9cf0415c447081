import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DomUtils, parseDocument } from 'htmlparser2';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import { signIn } from '../../../test/helpers/session.ts';
import { enableTwoFactor } from '../../../test/helpers/totp.ts';
import { type CurrentUser, SESSION_COOKIE } from '../../platform/auth.ts';
import { DEMO_PASSWORD } from '../accounts/seed.ts';
import type { Result } from './service.ts';

/**
 * Nobody is shown what they could not open. Every result is checked against
 * the owning feature's own rule, independently of the search: its page,
 * fetched as that person, opens (and for discussions the community service
 * agrees). Private-group discussions are found by the group and no one else.
 */

const PEOPLE = {
  visitor: undefined,
  unapproved: 'pending@example.org',
  member: 'member@example.org',
  groupMember: 'parent@example.org',
  moderator: 'moderator@example.org',
  editor: 'editor@example.org',
  admin: 'admin@example.org',
} as const;
type Who = keyof typeof PEOPLE;
const EVERYONE = Object.keys(PEOPLE) as Who[];

/** Words too common to say anything about a title. */
const STOP = new Set(
  'about after again also and are before can did does for from has have how into not our over should some than that the their them then there these they this through too was were what when where which who why will with you your'.split(
    ' ',
  ),
);

describe('search: nobody is shown what they could not open', () => {
  let t: TestApp;
  const jar = {} as Record<Exclude<Who, 'visitor'>, string>;
  const users = {} as Record<Exclude<Who, 'visitor'>, CurrentUser>;
  const viewer = (who: Who) => (who === 'visitor' ? undefined : users[who]);
  const headers = (who: Who) => (who === 'visitor' ? {} : { cookie: jar[who] });

  /** The owning feature's answer, cached: does this page open for this person? */
  const opened = new Map<string, boolean>();
  async function opens(who: Who, url: string): Promise<boolean> {
    const key = `${who} ${url}`;
    const known = opened.get(key);
    if (known !== undefined) return known;
    const res = await t.app.inject({ url, headers: headers(who) });
    let ok = res.statusCode === 200;
    const thread = /^\/community\/([^/]+)\/([0-9a-f-]{36})$/.exec(url);
    if (thread) {
      // The community's own rule, asked directly: it agrees with its page.
      const read = await t.app.services.community
        .thread(viewer(who), thread[1]!, thread[2]!, 1)
        .catch(() => undefined);
      assert.equal(Boolean(read), ok, `the community and its page agree on ${url} for ${who}`);
      ok = ok && Boolean(read);
    }
    opened.set(key, ok);
    return ok;
  }

  /** Every result of a query for this person, page after page, through the service. */
  async function everyResult(who: Who, q: string): Promise<{ results: Result[]; total: number }> {
    const params = { q, kinds: [], date: 'any' as const };
    const first = await t.app.services.search.search(viewer(who), { ...params, page: 1 });
    const results = [...first.results];
    for (let page = 2; page <= first.pages; page++)
      results.push(
        ...(await t.app.services.search.search(viewer(who), { ...params, page })).results,
      );
    return { results, total: first.total };
  }

  /** The result addresses of /search, as a person's browser gets them. */
  async function searchPage(who: Who, q: string): Promise<string[]> {
    const res = await t.app.inject({
      url: `/search?q=${encodeURIComponent(q)}`,
      headers: headers(who),
    });
    assert.equal(res.statusCode, 200);
    return DomUtils.findAll(
      (el) => el.name === 'a' && /^\/search\/open\?/.test(el.attribs.href ?? ''),
      parseDocument(res.body).children,
    ).map((a) => new URLSearchParams(a.attribs.href!.split('?')[1]).get('to')!);
  }

  const privateGroupThreads = () =>
    t.database.query<{ id: string; title: string; slug: string }>(
      `SELECT t.id, t.title, s.slug FROM threads t JOIN community_spaces s ON s.id = t.space_id
       WHERE s.visibility = 'group' AND NOT t.hidden ORDER BY t.title`,
    );

  before(async () => {
    t = await testApp({ seed: true });
    let n = 1;
    for (const who of EVERYONE) {
      if (who === 'visitor') continue;
      const email = PEOPLE[who];
      const [row] = await t.database.query<{ role: string }>(
        `SELECT role FROM users WHERE email = $1`,
        [email],
      );
      const secret = row!.role === 'member' ? undefined : await enableTwoFactor(t.app, email);
      jar[who] = await signIn(t.app, email, DEMO_PASSWORD, secret, `10.8.0.${n++}`);
      // The person as the accounts service sees them, from their own session.
      const token = new RegExp(`(?:^|; )${SESSION_COOKIE}=([^;]+)`).exec(jar[who])![1]!;
      const session = await t.app.services.accounts.loadSession(token);
      assert.equal(session?.stage, 'full', `${who} is signed in`);
      users[who] = session.user;
    }
    assert.equal(users.unapproved.approved, false);
    assert.equal(users.member.approved, true);
  });
  after(async () => t.close());

  test('the demo has what this needs: private-group and members-only discussions', async () => {
    assert.ok((await privateGroupThreads()).length >= 3);
    const [panel] = await t.database.query<{ members: string[] }>(
      `SELECT array_agg(u.email) AS members FROM space_members m JOIN users u ON u.id = m.user_id
       JOIN community_spaces s ON s.id = m.space_id
       WHERE s.visibility = 'group' AND m.status = 'member'`,
    );
    assert.ok(panel!.members.includes(PEOPLE.groupMember));
    assert.ok(!panel!.members.includes(PEOPLE.member));
    const [members] = await t.database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM search_documents WHERE access = 'members'`,
    );
    assert.ok(members!.n > 0);
  });

  test('for every person, over many queries, every result opens for them, and the count is what they are shown', async () => {
    const titles = await t.database.query<{ title: string }>(
      `SELECT title FROM threads WHERE NOT hidden`,
    );
    const titleWords = new Set(
      titles
        .flatMap((r) => r.title.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])
        .filter((w) => w.length >= 3 && !STOP.has(w)),
    );
    // Words drawn at random from everything the index holds, members' and groups' too.
    const pool = await t.database.query<{ word: string }>(
      `SELECT DISTINCT lower(w) AS word FROM search_documents,
         regexp_split_to_table(concat_ws(' ', title, summary, body, title_cy), '[^[:alnum:]]+') AS w
       WHERE length(w) >= 4`,
    );
    // A fresh sample each run (named in any failure): over runs every word is tried, while
    // one run stays affordable (all ~110 title words for 7 people cost 30 s on PGlite).
    const shuffled = (words: Iterable<string>) => [...words].sort(() => Math.random() - 0.5);
    const random = shuffled(pool.map((r) => r.word)).slice(0, 20);
    const fromTitles = shuffled(titleWords).slice(0, 40);
    const queries = [...new Set([...fromTitles, ...random])];
    assert.ok(queries.length >= 50, `${queries.length} queries`);

    let checked = 0;
    for (const who of EVERYONE) {
      for (const q of queries) {
        const { results, total } = await everyResult(who, q);
        assert.equal(
          results.length,
          total,
          `"${q}" for ${who}: counted ${total}, shown ${results.length} (words: ${queries.join(' ')})`,
        );
        for (const r of results) {
          checked++;
          assert.ok(
            await opens(who, r.url),
            `"${q}" shows ${who} ${r.url} (${r.title}), which they cannot open (words: ${queries.join(' ')})`,
          );
        }
      }
    }
    assert.ok(checked > 500, `${checked} results checked`);
  });

  test('every private-group discussion is found by its members, never by anyone else', async () => {
    const group = await privateGroupThreads();
    for (const th of group) {
      const url = `/community/${th.slug}/${th.id}`;
      for (const who of EVERYONE) {
        const mayRead = await opens(who, url);
        const found = (await everyResult(who, th.title)).results.some((r) => r.url === url);
        const quoted = (await everyResult(who, `"${th.title}"`)).results.some((r) => r.url === url);
        assert.equal(found, mayRead, `"${th.title}" for ${who}: may read ${mayRead}`);
        assert.equal(quoted, mayRead, `the quoted title for ${who}`);
      }
    }
    // Who the community lets in: the group's member and moderator, and staff moderators.
    const url = `/community/${group[0]!.slug}/${group[0]!.id}`;
    const readers = [];
    for (const who of EVERYONE) if (await opens(who, url)) readers.push(who);
    assert.deepEqual(readers.sort(), ['admin', 'groupMember', 'moderator']);
  });

  test('a resource unpublished or archived leaves /search at once, and a rebuild keeps it out', async () => {
    const editor = users.editor;
    const [archived, declined] = await t.database.query<{
      id: string;
      slug: string;
      title: string;
    }>(
      `SELECT id, slug, title FROM resources WHERE status = 'published' AND language = 'en'
       AND title NOT LIKE '%(%' ORDER BY slug LIMIT 2`,
    );
    for (const r of [archived!, declined!]) {
      const url = `/resources/${r.slug}`;
      assert.ok((await searchPage('visitor', `"${r.title}"`)).includes(url), `${url} is found`);
    }
    await t.app.services.resources.archive(editor, archived!.id, true);
    await t.app.services.resources.decline(editor, declined!.id, 'Back to a draft for a test');
    // The same moment: no job run, nothing awaited.
    for (const r of [archived!, declined!]) {
      const url = `/resources/${r.slug}`;
      for (const who of EVERYONE) {
        assert.ok(!(await searchPage(who, `"${r.title}"`)).includes(url), `${url} gone for ${who}`);
        assert.ok(
          !(await everyResult(who, r.title)).results.some((x) => x.url === url),
          `${url} gone from the service's results for ${who}`,
        );
      }
    }
    // An archived page stays, saying so (the resources' rule); a draft's does not.
    assert.notEqual(
      (await t.app.inject({ url: `/resources/${declined!.slug}` })).statusCode,
      200,
      'a draft no longer opens',
    );
    await t.app.services.search.settled();
    await t.app.services.search.rebuild();
    for (const r of [archived!, declined!]) {
      const url = `/resources/${r.slug}`;
      const rows = await t.database.query(`SELECT 1 FROM search_documents WHERE url = $1`, [url]);
      assert.equal(rows.length, 0, `${url} out of the index after a rebuild`);
      const { results, total } = await everyResult('admin', `"${r.title}"`);
      assert.ok(!results.some((x) => x.url === url));
      assert.equal(total, results.length, 'not counted either');
    }
  });

  test('a discussion moved into the private group disappears for non-members at once', async () => {
    const [th] = await t.database.query<{ id: string; title: string; slug: string }>(
      `SELECT t.id, t.title, s.slug FROM threads t JOIN community_spaces s ON s.id = t.space_id
       WHERE s.visibility = 'members' AND NOT t.hidden ORDER BY t.title LIMIT 1`,
    );
    const [group] = await t.database.query<{ slug: string; id: string }>(
      `SELECT slug, id FROM community_spaces WHERE visibility = 'group' ORDER BY slug LIMIT 1`,
    );
    const before = `/community/${th!.slug}/${th!.id}`;
    const after = `/community/${group!.slug}/${th!.id}`;
    const findsIt = async (who: Who) => {
      const urls = [
        ...(await searchPage(who, th!.title)),
        ...(await everyResult(who, th!.title)).results.map((r) => r.url),
      ];
      return urls.some((u) => u.endsWith(`/${th!.id}`));
    };
    for (const who of ['member', 'groupMember', 'moderator'] as const)
      assert.ok(await findsIt(who), `${who} finds ${before} first`);

    const moved = await t.app.services.community.moderateThread(users.moderator, th!.slug, th!.id, {
      moveTo: group!.slug,
    });
    assert.equal(moved?.spaceId, group!.id);
    // At once, before the index has caught up.
    for (const who of ['visitor', 'unapproved', 'member', 'editor'] as const)
      assert.ok(!(await findsIt(who)), `${who} no longer finds the moved discussion`);
    assert.ok(await findsIt('groupMember'), 'the group still finds it');

    await t.app.services.search.settled();
    const [doc] = await t.database.query<{ access: string; url: string }>(
      `SELECT access, url FROM search_documents WHERE source = 'community' AND source_id = $1`,
      [th!.id],
    );
    assert.equal(doc?.access, `space:${group!.id}`);
    assert.equal(doc.url, after);
    for (const who of ['visitor', 'unapproved', 'member', 'editor'] as const) {
      assert.ok(!(await findsIt(who)), `${who} still does not find it`);
      assert.ok(!(await opens(who, after)), `${who} cannot open it`);
    }
    for (const who of ['groupMember', 'moderator', 'admin'] as const)
      assert.ok(await findsIt(who), `${who} finds it in the group`);
  });
});
