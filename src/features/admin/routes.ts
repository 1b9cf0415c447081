import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { fieldError, type FormErrors, parseForm } from '../../platform/forms.ts';
import type { CurrentUser } from '../../platform/auth.ts';
import { listOutbox } from '../../platform/mail.ts';
import { type AccountsService, ROLES, STATUSES } from '../accounts/service.ts';

/**
 * The admin area: the dashboard, members (find, approve, change role,
 * suspend and restore, resend verification), the audit log, settings and the
 * mail viewer. Who may do what is checked again in the accounts service.
 */

const V = 'admin/views';
const PAGE_SIZE = 25;
const uuid = z.object({ id: z.uuid() });
const page = z.coerce.number().int().min(1).max(10_000).catch(1);

const usersQuery = z.object({
  q: z.string().trim().max(100).optional().catch(undefined),
  status: z.enum(STATUSES).optional().catch(undefined),
  role: z.enum(ROLES).optional().catch(undefined),
  approval: z.enum(['pending', 'approved']).optional().catch(undefined),
  page,
});
const auditQuery = z.object({
  event: z.string().trim().max(60).optional().catch(undefined),
  user: z.uuid().optional().catch(undefined),
  from: z.iso.date().optional().catch(undefined),
  to: z.iso.date().optional().catch(undefined),
  page,
});
const statusForm = z.object({
  status: z.enum(['active', 'suspended'], 'admin.errors.statusRequired'),
  reason: z
    .string('admin.errors.reasonRequired')
    .trim()
    .min(1, 'admin.errors.reasonRequired')
    .max(500, 'admin.errors.reasonTooLong'),
});
const roleForm = z.object({ role: z.enum(ROLES, 'admin.errors.roleRequired') });
const settingsForm = z.object({
  domains: z
    .string()
    .max(2000, 'admin.errors.domainsTooLong')
    .transform((s) => [
      ...new Set(
        s
          .split(/[\s,]+/)
          .map((d) => d.trim().toLowerCase())
          .filter(Boolean),
      ),
    ])
    .pipe(
      z
        .array(z.string().regex(/^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'admin.errors.domainInvalid'))
        .max(50, 'admin.errors.domainsTooLong'),
    ),
});

const pagination = (
  base: string,
  query: Record<string, unknown>,
  current: number,
  total: number,
) => {
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const href = (p: number) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query))
      if (v !== undefined && v !== '' && k !== 'page') q.set(k, String(v));
    q.set('page', String(p));
    return `${base}?${q}`;
  };
  return {
    pages,
    previous: current > 1 ? { href: href(current - 1) } : undefined,
    next: current < pages ? { href: href(current + 1) } : undefined,
  };
};

/**
 * What waits in each queue, for the staff member asking: a count is absent
 * where they may not open that queue. Wired in app.ts from the features that
 * own the queues (community, services, resources).
 */
export interface QueueCounts {
  reports?: number | undefined;
  held?: number | undefined;
  suggestions?: number | undefined;
  submissions?: number | undefined;
}

/** The dashboard's queues: where each one is, in the order moderators work through them. */
const QUEUES = [
  { name: 'reports', href: '/admin/moderation' },
  { name: 'held', href: '/admin/moderation#pending' },
  { name: 'suggestions', href: '/admin/services/suggestions' },
  { name: 'submissions', href: '/admin/resources?status=submitted' },
] as const;

