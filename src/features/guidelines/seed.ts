import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SRC_DIR } from '../../root.ts';
import type { CurrentUser } from '../../platform/auth.ts';
import type { Seeder } from '../../platform/seed.ts';
import { parseGuidelineYaml, toGuidelineYaml } from './format.ts';
import type { PlansService } from './plans.ts';
import type { GuidelinesRepository } from './repository.ts';
import { isoDay } from './rules.ts';
import type { ActionStatus, Agency, EvidenceStatus, Rating } from './schema.ts';
import type { GuidelinesService } from './service.ts';

export const DEMO_GUIDELINE_FILE = join(
  SRC_DIR,
  'features',
  'guidelines',
  'demo',
  'illustrative-guideline.yaml',
);
export const DEMO_GUIDELINE_SLUG = 'demo-born-into-care-illustrative';

/**
 * The demo guideline file with its placeholder services (demo-service-N)
 * replaced by the Nth demo service on the map (so examples link to real
 * demo pages).
 */
export function demoGuidelineYaml(serviceSlugs: string[]): string {
  const parsed = parseGuidelineYaml(readFileSync(DEMO_GUIDELINE_FILE, 'utf8'));
  if (!parsed.ok)
    throw new Error(`The demo guideline is invalid: ${JSON.stringify(parsed.problems)}`);
  for (const s of parsed.data.stages)
    for (const st of s.statements)
      for (const e of st.examples)
        e.services = e.services.flatMap((slug) => {
          const n = /^demo-service-(\d+)$/.exec(slug);
          const real = n ? serviceSlugs[Number(n[1]) - 1] : slug;
          return real ? [real] : [];
        });
  return toGuidelineYaml(parsed.data);
}

const RATING_CYCLE: Rating[] = ['not', 'partly', 'partly', 'fully', 'not', 'fully', 'partly'];
const improve = (r: Rating, step: number): Rating =>
  step === 0 ? r : r === 'not' ? 'partly' : r === 'partly' && step > 1 ? 'fully' : r;

export interface DemoPlanDeps {
  repo: GuidelinesRepository;
  guidelines: GuidelinesService;
  plans: PlansService;
  demoServiceSlugs(): Promise<string[]>;
  member(email: string): Promise<CurrentUser | undefined>;
}

/** Rates every statement of the plan's latest round for each of its agencies (deterministic). */
export async function rateEverything(
  deps: Pick<DemoPlanDeps, 'repo' | 'plans'>,
  actor: CurrentUser,
  planId: string,
  step: number,
  seed: number,
): Promise<void> {
  const view = (await deps.plans.overview(actor, planId))!;
  let k = seed;
  for (const stage of view.stages)
    for (const item of stage.statements)
      for (const a of item.agencies) {
        const base = RATING_CYCLE[k++ % RATING_CYCLE.length]!;
        const rating: Rating = (k + seed) % 11 === 0 ? 'na' : improve(base, step);
        await deps.repo.upsertRating({
          roundId: view.round.id,
          statementRef: item.statement.ref,
          agency: a.agency,
          rating,
          state: 'confirmed',
          naReason: rating === 'na' ? 'Not part of this agency’s work in our area (demo).' : null,
          know: `What we know in round ${step + 1} (demo).`,
          howKnow: 'Case audit and a survey of practitioners (demo).',
          willDo: rating === 'fully' ? 'Keep it under review.' : 'See the actions below (demo).',
          updatedBy: actor.id,
        });
      }
}

const ACTION_STATES: [ActionStatus, EvidenceStatus, number][] = [
  ['not_started', 'none', 120],
  ['not_started', 'none', 20],
  ['in_progress', 'none', -10],
  ['in_progress', 'submitted', 45],
  ['delivered', 'submitted', -30],
  ['delivered', 'signed_off', -60],
  ['blocked', 'none', 15],
];

