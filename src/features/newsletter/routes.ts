import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { userOf } from '../../platform/auth.ts';
import { formatDate } from '../../platform/dates.ts';
import { atomFeed } from '../../platform/feeds.ts';
import { fileHeaders } from '../../platform/files.ts';
import { parseForm } from '../../platform/forms.ts';
import type { NewsletterService } from './service.ts';
import { FREQUENCIES, PROVIDERS, TOPICS } from './service.ts';
import { BadWebhook } from './webhooks.ts';

/** HTTP only: parse with zod, call the newsletter service, render. */

const V = 'newsletter/views';
const E = 'newsletter.errors';
const PAGE_SIZE = 20;
/** Public forms that send email: a few a minute from one address. */
const limited = { rateLimit: { max: 10, timeWindow: 60_000 } };
const pub = { access: 'public' as const };
const tokenParam = z.object({ token: z.string().min(20).max(120) });
const idParam = z.object({ id: z.uuid() });

const list = (v: unknown) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
export const emailField = z
  .string(`${E}.emailRequired`)
  .trim()
  .min(1, `${E}.emailRequired`)
  .max(254, `${E}.emailInvalid`)
  .pipe(z.email(`${E}.emailInvalid`));
export const prefsShape = {
  name: z
    .string()
    .trim()
    .max(100, `${E}.nameTooLong`)
    .optional()
    .transform((v) => v || undefined),
  topics: z.preprocess(
    list,
    z.array(z.enum(TOPICS, `${E}.topicsRequired`)).min(1, `${E}.topicsRequired`),
  ),
  frequency: z.enum(FREQUENCIES, `${E}.frequencyRequired`),
  locale: z.enum(['en', 'cy'], `${E}.localeRequired`),
};
const signUpSchema = z.object({
  email: emailField,
  ...prefsShape,
  source: z.enum(['page', 'footer']).catch('page'),
});
const prefsSchema = z.object(prefsShape);
const manageSchema = z.object({ email: emailField });