export function adminRoutes(
  accounts: AccountsService,
  opts: {
    outbox: string | undefined;
    queues?: (user: CurrentUser | undefined) => Promise<QueueCounts>;
  },
): FastifyPluginAsync {
  return async (app) => {
    app.get('/admin', { config: { access: 'staff' } }, async (req, reply) => {
      const counts = (await opts.queues?.(req.user)) ?? {};
      return reply.render(`${V}/dashboard.njk`, {
        title: req.t('admin.dashboard.title'),
        pending: await accounts.countPendingApproval(req.user),
        queues: QUEUES.filter((q) => counts[q.name] !== undefined).map((q) => ({
          ...q,
          count: counts[q.name]!,
        })),
        noindex: true,
      });
    });

    app.get('/admin/users', { config: { access: 'moderator' } }, async (req, reply) => {
      const q = usersQuery.parse(req.query);
      const { rows, total } = await accounts.listUsers(req.user, {
        q: q.q,
        status: q.status,
        role: q.role,
        approval: q.approval,
        limit: PAGE_SIZE,
        offset: (q.page - 1) * PAGE_SIZE,
      });
      return reply.render(`${V}/users.njk`, {
        title: req.t('admin.users.title'),
        query: q,
        users: rows,
        total,
        pagination: pagination('/admin/users', q, q.page, total),
        noindex: true,
      });
    });

    const userPage = async (
      req: FastifyRequest,
      id: string,
      extra: Record<string, unknown> = {},
    ) => {
      const member = await accounts.userForAdmin(req.user, id);
      return (
        member && {
          title: member.displayName,
          member,
          done: (req.query as { done?: string }).done,
          noindex: true,
          ...extra,
        }
      );
    };
    app.get('/admin/users/:id', { config: { access: 'moderator' } }, async (req, reply) => {
      const p = uuid.safeParse(req.params);
      const ctx = p.success ? await userPage(req, p.data.id) : undefined;
      if (!ctx) return reply.callNotFound();
      return reply.render(`${V}/user.njk`, ctx);
    });
    const back = (id: string, done: string) => `/admin/users/${id}?done=${done}`;
    app.post(
      '/admin/users/:id/approve',
      { config: { access: 'moderator' } },
      async (req, reply) => {
        const p = uuid.safeParse(req.params);
        if (!p.success) return reply.callNotFound();
        await accounts.approve(req.user, p.data.id);
        return reply.redirect(back(p.data.id, 'approved'), 303);
      },
    );
    app.post('/admin/users/:id/resend', { config: { access: 'moderator' } }, async (req, reply) => {
      const p = uuid.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      const sent = await accounts.resendVerification(req.user, p.data.id);
      return reply.redirect(back(p.data.id, sent ? 'resent' : 'not-resent'), 303);
    });
    app.post('/admin/users/:id/status', { config: { access: 'moderator' } }, async (req, reply) => {
      const p = uuid.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      const form = parseForm(statusForm, req.body, req.t);
      const again = async (errors: FormErrors) => {
        const ctx = await userPage(req, p.data.id, { errors, values: form.ok ? {} : form.values });
        return ctx ? reply.render(`${V}/user.njk`, ctx, 400) : reply.callNotFound();
      };
      if (!form.ok) return again(form.errors);
      const result = await accounts.setStatus(
        req.user,
        p.data.id,
        form.data.status,
        form.data.reason,
      );
      if (result === 'self') return again(fieldError('reason', 'admin.errors.notYourself', req.t));
      return reply.redirect(back(p.data.id, form.data.status), 303);
    });
    app.post('/admin/users/:id/role', { config: { access: 'admin' } }, async (req, reply) => {
      const p = uuid.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      const form = parseForm(roleForm, req.body, req.t);
      const again = async (errors: FormErrors) => {
        const ctx = await userPage(req, p.data.id, { errors });
        return ctx ? reply.render(`${V}/user.njk`, ctx, 400) : reply.callNotFound();
      };
      if (!form.ok) return again(form.errors);
      const result = await accounts.changeRole(req.user, p.data.id, form.data.role);
      if (result === 'self') return again(fieldError('role', 'admin.errors.notYourself', req.t));
      return reply.redirect(back(p.data.id, 'role'), 303);
    });

    app.get('/admin/audit', { config: { access: 'admin' } }, async (req, reply) => {
      const q = auditQuery.parse(req.query);
      const { rows, total } = await accounts.searchAudit(req.user, {
        event: q.event,
        subjectId: q.user,
        from: q.from ? new Date(`${q.from}T00:00:00Z`) : undefined,
        to: q.to ? new Date(`${q.to}T23:59:59.999Z`) : undefined,
        limit: PAGE_SIZE,
        offset: (q.page - 1) * PAGE_SIZE,
      });
      return reply.render(`${V}/audit.njk`, {
        title: req.t('admin.audit.title'),
        query: q,
        entries: rows,
        eventItems: (await accounts.auditEvents(req.user)).map((e) => ({ value: e, text: e })),
        total,
        pagination: pagination('/admin/audit', q, q.page, total),
        noindex: true,
      });
    });

    app.get('/admin/settings', { config: { access: 'admin' } }, async (req, reply) =>
      reply.render(`${V}/settings.njk`, {
        title: req.t('admin.settings.title'),
        values: { domains: (await accounts.autoApproveDomains(req.user)).join('\n') },
        done: (req.query as { done?: string }).done,
        noindex: true,
      }),
    );
    app.post('/admin/settings', { config: { access: 'admin' } }, async (req, reply) => {
      const form = parseForm(settingsForm, req.body, req.t);
      if (!form.ok) {
        return reply.render(
          `${V}/settings.njk`,
          {
            title: req.t('admin.settings.title'),
            errors: form.errors,
            values: form.values,
            noindex: true,
          },
          400,
        );
      }
      await accounts.setAutoApproveDomains(req.user, form.data.domains);
      return reply.redirect('/admin/settings?done=saved', 303);
    });

    app.get('/admin/mail', { config: { access: 'admin' } }, async (req, reply) => {
      const mails = opts.outbox ? await listOutbox(opts.outbox) : [];
      const summary = mails.slice(0, 200).map((m) => ({
        file: m.file,
        to: /^To: (.*)$/m.exec(m.raw)?.[1] ?? '',
        subject: /^Subject: (.*)$/m.exec(m.raw)?.[1] ?? '',
        date: /^Date: (.*)$/m.exec(m.raw)?.[1] ?? '',
      }));
      return reply.render(`${V}/mail.njk`, {
        title: req.t('admin.mail.title'),
        mails: summary,
        smtp: !opts.outbox,
        noindex: true,
      });
    });
    app.get('/admin/mail/:file', { config: { access: 'admin' } }, async (req, reply) => {
      const file = z.object({ file: z.string().regex(/^[\w.-]+\.eml$/) }).safeParse(req.params);
      const mail =
        file.success && opts.outbox
          ? (await listOutbox(opts.outbox)).find((m) => m.file === file.data.file)
          : undefined;
      if (!mail) return reply.callNotFound();
      return reply.render(`${V}/mail-message.njk`, {
        title: /^Subject: (.*)$/m.exec(mail.raw)?.[1] ?? mail.file,
        raw: mail.raw,
        noindex: true,
      });
    });
  };
}
