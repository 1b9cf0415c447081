import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import type { CurrentUser } from '../../platform/auth.ts';
import { areasOf, nationalPicture, type PlanRatings } from './national.ts';
import { DEMO_GUIDELINE_SLUG } from './seed.ts';
import { MIN_AREAS } from './service.ts';

/**
 * The national picture's disclosure rules: areas are distinct authorities
 * with confirmed ratings, every figure needs 5 areas, and no hidden group
 * under 5 can be recovered by subtracting shown figures from a shown total.
 */

const STAGES = [
  { key: 'one', refs: ['1.1', '1.2', '1.3'] },
  { key: 'two', refs: ['2.1', '2.2'] },
];
const all = (v: number, refs = STAGES.flatMap((s) => s.refs)) =>
  Object.fromEntries(refs.map((r) => [r, v]));
let seq = 0;
const plan = (region: string, ratings: Record<string, number>, codes?: string[]): PlanRatings => {
  seq++;
  return {
    planId: `p${String(seq).padStart(3, '0')}`,
    areaCodes: codes ?? [`E${seq}`],
    region,
    ratings,
  };
};

/** No shown figure has under 5 areas; the hidden parts of a total cover none or 5+ areas. */
function assertSafe(plans: PlanRatings[]) {
  const p = nationalPicture(plans, STAGES, MIN_AREAS);
  for (const f of [...p.byStage.values(), ...p.byStatement.values()])
    if (!f.hidden) assert.ok(f.areas >= MIN_AREAS, `a shown figure has ${f.areas} areas`);
  for (const g of p.byRegion) {
    assert.ok(g.areas >= MIN_AREAS, `region group ${g.name || 'other'} has ${g.areas} areas`);
    for (const f of g.stages.values()) if (!f.hidden) assert.ok(f.areas >= MIN_AREAS);
  }
  if (p.byRegion.length)
    assert.equal(
      p.byRegion.reduce((n, g) => n + g.areas, 0),
      p.total,
      'the region groups add up to the total: no remainder left to subtract',
    );
  for (const s of STAGES) {
    if (p.byStage.get(s.key)!.hidden) continue;
    const hidden = s.refs.map((r) => p.byStatement.get(r)!).filter((f) => f.hidden && f.areas);
    // Statements overlap in areas, so the smallest hidden one bounds the union from below;
    // one hidden statement alone is never allowed.
    assert.notEqual(hidden.length, 1, `stage ${s.key}: one statement could be subtracted out`);
    const cells = p.byRegion.map((g) => g.stages.get(s.key)!).filter((f) => f.hidden && f.areas);
    const covered = cells.reduce((n, f) => n + f.areas, 0);
    assert.ok(
      covered === 0 || covered >= MIN_AREAS,
      `stage ${s.key}: hidden regions cover ${covered}`,
    );
  }
  return p;
}

