import fp from 'fastify-plugin';

/**
 * Authorisation as data: every route declares who may use it in its config,
 * and the route table is kept here so tests can walk it (the authorisation
 * matrix and the accessibility suite).
 */

/**
 * public: anyone · signedIn: any signed-in account · member: an approved
 * member (community access) · staff: moderators, editors and admins ·
 * moderator / editor: that role or admin · admin: admins only.
 */
export const ACCESS_LEVELS = [
  'public',
  'signedIn',
  'member',
  'staff',
  'moderator',
  'editor',
  'admin',
] as const;
export type Access = (typeof ACCESS_LEVELS)[number];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may use the route (required on every route). */
    access?: Access;
    /** false for routes that are not HTML pages (feeds, APIs, health): skipped by the axe suite. */
    a11y?: false;
  }
}

export interface RouteEntry {
  method: string;
  url: string;
  access: Access;
  page: boolean;
}

export interface RouteTable {
  routes: RouteEntry[];
}

export const routeTablePlugin = fp<{ table: RouteTable }>(
  async (app, opts) => {
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const config = (route.config ?? {}) as { access?: Access; a11y?: false };
      if (route.url.startsWith('/assets/')) return;
      if (!config.access) {
        throw new Error(`Route ${methods.join(',')} ${route.url} does not declare config.access`);
      }
      for (const method of methods) {
        if (method === 'HEAD') continue;
        opts.table.routes.push({
          method,
          url: route.url,
          access: config.access,
          page: config.a11y !== false,
        });
      }
    });
  },
  { name: 'route-table' },
);
