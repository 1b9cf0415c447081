import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { formatDate } from '../../platform/dates.ts';
import { pageLinks } from '../../platform/pagination.ts';
import { withFields } from '../../platform/objects.ts';
import { MAP_VIEWBOX } from './map-svg.ts';
import { SERVICE_MODELS, SERVICE_OFFERS, SERVICE_SERVES } from './schema.ts';
import { termName as term } from './terms.ts';
import { NARROW, regionLines, type TileLayout, tileMap, WIDE } from './tile-map.ts';
import type { ServiceChanges } from './changes.ts';
import type { ServicesService } from './service.ts';

/** HTTP only: the directory, a service, the national overview and its CSV. */

const V = 'services/views';
const many = (allowed: readonly string[]) =>
  z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((v) =>
      [...new Set(v === undefined ? [] : Array.isArray(v) ? v : [v])].filter((x) =>
        allowed.includes(x),
      ),
    )
    .catch([]);
const listQuery = z.object({
  q: z
    .string()
    .optional()
    .transform((v) => v?.trim().slice(0, 100) || undefined)
    .catch(undefined),
  la: z
    .string()
    .regex(/^[EW]\d{8}$/)
    .optional()
    .catch(undefined),
  near: z
    .string()
    .optional()
    .transform((v) => v?.trim().slice(0, 60) || undefined)
    .catch(undefined),
  model: many(SERVICE_MODELS),
  offer: many(SERVICE_OFFERS),
  serves: many(SERVICE_SERVES),
  page: z.coerce.number().int().min(1).max(10_000).catch(1).default(1),
});
type ListQuery = z.infer<typeof listQuery>;

/** The filters of a list query, as the service takes them. */
const filtersOf = (q: ListQuery) => ({
  q: q.q,
  near: q.near,
  la: q.la,
  models: q.model,
  offers: q.offer,
  serves: q.serves,
});

/** The list query as URL parameters (without the page), for links that keep it. */
function listParams(q: ListQuery): URLSearchParams {
  const params = new URLSearchParams();
  if (q.q) params.set('q', q.q);
  if (q.near) params.set('near', q.near);
  if (q.la) params.set('la', q.la);
  for (const [k, list] of [
    ['model', q.model],
    ['offer', q.offer],
    ['serves', q.serves],
  ] as const)
    for (const v of list) params.append(k, v);
  return params;
}
const slugParam = z.object({ slug: z.string().regex(/^[a-z0-9-]{1,160}$/) });

function jsonLd(
  s: { name: string; description: string; url: string | null; email: string | null },
  org: string,
  url: string,
  areas: string[],
  phone?: string | null,
): string {
  return JSON.stringify({
    '@context': 'https://schema.org',
    '@type': 'Service',
    name: s.name,
    description: s.description,
    url,
    ...(s.url ? { sameAs: s.url } : {}),
    provider: { '@type': 'Organization', name: org },
    areaServed: areas.map((name) => ({ '@type': 'AdministrativeArea', name })),
    ...(s.email || phone
      ? {
          availableChannel: {
            '@type': 'ServiceChannel',
            ...(s.email ? { serviceUrl: `mailto:${s.email}` } : {}),
            ...(phone ? { servicePhone: { '@type': 'ContactPoint', telephone: phone } } : {}),
          },
        }
      : {}),
  }).replace(/</g, '\\u003c');
}

