import { createHash } from 'node:crypto';
import { type Geocoder, milesBetween, normalisePostcode } from '../../platform/geocoder.ts';
import {
  noSearchChanges,
  type SearchChanged,
  type SearchDocument,
  type SearchMatches,
  type SearchSource,
} from '../../platform/search.ts';
import { fromCsv, toCsv } from './csv.ts';
import {
  type Directory,
  type DirectoryCache,
  type DirectoryEntry,
  matchesWords,
  memoByDirectory,
  type Point,
} from './directory.ts';
import { dot, readBoundaries } from './map-svg.ts';
import { fromOrukJson } from './oruk-import.ts';
import {
  type AuthorityRow,
  type NewAuthority,
  type ServiceListItem,
  type ServiceSearchRow,
  type ServicesRepository,
  UUID_PATTERN,
} from './repository.ts';
import { termName } from './terms.ts';
import { SERVICE_MODELS, SERVICE_OFFERS, SERVICE_SERVES, type ServiceModel } from './schema.ts';
import { csvParse, csvStringify } from '../../platform/csv.ts';

/**
 * The national service map: finding services, the national overview of all
 * children's services authorities, and the reference list of authorities.
 */

export interface ServiceFilters {
  q?: string | undefined;
  /** A postcode, or a place or authority name. */
  near?: string | undefined;
  la?: string | undefined;
  models: string[];
  offers: string[];
  serves: string[];
}

export type ServiceFacet = 'model' | 'offer' | 'serves';

export type CoverageRow = AuthorityRow & {
  services: number;
  models: ServiceModel[];
  inDevelopment: boolean;
};

const NATIONS = ['England', 'Wales'] as const;
const KINDS = ['county', 'unitary', 'metropolitan_district', 'london_borough', 'welsh_unitary'];

export interface AuthorityProblem {
  row: number;
  field: string;
  message: string;
}

/**
 * Read an authorities CSV (columns as in reference/local-authorities/):
 * every problem is reported with its row and field; rows only when all are valid.
 */
export function readAuthoritiesCsv(
  csv: string,
): { ok: true; rows: NewAuthority[] } | { ok: false; problems: AuthorityProblem[] } {
  let records: Record<string, string>[];
  try {
    records = csvParse().parse(csv, {
      columns: true,
      skip_empty_lines: true,
      trim: true,
      bom: true,
    });
  } catch (err) {
    return { ok: false, problems: [{ row: 0, field: 'file', message: (err as Error).message }] };
  }
  const problems: AuthorityProblem[] = [];
  const seen = new Set<string>();
  const rows: NewAuthority[] = [];
  records.forEach((r, i) => {
    const row = i + 2; // the header is row 1
    const bad = (field: string, message: string) => problems.push({ row, field, message });
    const gss = r.gss_code ?? '';
    if (!/^(E06|E08|E09|E10|W06)\d{6}$/.test(gss))
      bad('gss_code', 'must be a GSS code like E06000001 or W06000001');
    else if (seen.has(gss)) bad('gss_code', `appears twice (${gss})`);
    seen.add(gss);
    if (!r.name) bad('name', 'is empty');
    if (!KINDS.includes(r.kind ?? '')) bad('kind', `must be one of ${KINDS.join(', ')}`);
    if (!(NATIONS as readonly string[]).includes(r.nation ?? ''))
      bad('nation', 'must be England or Wales');
    else if ((r.nation === 'Wales') !== gss.startsWith('W'))
      bad('nation', 'does not match the GSS code');
    if (r.nation === 'Wales' && !r.name_cy) bad('name_cy', 'is needed for a Welsh authority');
    if (!r.region_name) bad('region_name', 'is empty');
    const lat = Number(r.lat);
    const lng = Number(r.lng);
    if (!r.lat || !(lat >= 49.8 && lat <= 55.9))
      bad('lat', 'must be a latitude in England or Wales');
    if (!r.lng || !(lng >= -6.5 && lng <= 1.8))
      bad('lng', 'must be a longitude in England or Wales');
    rows.push({
      gssCode: gss,
      name: r.name ?? '',
      nameCy: r.name_cy || null,
      kind: r.kind ?? '',
      regionCode: r.region_code || null,
      regionName: r.region_name ?? '',
      nation: r.nation as 'England' | 'Wales',
      lat,
      lng,
    });
  });
  if (!rows.length && !problems.length)
    problems.push({ row: 0, field: 'file', message: 'has no rows' });
  return problems.length ? { ok: false, problems } : { ok: true, rows };
}

