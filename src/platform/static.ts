import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import fp from 'fastify-plugin';

/**
 * Static files. Our built files carry a content hash in their names, so they
 * are cached for a year as immutable. govuk-frontend's script and images,
 * and Leaflet and its marker clustering for the service map, are served
 * from the packages themselves (only the files pages use), cached for a day.
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
    await app.register(fastifyStatic, {
      root: join(opts.rootDir, 'node_modules', 'leaflet', 'dist'),
      prefix: '/assets/leaflet/',
      decorateReply: false,
      maxAge: '1d',
      index: false,
      allowedPath: (path) =>
        path === '/leaflet.js' || path === '/leaflet.css' || /^\/images\/[\w-]+\.png$/.test(path),
    });
    await app.register(fastifyStatic, {
      root: join(opts.rootDir, 'node_modules', 'leaflet.markercluster', 'dist'),
      prefix: '/assets/markercluster/',
      decorateReply: false,
      maxAge: '1d',
      index: false,
      allowedPath: (path) =>
        path === '/leaflet.markercluster.js' ||
        path === '/MarkerCluster.css' ||
        path === '/MarkerCluster.Default.css',
    });
  },
  { name: 'static' },
);
