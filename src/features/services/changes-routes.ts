import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { formatDate } from '../../platform/dates.ts';
import { echoValues, errorsFrom, type FormErrors, parseForm } from '../../platform/forms.ts';
import { NotAllowedError, type ServiceChanges } from './changes.ts';
import { FIELD_ORDER, fieldsSchema } from './fields.ts';
import {
  SERVICE_MODELS,
  SERVICE_OFFERS,
  SERVICE_SERVES,
  SERVICE_STATUSES,
  SUGGESTION_STATUSES,
} from './schema.ts';
import { termName as term } from './terms.ts';
import type { ServicesService } from './service.ts';

/**
 * HTTP only, for keeping the map true: suggesting a service or a change,
 * confirming a visitor's email, the history page, the manager's edit and
 * check, and the moderators' queue, review and managers.
 */

const V = 'services/views';
const slugParam = z.object({ slug: z.string().regex(/^[a-z0-9-]{1,160}$/) });
const idParam = z.object({ id: z.uuid() });
const publicForm = { rateLimit: { max: 10, timeWindow: 60_000 } };

const extraSchema = z.object({
  note: z
    .string()
    .optional()
    .transform((v) => (v ?? '').trim())
    .pipe(z.string().max(1000, 'services.form.errors.tooLong')),
});
const visitorSchema = z.object({
  suggesterEmail: z
    .string()
    .optional()
    .transform((v) => (v ?? '').trim())
    .pipe(z.email('services.form.errors.suggesterEmail')),
});

