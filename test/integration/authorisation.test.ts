import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DEMO_PASSWORD } from '../../src/features/accounts/seed.ts';
import type { CurrentUser } from '../../src/platform/auth.ts';
import { csrfFor, type TestApp, testApp } from '../helpers/app.ts';
import { signIn } from '../helpers/session.ts';
import { enableTwoFactor, replaceRecoveryCodes } from '../helpers/totp.ts';

/**
 * The authorisation matrix: every route in the route table, for every kind
 * of person, against what we expect, written out by hand below (EXPECTED), not
 * worked out from the access rules under test: a wrong rule on a route, or a
 * wrong rule in the auth module, fails it. A route without a row fails too,
 * so a new route needs its row (the failure shows what it answered).
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

const PEOPLE_IN_ORDER = [
  'visitor',
  'unapproved',
  'member',
  'moderator',
  'editor',
  'admin',
] as const;

test('every route, for every kind of person, answers as the table says', async () => {
  const routes = t.app.platform.routes.routes.filter((r) => !r.url.startsWith('/__test'));
  assert.ok(routes.length > 40, 'the route table is read');
  const problems: string[] = [];
  const keys = new Set(routes.map((r) => `${r.method} ${r.url}`));
  for (const key of Object.keys(EXPECTED))
    if (!keys.has(key)) problems.push(`${key}: in the table but not a route (remove its row)`);
  for (const route of routes) {
    const key = `${route.method} ${route.url}`;
    const got: Outcome[] = [];
    for (const who of PEOPLE_IN_ORDER) {
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
      const location = String(res.headers.location ?? '');
      if (res.statusCode === 303 && location === `/account/sign-in?next=${encodeURIComponent(url)}`)
        got.push(IN);
      else if (res.statusCode === 303 && location.startsWith('/account/sign-in?next='))
        got.push(`303 ${location}`);
      else if (res.statusCode === 303 && location.startsWith('/account/two-factor/setup'))
        got.push(`303 ${location}`);
      else got.push(res.statusCode);
    }
    const want = EXPECTED[key];
    if (!want) {
      problems.push(`${key}: no row in the table; it answered ${JSON.stringify(got)}`);
      continue;
    }
    PEOPLE_IN_ORDER.forEach((who, i) => {
      if (got[i] !== want[i]) problems.push(`${key} as ${who}: expected ${want[i]}, got ${got[i]}`);
    });
  }
  // Every problem in full (a deepEqual diff would cut the list short).
  assert.ok(problems.length === 0, `${problems.length} problems:\n${problems.join('\n')}`);
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

/**
 * What each kind of person gets from each route, called with no form fields
 * (a CSRF token only) and sample parameters (:id is the demo member's id,
 * :token an unknown token, anything else "sample", so mostly 404s for the
 * data that is not there). IN: a visitor sent to sign in and back
 * (303 to /account/sign-in?next=the same URL); 401 and 403: refused; any
 * other status: let in (303 is a redirect elsewhere, 400 a form that needs its
 * fields, 404 no such thing).
 */
