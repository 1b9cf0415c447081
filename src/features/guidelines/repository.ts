import { and, asc, desc, eq, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import type { Db, Tx } from '../../db/client.ts';
import type { GuidelineFile } from './format.ts';
import type { PlanRatings } from './national.ts';
import {
  type ActionStatus,
  type Agency,
  type EvidenceStatus,
  type FeedbackReason,
  guidelineExamples,
  guidelineFeedback,
  guidelines,
  guidelineStages,
  guidelineStatements,
  guidelineVersions,
  planActions,
  planEvidence,
  planInvitations,
  planMembers,
  planRatings,
  planRounds,
  type PlanRole,
  plans,
  type Rating,
  type RatingState,
} from './schema.ts';

/**
 * All SQL of the guidelines feature (guidelines, plans, the national
 * picture), and only SQL: the rules are in service.ts and plans.ts. Built
 * with `in(tx)` it runs inside the service's unit of work.
 */

export type GuidelineRow = typeof guidelines.$inferSelect;
export type VersionRow = typeof guidelineVersions.$inferSelect;
export type StageRow = typeof guidelineStages.$inferSelect;
export type StatementRow = typeof guidelineStatements.$inferSelect;
export type ExampleRow = typeof guidelineExamples.$inferSelect;
export type PlanRow = typeof plans.$inferSelect;
export type RoundRow = typeof planRounds.$inferSelect;
export type RatingRow = typeof planRatings.$inferSelect;
export type EvidenceRow = typeof planEvidence.$inferSelect;
export type ActionRow = typeof planActions.$inferSelect;
export type MemberRow = typeof planMembers.$inferSelect;
export type InvitationRow = typeof planInvitations.$inferSelect;
export type FeedbackRow = typeof guidelineFeedback.$inferSelect;

export interface VersionContent {
  stages: StageRow[];
  statements: StatementRow[];
  examples: ExampleRow[];
}

export interface NewRating {
  roundId: string;
  statementRef: string;
  agency: Agency;
  rating: Rating;
  state: RatingState;
  naReason: string | null;
  know: string;
  howKnow: string;
  willDo: string;
  updatedBy: string | null;
}

export interface NewAction {
  planId: string;
  statementRef: string | null;
  title: string;
  owner: string;
  agency: Agency;
  dueOn: string;
  status: ActionStatus;
  createdBy: string | null;
}

/** Versions' content kept in memory, by version, with the stamp it was kept under (contentAsOf). */
type KeptContent = Map<string, { stamp: number; content: VersionContent }>;
/** At most this many versions' content kept (a guideline of 60 statements: ~100 KB). */
const KEPT_VERSIONS = 32;

export function createGuidelinesRepository(db: Db) {
  const kept: KeptContent = new Map();
  // Inside a transaction nothing is kept: what it reads may never commit.
  return { ...queries(db, kept), in: (tx: Tx) => queries(tx) };
}

/** Frozen all the way down: a kept value is shared by every request that reads it. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
export type GuidelinesRepository = ReturnType<typeof createGuidelinesRepository>;

/** The ratings of these rounds, or of one statement in them. */
const ratingsOf = (roundIds: string[], statementRef: string | undefined) =>
  and(
    inArray(planRatings.roundId, roundIds),
    statementRef === undefined ? undefined : eq(planRatings.statementRef, statementRef),
  );

function queries(db: Db, kept?: KeptContent) {
  // Read on every request for a plan's page (plans.ts context): built once, not per request.
  const memberPlanQuery = db
    .select({ plan: plans, member: planMembers, guidelineChanged: guidelines.updatedAt })
    .from(planMembers)
    .innerJoin(plans, eq(plans.id, planMembers.planId))
    .innerJoin(guidelines, eq(guidelines.id, plans.guidelineId))
    .where(
      and(
        eq(planMembers.planId, sql.placeholder('planId')),
        eq(planMembers.userId, sql.placeholder('userId')),
      ),
    )
    .prepare('plan_member_plan');
  const rowsOf = async <T>(query: SQL): Promise<T[]> =>
    ((await db.execute(query)) as unknown as { rows: T[] }).rows;

  async function content(versionId: string): Promise<VersionContent> {
    const [stages, statements, examples] = await Promise.all([
      db
        .select()
        .from(guidelineStages)
        .where(eq(guidelineStages.versionId, versionId))
        .orderBy(asc(guidelineStages.position)),
      db
        .select()
        .from(guidelineStatements)
        .where(eq(guidelineStatements.versionId, versionId))
        .orderBy(asc(guidelineStatements.position)),
      db
        .select({ e: guidelineExamples })
        .from(guidelineExamples)
        .innerJoin(guidelineStatements, eq(guidelineStatements.id, guidelineExamples.statementId))
        .where(eq(guidelineStatements.versionId, versionId))
        .orderBy(asc(guidelineExamples.position))
        .then((rows) => rows.map((r) => r.e)),
    ]);
    return { stages, statements, examples };
  }

  return {
    // Guidelines and versions
    async guidelineBySlug(slug: string): Promise<GuidelineRow | undefined> {
      const [row] = await db.select().from(guidelines).where(eq(guidelines.slug, slug));
      return row;
    },
    async guidelineById(id: string): Promise<GuidelineRow | undefined> {
      const [row] = await db.select().from(guidelines).where(eq(guidelines.id, id));
      return row;
    },
    async listGuidelines(): Promise<GuidelineRow[]> {
      return db.select().from(guidelines).orderBy(asc(guidelines.title));
    },
    async versions(guidelineIds: string[]): Promise<VersionRow[]> {
      if (!guidelineIds.length) return [];
      return db
        .select()
        .from(guidelineVersions)
        .where(inArray(guidelineVersions.guidelineId, guidelineIds))
        .orderBy(asc(guidelineVersions.number));
    },
    async versionById(id: string): Promise<VersionRow | undefined> {
      const [row] = await db.select().from(guidelineVersions).where(eq(guidelineVersions.id, id));
      return row;
    },
    content,
    /**
     * A version's content as of `stamp`, its guideline's time of change, kept
     * in memory: the stages, statements and examples of a plan's or a
     * guideline's page were three reads (and 60 statements mapped) on every
     * request, for text that changes a few times a year. Every write to a
     * version's content touches its guideline in the same transaction
     * (saveFile upserts it, updateStatement touches it), so a stamp
     * other than the kept one is read afresh, and a change made by another
     * instance shows as soon as the guideline row read for the request does.
     * What is returned is frozen: shared, never changed.
     */
    async contentAsOf(versionId: string, stamp: Date): Promise<VersionContent> {
      if (!kept) return content(versionId);
      const hit = kept.get(versionId);
      if (hit && hit.stamp === stamp.getTime()) return hit.content;
      const fresh = deepFreeze(await content(versionId));
      kept.delete(versionId);
      kept.set(versionId, { stamp: stamp.getTime(), content: fresh });
      if (kept.size > KEPT_VERSIONS) kept.delete(kept.keys().next().value!);
      return fresh;
    },
    /** Writes one version from a file: the guideline's fields, and the version's content replaced. */
    async saveFile(g: GuidelineFile): Promise<{ versionId: string; created: boolean }> {
      const values = {
        slug: g.slug,
        title: g.title,
        titleCy: g.title_cy ?? null,
        summary: g.summary,
        summaryCy: g.summary_cy ?? null,
        publisher: g.publisher,
        illustrative: g.illustrative,
        isDemo: g.illustrative,
      };
      const [guideline] = await db
        .insert(guidelines)
        .values(values)
        .onConflictDoUpdate({ target: guidelines.slug, set: { ...values, updatedAt: new Date() } })
        .returning({ id: guidelines.id });
      const v = g.version;
      const versionValues = {
        guidelineId: guideline!.id,
        number: v.number,
        label: v.label,
        status: v.status,
        issuedOn: v.issued_on,
        licence: v.licence,
        sourceUrl: v.source_url ?? null,
      };
      const [existing] = await db
        .select({ id: guidelineVersions.id })
        .from(guidelineVersions)
        .where(
          and(
            eq(guidelineVersions.guidelineId, guideline!.id),
            eq(guidelineVersions.number, v.number),
          ),
        );
      let versionId: string;
      if (existing) {
        versionId = existing.id;
        await db
          .update(guidelineVersions)
          .set(versionValues)
          .where(eq(guidelineVersions.id, versionId));
        await db.delete(guidelineStages).where(eq(guidelineStages.versionId, versionId));
      } else {
        const [row] = await db
          .insert(guidelineVersions)
          .values(versionValues)
          .returning({ id: guidelineVersions.id });
        versionId = row!.id;
      }
      let statementPosition = 0;
      for (const [i, s] of g.stages.entries()) {
        const [stage] = await db
          .insert(guidelineStages)
          .values({
            versionId,
            position: i,
            key: s.key,
            title: s.title,
            titleCy: s.title_cy ?? null,
            intro: s.intro ?? '',
            introCy: s.intro_cy ?? null,
            forParents: s.for_parents,
            forParentsCy: s.for_parents_cy ?? null,
          })
          .returning({ id: guidelineStages.id });
        for (const st of s.statements) {
          const [statement] = await db
            .insert(guidelineStatements)
            .values({
              versionId,
              stageId: stage!.id,
              ref: st.ref,
              position: statementPosition++,
              text: st.text,
              textCy: st.text_cy ?? null,
              level: st.level,
              agencies: st.agencies,
              lenses: st.lenses,
            })
            .returning({ id: guidelineStatements.id });
          if (st.examples.length)
            await db.insert(guidelineExamples).values(
              st.examples.map((e, k) => ({
                statementId: statement!.id,
                position: k,
                kind: e.kind,
                text: e.text,
                area: e.area ?? null,
                services: e.services,
                resources: e.resources,
                stories: e.stories,
              })),
            );
        }
      }
      return { versionId, created: !existing };
    },
    async updateStatement(
      versionId: string,
      ref: string,
      values: { text: string; textCy: string | null },
    ): Promise<boolean> {
      const rows = await db
        .update(guidelineStatements)
        .set(values)
        .where(and(eq(guidelineStatements.versionId, versionId), eq(guidelineStatements.ref, ref)))
        .returning({ id: guidelineStatements.id });
      // The guideline's time of change moves with its content (contentAsOf keeps by it).
      if (rows.length)
        await db
          .update(guidelines)
          .set({ updatedAt: new Date() })
          .where(
            eq(
              guidelines.id,
              db
                .select({ id: guidelineVersions.guidelineId })
                .from(guidelineVersions)
                .where(eq(guidelineVersions.id, versionId)),
            ),
          );
      return rows.length > 0;
    },

    /** Whether a round of any plan is on this version (its ratings speak of its wording). */
    async versionInUse(versionId: string): Promise<boolean> {
      const rows = await db
        .select({ id: planRounds.id })
        .from(planRounds)
        .where(eq(planRounds.versionId, versionId))
        .limit(1);
      return rows.length > 0;
    },

    async setVersionStatus(versionId: string, status: VersionRow['status']): Promise<void> {
      const [v] = await db
        .update(guidelineVersions)
        .set({ status })
        .where(eq(guidelineVersions.id, versionId))
        .returning({ guidelineId: guidelineVersions.guidelineId });
      // Pages drawn from the guideline, and plans' pages (which show a newer version), are
      // kept under its time of change: a version's status is part of it.
      if (v)
        await db
          .update(guidelines)
          .set({ updatedAt: new Date() })
          .where(eq(guidelines.id, v.guidelineId));
    },

    // The site search (service.ts `searchSource`): the statements of each guideline's
    // current published version, keyed `<guideline slug>/<statement ref>` (stable across
    // versions), in that key's byte order.
    async searchStatements(q: {
      after?: string | undefined;
      ids?: readonly string[] | undefined;
      slug?: string | undefined;
      limit: number;
    }) {
      if (q.ids && !q.ids.length) return [];
      const key = sql<string>`(${guidelines.slug} || '/' || ${guidelineStatements.ref})`;
      return db
        .select({
          id: key,
          slug: guidelines.slug,
          ref: guidelineStatements.ref,
          text: guidelineStatements.text,
          textCy: guidelineStatements.textCy,
          stageTitle: guidelineStages.title,
          stageTitleCy: guidelineStages.titleCy,
          guidelineTitle: guidelines.title,
          guidelineTitleCy: guidelines.titleCy,
          issuedOn: guidelineVersions.issuedOn,
          updatedAt: guidelines.updatedAt,
          examples: sql<string[] | null>`(SELECT array_agg(e.text ORDER BY e.position)
            FROM guideline_examples e WHERE e.statement_id = ${guidelineStatements.id})`,
        })
        .from(guidelineStatements)
        .innerJoin(guidelineVersions, eq(guidelineVersions.id, guidelineStatements.versionId))
        .innerJoin(guidelines, eq(guidelines.id, guidelineVersions.guidelineId))
        .innerJoin(guidelineStages, eq(guidelineStages.id, guidelineStatements.stageId))
        .where(
          and(
            eq(guidelineVersions.status, 'published'),
            sql`${guidelineVersions.number} = (SELECT max(v.number) FROM guideline_versions v
              WHERE v.guideline_id = ${guidelineVersions.guidelineId} AND v.status = 'published')`,
            q.after === undefined ? undefined : sql`${key} COLLATE "C" > ${q.after}`,
            q.ids ? inArray(key, [...q.ids]) : undefined,
            q.slug === undefined ? undefined : eq(guidelines.slug, q.slug),
          ),
        )
        .orderBy(sql`${key} COLLATE "C"`)
        .limit(q.limit);
    },
    /** Keys of the statements (any version) of guidelines changed since then. */
    async statementsChangedSince(since: Date, limit: number): Promise<string[]> {
      const rows = await db
        .selectDistinct({
          id: sql<string>`(${guidelines.slug} || '/' || ${guidelineStatements.ref})`,
          at: guidelines.updatedAt,
        })
        .from(guidelineStatements)
        .innerJoin(guidelineVersions, eq(guidelineVersions.id, guidelineStatements.versionId))
        .innerJoin(guidelines, eq(guidelines.id, guidelineVersions.guidelineId))
        .where(sql`${guidelines.updatedAt} > ${since}`)
        .orderBy(guidelines.updatedAt, sql`1`)
        .limit(limit);
      return rows.map((r) => r.id);
    },

    // Feedback to the publisher
    async insertFeedback(values: {
      guidelineId: string;
      versionId: string;
      statementRef: string;
      planId: string;
      userId: string;
      reason: FeedbackReason;
      detail: string;
    }): Promise<void> {
      await db.insert(guidelineFeedback).values(values);
    },
    async feedbackFor(guidelineId: string): Promise<FeedbackRow[]> {
      return db
        .select()
        .from(guidelineFeedback)
        .where(eq(guidelineFeedback.guidelineId, guidelineId))
        .orderBy(asc(guidelineFeedback.statementRef), desc(guidelineFeedback.createdAt));
    },

    // Plans
    async insertPlan(values: typeof plans.$inferInsert): Promise<PlanRow> {
      const [row] = await db.insert(plans).values(values).returning();
      return row!;
    },
    async planById(id: string): Promise<PlanRow | undefined> {
      const [row] = await db.select().from(plans).where(eq(plans.id, id));
      return row;
    },
    async touchPlan(id: string): Promise<void> {
      await db.update(plans).set({ updatedAt: new Date() }).where(eq(plans.id, id));
    },
    async plansOf(userId: string): Promise<(PlanRow & { role: PlanRole })[]> {
      const rows = await db
        .select({ plan: plans, role: planMembers.role })
        .from(planMembers)
        .innerJoin(plans, eq(plans.id, planMembers.planId))
        .where(eq(planMembers.userId, userId))
        .orderBy(asc(plans.title));
      return rows.map((r) => ({ ...r.plan, role: r.role }));
    },
    /** The plan and the person's membership of it, in one query (undefined if not a member). */
    async memberPlan(
      planId: string,
      userId: string,
    ): Promise<{ plan: PlanRow; member: MemberRow; guidelineChanged: Date } | undefined> {
      const [row] = await memberPlanQuery.execute({ planId, userId });
      return row;
    },
    async membership(planId: string, userId: string): Promise<MemberRow | undefined> {
      const [row] = await db
        .select()
        .from(planMembers)
        .where(and(eq(planMembers.planId, planId), eq(planMembers.userId, userId)));
      return row;
    },
    async members(planId: string): Promise<MemberRow[]> {
      return db
        .select()
        .from(planMembers)
        .where(eq(planMembers.planId, planId))
        .orderBy(asc(planMembers.createdAt));
    },
    async upsertMember(planId: string, userId: string, role: PlanRole): Promise<void> {
      await db
        .insert(planMembers)
        .values({ planId, userId, role })
        .onConflictDoUpdate({ target: [planMembers.planId, planMembers.userId], set: { role } });
    },
    async removeMember(planId: string, userId: string): Promise<void> {
      await db
        .delete(planMembers)
        .where(and(eq(planMembers.planId, planId), eq(planMembers.userId, userId)));
    },
    async insertInvitation(values: typeof planInvitations.$inferInsert): Promise<void> {
      await db.insert(planInvitations).values(values);
    },
    async invitationByHash(hash: string): Promise<InvitationRow | undefined> {
      const [row] = await db
        .select()
        .from(planInvitations)
        .where(and(eq(planInvitations.tokenHash, hash), isNull(planInvitations.acceptedAt)));
      return row;
    },
    async openInvitations(planId: string): Promise<InvitationRow[]> {
      return db
        .select()
        .from(planInvitations)
        .where(and(eq(planInvitations.planId, planId), isNull(planInvitations.acceptedAt)))
        .orderBy(asc(planInvitations.createdAt));
    },
    async acceptInvitation(id: string): Promise<void> {
      await db
        .update(planInvitations)
        .set({ acceptedAt: new Date() })
        .where(eq(planInvitations.id, id));
    },

    // Rounds and ratings
    async rounds(planId: string): Promise<RoundRow[]> {
      return db
        .select()
        .from(planRounds)
        .where(eq(planRounds.planId, planId))
        .orderBy(asc(planRounds.position));
    },
    async insertRound(values: {
      planId: string;
      position: number;
      name: string;
      versionId: string;
    }): Promise<RoundRow> {
      const [row] = await db.insert(planRounds).values(values).returning();
      return row!;
    },
    /** The ratings of these rounds (of one statement, given its ref). */
    async ratings(roundIds: string[], statementRef?: string): Promise<RatingRow[]> {
      if (!roundIds.length) return [];
      return db.select().from(planRatings).where(ratingsOf(roundIds, statementRef));
    },
    /** The evidence on the ratings of these rounds (of one statement), earliest review-by first. */
    async evidence(roundIds: string[], statementRef?: string): Promise<EvidenceRow[]> {
      if (!roundIds.length) return [];
      return db
        .select({ e: planEvidence })
        .from(planEvidence)
        .innerJoin(planRatings, eq(planRatings.id, planEvidence.ratingId))
        .where(ratingsOf(roundIds, statementRef))
        .orderBy(asc(planEvidence.reviewBy))
        .then((rows) => rows.map((r) => r.e));
    },
    async upsertRating(values: NewRating): Promise<RatingRow> {
      const [row] = await db
        .insert(planRatings)
        .values(values)
        .onConflictDoUpdate({
          target: [planRatings.roundId, planRatings.statementRef, planRatings.agency],
          set: { ...values, updatedAt: new Date() },
        })
        .returning();
      return row!;
    },
    async insertRatings(values: NewRating[]): Promise<void> {
      for (let i = 0; i < values.length; i += 500)
        await db.insert(planRatings).values(values.slice(i, i + 500));
    },
    /** Copies evidence of `from` ratings onto the same statement and agency in another round. */
    async copyEvidence(fromRoundId: string, toRoundId: string): Promise<void> {
      await db.execute(sql`
        INSERT INTO plan_evidence (rating_id, description, review_by, added_by, created_at)
        SELECT t.id, e.description, e.review_by, e.added_by, e.created_at
        FROM plan_evidence e
        JOIN plan_ratings f ON f.id = e.rating_id AND f.round_id = ${fromRoundId}
        JOIN plan_ratings t ON t.round_id = ${toRoundId}
          AND t.statement_ref = f.statement_ref AND t.agency = f.agency`);
    },
    async insertEvidence(values: typeof planEvidence.$inferInsert): Promise<void> {
      await db.insert(planEvidence).values(values);
    },

    // Actions
    /** A plan's actions (those of one statement, given its ref). */
    async actions(planId: string, statementRef?: string): Promise<ActionRow[]> {
      return db
        .select()
        .from(planActions)
        .where(
          and(
            eq(planActions.planId, planId),
            statementRef === undefined ? undefined : eq(planActions.statementRef, statementRef),
          ),
        )
        .orderBy(asc(planActions.dueOn), asc(planActions.title));
    },
    async action(planId: string, id: string): Promise<ActionRow | undefined> {
      const [row] = await db
        .select()
        .from(planActions)
        .where(and(eq(planActions.planId, planId), eq(planActions.id, id)));
      return row;
    },
    async insertAction(values: NewAction): Promise<ActionRow> {
      const [row] = await db.insert(planActions).values(values).returning();
      return row!;
    },
    async insertActions(
      values: (NewAction & { evidenceStatus?: EvidenceStatus })[],
    ): Promise<void> {
      for (let i = 0; i < values.length; i += 500)
        await db.insert(planActions).values(values.slice(i, i + 500));
    },
    async updateAction(
      id: string,
      values: Partial<Omit<typeof planActions.$inferInsert, 'id' | 'planId'>>,
    ): Promise<void> {
      await db
        .update(planActions)
        .set({ ...values, updatedAt: new Date() })
        .where(eq(planActions.id, id));
    },

    /**
     * Confirmed ratings counted per round, stage and rating (each agency's
     * rating once), for the plan's progress chart.
     */
    async roundCounts(
      planId: string,
    ): Promise<{ round: number; stage: string; rating: string; n: number }[]> {
      return rowsOf(sql`
        SELECT ro.position AS round, st.key AS stage, r.rating, count(*)::int AS n
        FROM plan_rounds ro
        JOIN plan_ratings r ON r.round_id = ro.id AND r.state = 'confirmed'
        JOIN guideline_statements s ON s.version_id = ro.version_id AND s.ref = r.statement_ref
        JOIN guideline_stages st ON st.id = s.stage_id
        WHERE ro.plan_id = ${planId}
        GROUP BY 1, 2, 3`);
    },

    /**
     * The national picture's raw material: for every plan on the guideline
     * whose latest round has a confirmed rating (not "not applicable"), its
     * authorities, its region and each statement's combined rating there (the
     * lowest confirmed rating of its agencies: 0 not, 1 partly, 2 fully). The
     * service merges plans into areas and decides what may be shown
     * (`national.ts`). One row per plan.
     */
    async national(guidelineId: string): Promise<PlanRatings[]> {
      // Ranked 0/1/2 so the lowest is min() and the grouping hashes (no text sorting).
      return rowsOf<PlanRatings>(sql`
        WITH latest AS (
          SELECT DISTINCT ON (ro.plan_id) ro.id, ro.plan_id, p.region, p.area_codes
          FROM plan_rounds ro JOIN plans p ON p.id = ro.plan_id
          WHERE p.guideline_id = ${guidelineId}
          ORDER BY ro.plan_id, ro.position DESC),
        combined AS (
          SELECT r.round_id, r.statement_ref AS ref,
            min(CASE r.rating WHEN 'not' THEN 0 WHEN 'partly' THEN 1 ELSE 2 END) AS v
          FROM latest l JOIN plan_ratings r ON r.round_id = l.id
          WHERE r.state = 'confirmed' AND r.rating <> 'na'
          GROUP BY r.round_id, r.statement_ref)
        SELECT l.plan_id::text AS "planId", l.area_codes AS "areaCodes", l.region,
          json_object_agg(c.ref, c.v) AS ratings
        FROM latest l JOIN combined c ON c.round_id = l.id
        GROUP BY l.plan_id, l.area_codes, l.region`);
    },

    // Personal data
    async personalData(userId: string) {
      const [memberships, ratings, actions, feedback, evidence, invitations] = await Promise.all([
        db
          .select({ plan: plans.title, role: planMembers.role, since: planMembers.createdAt })
          .from(planMembers)
          .innerJoin(plans, eq(plans.id, planMembers.planId))
          .where(eq(planMembers.userId, userId)),
        db
          .select({
            plan: plans.title,
            round: planRounds.name,
            statement: planRatings.statementRef,
            agency: planRatings.agency,
            rating: planRatings.rating,
            naReason: planRatings.naReason,
            know: planRatings.know,
            howKnow: planRatings.howKnow,
            willDo: planRatings.willDo,
            updatedAt: planRatings.updatedAt,
          })
          .from(planRatings)
          .innerJoin(planRounds, eq(planRounds.id, planRatings.roundId))
          .innerJoin(plans, eq(plans.id, planRounds.planId))
          .where(eq(planRatings.updatedBy, userId)),
        db
          .select({
            plan: plans.title,
            title: planActions.title,
            owner: planActions.owner,
            agency: planActions.agency,
            dueOn: planActions.dueOn,
            status: planActions.status,
            createdAt: planActions.createdAt,
          })
          .from(planActions)
          .innerJoin(plans, eq(plans.id, planActions.planId))
          .where(eq(planActions.createdBy, userId)),
        db
          .select({
            statement: guidelineFeedback.statementRef,
            reason: guidelineFeedback.reason,
            detail: guidelineFeedback.detail,
            createdAt: guidelineFeedback.createdAt,
          })
          .from(guidelineFeedback)
          .where(eq(guidelineFeedback.userId, userId)),
        db
          .select({
            description: planEvidence.description,
            reviewBy: planEvidence.reviewBy,
            createdAt: planEvidence.createdAt,
          })
          .from(planEvidence)
          .where(eq(planEvidence.addedBy, userId)),
        db
          .select({ plan: plans.title, email: planInvitations.email, role: planInvitations.role })
          .from(planInvitations)
          .innerJoin(plans, eq(plans.id, planInvitations.planId))
          .where(eq(planInvitations.invitedBy, userId)),
      ]);
      return { memberships, ratings, actions, evidence, feedback, invitations };
    },
    /**
     * A member's deletion: a plan they were the only lead of passes to its
     * longest-standing other member; a plan with nobody else is deleted; their
     * name comes off ratings, evidence and actions (the plan's record stays).
     */
    async erase(userId: string, removeContributions: boolean): Promise<void> {
      await db.execute(sql`
        UPDATE plan_members m SET role = 'lead'
        FROM (
          SELECT DISTINCT ON (o.plan_id) o.plan_id, o.user_id
          FROM plan_members me JOIN plan_members o ON o.plan_id = me.plan_id AND o.user_id <> me.user_id
          WHERE me.user_id = ${userId} AND me.role = 'lead'
            AND NOT EXISTS (SELECT 1 FROM plan_members l
                            WHERE l.plan_id = me.plan_id AND l.role = 'lead' AND l.user_id <> me.user_id)
          ORDER BY o.plan_id, o.created_at) heir
        WHERE m.plan_id = heir.plan_id AND m.user_id = heir.user_id`);
      await db.execute(sql`
        DELETE FROM plans p WHERE EXISTS (SELECT 1 FROM plan_members me WHERE me.plan_id = p.id AND me.user_id = ${userId})
          AND NOT EXISTS (SELECT 1 FROM plan_members o WHERE o.plan_id = p.id AND o.user_id <> ${userId})`);
      await db.delete(planMembers).where(eq(planMembers.userId, userId));
      await db.delete(planInvitations).where(eq(planInvitations.invitedBy, userId));
      await db
        .update(planRatings)
        .set({ updatedBy: null })
        .where(eq(planRatings.updatedBy, userId));
      await db.update(planEvidence).set({ addedBy: null }).where(eq(planEvidence.addedBy, userId));
      await db
        .update(planActions)
        .set({ createdBy: null })
        .where(eq(planActions.createdBy, userId));
      await db
        .update(planActions)
        .set({ signedOffBy: null })
        .where(eq(planActions.signedOffBy, userId));
      await db.update(plans).set({ createdBy: null }).where(eq(plans.createdBy, userId));
      if (removeContributions)
        await db.delete(guidelineFeedback).where(eq(guidelineFeedback.userId, userId));
      else
        await db
          .update(guidelineFeedback)
          .set({ userId: null })
          .where(eq(guidelineFeedback.userId, userId));
    },
  };
}
