import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { formatDate } from '../../platform/dates.ts';
import { userOf } from '../../platform/auth.ts';
import { echoValues, errorsFrom, type FormErrors, parseForm } from '../../platform/forms.ts';
import { pageLinks } from '../../platform/pagination.ts';
import type { Storage } from '../../platform/storage.ts';
import { registerUploads } from '../../platform/uploads.ts';
import { fileHeaders, humanSize } from '../../platform/files.ts';
import { withFields } from '../../platform/objects.ts';
import {
  ATTACHMENT_FIELD,
  type AttachmentProblem,
  checkAttachments,
  isImage,
  MAX_ATTACHMENT_BYTES,
  MAX_ATTACHMENTS,
} from './attachments.ts';
import {
  CommunityRefusal,
  type CommunityService,
  type Refusal,
  THREAD_COUNT_CAP,
} from './service.ts';

/**
 * HTTP only: the community's pages. Every page carries noindex; every rule
 * about who may do what is in the service, and a refusal becomes a sign-in
 * (visitors) or a page saying why (everyone else).
 */

const V = 'community/views';
const spaceParam = z.object({ space: z.string().regex(/^[a-z0-9-]{1,80}$/) });
const threadParams = spaceParam.extend({ id: z.uuid() });
const postParam = z.object({ id: z.uuid() });
const pageQuery = z.object({
  page: z.coerce.number().int().min(1).max(100_000).catch(1).default(1),
});
/** A space's list: `after` (a thread's id) continues a deep list from that thread. */
const listQuery = pageQuery.extend({ after: z.uuid().optional().catch(undefined) });
const form = { rateLimit: { max: 20, timeWindow: 60_000 } };

const bodyText = (required: string) =>
  z
    .string()
    .optional()
    .transform((v) => (v ?? '').trim())
    .pipe(z.string().min(1, required).max(20_000, 'community.errors.bodyTooLong'));
const threadForm = z.object({
  title: z
    .string()
    .optional()
    .transform((v) => (v ?? '').trim())
    .pipe(
      z.string().min(1, 'community.errors.titleRequired').max(150, 'community.errors.titleTooLong'),
    ),
  body: bodyText('community.errors.bodyRequired'),
  anonymous: z.literal('yes').optional(),
});
const replyForm = z.object({
  body: bodyText('community.errors.replyRequired'),
  anonymous: z.literal('yes').optional(),
});
const editForm = z.object({ body: bodyText('community.errors.bodyRequired') });
const reasonForm = z.object({
  reason: z
    .string()
    .optional()
    .transform((v) => (v ?? '').trim())
    .pipe(
      z
        .string()
        .min(1, 'community.errors.reasonRequired')
        .max(1000, 'community.errors.reasonTooLong'),
    ),
});

export interface CommunityRouteOptions {
  dataDir: string;
  storage: Storage;
}

/**
 * The post box's attributes for the @mention autocomplete (assets/js/mentions.js):
 * its endpoint, and its sentences in the reader's language ("N names found", 0–8).
 */
function mentionsAttributes(req: FastifyRequest, slug: string) {
  let sentences = mentionSentences.get(req.locale);
  if (!sentences) {
    sentences = {
      'data-mentions-label': req.t('community.mentions.label'),
      'data-mentions-instructions': req.t('community.mentions.instructions'),
      'data-mentions-found': JSON.stringify(
        Array.from({ length: 9 }, (_v, count) => req.t('community.mentions.found', { count })),
      ),
    };
    mentionSentences.set(req.locale, sentences);
  }
  return { 'data-mentions': `/community/${slug}/mentions`, ...sentences };
}
/** The autocomplete's sentences, worked out once for each language. */
const mentionSentences = new Map<string, Record<string, string>>();

/** A deep list's "next" link continues from its last thread (see CommunityService.threads). */
function withAfter(links: ReturnType<typeof pageLinks>, after: string | undefined) {
  if (!after || !links.next) return links;
  return { ...links, next: { href: `${links.next.href}&after=${after}` } };
}

