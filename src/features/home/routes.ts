import type { FastifyPluginAsync } from 'fastify';

/** The home page: what this is and where to go. It grows as features land. */
export function homeRoutes(): FastifyPluginAsync {
  return async (app) => {
    app.get('/', { config: { access: 'public', pageCache: 30 } }, async (req, reply) =>
      reply.render('home/views/index.njk', { description: req.t('home.description') }),
    );
  };
}
