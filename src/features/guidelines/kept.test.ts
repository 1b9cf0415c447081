import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import { signIn } from '../../../test/helpers/session.ts';
import type { CurrentUser } from '../../platform/auth.ts';
import { DEMO_PASSWORD } from '../accounts/seed.ts';
import { createPlansService, type PlansDeps } from './plans.ts';
import { createGuidelinesRepository } from './repository.ts';
import { DEMO_GUIDELINE_SLUG } from './seed.ts';

/**
 * A plan's pages and downloads are kept for the plan's state (plans.ts
 * PlanContext.state; routes.ts): drawn once, used again while nothing of the
 * plan, its guideline, the day or the reader's role has changed. The plan's
 * revision is kept by database triggers (migration 0022), so a change made by
 * any writer, the services or plain SQL, shows at once.
 */

/** A page as a reader sees it, less what is fresh on every response (tokens, nonces). */
const stable = (body: string) =>
  body.replace(/name="_csrf" value="[^"]+"/g, '').replace(/nonce="[^"]+"/g, '');

describe("a plan's kept pages", () => {
  let t: TestApp;
  let planId: string;
  let lead: CurrentUser;
  const jars: Record<string, string> = {};

  before(async () => {
    t = await testApp({ seed: true });
    const [plan] = await t.database.query<{ id: string }>(
      `SELECT p.id FROM plans p JOIN plan_members m ON m.plan_id = p.id
       JOIN users u ON u.id = m.user_id WHERE p.is_demo AND u.email = 'parent@example.org'`,
    );
    planId = plan!.id;
    const m = (await t.app.services.accounts.approvedMemberByEmail('member@example.org'))!;
    lead = { ...m, role: 'member', approved: true, totpEnabled: false };
    jars.lead = await signIn(t.app, 'member@example.org', DEMO_PASSWORD, undefined, '10.8.1.1');
    jars.viewer = await signIn(t.app, 'parent@example.org', DEMO_PASSWORD, undefined, '10.8.2.1');
  });
  after(async () => t.close());

  const read = async (path: string, who = 'lead') => {
    const res = await t.app.inject({
      url: `/plans/${planId}${path}`,
      headers: { cookie: jars[who]! },
    });
    assert.equal(res.statusCode, 200, `${path} as ${who}`);
    return stable(res.body);
  };
  /** The plan page, statement 1.1's, the chart, the report and the CSV, as the lead reads them. */
  const everything = async () => ({
    page: await read(''),
    statement: await read('/statements/1.1'),
    progress: await read('/progress'),
    report: await read('/report'),
    csv: await read('/export.csv'),
  });
  const latestRound = async () =>
    (
      await t.database.query<{ id: string }>(
        'SELECT id FROM plan_rounds WHERE plan_id = $1 ORDER BY position DESC LIMIT 1',
        [planId],
      )
    )[0]!.id;

  test('kept while nothing changes: a write the triggers do not see is not shown', async () => {
    const first = await everything();
    assert.deepEqual(await everything(), first, 'read again, the same');
    // With the plan's triggers off, a new action does not move the revision: the kept
    // pages and downloads are used, without it. (This is what the triggers are for.)
    await t.database.query('ALTER TABLE plan_actions DISABLE TRIGGER USER');
    try {
      await t.database.query(
        `INSERT INTO plan_actions (plan_id, title, owner, agency, due_on)
         VALUES ($1, 'Unseen by the triggers', 'Someone', 'health', '2030-01-01')`,
        [planId],
      );
    } finally {
      await t.database.query('ALTER TABLE plan_actions ENABLE TRIGGER USER');
    }
    const kept = await everything();
    assert.ok(!kept.csv.includes('Unseen by the triggers'), 'the kept CSV');
    assert.ok(!kept.report.includes('Unseen by the triggers'), 'the kept report');
    // Any change the triggers see moves it, and everything is drawn afresh.
    await t.database.query(`UPDATE plans SET title = 'Renamed in SQL' WHERE id = $1`, [planId]);
    const fresh = await everything();
    assert.ok(fresh.csv.includes('Unseen by the triggers'));
    assert.ok(fresh.report.includes('Unseen by the triggers'));
    assert.match(fresh.page, /<h1 class="govuk-heading-xl">Renamed in SQL/);
  });

  test('a change by any writer shows at once: ratings, evidence, actions, rounds', async () => {
    let before = await everything();
    /** Everything read again after a change: the CSV always differs, the page if it shows it. */
    const changed = async (what: string, check: (after: typeof before) => void, onPage = true) => {
      const after = await everything();
      assert.ok(after.csv !== before.csv, `${what}: the CSV is drawn afresh`);
      if (onPage) assert.ok(after.page !== before.page, `${what}: the plan page is drawn afresh`);
      check(after);
      before = after;
    };
    // A rating, through the service.
    const round = await latestRound();
    const [rating] = await t.database.query<{
      statement_ref: string;
      agency: string;
      rating: string;
    }>(
      `SELECT statement_ref, agency, rating FROM plan_ratings WHERE round_id = $1
       ORDER BY statement_ref, agency LIMIT 1`,
      [round],
    );
    const other = rating!.rating === 'not' ? 'fully' : 'not';
    assert.deepEqual(
      await t.app.services.plans.rate(lead, planId, rating!.statement_ref, {
        agency: rating!.agency as 'health',
        rating: other,
        know: 'Changed for the kept-pages test',
        howKnow: '',
        willDo: '',
      }),
      { ok: true },
    );
    assert.equal(rating!.statement_ref, '1.1');
    await changed('a rating through the service', (a) => {
      assert.ok(a.csv.includes('Changed for the kept-pages test'));
      assert.ok(a.statement.includes('Changed for the kept-pages test'), "the statement's page");
    });
    // A rating, in SQL.
    await t.database.query(
      `UPDATE plan_ratings SET know = 'Changed in SQL' WHERE round_id = $1 AND statement_ref = $2 AND agency = $3`,
      [round, rating!.statement_ref, rating!.agency],
    );
    // (What the agency knows is in the downloads, not on the plan page.)
    await changed('a rating in SQL', (a) => assert.ok(a.csv.includes('Changed in SQL')), false);
    // Evidence past its review date: the statement needs review.
    const reviews = (before.page.match(/Needs review|needs review/g) ?? []).length;
    await t.database.query(
      `INSERT INTO plan_evidence (rating_id, description, review_by)
       SELECT id, 'Old evidence', '2000-01-01' FROM plan_ratings
       WHERE round_id = $1 AND statement_ref = $2 AND agency = $3`,
      [round, rating!.statement_ref, rating!.agency],
    );
    await changed('evidence', (a) =>
      assert.ok((a.page.match(/Needs review|needs review/g) ?? []).length > reviews),
    );
    // An action, through the service, then deleted in SQL.
    const action = await t.app.services.plans.addAction(lead, planId, {
      title: 'An action for the kept-pages test',
      owner: 'A lead',
      agency: 'health',
      dueOn: '2030-01-01',
      status: 'not_started',
    });
    assert.ok(action);
    await changed('an action added', (a) =>
      assert.ok(a.csv.includes('An action for the kept-pages test')),
    );
    await t.database.query('DELETE FROM plan_actions WHERE id = $1', [action.id]);
    await changed('an action deleted', (a) =>
      assert.ok(!a.csv.includes('An action for the kept-pages test')),
    );
    // A new round.
    assert.ok(await t.app.services.plans.newRound(lead, planId, 'Kept-pages round'));
    await changed('a new round', (a) => assert.ok(a.page.includes('Kept-pages round')));
  });

  test("the guideline's wording and the reader's role and language are part of the state", async () => {
    // Each reader's role: the lead's kept page is not the viewer's.
    const leadPage = await read('');
    const viewerPage = await read('', 'viewer');
    assert.match(leadPage, /action="\/plans\/[^"]+\/rounds"/, "the lead's page starts a round");
    assert.doesNotMatch(viewerPage, /action="\/plans\/[^"]+\/rounds"/, "the viewer's does not");
    // The guideline's wording, changed on the web by an editor (the Welsh, in place).
    const welsh = await read('?lang=cy');
    const [{ ref, number }] = (await t.database.query<{ ref: string; number: number }>(
      `SELECT s.ref, v.number FROM plan_rounds r
       JOIN guideline_versions v ON v.id = r.version_id
       JOIN guideline_stages g ON g.version_id = v.id
       JOIN guideline_statements s ON s.stage_id = g.id
       WHERE r.plan_id = $1 ORDER BY r.position DESC, s.ref LIMIT 1`,
      [planId],
    )) as [{ ref: string; number: number }];
    const [{ text }] = (await t.database.query<{ text: string }>(
      `SELECT s.text FROM guideline_statements s JOIN guideline_stages g ON g.id = s.stage_id
       JOIN guideline_versions v ON v.id = g.version_id JOIN guidelines d ON d.id = v.guideline_id
       WHERE d.slug = $1 AND v.number = $2 AND s.ref = $3`,
      [DEMO_GUIDELINE_SLUG, number, ref],
    )) as [{ text: string }];
    const editor: CurrentUser = { ...lead, role: 'editor' };
    assert.deepEqual(
      await t.app.services.guidelines.editStatement(editor, DEMO_GUIDELINE_SLUG, number, ref, {
        text,
        textCy: 'Geiriad newydd y prawf',
      }),
      { version: number },
    );
    const after = await read('?lang=cy');
    assert.ok(after !== welsh, 'the Welsh page is drawn afresh');
    assert.ok(after.includes('Geiriad newydd y prawf'));
    assert.ok(
      !(await read('')).includes('Geiriad newydd y prawf'),
      'the English page is in English',
    );
  });

  test('the day is part of the state: what is overdue or due for review changes with it', async () => {
    const repo = createGuidelinesRepository(t.database.db);
    const on = (day: string) =>
      createPlansService({ repo, today: () => day } as unknown as PlansDeps);
    const a = await on('2026-12-07').context(lead, planId);
    const b = await on('2026-12-08').context(lead, planId);
    assert.ok(a && b);
    assert.notEqual(a.state, b.state);
    assert.equal((await on('2026-12-07').context(lead, planId))!.state, a.state);
  });

  test('every table that refers to a plan, a round or a rating moves the revision', async () => {
    const children = await t.database.query<{ child: string; parent: string }>(
      `SELECT DISTINCT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent
       FROM pg_constraint c
       WHERE c.contype = 'f' AND c.confrelid::regclass::text IN ('plans', 'plan_rounds', 'plan_ratings')`,
    );
    assert.ok(children.length >= 7, `the plan's tables are found (${children.length})`);
    for (const { child } of children) {
      const triggers = await t.database.query<{ events: string }>(
        `SELECT string_agg(CASE WHEN t.tgtype & 4 <> 0 THEN 'insert' WHEN t.tgtype & 8 <> 0 THEN 'delete'
                WHEN t.tgtype & 16 <> 0 THEN 'update' END, ',' ORDER BY 1) AS events
         FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
         WHERE t.tgrelid = $1::regclass AND NOT t.tgisinternal AND p.proname LIKE 'plans_revise_by_%'`,
        [child],
      );
      assert.deepEqual(
        (triggers[0]?.events ?? '').split(',').sort(),
        ['delete', 'insert', 'update'],
        `${child}: a trigger for each change`,
      );
    }
  });
});