/** The ids ticked in the edit form's "remove this file" boxes (anything else is ignored). */
function removalsOf(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.filter((v): v is string => typeof v === 'string' && z.uuid().safeParse(v).success);
}

/** A form's own problems and its files' problems, in one error summary. */
function withProblems(
  form: { ok: true } | { ok: false; errors: FormErrors },
  files: { ok: true } | { ok: false; problems: AttachmentProblem[] },
  t: FastifyRequest['t'],
): FormErrors | undefined {
  const errors = form.ok ? undefined : form.errors;
  const problems = files.ok ? [] : files.problems;
  if (!problems.length) return errors;
  const more = errorsFrom(problems, t);
  if (!errors) return more;
  return {
    summary: [
      ...errors.summary,
      ...more.summary.filter((s) => !errors.summary.some((e) => e.href === s.href)),
    ],
    fields: { ...more.fields, ...errors.fields },
  };
}

export function communityRoutes(
  community: CommunityService,
  opts: CommunityRouteOptions,
): FastifyPluginAsync {
  return async (app) => {
    // The new-thread and reply forms may carry files (multipart); they stream
    // to temporary files, removed when the response is sent. One more than
    // allowed is read, so "too many" gets a message rather than an error page.
    const uploadsOf = await registerUploads(app, {
      dataDir: opts.dataDir,
      fields: [ATTACHMENT_FIELD],
      limits: { fileSize: MAX_ATTACHMENT_BYTES, files: MAX_ATTACHMENTS + 1 },
    });
    /** Check a post's files (nothing is stored): what the service stores, or what is wrong. */
    const attachmentsOf = async (req: FastifyRequest) => {
      const uploads = uploadsOf(req);
      const checked = await checkAttachments(uploads, (req.body as { alt?: unknown })?.alt);
      return { sent: uploads.length > 0, checked };
    };
    /** Every community page: not for search engines. */
    const page = (reply: FastifyReply, view: string, data: Record<string, unknown>, status = 200) =>
      reply.code(status).render(`${V}/${view}.njk`, { ...data, noindex: true });

    /** A refusal: visitors sign in and come back; others are told why. */
    function refuse(req: FastifyRequest, reply: FastifyReply, reason: Refusal, slug?: string) {
      if (reason === 'signIn' && req.method === 'GET')
        return reply.redirect(`/account/sign-in?next=${encodeURIComponent(req.url)}`, 303);
      return page(
        reply,
        'refused',
        { title: req.t(`community.refused.${reason}.title`), reason, slug },
        reason === 'signIn' ? 401 : 403,
      );
    }
    /** Run a handler; a CommunityRefusal from the service becomes the right answer. */
    const guarded =
      (handler: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>) =>
      async (req: FastifyRequest, reply: FastifyReply) => {
        try {
          return await handler(req, reply);
        } catch (err) {
          if (err instanceof CommunityRefusal)
            return refuse(req, reply, err.reason, (req.params as { space?: string }).space);
          throw err;
        }
      };
    const when = (req: FastifyRequest, d: Date) => formatDate(d, req.locale);
    const spaceName = (req: FastifyRequest, s: { name: string; nameCy: string | null }) =>
      req.locale === 'cy' && s.nameCy ? s.nameCy : s.name;
    const threadPath = (slug: string, id: string, p = 1) =>
      `/community/${slug}/${id}${p > 1 ? `?page=${p}` : ''}`;

    app.get(
      '/community',
      { config: { access: 'public' } },
      guarded(async (req, reply) => {
        const spaces = await community.spaces(req.user, { activity: true });
        return page(reply, 'index', {
          title: req.t('community.index.title'),
          threadCap: THREAD_COUNT_CAP.toLocaleString('en-GB'),
          waiting: Boolean(req.user && !req.user.approved),
          // Moderators: the way to the moderation queue, with what waits there.
          queue: await community.queueCounts(req.user),
          spaces: spaces.map((s) => ({
            slug: s.space.slug,
            name: spaceName(req, s.space),
            description:
              req.locale === 'cy' && s.space.descriptionCy
                ? s.space.descriptionCy
                : s.space.description,
            kind: s.space.kind,
            isDemo: s.space.isDemo,
            publicRead: s.space.publicRead,
            threads: s.threads,
            // Past the cap: "More than 1,000 threads".
            threadsCapped: s.threads > THREAD_COUNT_CAP,
            lastPostAt: s.lastPostAt ? when(req, new Date(s.lastPostAt)) : undefined,
            read: s.access.read,
            requested: s.access.membership?.status === 'requested',
          })),
        });
      }),
    );

    app.get(
      '/community/search',
      { config: { access: 'public' } },
      guarded(async (req, reply) => {
        const q = z
          .string()
          .trim()
          .max(100)
          .catch('')
          .parse((req.query as { q?: unknown }).q ?? '');
        const results = q ? await community.search(req.user, q) : [];
        return page(reply, 'search', {
          title: req.t('community.search.title'),
          q,
          results: results.map((r) => ({ ...r, when: when(req, r.createdAt) })),
        });
      }),
    );

    app.get(
      '/community/:space',
      { config: { access: 'public' } },
      guarded(async (req, reply) => {
        const p = spaceParam.safeParse(req.params);
        const { page: n, after } = listQuery.parse(req.query ?? {});
        const found = p.success
          ? await community.threads(req.user, p.data.space, n, after)
          : undefined;
        if (!found) return reply.callNotFound();
        const slug = found.space.slug;
        return page(reply, 'space', {
          title: spaceName(req, found.space),
          space: found.space,
          access: found.access,
          held: (req.query as { held?: string }).held === '1',
          threads: found.rows.map((r) =>
            withFields(r.thread, {
              authorName: r.authorName,
              isNew: r.isNew,
              replies: Math.max(0, r.thread.postCount - 1),
              last: when(req, r.thread.lastPostAt),
            }),
          ),
          pagination: withAfter(
            pageLinks(`/community/${slug}`, new URLSearchParams(), n, found.pages),
            found.after,
          ),
          // The follow/mute control shows the viewer's choice (read with the space).
          communityFollow: req.user ? { space: found.follow ?? 'none' } : undefined,
        });
      }),
    );

    const newThreadPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      slug: string,
      extra: {
        errors?: FormErrors | undefined;
        values?: Record<string, unknown>;
        filesDropped?: boolean;
        status?: number;
      } = {},
    ) => {
      const found = await community.newThreadForm(userOf(req), slug);
      if (!found) return reply.callNotFound();
      return page(
        reply,
        'new-thread',
        {
          title: req.t('community.newThread.title'),
          space: found.space,
          mentionsAttributes: mentionsAttributes(req, found.space.slug),
          spaceName: spaceName(req, found.space),
          mayPostAnonymously: found.mayPostAnonymously,
          maxAttachments: MAX_ATTACHMENTS,
          filesDropped: extra.filesDropped,
          errors: extra.errors,
          values: extra.values ?? {},
        },
        extra.status,
      );
    };
    app.get(
      '/community/:space/new',
      { config: { access: 'member' } },
      guarded(async (req, reply) => {
        const p = spaceParam.safeParse(req.params);
        if (!p.success) return reply.callNotFound();
        return newThreadPage(req, reply, p.data.space);
      }),
    );
    app.post(
      '/community/:space/new',
      { config: { access: 'member', ...form } },
      guarded(async (req, reply) => {
        const p = spaceParam.safeParse(req.params);
        if (!p.success) return reply.callNotFound();
        const f = parseForm(threadForm, req.body, req.t);
        const files = await attachmentsOf(req);
        if (!f.ok || !files.checked.ok)
          return newThreadPage(req, reply, p.data.space, {
            errors: withProblems(f, files.checked, req.t),
            values: echoValues((req.body ?? {}) as Record<string, unknown>),
            filesDropped: files.sent,
            status: 400,
          });
        const done = await community.createThread(userOf(req), p.data.space, {
          title: f.data.title,
          body: f.data.body,
          anonymous: f.data.anonymous === 'yes',
          attachments: files.checked.files,
        });
        if (!done) return reply.callNotFound();
        if (done.held) return reply.redirect(`/community/${p.data.space}?held=1`, 303);
        return reply.redirect(threadPath(p.data.space, done.thread.id), 303);
      }),
    );

    const threadPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      slug: string,
      id: string,
      n: number,
      extra: {
        errors?: FormErrors | undefined;
        values?: Record<string, unknown>;
        filesDropped?: boolean;
        status?: number;
      } = {},
    ) => {
      const found = await community.thread(req.user, slug, id, n);
      if (!found) return reply.callNotFound();
      const q = req.query as { held?: string; quote?: string };
      let values = extra.values ?? {};
      // "Quote": the reply box starts with the quoted post as a Markdown quote.
      if (!extra.values && q.quote && z.uuid().safeParse(q.quote).success && req.user) {
        const source = await community.source(req.user, q.quote);
        if (source && source.thread.id === id)
          values = { body: `${source.post.body.replace(/^/gm, '> ')}\n\n` };
      }
      return page(
        reply,
        'thread',
        {
          title: found.thread.title,
          space: found.space,
          spaceName: spaceName(req, found.space),
          thread: found.thread,
          access: found.access,
          signedIn: Boolean(req.user),
          held: q.held === '1',
          posts: found.posts.map((p) =>
            withFields(p, {
              when: when(req, p.createdAt),
              // Only what the page shows: never who uploaded a file.
              attachments: p.attachments.map((a) => ({
                id: a.id,
                filename: a.filename,
                alt: a.alt ?? '',
                image: isImage(a.mime),
                size: humanSize(a.size),
              })),
            }),
          ),
          pagination: pageLinks(`/community/${slug}/${id}`, new URLSearchParams(), n, found.pages),
          communityFollow: req.user ? { thread: found.follow ?? 'none' } : undefined,
          mayPostAnonymously: found.mayPostAnonymously,
          maxAttachments: MAX_ATTACHMENTS,
          filesDropped: extra.filesDropped,
          mentionsAttributes: mentionsAttributes(req, slug),
          moveTargets: found.access.moderate
            ? (await community.spaces(req.user))
                .filter((s) => s.access.moderate && s.space.id !== found.space.id)
                .map((s) => ({ value: s.space.slug, text: spaceName(req, s.space) }))
            : [],
          errors: extra.errors,
          values,
        },
        extra.status,
      );
    };
    app.get(
      '/community/:space/:id',
      { config: { access: 'public' } },
      guarded(async (req, reply) => {
        const p = threadParams.safeParse(req.params);
        if (!p.success) return reply.callNotFound();
        const { page: n } = pageQuery.parse(req.query ?? {});
        return threadPage(req, reply, p.data.space, p.data.id, n);
      }),
    );
    app.post(
      '/community/:space/:id/reply',
      { config: { access: 'member', ...form } },
      guarded(async (req, reply) => {
        const p = threadParams.safeParse(req.params);
        if (!p.success) return reply.callNotFound();
        const f = parseForm(replyForm, req.body, req.t);
        const files = await attachmentsOf(req);
        if (!f.ok || !files.checked.ok) {
          const found = await community.thread(req.user, p.data.space, p.data.id, 1);
          return threadPage(req, reply, p.data.space, p.data.id, found?.pages ?? 1, {
            errors: withProblems(f, files.checked, req.t),
            values: echoValues((req.body ?? {}) as Record<string, unknown>),
            filesDropped: files.sent,
            status: 400,
          });
        }
        const done = await community.reply(userOf(req), p.data.space, p.data.id, {
          body: f.data.body,
          anonymous: f.data.anonymous === 'yes',
          attachments: files.checked.files,
        });
        if (!done) return reply.callNotFound();
        const at = await community.pageOf(req.user, done.post.id);
        const target = threadPath(p.data.space, p.data.id, at?.page ?? 1);
        return reply.redirect(
          done.held
            ? `${target}${target.includes('?') ? '&' : '?'}held=1#reply`
            : `${target}#post-${done.post.number}`,
          303,
        );
      }),
    );
    const moderateForm = z.object({
      action: z.enum(['pin', 'unpin', 'lock', 'unlock', 'hide', 'show', 'move']),
      moveTo: z
        .string()
        .regex(/^[a-z0-9-]{1,80}$/)
        .optional(),
    });
    app.post(
      '/community/:space/:id/moderate',
      { config: { access: 'member' } },
      guarded(async (req, reply) => {
        const p = threadParams.safeParse(req.params);
        const f = moderateForm.safeParse(req.body);
        if (!p.success) return reply.callNotFound();
        if (!f.success)
          return page(
            reply,
            'refused',
            { title: req.t('community.errors.actionRequired'), reason: 'notYours' },
            400,
          );
        const a = f.data.action;
        const row = await community.moderateThread(userOf(req), p.data.space, p.data.id, {
          ...(a === 'pin' || a === 'unpin' ? { pinned: a === 'pin' } : {}),
          ...(a === 'lock' || a === 'unlock' ? { locked: a === 'lock' } : {}),
          ...(a === 'hide' || a === 'show' ? { hidden: a === 'hide' } : {}),
          ...(a === 'move' && f.data.moveTo ? { moveTo: f.data.moveTo } : {}),
        });
        if (!row) return reply.callNotFound();
        const slug = a === 'move' && f.data.moveTo ? f.data.moveTo : p.data.space;
        return reply.redirect(threadPath(slug, p.data.id), 303);
      }),
    );

    app.post(
      '/community/:space/join',
      { config: { access: 'member', ...form } },
      guarded(async (req, reply) => {
        const p = spaceParam.safeParse(req.params);
        const space = p.success
          ? await community.requestToJoin(userOf(req), p.data.space)
          : undefined;
        if (!space) return reply.callNotFound();
        return reply.redirect('/community?requested=1', 303);
      }),
    );
    app.get(
      '/community/:space/members',
      { config: { access: 'member' } },
      guarded(async (req, reply) => {
        const p = spaceParam.safeParse(req.params);
        const found = p.success ? await community.members(userOf(req), p.data.space) : undefined;
        if (!found) return reply.callNotFound();
        return page(reply, 'members', {
          title: req.t('community.members.title', { name: spaceName(req, found.space) }),
          space: found.space,
          members: found.members,
        });
      }),
    );
    app.post(
      '/community/:space/members',
      { config: { access: 'member' } },
      guarded(async (req, reply) => {
        const p = spaceParam.safeParse(req.params);
        const f = z
          .object({ userId: z.uuid(), decision: z.enum(['accept', 'remove']) })
          .safeParse(req.body);
        if (!p.success) return reply.callNotFound();
        if (!f.success) return reply.redirect(`/community/${p.data.space}/members`, 303);
        const done = await community.decideMember(
          userOf(req),
          p.data.space,
          f.data.userId,
          f.data.decision,
        );
        if (!done) return reply.callNotFound();
        return reply.redirect(`/community/${p.data.space}/members`, 303);
      }),
    );

    // One post: a link to it, editing, deleting, liking, reporting, its history.
    app.get(
      '/community/posts/:id',
      { config: { access: 'public', a11y: false } },
      guarded(async (req, reply) => {
        const p = postParam.safeParse(req.params);
        const at = p.success ? await community.pageOf(req.user, p.data.id) : undefined;
        const post = p.success ? await community.source(req.user, p.data.id) : undefined;
        if (!at || !post) return reply.callNotFound();
        return reply.redirect(
          `${threadPath(at.slug, at.threadId, at.page)}#post-${post.post.number}`,
          303,
        );
      }),
    );
    // A post's attachment: the same rules as the post. Not a page of ours: no
    // scripts, no frames, never sniffed; kept only in the reader's own cache.
    app.get(
      '/community/attachments/:id',
      { config: { access: 'public', a11y: false }, compress: false },
      guarded(async (req, reply) => {
        const p = postParam.safeParse(req.params);
        const found = p.success ? await community.attachment(req.user, p.data.id) : undefined;
        if (!found) return reply.callNotFound();
        const { file } = found;
        const stat = await opts.storage.stat(file.storageKey);
        if (!stat) return reply.callNotFound();
        const etag = `"${file.id}-${stat.size}"`;
        reply
          .headers(fileHeaders({ filename: file.filename, mime: file.mime, inline: true }))
          .header('cache-control', 'private, no-cache')
          .header('etag', etag)
          .header('x-robots-tag', 'noindex, nofollow')
          .header('cross-origin-resource-policy', 'same-origin');
        if (req.headers['if-none-match'] === etag) return reply.code(304).send();
        return reply.header('content-length', stat.size).send(opts.storage.read(file.storageKey));
      }),
    );
    const editPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      id: string,
      extra: {
        errors?: FormErrors | undefined;
        values?: Record<string, unknown>;
        filesDropped?: boolean;
        status?: number;
      } = {},
    ) => {
      const found = await community.editForm(userOf(req), id);
      if (!found) return reply.callNotFound();
      const removing = new Set(removalsOf(extra.values?.remove));
      return page(
        reply,
        'edit-post',
        {
          title: req.t('community.edit.title'),
          post: found.post,
          thread: found.thread,
          space: found.space,
          // The post's files, each with a "remove" box (ticked again after a problem).
          files: found.files.map((a) => ({
            value: a.id,
            text: isImage(a.mime)
              ? req.t('community.edit.imageFile', { name: a.filename, alt: a.alt ?? '' })
              : req.t('community.attachments.pdfLink', {
                  name: a.filename,
                  size: humanSize(a.size),
                }),
            checked: removing.has(a.id),
          })),
          maxAttachments: MAX_ATTACHMENTS,
          filesDropped: extra.filesDropped,
          mentionsAttributes: mentionsAttributes(req, found.space.slug),
          errors: extra.errors,
          values: extra.values ?? { body: found.post.body },
        },
        extra.status,
      );
    };
    app.get(
      '/community/posts/:id/edit',
      { config: { access: 'member' } },
      guarded(async (req, reply) => {
        const p = postParam.safeParse(req.params);
        if (!p.success) return reply.callNotFound();
        return editPage(req, reply, p.data.id);
      }),
    );
    app.post(
      '/community/posts/:id/edit',
      { config: { access: 'member', ...form } },
      guarded(async (req, reply) => {
        const p = postParam.safeParse(req.params);
        if (!p.success) return reply.callNotFound();
        const f = parseForm(editForm, req.body, req.t);
        const files = await attachmentsOf(req);
        const values = echoValues((req.body ?? {}) as Record<string, unknown>);
        const again = (errors: FormErrors | undefined) =>
          editPage(req, reply, p.data.id, {
            errors,
            values,
            filesDropped: files.sent,
            status: 400,
          });
        if (!f.ok || !files.checked.ok) return again(withProblems(f, files.checked, req.t));
        const done = await community.edit(userOf(req), p.data.id, f.data.body, {
          remove: removalsOf((req.body as { remove?: unknown } | undefined)?.remove),
          add: files.checked.files,
        });
        if (!done) return reply.callNotFound();
        if ('tooMany' in done)
          return again(
            withProblems(
              { ok: true },
              {
                ok: false,
                problems: [
                  {
                    field: ATTACHMENT_FIELD,
                    key: 'community.edit.errors.tooManyFiles',
                    vars: { max: MAX_ATTACHMENTS },
                  },
                ],
              },
              req.t,
            ),
          );
        return reply.redirect(`/community/posts/${p.data.id}`, 303);
      }),
    );
    app.post(
      '/community/posts/:id/delete',
      { config: { access: 'member' } },
      guarded(async (req, reply) => {
        const p = postParam.safeParse(req.params);
        const done = p.success ? await community.remove(userOf(req), p.data.id) : undefined;
        if (!done) return reply.callNotFound();
        return reply.redirect(threadPath(done.space.slug, done.thread.id), 303);
      }),
    );
    app.post(
      '/community/posts/:id/like',
      { config: { access: 'member', ...form } },
      guarded(async (req, reply) => {
        const p = postParam.safeParse(req.params);
        const done = p.success ? await community.like(userOf(req), p.data.id) : undefined;
        if (!done) return reply.callNotFound();
        return reply.redirect(`/community/posts/${p.data!.id}`, 303);
      }),
    );
    const reportPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      id: string,
      extra: { errors?: FormErrors; values?: Record<string, unknown>; status?: number } = {},
    ) => {
      const found = await community.source(req.user, id);
      if (!found || found.post.status !== 'visible') return reply.callNotFound();
      return page(
        reply,
        'report',
        {
          title: req.t('community.report.title'),
          post: found.post,
          thread: found.thread,
          space: found.space,
          errors: extra.errors,
          values: extra.values ?? {},
        },
        extra.status,
      );
    };
    app.get(
      '/community/posts/:id/report',
      { config: { access: 'member' } },
      guarded(async (req, reply) => {
        const p = postParam.safeParse(req.params);
        if (!p.success) return reply.callNotFound();
        return reportPage(req, reply, p.data.id);
      }),
    );
    app.post(
      '/community/posts/:id/report',
      { config: { access: 'member', ...form } },
      guarded(async (req, reply) => {
        const p = postParam.safeParse(req.params);
        if (!p.success) return reply.callNotFound();
        const f = parseForm(reasonForm, req.body, req.t);
        if (!f.ok) return reportPage(req, reply, p.data.id, { ...f, status: 400 });
        const done = await community.report(userOf(req), p.data.id, f.data.reason);
        if (!done) return reply.callNotFound();
        return page(reply, 'reported', {
          title: req.t('community.report.done'),
          back: threadPath(done.space.slug, done.thread.id),
        });
      }),
    );
    app.get(
      '/community/posts/:id/history',
      { config: { access: 'member' } },
      guarded(async (req, reply) => {
        const p = postParam.safeParse(req.params);
        const found = p.success ? await community.revisions(userOf(req), p.data.id) : undefined;
        if (!found) return reply.callNotFound();
        return page(reply, 'revisions', {
          title: req.t('community.revisions.title'),
          post: found.post,
          thread: found.thread,
          space: found.space,
          revisions: found.revisions.map((r) => ({ ...r, when: when(req, r.editedAt) })),
        });
      }),
    );

    // The moderation queue.
    /** The queue, with a problem in a decision form shown at the top (the form is per post). */
    const moderationPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      extra: { errors?: FormErrors; status?: number } = {},
    ) => {
      const q = await community.queue(req.user);
      return page(
        reply,
        'moderation',
        {
          title: req.t('community.moderation.title'),
          reports: q.reports.map((r) => ({ ...r, when: when(req, r.report.createdAt) })),
          pending: q.pending.map((r) => ({ ...r, when: when(req, r.post.createdAt) })),
          done: (req.query as { done?: string }).done,
          errors: extra.errors,
        },
        extra.status,
      );
    };
    app.get(
      '/admin/moderation',
      { config: { access: 'moderator' } },
      guarded(async (req, reply) => moderationPage(req, reply)),
    );
    const decision = z.object({
      action: z.enum(['hide', 'restore', 'dismiss', 'warn'], 'community.errors.actionRequired'),
      reason: z
        .string()
        .optional()
        .transform((v) => (v ?? '').trim().slice(0, 1000)),
    });
    app.post(
      '/admin/moderation/posts/:id',
      { config: { access: 'moderator' } },
      guarded(async (req, reply) => {
        const p = postParam.safeParse(req.params);
        const f = decision.safeParse(req.body);
        if (!p.success) return reply.callNotFound();
        // A warning is sent to the member, so it needs its reason.
        const problem = !f.success
          ? 'community.errors.actionRequired'
          : f.data.action === 'warn' && !f.data.reason
            ? 'community.errors.warnReason'
            : undefined;
        if (problem || !f.success)
          return moderationPage(req, reply, {
            errors: errorsFrom([{ field: 'moderation', key: problem! }], req.t),
            status: 400,
          });
        const done = await community.moderatePost(
          userOf(req),
          p.data.id,
          f.data.action,
          f.data.reason,
        );
        if (!done) return reply.callNotFound();
        return reply.redirect(`/admin/moderation?done=${f.data.action}`, 303);
      }),
    );
  };
}
