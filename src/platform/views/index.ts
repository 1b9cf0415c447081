import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import nunjucks from 'nunjucks';
import { escapeHtml } from '../html.ts';
import type { Locale, Translate } from '../i18n/index.ts';
import type { Navigation, NavLink } from '../navigation.ts';
import { labelPages } from '../pagination.ts';
import { createKept } from '../kept.ts';
import { CSRF_PART_PLACEHOLDER } from './parts.ts';

/**
 * Server-rendered pages: Nunjucks with autoescape and the govuk-frontend
 * macros. Templates are found in, in order: src/platform/views/templates
 * (layout, error pages), src/features (named `<feature>/views/<page>.njk`),
 * and govuk-frontend's dist folder (`govuk/...`).
 */

export interface AssetManifest {
  /** The public URL of a built static file, by its source name (`app.css`). */
  url(name: string): string;
}

export function loadAssetManifest(publicDir: string): AssetManifest {
  const file = join(publicDir, 'manifest.json');
  if (!existsSync(file)) {
    throw new Error('Static files are not built: run `npm run build` first.');
  }
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  return {
    url(name) {
      const built = manifest[name];
      if (!built) throw new Error(`Unknown static file: ${name}`);
      return `/assets/${built}`;
    },
  };
}

const KEEP_AS_IS = /(<(pre|textarea)\b[\s\S]*?<\/\2>)/i;
const INDENTED_BREAK = /[ \t]*\n\s*/g;

/**
 * The templates' indentation dropped: whitespace that holds a line break
 * becomes one line break (the page means the same to a browser), except inside
 * <pre> and <textarea>, where every space is content. About a fifth fewer bytes
 * for people on slow connections.
 *
 * Done to each template's source once, as it loads (TidyLoader), not to every
 * page as it is sent (that was ~3% of a page's CPU time): the page's text comes
 * from its templates, and what is put into them (a comment, a rendered Markdown
 * body) is left as written. Only the text between tags changes, never a tag
 * (`{{ }}`, `{% %}`, `{# #}`, strings in them included). With trimBlocks the
 * line break just after a `%}` is dropped as the template is read: there the
 * indentation that followed it becomes one space (or the break stays, if more
 * came), so that words never run together; lstripBlocks then treats the line
 * as it did before.
 */
export function tidyTemplateSource(src: string): string {
  const parts = src.split(KEEP_AS_IS);
  let out = '';
  for (let i = 0; i < parts.length; i += 3) {
    out += tidyBetweenTags(parts[i]!, out.endsWith('%}'));
    if (i + 1 < parts.length) out += parts[i + 1]!;
  }
  return out;
}