export function guidelinesSeeder(deps: DemoPlanDeps): Seeder {
  return {
    name: 'guidelines',
    async seed() {
      if (!(await deps.repo.guidelineBySlug(DEMO_GUIDELINE_SLUG))) {
        const result = await deps.guidelines.importYaml(
          demoGuidelineYaml(await deps.demoServiceSlugs()),
        );
        if (!result.ok) throw new Error(`Demo guideline: ${JSON.stringify(result.problems)}`);
      }
      const lead = await deps.member('member@example.org');
      if (!lead || (await deps.plans.mine(lead)).some((p) => p.isDemo)) return;
      const choices = await deps.plans.choices();
      const byName = (name: string) => choices.authorities.find((a) => a.name === name)?.gssCode;
      const demo = [
        {
          title: 'North East partnership plan (demo)',
          areas: ['Hartlepool', 'Stockton-on-Tees'],
          agencies: ['social_care', 'health', 'courts', 'voluntary'] as Agency[],
        },
        {
          title: 'Cynllun partneriaeth De Cymru / South Wales partnership plan (demo)',
          areas: ['Cardiff', 'Newport'],
          agencies: ['social_care', 'health', 'legal', 'voluntary'] as Agency[],
        },
      ];
      const today = new Date();
      for (const [i, d] of demo.entries()) {
        const created = await deps.plans.create(
          lead,
          {
            title: d.title,
            guidelineSlug: DEMO_GUIDELINE_SLUG,
            areaCodes: d.areas.map(byName).filter((c): c is string => Boolean(c)),
            agencies: d.agencies,
            roundName: 'Baseline April 2025',
          },
          { isDemo: true },
        );
        if (!created.ok) throw new Error(`Demo plan: ${created.key}`);
        const id = created.plan.id;
        await rateEverything(deps, lead, id, 0, i * 3);
        await deps.plans.newRound(lead, id, 'Review October 2025');
        await rateEverything(deps, lead, id, 1, i * 3);
        await deps.plans.newRound(lead, id, 'Review April 2026');
        await rateEverything(deps, lead, id, 2, i * 3);
        const view = (await deps.plans.overview(lead, id))!;
        const refs = view.stages.flatMap((s) => s.statements.map((x) => x.statement.ref));
        // Evidence, one of it past its review date.
        const first = view.stages[0]!.statements[0]!;
        for (const [k, a] of first.agencies.slice(0, 2).entries())
          await deps.plans.addEvidence(lead, id, first.statement.ref, a.agency, {
            description: k === 0 ? 'Audit of 20 pre-birth cases (demo)' : 'Pathway document (demo)',
            reviewBy: isoDay(new Date(today.getTime() + (k === 0 ? -30 : 180) * 86400000)),
          });
        for (const [k, [status, evidence, days]] of ACTION_STATES.entries()) {
          const action = await deps.plans.addAction(lead, id, {
            title: `Demo action ${k + 1}: ${['agree a joint pathway', 'train ward staff', 'review legal letters', 'set up a fathers’ group', 'write an easy-read guide', 'audit discharge plans', 'fund an advocate'][k]}`,
            owner: ['Head of service', 'Named midwife', 'Legal manager', 'Team manager'][k % 4]!,
            agency: d.agencies[k % d.agencies.length]!,
            dueOn: isoDay(new Date(today.getTime() + days * 86400000)),
            status,
            statementRef: refs[(k * 2) % refs.length],
          });
          if (evidence === 'none') continue;
          await deps.plans.updateAction(lead, id, action!.id, {
            title: action!.title,
            owner: action!.owner,
            agency: action!.agency,
            dueOn: action!.dueOn,
            status,
            statementRef: action!.statementRef ?? undefined,
            evidenceSubmitted: true,
          });
          if (evidence === 'signed_off') await deps.plans.signOff(lead, id, action!.id);
        }
        // Another member as contributor to the first plan (for trying out the roles).
        if (i === 0) {
          const other = await deps.member('parent@example.org');
          if (other) await deps.repo.upsertMember(id, other.id, 'viewer');
        }
      }
    },
  };
}
