import type { AuthorityRow, ServiceListItem, ServicesRepository } from './repository.ts';

/**
 * The directory as the public pages and the API read it: every listed
 * service with its organisation, areas and places, and the current
 * authorities. Even the benchmark's 10,000 services are a few megabytes, so
 * it is held in memory and every search, facet count, distance and the
 * national overview work from one copy instead of loading it per request.
 *
 * It is rebuilt when this process changes a service (`invalidate`) and at
 * most `ttlMs` after it was read, so a change made by another process (the
 * import command, another instance) shows within that time.
 */

export type Point = { lat: number; lng: number };

export type SalRow = Awaited<ReturnType<ServicesRepository['serviceAtLocations']>>[number];

export type DirectoryEntry = ServiceListItem & {
  /** Lower-cased text that free-text search looks in. */
  haystack: string;
  /** Where distances are measured to: its places, else the centres of the areas it covers. */
  points: Point[];
};

export interface Directory {
  entries: DirectoryEntry[];
  byId: Map<string, DirectoryEntry>;
  authorities: AuthorityRow[];
  /** Every service-at-location of a listed service. */
  sals: SalRow[];
  /** The taxonomy terms of our vocabularies. */
  terms: Awaited<ReturnType<ServicesRepository['allTerms']>>;
  builtAt: number;
}

export function createDirectory(repo: ServicesRepository, ttlMs = 30_000) {
  let current: Promise<Directory> | undefined;
  let builtAt = 0;

  async function build(): Promise<Directory> {
    const [listed, sals, authorities, terms] = await Promise.all([
      repo.listedServices(),
      repo.serviceAtLocations(),
      repo.currentAuthorities(),
      repo.allTerms(),
    ]);
    const centre = new Map(authorities.map((a) => [a.gssCode, { lat: a.lat, lng: a.lng }]));
    const placesOf = new Map<string, Point[]>();
    for (const x of sals) {
      const { lat, lng } = x.location;
      if (lat === null || lng === null) continue;
      const list = placesOf.get(x.serviceId);
      if (list) list.push({ lat, lng });
      else placesOf.set(x.serviceId, [{ lat, lng }]);
    }
    const entries = listed.map((s) => ({
      ...s,
      haystack: `${s.name} ${s.nameCy ?? ''} ${s.description} ${s.organisationName}`.toLowerCase(),
      points: placesOf.get(s.id) ?? s.areas.flatMap((g) => (centre.has(g) ? [centre.get(g)!] : [])),
    }));
    return {
      entries,
      byId: new Map(entries.map((e) => [e.id, e])),
      authorities,
      sals,
      terms,
      builtAt: Date.now(),
    };
  }

  return {
    /** The current copy, rebuilt if it is older than the time allowed. */
    get(): Promise<Directory> {
      if (!current || Date.now() - builtAt > ttlMs) {
        builtAt = Date.now();
        current = build();
        current.catch(() => {
          current = undefined;
        });
      }
      return current;
    },
    /** Forget the copy: the next read sees the database as it is now. */
    invalidate(): void {
      current = undefined;
    },
  };
}

export type DirectoryCache = ReturnType<typeof createDirectory>;

/** Whether every word of `q` appears in the entry's text. */
export function matchesWords(e: DirectoryEntry, q: string | undefined): boolean {
  if (!q) return true;
  return q
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((w) => e.haystack.includes(w));
}

/**
 * Remember results worked out from one copy of the directory: a copy never
 * changes, so a result stays true until the copy is replaced. Bounded: emptied
 * when it holds `size` results.
 */
export function memoByDirectory<T>(size = 500) {
  let memo: { dir: Directory; results: Map<string, T> } | undefined;
  return (dir: Directory, key: string, work: () => T): T => {
    if (memo?.dir !== dir || memo.results.size >= size) memo = { dir, results: new Map() };
    let result = memo.results.get(key);
    if (result === undefined) {
      result = work();
      memo.results.set(key, result);
    }
    return result;
  };
}
