import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import * as XLSX from 'xlsx';
import { csrfFor, type TestApp, testApp } from '../../../test/helpers/app.ts';
import { linkFromMail } from '../../../test/helpers/mail.ts';
import { signIn, submit } from '../../../test/helpers/session.ts';
import type { CurrentUser } from '../../platform/auth.ts';
import { DEMO_PASSWORD } from '../accounts/seed.ts';
import { parseGuidelineYaml, toGuidelineYaml } from './format.ts';
import { createGuidelinesRepository } from './repository.ts';
import { DEMO_GUIDELINE_FILE, DEMO_GUIDELINE_SLUG, rateEverything } from './seed.ts';

/**
 * Local action plans against the demo content: privacy (every plan route ×
 * visitor, outsider, moderator), ratings and their rules, actions, rounds,
 * the chart's numbers against counts worked out here from the stored
 * ratings, a new guideline version, exports read by a second library,
 * invitations, the national picture's threshold, and personal data.
 */

const OUTSIDER = 'outsider@example.org';
const PASSWORD = 'a-long-test-password-42';
const SLUG = DEMO_GUIDELINE_SLUG;

describe('local action plans', () => {
  let t: TestApp;
  let planId: string;
  let planTitle: string;
  let actionId: string;
  const jars: Record<string, string> = {};
  const ip = (n: number) => `10.9.${n}.1`;

  before(async () => {
    t = await testApp({ seed: true });
    await t.app.services.accounts.createUserDirect({
      email: OUTSIDER,
      role: 'member',
      displayName: 'Outside Member',
      password: PASSWORD,
    });
    const [plan] = await t.database.query<{ id: string; title: string }>(
      `SELECT p.id, p.title FROM plans p JOIN plan_members m ON m.plan_id = p.id
       JOIN users u ON u.id = m.user_id WHERE p.is_demo AND u.email = 'parent@example.org'`,
    );
    planId = plan!.id;
    planTitle = plan!.title;
    const [action] = await t.database.query<{ id: string }>(
      `SELECT id FROM plan_actions WHERE plan_id = $1 ORDER BY title LIMIT 1`,
      [planId],
    );
    actionId = action!.id;
    jars.lead = await signIn(t.app, 'member@example.org', DEMO_PASSWORD, undefined, ip(1));
    jars.viewer = await signIn(t.app, 'parent@example.org', DEMO_PASSWORD, undefined, ip(2));
    jars.outsider = await signIn(t.app, OUTSIDER, PASSWORD, undefined, ip(3));
  });
  after(async () => t.close());

  const get = (url: string, who?: string) =>
    t.app.inject({ method: 'GET', url, headers: who ? { cookie: jars[who]! } : {} });
  const post = async (
    url: string,
    who: string | undefined,
    fields: Record<string, string> = {},
  ) => {
    const { token, cookie } = await csrfFor(
      t.app,
      who ? '/account/sign-out' : '/account/sign-in',
      who ? jars[who] : '',
    );
    return t.app.inject({
      method: 'POST',
      url,
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ ...fields, _csrf: token }).toString(),
    });
  };
  const userId = async (email: string) =>
    (await t.database.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [email]))[0]!
      .id;

  test('every plan route answers 404 to a visitor, an outsider and a moderator, and shows nothing of the plan', async () => {
    jars.moderator = await signIn(
      t.app,
      'moderator@example.org',
      DEMO_PASSWORD,
      undefined,
      ip(4),
    ).catch(() => ''); // staff must set up two-step sign-in: then their pages redirect; plans still 404
    const routes = t.app.platform.routes.routes.filter((r) => r.url.startsWith('/plans/:id'));
    assert.ok(routes.length >= 18, `the plan routes are read (${routes.length})`);
    const member = await userId('member@example.org');
    const checked: string[] = [];
    for (const route of routes) {
      const url = route.url
        .replace(':id', planId)
        .replace(':ref', '1.1')
        .replace(':actionId', actionId)
        .replace(':userId', member);
      for (const who of [undefined, 'outsider', 'moderator'] as const) {
        if (who === 'moderator' && !jars.moderator) continue;
        const res = route.method === 'GET' ? await get(url, who) : await post(url, who);
        assert.equal(res.statusCode, 404, `${route.method} ${url} as ${who ?? 'visitor'}`);
        assert.ok(!res.body.includes(planTitle), `no title in ${route.method} ${url}`);
        checked.push(`${route.method} ${route.url} ${who ?? 'visitor'}`);
      }
      // Its own lead gets the page (or the form's answer), never a 404.
      if (route.method === 'GET') {
        const res = await get(url, 'lead');
        assert.equal(res.statusCode, 200, `${url} as lead`);
      }
    }
    assert.ok(checked.length >= routes.length * 2);
  });

  test('a moderator with two-step sign-in also gets 404 on a plan', async () => {
    const { enableTwoFactor } = await import('../../../test/helpers/totp.ts');
    const secret = await enableTwoFactor(t.app, 'moderator@example.org');
    const jar = await signIn(t.app, 'moderator@example.org', DEMO_PASSWORD, secret, ip(5));
    for (const path of ['', '/members', '/progress', '/report', '/export.csv', '/export.xlsx']) {
      const res = await t.app.inject({ url: `/plans/${planId}${path}`, headers: { cookie: jar } });
      assert.equal(res.statusCode, 404, path);
    }
    const list = await t.app.inject({ url: '/plans', headers: { cookie: jar } });
    assert.ok(!list.body.includes(planTitle), 'not in their list of plans');
  });

  test('plans never appear in feeds, on the home page or in the guideline pages', async () => {
    const paths = ['/', '/guidelines', `/guidelines/${SLUG}`, `/guidelines/${SLUG}/progress`];
    for (const r of t.app.platform.routes.routes)
      if (r.method === 'GET' && (r.url.endsWith('.atom') || r.url === '/search'))
        paths.push(r.url === '/search' ? '/search?q=partnership' : r.url);
    for (const p of paths) {
      const res = await get(p, 'outsider');
      assert.ok(!res.body.includes(planTitle), p);
      assert.ok(!res.body.includes(planId), p);
    }
  });

  test('a member of the plan reads it; a viewer cannot change it', async () => {
    const page = await get(`/plans/${planId}`, 'viewer');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Viewer/);
    const res = await post(`/plans/${planId}/statements/1.1/rating`, 'viewer', {
      agency: 'social_care',
      rating: 'fully',
    });
    assert.equal(res.statusCode, 403);
  });

  test('not applicable needs a reason: the form comes back with the error and what was typed, nothing written', async () => {
    const before = await t.database.query('SELECT * FROM plan_ratings ORDER BY id');
    const res = await post(`/plans/${planId}/statements/1.1/rating`, 'lead', {
      agency: 'health',
      rating: 'na',
      know: 'Typed text stays',
    });
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /govuk-error-summary/);
    assert.match(res.body, /Say why this is not applicable/);
    assert.match(res.body, /Typed text stays/);
    assert.deepEqual(await t.database.query('SELECT * FROM plan_ratings ORDER BY id'), before);
    const ok = await post(`/plans/${planId}/statements/1.1/rating`, 'lead', {
      agency: 'health',
      rating: 'na',
      naReason: 'Not ours',
      know: 'k',
      howKnow: 'h',
      willDo: 'w',
    });
    assert.equal(ok.statusCode, 303);
  });

  test('not applicable needs a reason in the service too, whoever calls it', async () => {
    const lead = (await t.app.services.accounts.approvedMemberByEmail('member@example.org'))!;
    const actor: CurrentUser = { ...lead, role: 'member', approved: true, totpEnabled: false };
    const before = await t.database.query('SELECT * FROM plan_ratings ORDER BY id');
    for (const naReason of [undefined, '', '   '])
      assert.deepEqual(
        await t.app.services.plans.rate(actor, planId, '1.1', {
          agency: 'health',
          rating: 'na',
          naReason,
          know: '',
          howKnow: '',
          willDo: '',
        }),
        { ok: false, field: 'naReason', key: 'guidelines.errors.naReason' },
      );
    assert.deepEqual(await t.database.query('SELECT * FROM plan_ratings ORDER BY id'), before);
    assert.deepEqual(
      await t.app.services.plans.rate(actor, planId, '1.1', {
        agency: 'health',
        rating: 'na',
        naReason: '  Not ours  ',
        know: '',
        howKnow: '',
        willDo: '',
      }),
      { ok: true },
    );
    const [row] = await t.database.query<{ na_reason: string }>(
      `SELECT r.na_reason FROM plan_ratings r JOIN plan_rounds ro ON ro.id = r.round_id
       WHERE ro.plan_id = $1 AND r.statement_ref = '1.1' AND r.agency = 'health'
       ORDER BY ro.position DESC LIMIT 1`,
      [planId],
    );
    assert.equal(row!.na_reason, 'Not ours');
  });

  test('agencies that disagree are flagged; evidence past its review date shows as needing review', async () => {
    await post(`/plans/${planId}/statements/2.1/rating`, 'lead', {
      agency: 'health',
      rating: 'fully',
    });
    await post(`/plans/${planId}/statements/2.1/rating`, 'lead', {
      agency: 'social_care',
      rating: 'not',
    });
    await post(`/plans/${planId}/statements/2.1/evidence`, 'lead', {
      agency: 'health',
      description: 'An old audit',
      'reviewBy-day': '1',
      'reviewBy-month': '1',
      'reviewBy-year': '2020',
    });
    const page = await get(`/plans/${planId}/statements/2.1`, 'lead');
    assert.match(page.body, /Agencies disagree/);
    assert.match(page.body, /needs review/);
    const bad = await post(`/plans/${planId}/statements/2.1/evidence`, 'lead', {
      agency: 'health',
      description: 'x',
      'reviewBy-day': '31',
      'reviewBy-month': '2',
      'reviewBy-year': '2027',
    });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /review-by date as a real date/);
  });

  test("a statement's page shows its own ratings, evidence and actions, and none of another's", async () => {
    const rate = (ref: string, rating: string) =>
      post(`/plans/${planId}/statements/${ref}/rating`, 'lead', { agency: 'health', rating });
    const evidence = (ref: string, description: string) =>
      post(`/plans/${planId}/statements/${ref}/evidence`, 'lead', {
        agency: 'health',
        description,
        'reviewBy-day': '1',
        'reviewBy-month': '1',
        'reviewBy-year': '2031',
      });
    const action = (ref: string, title: string) =>
      post(`/plans/${planId}/actions`, 'lead', {
        title,
        owner: 'Lead midwife',
        agency: 'health',
        status: 'not_started',
        statementRef: ref,
        'dueOn-day': '1',
        'dueOn-month': '6',
        'dueOn-year': '2031',
      });
    for (const res of [
      await rate('2.2', 'partly'),
      await rate('2.3', 'not'),
      await evidence('2.2', 'Audit of two point two'),
      await evidence('2.3', 'Audit of two point three'),
      await action('2.2', 'Action for two point two'),
      await action('2.3', 'Action for two point three'),
    ])
      assert.equal(res.statusCode, 303);
    const page = (await get(`/plans/${planId}/statements/2.2`, 'lead')).body;
    assert.match(page, /Audit of two point two/);
    assert.match(page, /Action for two point two/);
    assert.doesNotMatch(page, /two point three/);
    assert.match(page, /<input[^>]*value="partly"[^>]*checked/);
    const other = (await get(`/plans/${planId}/statements/2.3`, 'lead')).body;
    assert.match(other, /Audit of two point three/);
    assert.match(other, /Action for two point three/);
    assert.doesNotMatch(other, /two point two/);
    assert.match(other, /<input[^>]*value="not"[^>]*checked/);
    // The plan page still shows both statements' ratings and both actions.
    const plan = (await get(`/plans/${planId}`, 'lead')).body;
    assert.match(plan, /Action for two point two/);
    assert.match(plan, /Action for two point three/);
  });

  test('actions: RAG from dates and status, overdue first, evidenced only after the lead signs off', async () => {
    const res = await post(`/plans/${planId}/actions`, 'lead', {
      title: 'Write the pathway',
      owner: 'Head of service',
      agency: 'health',
      status: 'in_progress',
      'dueOn-day': '1',
      'dueOn-month': '1',
      'dueOn-year': '2021',
    });
    assert.equal(res.statusCode, 303);
    const [row] = await t.database.query<{ id: string; evidence_status: string }>(
      `SELECT id, evidence_status FROM plan_actions WHERE title = 'Write the pathway'`,
    );
    const page = await get(`/plans/${planId}`, 'lead');
    const table = page.body.slice(page.body.indexOf('sp-actions'));
    assert.ok(
      table.indexOf('Write the pathway') < table.indexOf('Demo action 1'),
      'the overdue action comes first',
    );
    assert.match(
      table.slice(table.indexOf('Write the pathway'), table.indexOf('Write the pathway') + 2000),
      /Red/,
    );
    // Evidence submitted is not "evidenced"; the lead signs it off.
    await post(`/plans/${planId}/actions/${row!.id}`, 'lead', {
      title: 'Write the pathway',
      owner: 'Head of service',
      agency: 'health',
      status: 'delivered',
      'dueOn-day': '1',
      'dueOn-month': '1',
      'dueOn-year': '2021',
      evidenceSubmitted: 'yes',
    });
    const [submitted] = await t.database.query<{ evidence_status: string }>(
      'SELECT evidence_status FROM plan_actions WHERE id = $1',
      [row!.id],
    );
    assert.equal(submitted!.evidence_status, 'submitted');
    assert.equal(
      (await post(`/plans/${planId}/actions/${row!.id}/sign-off`, 'viewer')).statusCode,
      403,
    );
    assert.equal(
      (await post(`/plans/${planId}/actions/${row!.id}/sign-off`, 'lead')).statusCode,
      303,
    );
    const [signed] = await t.database.query<{ evidence_status: string; signed_off_on: string }>(
      `SELECT evidence_status, signed_off_on::text FROM plan_actions WHERE id = $1`,
      [row!.id],
    );
    assert.equal(signed!.evidence_status, 'signed_off');
    assert.match(signed!.signed_off_on, /^\d{4}-\d{2}-\d{2}$/);
  });

  /** ref → stage key, from the guideline file itself (not from the database). */
  const stageOfRef = () => {
    const parsed = parseGuidelineYaml(readFileSync(DEMO_GUIDELINE_FILE, 'utf8'));
    assert.ok(parsed.ok);
    return new Map(parsed.data.stages.flatMap((s) => s.statements.map((st) => [st.ref, s.key])));
  };

  test('the rounds chart shows the counts worked out here from the stored ratings', async () => {
    const stageOf = stageOfRef();
    const ratings = await t.database.query<{
      position: number;
      ref: string;
      rating: string;
      state: string;
    }>(
      `SELECT ro.position, r.statement_ref AS ref, r.rating, r.state
       FROM plan_ratings r JOIN plan_rounds ro ON ro.id = r.round_id WHERE ro.plan_id = $1`,
      [planId],
    );
    const expected = new Map<string, number>();
    for (const r of ratings) {
      if (r.state !== 'confirmed' || r.rating === 'na') continue;
      const key = `${stageOf.get(r.ref)}|${r.position}|${r.rating}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    const page = await get(`/plans/${planId}/progress`, 'lead');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<svg class="sp-chart__svg" role="img"/);
    let cells = 0;
    for (const table of page.body.split('data-stage="').slice(1)) {
      const stage = table.slice(0, table.indexOf('"'));
      for (const row of table.split('data-round="').slice(1)) {
        const round = Number(row.slice(0, row.indexOf('"')));
        for (const rating of ['fully', 'partly', 'not']) {
          const m = new RegExp(`data-rating="${rating}">(\\d+)<`).exec(row);
          assert.ok(m, `${stage} round ${round} ${rating}`);
          assert.equal(
            Number(m[1]),
            expected.get(`${stage}|${round}|${rating}`) ?? 0,
            `${stage} ${round} ${rating}`,
          );
          cells++;
        }
      }
    }
    assert.equal(cells, 3 * 3 * 3, 'three stages × three rounds × three ratings');
    assert.ok([...expected.values()].reduce((a, b) => a + b, 0) > 50, 'the demo has ratings');
  });

  test('the .xlsx opens with a second library and holds every statement; the CSV too', async () => {
    const parsed = parseGuidelineYaml(readFileSync(DEMO_GUIDELINE_FILE, 'utf8'));
    assert.ok(parsed.ok);
    const statements = parsed.data.stages.flatMap((s) => s.statements);
    const res = await get(`/plans/${planId}/export.xlsx`, 'lead');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /spreadsheetml/);
    const book = XLSX.read(res.rawPayload, { type: 'buffer' });
    assert.deepEqual(book.SheetNames, ['Baseline assessment', 'Actions', 'Rounds']);
    const rows = XLSX.utils.sheet_to_json<string[]>(book.Sheets['Baseline assessment']!, {
      header: 1,
    });
    const header = rows.findIndex((r) => r[0] === 'Stage');
    const body = rows.slice(header + 1);
    for (const st of statements) {
      const found = body.filter((r) => r[1] === st.ref);
      assert.ok(found.length >= 1, `statement ${st.ref} in the spreadsheet`);
      assert.equal(found[0]![2], st.text);
    }
    const actions = XLSX.utils.sheet_to_json<string[]>(book.Sheets.Actions!, { header: 1 });
    const [{ n }] = (await t.database.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM plan_actions WHERE plan_id = $1',
      [planId],
    )) as [{ n: number }];
    assert.equal(actions.length - 1, n, 'every action');
    const csv = await get(`/plans/${planId}/export.csv`, 'lead');
    for (const st of statements) assert.ok(csv.body.includes(st.text.split(',')[0]!), st.ref);
  });

  test('the .xlsx of a plan downloaded again unchanged is the same file; a change is in the next one at once', async () => {
    const first = await get(`/plans/${planId}/export.xlsx`, 'lead');
    const again = await get(`/plans/${planId}/export.xlsx`, 'lead');
    assert.ok(Buffer.compare(first.rawPayload, again.rawPayload) === 0, 'the same bytes');
    const [action] = await t.database.query<{ id: string; title: string }>(
      'SELECT id, title FROM plan_actions WHERE plan_id = $1 ORDER BY id LIMIT 1',
      [planId],
    );
    await t.database.query('UPDATE plan_actions SET title = $2 WHERE id = $1', [
      action!.id,
      'Renamed in the export test',
    ]);
    try {
      const changed = await get(`/plans/${planId}/export.xlsx`, 'lead');
      const titles = XLSX.utils
        .sheet_to_json<string[]>(
          XLSX.read(changed.rawPayload, { type: 'buffer' }).Sheets.Actions!,
          {
            header: 1,
          },
        )
        .map((r) => r[0]);
      assert.ok(titles.includes('Renamed in the export test'), 'the new title');
      const [{ left }] = (await t.database.query<{ left: number }>(
        'SELECT count(*)::int AS left FROM plan_actions WHERE plan_id = $1 AND title = $2',
        [planId, action!.title],
      )) as [{ left: number }];
      assert.equal(titles.filter((x) => x === action!.title).length, left, 'the old title gone');
      // In Welsh: another file, its own sheet names.
      const cy = await get(`/plans/${planId}/export.xlsx?lang=cy`, 'lead');
      assert.notDeepEqual(XLSX.read(cy.rawPayload, { type: 'buffer' }).SheetNames, [
        'Baseline assessment',
        'Actions',
        'Rounds',
      ]);
    } finally {
      await t.database.query('UPDATE plan_actions SET title = $2 WHERE id = $1', [
        action!.id,
        action!.title,
      ]);
    }
  });

  test('the exports hold every round: each stored rating once, with its round', async () => {
    const stored = await t.database.query<{
      round: string;
      ref: string;
      agency: string;
      rating: string;
    }>(
      `SELECT ro.name AS round, r.statement_ref AS ref, r.agency, r.rating
       FROM plan_ratings r JOIN plan_rounds ro ON ro.id = r.round_id WHERE ro.plan_id = $1`,
      [planId],
    );
    const rounds = new Set(stored.map((r) => r.round));
    assert.ok(rounds.size >= 3, 'the demo plan has three rounds');
    const res = await get(`/plans/${planId}/export.xlsx`, 'lead');
    const book = XLSX.read(res.rawPayload, { type: 'buffer' });
    const [header, ...body] = XLSX.utils.sheet_to_json<string[]>(book.Sheets.Rounds!, {
      header: 1,
    });
    assert.deepEqual(header!.slice(0, 7), [
      'Round',
      'Version',
      'Stage',
      'Number',
      'Agency',
      'Rating',
      'State',
    ]);
    const labels: Record<string, string> = {
      fully: 'Fully in place',
      partly: 'Partly in place',
      not: 'Not in place',
      na: 'Not applicable',
    };
    const agencyNames = new Map<string, string>();
    const en = JSON.parse(readFileSync(new URL('./locales/en.json', import.meta.url), 'utf8')) as {
      agencies: Record<string, string>;
      ratings: Record<string, string>;
    };
    for (const [k, v] of Object.entries(en.agencies)) agencyNames.set(k, v);
    for (const [k, v] of Object.entries(en.ratings)) if (k in labels) labels[k] = v;
    const key = (round: string, ref: string, agency: string) => `${round}|${ref}|${agency}`;
    const rated = new Map(
      body.filter((r) => r[5]).map((r) => [key(r[0]!, String(r[3]), r[4]!), r[5]!]),
    );
    for (const r of stored)
      assert.equal(
        rated.get(key(r.round, r.ref, agencyNames.get(r.agency)!)),
        labels[r.rating],
        `${r.round} ${r.ref} ${r.agency}`,
      );
    assert.equal(rated.size, stored.length, 'no rating twice, none made up');
    assert.deepEqual(new Set(body.map((r) => r[0])), rounds, 'every round, by name');
    const csv = await get(`/plans/${planId}/export.csv`, 'lead');
    for (const round of rounds) assert.ok(csv.body.includes(round), `CSV has ${round}`);
  });

  test('the plan page shows its actions 50 at a time, overdue first; the report holds them all', async () => {
    // 60 more actions: 5 overdue (due in 2001), 55 due in 2040.
    await t.database.query(
      `INSERT INTO plan_actions (plan_id, title, owner, agency, due_on)
       SELECT $1, 'Paged action ' || lpad(g::text, 2, '0'), 'Owner', 'health',
         CASE WHEN g <= 5 THEN date '2001-01-01' + g ELSE date '2040-01-01' + g END
       FROM generate_series(1, 60) AS g`,
      [planId],
    );
    const [{ n } = { n: 0 }] = await t.database.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM plan_actions WHERE plan_id = $1',
      [planId],
    );
    const rows = (body: string) => {
      const table = body.slice(
        body.indexOf('sp-actions'),
        body.indexOf('</table>', body.indexOf('sp-actions')),
      );
      return (table.match(/<tr class="govuk-table__row">/g) ?? []).length - 1; // less the header row
    };
    const first = (await get(`/plans/${planId}`, 'lead')).body;
    assert.equal(rows(first), 50);
    assert.match(first, new RegExp(`Actions 1 to 50 of ${n}`));
    assert.match(first, /Paged action 01/, 'overdue ones come first');
    assert.match(first, /aria-label="Pages of actions"/);
    assert.match(first, new RegExp(`href="/plans/${planId}\\?page=2#actions"`));
    const last = Math.ceil(n / 50);
    const end = (await get(`/plans/${planId}?page=${last}`, 'lead')).body;
    assert.equal(rows(end), n - (last - 1) * 50);
    assert.match(end, new RegExp(`Actions ${(last - 1) * 50 + 1} to ${n} of ${n}`));
    assert.doesNotMatch(end, /Paged action 01/);
    // Past the end: the last page; nonsense: the first.
    assert.equal(rows((await get(`/plans/${planId}?page=999`, 'lead')).body), n - (last - 1) * 50);
    assert.equal(rows((await get(`/plans/${planId}?page=x`, 'lead')).body), 50);
    const cy = (await get(`/plans/${planId}?lang=cy`, 'lead')).body;
    assert.match(cy, new RegExp(`Camau gweithredu 1 i 50 o ${n}`));
    const report = (await get(`/plans/${planId}/report`, 'lead')).body;
    for (let g = 1; g <= 60; g++)
      assert.match(report, new RegExp(`Paged action ${String(g).padStart(2, '0')}`));
    await t.database.query(`DELETE FROM plan_actions WHERE title LIKE 'Paged action %'`);
  });

  test('the printable report lists every statement', async () => {
    const res = await get(`/plans/${planId}/report`, 'lead');
    assert.equal(res.statusCode, 200);
    for (const ref of stageOfRef().keys())
      assert.match(res.body, new RegExp(`>${ref.replace('.', '\\.')} `));
  });

  test('the printable report shows every round', async () => {
    const res = await get(`/plans/${planId}/report`, 'lead');
    const rounds = await t.database.query<{ name: string }>(
      'SELECT name FROM plan_rounds WHERE plan_id = $1',
      [planId],
    );
    const section = res.body.slice(res.body.indexOf('id="rounds"'));
    assert.ok(res.body.includes('id="rounds"'));
    for (const r of rounds) assert.ok(section.includes(`>${r.name}<`), r.name);
  });

  test('an invitation by email lets an approved member join with the role offered', async () => {
    const res = await post(`/plans/${planId}/members`, 'lead', {
      email: OUTSIDER,
      role: 'contributor',
    });
    assert.equal(res.statusCode, 303);
    const path = await linkFromMail(t.app, OUTSIDER, '/plans/invitations/');
    const visitor = await get(path);
    assert.equal(visitor.statusCode, 200);
    assert.ok(
      !visitor.body.includes(planTitle),
      'a visitor holding the link does not see the title',
    );
    const offer = await get(path, 'outsider');
    assert.match(offer.body, /Join the plan/);
    const { res: joined } = await submit(t.app, path, path, {}, jars.outsider!);
    assert.equal(joined.statusCode, 303);
    assert.equal((await get(`/plans/${planId}`, 'outsider')).statusCode, 200);
    // A contributor rates but cannot sign off or invite.
    assert.equal(
      (
        await post(`/plans/${planId}/members`, 'outsider', {
          email: 'x@example.org',
          role: 'viewer',
        })
      ).statusCode,
      403,
    );
    assert.equal((await get(path, 'outsider')).statusCode, 404, 'the link works once');
  });

  test('feedback to the publisher: editors see it per statement', async () => {
    const res = await post(`/plans/${planId}/statements/2.4/feedback`, 'lead', {
      reason: 'court_timetables',
      detail: 'Hearings are listed within days of the birth here.',
    });
    assert.equal(res.statusCode, 303);
    const { enableTwoFactor } = await import('../../../test/helpers/totp.ts');
    const secret = await enableTwoFactor(t.app, 'editor@example.org');
    jars.editor = await signIn(t.app, 'editor@example.org', DEMO_PASSWORD, secret, ip(6));
    const page = await get(`/guidelines/${SLUG}/feedback`, 'editor');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Court timetables/);
    assert.match(page.body, /Hearings are listed within days/);
    assert.equal((await get(`/guidelines/${SLUG}/feedback`, 'lead')).statusCode, 403);
  });

  test('the national picture: nothing for 4 areas, figures for 5, no area named', async () => {
    const plans = t.app.services.plans;
    const repo = createGuidelinesRepository(t.database.db);
    const lead = (await t.app.services.accounts.approvedMemberByEmail('member@example.org'))!;
    const actor: CurrentUser = { ...lead, role: 'member', approved: true, totpEnabled: false };
    const authorities = await t.app.services.services.currentAuthorities();
    const add = async (i: number) => {
      const a = authorities[20 + i * 9]!;
      const created = await plans.create(actor, {
        title: `Area ${i} test plan`,
        guidelineSlug: SLUG,
        areaCodes: [a.gssCode],
        agencies: ['social_care', 'health'],
        roundName: 'Baseline',
      });
      assert.ok(created.ok);
      await rateEverything({ repo, plans }, actor, created.plan.id, i % 3, i);
    };
    const [{ n }] = (await t.database.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM plans',
    )) as [{ n: number }];
    for (let i = n; i < 4; i++) await add(i);
    for (const who of [undefined, 'editor']) {
      const four = await get(`/guidelines/${SLUG}/progress`, who);
      assert.equal(four.statusCode, 200);
      assert.match(four.body, /id="not-enough"/, '4 areas: nothing');
      assert.doesNotMatch(four.body, /id="by-stage"/);
      assert.doesNotMatch(four.body, /govuk-table__cell--numeric/);
    }
    await add(4);
    const five = await get(`/guidelines/${SLUG}/progress`);
    assert.match(five.body, /id="by-stage"/, '5 areas: figures');
    assert.match(five.body, /5 areas/);
    assert.doesNotMatch(five.body, /not-enough/);
    const editor = await get(`/guidelines/${SLUG}/progress`, 'editor');
    assert.match(editor.body, /For editors/);
    for (const row of await t.database.query<{ title: string }>('SELECT title FROM plans'))
      assert.ok(!editor.body.includes(row.title), 'no plan named');
    // No region has 5 areas yet: they are counted together, and no region is named.
    const regions = await t.database.query<{ region: string; n: number }>(
      'SELECT region, count(*)::int AS n FROM plans GROUP BY region',
    );
    assert.ok(regions.every((r) => r.n < 5));
    assert.match(editor.body, /Other regions \(5 areas\)/);
    for (const r of regions) assert.ok(!editor.body.includes(`>${r.region} (`), r.region);
    // The figures add up to what the stored ratings say (each area's lowest rating per statement).
    const cells = [
      ...five.body
        .slice(five.body.indexOf('id="by-stage"'))
        .matchAll(/govuk-table__cell--numeric">(\d+)</g),
    ]
      .slice(0, 9)
      .map((m) => Number(m[1]));
    const stored = await t.database.query<{ n: number }>(
      `WITH latest AS (SELECT DISTINCT ON (plan_id) id, plan_id FROM plan_rounds ORDER BY plan_id, position DESC)
       SELECT count(*)::int AS n FROM (
         SELECT l.plan_id, r.statement_ref FROM latest l JOIN plan_ratings r ON r.round_id = l.id
         WHERE r.state = 'confirmed' AND r.rating <> 'na' GROUP BY 1, 2) x`,
    );
    assert.equal(
      cells.reduce((a, b) => a + b, 0),
      stored[0]!.n,
    );
  });

  test('a new round starts from the last one with every rating "to confirm"', async () => {
    const before = await t.database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM plan_ratings r JOIN plan_rounds ro ON ro.id = r.round_id
       WHERE ro.plan_id = $1 AND ro.position = (SELECT max(position) FROM plan_rounds WHERE plan_id = $1)`,
      [planId],
    );
    const bad = await post(`/plans/${planId}/rounds`, 'lead', { name: '' });
    assert.equal(bad.statusCode, 400);
    const res = await post(`/plans/${planId}/rounds`, 'lead', { name: 'Review December 2026' });
    assert.equal(res.statusCode, 303);
    const rows = await t.database.query<{ state: string; name: string }>(
      `SELECT r.state, ro.name FROM plan_ratings r JOIN plan_rounds ro ON ro.id = r.round_id
       WHERE ro.plan_id = $1 AND ro.position = (SELECT max(position) FROM plan_rounds WHERE plan_id = $1)`,
      [planId],
    );
    assert.equal(rows.length, before[0]!.n, 'every rating copied');
    assert.ok(rows.every((r) => r.state === 'to_confirm' && r.name === 'Review December 2026'));
    const compare = await get(`/plans/${planId}/compare`, 'lead');
    assert.equal(compare.statusCode, 200);
    assert.match(compare.body, /Review December 2026/);
  });

  test('a new guideline version: the diff statement by statement, and the plan carries unchanged ratings over', async () => {
    const parsed = parseGuidelineYaml(readFileSync(DEMO_GUIDELINE_FILE, 'utf8'));
    assert.ok(parsed.ok);
    const v2 = structuredClone(parsed.data);
    v2.version = { ...v2.version, number: 2, label: 'Illustrative second version' };
    v2.stages[0]!.statements[1]!.text =
      'Each parent keeps one named social worker throughout (changed).';
    v2.stages[2]!.statements.pop(); // 3.4 removed
    v2.stages[2]!.statements.push({
      ...v2.stages[2]!.statements[0]!,
      ref: '3.5',
      text: 'A new statement.',
      examples: [],
    });
    const imported = await t.app.services.guidelines.importYaml(toGuidelineYaml(v2));
    assert.ok(imported.ok);
    const changes = await get(`/guidelines/${SLUG}/changes`);
    assert.match(changes.body, /13 unchanged, 1 changed, 1 new, 1 removed/);
    // Version 1 stays readable.
    const old = await get(`/guidelines/${SLUG}?version=1`);
    assert.equal(old.statusCode, 200);
    assert.match(old.body, /earlier version/);

    // Confirm the last round's ratings of 1.1 first, so what carries over is plain.
    const page = await get(`/plans/${planId}`, 'lead');
    assert.match(page.body, /Move to the new version/);
    const versionId = /name="version" value="([0-9a-f-]{36})"/.exec(page.body)![1]!;
    const lastRound = async () =>
      t.database.query<{ ref: string; agency: string; rating: string; state: string }>(
        `SELECT r.statement_ref AS ref, r.agency, r.rating, r.state FROM plan_ratings r JOIN plan_rounds ro ON ro.id = r.round_id
         WHERE ro.plan_id = $1 AND ro.position = (SELECT max(position) FROM plan_rounds WHERE plan_id = $1)
         ORDER BY 1, 2`,
        [planId],
      );
    const before = await lastRound();
    const res = await post(`/plans/${planId}/rounds`, 'lead', {
      name: 'Moved to version 2',
      version: versionId,
    });
    assert.equal(res.statusCode, 303);
    const afterRows = await lastRound();
    const key = (r: { ref: string; agency: string }) => `${r.ref}|${r.agency}`;
    const was = new Map(before.map((r) => [key(r), r]));
    for (const r of afterRows) {
      const prior = was.get(key(r))!;
      assert.ok(prior, `${key(r)} came from the last round`);
      assert.equal(r.rating, prior.rating);
      if (r.ref === '1.2') assert.equal(r.state, 'reassess', 'changed statement marked');
      else assert.equal(r.state, prior.state, `${r.ref} carried over as it was`);
    }
    assert.ok(afterRows.some((r) => r.ref === '1.2'));
    assert.ok(!afterRows.some((r) => r.ref === '3.4'), 'removed statement left behind');
    assert.ok(!afterRows.some((r) => r.ref === '3.5'), 'new statement starts unrated');
    assert.equal(afterRows.length, before.filter((r) => r.ref !== '3.4').length);
    const statement = await get(`/plans/${planId}/statements/3.5`, 'lead');
    assert.equal(statement.statusCode, 200);
  });

  test('plans are in the member’s data export, audit-logged, and handled when they delete their account', async () => {
    const outsiderId = await userId(OUTSIDER);
    const data = await t.app.services.accounts.exportData({
      id: outsiderId,
      displayName: 'Outside Member',
      role: 'member',
      approved: true,
      totpEnabled: false,
    });
    const plans = data.plans as { memberships: { plan: string; role: string }[] };
    assert.ok(plans.memberships.some((m) => m.plan === planTitle && m.role === 'contributor'));
    const lead = await userId('member@example.org');
    const leadData = (await t.app.services.accounts.exportData({
      id: lead,
      displayName: 'Demo',
      role: 'member',
      approved: true,
      totpEnabled: false,
    })) as { plans: { ratings: unknown[]; actions: unknown[] } };
    assert.ok(leadData.plans.ratings.length > 0 && leadData.plans.actions.length > 0);
    const events = await t.database.query<{ event: string }>(
      `SELECT DISTINCT event FROM audit_log WHERE event LIKE 'plan.%' OR event LIKE 'guideline.%'`,
    );
    for (const e of [
      'plan.created',
      'plan.rated',
      'plan.member-invited',
      'plan.member-joined',
      'plan.round-started',
      'plan.action-signed-off',
      'guideline.imported',
    ])
      assert.ok(
        events.some((r) => r.event === e),
        e,
      );
    // The lead deletes their account: the plan passes to its longest-standing other member.
    await t.app.services.accounts.deleteAccount(lead, false);
    const members = await t.database.query<{ user_id: string; role: string }>(
      'SELECT user_id, role FROM plan_members WHERE plan_id = $1',
      [planId],
    );
    assert.ok(!members.some((m) => m.user_id === lead));
    assert.ok(
      members.some((m) => m.role === 'lead'),
      'the plan still has a lead',
    );
    const [{ n }] = (await t.database.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM plan_ratings WHERE updated_by = $1',
      [lead],
    )) as [{ n: number }];
    assert.equal(n, 0, 'their name is off the ratings');
    const [{ plans: left }] = (await t.database.query<{ plans: number }>(
      `SELECT count(*)::int AS plans FROM plans p WHERE NOT EXISTS (SELECT 1 FROM plan_members m WHERE m.plan_id = p.id)`,
    )) as [{ plans: number }];
    assert.equal(left, 0, 'no plan is left without members');
  });
});
