import { type Geocoder, milesBetween, normalisePostcode } from '../../platform/geocoder.ts';
import {
  orukLocation,
  orukServiceSummary,
  orukTaxonomy,
  orukTerm,
  stableId,
  TAXONOMY_NAMES,
  type TermRow,
} from './oruk.ts';
import {
  type Directory,
  type DirectoryCache,
  type DirectoryEntry,
  matchesWords,
  memoByDirectory,
} from './directory.ts';
import type { ServiceListItem, ServicesRepository } from './repository.ts';

/** The rules of the ORUK 3.0 API: filtering, paging, and what each record holds. */

export interface PageQuery {
  page: number;
  perPage: number;
}

/** The ORUK paged envelope; only the page's items are turned into records. */
export function paged<T, R = T>(items: T[], q: PageQuery, toRecord?: (item: T) => R) {
  const totalPages = Math.max(1, Math.ceil(items.length / q.perPage));
  const slice = items.slice((q.page - 1) * q.perPage, q.page * q.perPage);
  const contents = toRecord ? slice.map(toRecord) : (slice as unknown as R[]);
  return {
    total_items: items.length,
    total_pages: totalPages,
    page_number: q.page,
    size: contents.length,
    first_page: q.page === 1,
    last_page: q.page >= totalPages,
    empty: contents.length === 0,
    contents,
  };
}

const METRES_PER_MILE = 1609.344;

