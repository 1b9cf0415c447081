import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../helpers/app.ts';
import { signIn } from '../helpers/session.ts';
import { DEMO_PASSWORD } from '../../src/features/accounts/seed.ts';

/**
 * Every link in the header and the footer leads somewhere: the features
 * register their own links, so none points at a page that is not built.
 * Followed for a visitor on the home page (with its cards) and for a
 * signed-in member on their account page.
 */

/** The local links inside the first `<tag …>…</tag>` of the page. */
function linksIn(html: string, tag: string): string[] {
  const start = html.indexOf(`<${tag}`);
  const end = html.indexOf(`</${tag}>`, start);
  assert.ok(start >= 0 && end > start, `the page has a <${tag}>`);
  return [...html.slice(start, end).matchAll(/href="(\/[^"#?]*)[^"]*"/g)].map((m) => m[1]!);
}

describe('navigation', () => {
  let t: TestApp;
  before(async () => {
    t = await testApp({ seed: true });
  });
  after(async () => t.close());

  async function follow(links: string[], cookie: string | undefined, signedIn: boolean) {
    for (const href of new Set(links)) {
      const res = await t.app.inject({
        url: href,
        ...(cookie ? { headers: { cookie } } : {}),
      });
      const toSignIn =
        res.statusCode === 303 && String(res.headers.location).startsWith('/account/sign-in');
      assert.ok(
        res.statusCode === 200 || (!signedIn && toSignIn),
        `${href} answers ${res.statusCode} ${res.headers.location ?? ''}`,
      );
    }
  }

  test("a visitor's home page: header, cards and footer all lead to pages", async () => {
    const home = await t.app.inject('/');
    assert.equal(home.statusCode, 200);
    const header = linksIn(home.body, 'header');
    const main = linksIn(home.body, 'main');
    const footer = linksIn(home.body, 'footer');
    for (const path of ['/services', '/resources', '/community', '/events', '/account/sign-in'])
      assert.ok(header.includes(path), `the header links to ${path}`);
    assert.ok(
      header.includes('/guidelines') && main.includes('/guidelines'),
      'guidelines: link and card',
    );
    assert.ok(header.includes('/news') && main.includes('/news'), 'News: the header and a card');
    assert.ok(footer.includes('/privacy'), 'the footer links to the privacy notice');
    await follow([...header, ...main, ...footer], undefined, false);
  });

  test("a member's page: the account links are theirs and lead to pages", async () => {
    const cookie = await signIn(t.app, 'member@example.org', DEMO_PASSWORD);
    const page = await t.app.inject({ url: '/account', headers: { cookie } });
    assert.equal(page.statusCode, 200);
    const header = linksIn(page.body, 'header');
    for (const path of ['/community/notifications', '/account', '/account/sign-out'])
      assert.ok(header.includes(path), `the header links to ${path}`);
    assert.ok(!header.includes('/account/sign-in'), 'no "sign in" once signed in');
    assert.ok(!header.includes('/admin'), 'no admin link for a member');
    await follow([...header, ...linksIn(page.body, 'footer')], cookie, true);
  });
});
