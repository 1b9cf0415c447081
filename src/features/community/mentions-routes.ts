import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { MAX_QUERY_LENGTH, type Mentions, MentionsQueryError } from './mentions.ts';
import { CommunityRefusal } from './service.ts';

/**
 * HTTP only: `GET /community/{space}/mentions?q=` answers the post box's
 * @mention autocomplete (src/assets/js/mentions.js) with
 * `{ "suggestions": [{ "name": "Display Name" }] }`. Every answer, refusals
 * included, is JSON and `Cache-Control: private, no-store`. The one
 * exception: a visitor's browser opening the address as a page (not asking
 * for JSON) is sent to sign in, as on every community page.
 */

const spaceParam = z.object({ space: z.string().regex(/^[a-z0-9-]{1,80}$/) });
/** One `q`; anything else (missing, repeated) is left for the service to refuse. */
const query = z.object({ q: z.string().optional().catch(undefined) });

export function mentionsRoutes(mentions: Mentions): FastifyPluginAsync {
  return async (app) => {
    const json = (reply: FastifyReply, status: number, body: Record<string, unknown>) =>
      reply
        .code(status)
        .header('cache-control', 'private, no-store')
        .header('x-content-type-options', 'nosniff')
        .type('application/json; charset=utf-8')
        .send(body);
    const wantsJson = (req: FastifyRequest) =>
      /\bapplication\/json\b/.test(String(req.headers.accept ?? ''));

    app.get(
      '/community/:space/mentions',
      {
        // Access is the space's (checked in the service): visitors get a 401, not a redirect.
        config: { access: 'public', a11y: false, rateLimit: { max: 120, timeWindow: 60_000 } },
      },
      async (req, reply) => {
        const params = spaceParam.safeParse(req.params);
        const notFound = () =>
          json(reply, 404, {
            error: 'notFound',
            message: req.t('community.mentions.errors.notFound'),
          });
        if (!params.success) return notFound();
        const { q } = query.parse(req.query ?? {});
        try {
          const suggestions = await mentions.suggest(req.user, params.data.space, q);
          if (!suggestions) return notFound();
          return json(reply, 200, { suggestions });
        } catch (err) {
          if (err instanceof CommunityRefusal) {
            if (err.reason === 'signIn' && !wantsJson(req))
              return reply.redirect(`/account/sign-in?next=${encodeURIComponent(req.url)}`, 303);
            return json(reply, err.statusCode, {
              error: err.reason,
              message: req.t(
                `community.mentions.errors.${err.reason === 'signIn' ? 'signIn' : 'refused'}`,
              ),
            });
          }
          if (err instanceof MentionsQueryError)
            return json(reply, 400, {
              error: 'badQuery',
              message: req.t('community.mentions.errors.query', { max: MAX_QUERY_LENGTH }),
            });
          throw err;
        }
      },
    );
  };
}