export function newsletterRoutes(
  newsletter: NewsletterService,
  opts: { baseUrl: string; webhookSecret: string | undefined },
): FastifyPluginAsync {
  return async (app) => {
    const topicItems = (req: FastifyRequest, chosen: unknown) => {
      const set = new Set(list(chosen).map(String));
      return TOPICS.map((topic) => ({
        value: topic,
        text: req.t(`newsletter.topics.${topic}`),
        checked: set.has(topic),
      }));
    };
    const signUpPage = (
      req: FastifyRequest,
      reply: FastifyReply,
      values: Record<string, unknown>,
      errors?: unknown,
    ) =>
      reply.render(
        `${V}/signup.njk`,
        {
          title: req.t('newsletter.signup.title'),
          values,
          topicItems: topicItems(req, values.topics),
          errors,
        },
        errors ? 400 : undefined,
      );

    // Signing up: the page (the footer's form comes here with the address filled in).
    app.get('/newsletter', { config: pub }, async (req, reply) => {
      const q = z
        .object({
          email: z.string().max(254).optional().catch(undefined),
          source: z.string().optional(),
        })
        .parse(req.query);
      return signUpPage(req, reply, {
        email: q.email,
        topics: [...TOPICS],
        frequency: 'each',
        locale: req.locale,
        source: q.source === 'footer' ? 'footer' : 'page',
      });
    });
    app.post('/newsletter', { config: { ...pub, ...limited } }, async (req, reply) => {
      const f = parseForm(signUpSchema, req.body, req.t);
      if (!f.ok) return signUpPage(req, reply, f.values, f.errors);
      await newsletter.signUp(f.data, f.data.source, req.ip);
      // The same answer for a new, pending, subscribed or suppressed address.
      return reply.redirect('/newsletter/check-email', 303);
    });
    app.get('/newsletter/check-email', { config: pub }, async (req, reply) =>
      reply.render(`${V}/message.njk`, {
        title: req.t('newsletter.checkEmail.title'),
        paragraphs: [req.t('newsletter.checkEmail.body'), req.t('newsletter.checkEmail.spam')],
        noindex: true,
      }),
    );

    // Double opt-in: the link opens a page with a button.
    const invalid = (req: FastifyRequest, reply: FastifyReply, key: string) =>
      reply.render(
        `${V}/message.njk`,
        {
          title: req.t(`newsletter.${key}.invalidTitle`),
          paragraphs: [req.t(`newsletter.${key}.invalid`)],
          links: [{ href: '/newsletter', text: req.t('newsletter.signup.title') }],
          noindex: true,
        },
        404,
      );
    app.get(
      '/newsletter/confirm/:token',
      { config: { ...pub, ...limited } },
      async (req, reply) => {
        const p = tokenParam.safeParse(req.params);
        const s = p.success ? await newsletter.pendingFor(p.data.token) : undefined;
        if (!s) return invalid(req, reply, 'confirm');
        return reply.render(`${V}/confirm.njk`, {
          title: req.t('newsletter.confirm.title'),
          action: `/newsletter/confirm/${p.data!.token}`,
          email: s.email,
          noindex: true,
        });
      },
    );
    app.post(
      '/newsletter/confirm/:token',
      { config: { ...pub, ...limited } },
      async (req, reply) => {
        const p = tokenParam.safeParse(req.params);
        const s = p.success ? await newsletter.confirm(p.data.token, req.ip) : undefined;
        if (!s) return invalid(req, reply, 'confirm');
        return reply.render(`${V}/message.njk`, {
          title: req.t('newsletter.confirm.doneTitle'),
          paragraphs: [req.t('newsletter.confirm.done')],
          links: [
            {
              href: `/newsletter/preferences/${newsletter.manageToken(s.id)}`,
              text: req.t('newsletter.preferences.title'),
            },
          ],
          noindex: true,
        });
      },
    );

    // A member, from their account page: one step.
    app.post('/newsletter/account', { config: { access: 'signedIn' } }, async (req, reply) => {
      const token = await newsletter.memberSignUp(userOf(req), req.ip);
      if (!token) return reply.redirect('/newsletter', 303);
      return reply.redirect(`/newsletter/preferences/${token}?joined=1`, 303);
    });

    // A fresh preference link, for anyone who asks (the same answer for unknown addresses).
    app.get('/newsletter/manage', { config: pub }, async (req, reply) =>
      reply.render(`${V}/manage.njk`, { title: req.t('newsletter.manage.title'), values: {} }),
    );
    app.post('/newsletter/manage', { config: { ...pub, ...limited } }, async (req, reply) => {
      const f = parseForm(manageSchema, req.body, req.t);
      if (!f.ok)
        return reply.render(
          `${V}/manage.njk`,
          { title: req.t('newsletter.manage.title'), values: f.values, errors: f.errors },
          400,
        );
      await newsletter.requestManageLink(f.data.email);
      return reply.redirect('/newsletter/manage/sent', 303);
    });
    app.get('/newsletter/manage/sent', { config: pub }, async (req, reply) =>
      reply.render(`${V}/message.njk`, {
        title: req.t('newsletter.manage.sentTitle'),
        paragraphs: [req.t('newsletter.manage.sent')],
        noindex: true,
      }),
    );

    // Preferences, through the signed link in every email.
    const prefsPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      token: string,
      extra: { values?: Record<string, unknown>; errors?: unknown } = {},
    ) => {
      const found = await newsletter.preferences(token);
      if (!found) return invalid(req, reply, 'preferences');
      const s = found.subscriber;
      const values = extra.values ?? {
        name: s.name,
        topics: s.topics,
        frequency: s.frequency,
        locale: s.locale,
      };
      const q = req.query as { saved?: string; joined?: string };
      return reply.render(
        `${V}/preferences.njk`,
        {
          title: req.t('newsletter.preferences.title'),
          subscriber: s,
          values,
          topicItems: topicItems(req, values.topics),
          token,
          saved: q.saved === '1',
          joined: q.joined === '1',
          errors: extra.errors,
          noindex: true,
        },
        extra.errors ? 400 : undefined,
      );
    };
    app.get(
      '/newsletter/preferences/:token',
      { config: { ...pub, ...limited } },
      async (req, reply) => {
        const p = tokenParam.safeParse(req.params);
        if (!p.success) return invalid(req, reply, 'preferences');
        return prefsPage(req, reply, p.data.token);
      },
    );
    app.post(
      '/newsletter/preferences/:token',
      { config: { ...pub, ...limited } },
      async (req, reply) => {
        const p = tokenParam.safeParse(req.params);
        if (!p.success) return invalid(req, reply, 'preferences');
        const f = parseForm(prefsSchema, req.body, req.t);
        if (!f.ok)
          return prefsPage(req, reply, p.data.token, { values: f.values, errors: f.errors });
        const s = await newsletter.savePreferences(p.data.token, f.data, req.ip);
        if (!s) return invalid(req, reply, 'preferences');
        return reply.redirect(`/newsletter/preferences/${p.data.token}?saved=1`, 303);
      },
    );
    app.get(
      '/newsletter/preferences/:token/data.json',
      { config: { ...pub, ...limited, a11y: false } },
      async (req, reply) => {
        const p = tokenParam.safeParse(req.params);
        const data = p.success ? await newsletter.exportByToken(p.data.token) : undefined;
        if (!data) return reply.code(404).send({ error: 'not found' });
        return reply
          .header('content-disposition', 'attachment; filename="newsletter-data.json"')
          .header('cache-control', 'no-store')
          .send(data);
      },
    );

    // One-click unsubscribe (RFC 8058). A GET only shows the page (mail
    // scanners and link previews follow links); a POST — from the page's
    // button or from a mail client, with no session, no CSRF token and
    // perhaps an empty body — unsubscribes, and a second POST answers the same.
    const unsubscribePage = (
      req: FastifyRequest,
      reply: FastifyReply,
      token: string,
      state: string,
    ) =>
      reply.render(`${V}/unsubscribe.njk`, {
        title: req.t(
          state === 'unsubscribed'
            ? 'newsletter.unsubscribe.doneTitle'
            : 'newsletter.unsubscribe.title',
        ),
        done: state === 'unsubscribed',
        token,
        noindex: true,
      });
    app.get(
      '/newsletter/unsubscribe/:token',
      { config: { ...pub, ...limited } },
      async (req, reply) => {
        const p = tokenParam.safeParse(req.params);
        const s = p.success ? await newsletter.unsubscribeTarget(p.data.token) : undefined;
        if (!s) return invalid(req, reply, 'unsubscribe');
        return unsubscribePage(
          req,
          reply,
          p.data!.token,
          s.state === 'unsubscribed' ? 'unsubscribed' : 'ask',
        );
      },
    );
    app.post(
      '/newsletter/unsubscribe/:token',
      { config: { ...pub, csrf: false, rateLimit: { max: 30, timeWindow: 60_000 } } },
      async (req, reply) => {
        const p = tokenParam.safeParse(req.params);
        const form =
          (req.body as Record<string, unknown> | undefined)?.['List-Unsubscribe'] === 'One-Click'
            ? 'one-click'
            : 'link';
        const s = p.success ? await newsletter.unsubscribe(p.data.token, form, req.ip) : undefined;
        if (!s) return invalid(req, reply, 'unsubscribe');
        return unsubscribePage(req, reply, p.data!.token, 'unsubscribed');
      },
    );
    app.post(
      '/newsletter/unsubscribe/:token/undo',
      { config: { ...pub, ...limited } },
      async (req, reply) => {
        const p = tokenParam.safeParse(req.params);
        const s = p.success ? await newsletter.undoUnsubscribe(p.data.token, req.ip) : undefined;
        if (!s) return invalid(req, reply, 'unsubscribe');
        return reply.render(`${V}/message.njk`, {
          title: req.t(
            s.state === 'subscribed'
              ? 'newsletter.unsubscribe.undoneTitle'
              : 'newsletter.unsubscribe.notUndoneTitle',
          ),
          paragraphs: [
            req.t(
              s.state === 'subscribed'
                ? 'newsletter.unsubscribe.undone'
                : 'newsletter.unsubscribe.notUndone',
            ),
          ],
          links: [
            {
              href: `/newsletter/preferences/${newsletter.manageToken(s.id)}`,
              text: req.t('newsletter.preferences.title'),
            },
          ],
          noindex: true,
        });
      },
    );

    // The archive: every issue sent, as a page, and a feed.
    app.get('/newsletter/archive', { config: { ...pub, pageCache: 30 } }, async (req, reply) => {
      const page = z.coerce
        .number()
        .int()
        .min(1)
        .max(1000)
        .catch(1)
        .parse((req.query as { page?: unknown }).page);
      const { rows, total } = await newsletter.archive(page, PAGE_SIZE);
      const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
      return reply.render(`${V}/archive.njk`, {
        title: req.t('newsletter.archive.title'),
        issues: rows.map((r) => ({ ...r, date: r.sentAt ? formatDate(r.sentAt, req.locale) : '' })),
        pagination: {
          pages,
          previous: page > 1 ? { href: `/newsletter/archive?page=${page - 1}` } : undefined,
          next: page < pages ? { href: `/newsletter/archive?page=${page + 1}` } : undefined,
        },
        alternateLinks: [
          {
            type: 'application/atom+xml',
            href: '/newsletter/archive/feed.atom',
            title: req.t('newsletter.archive.feed'),
          },
        ],
      });
    });
    app.get(
      '/newsletter/archive/feed.atom',
      { config: { ...pub, a11y: false } },
      async (req, reply) => {
        const { rows } = await newsletter.archive(1, 50);
        const xml = atomFeed({
          id: `${opts.baseUrl}/newsletter/archive`,
          title: req.t('newsletter.archive.feed'),
          selfUrl: `${opts.baseUrl}/newsletter/archive/feed.atom`,
          siteUrl: `${opts.baseUrl}/newsletter/archive`,
          updated: rows[0]?.sentAt ?? new Date(0),
          language: req.locale,
          entries: rows.map((r) => ({
            id: `${opts.baseUrl}/newsletter/archive/${r.id}`,
            title: r.subject,
            url: `${opts.baseUrl}/newsletter/archive/${r.id}`,
            summary: r.body.slice(0, 300) || r.subject,
            updated: r.sentAt ?? r.updatedAt,
            published: r.sentAt ?? r.createdAt,
          })),
        });
        return reply
          .header('content-type', 'application/atom+xml; charset=utf-8')
          .header('cache-control', 'public, max-age=300')
          .send(xml);
      },
    );
    app.get(
      '/newsletter/archive/:id',
      { config: { ...pub, pageCache: 30 } },
      async (req, reply) => {
        const p = idParam.safeParse(req.params);
        const found = p.success ? await newsletter.archived(p.data.id) : undefined;
        if (!found) return reply.callNotFound();
        const sections = TOPICS.map((topic) => ({
          heading: req.t(`newsletter.topics.${topic}`),
          items: found.items.filter((i) => i.topic === topic),
        })).filter((s) => s.items.length);
        return reply.render(`${V}/archive-issue.njk`, {
          title: found.issue.subject,
          issue: found.issue,
          date: found.issue.sentAt ? formatDate(found.issue.sentAt, req.locale) : '',
          bodyHtml: found.html,
          sections,
          contentLang: found.issue.kind === 'issue' ? found.issue.locale : undefined,
        });
      },
    );

    // Issues' images (mail programs fetch them: public, long cached, never a page).
    app.get('/newsletter/images/:name', { config: { ...pub, a11y: false } }, async (req, reply) => {
      const found = await newsletter.image((req.params as { name: string }).name);
      if (!found) return reply.callNotFound();
      return reply
        .headers(fileHeaders({ filename: 'image', mime: found.mime, inline: true }))
        .header('content-length', String(found.size))
        .header('cache-control', 'public, max-age=31536000, immutable')
        .send(found.stream());
    });

    // Bounces and complaints from the mail provider, with the shared secret.
    const secretOk = (req: FastifyRequest) => {
      if (!opts.webhookSecret) return false;
      const auth = req.headers.authorization;
      const basic = auth?.startsWith('Basic ')
        ? Buffer.from(auth.slice(6), 'base64').toString().split(':').slice(1).join(':')
        : undefined;
      const given =
        (req.headers['x-webhook-secret'] as string | undefined) ??
        basic ??
        (req.query as { secret?: string }).secret;
      if (!given) return false;
      const a = Buffer.from(given);
      const b = Buffer.from(opts.webhookSecret);
      return a.length === b.length && timingSafeEqual(a, b);
    };
    app.post(
      '/hooks/mail/:provider',
      { config: { ...pub, csrf: false, a11y: false } },
      async (req, reply) => {
        const provider = z.enum(PROVIDERS).safeParse((req.params as { provider: string }).provider);
        if (!provider.success || !opts.webhookSecret)
          return reply.code(404).send({ error: 'not found' });
        if (!secretOk(req)) return reply.code(401).send({ error: 'unauthorised' });
        try {
          const events = await newsletter.receiveMailEvents(provider.data, req.body);
          // SNS posts its JSON as text/plain.
          let body: unknown = req.body;
          if (typeof body === 'string') body = JSON.parse(body);
          const sns = body as { Type?: string; SubscribeURL?: string } | undefined;
          if (sns?.Type === 'SubscriptionConfirmation')
            req.log.info(
              { subscribeUrl: sns.SubscribeURL },
              'SNS subscription: open SubscribeURL to confirm',
            );
          return reply.send({ received: events.length });
        } catch (err) {
          if (err instanceof BadWebhook) return reply.code(400).send({ error: err.message });
          throw err;
        }
      },
    );
  };
}
