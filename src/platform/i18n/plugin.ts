import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { DEFAULT_LOCALE, type I18n, isLocale, LANG_COOKIE, type Locale } from './index.ts';

/** The link to the same page in `lang`, keeping the rest of the query string. */
export function languageHref(url: string, lang: Locale): string {
  const u = new URL(url, 'http://x');
  u.searchParams.set('lang', lang);
  return `${u.pathname}?${u.searchParams.toString()}`;
}

function localeOf(req: FastifyRequest): { locale: Locale; fromQuery: boolean } {
  const q = (req.query as Record<string, unknown> | undefined)?.lang;
  if (isLocale(q)) return { locale: q, fromQuery: true };
  const c = req.cookies?.[LANG_COOKIE];
  return { locale: isLocale(c) ? c : DEFAULT_LOCALE, fromQuery: false };
}

/** `?lang=cy` chooses Welsh and is remembered in a cookie for a year. */
export const i18nPlugin = fp<{ i18n: I18n; secure: boolean }>(
  async (app, opts) => {
    app.decorateRequest('locale', DEFAULT_LOCALE);
    app.decorateRequest('t', null as never);
    app.addHook('onRequest', (req, reply, next) => {
      const { locale, fromQuery } = localeOf(req);
      req.locale = locale;
      req.t = opts.i18n.translator(locale);
      if (fromQuery && req.cookies?.[LANG_COOKIE] !== locale) {
        reply.setCookie(LANG_COOKIE, locale, {
          path: '/',
          maxAge: 365 * 24 * 3600,
          sameSite: 'lax',
          httpOnly: true,
          secure: opts.secure,
        });
      }
      next();
    });
    app.addViewContext((req) => ({
      langLinks: { en: languageHref(req.url, 'en'), cy: languageHref(req.url, 'cy') },
    }));
  },
  { name: 'i18n', dependencies: ['views'] },
);
