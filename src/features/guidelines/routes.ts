import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { userOf } from '../../platform/auth.ts';
import { echoValues, errorsFrom, fieldError, type FormErrors } from '../../platform/forms.ts';
import { planCsv, planXlsx } from './export.ts';
import type { PlanExport, PlansService } from './plans.ts';
import { REF } from './format.ts';
import {
  ACTION_STATUSES,
  AGENCIES,
  FEEDBACK_REASONS,
  LENSES,
  LEVELS,
  PLAN_ROLES,
  RATINGS,
} from './schema.ts';
import type { GuidelinesService } from './service.ts';
import { createKept } from '../../platform/kept.ts';
import { pageLinks } from '../../platform/pagination.ts';

/** HTTP only: parse with zod, call the guidelines or plans service, render. */

const V = 'guidelines/views';
const slugParam = z.object({ slug: z.string().regex(/^[a-z0-9-]{1,120}$/) });
const refParams = slugParam.extend({ ref: z.string().regex(REF) });
const idParam = z.object({ id: z.uuid() });
const planRefParams = idParam.extend({ ref: z.string().regex(REF) });
const actionParams = idParam.extend({ actionId: z.uuid() });
/** Actions on a plan's page at a time (overdue first). */
const ACTIONS_PER_PAGE = 50;
const versionQuery = z.coerce.number().int().min(1).max(999).optional().catch(undefined);
const filtersQuery = z.object({
  version: versionQuery,
  level: z.enum(LEVELS).optional().catch(undefined),
  agency: z.enum(AGENCIES).optional().catch(undefined),
  lens: z.enum(LENSES).optional().catch(undefined),
});

type T = (key: string, vars?: Record<string, string | number>) => string;

/** A GOV.UK select's items: "any", then each value with its label. */
const options = (t: T, group: string, values: readonly string[], selected?: string) => [
  { value: '', text: t('guidelines.filters.any') },
  ...values.map((v) => ({
    value: v,
    text: t(`guidelines.${group}.${v}`),
    selected: v === selected,
  })),
];

/** Welsh text where there is some, else English (content is written in English first). */
const localise = (locale: string) => (o: object, field: string) => {
  const r = o as Record<string, unknown>;
  return (locale === 'cy' && (r[`${field}Cy`] as string | null)) || (r[field] as string);
};

const required = (key: string, max: number) =>
  z.string(key).trim().min(1, key).max(max, 'guidelines.errors.tooLong');
const optional = (max: number) =>
  z
    .string()
    .trim()
    .max(max, 'guidelines.errors.tooLong')
    .optional()
    .transform((v) => v || '');

/** A GOV.UK date input (name-day, name-month, name-year) as YYYY-MM-DD, or undefined. */
export function dateFrom(body: Record<string, unknown>, name: string): string | undefined {
  const [d, m, y] = ['day', 'month', 'year'].map((p) => String(body[`${name}-${p}`] ?? '').trim());
  if (!/^\d{1,2}$/.test(d!) || !/^\d{1,2}$/.test(m!) || !/^\d{4}$/.test(y!)) return undefined;
  const iso = `${y}-${m!.padStart(2, '0')}-${d!.padStart(2, '0')}`;
  const date = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(iso) ? iso : undefined;
}
const dateFields = (iso: string | null | undefined, name: string) => {
  if (!iso) return {};
  const [y, m, d] = iso.split('-');
  return {
    [`${name}-day`]: String(Number(d)),
    [`${name}-month`]: String(Number(m)),
    [`${name}-year`]: y,
  };
};

function problems(issues: z.core.$ZodIssue[], prefix = ''): { field: string; key: string }[] {
  return issues.map((i) => ({ field: `${prefix}${String(i.path[0] ?? 'form')}`, key: i.message }));
}

const ratingSchema = z.object({
  agency: z.enum(AGENCIES, 'guidelines.errors.agency'),
  rating: z.enum(RATINGS, 'guidelines.errors.rating'),
  naReason: optional(1000),
  know: optional(4000),
  howKnow: optional(4000),
  willDo: optional(4000),
});

const actionSchema = z.object({
  title: required('guidelines.errors.actionTitle', 200),
  owner: required('guidelines.errors.owner', 120),
  agency: z.enum(AGENCIES, 'guidelines.errors.agency'),
  status: z.enum(ACTION_STATUSES, 'guidelines.errors.status'),
  statementRef: z
    .string()
    .optional()
    .transform((v) => (v && REF.test(v) ? v : undefined)),
  evidenceSubmitted: z
    .unknown()
    .optional()
    .transform((v) => v === 'yes'),
});