export function serviceChangesRoutes(
  changes: ServiceChanges,
  services: ServicesService,
): FastifyPluginAsync {
  return async (app) => {
    /** The values a field shows as text on the review and history pages. */
    async function shown(req: FastifyRequest, field: string, value: string): Promise<string> {
      if (!value) return '';
      const words = value.split(' ');
      if (field === 'model') return term('model', value, req.locale);
      if (field === 'offers') return words.map((w) => term('offer', w, req.locale)).join(', ');
      if (field === 'serves') return words.map((w) => term('serves', w, req.locale)).join(', ');
      if (field === 'status') return req.t(`services.statuses.${value}`);
      if (field === 'areas') {
        const names = new Map(
          (await services.currentAuthorities()).map((a) => [
            a.gssCode,
            req.locale === 'cy' && a.nameCy ? a.nameCy : a.name,
          ]),
        );
        return words.map((g) => names.get(g) ?? g).join(', ');
      }
      if (field === 'lastVerified') return formatDate(new Date(`${value}T12:00:00Z`), req.locale);
      return value;
    }

    /** The service form (suggest, suggest a change, edit) with its choices. */
    async function formPage(
      req: FastifyRequest,
      reply: FastifyReply,
      view: {
        mode: 'new' | 'change' | 'edit';
        action: string;
        title: string;
        slug?: string;
        values: Record<string, unknown>;
        errors?: FormErrors;
        status?: number;
      },
    ) {
      const authorities = await services.currentAuthorities();
      const chosen = new Set(
        ([] as unknown[]).concat(view.values.areas ?? []).filter((x) => typeof x === 'string'),
      );
      const groups = new Map<string, { label: string; items: unknown[]; checked: number }>();
      for (const a of authorities) {
        // Region names in the page's language (the list's own name where we have none).
        const region = req.t(`services.regions.${a.regionCode ?? ''}`);
        const key =
          a.nation === 'Wales'
            ? req.t('services.nations.Wales')
            : region.startsWith('services.regions.')
              ? a.regionName
              : region;
        const g = groups.get(key) ?? { label: key, items: [], checked: 0 };
        g.items.push({
          value: a.gssCode,
          text: req.locale === 'cy' && a.nameCy ? a.nameCy : a.name,
          checked: chosen.has(a.gssCode),
        });
        if (chosen.has(a.gssCode)) g.checked++;
        groups.set(key, g);
      }
      const list = (v: unknown) => ([] as unknown[]).concat(v ?? []);
      const options = (kind: 'model' | 'offer' | 'serves', vocab: readonly string[], v: unknown) =>
        vocab.map((code) => ({
          value: code,
          text: term(kind, code, req.locale),
          checked: list(v).includes(code),
          selected: v === code,
        }));
      return reply.code(view.status ?? 200).render(`${V}/form.njk`, {
        ...view,
        errors: view.errors,
        signedIn: Boolean(req.user),
        areaGroups: [...groups.entries()].map(([key, g], i) => ({ ...g, id: `areas-${i}`, key })),
        models: [
          { value: '', text: req.t('services.form.choose') },
          ...options('model', SERVICE_MODELS, view.values.model),
        ],
        statuses: SERVICE_STATUSES.map((s) => ({
          value: s,
          text: req.t(`services.statuses.${s}`),
          checked: (view.values.status ?? 'active') === s,
        })),
        offers: options('offer', SERVICE_OFFERS, view.values.offers),
        serves: options('serves', SERVICE_SERVES, view.values.serves),
      });
    }

    /** Read the posted form: the service's fields, the note, and a visitor's email. */
    async function readForm(req: FastifyRequest, visitor: boolean) {
      const codes = new Set((await services.currentAuthorities()).map((a) => a.gssCode));
      const body = (req.body ?? {}) as Record<string, unknown>;
      const fields = parseForm(fieldsSchema(codes), body, req.t);
      const extra = parseForm(extraSchema, body, req.t);
      const email = visitor ? parseForm(visitorSchema, body, req.t) : undefined;
      const errors: FormErrors = { summary: [], fields: {} };
      for (const r of [fields, extra, email])
        if (r && !r.ok) {
          errors.summary.push(...r.errors.summary);
          Object.assign(errors.fields, r.errors.fields);
        }
      // The summary in the order of the form.
      const order = [...FIELD_ORDER, 'note', 'suggesterEmail'] as string[];
      errors.summary.sort(
        (a, b) =>
          order.indexOf(a.href.slice(1).split('-')[0]!) -
          order.indexOf(b.href.slice(1).split('-')[0]!),
      );
      if (!fields.ok || !extra.ok || (email && !email.ok))
        return { ok: false as const, errors, values: echoValues(body) };
      return {
        ok: true as const,
        fields: fields.data,
        note: extra.data.note,
        email: email?.ok ? email.data.suggesterEmail : undefined,
      };
    }

    app.get('/services/suggest', { config: { access: 'public' } }, async (req, reply) =>
      formPage(req, reply, {
        mode: 'new',
        action: '/services/suggest',
        title: req.t('services.form.suggestTitle'),
        values: {},
      }),
    );
    app.post(
      '/services/suggest',
      { config: { access: 'public', ...publicForm } },
      async (req, reply) => {
        const read = await readForm(req, !req.user);
        if (!read.ok)
          return formPage(req, reply, {
            mode: 'new',
            action: '/services/suggest',
            title: req.t('services.form.suggestTitle'),
            values: read.values,
            errors: read.errors,
            status: 400,
          });
        const done = await changes.suggest({
          actor: req.user,
          fields: read.fields,
          note: read.note,
          email: read.email,
          locale: req.locale,
        });
        return reply.redirect(
          `/services/suggestions/sent?confirm=${done.ok && done.needsConfirmation ? 'yes' : 'no'}`,
          303,
        );
      },
    );

    app.get(
      '/services/:slug/suggest-change',
      { config: { access: 'public' } },
      async (req, reply) => {
        const p = slugParam.safeParse(req.params);
        const current = p.success ? await changes.current(p.data.slug) : undefined;
        if (!current) return reply.callNotFound();
        return formPage(req, reply, {
          mode: 'change',
          action: `/services/${p.data!.slug}/suggest-change`,
          title: req.t('services.form.changeTitle', { name: current.fields.name }),
          slug: p.data!.slug,
          values: { ...current.fields },
        });
      },
    );
    app.post(
      '/services/:slug/suggest-change',
      { config: { access: 'public', ...publicForm } },
      async (req, reply) => {
        const p = slugParam.safeParse(req.params);
        const current = p.success ? await changes.current(p.data.slug) : undefined;
        if (!current) return reply.callNotFound();
        const slug = p.data!.slug;
        const view = {
          mode: 'change' as const,
          action: `/services/${slug}/suggest-change`,
          title: req.t('services.form.changeTitle', { name: current.fields.name }),
          slug,
        };
        const read = await readForm(req, !req.user);
        if (!read.ok)
          return formPage(req, reply, {
            ...view,
            values: read.values,
            errors: read.errors,
            status: 400,
          });
        const done = await changes.suggest({
          actor: req.user,
          slug,
          fields: read.fields,
          note: read.note,
          email: read.email,
          locale: req.locale,
        });
        if (!done.ok)
          return formPage(req, reply, {
            ...view,
            values: (req.body ?? {}) as Record<string, unknown>,
            errors: errorsFrom([{ field: 'name', key: 'services.form.errors.unchanged' }], req.t),
            status: 400,
          });
        return reply.redirect(
          `/services/suggestions/sent?confirm=${done.needsConfirmation ? 'yes' : 'no'}`,
          303,
        );
      },
    );

    app.get('/services/suggestions/sent', { config: { access: 'public' } }, async (req, reply) => {
      const confirm = (req.query as { confirm?: string }).confirm === 'yes';
      return reply.render(`${V}/suggestion-sent.njk`, {
        title: req.t(confirm ? 'services.sent.checkEmail' : 'services.sent.thanks'),
        confirm,
      });
    });

    const tokenQuery = z.object({ token: z.string().regex(/^[A-Za-z0-9_-]{20,100}$/) });
    app.get(
      '/services/suggestions/confirm/:token',
      { config: { access: 'public' } },
      async (req, reply) => {
        const q = tokenQuery.safeParse(req.params);
        const ok = q.success && (await changes.confirmable(q.data.token));
        return reply.code(ok ? 200 : 404).render(`${V}/suggestion-confirm.njk`, {
          title: req.t(ok ? 'services.confirm.title' : 'services.confirm.invalid'),
          token: ok ? q.data!.token : undefined,
        });
      },
    );
    app.post(
      '/services/suggestions/confirm',
      { config: { access: 'public', ...publicForm } },
      async (req, reply) => {
        const q = tokenQuery.safeParse(req.body);
        const ok = q.success && (await changes.confirm(q.data.token));
        if (!ok)
          return reply.code(404).render(`${V}/suggestion-confirm.njk`, {
            title: req.t('services.confirm.invalid'),
          });
        return reply.redirect('/services/suggestions/sent?confirm=no', 303);
      },
    );

    app.get('/services/:slug/history', { config: { access: 'public' } }, async (req, reply) => {
      const p = slugParam.safeParse(req.params);
      const found = p.success ? await changes.history(p.data.slug) : undefined;
      if (!found) return reply.callNotFound();
      const s = found.found.service;
      const entries = [];
      for (const c of found.changes)
        entries.push({
          when: formatDate(c.at, req.locale),
          how: req.t(`services.history.sources.${c.source}`),
          changes: await Promise.all(
            c.changes.map(async (x) => ({
              label: req.t(`services.form.labels.${x.field}`),
              before: await shown(req, x.field, x.before),
              after: await shown(req, x.field, x.after),
            })),
          ),
        });
      return reply.render(`${V}/history.njk`, {
        title: req.t('services.history.title', {
          name: req.locale === 'cy' && s.nameCy ? s.nameCy : s.name,
        }),
        slug: s.slug,
        entries,
      });
    });

    // Managers (and moderators) edit directly.
    const editPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      slug: string,
      extra: object,
    ) => {
      const current = await changes.current(slug);
      if (!current) return reply.callNotFound();
      if (!(await changes.mayEdit(req.user, current.found.service.id))) throw new NotAllowedError();
      return formPage(req, reply, {
        mode: 'edit',
        action: `/services/${slug}/edit`,
        title: req.t('services.edit.title', { name: current.fields.name }),
        slug,
        values: { ...current.fields },
        ...extra,
      });
    };
    app.get('/services/:slug/edit', { config: { access: 'signedIn' } }, async (req, reply) => {
      const p = slugParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      return editPage(req, reply, p.data.slug, {});
    });
    app.post('/services/:slug/edit', { config: { access: 'signedIn' } }, async (req, reply) => {
      const p = slugParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      const read = await readForm(req, false);
      if (!read.ok)
        return editPage(req, reply, p.data.slug, {
          values: read.values,
          errors: read.errors,
          status: 400,
        });
      const row = await changes.edit(req.user, p.data.slug, read.fields);
      if (!row) return reply.callNotFound();
      return reply.redirect(`/services/${row.slug}?saved=1`, 303);
    });
    app.post('/services/:slug/verify', { config: { access: 'signedIn' } }, async (req, reply) => {
      const p = slugParam.safeParse(req.params);
      if (!p.success || !(await changes.verify(req.user, p.data.slug))) return reply.callNotFound();
      return reply.redirect(`/services/${p.data.slug}?checked=1`, 303);
    });

    // Moderators: the queue, the review and the decision, and managers.
    const mod = { config: { access: 'moderator' as const } };
    const statusQuery = z.object({
      status: z.enum(SUGGESTION_STATUSES).catch('pending').default('pending'),
    });
    app.get('/admin/services/suggestions', mod, async (req, reply) => {
      const { status } = statusQuery.parse(req.query ?? {});
      const q = await changes.queue(req.user, status);
      return reply.render(`${V}/admin-suggestions.njk`, {
        title: req.t('services.queue.title'),
        status,
        tabs: SUGGESTION_STATUSES.filter((s) => s !== 'unconfirmed').map((s) => ({
          status: s,
          label: req.t(`services.queue.statuses.${s}`),
          count: q.counts[s] ?? 0,
          current: s === status,
        })),
        rows: q.rows.map((r) => ({
          id: r.suggestion.id,
          name: String((r.suggestion.proposed as { name?: string }).name ?? ''),
          kind: r.suggestion.serviceId ? 'change' : 'new',
          from: req.t(
            r.suggestion.suggesterId ? 'services.queue.fromMember' : 'services.queue.fromVisitor',
          ),
          when: formatDate(r.suggestion.createdAt, req.locale),
        })),
      });
    });

    const reviewPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      id: string,
      extra: { errors?: FormErrors; values?: object; status?: number } = {},
    ) => {
      const r = await changes.review(req.user, id);
      if (!r) return reply.callNotFound();
      const rows = [];
      for (const field of FIELD_ORDER) {
        const asText = (v: unknown) => (Array.isArray(v) ? v.join(' ') : String(v ?? ''));
        const before = r.before ? asText(r.before[field]) : '';
        const after = asText(r.proposed[field]);
        rows.push({
          label: req.t(`services.form.labels.${field}`),
          before: await shown(req, field, before),
          after: await shown(req, field, after),
          changed: before !== after,
        });
      }
      return reply.code(extra.status ?? 200).render(`${V}/admin-review.njk`, {
        title: req.t(r.before ? 'services.review.titleChange' : 'services.review.titleNew', {
          name: r.proposed.name,
        }),
        suggestion: r.suggestion,
        slug: r.slug,
        isNew: !r.before,
        rows,
        changedCount: r.changes.length,
        from: req.t(r.fromVisitor ? 'services.queue.fromVisitor' : 'services.queue.fromMember'),
        when: formatDate(r.suggestion.createdAt, req.locale),
        decided: r.suggestion.status !== 'pending',
        statusLabel: req.t(`services.queue.statuses.${r.suggestion.status}`),
        errors: extra.errors,
        values: extra.values ?? {},
      });
    };
    app.get('/admin/services/suggestions/:id', mod, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      return reviewPage(req, reply, p.data.id);
    });
    const decision = z.object({
      decision: z.enum(['approve', 'reject'], 'services.review.errors.decision'),
      reason: z
        .string()
        .optional()
        .transform((v) => (v ?? '').trim())
        .pipe(z.string().max(1000, 'services.form.errors.tooLong')),
    });
    app.post('/admin/services/suggestions/:id', mod, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      const form = parseForm(decision, req.body, req.t);
      if (!form.ok) return reviewPage(req, reply, p.data.id, { ...form, status: 400 });
      if (form.data.decision === 'reject' && !form.data.reason)
        return reviewPage(req, reply, p.data.id, {
          errors: errorsFrom([{ field: 'reason', key: 'services.review.errors.reason' }], req.t),
          values: form.data,
          status: 400,
        });
      const done =
        form.data.decision === 'approve'
          ? await changes.approve(req.user, p.data.id)
          : await changes.reject(req.user, p.data.id, form.data.reason);
      if (!done)
        return reviewPage(req, reply, p.data.id, {
          errors: errorsFrom([{ field: 'decision', key: 'services.review.errors.decided' }], req.t),
          status: 409,
        });
      return reply.redirect(
        `/admin/services/suggestions?done=${form.data.decision === 'approve' ? 'approved' : 'rejected'}`,
        303,
      );
    });

    const managersPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      slug: string,
      extra: { errors?: FormErrors; values?: object; status?: number; added?: boolean } = {},
    ) => {
      const m = await changes.managers(req.user, slug);
      if (!m) return reply.callNotFound();
      return reply.code(extra.status ?? 200).render(`${V}/admin-managers.njk`, {
        title: req.t('services.managers.title', { name: m.found.service.name }),
        slug,
        managers: m.managers.map((x) => ({
          id: x.id,
          name: x.displayName ?? req.t('services.managers.former'),
        })),
        errors: extra.errors,
        values: extra.values ?? {},
        added: extra.added,
      });
    };
    app.get('/admin/services/:slug/managers', mod, async (req, reply) => {
      const p = slugParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      return managersPage(req, reply, p.data.slug, {
        added: (req.query as { added?: string }).added === '1',
      });
    });
    const managerForm = z.object({
      email: z
        .string()
        .optional()
        .transform((v) => (v ?? '').trim())
        .pipe(z.email('services.managers.errors.email')),
    });
    app.post('/admin/services/:slug/managers', mod, async (req, reply) => {
      const p = slugParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      const body = (req.body ?? {}) as Record<string, unknown>;
      if (typeof body.remove === 'string' && z.uuid().safeParse(body.remove).success) {
        await changes.removeManager(req.user, p.data.slug, body.remove);
        return reply.redirect(`/admin/services/${p.data.slug}/managers`, 303);
      }
      const form = parseForm(managerForm, body, req.t);
      if (!form.ok) return managersPage(req, reply, p.data.slug, { ...form, status: 400 });
      const done = await changes.addManager(req.user, p.data.slug, form.data.email);
      if (!done) return reply.callNotFound();
      if (!done.ok)
        return managersPage(req, reply, p.data.slug, {
          errors: errorsFrom(
            [{ field: 'email', key: `services.managers.errors.${done.problem}` }],
            req.t,
          ),
          values: form.data,
          status: 400,
        });
      return reply.redirect(`/admin/services/${p.data.slug}/managers?added=1`, 303);
    });
  };
}