export function servicesRoutes(
  services: ServicesService,
  changes: ServiceChanges,
  opts: {
    baseUrl: string;
    tileUrl: string;
    tileAttribution: string;
    /** Practice stories about a service or an authority (the articles service, wired in app.ts). */
    stories?: {
      forService(slug: string): Promise<{ title: string; href: string }[]>;
      countsByAuthority(): Promise<Map<string, number>>;
    };
  },
): FastifyPluginAsync {
  return async (app) => {
    const pub = { access: 'public' as const };
    const authorityName = (req: FastifyRequest, a: { name: string; nameCy: string | null }) =>
      req.locale === 'cy' && a.nameCy ? a.nameCy : a.name;

    app.get('/services', { config: { ...pub, pageCache: 10 } }, async (req, reply) => {
      const q = listQuery.parse(req.query ?? {});
      const [found, authorities] = await Promise.all([
        services.search(filtersOf(q), q.page),
        services.currentAuthorities(),
      ]);
      const params = listParams(q);
      const { rows, facets } = found;
      const names = new Map(authorities.map((a) => [a.gssCode, authorityName(req, a)]));
      // No service in the area chosen: say so plainly and offer the nearest ones,
      // unless it is the other filters that leave nothing (then removing one helps).
      const area = q.la ? authorities.find((a) => a.gssCode === q.la) : undefined;
      const none = { models: [], offers: [], serves: [] };
      const areaEmpty =
        area !== undefined &&
        found.total === 0 &&
        (await services.search({ ...none, la: area.gssCode }, 1)).total === 0;
      const nearest = areaEmpty
        ? (await services.search({ ...none, near: area.name }, 1)).rows.slice(0, 3)
        : [];
      const items = (
        kind: 'model' | 'offer' | 'serves',
        vocab: readonly string[],
        chosen: string[],
      ) =>
        vocab.map((v) => ({
          value: v,
          text: `${term(kind, v, req.locale)} (${facets[kind][v] ?? 0})`,
          checked: chosen.includes(v),
        }));
      return reply.render(`${V}/list.njk`, {
        title: req.t('services.list.title'),
        description: req.t('services.list.intro'),
        query: q,
        results: rows.map((s) =>
          withFields(s, {
            displayName: req.locale === 'cy' && s.nameCy ? s.nameCy : s.name,
            modelName: term('model', s.model, req.locale),
            offerNames: s.offers.map((o) => term('offer', o, req.locale)),
            servesNames: s.serves.map((o) => term('serves', o, req.locale)),
            areaNames: s.areas.map((g) => names.get(g) ?? g),
            statusName: req.t(`services.statuses.${s.status}`),
            distance:
              s.miles === undefined
                ? undefined
                : req.t('services.list.miles', { miles: s.miles.toFixed(1) }),
          }),
        ),
        areaEmpty: areaEmpty ? names.get(area.gssCode) : undefined,
        nearest: nearest.map((s) => ({
          slug: s.slug,
          displayName: req.locale === 'cy' && s.nameCy ? s.nameCy : s.name,
          modelName: term('model', s.model, req.locale),
          distance:
            s.miles === undefined
              ? undefined
              : req.t('services.list.miles', { miles: s.miles.toFixed(1) }),
        })),
        near: 'near' in found ? found.near : undefined,
        nearProblem: found.nearProblem,
        total: found.total,
        pagination: pageLinks('/services', params, found.page, found.pages),
        map: {
          pointsUrl: `/services/map.json${params.size ? `?${params}` : ''}`,
          tileUrl: opts.tileUrl,
          attribution: opts.tileAttribution,
        },
        authorities: [
          { value: '', text: req.t('services.list.anyAuthority'), selected: !q.la },
          ...authorities.map((a) => ({
            value: a.gssCode,
            text: authorityName(req, a),
            selected: q.la === a.gssCode,
          })),
        ],
        facets: {
          model: items('model', SERVICE_MODELS, q.model),
          offer: items('offer', SERVICE_OFFERS, q.offer),
          serves: items('serves', SERVICE_SERVES, q.serves),
        },
      });
    });

    app.get('/services/map.json', { config: { ...pub, a11y: false } }, async (req, reply) => {
      const q = listQuery.parse(req.query ?? {});
      const points = await services.mapPoints(filtersOf(q));
      return reply.header('cache-control', 'public, max-age=60').send({
        points: points.map((p) => ({
          name: req.locale === 'cy' && p.nameCy ? p.nameCy : p.name,
          url: `/services/${p.slug}`,
          lat: Math.round(p.lat * 1e5) / 1e5,
          lng: Math.round(p.lng * 1e5) / 1e5,
          ...(p.miles === undefined
            ? {}
            : { miles: req.t('services.list.miles', { miles: p.miles.toFixed(1) }) }),
        })),
      });
    });

    app.get('/services/coverage', { config: { ...pub, pageCache: 30 } }, async (req, reply) => {
      const [c, shapes, storyCounts] = await Promise.all([
        services.coverage(),
        services.mapShapes(),
        opts.stories?.countsByAuthority() ?? new Map<string, number>(),
      ]);
      const stateOf = new Map(
        c.rows.map((r) => [
          r.gssCode,
          {
            label: authorityName(req, r),
            state: r.services ? 'covered' : r.inDevelopment ? 'developing' : 'none',
          },
        ]),
      );
      const max = (list: { count: number }[]) => Math.max(1, ...list.map((x) => x.count));
      const chart = (
        kind: 'model' | 'offer' | 'serves',
        list: { value: string; count: number }[],
      ) => ({
        max: max(list),
        items: list.map((x) => ({ ...x, label: term(kind, x.value, req.locale) })),
      });
      // A region's name in the page's language (the list's own name if we have none).
      const regionName = (code: string | null, name: string) => {
        const key = `services.regions.${code ?? ''}`;
        const found = req.t(key);
        return found === key ? name : found;
      };
      const boundaries = shapes.some((x) => x.path);
      // Without boundaries, the tile map, drawn twice: three columns from tablet up and on paper,
      // two on a phone; its regions named in the page's language.
      const drawTiles = () => {
        const squares = c.rows.map((r) => {
          const st = stateOf.get(r.gssCode)!;
          return {
            gssCode: r.gssCode,
            label: st.label,
            state: st.state,
            stateLabel: req.t(`services.coverage.mapStates.${st.state}`),
            regionCode: r.regionCode,
          };
        });
        const names = new Map(c.regions.map((r) => [r.code, r.region]));
        const draw = (layout: TileLayout) => {
          const m = tileMap(squares, layout);
          return {
            ...m,
            regions: m.regions.map((r) => ({
              ...r,
              ...regionLines(regionName(r.code, names.get(r.code) ?? r.code), layout),
            })),
          };
        };
        return { wide: draw(WIDE), narrow: draw(NARROW) };
      };
      const tiles = boundaries ? undefined : drawTiles();
      // Each authority's code on the tile map, for the table that is its key.
      const codeOf = new Map(tiles?.wide.tiles.map((x) => [x.gssCode, x.code]));
      return reply.render(`${V}/coverage.njk`, {
        title: req.t('services.coverage.title'),
        description: req.t('services.coverage.intro'),
        totals: c.totals,
        nations: c.nations.map((n) => ({ ...n, label: req.t(`services.nations.${n.nation}`) })),
        regions: c.regions.map((r) => ({ ...r, label: regionName(r.code, r.region) })),
        charts: {
          model: chart('model', c.byModel),
          offer: chart('offer', c.byOffer),
          serves: chart('serves', c.byServes),
        },
        rows: c.rows.map((r) => ({
          ...r,
          regionName: regionName(r.regionCode, r.regionName),
          label: authorityName(req, r),
          modelNames: r.models.map((m) => term('model', m, req.locale)),
          stories: storyCounts.get(r.gssCode) ?? 0,
          code: codeOf.get(r.gssCode),
        })),
        today: formatDate(new Date(), req.locale),
        map: {
          viewBox: MAP_VIEWBOX,
          boundaries,
          // Without boundaries: a labelled tile map of every authority, grouped by region.
          tiles,
          shapes: shapes.map((x) => {
            const st = stateOf.get(x.gssCode) ?? { label: x.gssCode, state: 'none' };
            return { ...x, ...st, stateLabel: req.t(`services.coverage.mapStates.${st.state}`) };
          }),
        },
      });
    });

    app.get('/services.csv', { config: { ...pub, a11y: false } }, async (_req, reply) =>
      reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="supporting-parents-services.csv"')
        .send(await services.exportCsv()),
    );

    app.get('/services/coverage.csv', { config: { ...pub, a11y: false } }, async (_req, reply) => {
      const c = await services.coverage();
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="supporting-parents-coverage.csv"')
        .send(services.coverageCsv(c.rows));
    });

    app.get('/services/:slug', { config: { ...pub, pageCache: 10 } }, async (req, reply) => {
      const p = slugParam.safeParse(req.params);
      const found = p.success ? await services.service(p.data.slug) : undefined;
      if (!found) return reply.callNotFound();
      const s = found.service;
      const areaNames = found.areas.map((a) => authorityName(req, a));
      const [canEdit, stories] = await Promise.all([
        changes.mayEdit(req.user, s.id),
        opts.stories?.forService(s.slug) ?? [],
      ]);
      const query = req.query as { saved?: string; checked?: string };
      const place = found.locations.find((l) => l.lat !== null && l.lng !== null);
      return reply.render(`${V}/service.njk`, {
        title: req.locale === 'cy' && s.nameCy ? s.nameCy : s.name,
        description: s.description,
        service: {
          ...s,
          descriptionShown:
            req.locale === 'cy' && s.descriptionCy ? s.descriptionCy : s.description,
          modelName: term('model', s.model, req.locale),
          offerNames: s.offers.map((o) => term('offer', o, req.locale)),
          servesNames: s.serves.map((o) => term('serves', o, req.locale)),
          statusName: req.t(`services.statuses.${s.status}`),
          verified: s.lastVerified
            ? formatDate(new Date(`${s.lastVerified}T12:00:00Z`), req.locale)
            : undefined,
        },
        organisation: found.organisation,
        areaNames,
        banner: query.saved === '1' ? 'saved' : query.checked === '1' ? 'checked' : undefined,
        canEdit,
        stories,
        isModerator: changes.isModerator(req.user),
        isManager: canEdit && !changes.isModerator(req.user),
        mapPoint: place ? { lat: place.lat, lng: place.lng } : undefined,
        map: { tileUrl: opts.tileUrl, attribution: opts.tileAttribution },
        locations: found.locations,
        contacts: found.contacts,
        jsonLd: jsonLd(
          s,
          found.organisation.name,
          `${opts.baseUrl}/services/${s.slug}`,
          areaNames,
          found.contacts[0]?.phone,
        ),
      });
    });
  };
}
