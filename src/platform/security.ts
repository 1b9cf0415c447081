import helmet from '@fastify/helmet';
import fp from 'fastify-plugin';

/**
 * Security headers. A Content-Security-Policy with a fresh nonce for scripts
 * on every response (no 'unsafe-inline' scripts), no framing, no sniffing, a
 * strict referrer policy, and HSTS in production. Map tiles come from
 * TILE_URL's host, so it is allowed for images.
 */
export const securityPlugin = fp<{ production: boolean; tileUrl: string }>(
  async (app, opts) => {
    const tileOrigin = tileHost(opts.tileUrl);
    await app.register(helmet, {
      enableCSPNonces: true,
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:', ...(tileOrigin ? [tileOrigin] : [])],
          fontSrc: ["'self'"],
          connectSrc: ["'self'"],
          mediaSrc: ["'self'"],
          frameSrc: ['https://www.youtube-nocookie.com', 'https://player.vimeo.com'],
          objectSrc: ["'none'"],
          baseUri: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          ...(opts.production ? { upgradeInsecureRequests: [] } : {}),
        },
      },
      strictTransportSecurity: opts.production
        ? { maxAge: 31536000, includeSubDomains: true }
        : false,
      referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
      frameguard: { action: 'deny' },
      crossOriginEmbedderPolicy: false,
    });
    app.addHook('onSend', async (_req, reply) => {
      reply.header(
        'permissions-policy',
        'camera=(), microphone=(), geolocation=(self), interest-cohort=()',
      );
    });
  },
  { name: 'security' },
);

function tileHost(tileUrl: string): string | undefined {
  if (!tileUrl) return undefined;
  try {
    const u = new URL(tileUrl.replace(/\{[a-z]\}/g, 'a'));
    // {s} subdomains: allow the whole parent domain's subdomains.
    return tileUrl.includes('{s}.')
      ? `${u.protocol}//*.${u.host.split('.').slice(1).join('.')}`
      : u.origin;
  } catch {
    return undefined;
  }
}
