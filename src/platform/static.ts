import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import fp from 'fastify-plugin';

/**
 * Static files. Our built files carry a content hash in their names, so they
 * are cached for a year as immutable. govuk-frontend's script and images are
 * served from the package itself, cached for a day.
 */
export const staticPlugin = fp<{ publicDir: string; rootDir: string }>(
  async (app, opts) => {
    await app.register(fastifyStatic, {
      root: opts.publicDir,
      prefix: '/assets/',
      immutable: true,
      maxAge: '365d',
      index: false,
      wildcard: false,
      allowedPath: (path) => path !== '/manifest.json',
    });
    const govuk = join(opts.rootDir, 'node_modules', 'govuk-frontend', 'dist', 'govuk');
    await app.register(fastifyStatic, {
      root: govuk,
      prefix: '/assets/govuk/',
      decorateReply: false,
      maxAge: '1d',
      index: false,
      allowedPath: (path) =>
        path === '/govuk-frontend.min.js' || path.startsWith('/assets/images/'),
    });
  },
  { name: 'static' },
);