const IN = 'sign in';
type Outcome = number | string;
type Row = [
  visitor: Outcome,
  unapproved: Outcome,
  member: Outcome,
  moderator: Outcome,
  editor: Outcome,
  admin: Outcome,
];
// The comment after each row is the access level the route declares.
// prettier-ignore
const EXPECTED: Record<string, Row> = {
  //                                            visitor unapproved member moderator editor admin
  'GET /healthz': [200, 200, 200, 200, 200, 200], // public
  'GET /readyz': [200, 200, 200, 200, 200, 200], // public
  'GET /metrics': [200, 200, 200, 200, 200, 200], // public
  'GET /': [200, 200, 200, 200, 200, 200], // public
  'GET /account/register': [200, 303, 303, 303, 303, 303], // public
  'POST /account/register': [400, 400, 400, 400, 400, 400], // public
  'GET /account/check-email': [200, 200, 200, 200, 200, 200], // public
  'GET /account/verify/:token': [404, 404, 404, 404, 404, 404], // public
  'POST /account/verify/:token': [404, 404, 404, 404, 404, 404], // public
  'GET /account/sign-in': [200, 303, 303, 303, 303, 303], // public
  'POST /account/sign-in': [400, 400, 400, 400, 400, 400], // public
  'GET /account/sign-in/email': [200, 200, 200, 200, 200, 200], // public
  'POST /account/sign-in/email': [400, 400, 400, 400, 400, 400], // public
  'GET /account/sign-in/link/:token': [404, 404, 404, 404, 404, 404], // public
  'POST /account/sign-in/link/:token': [404, 404, 404, 404, 404, 404], // public
  'GET /account/sign-in/two-factor': [303, 303, 303, 303, 303, 303], // public
  'POST /account/sign-in/two-factor': [303, 303, 303, 303, 303, 303], // public
  'GET /account/sign-out': [200, 200, 200, 200, 200, 200], // public
  'POST /account/sign-out': [303, 303, 303, 303, 303, 303], // public
  'POST /account/sign-out-everywhere': [401, 303, 303, 303, 303, 303], // signedIn
  'GET /account/password/forgot': [200, 200, 200, 200, 200, 200], // public
  'POST /account/password/forgot': [400, 400, 400, 400, 400, 400], // public
  'GET /account/password/reset/:token': [404, 404, 404, 404, 404, 404], // public
  'POST /account/password/reset/:token': [400, 400, 400, 400, 400, 400], // public
  'GET /account': [IN, 200, 200, 200, 200, 200], // signedIn
  'GET /account/profile': [IN, 200, 200, 200, 200, 200], // signedIn
  'POST /account/profile': [401, 400, 400, 400, 400, 400], // signedIn
  'GET /account/password': [IN, 200, 200, 200, 200, 200], // signedIn
  'POST /account/password': [401, 400, 400, 400, 400, 400], // signedIn
  'GET /account/email': [IN, 200, 200, 200, 200, 200], // signedIn
  'POST /account/email': [401, 400, 400, 400, 400, 400], // signedIn
  'GET /account/email/confirm/:token': [404, 404, 404, 404, 404, 404], // public
  'POST /account/email/confirm/:token': [404, 404, 404, 404, 404, 404], // public
  'GET /account/two-factor': [IN, 200, 200, 200, 200, 200], // signedIn
  'GET /account/two-factor/setup': [IN, 200, 200, 303, 303, 303], // signedIn
  'POST /account/two-factor/setup': [401, 400, 400, 303, 303, 303], // signedIn
  'POST /account/two-factor/recovery-codes': [401, 303, 303, 200, 200, 200], // signedIn
  'POST /account/two-factor/disable': [401, 303, 303, 303, 303, 303], // signedIn
  'POST /account/export': [401, 200, 200, 200, 200, 200], // signedIn
  'GET /account/delete': [IN, 200, 200, 200, 200, 200], // signedIn
  'POST /account/delete': [401, 400, 400, 400, 400, 400], // signedIn
  'GET /account/delete/confirm/:token': [404, 404, 404, 404, 404, 404], // public
  'POST /account/delete/confirm/:token': [404, 404, 404, 404, 404, 404], // public
  'GET /admin': [IN, 403, 403, 200, 200, 200], // staff
  'GET /admin/users': [IN, 403, 403, 200, 403, 200], // moderator
  'GET /admin/users/:id': [IN, 403, 403, 200, 403, 200], // moderator
  'POST /admin/users/:id/approve': [401, 403, 403, 303, 403, 303], // moderator
  'POST /admin/users/:id/resend': [401, 403, 403, 303, 403, 303], // moderator
  'POST /admin/users/:id/status': [401, 403, 403, 400, 403, 400], // moderator
  'POST /admin/users/:id/role': [401, 403, 403, 403, 403, 400], // admin
  'GET /admin/audit': [IN, 403, 403, 403, 403, 200], // admin
  'GET /admin/settings': [IN, 403, 403, 403, 403, 200], // admin
  'POST /admin/settings': [401, 403, 403, 403, 403, 400], // admin
  'GET /admin/mail': [IN, 403, 403, 403, 403, 200], // admin
  'GET /admin/mail/:file': [IN, 403, 403, 403, 403, 404], // admin
  'GET /events': [200, 200, 200, 200, 200, 200], // public
  'GET /events/feed.atom': [200, 200, 200, 200, 200, 200], // public
  'GET /events/:slug': [404, 404, 404, 404, 404, 404], // public
  'GET /events/:slug/book': [404, 404, 404, 404, 404, 404], // public
  'POST /events/:slug/book': [404, 404, 404, 404, 404, 404], // public
  'GET /bookings/:token': [404, 404, 404, 404, 404, 404], // public
  'GET /bookings/:token/cancel': [404, 404, 404, 404, 404, 404], // public
  'GET /bookings/:token/attendees/:id/cancel': [404, 404, 404, 404, 404, 404], // public
  'POST /bookings/:token/cancel': [404, 404, 404, 404, 404, 404], // public
  'POST /bookings/:token/attendees/:id/cancel': [404, 404, 404, 404, 404, 404], // public
  'POST /bookings/:token/attendees/:id/accept': [303, 303, 303, 303, 303, 303], // public
  'POST /bookings/:token/attendees/:id': [404, 404, 404, 404, 404, 404], // public
  'GET /events/:slug/attendees': [IN, 404, 404, 404, 404, 404], // signedIn
  'GET /events/:slug/attendees.csv': [IN, 404, 404, 404, 404, 404], // signedIn
  'POST /events/:slug/attendees/:id/check-in': [401, 303, 303, 303, 303, 303], // signedIn
  'POST /events/:slug/email-attendees': [401, 404, 404, 404, 404, 404], // signedIn
  'POST /events/:slug/status': [401, 404, 404, 404, 404, 404], // signedIn
  'GET /admin/events': [IN, 403, 403, 403, 200, 200], // editor
  'GET /admin/events/new': [IN, 403, 403, 403, 200, 200], // editor
  'POST /admin/events/new': [401, 403, 403, 403, 400, 400], // editor
  'GET /admin/events/:id/edit': [IN, 403, 403, 403, 404, 404], // editor
  'POST /admin/events/:id/edit': [401, 403, 403, 403, 404, 404], // editor
  'POST /admin/events/:id/organisers': [401, 403, 403, 403, 404, 404], // editor
  'POST /admin/events/:id/organisers/:userId/delete': [401, 403, 403, 403, 404, 404], // editor
  // Guidelines: public reading; editors' wording and feedback pages.
  'GET /guidelines': [200, 200, 200, 200, 200, 200], // public
  'GET /guidelines/:slug': [404, 404, 404, 404, 404, 404], // public
  'GET /guidelines/:slug/changes': [404, 404, 404, 404, 404, 404], // public
  'GET /guidelines/:slug/progress': [404, 404, 404, 404, 404, 404], // public (figures only from 5 areas)
  'GET /guidelines/:slug/feedback': [IN, 403, 403, 403, 404, 404], // editor
  'GET /guidelines/:slug/parents/:stage': [404, 404, 404, 404, 404, 404], // public
  'GET /guidelines/:slug/:ref': [404, 404, 404, 404, 404, 404], // public
  'GET /guidelines/:slug/:ref/edit': [IN, 403, 403, 403, 404, 404], // editor
  'POST /guidelines/:slug/:ref/edit': [401, 403, 403, 403, 404, 404], // editor
  // Local action plans: every plan URL is 404 to all but the plan's members (tested per plan in
  // src/features/guidelines/plans.test.ts); here :id is no plan at all.
  'GET /plans': [IN, 403, 200, 200, 200, 200], // member
  'POST /plans': [401, 403, 400, 400, 400, 400], // member
  'GET /plans/invitations/:token': [404, 404, 404, 404, 404, 404], // public (the link is the key)
  'POST /plans/invitations/:token': [401, 403, 404, 404, 404, 404], // member
  'GET /plans/:id': [404, 404, 404, 404, 404, 404], // plan members only
  'GET /plans/:id/statements/:ref': [404, 404, 404, 404, 404, 404], // plan members only
  'POST /plans/:id/statements/:ref/rating': [404, 404, 404, 404, 404, 404], // plan members only
  'POST /plans/:id/statements/:ref/evidence': [404, 404, 404, 404, 404, 404], // plan members only
  'POST /plans/:id/statements/:ref/feedback': [404, 404, 404, 404, 404, 404], // plan members only
  'GET /plans/:id/actions/new': [404, 404, 404, 404, 404, 404], // plan members only
  'POST /plans/:id/actions': [404, 404, 404, 404, 404, 404], // plan members only
  'GET /plans/:id/actions/:actionId': [404, 404, 404, 404, 404, 404], // plan members only
  'POST /plans/:id/actions/:actionId': [404, 404, 404, 404, 404, 404], // plan members only
  'POST /plans/:id/actions/:actionId/sign-off': [404, 404, 404, 404, 404, 404], // plan members only
  'GET /plans/:id/members': [404, 404, 404, 404, 404, 404], // plan members only
  'POST /plans/:id/members': [404, 404, 404, 404, 404, 404], // plan members only
  'POST /plans/:id/members/:userId/remove': [404, 404, 404, 404, 404, 404], // plan members only
  'POST /plans/:id/rounds': [404, 404, 404, 404, 404, 404], // plan members only
  'GET /plans/:id/compare': [404, 404, 404, 404, 404, 404], // plan members only
  'GET /plans/:id/progress': [404, 404, 404, 404, 404, 404], // plan members only
  'GET /plans/:id/report': [404, 404, 404, 404, 404, 404], // plan members only
  'GET /plans/:id/export.csv': [404, 404, 404, 404, 404, 404], // plan members only
  'GET /plans/:id/export.xlsx': [404, 404, 404, 404, 404, 404], // plan members only
  'GET /services': [200, 200, 200, 200, 200, 200], // public
  'GET /services/map.json': [200, 200, 200, 200, 200, 200], // public
  'GET /services/coverage': [200, 200, 200, 200, 200, 200], // public
  'GET /services.csv': [200, 200, 200, 200, 200, 200], // public
  'GET /services/coverage.csv': [200, 200, 200, 200, 200, 200], // public
  'GET /services/:slug': [404, 404, 404, 404, 404, 404], // public
  'GET /services/suggest': [200, 200, 200, 200, 200, 200], // public
  'POST /services/suggest': [400, 400, 400, 400, 400, 400], // public
  'GET /services/:slug/suggest-change': [404, 404, 404, 404, 404, 404], // public
  'POST /services/:slug/suggest-change': [404, 404, 404, 404, 404, 404], // public
  'GET /services/suggestions/sent': [200, 200, 200, 200, 200, 200], // public
  'GET /services/suggestions/confirm/:token': [404, 404, 404, 404, 404, 404], // public
  'POST /services/suggestions/confirm': [404, 404, 404, 404, 404, 404], // public
  'GET /services/:slug/history': [404, 404, 404, 404, 404, 404], // public
  'GET /services/:slug/edit': [IN, 404, 404, 404, 404, 404], // signedIn
  'POST /services/:slug/edit': [401, 404, 404, 404, 404, 404], // signedIn
  'POST /services/:slug/verify': [401, 404, 404, 404, 404, 404], // signedIn
  'GET /admin/services/suggestions': [IN, 403, 403, 200, 403, 200], // moderator
  'GET /admin/services/suggestions/:id': [IN, 403, 403, 404, 403, 404], // moderator
  'POST /admin/services/suggestions/:id': [401, 403, 403, 404, 403, 404], // moderator
  'GET /admin/services/:slug/managers': [IN, 403, 403, 404, 403, 404], // moderator
  'POST /admin/services/:slug/managers': [401, 403, 403, 404, 403, 404], // moderator
  'GET /api/oruk': [200, 200, 200, 200, 200, 200], // public
  'GET /api/oruk/services': [200, 200, 200, 200, 200, 200], // public
  'GET /api/oruk/services/:id': [404, 404, 404, 404, 404, 404], // public
  'GET /api/oruk/service_at_locations': [200, 200, 200, 200, 200, 200], // public
  'GET /api/oruk/service_at_locations/:id': [404, 404, 404, 404, 404, 404], // public
  'GET /api/oruk/taxonomies': [200, 200, 200, 200, 200, 200], // public
  'GET /api/oruk/taxonomies/:id': [404, 404, 404, 404, 404, 404], // public
  'GET /api/oruk/taxonomy_terms': [200, 200, 200, 200, 200, 200], // public
  'GET /api/oruk/taxonomy_terms/:id': [404, 404, 404, 404, 404, 404], // public
  'GET /resources': [200, 200, 200, 200, 200, 200], // public
  'GET /resources/feed.atom': [200, 200, 200, 200, 200, 200], // public
  'GET /resources/submit': [IN, 403, 200, 200, 200, 200], // member
  'POST /resources/submit': [401, 403, 400, 400, 400, 400], // member
  'GET /resources/submit/done': [IN, 403, 200, 200, 200, 200], // member
  'GET /resources/:slug': [404, 404, 404, 404, 404, 404], // public
  'GET /resources/:slug/files/:fileId': [404, 404, 404, 404, 404, 404], // public
  'GET /topics': [200, 200, 200, 200, 200, 200], // public
  'GET /topics/:slug': [404, 404, 404, 404, 404, 404], // public
  'GET /admin/resources': [IN, 403, 403, 403, 200, 200], // editor
  'GET /admin/resources/new': [IN, 403, 403, 403, 200, 200], // editor
  'POST /admin/resources/new': [401, 403, 403, 403, 400, 400], // editor
  'GET /admin/resources/:id': [IN, 403, 403, 403, 404, 404], // editor
  'POST /admin/resources/:id': [401, 403, 403, 403, 404, 404], // editor
  'POST /admin/resources/:id/status': [401, 403, 403, 403, 404, 404], // editor
  'POST /admin/resources/:id/files/:fileId/delete': [401, 403, 403, 403, 404, 404], // editor
  'GET /admin/topics': [IN, 403, 403, 403, 200, 200], // editor
  'GET /admin/topics/:slug': [IN, 403, 403, 403, 404, 404], // editor
  'POST /admin/topics/:slug': [401, 403, 403, 403, 404, 404], // editor
  'GET /community/notifications': [IN, 403, 200, 200, 200, 200], // member
  'GET /community/notifications/:id': [IN, 403, 404, 404, 404, 404], // member
  'POST /community/notifications/read': [401, 403, 303, 303, 303, 303], // member
  'GET /community/notifications/settings': [IN, 403, 200, 200, 200, 200], // member
  'POST /community/notifications/settings': [401, 403, 400, 400, 400, 400], // member
  'GET /community/notifications/unsubscribe/:token': [404, 404, 404, 404, 404, 404], // public
  'POST /community/notifications/unsubscribe/:token': [404, 404, 404, 404, 404, 404], // public
  'POST /community/:space/follow': [401, 403, 303, 303, 303, 303], // member
  'POST /community/:space/:id/follow': [401, 403, 404, 404, 404, 404], // member
  'GET /community/people': [IN, 403, 200, 200, 200, 200], // member
  'GET /community/people/profile': [IN, 403, 200, 200, 200, 200], // member
  'POST /community/people/profile': [401, 403, 400, 400, 400, 400], // member
  'GET /community/:space/mentions': [404, 404, 404, 404, 404, 404], // public
  'GET /community': [200, 200, 200, 200, 200, 200], // public
  'GET /community/search': [200, 200, 200, 200, 200, 200], // public
  'GET /community/:space': [404, 404, 404, 404, 404, 404], // public
  'GET /community/:space/new': [IN, 403, 404, 404, 404, 404], // member
  'POST /community/:space/new': [401, 403, 404, 404, 404, 404], // member
  'GET /community/:space/:id': [404, 404, 404, 404, 404, 404], // public
  'POST /community/:space/:id/reply': [401, 403, 404, 404, 404, 404], // member
  'POST /community/:space/:id/moderate': [401, 403, 400, 400, 400, 400], // member
  'POST /community/:space/join': [401, 403, 404, 404, 404, 404], // member
  'GET /community/:space/members': [IN, 403, 404, 404, 404, 404], // member
  'POST /community/:space/members': [401, 403, 303, 303, 303, 303], // member
  'GET /community/posts/:id': [404, 404, 404, 404, 404, 404], // public
  'GET /community/attachments/:id': [404, 404, 404, 404, 404, 404], // public
  'GET /community/posts/:id/edit': [IN, 403, 404, 404, 404, 404], // member
  'POST /community/posts/:id/edit': [401, 403, 404, 404, 404, 404], // member
  'POST /community/posts/:id/delete': [401, 403, 404, 404, 404, 404], // member
  'POST /community/posts/:id/like': [401, 403, 404, 404, 404, 404], // member
  'GET /community/posts/:id/report': [IN, 403, 404, 404, 404, 404], // member
  'POST /community/posts/:id/report': [401, 403, 404, 404, 404, 404], // member
  'GET /community/posts/:id/history': [IN, 403, 404, 404, 404, 404], // member
  'GET /admin/moderation': [IN, 403, 403, 200, 403, 200], // moderator
  'POST /admin/moderation/posts/:id': [401, 403, 403, 400, 403, 400], // moderator
  'GET /admin/community': [IN, 403, 403, 403, 403, 200], // admin
  'POST /admin/community/held-posts': [401, 403, 403, 403, 403, 400], // admin
  'GET /admin/community/spaces/new': [IN, 403, 403, 403, 403, 200], // admin
  'POST /admin/community/spaces/new': [401, 403, 403, 403, 403, 400], // admin
  'GET /admin/community/spaces/:slug': [IN, 403, 403, 403, 403, 404], // admin
  'POST /admin/community/spaces/:slug': [401, 403, 403, 403, 403, 404], // admin
  'POST /admin/community/spaces/:slug/moderators': [401, 403, 403, 403, 403, 404], // admin
  'POST /admin/community/spaces/:slug/moderators/:userId/remove': [401, 403, 403, 403, 403, 404], // admin
  'GET /newsletter': [200, 200, 200, 200, 200, 200], // public
  'POST /newsletter': [400, 400, 400, 400, 400, 400], // public
  'GET /newsletter/check-email': [200, 200, 200, 200, 200, 200], // public
  'GET /newsletter/confirm/:token': [404, 404, 404, 404, 404, 404], // public
  'POST /newsletter/confirm/:token': [404, 404, 404, 404, 404, 404], // public
  'POST /newsletter/account': [401, 303, 303, 303, 303, 303], // signedIn
  'GET /newsletter/manage': [200, 200, 200, 200, 200, 200], // public
  'POST /newsletter/manage': [400, 400, 400, 400, 400, 400], // public
  'GET /newsletter/manage/sent': [200, 200, 200, 200, 200, 200], // public
  'GET /newsletter/preferences/:token': [404, 404, 404, 404, 404, 404], // public
  'POST /newsletter/preferences/:token': [404, 404, 404, 404, 404, 404], // public
  'GET /newsletter/preferences/:token/data.json': [404, 404, 404, 404, 404, 404], // public
  'GET /newsletter/unsubscribe/:token': [404, 404, 404, 404, 404, 404], // public
  'POST /newsletter/unsubscribe/:token': [404, 404, 404, 404, 404, 404], // public (RFC 8058: no CSRF)
  'POST /newsletter/unsubscribe/:token/undo': [404, 404, 404, 404, 404, 404], // public
  'GET /newsletter/archive': [200, 200, 200, 200, 200, 200], // public
  'GET /newsletter/archive/feed.atom': [200, 200, 200, 200, 200, 200], // public
  'GET /newsletter/archive/:id': [404, 404, 404, 404, 404, 404], // public
  'GET /newsletter/images/:name': [404, 404, 404, 404, 404, 404], // public
  'POST /hooks/mail/:provider': [404, 404, 404, 404, 404, 404], // public, shared secret (unset here)
  'GET /admin/newsletter': [IN, 403, 403, 403, 200, 200], // editor
  'GET /admin/newsletter/issues/new': [IN, 403, 403, 403, 200, 200], // editor
  'POST /admin/newsletter/issues/new': [401, 403, 403, 403, 400, 400], // editor
  'GET /admin/newsletter/issues/:id/edit': [IN, 403, 403, 403, 404, 404], // editor
  'POST /admin/newsletter/issues/:id/edit': [401, 403, 403, 403, 404, 404], // editor
  'GET /admin/newsletter/issues/:id': [IN, 403, 403, 403, 404, 404], // editor
  'GET /admin/newsletter/issues/:id/preview': [IN, 403, 403, 403, 404, 404], // editor
  'GET /admin/newsletter/issues/:id/preview.txt': [IN, 403, 403, 403, 404, 404], // editor
  'POST /admin/newsletter/issues/:id/images': [401, 403, 403, 403, 404, 404], // editor
  'POST /admin/newsletter/issues/:id/test': [401, 403, 403, 403, 404, 404], // editor
  'POST /admin/newsletter/issues/:id/schedule': [401, 403, 403, 403, 404, 404], // editor
  'POST /admin/newsletter/issues/:id/unschedule': [401, 403, 403, 403, 404, 404], // editor
  'POST /admin/newsletter/issues/:id/delete': [401, 403, 403, 403, 404, 404], // editor
  'GET /admin/newsletter/subscribers': [IN, 403, 403, 403, 200, 200], // editor
  'GET /admin/newsletter/subscribers.csv': [IN, 403, 403, 403, 200, 200], // editor
  'GET /admin/newsletter/import': [IN, 403, 403, 403, 200, 200], // editor
  'POST /admin/newsletter/import': [401, 403, 403, 403, 400, 400], // editor
  'GET /admin/newsletter/suppressions': [IN, 403, 403, 403, 200, 200], // editor
  'POST /admin/newsletter/suppressions': [401, 403, 403, 403, 400, 400], // editor
  'POST /admin/newsletter/suppressions/remove': [401, 403, 403, 403, 303, 303], // editor
  'GET /news': [200, 200, 200, 200, 200, 200], // public
  'GET /stories': [200, 200, 200, 200, 200, 200], // public
  'GET /news/feed.atom': [200, 200, 200, 200, 200, 200], // public
  'GET /stories/feed.atom': [200, 200, 200, 200, 200, 200], // public
  'GET /series/:slug': [404, 404, 404, 404, 404, 404], // public
  'GET /series/:slug/feed.atom': [404, 404, 404, 404, 404, 404], // public
  'GET /articles/images/:name': [404, 404, 404, 404, 404, 404], // public
  'GET /news/:slug': [404, 404, 404, 404, 404, 404], // public
  'GET /stories/:slug': [404, 404, 404, 404, 404, 404], // public
  'POST /articles/:id/like': [401, 403, 404, 404, 404, 404], // member
  'POST /articles/:id/comments': [401, 403, 404, 404, 404, 404], // member
  'POST /articles/comments/:id/like': [401, 403, 404, 404, 404, 404], // member
  'POST /articles/comments/:id/delete': [401, 403, 404, 404, 404, 404], // member
  'GET /articles/comments/:id/report': [IN, 403, 404, 404, 404, 404], // member
  'POST /articles/comments/:id/report': [401, 403, 404, 404, 404, 404], // member
  'GET /stories/propose': [IN, 403, 200, 200, 200, 200], // member
  'POST /stories/propose': [401, 403, 400, 400, 400, 400], // member
  'GET /stories/propose/done': [IN, 403, 200, 200, 200, 200], // member
  'GET /admin/articles': [IN, 403, 403, 403, 200, 200], // editor
  'GET /admin/articles/new': [IN, 403, 403, 403, 200, 200], // editor
  'POST /admin/articles/new': [401, 403, 403, 403, 400, 400], // editor
  'GET /admin/articles/:id': [IN, 403, 403, 403, 404, 404], // editor
  'POST /admin/articles/:id': [401, 403, 403, 403, 404, 404], // editor
  'POST /admin/articles/:id/status': [401, 403, 403, 403, 404, 404], // editor
  'GET /admin/articles/comments': [IN, 403, 403, 200, 200, 200], // staff
  'POST /admin/articles/comments/:id': [401, 403, 403, 400, 400, 400], // staff
  'GET /admin/articles/settings': [IN, 403, 403, 403, 403, 200], // admin
  'POST /admin/articles/settings': [401, 403, 403, 403, 403, 400], // admin
  'GET /privacy': [200, 200, 200, 200, 200, 200], // public
  'GET /accessibility': [200, 200, 200, 200, 200, 200], // public
  'GET /cookies': [200, 200, 200, 200, 200, 200], // public
  'GET /contact': [200, 200, 200, 200, 200, 200], // public
  'GET /terms': [200, 200, 200, 200, 200, 200], // public
  'GET /code-of-conduct': [200, 200, 200, 200, 200, 200], // public
  'GET /search': [200, 200, 200, 200, 200, 200], // public (each result checked with its owner)
  'GET /search/open': [303, 303, 303, 303, 303, 303], // public (an unknown target goes back to /search)
  'GET /admin/search': [IN, 403, 403, 403, 200, 200], // editor
  'POST /admin/search/synonyms': [401, 403, 403, 403, 400, 400], // editor
  'POST /admin/search/synonyms/:id/delete': [401, 403, 403, 403, 404, 404], // editor
  'POST /admin/search/best-bets': [401, 403, 403, 403, 400, 400], // editor
  'POST /admin/search/best-bets/:id/delete': [401, 403, 403, 403, 404, 404], // editor
};
