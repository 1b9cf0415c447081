import type { FastifyPluginAsync } from 'fastify';

/**
 * The site's fixed pages: privacy notice, accessibility statement, cookies,
 * contact, terms of use and the community code of conduct. Their text is long-form, so each language has its own template
 * (views/en, views/cy) rather than strings in the locale files.
 */
export const PAGES = [
  'privacy',
  'accessibility',
  'cookies',
  'contact',
  'terms',
  'code-of-conduct',
] as const;

export function pagesRoutes(): FastifyPluginAsync {
  return async (app) => {
    for (const page of PAGES) {
      app.get(`/${page}`, { config: { access: 'public', pageCache: 300 } }, async (req, reply) =>
        reply.render(`pages/views/${req.locale}/${page}.njk`, { title: req.t(`pages.${page}`) }),
      );
    }
  };
}
