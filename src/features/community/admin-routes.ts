import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { CurrentUser } from '../../platform/auth.ts';
import { echoValues, errorsFrom, type FormErrors, parseForm } from '../../platform/forms.ts';
import type { AdminProblem, CommunityAdmin, SpaceInput } from './admin.ts';
import { MAX_HELD_POSTS } from './admin.ts';
import type { SpaceRow } from './repository.ts';
import { SPACE_KINDS, SPACE_VISIBILITIES } from './schema.ts';

/**
 * HTTP only: the admin pages for the community — the spaces and the
 * held-posts setting, a space's form (new and edit) and its own moderators.
 * Admins only (here and again in `admin.ts`).
 */

const V = 'community/views';
const E = 'community.admin.errors';
const admin = { access: 'admin' } as const;
const slugParam = z.object({ slug: z.string().regex(/^[a-z0-9-]{1,80}$/) });
const moderatorParams = slugParam.extend({ userId: z.uuid() });
const doneQuery = z.object({
  done: z.enum(['created', 'saved', 'held', 'appointed', 'removed']).optional().catch(undefined),
});

/** Optional text: trimmed, at most `max` characters. */
const optionalText = (max: number, tooLong: string) =>
  z
    .string()
    .optional()
    .transform((v) => (v ?? '').trim())
    .pipe(z.string().max(max, tooLong));

const spaceForm = z.object({
  name: z
    .string()
    .optional()
    .transform((v) => (v ?? '').trim())
    .pipe(z.string().min(1, `${E}.nameRequired`).max(100, `${E}.nameTooLong`)),
  nameCy: optionalText(100, `${E}.nameTooLong`),
  description: optionalText(1000, `${E}.descriptionTooLong`),
  descriptionCy: optionalText(1000, `${E}.descriptionTooLong`),
  slug: optionalText(80, `${E}.slugInvalid`),
  kind: z.enum(SPACE_KINDS, `${E}.kindRequired`),
  visibility: z.enum(SPACE_VISIBILITIES, `${E}.visibilityRequired`),
  publicRead: z.literal('yes').optional().catch(undefined),
  allowAnonymous: z.literal('yes').optional().catch(undefined),
  position: z
    .string(`${E}.position`)
    .trim()
    .regex(/^\d{1,4}$/, `${E}.position`)
    .transform(Number),
});
/** The order of the fields on the page, for the error summary. */
const FIELDS = Object.keys(spaceForm.shape);

const heldForm = z.object({
  heldPosts: z
    .string(`${E}.heldPostsRequired`)
    .trim()
    .min(1, `${E}.heldPostsRequired`)
    .regex(/^\d{1,2}$/, `${E}.heldPosts`)
    .transform(Number)
    .refine((n) => n <= MAX_HELD_POSTS, `${E}.heldPosts`),
});

const appointForm = z.object({
  email: z
    .string(`${E}.emailRequired`)
    .trim()
    .min(1, `${E}.emailRequired`)
    .max(254, `${E}.emailInvalid`)
    .regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, `${E}.emailInvalid`),
});

/** A space's form, read: the input for the service, or every problem with it. */
function readSpaceForm(
  body: unknown,
  t: FastifyRequest['t'],
): { ok: true; input: SpaceInput } | { ok: false; errors: FormErrors } {
  const raw = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const parsed = spaceForm.safeParse(raw);
  const problems: AdminProblem[] = parsed.success
    ? []
    : parsed.error.issues.map((i) => ({ field: String(i.path[0] ?? 'form'), key: i.message }));
  // Shown with the other messages at once; the service keeps the rule whoever asks.
  if (raw.publicRead === 'yes' && raw.visibility === 'group')
    problems.push({ field: 'publicRead', key: `${E}.publicReadGroup` });
  if (!parsed.success || problems.length) return { ok: false, errors: errorsIn(problems, t) };
  const d = parsed.data;
  return {
    ok: true,
    input: {
      name: d.name,
      nameCy: d.nameCy || undefined,
      description: d.description,
      descriptionCy: d.descriptionCy || undefined,
      slug: d.slug || undefined,
      kind: d.kind,
      visibility: d.visibility,
      publicRead: d.publicRead === 'yes',
      allowAnonymous: d.allowAnonymous === 'yes',
      position: d.position,
    },
  };
}

