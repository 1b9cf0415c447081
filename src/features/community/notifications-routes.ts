import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';
import { NOTIFICATIONS_PATH } from './navigation.ts';
import { formatDate } from '../../platform/dates.ts';
import { userOf } from '../../platform/auth.ts';
import { type FormErrors, parseForm } from '../../platform/forms.ts';
import { type CommunityNotifications, kindsFor } from './notifications.ts';
import { EMAIL_CHOICES, FOLLOW_MODES, NOTIFICATION_KINDS } from './schema.ts';
import { CommunityRefusal } from './service.ts';

/**
 * HTTP only: the notifications page, email settings, the one-click
 * unsubscribe, and following or muting threads and spaces (the thread and
 * space pages read the viewer's choice with the space: `threadContext`).
 */

const V = 'community/views';
const spaceParam = z.object({ space: z.string().regex(/^[a-z0-9-]{1,80}$/) });
const threadParams = spaceParam.extend({ id: z.uuid() });
const kindQuery = z.object({ kind: z.enum(NOTIFICATION_KINDS).optional().catch(undefined) });
const modeForm = z.object({ mode: z.enum([...FOLLOW_MODES, 'none']) });
const settingsForm = z.object({
  email: z.enum(EMAIL_CHOICES, 'community.notifications.errors.emailRequired'),
  kinds: z.preprocess(
    (v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]),
    z.array(z.enum(NOTIFICATION_KINDS, 'community.notifications.errors.kindInvalid')).max(10),
  ),
});
const tokenParam = z.object({
  token: z.string().regex(/^[A-Za-z0-9_-]{10,120}\.[A-Za-z0-9_-]{43}$/),
});
const limited = { rateLimit: { max: 20, timeWindow: 60_000 } };
/** Routes that answer with files, feeds or data, never a page with the site header. */
const NO_HEADER =
  /^\/(assets|api)\/|\/(files|attachments)\/|\/mentions$|\.(atom|ics|csv|json|xml|txt)$|^\/(readyz|healthz)$/;

