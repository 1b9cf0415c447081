import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { parseForm } from '../../platform/forms.ts';
import { userOf } from '../../platform/auth.ts';
import { pageLinks } from '../../platform/pagination.ts';
import { MEMBER_KINDS } from '../accounts/service.ts';
import type { MembersService } from './service.ts';

/** HTTP only: the member directory and one's own listing. */

const V = 'members/views';
const query = z.object({
  q: z.string().trim().max(100).optional().catch(undefined),
  kind: z.enum(MEMBER_KINDS).optional().catch(undefined),
  region: z.string().trim().max(100).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(10_000).catch(1).default(1),
});
const profileForm = z.object({
  listed: z.enum(['yes', 'no'], 'members.errors.listed'),
  interests: z
    .string()
    .optional()
    .transform((v) => (v ?? '').trim())
    .pipe(z.string().max(500, 'members.errors.interestsTooLong')),
});

export function membersRoutes(members: MembersService): FastifyPluginAsync {
  return async (app) => {
    const cfg = { config: { access: 'member' as const } };
    app.get('/community/people', cfg, async (req, reply) => {
      const q = query.parse(req.query ?? {});
      const found = await members.search(req.user, q, q.page);
      const params = new URLSearchParams();
      for (const k of ['q', 'kind', 'region'] as const) if (q[k]) params.set(k, q[k]!);
      return reply.render(`${V}/directory.njk`, {
        title: req.t('members.directory.title'),
        noindex: true,
        query: q,
        total: found.total,
        rows: found.rows.map((r) => ({ ...r, kindName: req.t(`members.kinds.${r.kind}`) })),
        kinds: [
          { value: '', text: req.t('members.directory.anyKind'), selected: !q.kind },
          ...MEMBER_KINDS.map((k) => ({
            value: k,
            text: req.t(`members.kinds.${k}`),
            selected: q.kind === k,
          })),
        ],
        regions: [
          { value: '', text: req.t('members.directory.anyRegion'), selected: !q.region },
          ...found.regions.map((r) => ({ value: r, text: r, selected: q.region === r })),
        ],
        pagination: pageLinks('/community/people', params, q.page, found.pages),
      });
    });
    app.get('/community/people/profile', cfg, async (req, reply) => {
      const profile = await members.profile(userOf(req));
      return reply.render(`${V}/profile.njk`, {
        title: req.t('members.profile.title'),
        noindex: true,
        values: { listed: profile.listed ? 'yes' : 'no', interests: profile.interests },
        saved: (req.query as { saved?: string }).saved === '1',
      });
    });
    app.post('/community/people/profile', cfg, async (req, reply) => {
      const form = parseForm(profileForm, req.body, req.t);
      if (!form.ok)
        return reply.code(400).render(`${V}/profile.njk`, {
          title: req.t('members.profile.title'),
          noindex: true,
          errors: form.errors,
          values: form.values,
        });
      await members.saveProfile(userOf(req), {
        listed: form.data.listed === 'yes',
        interests: form.data.interests,
      });
      return reply.redirect('/community/people/profile?saved=1', 303);
    });
  };
}