export function createOrukApi(deps: {
  repo: ServicesRepository;
  directory: DirectoryCache;
  geocoder?: Geocoder | undefined;
  baseUrl: string;
}) {
  const { repo, directory, baseUrl } = deps;
  const terms = async (): Promise<TermRow[]> => (await directory.get()).terms;
  const servicesMemo = memoByDirectory<DirectoryEntry[]>();
  const nearMemo = memoByDirectory<Directory['sals']>();
  const termIdsOf = (s: ServiceListItem, all: TermRow[]) =>
    all
      .filter(
        (t) =>
          (t.taxonomy === 'supporting-parents:model' && t.code === s.model) ||
          (t.taxonomy === 'supporting-parents:offer' && s.offers.includes(t.code)) ||
          (t.taxonomy === 'supporting-parents:serves' && s.serves.includes(t.code)),
      )
      .map((t) => t.id);

  async function filteredServices(f: {
    search?: string | undefined;
    taxonomyTermId?: string | undefined;
    taxonomyId?: string | undefined;
  }) {
    const dir = await directory.get();
    const t = dir.terms;
    return servicesMemo(dir, JSON.stringify([f.search, f.taxonomyTermId, f.taxonomyId]), () =>
      dir.entries.filter((s) => {
        if (!matchesWords(s, f.search)) return false;
        const ids = termIdsOf(s, t);
        if (f.taxonomyTermId && !ids.includes(f.taxonomyTermId)) return false;
        if (
          f.taxonomyId &&
          !t.some((x) => ids.includes(x.id) && stableId('taxonomy', x.taxonomy) === f.taxonomyId)
        )
          return false;
        return true;
      }),
    );
  }

  return {
    meta() {
      return {
        version: '3.0',
        profile: 'https://openreferraluk.org',
        openapi_url: `${baseUrl}/api/oruk/openapi.json`,
      };
    },
    async services(
      f: {
        search?: string | undefined;
        taxonomyTermId?: string | undefined;
        taxonomyId?: string | undefined;
      },
      q: PageQuery,
    ) {
      return paged(await filteredServices(f), q, (s) => orukServiceSummary(s, baseUrl));
    },
    /** One service with everything ORUK nests in it. */
    async service(id: string) {
      const [dir, t] = await Promise.all([directory.get(), terms()]);
      const s = dir.byId.get(id);
      if (!s) return undefined;
      const full = await repo.serviceBySlug(s.slug);
      if (!full) return undefined;
      const ids = termIdsOf(s, t);
      const sals = dir.sals.filter((x) => x.serviceId === id);
      return {
        ...orukServiceSummary(
          { ...s, organisationDescription: full.organisation.description },
          baseUrl,
        ),
        ...(s.referralRoute ? { application_process: s.referralRoute } : {}),
        service_areas: full.areas.map((a) => ({
          id: stableId('service_area', id, a.gssCode),
          service_id: id,
          name: a.name,
          extent_type: 'GSS code',
          extent: a.gssCode,
          uri: `https://statistics.data.gov.uk/id/statistical-geography/${a.gssCode}`,
        })),
        service_at_locations: sals.map((x) => ({
          id: x.id,
          service_id: id,
          location_id: x.location.id,
          location: orukLocation(x.location),
        })),
        contacts: full.contacts.map((c) => ({
          id: c.id,
          service_id: id,
          name: c.name,
          title: c.title,
          ...(c.email ? { email: c.email } : {}),
          phones: c.phone
            ? [{ id: stableId('phone', c.id), contact_id: c.id, number: c.phone }]
            : [],
        })),
        attributes: t
          .filter((x) => ids.includes(x.id))
          .map((x) => ({
            id: stableId('attribute', id, x.id),
            link_id: id,
            link_type: 'service',
            taxonomy_term_id: x.id,
            taxonomy_term: orukTerm(x, baseUrl),
          })),
        funding: s.funding
          ? [{ id: stableId('funding', id), service_id: id, source: s.funding }]
          : [],
        schedules: [],
        languages: [],
        cost_options: [],
      };
    },
    /**
     * Services at locations, optionally within `proximity` metres of a
     * postcode (nearest first). 'badPostcode' or 'geocoderDown' when that
     * cannot be worked out.
     */
    async serviceAtLocations(
      f: {
        search?: string | undefined;
        postcode?: string | undefined;
        proximity?: number | undefined;
        taxonomyTermId?: string | undefined;
      },
      q: PageQuery,
    ) {
      const dir = await directory.get();
      let point: { lat: number; lng: number } | undefined;
      if (f.postcode) {
        const normal = normalisePostcode(f.postcode);
        const found = normal && deps.geocoder ? await deps.geocoder.postcode(normal) : undefined;
        if (!normal || found?.status === 'notFound') return { problem: 'badPostcode' as const };
        if (!found || found.status !== 'found') return { problem: 'geocoderDown' as const };
        point = { lat: found.lat, lng: found.lng };
      }
      const wanted = new Set((await filteredServices(f)).map((s) => s.id));
      const key = JSON.stringify([f.search, f.taxonomyTermId, point, f.proximity]);
      const rows = nearMemo(dir, key, () => {
        const all = dir.sals.filter((x) => wanted.has(x.serviceId));
        if (!point) return all;
        return all
          .filter((x) => x.location.lat !== null && x.location.lng !== null)
          .map((x) => ({
            x,
            metres:
              milesBetween(point, { lat: x.location.lat!, lng: x.location.lng! }) * METRES_PER_MILE,
          }))
          .filter((d) => f.proximity === undefined || d.metres <= f.proximity)
          .sort((a, b) => a.metres - b.metres)
          .map((d) => d.x);
      });
      return paged(rows, q, (x) => ({
        id: x.id,
        service_id: x.serviceId,
        location_id: x.location.id,
        service: orukServiceSummary(dir.byId.get(x.serviceId)!, baseUrl),
        location: orukLocation(x.location),
      }));
    },
    async serviceAtLocation(id: string) {
      const dir = await directory.get();
      const x = dir.sals.find((r) => r.id === id);
      if (!x) return undefined;
      const s = dir.byId.get(x.serviceId);
      if (!s) return undefined;
      return {
        id: x.id,
        service_id: x.serviceId,
        location_id: x.location.id,
        service: orukServiceSummary(s, baseUrl),
        location: orukLocation(x.location),
      };
    },
    async taxonomies(q: PageQuery) {
      return paged(
        Object.keys(TAXONOMY_NAMES).map((n) => orukTaxonomy(n, baseUrl)),
        q,
      );
    },
    async taxonomy(id: string) {
      const name = Object.keys(TAXONOMY_NAMES).find((n) => stableId('taxonomy', n) === id);
      if (!name) return undefined;
      return {
        ...orukTaxonomy(name, baseUrl),
        taxonomy_terms: (await terms())
          .filter((t) => t.taxonomy === name)
          .map((t) => orukTerm(t, baseUrl)),
      };
    },
    async taxonomyTerms(f: { taxonomyId?: string | undefined }, q: PageQuery) {
      const all = (await terms()).filter(
        (t) => !f.taxonomyId || stableId('taxonomy', t.taxonomy) === f.taxonomyId,
      );
      return paged(
        all.map((t) => orukTerm(t, baseUrl)),
        q,
      );
    },
    async taxonomyTerm(id: string) {
      const t = (await terms()).find((x) => x.id === id);
      return t ? orukTerm(t, baseUrl) : undefined;
    },
  };
}

export type OrukApi = ReturnType<typeof createOrukApi>;