describe('national picture rules', () => {
  test('plans sharing an authority are one area; a plan of three authorities is one area', () => {
    const areas = areasOf([
      plan('A', { '1.1': 2 }, ['E1', 'E2', 'E3']),
      plan('A', { '1.1': 0 }, ['E3']),
      plan('B', { '1.1': 1 }, ['E9']),
    ]);
    assert.equal(areas.length, 2);
    // The merged area takes its plans' lowest rating.
    assert.ok(areas.some((a) => a.ratings.get('1.1') === 0));
  });

  test('4 distinct areas show nothing however many plans they have', () => {
    const plans = [1, 2, 3, 4].map((i) => plan('A', all(2), [`X${i}`]));
    plans.push(plan('A', all(1), ['X1'])); // a second plan for the same authority
    plans.push(plan('B', {})); // a plan with no confirmed ratings
    const p = nationalPicture(plans, STAGES, MIN_AREAS);
    assert.equal(p.total, 4);
    assert.equal(p.byRegion.length, 0);
  });

  test('a statement rated by fewer than 5 areas has no figure, nor its complement', () => {
    const plans = [1, 2, 3, 4, 5, 6].map((i) =>
      plan(
        'A',
        all(i % 3, i <= 2 ? ['1.1', '1.2', '1.3', '2.1', '2.2'] : ['1.1', '1.2', '2.1', '2.2']),
      ),
    );
    const p = assertSafe(plans);
    assert.equal(p.total, 6);
    assert.ok(!p.byStage.get('one')!.hidden);
    assert.ok(p.byStatement.get('1.3')!.hidden, '1.3 has 2 areas');
    // One hidden statement could be worked out from the stage: one more is hidden.
    assert.equal(['1.1', '1.2'].filter((r) => p.byStatement.get(r)!.hidden).length, 1);
    assert.ok(!p.byStatement.get('2.1')!.hidden && !p.byStatement.get('2.2')!.hidden);
    assert.equal(p.byStatement.get('2.1')!.fully + p.byStatement.get('2.1')!.partly, 4);
  });

  test('a stage rated by fewer than 5 areas has no figure', () => {
    const plans = [1, 2, 3, 4, 5].map((i) => plan('A', all(2, i <= 3 ? ['1.1', '2.1'] : ['1.1'])));
    const p = assertSafe(plans);
    assert.ok(!p.byStage.get('one')!.hidden);
    assert.ok(p.byStage.get('two')!.hidden);
    assert.ok(p.byStatement.get('2.1')!.hidden);
  });

  test('a small "other regions" remainder takes the smallest named region, so it cannot be subtracted out', () => {
    const plans = [
      ...Array.from({ length: 6 }, () => plan('North', all(2))),
      ...Array.from({ length: 5 }, () => plan('South', all(1))),
      ...Array.from({ length: 2 }, () => plan('East', all(0))),
    ];
    const p = assertSafe(plans);
    assert.deepEqual(
      p.byRegion.map((g) => [g.name, g.areas]),
      [
        ['North', 6],
        ['', 7],
      ],
    );
    const only = assertSafe([
      ...Array.from({ length: 6 }, () => plan('North', all(2))),
      plan('East', all(0)),
    ]);
    assert.deepEqual(
      only.byRegion.map((g) => [g.name, g.areas]),
      [['', 7]],
    );
  });

  test('a region group’s stage figure under 5 areas is hidden with its complement', () => {
    const plans = [
      ...Array.from({ length: 6 }, (_, i) =>
        plan('North', all(2, i < 2 ? ['1.1', '2.1'] : ['1.1'])),
      ),
      ...Array.from({ length: 6 }, () => plan('South', all(1))),
    ];
    const p = assertSafe(plans);
    const north = p.byRegion.find((g) => g.name === 'North')!;
    const south = p.byRegion.find((g) => g.name === 'South')!;
    assert.ok(!p.byStage.get('two')!.hidden, 'stage two has 8 areas');
    assert.ok(north.stages.get('two')!.hidden, 'North has 2 areas in stage two');
    assert.ok(south.stages.get('two')!.hidden, 'else stage two minus South gives North');
    assert.ok(!north.stages.get('one')!.hidden && !south.stages.get('one')!.hidden);
  });

  test('random pictures never disclose a group under 5', () => {
    let s = 42;
    const rnd = (n: number) => ((s = (s * 1103515245 + 12345) % 2 ** 31), s % n);
    for (let round = 0; round < 200; round++) {
      const plans = Array.from({ length: 3 + rnd(25) }, () =>
        plan(
          ['North', 'South', 'East', 'West'][rnd(4)]!,
          Object.fromEntries(
            STAGES.flatMap((st) => st.refs)
              .filter(() => rnd(3) > 0)
              .map((r) => [r, rnd(3)]),
          ),
          [`R${rnd(30)}`],
        ),
      );
      assertSafe(plans);
    }
  });
});

