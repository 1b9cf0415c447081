import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { OrukApi } from './oruk-api.ts';

/**
 * Open Referral UK 3.0 at /api/oruk: read-only JSON, no key, open to any
 * origin. Bad parameters get a 400 with a JSON message, never an HTML page.
 */

const listQuery = z.object({
  search: z.string().trim().max(100).optional(),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  per_page: z.coerce.number().int().min(1).max(200).default(50),
  taxonomy_id: z.uuid().optional(),
  taxonomy_term_id: z.uuid().optional(),
  postcode: z.string().trim().max(12).optional(),
  proximity: z.coerce.number().min(1).max(1_000_000).optional(),
});
const idParam = z.object({ id: z.uuid() });

export function orukRoutes(api: OrukApi): FastifyPluginAsync {
  return async (app) => {
    const cfg = { config: { access: 'public' as const, a11y: false as const, csrf: false } };
    app.addHook('onSend', async (_req, reply, payload) => {
      reply.header('access-control-allow-origin', '*');
      reply.header('cache-control', 'public, max-age=60');
      return payload;
    });
    const bad = (reply: FastifyReply, message: string) =>
      reply.code(400).send({ code: 400, message });
    const notFound = (reply: FastifyReply) =>
      reply.code(404).send({ code: 404, message: 'Not found' });
    const parse = (query: unknown, reply: FastifyReply) => {
      const q = listQuery.safeParse(query ?? {});
      if (!q.success) {
        void bad(reply, q.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
        return undefined;
      }
      return q.data;
    };

    app.get('/api/oruk', cfg, async () => api.meta());
    app.get('/api/oruk/services', cfg, async (req, reply) => {
      const q = parse(req.query, reply);
      if (!q) return reply;
      return api.services(
        { search: q.search, taxonomyTermId: q.taxonomy_term_id, taxonomyId: q.taxonomy_id },
        { page: q.page, perPage: q.per_page },
      );
    });
    app.get('/api/oruk/services/:id', cfg, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      const found = p.success ? await api.service(p.data.id) : undefined;
      return found ?? notFound(reply);
    });
    app.get('/api/oruk/service_at_locations', cfg, async (req, reply) => {
      const q = parse(req.query, reply);
      if (!q) return reply;
      if (q.proximity !== undefined && !q.postcode) return bad(reply, 'proximity needs a postcode');
      const result = await api.serviceAtLocations(
        {
          search: q.search,
          postcode: q.postcode,
          proximity: q.proximity,
          taxonomyTermId: q.taxonomy_term_id,
        },
        { page: q.page, perPage: q.per_page },
      );
      if ('problem' in result)
        return result.problem === 'badPostcode'
          ? bad(reply, 'postcode: not a known UK postcode')
          : reply.code(503).send({
              code: 503,
              message: 'The postcode lookup is not available; try again later',
            });
      return result;
    });
    app.get('/api/oruk/service_at_locations/:id', cfg, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      const found = p.success ? await api.serviceAtLocation(p.data.id) : undefined;
      return found ?? notFound(reply);
    });
    app.get('/api/oruk/taxonomies', cfg, async (req, reply) => {
      const q = parse(req.query, reply);
      if (!q) return reply;
      return api.taxonomies({ page: q.page, perPage: q.per_page });
    });
    app.get('/api/oruk/taxonomies/:id', cfg, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      const found = p.success ? await api.taxonomy(p.data.id) : undefined;
      return found ?? notFound(reply);
    });
    app.get('/api/oruk/taxonomy_terms', cfg, async (req, reply) => {
      const q = parse(req.query, reply);
      if (!q) return reply;
      return api.taxonomyTerms(
        { taxonomyId: q.taxonomy_id },
        { page: q.page, perPage: q.per_page },
      );
    });
    app.get('/api/oruk/taxonomy_terms/:id', cfg, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      const found = p.success ? await api.taxonomyTerm(p.data.id) : undefined;
      return found ?? notFound(reply);
    });
  };
}
