import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import { signIn, submit } from '../../../test/helpers/session.ts';
import { DEMO_PASSWORD } from '../accounts/seed.ts';

describe('the member directory', () => {
  let t: TestApp;
  let member: string;
  let parent: string;
  before(async () => {
    t = await testApp({ seed: true });
    member = await signIn(t.app, 'member@example.org', DEMO_PASSWORD, undefined, '10.6.0.1');
    parent = await signIn(t.app, 'parent@example.org', DEMO_PASSWORD, undefined, '10.6.0.2');
  });
  after(async () => t.close());

  test('only listed members appear, found by name, organisation or interest; never an email address', async () => {
    const page = await t.app.inject({ url: '/community/people', headers: { cookie: parent } });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Demo Practitioner/);
    assert.doesNotMatch(page.body, /Demo Parent/, 'not listed unless they choose');
    assert.doesNotMatch(page.body, /@example\.org/, 'no email addresses');
    assert.match(page.body, /noindex/);
    assert.match(page.body, /Private messages between members are not available yet/);
    const byInterest = await t.app.inject({
      url: '/community/people?q=letterbox',
      headers: { cookie: parent },
    });
    assert.match(byInterest.body, /Demo Practitioner/);
    assert.doesNotMatch(byInterest.body, /Demo Moderator/);
    const none = await t.app.inject({
      url: '/community/people?q=%25',
      headers: { cookie: parent },
    });
    assert.match(none.body, /No listed members match/, 'a % is a character, not a wildcard');
  });

  test('a member lists themselves (opt-in) and can stop; bad input is explained and kept', async () => {
    const on = await submit(
      t.app,
      '/community/people/profile',
      '/community/people/profile',
      { listed: 'yes', interests: 'Peer support for fathers' },
      parent,
    );
    assert.equal(on.res.statusCode, 303);
    const listed = await t.app.inject({
      url: '/community/people?q=fathers',
      headers: { cookie: member },
    });
    assert.match(listed.body, /Demo Parent \(pseudonym\)/);
    const bad = await submit(
      t.app,
      '/community/people/profile',
      '/community/people/profile',
      { listed: 'maybe', interests: 'x'.repeat(501) },
      parent,
    );
    assert.equal(bad.res.statusCode, 400);
    assert.match(bad.res.body, /Choose whether to be listed/);
    assert.match(bad.res.body, /500 characters or fewer/);
    const off = await submit(
      t.app,
      '/community/people/profile',
      '/community/people/profile',
      { listed: 'no', interests: '' },
      parent,
    );
    assert.equal(off.res.statusCode, 303);
    const gone = await t.app.inject({ url: '/community/people', headers: { cookie: member } });
    assert.doesNotMatch(gone.body, /Demo Parent/);
  });

  test('visitors sign in first; members waiting for approval are refused', async () => {
    const visitor = await t.app.inject('/community/people');
    assert.equal(visitor.statusCode, 303);
    assert.match(String(visitor.headers.location), /^\/account\/sign-in\?next=/);
    const pending = await signIn(
      t.app,
      'pending@example.org',
      DEMO_PASSWORD,
      undefined,
      '10.6.0.3',
    );
    const refused = await t.app.inject({ url: '/community/people', headers: { cookie: pending } });
    assert.equal(refused.statusCode, 403);
  });
});
