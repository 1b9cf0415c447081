import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { userOf } from '../../platform/auth.ts';
import { formatDate } from '../../platform/dates.ts';
import { errorsFrom, type FormErrors, text } from '../../platform/forms.ts';
import { pageLinks } from '../../platform/pagination.ts';
import { SEARCH_KINDS, type SearchKind } from '../../platform/search.ts';
import { withFields } from '../../platform/objects.ts';
import {
  COUNT_CAP,
  DATE_RANGES,
  isDateRange,
  MAX_PAGE,
  type SearchOutcome,
  type SearchParams,
  type SearchService,
} from './service.ts';

/** HTTP only: read the query or form, call the search service, render. */

const V = 'search/views';
const editor = { access: 'editor' as const };
const open = { access: 'public' as const };
const idParam = z.object({ id: z.coerce.number().int().min(1).max(2_147_483_647) });
const list = (v: unknown): string[] =>
  v === undefined
    ? []
    : (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');

const searchQuery = z.object({
  q: z
    .string()
    .optional()
    .catch(undefined)
    .transform((v) => (v ?? '').slice(0, 200)),
  kind: z
    .unknown()
    .optional()
    .transform((v) =>
      [...new Set(list(v))].filter((k): k is SearchKind =>
        (SEARCH_KINDS as readonly string[]).includes(k),
      ),
    ),
  area: z
    .string()
    .max(80)
    .optional()
    .catch(undefined)
    .transform((v) => v || undefined),
  date: z
    .string()
    .optional()
    .catch(undefined)
    .transform((v) => (v && isDateRange(v) ? v : 'any')),
  page: z.coerce.number().int().min(1).max(MAX_PAGE).catch(1),
});

function queryOf(p: SearchParams, change: Partial<SearchParams> = {}): URLSearchParams {
  const m = { ...p, ...change };
  const s = new URLSearchParams();
  s.set('q', m.q);
  for (const k of m.kinds) s.append('kind', k);
  if (m.area) s.set('area', m.area);
  if (m.date !== 'any') s.set('date', m.date);
  if (m.page > 1) s.set('page', String(m.page));
  return s;
}

/** A count as shown: "1,000+" above the cap. */
const countText = (req: FastifyRequest, n: number) =>
  n > COUNT_CAP
    ? `${COUNT_CAP.toLocaleString(req.locale === 'cy' ? 'cy-GB' : 'en-GB')}+`
    : String(n);

export function searchRoutes(search: SearchService): FastifyPluginAsync {
  return async (app) => {
    // Results depend on who is asking: never kept in a shared cache.
    app.get('/search', { config: open }, async (req, reply) => {
      const { kind, ...rest } = searchQuery.parse(req.query ?? {});
      const p: SearchParams = { ...rest, kinds: kind };
      const outcome = await search.search(req.user, p);
      const areas = await search.areas();
      // Regions by their name in the reader's language (the service map's names of them).
      const regionLabel = (r: { name: string; code: string | null }) => {
        const key = `services.regions.${r.code ?? ''}`;
        const label = req.t(key);
        return label === key ? r.name : label;
      };
      const areaLabels = new Map<string, string>([
        ...areas.regions.map((r) => [r.name, regionLabel(r)] as [string, string]),
        ...areas.authorities.map(
          (a) =>
            [a.gssCode, req.locale === 'cy' && a.nameCy ? a.nameCy : a.name] as [string, string],
        ),
      ]);
      reply.header('cache-control', 'private, no-store');
      return reply.render(`${V}/search.njk`, {
        title: p.q ? req.t('search.titleFor', { q: p.q }) : req.t('search.title'),
        noindex: true,
        ...present(req, p, outcome, areaLabels),
        kindItems: SEARCH_KINDS.map((k) => ({
          value: k,
          text: `${req.t(`search.kinds.${k}.other`)} (${countText(req, outcome.counts[k] ?? 0)})`,
          checked: p.kinds.includes(k),
        })),
        areaItems: [
          { value: '', text: req.t('search.filters.anyArea') },
          ...[...areaLabels].map(([value, text]) => ({ value, text, selected: p.area === value })),
        ],
        dateItems: DATE_RANGES.map((d) => ({
          value: d,
          text: req.t(`search.filters.dates.${d}`),
          selected: p.date === d,
        })),
      });
    });

    // A result opened: counted for its query (never with the person), then on to it.
    app.get('/search/open', { config: { ...open, a11y: false } }, async (req, reply) => {
      const q = z
        .object({ q: z.string().max(200).catch(''), to: z.string().max(500).catch('') })
        .parse(req.query ?? {});
      const local = q.to.startsWith('/') && !q.to.startsWith('//') && !q.to.includes('\\');
      if (local && (await search.opened(q.q, q.to))) return reply.redirect(q.to, 303);
      return reply.redirect(`/search?${new URLSearchParams({ q: q.q }).toString()}`, 303);
    });

    // --- editors: what people look for, synonyms and best bets

    const adminPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      errors?: { synonyms?: FormErrors; bestBets?: FormErrors; values?: Record<string, string> },
    ) => {
      const found = await search.insights(userOf(req));
      const size = await search.size();
      if (errors) reply.code(400);
      return reply.render(`${V}/admin.njk`, {
        title: req.t('search.admin.title'),
        noindex: true,
        ...found,
        size: SEARCH_KINDS.map((k) => ({
          kind: req.t(`search.kinds.${k}.other`),
          n: size[k] ?? 0,
        })),
        errors: errors?.synonyms ?? errors?.bestBets,
        synonymErrors: errors?.synonyms,
        bestBetErrors: errors?.bestBets,
        values: errors?.values ?? {},
        notice: (req.query as { done?: string } | undefined)?.done,
      });
    };

    app.get('/admin/search', { config: editor }, adminPage);

    app.post('/admin/search/synonyms', { config: editor }, async (req, reply) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const terms = text(body.terms) ?? '';
      const done = await search.addSynonyms(userOf(req), terms);
      if (done.error)
        return adminPage(req, reply, {
          synonyms: errorsFrom(
            [{ field: 'terms', key: done.error, ...(done.vars ? { vars: done.vars } : {}) }],
            req.t,
          ),
          values: { terms },
        });
      return reply.redirect('/admin/search?done=synonyms#synonyms', 303);
    });

    app.post('/admin/search/synonyms/:id/delete', { config: editor }, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      if (!(await search.removeSynonyms(userOf(req), p.data.id))) return reply.callNotFound();
      return reply.redirect('/admin/search?done=synonymsRemoved#synonyms', 303);
    });

    app.post('/admin/search/best-bets', { config: editor }, async (req, reply) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const values = {
        query: text(body.query) ?? '',
        url: text(body.url) ?? '',
        title: text(body.title) ?? '',
      };
      const done = await search.addBestBet(userOf(req), values);
      if (done.errors)
        return adminPage(req, reply, {
          bestBets: errorsFrom(
            Object.entries(done.errors).map(([field, key]) => ({ field, key })),
            req.t,
          ),
          values,
        });
      return reply.redirect('/admin/search?done=bestBet#best-bets', 303);
    });

    app.post('/admin/search/best-bets/:id/delete', { config: editor }, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      if (!(await search.removeBestBet(userOf(req), p.data.id))) return reply.callNotFound();
      return reply.redirect('/admin/search?done=bestBetRemoved#best-bets', 303);
    });
  };
}