/** The site search's name for the directory's documents. */
export const SEARCH_SOURCE = 'services';

/** The first words of a text, up to about `max` characters, ending at a word. */
function firstWords(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:.–-]+$/, '')}…`;
}

/**
 * A listed service as a document of the site search: its name, description,
 * organisation, model, what it offers and whom it serves, and the places it
 * works from and covers (town and authority names, so "FDAC Leeds" finds
 * the Leeds FDAC), in English and, when it has them, Welsh.
 */
export function serviceDocument(s: ServiceSearchRow): SearchDocument {
  const words = (locale: 'en' | 'cy') => {
    const model = termName('model', s.model, locale);
    return [
      // The model's name, and the short name everyone uses for a Family Drug and Alcohol Court.
      s.model === 'fdac' ? `${model} (FDAC)` : model,
      s.organisationName,
      s.offers.map((o) => termName('offer', o, locale)).join(', '),
      s.serves.map((o) => termName('serves', o, locale)).join(', '),
      [
        ...new Set([
          ...s.places.flatMap((p) => [p.name, p.city]),
          ...s.areas.map((a) => (locale === 'cy' ? (a.nameCy ?? a.name) : a.name)),
        ]),
      ]
        .filter(Boolean)
        .join(', '),
      [...new Set(s.areas.map((a) => a.regionName))].join(', '),
    ].filter(Boolean);
  };
  const summary = s.description.replace(/\s+/g, ' ').trim();
  const summaryCy = s.descriptionCy?.replace(/\s+/g, ' ').trim();
  return {
    id: s.id,
    kind: 'service',
    typeLabel: termName('model', s.model, 'en'),
    typeLabelCy: termName('model', s.model, 'cy'),
    url: `/services/${s.slug}`,
    language: 'en',
    title: s.name,
    ...(summary ? { summary: firstWords(summary, 240) } : {}),
    body: [s.description, ...words('en')].join('\n'),
    ...(s.nameCy ? { titleCy: s.nameCy } : {}),
    ...(summaryCy
      ? {
          summaryCy: firstWords(summaryCy, 240),
          bodyCy: [s.descriptionCy, ...words('cy')].join('\n'),
        }
      : {}),
    authorities: [...new Set(s.areas.map((a) => a.gssCode))],
    regions: [...new Set(s.areas.map((a) => a.regionName))],
    access: 'public',
    updatedAt: s.updatedAt,
  };
}

export type NearProblem = 'postcodeNotFound' | 'geocoderDown' | 'placeNotFound';

/** Results on one page of /services. */
export const PAGE_SIZE = 20;
/** The most markers the map is sent for one search. */
export const MAP_POINTS_LIMIT = 2_000;

export function createServicesService(deps: {
  repo: ServicesRepository;
  directory: DirectoryCache;
  geocoder?: Geocoder | undefined;
  /** For recognising our own pages in imported ORUK records. */
  baseUrl?: string;
  /** Tells the site search what changed, after it commits (none by default). */
  searchChanged?: SearchChanged;
  /** The site search's matches among listed services: the finder's words (its own match when absent). */
  searchMatches?: SearchMatches;
}) {
  const { repo, directory } = deps;
  const searchChanged = deps.searchChanged ?? noSearchChanges;
  /** After a commit: the search looks at these again. Never lets the search fail a change. */
  const tellSearch = (ids: readonly string[]) => {
    if (!ids.length) return;
    try {
      searchChanged(SEARCH_SOURCE, ids);
    } catch {
      // The index catches up through changedSince.
    }
  };
  let boundaryCache: Promise<Map<string, string>> | undefined;
  /** Called after anything this process writes to the directory. */
  const changed = () => directory.invalidate();

  /**
   * The national overview: every current authority with the models of the
   * active services covering it (and whether one is in development), gaps by
   * region and nation, and counts by model, offer and who is served.
   */
  function overview(dir: Directory, today: Date) {
    const { authorities, entries: listed } = dir;
    const active = listed.filter((s) => s.status === 'active');
    const developing = listed.filter((s) => s.status === 'in_development');
    // Which services cover each authority, worked out once.
    const activeIn = new Map<string, ServiceListItem[]>();
    for (const s of active)
      for (const g of s.areas) activeIn.set(g, [...(activeIn.get(g) ?? []), s]);
    const developingIn = new Set(developing.flatMap((s) => s.areas));
    const rows: CoverageRow[] = authorities.map((a) => {
      const here = activeIn.get(a.gssCode) ?? [];
      const models = [...new Set(here.map((s) => s.model))].sort(
        (x, y) => SERVICE_MODELS.indexOf(x) - SERVICE_MODELS.indexOf(y),
      ) as ServiceModel[];
      return {
        ...a,
        services: here.length,
        models,
        inDevelopment: developingIn.has(a.gssCode),
      };
    });
    const groups = new Map<
      string,
      { nation: string; region: string; code: string | null; total: number; covered: number }
    >();
    for (const r of rows) {
      const key = `${r.nation}|${r.regionName}`;
      const g = groups.get(key) ?? {
        nation: r.nation,
        region: r.regionName,
        code: r.regionCode,
        total: 0,
        covered: 0,
      };
      g.total++;
      if (r.services > 0) g.covered++;
      groups.set(key, g);
    }
    const count = (pick: (s: ServiceListItem) => string[], vocab: readonly string[]) =>
      vocab.map((v) => ({ value: v, count: active.filter((s) => pick(s).includes(v)).length }));
    const yearAgo = new Date(today.getTime() - 365 * 86400_000).toISOString().slice(0, 10);
    const verified = active.filter((s) => s.lastVerified && s.lastVerified >= yearAgo).length;
    return {
      rows,
      regions: [...groups.values()],
      nations: NATIONS.map((n) => {
        const inNation = rows.filter((r) => r.nation === n);
        return {
          nation: n,
          total: inNation.length,
          covered: inNation.filter((r) => r.services > 0).length,
        };
      }),
      totals: {
        authorities: rows.length,
        covered: rows.filter((r) => r.services > 0).length,
        uncovered: rows.filter((r) => r.services === 0).length,
        developingOnly: rows.filter((r) => r.services === 0 && r.inDevelopment).length,
        activeServices: active.length,
        inDevelopment: developing.length,
        verifiedInYear: verified,
      },
      byModel: count((s) => [s.model], SERVICE_MODELS),
      byOffer: count((s) => s.offers, SERVICE_OFFERS),
      byServes: count((s) => s.serves, SERVICE_SERVES),
    };
  }
  let coverageMemo:
    { dir: Directory; day: string; result: ReturnType<typeof overview> } | undefined;

  /** Every listed service matching the filters, nearest first when `near` resolves, else by name. */
  /** Recent searches' results, for as long as the copy of the directory they came from. */
  const findMemo = memoByDirectory<ReturnType<typeof runSearch>>();

  async function find(f: ServiceFilters) {
    const near = f.near ? await resolveNear(f.near) : undefined;
    const dir = await directory.get();
    // Words go through the site search (synonyms, stemming, Welsh mutations), best first;
    // when it finds nothing, the directory's own match of the letters typed ("Bedf").
    const ranked = f.q?.trim() && deps.searchMatches ? await deps.searchMatches(f.q) : [];
    const matched = ranked.length ? ranked : undefined;
    const key = JSON.stringify([
      f.q,
      matched ? createHash('sha1').update(matched.join(',')).digest('base64') : null,
      f.la,
      f.models,
      f.offers,
      f.serves,
      near,
    ]);
    return findMemo(dir, key, () => runSearch(dir, f, near, matched));
  }

  function runSearch(
    dir: Directory,
    f: ServiceFilters,
    near: Awaited<ReturnType<typeof resolveNear>> | undefined,
    matched: string[] | undefined,
  ) {
    const inArea = (s: DirectoryEntry) => !f.la || s.areas.includes(f.la);
    const all = matched
      ? matched.flatMap((id) => {
          const s = dir.byId.get(id);
          return s && inArea(s) ? [s] : [];
        })
      : dir.entries.filter((s) => matchesWords(s, f.q) && inArea(s));
    // One pass: each facet is counted over the results of the other filters.
    const facets: Record<ServiceFacet, Record<string, number>> = {
      model: {},
      offer: {},
      serves: {},
    };
    const add = (facet: ServiceFacet, v: string) => {
      facets[facet][v] = (facets[facet][v] ?? 0) + 1;
    };
    const anyOf = (chosen: string[], has: string[]) =>
      !chosen.length || has.some((x) => chosen.includes(x));
    const matching: DirectoryEntry[] = [];
    for (const s of all) {
      const m = !f.models.length || f.models.includes(s.model);
      const o = anyOf(f.offers, s.offers);
      const v = anyOf(f.serves, s.serves);
      if (o && v) add('model', s.model);
      if (m && v) for (const x of s.offers) add('offer', x);
      if (m && o) for (const x of s.serves) add('serves', x);
      if (m && o && v) matching.push(s);
    }
    // Rows are the directory's own objects with a distance beside them: nothing is
    // copied until a page is chosen (10,000 copies per search were most of its time).
    if (!near || 'problem' in near)
      return {
        rows: matching.map((s) => ({ s, miles: undefined as number | undefined })),
        facets,
        nearProblem: near?.problem,
      };
    // Distance to the nearest place a service works from (or the centre of an area it covers).
    // Sorted as numbers, each key holding the distance (to a millionth of a mile) above the
    // row's index: a native numeric sort, and equal distances stay in the directory's name order.
    const miles = new Float64Array(matching.length);
    const keys = new Float64Array(matching.length);
    const SLOTS = 2 ** 20;
    matching.forEach((s, i) => {
      let d = Infinity;
      for (const p of s.points) d = Math.min(d, milesBetween(near.point, p));
      miles[i] = d;
      keys[i] = (d === Infinity ? 2e9 : Math.round(d * 1e6)) * SLOTS + i;
    });
    keys.sort();
    const rows = Array.from(keys, (k) => {
      const i = k % SLOTS;
      return { s: matching[i]!, miles: miles[i] === Infinity ? undefined : miles[i] };
    });
    return { rows, facets, near: near.label };
  }

  /** Where "near" means: a postcode through the geocoder, else an authority or town we know. */
  async function resolveNear(
    near: string,
  ): Promise<{ point: Point; label: string } | { problem: NearProblem }> {
    const postcode = normalisePostcode(near);
    if (postcode) {
      const found = deps.geocoder
        ? await deps.geocoder.postcode(postcode)
        : { status: 'unavailable' as const };
      if (found.status === 'found')
        return { point: { lat: found.lat, lng: found.lng }, label: postcode };
      return { problem: found.status === 'notFound' ? 'postcodeNotFound' : 'geocoderDown' };
    }
    const wanted = near.trim().toLowerCase();
    const { authorities } = await directory.get();
    const byName =
      authorities.find(
        (a) => a.name.toLowerCase() === wanted || a.nameCy?.toLowerCase() === wanted,
      ) ??
      authorities.find(
        (a) =>
          a.name.toLowerCase().startsWith(wanted) || a.nameCy?.toLowerCase().startsWith(wanted),
      );
    if (byName) return { point: { lat: byName.lat, lng: byName.lng }, label: byName.name };
    return { problem: 'placeNotFound' };
  }

  return {
    /**
     * Load a list effective on `listDate`. A list that would retire more than
     * 10 current authorities at once is refused unless `force` (a truncated
     * file must not empty the map).
     */
    async importAuthorities(csv: string, listDate: string, force = false) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(listDate))
        throw new Error('The list date must be YYYY-MM-DD');
      const read = readAuthoritiesCsv(csv);
      if (!read.ok) return read;
      const current = await repo.currentAuthorities();
      const kept = new Set(read.rows.map((r) => r.gssCode));
      const leaving = current.filter((a) => !kept.has(a.gssCode)).length;
      if (leaving > 10 && !force)
        return {
          ok: false as const,
          problems: [
            {
              row: 0,
              field: 'file',
              message: `would retire ${leaving} of the ${current.length} current authorities; check the file, or use --force if that is right`,
            },
          ],
        };
      const done = await repo.loadAuthorities(read.rows, listDate);
      changed();
      // Names and regions of places are in every service's words: all are looked at again.
      tellSearch((await directory.get()).entries.map((e) => e.id));
      return { ok: true as const, ...done };
    },
    /**
     * Import services from a CSV (the columns of /services.csv) or ORUK 3.0
     * JSON records: everything checked first; nothing written unless all are
     * valid. Problems name the row (CSV, header is row 1) or record (JSON).
     */
    async importServices(file: string) {
      const dir = await directory.get();
      const current = new Set(dir.authorities.map((a) => a.gssCode));
      const json = /^\s*[[{]/.test(file);
      const read = json
        ? fromOrukJson(file, current, {
            existing: (id) => {
              const e = dir.byId.get(id);
              return e
                ? {
                    slug: e.slug,
                    nameCy: e.nameCy ?? '',
                    descriptionCy: e.descriptionCy ?? '',
                    yearStarted: e.yearStarted ? String(e.yearStarted) : '',
                  }
                : undefined;
            },
            baseUrl: deps.baseUrl ?? '',
          })
        : fromCsv(file, current);
      const unit = json ? ('record' as const) : ('row' as const);
      if (!read.ok) return { ...read, unit };
      const { ids, ...done } = await repo.importServices(read.records);
      changed();
      tellSearch(ids);
      return { ok: true as const, unit, ...done };
    },
    /**
     * Load ONS boundaries (GeoJSON, WGS84) for the overview's map, matched by
     * GSS code; every problem is reported and nothing is stored unless the
     * whole file is good. The previous set is replaced.
     */
    async importBoundaries(geojson: string) {
      const current = (await directory.get()).authorities.map((a) => a.gssCode);
      const read = readBoundaries(geojson, new Set(current));
      if (!read.ok) return read;
      if (!read.boundaries.length)
        return {
          ok: false as const,
          problems: [
            {
              feature: 0,
              field: 'file',
              message: 'no feature has the GSS code of a current authority',
            },
          ],
        };
      await repo.saveBoundaries(read.boundaries);
      boundaryCache = undefined;
      const have = new Set(read.boundaries.map((b) => b.gssCode));
      return {
        ok: true as const,
        loaded: read.boundaries.length,
        unmatched: read.unmatched,
        missing: current.filter((g) => !have.has(g)),
      };
    },
    /** Each current authority's shape on the overview map: its boundary, or a dot at its centre. */
    async mapShapes() {
      boundaryCache ??= repo.boundaries();
      const [paths, { authorities }] = await Promise.all([boundaryCache, directory.get()]);
      return authorities.map((a) => ({
        gssCode: a.gssCode,
        path: paths.get(a.gssCode),
        ...dot(a.lat, a.lng),
      }));
    },
    async exportCsv(): Promise<string> {
      const [rows, dir] = await Promise.all([repo.exportRows(), directory.get()]);
      const names = new Map(dir.authorities.map((a) => [a.gssCode, a.name]));
      return toCsv(rows, (gss) => names.get(gss) ?? gss);
    },
    authorityCount: () => repo.authorityCount(),
    /** Forget the in-memory directory after writing to the database directly (seeding). */
    invalidate: changed,
    currentAuthorities: async () => (await directory.get()).authorities,

    /**
     * Services matching text, authority and facet filters, by name, with
     * facet counts (each facet counted over the results of the other filters).
     */
    /** One page of results (PAGE_SIZE a page) with facet counts and the total. */
    async search(f: ServiceFilters, page = 1) {
      const found = await find(f);
      const total = found.rows.length;
      const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
      const shown = Math.min(Math.max(1, page), pages);
      return {
        ...found,
        rows: found.rows
          .slice((shown - 1) * PAGE_SIZE, shown * PAGE_SIZE)
          .map((r) => ({ ...r.s, miles: r.miles })),
        total,
        page: shown,
        pages,
      };
    },
    /** Where the matching services are, for the map (nearest or first MAP_POINTS_LIMIT). */
    async mapPoints(f: ServiceFilters) {
      const found = await find(f);
      const points = [];
      for (const { s, miles } of found.rows) {
        if (points.length >= MAP_POINTS_LIMIT) break;
        if (s.points.length)
          points.push({ slug: s.slug, name: s.name, nameCy: s.nameCy, miles, ...s.points[0]! });
      }
      return points;
    },
    async service(slug: string) {
      return repo.serviceBySlug(slug);
    },
    /**
     * What is new on the map (for the newsletter's digest): services active now that went
     * live after `from`, up to `until` (created active, or first made active from in
     * development or paused; see the repository for how that is read), oldest first.
     */
    async newOnMap(
      from: Date,
      until: Date,
    ): Promise<{ name: string; slug: string; summary: string; wentLive: Date }[]> {
      return (await repo.becameActiveBetween(from, until)).map((s) => ({
        name: s.name,
        slug: s.slug,
        summary: firstWords(s.description.replace(/\s+/g, ' ').trim(), 240),
        wentLive: s.wentLive,
      }));
    },

    /**
     * The site search's view of the directory: every listed service (the
     * directory's own rule: not closed), public. Closed ones are neither
     * documents nor openable.
     */
    searchSource(): SearchSource {
      return {
        name: SEARCH_SOURCE,
        kinds: ['service'],
        async documents({ after, ids, limit }) {
          if (limit <= 0) return [];
          const rows = await repo.searchServices({
            after,
            ids: ids?.filter((i) => UUID_PATTERN.test(i)),
            limit,
          });
          return rows.map(serviceDocument);
        },
        async openable(ids) {
          // The directory is public: who is asking does not matter.
          return new Set(await repo.listedIds(ids.filter((i) => UUID_PATTERN.test(i))));
        },
        changedSince: (since, limit) => repo.changedSince(since, limit),
      };
    },

    /**
     * The national overview, live: every current authority with the models of
     * the active services covering it (and whether one is in development),
     * gaps by region and nation, and counts by model, offer and who is served.
     */
    async coverage(today: Date = new Date()) {
      // Worked out once per copy of the directory and day: every number stays live.
      const dir = await directory.get();
      const day = today.toISOString().slice(0, 10);
      if (coverageMemo?.dir !== dir || coverageMemo.day !== day)
        coverageMemo = { dir, day, result: overview(dir, today) };
      return coverageMemo.result;
    },
    /** The overview's table as CSV: one row per authority. */
    coverageCsv(rows: CoverageRow[]): string {
      return csvStringify().stringify(
        rows.map((r) => [
          r.gssCode,
          r.name,
          r.nameCy ?? '',
          r.regionName,
          r.nation,
          r.services,
          r.models.join(' '),
          r.inDevelopment ? 'yes' : 'no',
        ]),
        {
          header: true,
          columns: [
            'gss_code',
            'name',
            'name_cy',
            'region',
            'nation',
            'active_services',
            'models',
            'in_development',
          ],
        },
      );
    },
  };
}

export type ServicesService = ReturnType<typeof createServicesService>;
