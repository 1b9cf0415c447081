import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '../../db/client.ts';
import { AccessDenied, type AuditLog, type CurrentUser } from '../../platform/auth.ts';
import type { I18n } from '../../platform/i18n/index.ts';
import type { Mailer } from '../../platform/mail.ts';
import { withFields } from '../../platform/objects.ts';
import type {
  ActionRow,
  EvidenceRow,
  GuidelinesRepository,
  MemberRow,
  NewRating,
  PlanRow,
  RatingRow,
  RoundRow,
  VersionRow,
} from './repository.ts';
import {
  combined,
  compareVersions,
  disagree,
  isoDay,
  overdue,
  rag,
  ratingProblem,
  sortActions,
} from './rules.ts';
import {
  type ActionStatus,
  type Agency,
  AGENCIES,
  type FeedbackReason,
  type PlanRole,
  type Rating,
} from './schema.ts';
import { assemble, currentVersion, type GuidelinesService, type StageView } from './service.ts';

/**
 * Local action plans: private to their members. Every function takes the
 * actor and answers `undefined` (the routes' 404) to anyone who is not a
 * member of the plan — staff included — so nothing of a plan, not even its
 * title, reaches anyone else. Writing needs the plan role: viewers read;
 * contributors rate, add evidence, actions and feedback; the lead also
 * invites, starts rounds, moves to a new version and signs actions off.
 */

const INVITATION_DAYS = 14;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export interface Authority {
  gssCode: string;
  name: string;
  regionName: string;
  nation: string;
}

export interface PlansDeps {
  repo: GuidelinesRepository;
  guidelines: GuidelinesService;
  transaction: Database['transaction'];
  mailer: Mailer;
  i18n: I18n;
  baseUrl: string;
  audit: AuditLog;
  authorities(): Promise<Authority[]>;
  people: {
    names(ids: readonly string[]): Promise<Map<string, string>>;
  };
  today?: () => string;
}

export interface PlanContext {
  plan: PlanRow;
  member: MemberRow;
  canEdit: boolean;
  isLead: boolean;
  /**
   * Everything a page of the plan is drawn from, as a key for kept parts of pages: the
   * plan and its revision (every change to it or anything of it: migration 0022), its
   * guideline's time of change (wording, versions), today (what is overdue or due for
   * review) and the reader's role (what they may do). The same state, the same page.
   */
  state: string;
}

export interface RatingInput {
  agency: Agency;
  rating: Rating;
  naReason?: string | undefined;
  know: string;
  howKnow: string;
  willDo: string;
}

export interface ActionInput {
  title: string;
  owner: string;
  agency: Agency;
  dueOn: string;
  status: ActionStatus;
  statementRef?: string | undefined;
}

/** The agencies that rate a statement in a plan: those it speaks to among the plan's, else all the plan's. */
export function ratingAgencies(planAgencies: string[], statementAgencies: string[]): Agency[] {
  const both = planAgencies.filter((a) => statementAgencies.includes(a));
  return (both.length ? both : planAgencies) as Agency[];
}

