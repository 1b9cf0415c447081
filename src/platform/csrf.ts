import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import type { FastifyReply } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyReply {
    /** This response's CSRF token, once a form has asked for one. */
    csrfTokenMade: string | undefined;
  }
  interface FastifyContextConfig {
    /** Set false only for machine endpoints that take no cookies. */
    csrf?: boolean;
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Cookies and CSRF. Every state-changing request must carry a valid `_csrf`
 * field (or header) matching the signed, HttpOnly secret cookie; without one
 * it gets 403 and a page saying what to do. The cookie is signed with the
 * session secret (`secrets`: the current one first, then the one it
 * replaced). Templates call `csrfToken()`, which creates the secret on first
 * use.
 */
export const csrfPlugin = fp<{ secrets: string[]; secure: boolean }>(
  async (app, opts) => {
    // Signed with the first; a cookie signed with a rotated-out one still reads.
    await app.register(cookie, { secret: opts.secrets });
    await app.register(csrf, {
      cookieKey: '_csrf_secret',
      cookieOpts: { path: '/', sameSite: 'lax', httpOnly: true, secure: opts.secure, signed: true },
    });
    app.addHook('preHandler', (req, reply, done) => {
      if (!UNSAFE.has(req.method) || req.routeOptions.config?.csrf === false) return done();
      app.csrfProtection(req, reply, done);
    });
    // One token a response, made when a form first asks: in the page, or in a kept part of it.
    app.decorateReply('csrfTokenMade', undefined);
    const tokenOf = (reply: FastifyReply) => {
      reply.pageCacheable = false; // a token is per visitor: never share this page
      return (reply.csrfTokenMade ??= reply.generateCsrf());
    };
    app.setFormToken(tokenOf);
    app.addViewContext((_req, reply: FastifyReply) => ({ csrfToken: () => tokenOf(reply) }));
  },
  { name: 'csrf', dependencies: ['views'] },
);
