import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import { signIn, submit } from '../../../test/helpers/session.ts';
import { enableTwoFactor } from '../../../test/helpers/totp.ts';
import type { CurrentUser } from '../../platform/auth.ts';
import { DEMO_PASSWORD } from '../accounts/seed.ts';
import { createGuidelinesRepository } from './repository.ts';
import { DEMO_GUIDELINE_SLUG } from './seed.ts';

/** The reading pages, the editors' wording, and starting a plan through its form. */

const SLUG = DEMO_GUIDELINE_SLUG;

describe('guidelines: reading and editing', () => {
  let t: TestApp;
  before(async () => {
    t = await testApp({ seed: true });
  });
  after(async () => t.close());
  let editor = '';
  /** A statement's English words in a version, as stored. */
  const wording = async (ref: string, number: number) =>
    (
      await t.database.query<{ text: string }>(
        `SELECT s.text FROM guideline_statements s JOIN guideline_versions v ON v.id = s.version_id
         JOIN guidelines g ON g.id = v.guideline_id WHERE g.slug = $1 AND v.number = $2 AND s.ref = $3`,
        [SLUG, number, ref],
      )
    )[0]?.text;
  const versions = () =>
    t.database.query<{ number: number; status: string }>(
      `SELECT v.number, v.status FROM guideline_versions v JOIN guidelines g ON g.id = v.guideline_id
       WHERE g.slug = $1 ORDER BY v.number`,
      [SLUG],
    );

  test('the list and the guideline: illustrative, by stage, every statement, a link for parents', async () => {
    const list = await t.app.inject('/guidelines');
    assert.equal(list.statusCode, 200);
    assert.match(list.body, /Illustrative – not the published text/);
    const page = await t.app.inject(`/guidelines/${SLUG}`);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /not the published Born into Care guidelines/);
    assert.match(page.body, /Showing 15 of 15 statements/);
    for (const stage of ['pre-birth', 'maternity-and-first-hearing', 'leaving-hospital']) {
      assert.match(page.body, new RegExp(`id="stage-${stage}"`));
      assert.match(page.body, new RegExp(`/guidelines/${SLUG}/parents/${stage}`));
    }
    // Print styles fit for a board pack: in the site's stylesheet, which every page links.
    const css = /href="(\/assets\/[^"]+\.css)"/.exec(page.body)![1]!;
    const sheet = await t.app.inject(css);
    assert.match(sheet.body, /@media print\{[^@]*\.sp-no-print/);
    assert.match(sheet.body, /\.sp-stage[^{]*\{[^}]*break-before:page/);
  });

  test('filters by level, agency and lens keep the stages and show only matching statements', async () => {
    const res = await t.app.inject(`/guidelines/${SLUG}?level=frontline&agency=health`);
    assert.match(res.body, /Showing 6 of 15 statements/); // 1.3, 1.4, 2.1, 2.3, 3.1, 3.4
    assert.doesNotMatch(res.body, />Statement 1\.1</, '1.1 is strategic');
    assert.match(res.body, />Statement 2\.1</);
    const lens = await t.app.inject(`/guidelines/${SLUG}?lens=fathers`);
    assert.match(lens.body, /Showing 2 of 15 statements/);
    assert.match(lens.body, /No statements in this stage match the filters/);
    const ignored = await t.app.inject(`/guidelines/${SLUG}?level=bogus`);
    assert.match(ignored.body, /Showing 15 of 15/);
  });

  test('a statement shows its examples and links to demo services and resources', async () => {
    const res = await t.app.inject(`/guidelines/${SLUG}/1.1`);
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Putting it into practice/);
    assert.match(res.body, /href="\/services\/demo-[a-z0-9-]+"/);
    const withResource = await t.app.inject(`/guidelines/${SLUG}/3.4`);
    assert.match(withResource.body, /href="\/resources\/contraception-conversations"/);
    assert.equal((await t.app.inject(`/guidelines/${SLUG}/9.9`)).statusCode, 404);
    assert.equal((await t.app.inject('/guidelines/no-such-guideline')).statusCode, 404);
    // The practice stories that cite a statement, from the articles feature: the demo's
    // Durham story cites 1.1 and 1.2, not 3.4.
    assert.match(res.body, /Practice stories about this statement/);
    assert.match(res.body, /href="\/stories\/pre-birth-work-in-county-durham-demo"/);
    assert.doesNotMatch(withResource.body, /pre-birth-work-in-county-durham-demo/);
    // An example's story is a link with the story's title (asked of the articles feature).
    const withStory = await t.app.inject(`/guidelines/${SLUG}/1.2`);
    assert.match(
      withStory.body,
      /<li><a class="govuk-link" href="\/stories\/pre-birth-work-in-county-durham-demo">Starting early: pre-birth work in County Durham \(demo\)<\/a><\/li>/,
    );
  });

  test('the parents’ page is plain language, in Welsh too', async () => {
    const en = await t.app.inject(`/guidelines/${SLUG}/parents/leaving-hospital`);
    assert.match(en.body, /Leaving hospital without your baby is very hard/);
    const cy = await t.app.inject(`/guidelines/${SLUG}/parents/leaving-hospital?lang=cy`);
    assert.match(cy.body, /<html lang="cy"/);
    assert.match(cy.body, /Mae gadael yr ysbyty heb eich babi yn anodd iawn/);
    assert.match(cy.body, /Beth gall rhieni ei ddisgwyl/);
  });

  test('an editor changes the wording on the web; an empty statement is refused and nothing changes', async () => {
    const secret = await enableTwoFactor(t.app, 'editor@example.org');
    const cookie = await signIn(t.app, 'editor@example.org', DEMO_PASSWORD, secret);
    editor = cookie;
    const form = `/guidelines/${SLUG}/1.3/edit?version=1`;
    const original = (await wording('1.3', 1))!;
    // The demo plans rate version 1: the form says what saving will do.
    const shown = await t.app.inject({ url: form, headers: { cookie } });
    assert.match(shown.body, /Local action plans have rated version 1\./);
    assert.match(shown.body, /saving makes version 2 with your wording/);
    const bad = await submit(t.app, form, form, { text: '  ', textCy: 'Cymraeg' }, cookie);
    assert.equal(bad.res.statusCode, 400);
    assert.match(bad.res.body, /Enter the statement/);
    assert.match(bad.res.body, /Cymraeg/, 'what was typed is kept');
    assert.deepEqual(await versions(), [{ number: 1, status: 'published' }]);
    const ok = await submit(
      t.app,
      form,
      form,
      { text: 'Fathers are included (edited).', textCy: '' },
      cookie,
    );
    assert.equal(ok.res.statusCode, 303);
    assert.equal(ok.res.headers.location, `/guidelines/${SLUG}/1.3?version=2`);
    const page = await t.app.inject(`/guidelines/${SLUG}/1.3`);
    assert.match(page.body, /Fathers are included \(edited\)\./);
    assert.equal(await wording('1.3', 1), original, 'the version the plans rated keeps its words');
    const old = await t.app.inject(`/guidelines/${SLUG}/1.3?version=1`);
    assert.ok(old.body.includes(original.replace(/'/g, '&#39;')), 'and shows them');
    const member = await signIn(t.app, 'member@example.org', DEMO_PASSWORD);
    const refused = await t.app.inject({ url: form, headers: { cookie: member } });
    assert.equal(refused.statusCode, 403);
  });

  test('wording that plans rated never changes under them: a new version carries the change, the rated one keeps its words', async () => {
    const cookie = editor;
    // After the edit above: version 2 is the published one, version 1 superseded with its own words.
    assert.deepEqual(await versions(), [
      { number: 1, status: 'superseded' },
      { number: 2, status: 'published' },
    ]);
    assert.equal(await wording('1.3', 2), 'Fathers are included (edited).');
    assert.notEqual(await wording('1.3', 1), 'Fathers are included (edited).');
    const changes = await t.app.inject(`/guidelines/${SLUG}/changes`);
    assert.match(changes.body, /14 unchanged, 1 changed, 0 new, 0 removed/);

    // No plan is on version 2 yet: a second change is made in it, no version 3.
    const form2 = `/guidelines/${SLUG}/1.3/edit?version=2`;
    const shown = await t.app.inject({ url: form2, headers: { cookie } });
    assert.doesNotMatch(shown.body, /have rated version/);
    const again = await submit(
      t.app,
      form2,
      form2,
      { text: 'Fathers are included.', textCy: '' },
      cookie,
    );
    assert.equal(again.res.headers.location, `/guidelines/${SLUG}/1.3?version=2`);
    assert.equal(await wording('1.3', 2), 'Fathers are included.');
    assert.equal((await versions()).length, 2);

    // Version 1 is no longer the latest: its form says where to go, and a post changes nothing.
    const form1 = `/guidelines/${SLUG}/1.3/edit?version=1`;
    const old = await t.app.inject({ url: form1, headers: { cookie } });
    assert.match(old.body, /This is not the latest version/);
    assert.match(old.body, new RegExp(`href="/guidelines/${SLUG}/1.3/edit\\?version=2"`));
    assert.doesNotMatch(old.body, /<textarea/);
    const before1 = await wording('1.3', 1);
    const late = await submit(t.app, form2, form1, { text: 'Too late.', textCy: '' }, cookie);
    assert.equal(late.res.statusCode, 400);
    assert.match(
      late.res.body,
      /Only the latest version’s wording can change: change it in version 2/,
    );
    assert.match(late.res.body, /Too late\./, 'what was typed is kept');
    assert.match(
      late.res.body,
      /action="[^"]*\/1\.3\/edit\?version=2"/,
      'and saves into version 2',
    );
    assert.equal(await wording('1.3', 1), before1);

    // A plan moves to version 2: from then on, a change of the English words makes
    // version 3, while the Welsh text alone (a translation) changes in place.
    const [plan] = await t.database.query<{ id: string }>(
      `SELECT p.id FROM plans p JOIN plan_members m ON m.plan_id = p.id AND m.role = 'lead'
       JOIN users u ON u.id = m.user_id WHERE p.is_demo AND u.email = 'member@example.org' LIMIT 1`,
    );
    const [v2] = await t.database.query<{ id: string }>(
      `SELECT v.id FROM guideline_versions v JOIN guidelines g ON g.id = v.guideline_id
       WHERE g.slug = $1 AND v.number = 2`,
      [SLUG],
    );
    const found = (await t.app.services.accounts.approvedMemberByEmail('member@example.org'))!;
    const lead: CurrentUser = { ...found, role: 'member', approved: true, totpEnabled: false };
    assert.ok(
      await t.app.services.plans.newRound(lead, plan!.id, 'On version 2', { toVersionId: v2!.id }),
    );
    const welsh = await submit(
      t.app,
      form2,
      form2,
      { text: 'Fathers are included.', textCy: 'Mae tadau’n cael eu cynnwys.' },
      cookie,
    );
    assert.equal(welsh.res.headers.location, `/guidelines/${SLUG}/1.3?version=2`);
    assert.equal((await versions()).length, 2);
    const english = await submit(
      t.app,
      form2,
      form2,
      { text: 'Fathers are included from the start.', textCy: 'Mae tadau’n cael eu cynnwys.' },
      cookie,
    );
    assert.equal(english.res.headers.location, `/guidelines/${SLUG}/1.3?version=3`);
    assert.equal(await wording('1.3', 2), 'Fathers are included.');
    assert.equal(await wording('1.3', 3), 'Fathers are included from the start.');
  });

  test('a re-import cannot change the statements of a version plans rated; its label may change', async () => {
    const file = await t.app.services.guidelines.exportYaml(SLUG, 1);
    assert.ok(file);
    const before = (await wording('2.1', 1))!;
    const changed = file.replace(before, 'Rewritten after the plans rated it.');
    assert.notEqual(changed, file);
    const refused = await t.app.services.guidelines.importYaml(changed);
    assert.equal(refused.ok, false);
    assert.ok(!refused.ok);
    assert.equal(refused.problems[0]!.path, 'version.number');
    assert.match(
      refused.problems[0]!.message,
      /plans have rated version 1.*new version number \(4\)/,
    );
    assert.equal(await wording('2.1', 1), before, 'nothing stored');
    const relabelled = await t.app.services.guidelines.importYaml(
      file.replace(/^( {2}label: ).*$/m, '$1Illustrative first version (relabelled)'),
    );
    assert.ok(relabelled.ok);
    const [row] = await t.database.query<{ label: string }>(
      `SELECT v.label FROM guideline_versions v JOIN guidelines g ON g.id = v.guideline_id
       WHERE g.slug = $1 AND v.number = 1`,
      [SLUG],
    );
    assert.equal(row!.label, 'Illustrative first version (relabelled)');
    assert.equal(await wording('2.1', 1), before);
  });

  test('an approved member starts a plan through the form; problems are shown and nothing is made', async () => {
    const cookie = await signIn(t.app, 'parent@example.org', DEMO_PASSWORD);
    const count = async () =>
      (await t.database.query<{ n: number }>('SELECT count(*)::int AS n FROM plans'))[0]!.n;
    const before = await count();
    const bad = await submit(
      t.app,
      '/plans',
      '/plans',
      { title: 'Typed title', guideline: SLUG, area1: '', roundName: '' },
      cookie,
    );
    assert.equal(bad.res.statusCode, 400);
    assert.match(bad.res.body, /govuk-error-summary/);
    assert.match(bad.res.body, /Choose the local authority the plan covers/);
    assert.match(bad.res.body, /Choose at least one partner agency/);
    assert.match(bad.res.body, /value="Typed title"/);
    assert.equal(await count(), before);
    const [la] = await t.database.query<{ gss_code: string }>(
      `SELECT gss_code FROM local_authorities WHERE name = 'Swansea'`,
    );
    const body = new URLSearchParams({
      title: 'Swansea partnership',
      guideline: SLUG,
      area1: la!.gss_code,
      roundName: 'Baseline January 2027',
    });
    body.append('agencies', 'social_care');
    body.append('agencies', 'health');
    const { csrfFor } = await import('../../../test/helpers/app.ts');
    const { token, cookie: jar } = await csrfFor(t.app, '/plans', cookie);
    body.append('_csrf', token);
    const res = await t.app.inject({
      method: 'POST',
      url: '/plans',
      headers: { cookie: jar, 'content-type': 'application/x-www-form-urlencoded' },
      payload: body.toString(),
    });
    assert.equal(res.statusCode, 303);
    const page = await t.app.inject({ url: res.headers.location as string, headers: { cookie } });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Swansea partnership/);
    assert.match(page.body, /Your role: Plan lead/);
    assert.match(page.body, /Baseline January 2027/);
    const [plan] = await t.database.query<{ region: string; nation: string; agencies: string[] }>(
      `SELECT region, nation, agencies FROM plans WHERE title = 'Swansea partnership'`,
    );
    assert.equal(plan!.nation, 'Wales');
    assert.deepEqual(plan!.agencies, ['social_care', 'health']);
    // Only the two agencies rate a statement that speaks to them.
    const statement = await t.app.inject({
      url: `${res.headers.location!.split('?')[0]}/statements/1.3`,
      headers: { cookie },
    });
    assert.match(statement.body, /id="agency-social_care"/);
    assert.match(statement.body, /id="agency-health"/);
    assert.doesNotMatch(statement.body, /id="agency-voluntary"/);
  });

  test('a version’s words are kept between requests by the guideline’s time of change: a change made by another instance shows at once', async () => {
    // Another instance's repository on the same database.
    const other = createGuidelinesRepository(t.database.db);
    const g = (await other.guidelineBySlug(SLUG))!;
    const current = (await other.versions([g.id]))
      .filter((v) => v.status === 'published')
      .sort((a, b) => b.number - a.number)[0]!;
    const page = async () => (await t.app.inject(`/guidelines/${SLUG}`)).body;
    assert.doesNotMatch(await page(), /Changed elsewhere\./);
    // Written behind every repository's back, the guideline's time of change left as it was:
    // the words kept from the last request stay (so they are kept).
    await t.database.query(
      `UPDATE guideline_statements SET text = 'Behind the back.' WHERE version_id = $1 AND ref = '2.1'`,
      [current.id],
    );
    assert.doesNotMatch(await page(), /Behind the back\./);
    // Changed through the other instance: shown on the very next request, the version read afresh.
    assert.ok(
      await other.updateStatement(current.id, '2.2', { text: 'Changed elsewhere.', textCy: null }),
    );
    const after = await page();
    assert.match(after, /Changed elsewhere\./);
    assert.match(after, /Behind the back\./);
    // What is kept is shared by every request, so it cannot be changed.
    const stamp = (await other.guidelineBySlug(SLUG))!.updatedAt;
    const kept = await other.contentAsOf(current.id, stamp);
    assert.equal(await other.contentAsOf(current.id, stamp), kept);
    assert.throws(() => {
      (kept.statements[0] as { text: string }).text = 'x';
    }, TypeError);
  });
});