export function createPlansService(deps: PlansDeps) {
  const { repo } = deps;
  const today = deps.today ?? (() => isoDay(new Date()));

  /** The plan as this actor may see it, or undefined (not a member, or no such plan). */
  async function context(
    actor: CurrentUser | undefined,
    id: string,
  ): Promise<PlanContext | undefined> {
    if (!actor || !/^[0-9a-f-]{36}$/i.test(id)) return undefined;
    const found = await repo.memberPlan(id, actor.id);
    if (!found) return undefined;
    const { plan, member, guidelineChanged } = found;
    const state = `${plan.id}.${plan.revision}.${guidelineChanged.getTime()}.${today()}.${member.role}`;
    return {
      plan,
      member,
      canEdit: member.role !== 'viewer',
      isLead: member.role === 'lead',
      state,
    };
  }
  async function editable(actor: CurrentUser | undefined, id: string) {
    const ctx = await context(actor, id);
    if (ctx && !ctx.canEdit) throw new AccessDenied('Viewers cannot change a plan');
    return ctx;
  }
  async function led(actor: CurrentUser | undefined, id: string) {
    const ctx = await context(actor, id);
    if (ctx && !ctx.isLead) throw new AccessDenied('Only the plan lead may do this');
    return ctx;
  }

  /** The guideline the plan follows, in the version of a round (all read at once). */
  async function guidelineFor(plan: PlanRow, round: RoundRow, versions?: VersionRow[]) {
    const [g, vs] = await Promise.all([
      repo.guidelineById(plan.guidelineId),
      versions ?? repo.versions([plan.guidelineId]),
    ]);
    const content = await repo.contentAsOf(round.versionId, g!.updatedAt);
    return assemble(
      g!,
      vs,
      vs.find((v) => v.id === round.versionId)!,
      content,
    );
  }

  /** Statements of a round with each agency's rating, evidence, flags. */
  async function assessment(
    plan: PlanRow,
    round: RoundRow,
    versions?: VersionRow[],
    onlyRef?: string,
  ) {
    return (await assessments(plan, [round], versions, onlyRef))[0]!;
  }

  /**
   * Several rounds at once (the export's history): each version's content is
   * read once, and the ratings and evidence of all the rounds in one query each.
   */
  async function assessments(
    plan: PlanRow,
    rounds: RoundRow[],
    versions?: VersionRow[],
    /** One statement's ratings and evidence only (the other statements then show none). */
    onlyRef?: string,
  ) {
    const ids = rounds.map((r) => r.id);
    const views = new Map<string, ReturnType<typeof guidelineFor>>();
    for (const r of rounds)
      if (!views.has(r.versionId)) views.set(r.versionId, guidelineFor(plan, r, versions));
    const [ratings, evidence] = await Promise.all([
      repo.ratings(ids, onlyRef),
      repo.evidence(ids, onlyRef),
    ]);
    const day = today();
    const evidenceOf = new Map<string, EvidenceRow[]>();
    for (const e of evidence)
      evidenceOf.set(e.ratingId, [...(evidenceOf.get(e.ratingId) ?? []), e]);
    return Promise.all(
      rounds.map(async (round) => {
        const view = await views.get(round.versionId)!;
        const byRef = new Map<string, RatingRow[]>();
        for (const r of ratings)
          if (r.roundId === round.id)
            byRef.set(r.statementRef, [...(byRef.get(r.statementRef) ?? []), r]);
        const stages = view.stages.map((stage) => ({
          ...stage,
          statements: stage.statements.map((st) => {
            const rows = byRef.get(st.ref) ?? [];
            const agencies = ratingAgencies(plan.agencies, st.agencies).map((agency) => {
              const r = rows.find((x) => x.agency === agency);
              const ev = r ? (evidenceOf.get(r.id) ?? []) : [];
              return {
                agency,
                rating: r,
                evidence: ev,
                needsReview: ev.some((e) => e.reviewBy < day),
              };
            });
            const rated = agencies.flatMap((a) => (a.rating ? [a.rating] : []));
            return {
              statement: st,
              agencies,
              combined: combined(rated),
              disagree: disagree(rated),
              needsReview: agencies.some((a) => a.needsReview),
              toConfirm:
                rated.filter((r) => r.state !== 'confirmed').length +
                (agencies.length - rated.length),
            };
          }),
        }));
        return { round, view, stages };
      }),
    );
  }

  /** What a plan's overview is made of, read at once: rounds, actions (with RAG), versions. */
  async function partsIn(ctx: PlanContext) {
    const [rounds, actions, versions] = await Promise.all([
      repo.rounds(ctx.plan.id),
      service.actions(ctx),
      repo.versions([ctx.plan.guidelineId]),
    ]);
    return { ctx, rounds, actions, versions };
  }
  type OverviewParts = Awaited<ReturnType<typeof partsIn>>;

  /** A plan's overview in one round, given that round's assessment. */
  function overviewOf(
    { ctx, rounds, actions, versions }: OverviewParts,
    round: RoundRow,
    a: Awaited<ReturnType<typeof assessment>>,
  ) {
    const latest = currentVersion(versions);
    return {
      ...ctx,
      rounds,
      round,
      isLatestRound: round.id === rounds.at(-1)!.id,
      guideline: a.view.guideline,
      version: a.view.version,
      newerVersion: latest && latest.number > a.view.version.number ? latest : undefined,
      stages: a.stages,
      actions,
    };
  }

  const service = {
    context,

    /** The plans the actor belongs to. */
    async mine(actor: CurrentUser) {
      return repo.plansOf(actor.id);
    },

    /** Guidelines a plan can follow, and the authorities an area is made of. */
    async choices() {
      const [list, authorities] = await Promise.all([deps.guidelines.list(), deps.authorities()]);
      return { guidelines: list.filter((g) => g.version), authorities };
    },

    /** An approved member makes a plan; they are its lead, and its first round starts. */
    async create(
      actor: CurrentUser,
      input: {
        title: string;
        guidelineSlug: string;
        areaCodes: string[];
        agencies: Agency[];
        roundName: string;
      },
      opts: { isDemo?: boolean } = {},
    ): Promise<{ ok: true; plan: PlanRow } | { ok: false; field: string; key: string }> {
      if (!actor.approved) throw new AccessDenied('Approved members only');
      const view = await deps.guidelines.load(input.guidelineSlug);
      if (!view) return { ok: false, field: 'guideline', key: 'guidelines.plans.errors.guideline' };
      const all = await deps.authorities();
      const areas = input.areaCodes.map((c) => all.find((a) => a.gssCode === c));
      if (!areas.length || areas.some((a) => !a))
        return { ok: false, field: 'areas', key: 'guidelines.plans.errors.areas' };
      const first = areas[0]!;
      const plan = await deps.transaction(async (tx) => {
        const r = repo.in(tx);
        const plan = await r.insertPlan({
          guidelineId: view.guideline.id,
          title: input.title,
          areaCodes: input.areaCodes,
          region: first.regionName,
          nation: first.nation,
          agencies: AGENCIES.filter((a) => input.agencies.includes(a)),
          createdBy: actor.id,
          isDemo: opts.isDemo ?? false,
        });
        await r.upsertMember(plan.id, actor.id, 'lead');
        await r.insertRound({
          planId: plan.id,
          position: 1,
          name: input.roundName,
          versionId: view.version.id,
        });
        return plan;
      });
      deps.guidelines.plansChanged();
      await deps.audit('plan.created', { actorId: actor.id, detail: { plan: plan.id } });
      return { ok: true, plan };
    },

    /** The plan page: the latest round's assessment by stage, actions, rounds, members. */
    async overview(actor: CurrentUser | undefined, id: string, roundPosition?: number) {
      const ctx = await context(actor, id);
      return ctx && service.overviewIn(ctx, roundPosition);
    },

    /** The plan page for a member, given their context (from `context`). */
    async overviewIn(ctx: PlanContext, roundPosition?: number) {
      const read = await partsIn(ctx);
      const { rounds, versions } = read;
      const round =
        (roundPosition !== undefined && rounds.find((r) => r.position === roundPosition)) ||
        rounds.at(-1)!;
      return overviewOf(read, round, await assessment(ctx.plan, round, versions));
    },

    /** Actions (of one statement, given its ref) with RAG, overdue ones first. */
    async actions(ctx: PlanContext, statementRef?: string) {
      const day = today();
      const rows = await repo.actions(ctx.plan.id, statementRef);
      return sortActions(rows, day).map((a) =>
        withFields(a, { rag: rag(a, day), overdue: overdue(a, day) }),
      );
    },

    /** One statement of the latest round, for rating. */
    async statement(actor: CurrentUser | undefined, id: string, ref: string) {
      const ctx = await context(actor, id);
      return ctx && service.statementIn(ctx, ref);
    },

    /** One statement of the latest round, given a member's context (undefined: no such statement). */
    async statementIn(ctx: PlanContext, ref: string) {
      const id = ctx.plan.id;
      // Only this statement's ratings, evidence and actions are read.
      const [rounds, actions] = await Promise.all([repo.rounds(id), service.actions(ctx, ref)]);
      const round = rounds.at(-1)!;
      const a = await assessment(ctx.plan, round, undefined, ref);
      for (const stage of a.stages) {
        const item = stage.statements.find((s) => s.statement.ref === ref);
        if (item)
          return {
            ...ctx,
            round,
            guideline: a.view.guideline,
            version: a.view.version,
            // The stage with this statement alone: the others' ratings were not read.
            stage: { ...stage, statements: [item] },
            item,
            actions,
          };
      }
      return undefined;
    },

    /**
     * One agency's rating of a statement in the latest round (confirms it).
     * Undefined (404) when the actor is not a member or the agency does not
     * rate the statement; `{ ok: false, field, key }` when the rating breaks
     * a rule (not applicable without a reason).
     */
    async rate(
      actor: CurrentUser | undefined,
      id: string,
      ref: string,
      input: RatingInput,
    ): Promise<{ ok: true } | { ok: false; field: string; key: string } | undefined> {
      const found = await service.statement(actor, id, ref);
      if (!found) return undefined;
      if (!found.canEdit) throw new AccessDenied('Viewers cannot change a plan');
      if (!found.item.agencies.some((a) => a.agency === input.agency)) return undefined;
      const problem = ratingProblem(input);
      if (problem) return { ok: false, ...problem };
      await deps.transaction(async (tx) => {
        const r = repo.in(tx);
        await r.upsertRating({
          roundId: found.round.id,
          statementRef: ref,
          agency: input.agency,
          rating: input.rating,
          state: 'confirmed',
          naReason: input.rating === 'na' ? input.naReason!.trim() : null,
          know: input.know,
          howKnow: input.howKnow,
          willDo: input.willDo,
          updatedBy: actor!.id,
        });
        await r.touchPlan(id);
      });
      deps.guidelines.plansChanged();
      await deps.audit('plan.rated', {
        actorId: actor!.id,
        detail: { plan: id, statement: ref, agency: input.agency, rating: input.rating },
      });
      return { ok: true };
    },

    /** Evidence for an agency's rating, with the date to review it by. */
    async addEvidence(
      actor: CurrentUser | undefined,
      id: string,
      ref: string,
      agency: Agency,
      input: { description: string; reviewBy: string },
    ): Promise<'ok' | 'unrated' | undefined> {
      const found = await service.statement(actor, id, ref);
      if (!found) return undefined;
      if (!found.canEdit) throw new AccessDenied('Viewers cannot change a plan');
      const rating = found.item.agencies.find((a) => a.agency === agency)?.rating;
      if (!rating) return 'unrated';
      await repo.insertEvidence({ ratingId: rating.id, ...input, addedBy: actor!.id });
      await deps.audit('plan.evidence-added', {
        actorId: actor!.id,
        detail: { plan: id, statement: ref, agency },
      });
      return 'ok';
    },

    async addAction(actor: CurrentUser | undefined, id: string, input: ActionInput) {
      const ctx = await editable(actor, id);
      if (!ctx) return undefined;
      const row = await repo.insertAction({
        planId: id,
        statementRef: input.statementRef ?? null,
        title: input.title,
        owner: input.owner,
        agency: input.agency,
        dueOn: input.dueOn,
        status: input.status,
        createdBy: actor!.id,
      });
      await deps.audit('plan.action-added', {
        actorId: actor!.id,
        detail: { plan: id, action: row.id },
      });
      return row;
    },
    async action(actor: CurrentUser | undefined, id: string, actionId: string) {
      const ctx = await context(actor, id);
      if (!ctx || !/^[0-9a-f-]{36}$/i.test(actionId)) return undefined;
      const action = await repo.action(id, actionId);
      if (!action) return undefined;
      const day = today();
      return {
        ...ctx,
        action: { ...action, rag: rag(action, day), overdue: overdue(action, day) },
      };
    },
    /** Changing an action; its evidence status may go to "submitted" but only the lead signs off. */
    async updateAction(
      actor: CurrentUser | undefined,
      id: string,
      actionId: string,
      input: ActionInput & { evidenceSubmitted: boolean },
    ): Promise<boolean> {
      const found = await service.action(actor, id, actionId);
      if (!found) return false;
      if (!found.canEdit) throw new AccessDenied('Viewers cannot change a plan');
      const signedOff = found.action.evidenceStatus === 'signed_off';
      await repo.updateAction(actionId, {
        title: input.title,
        owner: input.owner,
        agency: input.agency,
        dueOn: input.dueOn,
        status: input.status,
        statementRef: input.statementRef ?? null,
        evidenceStatus: signedOff ? 'signed_off' : input.evidenceSubmitted ? 'submitted' : 'none',
      });
      await deps.audit('plan.action-updated', {
        actorId: actor!.id,
        detail: { plan: id, action: actionId },
      });
      return true;
    },
    /** The lead signs an action's evidence off, with today's date. Nothing is "evidenced" otherwise. */
    async signOff(actor: CurrentUser | undefined, id: string, actionId: string): Promise<boolean> {
      const ctx = await led(actor, id);
      if (!ctx) return false;
      const action = await repo.action(id, actionId);
      if (!action) return false;
      await repo.updateAction(actionId, {
        evidenceStatus: 'signed_off',
        signedOffBy: actor!.id,
        signedOffOn: today(),
      });
      await deps.audit('plan.action-signed-off', {
        actorId: actor!.id,
        detail: { plan: id, action: actionId },
      });
      return true;
    },

    // Members and invitations
    async members(actor: CurrentUser | undefined, id: string) {
      const ctx = await context(actor, id);
      if (!ctx) return undefined;
      const [members, invitations] = await Promise.all([
        repo.members(id),
        repo.openInvitations(id),
      ]);
      const names = await deps.people.names(members.map((m) => m.userId));
      return {
        ...ctx,
        members: members.map((m) => ({ ...m, name: names.get(m.userId) ?? '' })),
        // Only the lead sees the addresses invited (they typed them).
        invitations: ctx.isLead ? invitations : [],
      };
    },
    /** The lead invites someone by email with a plan role; the email carries a one-time link. */
    async invite(
      actor: CurrentUser | undefined,
      id: string,
      input: { email: string; role: PlanRole; locale: 'en' | 'cy' },
    ): Promise<string | undefined> {
      const ctx = await led(actor, id);
      if (!ctx) return undefined;
      const token = randomBytes(32).toString('base64url');
      const t = deps.i18n.translator(input.locale);
      await deps.transaction(async (tx) => {
        await repo.in(tx).insertInvitation({
          planId: id,
          email: input.email,
          role: input.role,
          tokenHash: sha256(token),
          invitedBy: actor!.id,
          expiresAt: new Date(Date.now() + INVITATION_DAYS * 24 * 3600 * 1000),
        });
        const vars = {
          name: actor!.displayName,
          plan: ctx.plan.title,
          role: t(`guidelines.plans.roles.${input.role}`),
          link: `${deps.baseUrl}/plans/invitations/${token}`,
          days: String(INVITATION_DAYS),
        };
        await deps.mailer.send(
          {
            to: input.email,
            subject: t('guidelines.plans.emails.invite.subject', vars),
            text: `${t('guidelines.plans.emails.invite.body', vars)}\n`,
          },
          { tx },
        );
      });
      await deps.audit('plan.member-invited', {
        actorId: actor!.id,
        detail: { plan: id, role: input.role },
      });
      return token;
    },
    /** What an invitation link offers (to a signed-in person), or undefined. */
    async invitation(token: string) {
      const row = await repo.invitationByHash(sha256(token));
      if (!row || row.expiresAt < new Date()) return undefined;
      const plan = await repo.planById(row.planId);
      return plan ? { invitation: row, plan } : undefined;
    },
    /** Accepting: the signed-in, approved member holding the link joins with the role offered. */
    async accept(actor: CurrentUser, token: string): Promise<string | undefined> {
      if (!actor.approved) throw new AccessDenied('Approved members only');
      const found = await service.invitation(token);
      if (!found) return undefined;
      const current = await repo.membership(found.plan.id, actor.id);
      await deps.transaction(async (tx) => {
        const r = repo.in(tx);
        await r.acceptInvitation(found.invitation.id);
        if (current?.role !== 'lead')
          await r.upsertMember(found.plan.id, actor.id, found.invitation.role);
      });
      await deps.audit('plan.member-joined', {
        actorId: actor.id,
        detail: { plan: found.plan.id, role: found.invitation.role },
      });
      return found.plan.id;
    },
    async removeMember(
      actor: CurrentUser | undefined,
      id: string,
      userId: string,
    ): Promise<boolean> {
      const ctx = await led(actor, id);
      if (!ctx || userId === actor!.id) return false;
      await repo.removeMember(id, userId);
      await deps.audit('plan.member-removed', {
        actorId: actor!.id,
        subjectId: userId,
        detail: { plan: id },
      });
      return true;
    },

    // Rounds
    /**
     * A new round starts from the last one: every rating copied with its
     * evidence and marked "to confirm". With `toVersion`, the plan moves to a
     * newer version of the guideline: unchanged statements carry their
     * ratings over as they were, changed ones are marked for re-assessment,
     * new ones start unrated and removed ones are left behind.
     */
    async newRound(
      actor: CurrentUser | undefined,
      id: string,
      name: string,
      opts: { toVersionId?: string } = {},
    ): Promise<RoundRow | undefined> {
      const ctx = await led(actor, id);
      if (!ctx) return undefined;
      const rounds = await repo.rounds(id);
      const last = rounds.at(-1)!;
      let versionId = last.versionId;
      let changes: Map<string, string> | undefined;
      if (opts.toVersionId && opts.toVersionId !== last.versionId) {
        const target = await repo.versionById(opts.toVersionId);
        if (!target || target.guidelineId !== ctx.plan.guidelineId) return undefined;
        const [a, b] = await Promise.all([repo.content(last.versionId), repo.content(target.id)]);
        changes = new Map(
          compareVersions(a.statements, b.statements).map((c) => [c.ref, c.change]),
        );
        versionId = target.id;
      }
      const previous = await repo.ratings([last.id]);
      const copies: NewRating[] = [];
      for (const r of previous) {
        const change = changes?.get(r.statementRef);
        if (change === 'removed' || change === 'new') continue;
        copies.push({
          roundId: '',
          statementRef: r.statementRef,
          agency: r.agency,
          rating: r.rating,
          state: change === 'changed' ? 'reassess' : changes ? r.state : 'to_confirm',
          naReason: r.naReason,
          know: r.know,
          howKnow: r.howKnow,
          willDo: r.willDo,
          updatedBy: r.updatedBy,
        });
      }
      const round = await deps.transaction(async (tx) => {
        const r = repo.in(tx);
        const round = await r.insertRound({
          planId: id,
          position: last.position + 1,
          name,
          versionId,
        });
        await r.insertRatings(copies.map((c) => ({ ...c, roundId: round.id })));
        await r.copyEvidence(last.id, round.id);
        await r.touchPlan(id);
        return round;
      });
      deps.guidelines.plansChanged();
      await deps.audit(changes ? 'plan.version-changed' : 'plan.round-started', {
        actorId: actor!.id,
        detail: { plan: id, round: round.position },
      });
      return round;
    },

    /** Two rounds side by side: each statement's combined rating in both, and whether it moved. */
    async compare(actor: CurrentUser | undefined, id: string, a?: number, b?: number) {
      const ctx = await context(actor, id);
      return ctx && service.compareIn(ctx, a, b);
    },

    /** Two rounds side by side, given a member's context. */
    async compareIn(ctx: PlanContext, a?: number, b?: number) {
      const rounds = await repo.rounds(ctx.plan.id);
      const right = rounds.find((r) => r.position === b) ?? rounds.at(-1)!;
      const left =
        rounds.find((r) => r.position === a && r.id !== right.id) ??
        rounds.filter((r) => r.position < right.position).at(-1) ??
        right;
      const versions = await repo.versions([ctx.plan.guidelineId]);
      const [x, y] = await Promise.all([
        assessment(ctx.plan, left, versions),
        assessment(ctx.plan, right, versions),
      ]);
      const before = new Map(
        x.stages.flatMap((s) => s.statements).map((s) => [s.statement.ref, s.combined]),
      );
      const ORDER = { not: 0, partly: 1, fully: 2 } as Record<string, number>;
      const stages = y.stages.map((s) => ({
        ...s,
        rows: s.statements.map((st) => {
          const was = before.get(st.statement.ref) ?? 'none';
          const now = st.combined;
          const moved =
            was === now
              ? 'same'
              : ORDER[was] !== undefined && ORDER[now] !== undefined
                ? ORDER[now]! > ORDER[was]!
                  ? 'up'
                  : 'down'
                : 'changed';
          return { statement: st.statement, was, now, moved };
        }),
      }));
      return { ...ctx, rounds, left, right, stages };
    },

    /**
     * Per stage, how many confirmed agency ratings were fully, partly and not
     * in place in each round (not applicable and unconfirmed ones aside).
     */
    async progress(actor: CurrentUser | undefined, id: string) {
      const ctx = await context(actor, id);
      return ctx && service.progressIn(ctx);
    },

    /** The rounds chart's counts, given a member's context. */
    async progressIn(ctx: PlanContext) {
      const id = ctx.plan.id;
      const [rounds, counts] = await Promise.all([repo.rounds(id), repo.roundCounts(id)]);
      const last = rounds.at(-1)!;
      const view = await guidelineFor(ctx.plan, last);
      const stages = view.stages.map((s: StageView) => ({
        key: s.key,
        title: s.title,
        titleCy: s.titleCy,
        rounds: rounds.map((r) => {
          const n = (rating: string) =>
            counts.find((c) => c.round === r.position && c.stage === s.key && c.rating === rating)
              ?.n ?? 0;
          return {
            position: r.position,
            name: r.name,
            fully: n('fully'),
            partly: n('partly'),
            not: n('not'),
          };
        }),
      }));
      return { ...ctx, rounds, stages };
    },

    /** Everything of the plan for its export and report: every round's statements and actions. */
    async exportData(actor: CurrentUser | undefined, id: string) {
      const ctx = await service.exporting(actor, id);
      return ctx && service.exportDataIn(ctx);
    },

    /**
     * A member takes the whole plan away (an export, the report): audit-logged each time,
     * even when what they get was kept. Their context, or undefined.
     */
    async exporting(actor: CurrentUser | undefined, id: string) {
      const ctx = await context(actor, id);
      if (ctx) await deps.audit('plan.exported', { actorId: actor!.id, detail: { plan: id } });
      return ctx;
    },

    /** Everything of the plan, for an export or the report, given a member's context. */
    async exportDataIn(ctx: PlanContext) {
      const read = await partsIn(ctx);
      // Every round, first to last, read at once; the latest is the overview's.
      const all = await assessments(read.ctx.plan, read.rounds, read.versions);
      const found = overviewOf(read, read.rounds.at(-1)!, all.at(-1)!);
      const history = all.map((a) => ({
        round: a.round,
        version: a.view.version,
        stages: a.stages,
        /** Each statement's overall rating in that round, by number (for the report). */
        overall: new Map(
          a.stages.flatMap((s) => s.statements.map((i) => [i.statement.ref, i.combined] as const)),
        ),
      }));
      return { ...found, history };
    },

    /** A plan member tells the publisher a statement is hard to put into practice, and why. */
    async feedback(
      actor: CurrentUser | undefined,
      id: string,
      ref: string,
      input: { reason: FeedbackReason; detail: string },
    ): Promise<boolean> {
      const found = await service.statement(actor, id, ref);
      if (!found) return false;
      if (!found.canEdit) throw new AccessDenied('Viewers cannot change a plan');
      await repo.insertFeedback({
        guidelineId: found.guideline.id,
        versionId: found.version.id,
        statementRef: ref,
        planId: id,
        userId: actor!.id,
        reason: input.reason,
        detail: input.detail,
      });
      await deps.audit('guideline.feedback', {
        actorId: actor!.id,
        detail: { plan: id, statement: ref },
      });
      return true;
    },

    personalData: {
      name: 'plans',
      export: (userId: string) => repo.personalData(userId),
      erase: async (userId: string, removeContributions: boolean) => {
        await deps.transaction((tx) => repo.in(tx).erase(userId, removeContributions));
        deps.guidelines.plansChanged();
      },
    },
  };
  return service;
}
export type PlansService = ReturnType<typeof createPlansService>;
export type PlanOverview = NonNullable<Awaited<ReturnType<PlansService['overview']>>>;
export type PlanExport = NonNullable<Awaited<ReturnType<PlansService['exportData']>>>;
export type { ActionRow };
