import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { userOf } from '../../platform/auth.ts';
import { formatDate, formatTime, londonInstant } from '../../platform/dates.ts';
import { errorsFrom, parseForm } from '../../platform/forms.ts';
import { registerUploads } from '../../platform/uploads.ts';
import { parseImport, subscribersCsv } from './import.ts';
import { emailField } from './routes.ts';
import { NotAllowed, type NewsletterService, SUBSCRIBER_STATES, TOPICS } from './service.ts';

/** The editors' side: issues, digests, sending and its counts, subscribers, suppression. */

const V = 'newsletter/views';
const E = 'newsletter.errors';
const editor = { access: 'editor' as const };
const idParam = z.object({ id: z.uuid() });
const list = (v: unknown) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

const issueSchema = z.object({
  subject: z
    .string(`${E}.subjectRequired`)
    .trim()
    .min(1, `${E}.subjectRequired`)
    .max(150, `${E}.subjectTooLong`),
  body: z.string().trim().max(50_000, `${E}.bodyTooLong`).default(''),
  topics: z.preprocess(
    list,
    z.array(z.enum(TOPICS, `${E}.topicsRequired`)).min(1, `${E}.topicsRequired`),
  ),
  locale: z.enum(['en', 'cy'], `${E}.localeRequired`),
});
const scheduleSchema = z.object({
  when: z.enum(['now', 'later'], `${E}.whenRequired`),
  date: z.string().optional(),
  time: z.string().optional(),
});

