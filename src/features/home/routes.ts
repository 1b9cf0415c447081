import type { FastifyPluginAsync } from 'fastify';
import { formatDate } from '../../platform/dates.ts';
import type { Navigation } from '../../platform/navigation.ts';

/** A news item for the home page's "Latest news" (given by app.ts from the articles service). */
export interface HomeNewsItem {
  title: string;
  href: string;
  standfirst: string;
  date: Date | null;
  language: string;
}

/** The sections the home page can point to, each shown only when its feature is there. */
const SECTIONS = ['services', 'resources', 'community', 'events', 'guidelines', 'news'] as const;

/** The home page: what this is and where to go. It grows as features land. */
export function homeRoutes(
  navigation: Pick<Navigation, 'has'>,
  extras: { latestNews?: () => Promise<HomeNewsItem[]> } = {},
): FastifyPluginAsync {
  return async (app) => {
    app.get('/', { config: { access: 'public', pageCache: 30 } }, async (req, reply) =>
      reply.render('home/views/index.njk', {
        description: req.t('home.description'),
        sections: SECTIONS.filter((key) => navigation.has(`/${key}`)),
        latestNews: ((await extras.latestNews?.()) ?? []).map((n) => ({
          ...n,
          when: n.date ? formatDate(n.date, req.locale) : undefined,
          iso: n.date?.toISOString(),
        })),
      }),
    );
  };
}
