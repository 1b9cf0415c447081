import type { FastifyPluginAsync } from 'fastify';
import type { Navigation } from '../../platform/navigation.ts';

/** The sections the home page can point to, each shown only when its feature is there. */
const SECTIONS = ['services', 'resources', 'community', 'events', 'guidelines', 'news'] as const;

/** The home page: what this is and where to go. It grows as features land. */
export function homeRoutes(navigation: Pick<Navigation, 'has'>): FastifyPluginAsync {
  return async (app) => {
    app.get('/', { config: { access: 'public', pageCache: 30 } }, async (req, reply) =>
      reply.render('home/views/index.njk', {
        description: req.t('home.description'),
        sections: SECTIONS.filter((key) => navigation.has(`/${key}`)),
      }),
    );
  };
}