export function newsletterAdminRoutes(
  newsletter: NewsletterService,
  opts: { dataDir: string },
): FastifyPluginAsync {
  return async (app) => {
    const uploads = await registerUploads(app, {
      dataDir: opts.dataDir,
      fields: ['file', 'image'],
      limits: { fileSize: 5 * 1024 * 1024, files: 1 },
    });
    const topicItems = (req: FastifyRequest, chosen: unknown) => {
      const set = new Set(list(chosen).map(String));
      return TOPICS.map((topic) => ({
        value: topic,
        text: req.t(`newsletter.topics.${topic}`),
        checked: set.has(topic),
      }));
    };
    const when = (d: Date | null | undefined, req: FastifyRequest) =>
      d ? `${formatDate(d, req.locale)}, ${formatTime(d, req.locale)}` : '';

    app.get('/admin/newsletter', { config: editor }, async (req, reply) => {
      const issues = await newsletter.issues(userOf(req));
      return reply.render(`${V}/admin-issues.njk`, {
        title: req.t('newsletter.admin.title'),
        issues: issues.map((i) => ({
          ...i,
          created: when(i.createdAt, req),
          sent: when(i.sentAt, req),
        })),
      });
    });

    const issueForm = (
      req: FastifyRequest,
      reply: FastifyReply,
      ctx: { id?: string; values: Record<string, unknown>; errors?: unknown },
    ) =>
      reply.render(
        `${V}/admin-issue-form.njk`,
        {
          title: req.t(ctx.id ? 'newsletter.admin.editTitle' : 'newsletter.admin.newTitle'),
          action: ctx.id
            ? `/admin/newsletter/issues/${ctx.id}/edit`
            : '/admin/newsletter/issues/new',
          back: ctx.id ? `/admin/newsletter/issues/${ctx.id}` : '/admin/newsletter',
          values: ctx.values,
          topicItems: topicItems(req, ctx.values.topics),
          errors: ctx.errors,
        },
        ctx.errors ? 400 : undefined,
      );
    app.get('/admin/newsletter/issues/new', { config: editor }, async (req, reply) =>
      issueForm(req, reply, { values: { topics: [...TOPICS], locale: req.locale } }),
    );
    app.post('/admin/newsletter/issues/new', { config: editor }, async (req, reply) => {
      const f = parseForm(issueSchema, req.body, req.t);
      if (!f.ok) return issueForm(req, reply, { values: f.values, errors: f.errors });
      const saved = await newsletter.saveIssue(userOf(req), undefined, f.data);
      return reply.redirect(`/admin/newsletter/issues/${saved!.id}?saved=1`, 303);
    });
    app.get('/admin/newsletter/issues/:id/edit', { config: editor }, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      const found = p.success ? await newsletter.issue(userOf(req), p.data.id) : undefined;
      if (!found || found.issue.state !== 'draft') return reply.callNotFound();
      return issueForm(req, reply, { id: found.issue.id, values: { ...found.issue } });
    });
    app.post('/admin/newsletter/issues/:id/edit', { config: editor }, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      if (!p.success || !(await newsletter.issue(userOf(req), p.data.id)))
        return reply.callNotFound();
      const f = parseForm(issueSchema, req.body, req.t);
      if (!f.ok)
        return issueForm(req, reply, { id: p.data.id, values: f.values, errors: f.errors });
      try {
        const saved = await newsletter.saveIssue(userOf(req), p.data.id, f.data);
        if (!saved) return reply.callNotFound();
      } catch (err) {
        if (err instanceof NotAllowed)
          return reply.redirect(`/admin/newsletter/issues/${p.data.id}`, 303);
        throw err;
      }
      return reply.redirect(`/admin/newsletter/issues/${p.data.id}?saved=1`, 303);
    });

    const issuePage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      id: string,
      errors?: unknown,
      values: Record<string, unknown> = {},
    ) => {
      const found = await newsletter.issue(userOf(req), id);
      if (!found) return reply.callNotFound();
      const q = req.query as {
        saved?: string;
        tested?: string;
        scheduled?: string;
        image?: string;
      };
      const c = found.counts;
      return reply.render(
        `${V}/admin-issue.njk`,
        {
          title: found.issue.subject,
          issue: found.issue,
          items: found.items,
          counts: {
            sent: c.sent ?? 0,
            failed: c.failed ?? 0,
            suppressed: c.suppressed ?? 0,
            unsubscribed: c.unsubscribed ?? 0,
            skipped: c.skipped ?? 0,
            waiting: (c.pending ?? 0) + (c.sending ?? 0),
          },
          scheduled: when(found.issue.scheduledAt, req),
          sentAt: when(found.issue.sentAt, req),
          topicNames: found.issue.topics.map((t) => req.t(`newsletter.topics.${t}`)).join(', '),
          notice: q.saved
            ? 'saved'
            : q.tested
              ? 'tested'
              : q.scheduled
                ? 'scheduled'
                : q.image
                  ? 'image'
                  : undefined,
          errors,
          values,
        },
        errors ? 400 : undefined,
      );
    };
    app.get('/admin/newsletter/issues/:id', { config: editor }, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      return issuePage(req, reply, p.data.id);
    });
    // The email itself, as HTML and as text (what a recipient's mail program gets).
    app.get(
      '/admin/newsletter/issues/:id/preview',
      { config: { ...editor, a11y: false } },
      async (req, reply) => {
        const p = idParam.safeParse(req.params);
        const m = p.success ? await newsletter.preview(userOf(req), p.data.id) : undefined;
        if (!m) return reply.callNotFound();
        return reply
          .header('content-type', 'text/html; charset=utf-8')
          .header('cache-control', 'no-store')
          .send(m.html);
      },
    );
    app.get(
      '/admin/newsletter/issues/:id/preview.txt',
      { config: { ...editor, a11y: false } },
      async (req, reply) => {
        const p = idParam.safeParse(req.params);
        const m = p.success ? await newsletter.preview(userOf(req), p.data.id) : undefined;
        if (!m) return reply.callNotFound();
        return reply
          .header('content-type', 'text/plain; charset=utf-8')
          .header('cache-control', 'no-store')
          .send(m.text);
      },
    );
    app.post('/admin/newsletter/issues/:id/images', { config: editor }, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      if (!p.success || !(await newsletter.issue(userOf(req), p.data.id)))
        return reply.callNotFound();
      const file = uploads(req).find((u) => u.field === 'image');
      const alt = String((req.body as { alt?: unknown } | undefined)?.alt ?? '').trim();
      const problems: { field: string; key: string }[] = [];
      if (!file) problems.push({ field: 'image', key: `${E}.imageRequired` });
      if (!alt || alt.length > 200) problems.push({ field: 'alt', key: `${E}.altRequired` });
      if (!problems.length) {
        const added = await newsletter.addImage(
          userOf(req),
          p.data.id,
          {
            path: file!.tmpPath,
            filename: file!.filename,
            size: file!.size,
            truncated: file!.truncated,
          },
          alt,
        );
        if (added.ok) return reply.redirect(`/admin/newsletter/issues/${p.data.id}?image=1`, 303);
        problems.push({ field: 'image', key: `${E}.image.${added.reason}` });
      }
      return issuePage(req, reply, p.data.id, errorsFrom(problems, req.t), { alt });
    });
    app.post('/admin/newsletter/issues/:id/test', { config: editor }, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      if (!p.success || !(await newsletter.sendTest(userOf(req), p.data.id)))
        return reply.callNotFound();
      return reply.redirect(`/admin/newsletter/issues/${p.data.id}?tested=1`, 303);
    });
    app.post('/admin/newsletter/issues/:id/schedule', { config: editor }, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      const f = scheduleSchema.safeParse(req.body);
      const values = (req.body ?? {}) as Record<string, unknown>;
      if (!f.success)
        return issuePage(
          req,
          reply,
          p.data.id,
          errorsFrom([{ field: 'when', key: `${E}.whenRequired` }], req.t),
          values,
        );
      let at: Date | undefined;
      if (f.data.when === 'later') {
        const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(f.data.date ?? '');
        const t = /^(\d{1,2}):(\d{2})$/.exec(f.data.time ?? '');
        at =
          d && t
            ? londonInstant(Number(d[1]), Number(d[2]), Number(d[3]), Number(t[1]), Number(t[2]))
            : undefined;
        if (!at || Number.isNaN(at.getTime()) || at < new Date())
          return issuePage(
            req,
            reply,
            p.data.id,
            errorsFrom([{ field: 'date', key: `${E}.dateInvalid` }], req.t),
            values,
          );
      }
      const done = await newsletter.schedule(userOf(req), p.data.id, at);
      if (!done) return reply.redirect(`/admin/newsletter/issues/${p.data.id}`, 303);
      return reply.redirect(`/admin/newsletter/issues/${p.data.id}?scheduled=1`, 303);
    });
    app.post('/admin/newsletter/issues/:id/unschedule', { config: editor }, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      if (!p.success || !(await newsletter.issue(userOf(req), p.data.id)))
        return reply.callNotFound();
      await newsletter.unschedule(userOf(req), p.data.id);
      return reply.redirect(`/admin/newsletter/issues/${p.data.id}`, 303);
    });
    app.post('/admin/newsletter/issues/:id/delete', { config: editor }, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      if (!p.success || !(await newsletter.issue(userOf(req), p.data.id)))
        return reply.callNotFound();
      await newsletter.deleteIssue(userOf(req), p.data.id);
      return reply.redirect('/admin/newsletter', 303);
    });

    // Subscribers
    app.get('/admin/newsletter/subscribers', { config: editor }, async (req, reply) => {
      const q = z
        .object({
          q: z.string().trim().max(100).optional().catch(undefined),
          state: z.enum(SUBSCRIBER_STATES).optional().catch(undefined),
          page: z.coerce.number().int().min(1).max(10_000).catch(1),
        })
        .parse(req.query);
      const found = await newsletter.subscribers(userOf(req), q);
      const href = (page: number) =>
        `/admin/newsletter/subscribers?${new URLSearchParams({ ...(q.q ? { q: q.q } : {}), ...(q.state ? { state: q.state } : {}), page: String(page) })}`;
      return reply.render(`${V}/admin-subscribers.njk`, {
        title: req.t('newsletter.admin.subscribersTitle'),
        query: q,
        rows: found.rows.map((s) => ({ ...s, since: formatDate(s.createdAt, req.locale) })),
        total: found.total,
        counts: found.counts,
        pagination: {
          pages: found.pages,
          previous: q.page > 1 ? { href: href(q.page - 1) } : undefined,
          next: q.page < found.pages ? { href: href(q.page + 1) } : undefined,
        },
      });
    });
    app.get(
      '/admin/newsletter/subscribers.csv',
      { config: { ...editor, a11y: false } },
      async (req, reply) => {
        const rows = await newsletter.allSubscribers(userOf(req));
        return reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="newsletter-subscribers.csv"')
          .header('cache-control', 'no-store')
          .send(subscribersCsv(rows));
      },
    );
    app.get('/admin/newsletter/import', { config: editor }, async (req, reply) =>
      reply.render(`${V}/admin-import.njk`, {
        title: req.t('newsletter.import.title'),
        values: {},
      }),
    );
    app.post('/admin/newsletter/import', { config: editor }, async (req, reply) => {
      const body = (req.body ?? {}) as { csv?: string };
      const file = uploads(req)[0];
      const text = file
        ? await readFile(file.tmpPath, 'utf8')
        : typeof body.csv === 'string'
          ? body.csv
          : '';
      const page = (ctx: Record<string, unknown>, status?: number) =>
        reply.render(
          `${V}/admin-import.njk`,
          { title: req.t('newsletter.import.title'), values: { csv: file ? '' : text }, ...ctx },
          status,
        );
      if (!text.trim())
        return page(
          { errors: errorsFrom([{ field: 'file', key: `${E}.importEmpty` }], req.t) },
          400,
        );
      const parsed = parseImport(text, new Date());
      if (parsed.problems.length)
        return page(
          {
            errors: errorsFrom(
              [
                {
                  field: 'file',
                  key: `${E}.importProblems`,
                  vars: { count: parsed.problems.length },
                },
              ],
              req.t,
            ),
            problems: parsed.problems.map((p) => ({
              line: p.line,
              text: req.t(`newsletter.import.problems.${p.problem}`),
            })),
          },
          400,
        );
      const result = await newsletter.importSubscribers(userOf(req), parsed.rows);
      return page({ result });
    });

    // Suppression list
    const suppressionsPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      extra: Record<string, unknown> = {},
      status?: number,
    ) =>
      reply.render(
        `${V}/admin-suppressions.njk`,
        {
          title: req.t('newsletter.suppressions.title'),
          rows: (await newsletter.suppressions(userOf(req))).map((r) => ({
            ...r,
            since: when(r.createdAt, req),
          })),
          values: {},
          ...extra,
        },
        status,
      );
    app.get('/admin/newsletter/suppressions', { config: editor }, async (req, reply) =>
      suppressionsPage(req, reply),
    );
    app.post('/admin/newsletter/suppressions', { config: editor }, async (req, reply) => {
      const f = parseForm(z.object({ email: emailField }), req.body, req.t);
      if (!f.ok) return suppressionsPage(req, reply, { values: f.values, errors: f.errors }, 400);
      await newsletter.suppressManually(userOf(req), f.data.email);
      return reply.redirect('/admin/newsletter/suppressions', 303);
    });
    app.post('/admin/newsletter/suppressions/remove', { config: editor }, async (req, reply) => {
      const f = z.object({ email: emailField }).safeParse(req.body);
      if (f.success) await newsletter.unsuppress(userOf(req), f.data.email);
      return reply.redirect('/admin/newsletter/suppressions', 303);
    });
  };
}
