import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DEMO_PASSWORD } from '../../src/features/accounts/seed.ts';
import { accessAllows, type CurrentUser } from '../../src/platform/auth.ts';
import { csrfFor, type TestApp, testApp } from '../helpers/app.ts';
import { signIn } from '../helpers/session.ts';
import { enableTwoFactor, replaceRecoveryCodes } from '../helpers/totp.ts';

/**
 * The authorisation matrix: every route in the route table, for every kind
 * of person. Routes are read from the app, so a new route is covered without
 * anyone writing a test for it.
 */

type Who = 'visitor' | 'unapproved' | 'member' | 'moderator' | 'editor' | 'admin';
const PEOPLE: Record<
  Exclude<Who, 'visitor'>,
  { email: string; user: Omit<CurrentUser, 'id' | 'displayName'> }
> = {
  unapproved: {
    email: 'pending@example.org',
    user: { role: 'member', approved: false, totpEnabled: false },
  },
  member: {
    email: 'member@example.org',
    user: { role: 'member', approved: true, totpEnabled: false },
  },
  moderator: {
    email: 'moderator@example.org',
    user: { role: 'moderator', approved: true, totpEnabled: true },
  },
  editor: {
    email: 'editor@example.org',
    user: { role: 'editor', approved: true, totpEnabled: true },
  },
  admin: { email: 'admin@example.org', user: { role: 'admin', approved: true, totpEnabled: true } },
};

let t: TestApp;
const secrets = new Map<string, string>();
const jars = new Map<Who, string>();
let signIns = 0;

before(async () => {
  t = await testApp({ seed: true });
  for (const who of ['moderator', 'editor', 'admin'] as const)
    secrets.set(who, await enableTwoFactor(t.app, PEOPLE[who].email));
});
after(async () => t.close());

async function jar(who: Who, fresh = false): Promise<string> {
  if (who === 'visitor') return '';
  if (!fresh && jars.has(who)) return jars.get(who)!;
  // Each sign-in from its own address, so the per-address limit on sign-in is not what is tested here.
  const cookie = await signIn(
    t.app,
    PEOPLE[who].email,
    DEMO_PASSWORD,
    secrets.get(who),
    `10.0.${++signIns}.1`,
  );
  jars.set(who, cookie);
  return cookie;
}

async function samplePath(url: string): Promise<string> {
  const [member] = await t.database.query<{ id: string }>(
    `SELECT id FROM users WHERE email = 'member@example.org'`,
  );
  return url
    .replace(':id', member!.id)
    .replace(':token', 'a-token-that-does-not-exist-000000000000')
    .replace(':file', 'none.eml')
    .replace(/:(\w+)/g, 'sample');
}

test('every route, for every kind of person: allowed where its access says, refused everywhere else', async () => {
  const routes = t.app.platform.routes.routes.filter((r) => !r.url.startsWith('/__test'));
  assert.ok(routes.length > 40, 'the route table is read');
  const problems: string[] = [];
  for (const route of routes) {
    for (const who of [
      'visitor',
      'unapproved',
      'member',
      'moderator',
      'editor',
      'admin',
    ] as const) {
      const user =
        who === 'visitor'
          ? undefined
          : ({ id: 'x', displayName: 'x', ...PEOPLE[who].user } as CurrentUser);
      const allowed = accessAllows(route.access, user);
      const url = await samplePath(route.url);
      let cookie = await jar(who);
      let res;
      if (route.method === 'GET') {
        res = await t.app.inject({ method: 'GET', url, headers: cookie ? { cookie } : {} });
      } else {
        const formPage = cookie ? '/account/sign-out' : '/account/sign-in';
        const { token, cookie: withCsrf } = await csrfFor(t.app, formPage, cookie);
        cookie = withCsrf;
        res = await t.app.inject({
          method: route.method as 'POST',
          url,
          headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
          payload: `_csrf=${encodeURIComponent(token)}`,
        });
        if (/sign-out|delete/.test(route.url)) jars.delete(who); // that request may have ended the session
        if (route.url.endsWith('/recovery-codes') && secrets.has(who))
          replaceRecoveryCodes(secrets.get(who)!, res.body);
      }
      const toSignIn =
        res.statusCode === 303 && String(res.headers.location).startsWith('/account/sign-in?next=');
      const refused = res.statusCode === 401 || res.statusCode === 403 || toSignIn;
      const label = `${route.method} ${route.url} as ${who} (${route.access}): ${res.statusCode}`;
      if (allowed && refused) problems.push(`${label} — should be allowed`);
      if (!allowed && !refused) problems.push(`${label} — should be refused`);
      if (!allowed && who === 'visitor' && route.method === 'GET' && !toSignIn)
        problems.push(`${label} — a visitor should be sent to sign in`);
      if (res.statusCode >= 500) problems.push(`${label} — server error`);
    }
  }
  assert.deepEqual(problems, []);
});

test('staff without two-step sign-in are sent to set it up before any staff page', async () => {
  const own = await testApp({ seed: true });
  try {
    const cookie = await signIn(own.app, 'admin@example.org', DEMO_PASSWORD);
    const res = await own.app.inject({ url: '/admin', headers: { cookie } });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/account/two-factor/setup?next=%2Fadmin');
    const setup = await own.app.inject({ url: res.headers.location, headers: { cookie } });
    assert.equal(setup.statusCode, 200);
    assert.match(setup.body, /Your role needs two-step sign-in/);
  } finally {
    await own.close();
  }
});