const TAG_START = /\{[{%#]/g;

/** Where the tag starting at `start` ends: after its `#}`, or its `}}` or `%}` outside strings. */
function endOfTag(src: string, start: number): number {
  if (src[start + 1] === '#') {
    const end = src.indexOf('#}', start + 2);
    return end < 0 ? src.length : end + 2;
  }
  let quote = '';
  for (let i = start + 2; i < src.length - 1; i++) {
    const c = src[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if ((c === '%' || c === '}') && src[i + 1] === '}') return i + 2;
  }
  return src.length;
}

function tidyBetweenTags(src: string, afterBlockEnd: boolean): string {
  let out = '';
  let at = 0;
  let afterBlock = afterBlockEnd;
  while (at < src.length) {
    TAG_START.lastIndex = at;
    const start = TAG_START.exec(src)?.index ?? src.length;
    let text = src.slice(at, start);
    let head = '';
    if (afterBlock && text.startsWith('\n')) {
      // trimBlocks drops this break; what followed it shows as it did (see above).
      const run = /^\n\s*/.exec(text)![0];
      const rest = run.slice(1);
      head = rest === '' ? '\n' : rest.includes('\n') ? '\n\n' : '\n ';
      text = text.slice(run.length);
    }
    out += head + text.replace(INDENTED_BREAK, '\n');
    if (start === src.length) break;
    at = endOfTag(src, start);
    out += src.slice(start, at);
    afterBlock = src.endsWith('%}', at);
  }
  return out;
}

/** Templates with their indentation dropped (tidyTemplateSource) as they are read. */
class TidyLoader extends nunjucks.FileSystemLoader {
  override getSource(name: string): nunjucks.LoaderSource {
    const source = super.getSource(name);
    // (null when these folders have no such template: nunjucks then says so.)
    return source ? { ...source, src: tidyTemplateSource(source.src) } : source;
  }
}

/** Environments whose context-free imports are kept (see keepImports). */
const KEPT = Symbol.for('supporting-parents.keptImports');
const keepingImports = new WeakSet<object>();
type ExportedCallback = (err: unknown, exported?: Record<string, unknown>) => void;
type GetExported = (ctx?: unknown, parentFrame?: unknown, cb?: unknown) => unknown;

/**
 * `{% from "x.njk" import m %}` runs x.njk again on every render, and every
 * GOV.UK component's template imports its attribute macro each time the
 * component is drawn: a page paid for hundreds of these. An import without
 * `with context` cannot see the importing page (nunjucks gives it an empty
 * context and a frame of its own), so what it exports — the macros — is the
 * same every time and is kept with the compiled template, in environments
 * that ask for it. A template loaded again (a changed file in watch mode) is
 * a new object and starts afresh; an import `with context` is never kept.
 * (Template.getExported is nunjucks 3's own, untyped, like resolveTemplate.)
 */
function keepImports(env: nunjucks.Environment): void {
  keepingImports.add(env);
  const proto = nunjucks.Template.prototype as unknown as {
    getExported: GetExported;
    [KEPT]?: true;
  };
  if (proto[KEPT] || typeof proto.getExported !== 'function') return;
  proto[KEPT] = true;
  const original = proto.getExported;
  const kept = new WeakMap<object, Record<string, unknown>>();
  proto.getExported = function getExported(this: { env: object }, ctx, parentFrame, cb) {
    // Only the context-free form: getExported(callback).
    if (typeof ctx !== 'function' || !keepingImports.has(this.env))
      return original.call(this, ctx, parentFrame, cb);
    const done = ctx as ExportedCallback;
    const hit = kept.get(this);
    if (hit) return done(null, hit);
    return original.call(this, (err: unknown, exported?: Record<string, unknown>) => {
      if (!err && exported) kept.set(this, exported);
      done(err, exported);
    });
  };
}
/** nunjucks 3's runtime (untyped): its Frame, and copySafeness for filters. */
const runtime = (
  nunjucks as unknown as {
    runtime: {
      Frame: { prototype: FrameLike & { [QUICK]?: true } };
      copySafeness: (from: unknown, to: string) => unknown;
    };
  }
).runtime;
interface FrameLike {
  variables: Record<string, unknown>;
  set(name: string, value: unknown, resolveUp?: boolean): void;
  resolve(name: string, forWrite: boolean): FrameLike | undefined;
}
const QUICK = Symbol.for('supporting-parents.quickFrames');

/**
 * Two of nunjucks' hot spots, answered the same way with less work:
 * - `Frame.set` splits every name on "." (each loop iteration sets eight
 *   `loop.*` names, each macro call its arguments): the parts of a name are
 *   worked out once. Otherwise the same steps: up to the frame that holds it
 *   when asked, the dotted parts made as objects.
 * - the `trim` filter (GOV.UK's templates trim most captured blocks) used a
 *   regular expression that tries every space of a long indented block;
 *   String.prototype.trim removes the same characters (both are the
 *   WhiteSpace and LineTerminator of the language), keeping a safe string safe.
 * quick-frames.test.ts holds them to nunjucks' own answers.
 */
function quickerRuntime(env: nunjucks.Environment): void {
  env.addFilter('trim', (value: unknown) =>
    runtime.copySafeness(value, String.prototype.trim.call(value)),
  );
  const proto = runtime.Frame.prototype;
  if (proto[QUICK]) return;
  proto[QUICK] = true;
  const partsOf = new Map<string, string[]>();
  proto.set = function set(this: FrameLike, name, value, resolveUp) {
    let parts = partsOf.get(name);
    if (!parts) {
      parts = name.split('.');
      partsOf.set(name, parts);
    }
    if (resolveUp) {
      const frame = this.resolve(parts[0]!, true);
      if (frame) {
        frame.set(name, value);
        return;
      }
    }
    let target = this.variables;
    for (let i = 0; i < parts.length - 1; i++) {
      const id = parts[i]!;
      if (!target[id]) target[id] = {};
      target = target[id] as Record<string, unknown>;
    }
    target[parts[parts.length - 1]!] = value;
  };
}

/** The render context's name for the reply's list of pieces' bytes (`render`). */
const PIECES = '__spPieces';

/**
 * `{% piece %}…{% endpiece %}`: what is between is rendered as usual, then held as UTF-8 bytes
 * beside the page, a mark in its place, and put back when the page is sent (`pageBytes`). The
 * items of a long list (a page of comment threads), each a piece, keep the page's string short
 * (see pageBytes). Outside `render` (a kept part, an email) the text is left where it is.
 */
class PieceExtension {
  tags = ['piece'];
  parse(
    parser: {
      nextToken(): { value: string };
      parseSignature(a: null, b: boolean): unknown;
      advanceAfterBlockEnd(name?: string): void;
      parseUntilBlocks(...names: string[]): unknown;
    },
    nodes: { CallExtension: new (...args: unknown[]) => unknown },
  ) {
    const tok = parser.nextToken();
    const args = parser.parseSignature(null, true);
    parser.advanceAfterBlockEnd(tok.value);
    const body = parser.parseUntilBlocks('endpiece');
    parser.advanceAfterBlockEnd();
    return new nodes.CallExtension(this, 'run', args, [body]);
  }
  run(context: { ctx: Record<string, unknown> }, body: () => string) {
    const html = body();
    const list = context.ctx[PIECES] as Buffer[][] | undefined;
    return list ? placed(list, [Buffer.from(html)]) : new nunjucks.runtime.SafeString(html);
  }
}

/** Adds `{% piece %}` to an environment, once. */
export function addPieceTag(env: nunjucks.Environment): void {
  if (!env.hasExtension('piece')) env.addExtension('piece', new PieceExtension());
}

export function createViewEnvironment(opts: {
  srcDir: string;
  rootDir: string;
  watch?: boolean;
  /** Extra template folders searched first (tests' fixtures). */
  extraPaths?: string[];
}): nunjucks.Environment {
  const loader = new TidyLoader(
    [
      ...(opts.extraPaths ?? []),
      join(opts.srcDir, 'platform', 'views', 'templates'),
      join(opts.srcDir, 'features'),
      join(opts.rootDir, 'node_modules', 'govuk-frontend', 'dist'),
    ],
    { noCache: Boolean(opts.watch), watch: false },
  );
  const env = new nunjucks.Environment(loader, {
    autoescape: true,
    throwOnUndefined: false,
    trimBlocks: true,
    lstripBlocks: true,
  });
  // A relative name ("../error-message/macro.njk" in GOV.UK Frontend's macros) is resolved
  // against its parent's path on every import of every render (path.resolve: ~2% of a
  // page's CPU time); the answer never changes, so it is worked out once.
  // (Environment.resolveTemplate is nunjucks 3's own, untyped: left alone if it is not there.)
  const inner = env as unknown as {
    resolveTemplate?: (from: unknown, parentName: string | null, filename: string) => string;
  };
  const resolveTemplate = inner.resolveTemplate?.bind(env);
  if (resolveTemplate) {
    const resolved = new Map<string, string>();
    inner.resolveTemplate = (from, parentName, filename) => {
      if (from !== loader) return resolveTemplate(from, parentName, filename);
      const key = `${parentName ?? ''}\0${filename}`;
      let name = resolved.get(key);
      if (name === undefined) {
        name = resolveTemplate(from, parentName, filename);
        resolved.set(key, name);
      }
      return name;
    };
  }
  keepImports(env);
  quickerRuntime(env);
  addPieceTag(env);
  return env;
}

/** "Notifications 3" with "unread" for screen readers; more than 99 shows as "99+". */
function navWithCount(text: string, count: number, unread: string): string {
  const shown = count > 99 ? '99+' : String(count);
  return `${escapeHtml(text)} <span class="sp-nav-count">${shown}<span class="govuk-visually-hidden"> ${escapeHtml(unread)}</span></span>`;
}

/**
 * Marks where a part goes in a rendered page (`reply.part`): a comment with this process's own
 * random name, which nothing a person writes can make (their `<` is escaped). The page is sent
 * as bytes, the part's kept bytes in its place.
 */
const PART_MARK = `<!--sp-part-${randomUUID()}-`;

/** Keeps bytes to be sent in the place of the mark it gives (a part's or a piece's). */
function placed(list: Buffer[][], bytes: Buffer[]): nunjucks.runtime.SafeString {
  list.push(bytes);
  return new nunjucks.runtime.SafeString(`${PART_MARK}${list.length - 1}-->`);
}

/**
 * A rendered page as the UTF-8 bytes to send, each part's bytes where its mark is. Bytes, not
 * the string: Node writes a long string to a socket far more slowly than its bytes, and a page
 * of over 64K characters, one of them outside Latin-1 (’, ŵ), is made as one string only in
 * V8's large-object space, at ~0.7 ms a page on this machine; a kept part never joins it.
 */
function pageBytes(html: string, parts: readonly (readonly Buffer[])[] | null): Buffer {
  if (!parts?.length) return Buffer.from(html);
  const chunks: Buffer[] = [];
  let from = 0;
  for (let at = html.indexOf(PART_MARK); at >= 0; at = html.indexOf(PART_MARK, from)) {
    const end = html.indexOf('-->', at);
    chunks.push(
      Buffer.from(html.slice(from, at)),
      ...parts[Number(html.slice(at + PART_MARK.length, end))]!,
    );
    from = end + 3;
  }
  chunks.push(Buffer.from(html.slice(from)));
  return Buffer.concat(chunks);
}

/** Stands for the CSP nonce in a page that may be cached (see page-cache.ts). */
export const NONCE_PLACEHOLDER = '__SP_NONCE_PLACEHOLDER__';

declare module 'fastify' {
  interface FastifyRequest {
    /** Numbers for the navigation, by link (set by a feature's hook before the page renders). */
    navCounts?: Record<string, number>;
  }
  interface FastifyReply {
    /** True while this response's page may be stored by the page cache; a form (CSRF token) turns it off. */
    pageCacheable: boolean;
    /** Set by render() when the page carries NONCE_PLACEHOLDER instead of the nonce. */
    usedNoncePlaceholder: boolean;
    /** The bytes of this response's parts and pieces, by the number in their marks. */
    placedBytes: Buffer[][] | null;
    /** Render a page with the layout context; status defaults to 200. */
    render(template: string, context?: Record<string, unknown>, status?: number): FastifyReply;
    /**
     * A part of a page, drawn without the person (see parts.ts), to pass to `render` as
     * HTML. With a key, the part kept for it is used, or one drawn with `draw()`'s context
     * is kept; without one (a form showing this person's errors) it is drawn afresh. When
     * `draw()` finds nothing to draw (undefined), neither is there a part.
     */
    part(
      template: string,
      key: string | undefined,
      draw: () => PartContext | Promise<PartContext>,
    ): Promise<nunjucks.runtime.SafeString | undefined>;
  }
  interface FastifyRequest {
    locale: Locale;
    t: Translate;
  }
}

/** What a kept part is drawn from, or undefined when there is nothing to draw (a 404). */
export type PartContext = Record<string, unknown> | undefined;

/** Per-request values every template can use; other plugins add to it. */
export type ContextProvider = (req: FastifyRequest, reply: FastifyReply) => Record<string, unknown>;

export interface ViewsOptions {
  env: nunjucks.Environment;
  assets: AssetManifest;
  /** The links the features registered: the header's and the footer's. */
  navigation: Navigation;
  siteName?: string;
  /** Memory for kept parts of pages, in bytes (parts.ts); default 32 MB. */
  partBytes?: number;
}

export const viewsPlugin = fp<ViewsOptions>(
  async (app, opts) => {
    const providers: ContextProvider[] = [];
    app.decorate('addViewContext', (p: ContextProvider) => {
      providers.push(p);
    });
    const asset = (name: string): string => opts.assets.url(name);
    app.decorateReply('pageCacheable', false);
    app.decorateReply('usedNoncePlaceholder', false);
    app.decorateReply('placedBytes', null);
    // A part is kept as the bytes of the pieces between its forms' tokens: a reader's token
    // joins them.
    const parts = createKept<Buffer[]>(opts.partBytes ?? 32 * 1024 * 1024);
    const partToken = () => CSRF_PART_PLACEHOLDER;
    let formToken = (_reply: FastifyReply): string => {
      throw new Error('A part with a form needs the csrf plugin (setFormToken)');
    };
    app.decorate('setFormToken', (token: (reply: FastifyReply) => string) => {
      formToken = token;
    });

    // The language is the only thing of the request a part may depend on: it is in the key.
    const keyOf = (reply: FastifyReply, template: string, key: string) =>
      `${reply.request.locale}|${template}|${key}`;
    /** The part's mark for the page, its bytes (with this reader's token) kept by the reply. */
    const used = (reply: FastifyReply, pieces: Buffer[]) => {
      let bytes = pieces;
      if (pieces.length > 1) {
        const token = Buffer.from(formToken(reply));
        bytes = pieces.flatMap((piece, i) => (i ? [token, piece] : [piece]));
      }
      return placed((reply.placedBytes ??= []), bytes);
    };
    app.decorateReply(
      'part',
      async function part(
        this: FastifyReply,
        template: string,
        key: string | undefined,
        draw: () => PartContext | Promise<PartContext>,
      ) {
        const req = this.request;
        const fullKey = key === undefined ? undefined : keyOf(this, template, key);
        let pieces = fullKey === undefined ? undefined : parts.get(fullKey);
        if (pieces === undefined) {
          const context = await draw();
          if (!context) return undefined;
          const html = opts.env.render(template, {
            t: req.t,
            lang: req.locale,
            asset,
            pageLabels: (p: Parameters<typeof labelPages>[0]) => labelPages(p, req.t),
            ...context,
            csrfToken: partToken,
          });
          pieces = html.split(CSRF_PART_PLACEHOLDER).map((piece) => Buffer.from(piece));
          if (fullKey !== undefined) parts.set(fullKey, pieces);
        }
        return used(this, pieces);
      },
    );

    app.decorateReply(
      'render',
      function render(this: FastifyReply, template, context = {}, status) {
        const req = this.request;
        const base: Record<string, unknown> = {
          t: req.t,
          lang: req.locale,
          asset,
          currentPath: req.url.split('?')[0],
          cspNonce: this.pageCacheable ? NONCE_PLACEHOLDER : this.scriptNonce,
          requestId: req.id,
          pageLabels: (p: Parameters<typeof labelPages>[0]) => labelPages(p, req.t),
        };
        this.usedNoncePlaceholder = this.pageCacheable;
        for (const p of providers) Object.assign(base, p(req, this));
        const path = base.currentPath as string;
        const nav = opts.navigation;
        // The sections in the service navigation; the person's own links (account, sign
        // out, admin…) in a bar of their own above the header, as GOV.UK One Login does:
        // together they were up to 11 links, two rows at 1280 px (in Welsh, signed in).
        const links = (list: NavLink[]) =>
          list.map((item) => ({
            href: item.href,
            ...(item.count
              ? { html: navWithCount(req.t(item.key), item.count, req.t('common.nav.unread')) }
              : { text: req.t(item.key) }),
            active: path === item.href || path.startsWith(`${item.href}/`),
          }));
        base.panels = {
          header: nav.panels('header', req),
          footer: nav.panels('footer', req),
          account: nav.panels('account', req),
        };
        base.footerNavigation = nav
          .visible('footer', req)
          .map((item) => ({ href: item.href, text: req.t(item.key) }));
        base.serviceNavigation = links(nav.visible('main', req));
        base.accountNavigation = links(nav.visible('account', req));
        base[PIECES] = this.placedBytes ??= [];
        const html = opts.env.render(template, { ...base, ...context });
        if (status) this.code(status);
        this.header('content-type', 'text/html; charset=utf-8');
        if (!this.hasHeader('cache-control')) this.header('cache-control', 'no-cache');
        return this.send(pageBytes(html, this.placedBytes));
      },
    );
  },
  { name: 'views' },
);

declare module 'fastify' {
  interface FastifyInstance {
    addViewContext(provider: ContextProvider): void;
    /** How a reply's CSRF token is made, for the forms in kept parts (the csrf plugin's). */
    setFormToken(token: (reply: FastifyReply) => string): void;
  }
}