/** Other features' pages about a statement (wired in app.ts): the practice stories citing it. */
export interface GuidelinesRoutesOptions {
  stories?: {
    forStatement(
      slug: string,
      ref: string,
    ): Promise<{ title: string; href: string; language: string }[]>;
  };
}

export function guidelinesRoutes(
  guidelines: GuidelinesService,
  plans: PlansService,
  opts: GuidelinesRoutesOptions = {},
): FastifyPluginAsync {
  /** Plans' downloads (CSV, .xlsx), kept as bytes for the plan's state: at most 16 MB. */
  const downloads = createKept<Buffer>(16 * 1024 * 1024);
  return async (app) => {
    const pub = { access: 'public' as const };
    const editor = { access: 'editor' as const };
    const view = (req: FastifyRequest) => ({ loc: localise(req.locale) });
    /** The success message of a plan page after a change (`?done=`), or none. */
    const doneBanner = (req: FastifyRequest, done: string | undefined) =>
      done ? req.t(`guidelines.plans.done.${done}`) : undefined;

    app.get('/guidelines', { config: { ...pub, pageCache: 10 } }, async (req, reply) =>
      reply.render(`${V}/list.njk`, {
        title: req.t('guidelines.list.title'),
        description: req.t('guidelines.list.intro'),
        rows: await guidelines.list(),
        ...view(req),
      }),
    );

    app.get('/guidelines/:slug', { config: pub }, async (req, reply) => {
      const p = slugParam.safeParse(req.params);
      const q = filtersQuery.parse(req.query);
      const found = p.success ? await guidelines.contents(p.data.slug, q.version, q) : undefined;
      if (!found) return reply.callNotFound();
      const title = localise(req.locale)(found.guideline, 'title');
      const isEditor = req.user?.role === 'editor' || req.user?.role === 'admin';
      // Kept for the version's state (its words, the guideline's time of change), the filters
      // and whether the reader may edit.
      const key = [found.state, q.version, q.level, q.agency, q.lens, isEditor].join('|');
      const main = await reply.part(`${V}/guideline.njk`, `contents|${key}`, () => ({
        title,
        g: found,
        query: q,
        selects: {
          level: options(req.t, 'levels', LEVELS, q.level),
          agency: options(req.t, 'agencies', AGENCIES, q.agency),
          lens: options(req.t, 'lenses', LENSES, q.lens),
        },
        isEditor,
        ...view(req),
      }));
      return reply.render('part-page.njk', {
        title,
        description: found.guideline.summary,
        main,
      });
    });

    app.get('/guidelines/:slug/changes', { config: pub }, async (req, reply) => {
      const p = slugParam.safeParse(req.params);
      const q = z.object({ from: versionQuery, to: versionQuery }).parse(req.query);
      const found = p.success ? await guidelines.changes(p.data.slug, q.from, q.to) : undefined;
      if (!found) return reply.callNotFound();
      return reply.render(`${V}/changes.njk`, {
        title: req.t('guidelines.changes.title'),
        c: found,
        counts: Object.fromEntries(
          ['unchanged', 'changed', 'new', 'removed'].map((k) => [
            k,
            found.rows?.filter((r) => r.change === k).length ?? 0,
          ]),
        ),
        ...view(req),
      });
    });

    app.get('/guidelines/:slug/progress', { config: pub }, async (req, reply) => {
      const p = slugParam.safeParse(req.params);
      const found = p.success ? await guidelines.nationalAsOf(req.user, p.data.slug) : undefined;
      if (!found) return reply.callNotFound();
      const title = req.t('guidelines.national.title');
      // Kept for the picture's state: drawn again when the counts are counted again.
      const main = await reply.part(`${V}/national.njk`, `national|${found.state}`, () => ({
        title,
        n: found.picture(),
        ...view(req),
      }));
      return reply.render('part-page.njk', { title, main });
    });

    app.get('/guidelines/:slug/feedback', { config: editor }, async (req, reply) => {
      const p = slugParam.safeParse(req.params);
      const found = p.success ? await guidelines.feedback(req.user, p.data.slug) : undefined;
      if (!found) return reply.callNotFound();
      return reply.render(`${V}/feedback.njk`, {
        title: req.t('guidelines.feedback.title'),
        f: found,
        noindex: true,
        ...view(req),
      });
    });

    app.get(
      '/guidelines/:slug/parents/:stage',
      { config: { ...pub, pageCache: 10 } },
      async (req, reply) => {
        const p = slugParam
          .extend({ stage: z.string().regex(/^[a-z0-9-]{1,80}$/) })
          .safeParse(req.params);
        const found = p.success
          ? await guidelines.stageForParents(p.data.slug, p.data.stage)
          : undefined;
        if (!found) return reply.callNotFound();
        const loc = localise(req.locale);
        return reply.render(`${V}/parents.njk`, {
          title: loc(found.stage, 'title'),
          g: found,
          paragraphs: loc(found.stage, 'forParents').split(/\n\s*\n/),
          ...view(req),
        });
      },
    );

    app.get('/guidelines/:slug/:ref', { config: pub }, async (req, reply) => {
      const p = refParams.safeParse(req.params);
      const q = z.object({ version: versionQuery }).parse(req.query);
      const found = p.success
        ? await guidelines.statement(p.data.slug, p.data.ref, q.version)
        : undefined;
      if (!found) return reply.callNotFound();
      return reply.render(`${V}/statement.njk`, {
        title: req.t('guidelines.statement.title', { ref: found.statement.ref }),
        s: found,
        citedBy: (await opts.stories?.forStatement(p.data!.slug, found.statement.ref)) ?? [],
        isEditor: req.user?.role === 'editor' || req.user?.role === 'admin',
        ...view(req),
      });
    });

    const editPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      extra: { errors?: FormErrors; values?: Record<string, unknown> } = {},
    ) => {
      const p = refParams.safeParse(req.params);
      const q = z.object({ version: versionQuery }).parse(req.query);
      const found = p.success
        ? await guidelines.statement(p.data.slug, p.data.ref, q.version)
        : undefined;
      if (!found) return reply.callNotFound();
      return reply.render(
        `${V}/edit-statement.njk`,
        {
          title: req.t('guidelines.edit.title', { ref: found.statement.ref }),
          s: found,
          editing: await guidelines.editing(found.guideline.slug, found.version.number),
          values: extra.values ?? {
            text: found.statement.text,
            textCy: found.statement.textCy ?? '',
          },
          errors: extra.errors,
          noindex: true,
          ...view(req),
        },
        extra.errors ? 400 : 200,
      );
    };
    app.get('/guidelines/:slug/:ref/edit', { config: editor }, async (req, reply) =>
      editPage(req, reply),
    );
    app.post('/guidelines/:slug/:ref/edit', { config: editor }, async (req, reply) => {
      const p = refParams.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      const body = (req.body ?? {}) as Record<string, unknown>;
      const form = z
        .object({ text: required('guidelines.errors.text', 4000), textCy: optional(4000) })
        .safeParse(body);
      if (!form.success)
        return editPage(req, reply, {
          errors: errorsFrom(problems(form.error.issues), req.t),
          values: echoValues(body),
        });
      const q = z.object({ version: versionQuery }).parse(req.query);
      const found = await guidelines.statement(p.data.slug, p.data.ref, q.version);
      if (!found) return reply.callNotFound();
      const saved = await guidelines.editStatement(
        req.user,
        p.data.slug,
        found.version.number,
        p.data.ref,
        { text: form.data.text, textCy: form.data.textCy || null },
      );
      if (!saved) return reply.callNotFound();
      // Only the latest version changes: the words typed stay in the form.
      if ('newer' in saved)
        return editPage(req, reply, {
          errors: fieldError('text', 'guidelines.errors.notLatest', req.t, {
            number: saved.newer,
          }),
          values: echoValues(body),
        });
      return reply.redirect(
        `/guidelines/${p.data.slug}/${p.data.ref}?version=${saved.version}`,
        303,
      );
    });

    // Local action plans. Every plan URL answers 404 to anyone who is not one of its members.
    const member = { access: 'member' as const };

    const plansPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      extra: { errors?: FormErrors; values?: Record<string, unknown> } = {},
    ) => {
      const actor = userOf(req);
      const [mine, choices] = await Promise.all([plans.mine(actor), plans.choices()]);
      return reply.render(
        `${V}/plans.njk`,
        {
          title: req.t('guidelines.plans.title'),
          mine,
          choices,
          agencies: AGENCIES,
          values: extra.values ?? {
            roundName: req.t('guidelines.plans.create.roundDefault'),
            agencies: [...AGENCIES],
          },
          errors: extra.errors,
          noindex: true,
          ...view(req),
        },
        extra.errors ? 400 : 200,
      );
    };
    app.get('/plans', { config: member }, async (req, reply) => plansPage(req, reply));
    app.post('/plans', { config: member }, async (req, reply) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const list = (v: unknown) => (Array.isArray(v) ? v : v === undefined || v === '' ? [] : [v]);
      const form = z
        .object({
          title: required('guidelines.plans.errors.title', 200),
          guideline: z
            .string('guidelines.plans.errors.guideline')
            .min(1, 'guidelines.plans.errors.guideline'),
          area1: z
            .string('guidelines.plans.errors.areas')
            .regex(/^[EW]\d{8}$/, 'guidelines.plans.errors.areas'),
          area2: z.string().optional(),
          area3: z.string().optional(),
          agencies: z
            .array(z.enum(AGENCIES, 'guidelines.plans.errors.agencies'))
            .min(1, 'guidelines.plans.errors.agencies'),
          roundName: required('guidelines.errors.roundName', 120),
        })
        .safeParse({ ...body, agencies: list(body.agencies) });
      const values = { ...echoValues(body), agencies: list(body.agencies) };
      if (!form.success)
        return plansPage(req, reply, {
          errors: errorsFrom(problems(form.error.issues), req.t),
          values,
        });
      const areas = [form.data.area1, form.data.area2, form.data.area3].filter((a): a is string =>
        Boolean(a && /^[EW]\d{8}$/.test(a)),
      );
      const result = await plans.create(userOf(req), {
        title: form.data.title,
        guidelineSlug: form.data.guideline,
        areaCodes: [...new Set(areas)],
        agencies: form.data.agencies,
        roundName: form.data.roundName,
      });
      if (!result.ok)
        return plansPage(req, reply, {
          errors: errorsFrom(
            [{ field: result.field === 'areas' ? 'area1' : result.field, key: result.key }],
            req.t,
          ),
          values,
        });
      return reply.redirect(`/plans/${result.plan.id}?done=created`, 303);
    });

    // Invitations: the link in the email is the key; accepting needs an approved member.
    app.get('/plans/invitations/:token', { config: pub }, async (req, reply) => {
      const token = z
        .string()
        .min(20)
        .max(100)
        .safeParse((req.params as { token: string }).token);
      const found = token.success ? await plans.invitation(token.data) : undefined;
      return reply.render(
        `${V}/invitation.njk`,
        {
          title: req.t('guidelines.plans.invitation.title'),
          found: Boolean(found),
          // The plan's title only for a signed-in approved member holding a live link.
          planTitle: found && req.user?.approved ? found.plan.title : undefined,
          role: found?.invitation.role,
          signInHref: `/account/sign-in?next=${encodeURIComponent(req.url)}`,
          noindex: true,
        },
        found ? 200 : 404,
      );
    });
    app.post('/plans/invitations/:token', { config: member }, async (req, reply) => {
      const token = z
        .string()
        .min(20)
        .max(100)
        .safeParse((req.params as { token: string }).token);
      const id = token.success ? await plans.accept(userOf(req), token.data) : undefined;
      if (!id) return reply.callNotFound();
      return reply.redirect(`/plans/${id}?done=joined`, 303);
    });

    const planPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      extra: { errors?: FormErrors; values?: Record<string, unknown> } = {},
    ) => {
      const p = idParam.safeParse(req.params);
      const q = z
        .object({
          round: versionQuery,
          done: z.string().max(40).optional().catch(undefined),
          page: z.coerce.number().int().min(1).max(100_000).catch(1).default(1),
        })
        .parse(req.query);
      const ctx = p.success ? await plans.context(req.user, p.data.id) : undefined;
      if (!ctx) return reply.callNotFound();
      // The page's content is kept for the plan's state (plans.ts PlanContext), round and page
      // of actions, unless it shows this person's errors.
      const key =
        extra.errors || extra.values ? undefined : `plan|${ctx.state}|${q.round ?? ''}|${q.page}`;
      const draw = async () => {
        const found = (await plans.overviewIn(ctx, q.round))!;
        // The actions a page at a time, overdue ones first (the report and the exports hold all).
        const total = found.actions.length;
        const pages = Math.max(1, Math.ceil(total / ACTIONS_PER_PAGE));
        const page = Math.min(q.page, pages);
        const from = (page - 1) * ACTIONS_PER_PAGE;
        const query = new URLSearchParams(q.round ? { round: String(q.round) } : {});
        return {
          title: found.plan.title,
          p: { ...found, actions: found.actions.slice(from, from + ACTIONS_PER_PAGE) },
          actionsShown: { from: from + 1, to: Math.min(total, from + ACTIONS_PER_PAGE), total },
          pagination: pageLinks(`/plans/${found.plan.id}`, query, page, pages, {
            fragment: 'actions',
          }),
          values: extra.values ?? {},
          errors: extra.errors,
          ...view(req),
        };
      };
      const main = await reply.part(`${V}/_plan-main.njk`, key, draw);
      return reply.render(
        'part-page.njk',
        {
          title: ctx.plan.title,
          main,
          banner: doneBanner(req, q.done),
          errors: extra.errors,
          noindex: true,
        },
        extra.errors ? 400 : 200,
      );
    };
    app.get('/plans/:id', { config: pub }, async (req, reply) => planPage(req, reply));

    const statementPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      extra: { errors?: FormErrors; values?: Record<string, unknown>; form?: string } = {},
    ) => {
      const p = planRefParams.safeParse(req.params);
      const ctx = p.success ? await plans.context(req.user, p.data.id) : undefined;
      if (!p.success || !ctx) return reply.callNotFound();
      const { ref } = p.data;
      const done = z
        .string()
        .max(40)
        .optional()
        .catch(undefined)
        .parse((req.query as { done?: string }).done);
      const title = req.t('guidelines.plans.statement.title', { ref });
      // Kept for the plan's state and the statement, unless it shows this person's errors.
      const key = extra.errors || extra.values ? undefined : `statement|${ctx.state}|${ref}`;
      const main = await reply.part(`${V}/_plan-statement-main.njk`, key, async () => {
        const found = await plans.statementIn(ctx, ref);
        return (
          found && {
            title,
            s: found,
            ratings: RATINGS,
            reasons: FEEDBACK_REASONS,
            form: extra.form,
            values: extra.values ?? {},
            errors: extra.errors,
            ...view(req),
          }
        );
      });
      if (!main) return reply.callNotFound();
      return reply.render(
        `${V}/plan-statement.njk`,
        {
          title,
          plan: ctx.plan,
          main,
          banner: doneBanner(req, done),
          errors: extra.errors,
          noindex: true,
        },
        extra.errors ? 400 : 200,
      );
    };
    app.get('/plans/:id/statements/:ref', { config: pub }, async (req, reply) =>
      statementPage(req, reply),
    );
    app.post('/plans/:id/statements/:ref/rating', { config: pub }, async (req, reply) => {
      const p = planRefParams.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      const body = (req.body ?? {}) as Record<string, unknown>;
      const agency = String(body.agency ?? '');
      const form = ratingSchema.safeParse(body);
      if (!form.success) {
        if (!(await plans.statement(req.user, p.data.id, p.data.ref))) return reply.callNotFound();
        return statementPage(req, reply, {
          errors: errorsFrom(problems(form.error.issues, `${agency}-`), req.t),
          values: echoValues(body),
          form: agency,
        });
      }
      // The rules (not applicable needs a reason) are the service's; the page shows its answer.
      const done = await plans.rate(req.user, p.data.id, p.data.ref, form.data);
      if (!done) return reply.callNotFound();
      if (!done.ok)
        return statementPage(req, reply, {
          errors: errorsFrom([{ field: `${agency}-${done.field}`, key: done.key }], req.t),
          values: echoValues(body),
          form: agency,
        });
      return reply.redirect(
        `/plans/${p.data.id}/statements/${p.data.ref}?done=rated#agency-${agency}`,
        303,
      );
    });
    app.post('/plans/:id/statements/:ref/evidence', { config: pub }, async (req, reply) => {
      const p = planRefParams.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      const body = (req.body ?? {}) as Record<string, unknown>;
      const agency = z.enum(AGENCIES).safeParse(body.agency);
      const prefix = `${agency.success ? agency.data : 'x'}-`;
      const issues: { field: string; key: string }[] = [];
      const description = String(body.description ?? '').trim();
      if (!description)
        issues.push({ field: `${prefix}description`, key: 'guidelines.errors.evidence' });
      else if (description.length > 1000)
        issues.push({ field: `${prefix}description`, key: 'guidelines.errors.tooLong' });
      const reviewBy = dateFrom(body, 'reviewBy');
      if (!reviewBy) issues.push({ field: `${prefix}reviewBy`, key: 'guidelines.errors.reviewBy' });
      if (!agency.success || issues.length) {
        if (!(await plans.statement(req.user, p.data.id, p.data.ref))) return reply.callNotFound();
        return statementPage(req, reply, {
          errors: errorsFrom(
            issues.length ? issues : [{ field: 'form', key: 'guidelines.errors.agency' }],
            req.t,
          ),
          values: echoValues(body),
          form: `evidence-${agency.success ? agency.data : ''}`,
        });
      }
      const result = await plans.addEvidence(req.user, p.data.id, p.data.ref, agency.data, {
        description,
        reviewBy: reviewBy!,
      });
      if (!result) return reply.callNotFound();
      if (result === 'unrated')
        return statementPage(req, reply, {
          errors: errorsFrom(
            [{ field: `${prefix}description`, key: 'guidelines.errors.rateFirst' }],
            req.t,
          ),
          values: echoValues(body),
          form: `evidence-${agency.data}`,
        });
      return reply.redirect(
        `/plans/${p.data.id}/statements/${p.data.ref}?done=evidence#agency-${agency.data}`,
        303,
      );
    });
    app.post('/plans/:id/statements/:ref/feedback', { config: pub }, async (req, reply) => {
      const p = planRefParams.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      const body = (req.body ?? {}) as Record<string, unknown>;
      const form = z
        .object({
          reason: z.enum(FEEDBACK_REASONS, 'guidelines.errors.reason'),
          detail: required('guidelines.errors.detail', 2000),
        })
        .safeParse(body);
      if (!form.success) {
        if (!(await plans.statement(req.user, p.data.id, p.data.ref))) return reply.callNotFound();
        return statementPage(req, reply, {
          errors: errorsFrom(problems(form.error.issues, 'feedback-'), req.t),
          values: echoValues(body),
          form: 'feedback',
        });
      }
      const ok = await plans.feedback(req.user, p.data.id, p.data.ref, form.data);
      if (!ok) return reply.callNotFound();
      return reply.redirect(`/plans/${p.data.id}/statements/${p.data.ref}?done=feedback`, 303);
    });

    // Actions
    const actionPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      actionId: string | undefined,
      extra: { errors?: FormErrors; values?: Record<string, unknown> } = {},
    ) => {
      const p = idParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      const found = actionId
        ? await plans.action(req.user, p.data.id, actionId)
        : await plans.overview(req.user, p.data.id);
      if (!found || !found.canEdit) return reply.callNotFound();
      const overview = 'stages' in found ? found : await plans.overview(req.user, p.data.id);
      const action = 'action' in found ? found.action : undefined;
      const refQuery = z
        .string()
        .regex(REF)
        .optional()
        .catch(undefined)
        .parse((req.query as { statement?: string }).statement);
      return reply.render(
        `${V}/plan-action.njk`,
        {
          title: req.t(
            action ? 'guidelines.plans.actions.editTitle' : 'guidelines.plans.actions.newTitle',
          ),
          plan: found.plan,
          isLead: found.isLead,
          action,
          statements: overview!.stages.flatMap((s) => s.statements.map((x) => x.statement)),
          agencies: found.plan.agencies,
          statuses: ACTION_STATUSES,
          values:
            extra.values ??
            (action
              ? {
                  ...action,
                  statementRef: action.statementRef ?? '',
                  evidenceSubmitted: action.evidenceStatus !== 'none' ? 'yes' : '',
                  ...dateFields(action.dueOn, 'dueOn'),
                }
              : { status: 'not_started', statementRef: refQuery ?? '' }),
          errors: extra.errors,
          noindex: true,
          ...view(req),
        },
        extra.errors ? 400 : 200,
      );
    };
    const readAction = (body: Record<string, unknown>, t: T) => {
      const form = actionSchema.safeParse(body);
      const dueOn = dateFrom(body, 'dueOn');
      const issues = form.success ? [] : problems(form.error.issues);
      if (!dueOn) issues.push({ field: 'dueOn', key: 'guidelines.errors.dueOn' });
      if (!form.success || !dueOn) return { ok: false as const, errors: errorsFrom(issues, t) };
      return { ok: true as const, data: { ...form.data, dueOn } };
    };
    app.get('/plans/:id/actions/new', { config: pub }, async (req, reply) =>
      actionPage(req, reply, undefined),
    );
    app.post('/plans/:id/actions', { config: pub }, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      const body = (req.body ?? {}) as Record<string, unknown>;
      const form = readAction(body, req.t);
      if (!form.ok)
        return actionPage(req, reply, undefined, { errors: form.errors, values: echoValues(body) });
      const row = await plans.addAction(req.user, p.data.id, form.data);
      if (!row) return reply.callNotFound();
      return reply.redirect(`/plans/${p.data.id}?done=action-added#actions`, 303);
    });
    app.get('/plans/:id/actions/:actionId', { config: pub }, async (req, reply) => {
      const p = actionParams.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      return actionPage(req, reply, p.data.actionId);
    });
    app.post('/plans/:id/actions/:actionId', { config: pub }, async (req, reply) => {
      const p = actionParams.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      const body = (req.body ?? {}) as Record<string, unknown>;
      const form = readAction(body, req.t);
      if (!form.ok)
        return actionPage(req, reply, p.data.actionId, {
          errors: form.errors,
          values: echoValues(body),
        });
      const ok = await plans.updateAction(req.user, p.data.id, p.data.actionId, form.data);
      if (!ok) return reply.callNotFound();
      return reply.redirect(`/plans/${p.data.id}?done=action-saved#actions`, 303);
    });
    app.post('/plans/:id/actions/:actionId/sign-off', { config: pub }, async (req, reply) => {
      const p = actionParams.safeParse(req.params);
      const ok = p.success ? await plans.signOff(req.user, p.data.id, p.data.actionId) : false;
      if (!ok) return reply.callNotFound();
      return reply.redirect(`/plans/${p.data!.id}?done=signed-off#actions`, 303);
    });

    // Members
    const membersPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      extra: { errors?: FormErrors; values?: Record<string, unknown> } = {},
    ) => {
      const p = idParam.safeParse(req.params);
      const found = p.success ? await plans.members(req.user, p.data.id) : undefined;
      if (!found) return reply.callNotFound();
      return reply.render(
        `${V}/plan-members.njk`,
        {
          title: req.t('guidelines.plans.members.title'),
          m: found,
          roles: PLAN_ROLES,
          me: req.user?.id,
          done: z
            .string()
            .max(40)
            .optional()
            .catch(undefined)
            .parse((req.query as { done?: string }).done),
          values: extra.values ?? { role: 'contributor' },
          errors: extra.errors,
          noindex: true,
        },
        extra.errors ? 400 : 200,
      );
    };
    app.get('/plans/:id/members', { config: pub }, async (req, reply) => membersPage(req, reply));
    // Each invitation sends an email: a lead may send a few a minute, not a flood.
    app.post(
      '/plans/:id/members',
      { config: { ...pub, rateLimit: { max: 10, timeWindow: 60_000 } } },
      async (req, reply) => {
        const p = idParam.safeParse(req.params);
        if (!p.success) return reply.callNotFound();
        const body = (req.body ?? {}) as Record<string, unknown>;
        const form = z
          .object({
            email: required('guidelines.errors.email', 254).pipe(
              z.email('guidelines.errors.email'),
            ),
            role: z.enum(PLAN_ROLES, 'guidelines.errors.role'),
          })
          .safeParse(body);
        if (!form.success) {
          const ctx = await plans.context(req.user, p.data.id);
          if (!ctx) return reply.callNotFound();
          return membersPage(req, reply, {
            errors: errorsFrom(problems(form.error.issues), req.t),
            values: echoValues(body),
          });
        }
        const token = await plans.invite(req.user, p.data.id, { ...form.data, locale: req.locale });
        if (!token) return reply.callNotFound();
        return reply.redirect(`/plans/${p.data.id}/members?done=invited`, 303);
      },
    );
    app.post('/plans/:id/members/:userId/remove', { config: pub }, async (req, reply) => {
      const p = idParam.extend({ userId: z.uuid() }).safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      if (!(await plans.context(req.user, p.data.id))) return reply.callNotFound();
      await plans.removeMember(req.user, p.data.id, p.data.userId);
      return reply.redirect(`/plans/${p.data.id}/members?done=removed`, 303);
    });

    // Rounds
    app.post('/plans/:id/rounds', { config: pub }, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      const body = (req.body ?? {}) as Record<string, unknown>;
      const form = z
        .object({
          name: required('guidelines.errors.roundName', 120),
          version: z.string().optional(),
        })
        .safeParse(body);
      if (!form.success) {
        if (!(await plans.context(req.user, p.data.id))) return reply.callNotFound();
        return planPage(req, reply, {
          errors: errorsFrom(problems(form.error.issues, 'round-'), req.t),
          values: echoValues(body),
        });
      }
      const round = await plans.newRound(req.user, p.data.id, form.data.name, {
        ...(form.data.version && /^[0-9a-f-]{36}$/.test(form.data.version)
          ? { toVersionId: form.data.version }
          : {}),
      });
      if (!round) return reply.callNotFound();
      return reply.redirect(`/plans/${p.data.id}?done=round`, 303);
    });

    // A plan's pages and downloads below are kept for the plan's state (PlanContext.state):
    // drawn once and used again until anything of the plan, its guideline or the day changes.
    app.get('/plans/:id/compare', { config: pub }, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      const q = z.object({ a: versionQuery, b: versionQuery }).parse(req.query);
      const ctx = p.success ? await plans.context(req.user, p.data.id) : undefined;
      if (!ctx) return reply.callNotFound();
      const title = req.t('guidelines.plans.compare.title');
      const main = await reply.part(
        `${V}/plan-compare.njk`,
        `compare|${ctx.state}|${q.a ?? ''}|${q.b ?? ''}`,
        async () => ({ title, c: await plans.compareIn(ctx, q.a, q.b), ...view(req) }),
      );
      return reply.render('part-page.njk', { title, main, noindex: true });
    });

    app.get('/plans/:id/progress', { config: pub }, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      const ctx = p.success ? await plans.context(req.user, p.data.id) : undefined;
      if (!ctx) return reply.callNotFound();
      const title = req.t('guidelines.plans.progress.title');
      const main = await reply.part(`${V}/plan-progress.njk`, `progress|${ctx.state}`, async () => {
        const found = await plans.progressIn(ctx);
        const max = Math.max(
          1,
          ...found.stages.flatMap((s) => s.rounds.map((r) => r.fully + r.partly + r.not)),
        );
        return { title, pr: found, max, ...view(req) };
      });
      return reply.render('part-page.njk', { title, main, noindex: true });
    });

    app.get('/plans/:id/report', { config: pub }, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      const ctx = p.success ? await plans.exporting(req.user, p.data.id) : undefined;
      if (!ctx) return reply.callNotFound();
      const generated = new Date().toISOString().slice(0, 10);
      const main = await reply.part(
        `${V}/plan-report.njk`,
        `report|${ctx.state}|${generated}`,
        async () => ({ p: await plans.exportDataIn(ctx), generated, ...view(req) }),
      );
      return reply.render('part-page.njk', {
        title: req.t('guidelines.plans.report.title', { plan: ctx.plan.title }),
        main,
        noindex: true,
      });
    });

    const download = { config: { ...pub, a11y: false as const } };
    /** A plan's export, kept for its state and language, made by make() when not kept. */
    const exported = async (
      req: FastifyRequest,
      kind: 'csv' | 'xlsx',
      make: (found: PlanExport) => Buffer | Promise<Buffer>,
    ) => {
      const p = idParam.safeParse(req.params);
      const ctx = p.success ? await plans.exporting(req.user, p.data.id) : undefined;
      if (!ctx) return undefined;
      const key = `${kind}|${req.locale}|${ctx.state}`;
      const hit = downloads.get(key);
      if (hit !== undefined) return hit;
      const made = await make(await plans.exportDataIn(ctx));
      downloads.set(key, made);
      return made;
    };
    app.get('/plans/:id/export.csv', download, async (req, reply) => {
      const body = await exported(req, 'csv', (found) =>
        // Bytes: a 375 KB string is written to the socket ~8 times more slowly.
        Buffer.from(`\ufeff${planCsv(found, req.t)}`),
      );
      if (body === undefined) return reply.callNotFound();
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="action-plan.csv"')
        .header('cache-control', 'no-store')
        .send(body);
    });
    app.get('/plans/:id/export.xlsx', download, async (req, reply) => {
      const body = await exported(req, 'xlsx', (found) => planXlsx(found, req.t));
      if (body === undefined) return reply.callNotFound();
      return reply
        .header('content-type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
        .header('content-disposition', 'attachment; filename="action-plan.xlsx"')
        .header('cache-control', 'no-store')
        .send(body);
    });
  };
}
