import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { NONCE_PLACEHOLDER } from './views/index.ts';

/**
 * Micro-caching of public pages. A GET route that opts in with
 * `config: { pageCache: seconds }` has its rendered HTML kept in this
 * instance's memory for that long, per language and URL, and served to
 * visitors without running the handler again. Only the CSP nonce is fresh on
 * each response: pages are rendered with a placeholder that is replaced on
 * the way out. A render is not kept if it made a CSRF token (a form), if the
 * visitor is signed in (`bypass`), or if the status is not 200.
 */

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Seconds a visitor's rendering of this page may be reused. */
    pageCache?: number;
  }
}

interface Entry {
  expires: number;
  /**
   * The page as UTF-8 bytes, cut where the nonce goes: a hit is a copy of
   * bytes, not a string to encode again for every visitor (most of the cost of
   * serving a cached page was that encoding, in the socket write).
   */
  parts: Buffer[];
  bytes: number;
}

/** The page with this response's nonce put in where the placeholders were. */
function assemble(parts: Buffer[], nonce: string): Buffer {
  if (parts.length === 1) return parts[0]!;
  const n = Buffer.from(nonce);
  const chunks: Buffer[] = [parts[0]!];
  for (let i = 1; i < parts.length; i++) chunks.push(n, parts[i]!);
  return Buffer.concat(chunks);
}

export interface PageCacheOptions {
  /** True when this request must not be served from, or stored in, the cache. */
  bypass: (req: FastifyRequest) => boolean;
  maxEntries?: number;
  /**
   * The most memory the kept pages may take (default 24 MB): the oldest go
   * first. Counting entries alone let 2,000 long Welsh pages hold 200 MB.
   */
  maxBytes?: number;
}

export const pageCachePlugin = fp<PageCacheOptions>(
  async (app, opts) => {
    const max = opts.maxEntries ?? 2000;
    const maxBytes = opts.maxBytes ?? 24 * 1024 * 1024;
    const entries = new Map<string, Entry>();
    let bytes = 0;
    const drop = (key: string) => {
      const entry = entries.get(key);
      if (!entry) return;
      bytes -= entry.bytes;
      entries.delete(key);
    };
    const keyOf = (req: FastifyRequest): string => `${req.locale}\u0000${req.url}`;
    const usable = (req: FastifyRequest): boolean =>
      req.method === 'GET' &&
      Boolean(req.routeOptions.config?.pageCache) &&
      req.routeOptions.config?.access === 'public' &&
      !opts.bypass(req);

    // Callback-style hooks (no promise a request): a hit is the hot path.
    app.addHook('onRequest', (req, reply, next) => {
      if (!usable(req)) return next();
      const hit = entries.get(keyOf(req));
      if (!hit) {
        reply.pageCacheable = true;
        return next();
      }
      if (hit.expires < Date.now()) {
        drop(keyOf(req));
        reply.pageCacheable = true;
        return next();
      }
      // Sent here: the hooks after this one and the handler do not run.
      reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('x-page-cache', 'hit')
        .send(assemble(hit.parts, reply.scriptNonce));
    });

    // Registered before compression, so it sees the page as a string.
    app.addHook('onSend', (req: FastifyRequest, reply: FastifyReply, payload: unknown, next) => {
      if (!reply.usedNoncePlaceholder || typeof payload !== 'string') return next(null, payload);
      if (reply.pageCacheable && reply.statusCode === 200) {
        const seconds = req.routeOptions.config?.pageCache ?? 0;
        const key = keyOf(req);
        const parts = payload.split(NONCE_PLACEHOLDER).map((p) => Buffer.from(p));
        const size = parts.reduce((sum, p) => sum + p.length, 0);
        drop(key);
        // The oldest first (a Map keeps the order pages were stored in).
        while (entries.size && (entries.size >= max || bytes + size > maxBytes))
          drop(entries.keys().next().value!);
        if (size <= maxBytes) {
          entries.set(key, {
            expires: Date.now() + seconds * 1000,
            parts,
            bytes: size,
          });
          bytes += size;
        }
      }
      next(null, payload.replaceAll(NONCE_PLACEHOLDER, reply.scriptNonce));
    });
  },
  { name: 'page-cache', dependencies: ['i18n', 'security'] },
);