/** Problems as GOV.UK errors, in the order of the fields on the page. */
function errorsIn(problems: AdminProblem[], t: FastifyRequest['t']): FormErrors {
  const at = (f: string) => (FIELDS.includes(f) ? FIELDS.indexOf(f) : FIELDS.length);
  return errorsFrom(
    [...problems].sort((a, b) => at(a.field) - at(b.field)),
    t,
  );
}

/** A space's row as the form's values. */
const valuesOf = (s: SpaceRow): Record<string, unknown> => ({
  name: s.name,
  nameCy: s.nameCy ?? '',
  description: s.description,
  descriptionCy: s.descriptionCy ?? '',
  kind: s.kind,
  visibility: s.visibility,
  publicRead: s.publicRead ? 'yes' : undefined,
  allowAnonymous: s.allowAnonymous ? 'yes' : undefined,
  position: String(s.position),
});

export function communityAdminRoutes(
  communityAdmin: CommunityAdmin,
  /** The moderation queue's counts (the community service's `queueCounts`), for a link to it. */
  queueCounts?: (
    user: CurrentUser | undefined,
  ) => Promise<{ reports: number; held: number } | undefined>,
): FastifyPluginAsync {
  return async (app) => {
    /** Every admin page: not for search engines. */
    const page = (reply: FastifyReply, view: string, data: Record<string, unknown>, status = 200) =>
      reply.code(status).render(`${V}/${view}.njk`, { ...data, noindex: true });
    const spaceName = (req: FastifyRequest, s: { name: string; nameCy: string | null }) =>
      req.locale === 'cy' && s.nameCy ? s.nameCy : s.name;
    const done = (req: FastifyRequest) => doneQuery.parse(req.query ?? {}).done;

    const indexPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      extra: { errors?: FormErrors; values?: Record<string, unknown>; status?: number } = {},
    ) => {
      const o = await communityAdmin.overview(req.user);
      return page(
        reply,
        'admin-index',
        {
          title: req.t('community.admin.title'),
          queue: await queueCounts?.(req.user),
          spaces: o.spaces.map((s) => ({
            slug: s.space.slug,
            name: spaceName(req, s.space),
            visibility: s.space.visibility,
            publicRead: s.space.publicRead,
            allowAnonymous: s.space.allowAnonymous,
            moderators: s.moderators,
            isDemo: s.space.isDemo,
          })),
          values: extra.values ?? { heldPosts: String(o.heldPosts) },
          errors: extra.errors,
          done: done(req),
          maxHeld: MAX_HELD_POSTS,
        },
        extra.status,
      );
    };
    app.get('/admin/community', { config: admin }, async (req, reply) => indexPage(req, reply));
    app.post('/admin/community/held-posts', { config: admin }, async (req, reply) => {
      const values = echoValues((req.body ?? {}) as Record<string, unknown>);
      const f = heldForm.safeParse(req.body ?? {});
      const result = f.success
        ? await communityAdmin.setHeldPosts(req.user, f.data.heldPosts)
        : {
            ok: false as const,
            problems: f.error.issues.map((i) => ({ field: 'heldPosts', key: i.message })),
          };
      if (!result.ok)
        return indexPage(req, reply, {
          errors: errorsIn(
            result.problems.map((p) => ({ ...p, vars: { max: MAX_HELD_POSTS } })),
            req.t,
          ),
          values,
          status: 400,
        });
      return reply.redirect('/admin/community?done=held', 303);
    });

    // A new space.
    const newPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      extra: { errors?: FormErrors; values?: Record<string, unknown>; status?: number } = {},
    ) => {
      const defaults = extra.values ? undefined : await communityAdmin.newSpaceDefaults(req.user);
      return page(
        reply,
        'admin-space',
        {
          title: req.t('community.admin.new.title'),
          values: extra.values ?? {
            kind: 'themed',
            visibility: 'members',
            position: String(defaults!.position),
          },
          errors: extra.errors,
        },
        extra.status,
      );
    };
    app.get('/admin/community/spaces/new', { config: admin }, async (req, reply) =>
      newPage(req, reply),
    );
    app.post('/admin/community/spaces/new', { config: admin }, async (req, reply) => {
      const values = echoValues((req.body ?? {}) as Record<string, unknown>);
      const f = readSpaceForm(req.body, req.t);
      if (!f.ok) return newPage(req, reply, { errors: f.errors, values, status: 400 });
      const result = await communityAdmin.createSpace(req.user, f.input);
      if (!result.ok)
        return newPage(req, reply, {
          errors: errorsIn(result.problems, req.t),
          values,
          status: 400,
        });
      return reply.redirect(`/admin/community/spaces/${result.value.slug}?done=created`, 303);
    });

    // A space: its form and its own moderators.
    const editPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      slug: string,
      extra: {
        errors?: FormErrors;
        values?: Record<string, unknown>;
        moderatorEmail?: unknown;
        status?: number;
      } = {},
    ) => {
      const found = await communityAdmin.space(req.user, slug);
      if (!found) return reply.callNotFound();
      return page(
        reply,
        'admin-space',
        {
          title: req.t('community.admin.edit.title', { name: spaceName(req, found.space) }),
          space: found.space,
          moderators: found.moderators,
          values: extra.values ?? valuesOf(found.space),
          moderatorEmail: typeof extra.moderatorEmail === 'string' ? extra.moderatorEmail : '',
          errors: extra.errors,
          done: done(req),
        },
        extra.status,
      );
    };
    app.get('/admin/community/spaces/:slug', { config: admin }, async (req, reply) => {
      const p = slugParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      return editPage(req, reply, p.data.slug);
    });
    app.post('/admin/community/spaces/:slug', { config: admin }, async (req, reply) => {
      const p = slugParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      const values = echoValues((req.body ?? {}) as Record<string, unknown>);
      const f = readSpaceForm(req.body, req.t);
      if (!f.ok)
        return editPage(req, reply, p.data.slug, { errors: f.errors, values, status: 400 });
      // The web address stays as it is (links and emails use it).
      const result = await communityAdmin.updateSpace(req.user, p.data.slug, {
        ...f.input,
        slug: undefined,
      });
      if (!result) return reply.callNotFound();
      if (!result.ok)
        return editPage(req, reply, p.data.slug, {
          errors: errorsIn(result.problems, req.t),
          values,
          status: 400,
        });
      return reply.redirect(`/admin/community/spaces/${p.data.slug}?done=saved`, 303);
    });
    app.post('/admin/community/spaces/:slug/moderators', { config: admin }, async (req, reply) => {
      const p = slugParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      const f = parseForm(appointForm, req.body, req.t);
      const typed = (req.body as { email?: unknown } | undefined)?.email;
      if (!f.ok)
        return editPage(req, reply, p.data.slug, {
          errors: f.errors,
          moderatorEmail: typed,
          status: 400,
        });
      const result = await communityAdmin.appointModerator(req.user, p.data.slug, f.data.email);
      if (!result) return reply.callNotFound();
      if (!result.ok)
        return editPage(req, reply, p.data.slug, {
          errors: errorsIn(result.problems, req.t),
          moderatorEmail: typed,
          status: 400,
        });
      return reply.redirect(
        `/admin/community/spaces/${p.data.slug}?done=appointed#moderators`,
        303,
      );
    });
    app.post(
      '/admin/community/spaces/:slug/moderators/:userId/remove',
      { config: admin },
      async (req, reply) => {
        const p = moderatorParams.safeParse(req.params);
        if (!p.success) return reply.callNotFound();
        const result = await communityAdmin.removeModerator(req.user, p.data.slug, p.data.userId);
        if (!result) return reply.callNotFound();
        return reply.redirect(
          `/admin/community/spaces/${p.data.slug}?done=removed#moderators`,
          303,
        );
      },
    );
  };
}