describe('national picture over the database', () => {
  let t: TestApp;
  let lead: CurrentUser;
  const SLUG = DEMO_GUIDELINE_SLUG;
  before(async () => {
    t = await testApp({ seed: true });
    await t.database.query('DELETE FROM plans');
    const m = (await t.app.services.accounts.approvedMemberByEmail('member@example.org'))!;
    lead = { ...m, role: 'member', approved: true, totpEnabled: false };
  });
  after(async () => t.close());

  const editor = (): CurrentUser => ({ ...lead, role: 'editor' });
  const create = async (codes: string[], i: number) => {
    const created = await t.app.services.plans.create(lead, {
      title: `National test ${i}`,
      guidelineSlug: SLUG,
      areaCodes: codes,
      agencies: ['social_care', 'health'],
      roundName: 'Baseline',
    });
    assert.ok(created.ok);
    return created.plan.id;
  };
  /** Rates each agency of every statement (but `skip`) through the plans service. */
  const rate = async (planId: string, skip: (ref: string) => boolean = () => false) => {
    const view = (await t.app.services.plans.overview(lead, planId))!;
    for (const stage of view.stages)
      for (const item of stage.statements) {
        if (skip(item.statement.ref)) continue;
        for (const a of item.agencies)
          await t.app.services.plans.rate(lead, planId, item.statement.ref, {
            agency: a.agency,
            rating: 'partly',
            know: '',
            howKnow: '',
            willDo: '',
          });
      }
  };

  test('areas are distinct authorities with confirmed ratings; per-statement and region rules hold', async () => {
    const authorities = await t.app.services.services.currentAuthorities();
    const byRegion = new Map<string, typeof authorities>();
    for (const a of authorities)
      byRegion.set(a.regionName, [...(byRegion.get(a.regionName) ?? []), a]);
    const [big, other] = [...byRegion.values()].sort((a, b) => b.length - a.length) as [
      typeof authorities,
      typeof authorities,
    ];
    const content = (await t.app.services.guidelines.load(SLUG))!;
    const firstStage = content.stages[0]!;
    const last = firstStage.statements.at(-1)!.ref;
    // Four authorities in one region rated, one of them by two plans, and a plan with no ratings: 4 areas.
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await create([big[i]!.gssCode], i));
    const dup = await create([big[0]!.gssCode], 10);
    await create([other[0]!.gssCode], 11); // never rated
    // The last statement of stage one is rated by one area only (two plans, one authority).
    for (const id of ids.slice(1)) await rate(id, (ref) => ref === last);
    await rate(ids[0]!);
    await rate(dup);
    const four = await t.app.services.guidelines.national(editor(), SLUG);
    assert.equal(four!.total, 4, 'six plans, four areas with ratings');
    assert.equal(four!.enough, false);

    // A fifth authority in the same region: 5 areas, figures by stage.
    const fifth = await create([big[4]!.gssCode], 5);
    await rate(fifth, (ref) => ref === last);
    const five = await t.app.services.guidelines.national(editor(), SLUG);
    assert.ok(five!.enough);
    assert.equal(five!.total, 5);
    assert.ok(five!.byStatement!.get(last)!.hidden, `${last} is rated by one area`);
    const hidden = firstStage.statements.filter((s) => five!.byStatement!.get(s.ref)!.hidden);
    assert.equal(hidden.length, 2, 'its complement is hidden too');
    // Five areas in one region: that region is shown; nothing is left over.
    assert.deepEqual(
      five!.byRegion!.map((g) => [g.name, g.areas]),
      [[big[0]!.regionName, 5]],
    );

    // The never-rated plan gets one rating: a sixth area, alone in its region. The named
    // region joins it in "other regions" rather than leaving 1 area to subtraction.
    const lone = (
      await t.database.query<{ id: string }>(
        "SELECT id FROM plans WHERE title = 'National test 11'",
      )
    )[0]!.id;
    await rate(lone, (ref) => ref !== firstStage.statements[0]!.ref);
    const six = await t.app.services.guidelines.national(editor(), SLUG);
    assert.ok(six?.enough);
    assert.equal(six.total, 6);
    assert.deepEqual(
      six.byRegion!.map((g) => [g.name, g.areas]),
      [['', 6]],
    );

    // The page: hidden figures say so, and the public sees no statement figures.
    const page = await t.app.inject({ method: 'GET', url: `/guidelines/${SLUG}/progress` });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /id="by-stage"/);
    assert.match(page.body, /id="suppression-rule"/);
  });
});
