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

    type Query = NonNullable<ReturnType<typeof parse>>;
    /** A list endpoint: parameters checked once, then `fn` with the page asked for. */
    const list = (
      path: string,
      fn: (q: Query, page: { page: number; perPage: number }, reply: FastifyReply) => unknown,
    ) =>
      app.get(path, cfg, async (req, reply) => {
        const q = parse(req.query, reply);
        if (!q) return reply;
        return fn(q, { page: q.page, perPage: q.per_page }, reply);
      });
    /** One record by UUID, or a JSON 404. */
    const one = (path: string, find: (id: string) => Promise<unknown>) =>
      app.get(path, cfg, async (req, reply) => {
        const p = idParam.safeParse(req.params);
        const found = p.success ? await find(p.data.id) : undefined;
        return found ?? notFound(reply);
      });

    app.get('/api/oruk', cfg, async () => api.meta());
    list('/api/oruk/services', (q, page) =>
      api.services(
        { search: q.search, taxonomyTermId: q.taxonomy_term_id, taxonomyId: q.taxonomy_id },
        page,
      ),
    );
    one('/api/oruk/services/:id', (id) => api.service(id));
    list('/api/oruk/service_at_locations', async (q, page, reply) => {
      if (q.proximity !== undefined && !q.postcode) return bad(reply, 'proximity needs a postcode');
      const result = await api.serviceAtLocations(
        {
          search: q.search,
          postcode: q.postcode,
          proximity: q.proximity,
          taxonomyTermId: q.taxonomy_term_id,
        },
        page,
      );
      if (!('problem' in result)) return result;
      return result.problem === 'badPostcode'
        ? bad(reply, 'postcode: not a known UK postcode')
        : reply
            .code(503)
            .send({ code: 503, message: 'The postcode lookup is not available; try again later' });
    });
    one('/api/oruk/service_at_locations/:id', (id) => api.serviceAtLocation(id));
    list('/api/oruk/taxonomies', (_q, page) => api.taxonomies(page));
    one('/api/oruk/taxonomies/:id', (id) => api.taxonomy(id));
    list('/api/oruk/taxonomy_terms', (q, page) =>
      api.taxonomyTerms({ taxonomyId: q.taxonomy_id }, page),
    );
    one('/api/oruk/taxonomy_terms/:id', (id) => api.taxonomyTerm(id));
  };
}
