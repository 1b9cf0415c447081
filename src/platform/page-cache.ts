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
  /** Its place in the cache (language and URL). */
  key: string;
  expires: number;
  /**
   * The page as UTF-8 bytes, with the placeholder where the nonce goes: a hit
   * is a copy of bytes, not a string to encode again for every visitor (most
   * of the cost of serving a cached page was that encoding, in the socket
   * write).
   */
  page: Buffer;
  /** Where in `page` each placeholder starts. */
  slots: number[];
  /**
   * Copies of the page that no response is sending just now, to write the next
   * nonce into: a new 30 KB copy for every hit was most of a hit's garbage
   * collection. A copy is lent to one response and comes back only once that
   * response has finished (its bytes handed to the system), never while sent.
   */
  spare: Buffer[];
}

const PLACEHOLDER = Buffer.from(NONCE_PLACEHOLDER);
/** Copies kept in all, and for one page: enough for the hits being sent at once. */
const SPARE_BYTES = 8 * 1024 * 1024;
const SPARE_PER_PAGE = 8;

function entryOf(key: string, payload: string | Buffer, expires: number): Entry {
  const page = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const slots: number[] = [];
  for (let at = page.indexOf(PLACEHOLDER); at >= 0; at = page.indexOf(PLACEHOLDER, at + 1))
    slots.push(at);
  return { key, expires, page, slots, spare: [] };
}

/**
 * The page with this response's nonce where the placeholders were, in bytes of
 * its own; `takeSpare` gives a spare copy of the page, if there is one.
 */
function pageWith(
  entry: Entry,
  nonce: string,
  takeSpare: (entry: Entry) => Buffer | undefined,
): { body: Buffer; lent: boolean } {
  if (!entry.slots.length) return { body: entry.page, lent: false };
  if (nonce.length === PLACEHOLDER.length && Buffer.byteLength(nonce) === nonce.length) {
    // The usual nonce (base64, as long as the placeholder): written over it in a copy.
    const body = takeSpare(entry) ?? Buffer.from(entry.page);
    for (const at of entry.slots) body.write(nonce, at, 'latin1');
    return { body, lent: true };
  }
  const n = Buffer.from(nonce);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const at of entry.slots) {
    chunks.push(entry.page.subarray(from, at), n);
    from = at + PLACEHOLDER.length;
  }
  chunks.push(entry.page.subarray(from));
  return { body: Buffer.concat(chunks), lent: false };
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
    let spareBytes = 0;
    const drop = (key: string) => {
      const entry = entries.get(key);
      if (!entry) return;
      bytes -= entry.page.length;
      spareBytes -= entry.spare.length * entry.page.length;
      entry.spare.length = 0;
      entries.delete(key);
    };
    const takeSpare = (entry: Entry): Buffer | undefined => {
      const copy = entry.spare.pop();
      if (copy) spareBytes -= copy.length;
      return copy;
    };
    /** The copy a response was lent, and from which page (see Entry.spare). */
    const lentTo = new WeakMap<FastifyReply, { entry: Entry; body: Buffer }>();
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
      const { body, lent } = pageWith(hit, reply.scriptNonce, takeSpare);
      if (lent) lentTo.set(reply, { entry: hit, body });
      // Sent here: the hooks after this one and the handler do not run.
      reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('x-page-cache', 'hit')
        .send(body);
    });

    // A lent copy comes back once its response has finished, if its page is still kept.
    app.addHook('onResponse', (_req, reply, next) => {
      const lent = lentTo.get(reply);
      if (lent) {
        lentTo.delete(reply);
        const { entry, body } = lent;
        if (
          reply.raw.writableFinished &&
          entries.get(entry.key) === entry &&
          entry.spare.length < SPARE_PER_PAGE &&
          spareBytes + body.length <= SPARE_BYTES
        ) {
          entry.spare.push(body);
          spareBytes += body.length;
        }
      }
      next();
    });

    // Registered before compression, so it sees the page as rendered (bytes, as views' render
    // sends a page; a string from a handler of its own).
    app.addHook('onSend', (req: FastifyRequest, reply: FastifyReply, payload: unknown, next) => {
      if (!reply.usedNoncePlaceholder || !(typeof payload === 'string' || Buffer.isBuffer(payload)))
        return next(null, payload);
      const seconds = req.routeOptions.config?.pageCache ?? 0;
      const entry = entryOf(keyOf(req), payload, Date.now() + seconds * 1000);
      if (reply.pageCacheable && reply.statusCode === 200) {
        const size = entry.page.length;
        drop(entry.key);
        // The oldest first (a Map keeps the order pages were stored in).
        while (entries.size && (entries.size >= max || bytes + size > maxBytes))
          drop(entries.keys().next().value!);
        if (size <= maxBytes) {
          entries.set(entry.key, entry);
          bytes += size;
        }
      }
      // This response's nonce in a copy of its own: the kept page keeps its placeholders.
      next(null, pageWith(entry, reply.scriptNonce, () => undefined).body);
    });
  },
  { name: 'page-cache', dependencies: ['i18n', 'security'] },
);
