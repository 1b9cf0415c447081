import { randomBytes } from 'node:crypto';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyReply {
    /** This response's CSP nonce: put it on every <script> the page carries. */
    scriptNonce: string;
  }
}

/**
 * Security headers. A Content-Security-Policy with a fresh nonce for scripts
 * on every response (no 'unsafe-inline' scripts), no framing, no sniffing, a
 * strict referrer policy, and HSTS in production. Map tiles come from
 * TILE_URL's host, so it is allowed for images.
 *
 * The headers are those of helmet that modern and older browsers still act
 * on (the rest are obsolete and cost bytes on every response), built once
 * here: @fastify/helmet
 * rebuilt them (and re-parsed the whole policy for nonces) on every request,
 * which measured at a third of the cost of serving the home page.
 */
export function contentSecurityPolicy(opts: {
  production: boolean;
  tileUrl: string;
}): (nonce: string) => string {
  const tileOrigin = tileHost(opts.tileUrl);
  const directives: [string, string[]][] = [
    ['default-src', ["'self'"]],
    ['script-src', ["'self'", "'nonce-%NONCE%'"]],
    ['style-src', ["'self'"]],
    ['img-src', ["'self'", 'data:', ...(tileOrigin ? [tileOrigin] : [])]],
    ['font-src', ["'self'"]],
    ['connect-src', ["'self'"]],
    ['media-src', ["'self'"]],
    ['frame-src', ['https://www.youtube-nocookie.com', 'https://player.vimeo.com']],
    ['object-src', ["'none'"]],
    ['base-uri', ["'self'"]],
    ['form-action', ["'self'"]],
    ['frame-ancestors', ["'none'"]],
  ];
  const policy =
    directives.map(([k, v]) => `${k} ${v.join(' ')}`).join('; ') +
    (opts.production ? '; upgrade-insecure-requests' : '');
  const [before, after] = policy.split('%NONCE%') as [string, string];
  return (nonce) => before + nonce + after;
}

/** Nonces from a pooled block of random bytes: one system call per 256 responses. */
let pool = Buffer.alloc(0);
let offset = 0;
export function freshNonce(): string {
  if (offset + 16 > pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  const nonce = pool.toString('base64', offset, offset + 16);
  offset += 16;
  return nonce;
}

/** Headers that are the same on every response, built once. */
export function staticSecurityHeaders(production: boolean): Record<string, string> {
  return {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'strict-origin-when-cross-origin',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(self), interest-cohort=()',
    ...(production ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
  };
}

export const securityPlugin = fp<{ production: boolean; tileUrl: string }>(
  async (app, opts) => {
    const csp = contentSecurityPolicy(opts);
    const headers = staticSecurityHeaders(opts.production);
    app.decorateReply('scriptNonce', '');
    app.addHook('onRequest', (_req, reply, done) => {
      const nonce = freshNonce();
      reply.scriptNonce = nonce;
      reply.headers(headers);
      reply.header('content-security-policy', csp(nonce));
      done();
    });
  },
  { name: 'security' },
);

function tileHost(tileUrl: string): string | undefined {
  if (!tileUrl) return undefined;
  try {
    const u = new URL(tileUrl.replace(/\{[a-z]\}/g, 'a'));
    // {s} subdomains: allow the parent domain's subdomains.
    return tileUrl.includes('{s}.')
      ? `${u.protocol}//*.${u.host.split('.').slice(1).join('.')}`
      : u.origin;
  } catch {
    return undefined;
  }
}