/** The search page's words, links and results, in the reader's language. */
function present(
  req: FastifyRequest,
  p: SearchParams,
  o: SearchOutcome,
  areaLabels: ReadonlyMap<string, string>,
) {
  const base = queryOf(p);
  const openHref = (url: string) =>
    `/search/open?${new URLSearchParams({ q: p.q, to: url }).toString()}`;
  const chosen = [
    ...p.kinds.map((k) => ({
      label: req.t(`search.kinds.${k}.other`),
      href: `/search?${queryOf(p, { kinds: p.kinds.filter((x) => x !== k), page: 1 }).toString()}`,
    })),
    ...(p.area
      ? [
          {
            label: areaLabels.get(p.area) ?? p.area,
            href: `/search?${queryOf(p, { area: undefined, page: 1 }).toString()}`,
          },
        ]
      : []),
    ...(p.date !== 'any'
      ? [
          {
            label: req.t(`search.filters.dates.${p.date}`),
            href: `/search?${queryOf(p, { date: 'any', page: 1 }).toString()}`,
          },
        ]
      : []),
  ];
  return {
    params: p,
    outcome: o,
    chosen,
    clearHref: `/search?${new URLSearchParams({ q: p.q }).toString()}`,
    results: o.results.map((r) =>
      withFields(r, {
        href: openHref(r.url),
        type: r.typeLabel ?? req.t(`search.kinds.${r.kind}.one`),
        dateText: r.date ? formatDate(r.date, req.locale) : undefined,
      }),
    ),
    bestBet: o.bestBet && { ...o.bestBet, href: openHref(o.bestBet.url) },
    didYouMeanHref: o.didYouMean
      ? `/search?${queryOf(p, { q: o.didYouMean, page: 1 }).toString()}`
      : undefined,
    pagination: pageLinks('/search', base, p.page, o.pages),
  };
}