export function notificationsRoutes(notifications: CommunityNotifications) {
  return fp(
    async (app) => {
      const page = (
        reply: FastifyReply,
        view: string,
        data: Record<string, unknown>,
        status = 200,
      ) => reply.code(status).render(`${V}/${view}.njk`, { ...data, noindex: true });
      const refuse = (req: FastifyRequest, reply: FastifyReply, err: CommunityRefusal) =>
        page(
          reply,
          'refused',
          {
            title: req.t(`community.refused.${err.reason}.title`),
            reason: err.reason,
            slug: (req.params as { space?: string }).space,
          },
          err.statusCode,
        );
      const spaceName = (req: FastifyRequest, s: { name: string; nameCy: string | null }) =>
        req.locale === 'cy' && s.nameCy ? s.nameCy : s.name;

      // The unread count beside "Notifications" in the header, for signed-in pages
      // (not files, feeds or machine routes, which show no header).
      app.addHook('preHandler', async (req) => {
        if (req.method !== 'GET' || !req.user) return;
        const url = req.routeOptions.url ?? '';
        if (NO_HEADER.test(url)) return;
        const unread = await notifications.unreadCount(req.user);
        if (unread) req.navCounts = { ...req.navCounts, [NOTIFICATIONS_PATH]: unread };
      });

      app.get('/community/notifications', { config: { access: 'member' } }, async (req, reply) => {
        const { kind } = kindQuery.parse(req.query ?? {});
        const found = await notifications.page(userOf(req), kind);
        return page(reply, 'notifications', {
          title: req.t('community.notifications.title'),
          kind,
          kinds: kindsFor(req.user),
          unread: found.unread,
          done: (req.query as { done?: string }).done === 'read',
          items: found.items.map((n) => ({
            ...n,
            text: notifications.describe(req.t, n, n.threadTitle),
            spaceName: n.space ? spaceName(req, n.space) : undefined,
            when: formatDate(n.createdAt, req.locale),
          })),
        });
      });
      // A notification's link: marks it read, then goes to the post (which checks access again).
      app.get(
        '/community/notifications/:id',
        { config: { access: 'member', a11y: false } },
        async (req, reply) => {
          const id = z.uuid().safeParse((req.params as { id?: string }).id);
          const to = id.success ? await notifications.openOne(userOf(req), id.data) : undefined;
          if (!to) return reply.callNotFound();
          return reply.redirect(to, 303);
        },
      );
      app.post(
        '/community/notifications/read',
        { config: { access: 'member' } },
        async (req, reply) => {
          await notifications.markAllRead(userOf(req));
          const { kind } = kindQuery.parse(req.body ?? {});
          return reply.redirect(
            `/community/notifications?${kind ? `kind=${kind}&` : ''}done=read`,
            303,
          );
        },
      );

      const settingsPage = async (
        req: FastifyRequest,
        reply: FastifyReply,
        extra: { errors?: FormErrors; values?: Record<string, unknown>; status?: number } = {},
      ) => {
        const prefs = await notifications.settings(userOf(req));
        const values = extra.values ?? {
          email: prefs.email,
          kinds: NOTIFICATION_KINDS.filter((k) => !prefs.emailOff.includes(k)),
        };
        const chosen = ([] as unknown[]).concat(values.kinds ?? []);
        return page(
          reply,
          'notifications-settings',
          {
            title: req.t('community.notifications.settings.title'),
            errors: extra.errors,
            values,
            saved: (req.query as { saved?: string }).saved === '1',
            emailItems: EMAIL_CHOICES.map((c) => ({
              value: c,
              text: req.t(`community.notifications.settings.email.${c}`),
              hint: { text: req.t(`community.notifications.settings.email.${c}Hint`) },
              checked: values.email === c,
            })),
            kindItems: kindsFor(req.user).map((k) => ({
              value: k,
              text: req.t(`community.notifications.kinds.${k}`),
              checked: chosen.includes(k),
            })),
          },
          extra.status,
        );
      };
      app.get(
        '/community/notifications/settings',
        { config: { access: 'member' } },
        async (req, reply) => settingsPage(req, reply),
      );
      app.post(
        '/community/notifications/settings',
        { config: { access: 'member', ...limited } },
        async (req, reply) => {
          const f = parseForm(settingsForm, req.body, req.t);
          if (!f.ok) return settingsPage(req, reply, { ...f, status: 400 });
          await notifications.saveSettings(userOf(req), f.data.email, f.data.kinds);
          return reply.redirect('/community/notifications/settings?saved=1', 303);
        },
      );

      // One-click unsubscribe: the link shows a page with a button (mail scanners
      // follow links), and mail clients POST to the same address (RFC 8058), which
      // carries no CSRF token: the signed token in the address is the proof.
      const unsubscribeKind = (req: FastifyRequest) => {
        const p = tokenParam.safeParse(req.params);
        return p.success
          ? { token: p.data.token, target: notifications.unsubscribeTarget(p.data.token) }
          : undefined;
      };
      const kindName = (req: FastifyRequest, kind: string) =>
        kind === 'digest'
          ? req.t('community.notifications.kinds.digest')
          : req.t(`community.notifications.kinds.${kind}`);
      // Not the not-found handler: it would ask a mail client's POST for a CSRF token.
      const invalidLink = (req: FastifyRequest, reply: FastifyReply) =>
        page(
          reply,
          'notifications-unsubscribe',
          { title: req.t('community.notifications.unsubscribe.invalidTitle'), invalid: true },
          404,
        );
      app.get(
        '/community/notifications/unsubscribe/:token',
        { config: { access: 'public', ...limited } },
        async (req, reply) => {
          const found = unsubscribeKind(req);
          if (!found?.target) return invalidLink(req, reply);
          return page(reply, 'notifications-unsubscribe', {
            title: req.t('community.notifications.unsubscribe.title'),
            kindName: kindName(req, found.target.kind),
            digest: found.target.kind === 'digest',
            action: `/community/notifications/unsubscribe/${found.token}`,
          });
        },
      );
      app.post(
        '/community/notifications/unsubscribe/:token',
        { config: { access: 'public', csrf: false, ...limited } },
        async (req, reply) => {
          const found = unsubscribeKind(req);
          const kind = found ? await notifications.unsubscribe(found.token) : undefined;
          if (!kind) return invalidLink(req, reply);
          return page(reply, 'notifications-unsubscribe', {
            title: req.t('community.notifications.unsubscribe.doneTitle'),
            kindName: kindName(req, kind),
            digest: kind === 'digest',
            done: true,
          });
        },
      );

      // Following and muting.
      app.post(
        '/community/:space/follow',
        { config: { access: 'member', ...limited } },
        async (req, reply) => {
          const p = spaceParam.safeParse(req.params);
          const f = modeForm.safeParse(req.body);
          if (!p.success) return reply.callNotFound();
          try {
            if (!f.success) {
              // Still refuse people who may not read the space before saying the form is wrong.
              await notifications.followSpace(userOf(req), p.data.space, 'check');
              return reply.redirect(`/community/${p.data.space}`, 303);
            }
            const done = await notifications.followSpace(userOf(req), p.data.space, f.data.mode);
            if (!done) return reply.callNotFound();
            return reply.redirect(`/community/${done.space.slug}?follow=${f.data.mode}`, 303);
          } catch (err) {
            if (err instanceof CommunityRefusal) return refuse(req, reply, err);
            throw err;
          }
        },
      );
      app.post(
        '/community/:space/:id/follow',
        { config: { access: 'member', ...limited } },
        async (req, reply) => {
          const p = threadParams.safeParse(req.params);
          const f = modeForm.safeParse(req.body);
          if (!p.success) return reply.callNotFound();
          try {
            const done = await notifications.followThread(
              userOf(req),
              p.data.space,
              p.data.id,
              f.success ? f.data.mode : 'check',
            );
            if (!done) return reply.callNotFound();
            return reply.redirect(
              `/community/${done.space.slug}/${done.thread.id}${f.success ? `?follow=${f.data.mode}` : ''}`,
              303,
            );
          } catch (err) {
            if (err instanceof CommunityRefusal) return refuse(req, reply, err);
            throw err;
          }
        },
      );
    },
    { name: 'community-notifications', dependencies: ['csrf'] },
  );
}
