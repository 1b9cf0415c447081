import { accessAllows, AccessDenied, type CurrentUser } from '../../platform/auth.ts';
import { normalisePostcode } from '../../platform/geocoder.ts';
import {
  foldAccents,
  foldWelsh,
  foldWelshWord,
  type SearchDocument,
  type SearchKind,
  SEARCH_KINDS,
  type SearchSource,
} from '../../platform/search.ts';
import {
  COUNT_CAP,
  type IndexedDocument,
  MARK_END,
  MARK_START,
  type Question,
  RANK_LIMIT,
  type SearchRepository,
} from './repository.ts';
import { mayNeedPairs } from './pairs.ts';

/**
 * The site search: one index of what every feature publishes (each feature
 * describes its things through a SearchSource, wired in app.ts), queried in
 * English (stemmed) and Welsh (mutations folded) at once, with editors'
 * synonyms and best bets, "did you mean", and services near a postcode or
 * place in the query. What a person is shown is always checked with the
 * owning feature at that moment.
 */

export const SYNC_JOB = 'search.sync';
export const SWEEP_JOB = 'search.sweep';
export const PAGE_SIZE = 10;
export const MAX_PAGE = 50;
const BODY_MAX = 20_000;
const BATCH = 200;
/** Counts of searches and opened results are kept this long. */
const STATS_DAYS = 365;
const DATE_RANGES = ['any', 'upcoming', 'week', 'month', 'year'] as const;
export type DateRange = (typeof DATE_RANGES)[number];
export const isDateRange = (v: string): v is DateRange =>
  (DATE_RANGES as readonly string[]).includes(v);
export { COUNT_CAP, DATE_RANGES, SEARCH_KINDS };

export interface Place {
  gssCode: string;
  name: string;
  nameCy: string | null;
  /** The region it is in (its English name, as the index holds it) and the region's code. */
  regionName?: string | undefined;
  regionCode?: string | null | undefined;
}

/** A region to filter by: its name as the index holds it, and its code (for its Welsh name). */
export interface Region {
  name: string;
  code: string | null;
}

export interface NearServices {
  /** What was understood: a postcode or an authority's name. */
  label: string;
  href: string;
  services: { title: string; href: string; miles?: number | undefined }[];
}

export interface SearchDeps {
  repo: SearchRepository;
  /** Where the minute's catching up and the daily sweep run. */
  jobs?: { register(name: string, handler: () => Promise<void>): void };
  log: { warn(obj: object, msg?: string): void };
  now?: () => Date;
  places?: {
    authorities(): Promise<Place[]>;
    /** Services nearest a postcode or place, when it is one the service map knows. */
    near(where: string): Promise<NearServices | undefined>;
  };
}

export interface SearchParams {
  q: string;
  kinds: SearchKind[];
  area?: string | undefined;
  date: DateRange;
  page: number;
}

export interface Result {
  key: string;
  kind: SearchKind;
  typeLabel: string | null;
  url: string;
  title: string;
  language: 'en' | 'cy';
  /** Safe HTML: escaped words with the matches in <mark>. */
  snippet: string | null;
  summary: string | null;
  date: Date | null;
}

export interface SearchOutcome {
  q: string;
  results: Result[];
  total: number;
  /** Some kind had more matches than were counted: the total is "more than". */
  capped?: boolean;
  /** Matches of each kind; above COUNT_CAP means "more than COUNT_CAP". */
  counts: Partial<Record<SearchKind, number>>;
  pages: number;
  bestBet?: { url: string; title: string } | undefined;
  /** No result had every word: these have some of them. */
  anyWords?: boolean;
  didYouMean?: string | undefined;
  near?: NearServices | undefined;
}

/** Lower case, no accents, single spaces, at most 200 characters: the form queries are kept and compared in. */
export function normaliseQuery(q: string): string {
  return foldAccents(q).replace(/\s+/g, ' ').trim().slice(0, 200);
}

const escapeHtml = (s: string) =>
  s
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');

/** ts_headline's marked text as safe HTML: everything escaped, then the markers made <mark>. */
export function markedHtml(text: string): string {
  // Only ts_headline's own markers may become <mark>: any other control character is dropped.
  // eslint-disable-next-line no-control-regex
  return escapeHtml(text.replace(/\s+/g, ' ').replace(/[\u0000-\u0001\u0004-\u0008]/g, ''))
    .replaceAll(MARK_START, '<mark>')
    .replaceAll(MARK_END, '</mark>');
}

/** A snippet of Welsh text around the first words whose folded form was asked for, marked. */
export function welshSnippet(text: string, folded: Set<string>, words = 30): string | null {
  const tokens = text.split(/(\s+)/);
  const hitAt = tokens.findIndex((tok) => {
    const w = tok.match(/[\p{L}\p{N}]+/u)?.[0];
    return w !== undefined && folded.has(foldWelshWord(w));
  });
  if (hitAt < 0) return null;
  const start = Math.max(0, hitAt - 10);
  const part = tokens.slice(start, start + words * 2);
  const marked = part.map((tok) => {
    if (/^\s+$/.test(tok)) return tok;
    return tok.replace(/[\p{L}\p{N}]+/gu, (w) =>
      folded.has(foldWelshWord(w)) ? `${MARK_START}${w}${MARK_END}` : w,
    );
  });
  return `${start > 0 ? '… ' : ''}${marked.join('').trim()}${start + words * 2 < tokens.length ? ' …' : ''}`;
}

/** Whole-word occurrences of `term` in `q`, outside quotes. */
function termAt(q: string, term: string): number {
  const re = new RegExp(
    `(^|[^\\p{L}\\p{N}])${term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=$|[^\\p{L}\\p{N}])`,
    'u',
  );
  const m = re.exec(q);
  if (!m) return -1;
  const at = m.index + m[1]!.length;
  return (q.slice(0, at).match(/"/g)?.length ?? 0) % 2 === 0 ? at : -1;
}

/**
 * The query and its synonyms' variants: for each group a term of which is in
 * the query, the query again with each other term in its place (a phrase in
 * quotes). At most 8 variants.
 */
export function expandSynonyms(q: string, groups: string[][]): string[] {
  let variants = [q];
  for (const group of groups) {
    const next: string[] = [];
    for (const v of variants) {
      next.push(v);
      const found = group.map((t) => ({ t, at: termAt(v, t) })).find((x) => x.at >= 0);
      if (!found) continue;
      for (const other of group) {
        if (other === found.t) continue;
        const put = other.includes(' ') ? `"${other}"` : other;
        next.push(v.slice(0, found.at) + put + v.slice(found.at + found.t.length));
      }
    }
    variants = [...new Set(next)].slice(0, 8);
  }
  return variants;
}

/** Fold a websearch query's words the Welsh way, keeping its quotes, minus signs and "or". */
export function welshQuery(q: string): string {
  return q.replace(/[\p{L}\p{N}]+/gu, (w) => (/^or$/i.test(w) ? w : foldWelshWord(w)));
}

/**
 * Words that name a kind of result, in English and Welsh ("services in Leeds",
 * "guidelines", "digwyddiadau"): a query using one ranks that kind higher.
 */
const KIND_WORDS: Record<string, SearchKind> = {
  service: 'service',
  services: 'service',
  gwasanaeth: 'service',
  gwasanaethau: 'service',
  resource: 'resource',
  resources: 'resource',
  adnodd: 'resource',
  adnoddau: 'resource',
  topic: 'topic',
  topics: 'topic',
  event: 'event',
  events: 'event',
  digwyddiad: 'event',
  digwyddiadau: 'event',
  news: 'news',
  newyddion: 'news',
  story: 'story',
  stories: 'story',
  stori: 'story',
  straeon: 'story',
  guideline: 'guideline',
  guidelines: 'guideline',
  canllawiau: 'guideline',
  discussion: 'thread',
  discussions: 'thread',
  thread: 'thread',
  threads: 'thread',
  trafodaeth: 'thread',
  trafodaethau: 'thread',
};

/** The kinds a query names (outside quotes, not after a minus sign). */
export function kindsNamed(q: string): SearchKind[] {
  const unquoted = normaliseQuery(q)
    .replace(/"[^"]*("|$)/g, ' ')
    .replace(/(^|\s)-\S*/g, ' ');
  const words = unquoted.match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words.flatMap((w) => (KIND_WORDS[w] ? [KIND_WORDS[w]] : [])))];
}

/**
 * The query without the words that name kinds (outside quotes, not after a
 * minus sign): "news about adoption" → "about adoption".
 */
export function withoutKindWords(q: string): string {
  return normaliseQuery(q)
    .replace(/"[^"]*("|$)|(^|\s)-\S*|[\p{L}\p{N}]+/gu, (m) =>
      /^[\p{L}\p{N}]+$/u.test(m) && KIND_WORDS[m] ? ' ' : m,
    )
    .replace(/\s+/g, ' ')
    .trim();
}

/** A day as YYYY-MM-DD (UTC). */
const dayOf = (d: Date) => d.toISOString().slice(0, 10);

export function createSearchService(deps: SearchDeps) {
  const { repo, log } = deps;
  const now = deps.now ?? (() => new Date());
  const sources = new Map<string, SearchSource>();
  let synonymCache: { at: number; groups: string[][] } | undefined;
  let placeCache: { at: number; places: Place[] } | undefined;
  /** Changes being indexed, one after another. */
  let pending: Promise<void> = Promise.resolve();

  function prepare(source: string, doc: SearchDocument): IndexedDocument {
    const cut = (s: string | undefined) => (s ?? '').slice(0, BODY_MAX);
    const welshMain = doc.language === 'cy';
    const main = { a: doc.title, b: doc.summary ?? '', c: cut(doc.body) };
    const cy = { a: doc.titleCy ?? '', b: doc.summaryCy ?? '', c: cut(doc.bodyCy) };
    const fold = (x: { a: string; b: string; c: string }, f: (s: string) => string) => ({
      a: f(x.a),
      b: f(x.b),
      c: f(x.c),
    });
    const english = welshMain ? { a: '', b: '', c: '' } : fold(main, (s) => foldAccents(s));
    const welshParts = welshMain
      ? { a: `${main.a} ${cy.a}`, b: `${main.b} ${cy.b}`, c: `${main.c} ${cy.c}` }
      : cy;
    return {
      key: `${source}:${doc.id}`,
      source,
      sourceId: doc.id,
      kind: doc.kind,
      typeLabel: doc.typeLabel ?? null,
      typeLabelCy: doc.typeLabelCy ?? null,
      url: doc.url,
      language: doc.language,
      title: doc.title.slice(0, 500),
      titleCy: doc.titleCy ?? null,
      summary: doc.summary?.slice(0, 2000) ?? null,
      summaryCy: doc.summaryCy?.slice(0, 2000) ?? null,
      body: cut(doc.body),
      bodyCy: doc.bodyCy ? cut(doc.bodyCy) : null,
      authorities: doc.authorities ?? [],
      regions: doc.regions ?? [],
      date: doc.date ?? null,
      access: doc.access,
      english,
      welsh: fold(welshParts, foldWelsh),
    };
  }

  /** Index these ids of a source again: what it still returns is written, the rest removed. */
  async function reindex(source: SearchSource, ids: readonly string[]): Promise<number> {
    let written = 0;
    for (let i = 0; i < ids.length; i += BATCH) {
      const chunk = [...new Set(ids.slice(i, i + BATCH))];
      const docs = await source.documents({ ids: chunk, limit: chunk.length });
      await repo.upsert(docs.map((d) => prepare(source.name, d)));
      const found = new Set(docs.map((d) => d.id));
      await repo.remove(
        source.name,
        chunk.filter((id) => !found.has(id)),
      );
      written += docs.length;
    }
    return written;
  }

  /** Every document of a source written again; what it no longer has removed. */
  async function rebuildSource(
    source: SearchSource,
  ): Promise<{ indexed: number; removed: number }> {
    const startedAt = now();
    let after: string | undefined;
    let indexed = 0;
    let removed = 0;
    for (;;) {
      const docs = await source.documents({ after, limit: BATCH });
      await repo.upsert(docs.map((d) => prepare(source.name, d)));
      const last = docs.at(-1)?.id;
      removed += await repo.removeMissing(
        source.name,
        after,
        docs.length < BATCH ? undefined : last,
        docs.map((d) => d.id),
      );
      indexed += docs.length;
      if (docs.length < BATCH || last === undefined) break;
      after = last;
    }
    await repo.setCheckedAt(source.name, startedAt);
    return { indexed, removed };
  }

  /**
   * The editors' synonym groups, without any term of several words that
   * search would read as one common word (a group saved before the form
   * refused them): "looked after" would make every "look" a match for "LAC".
   */
  async function synonymGroups(): Promise<string[][]> {
    if (synonymCache && Date.now() - synonymCache.at < 30_000) return synonymCache.groups;
    const rows = await repo.synonyms();
    const broad = new Set(await repo.oneWordTerms(rows.flatMap((r) => r.terms)));
    const groups = rows
      .map((r) => r.terms.filter((term) => !broad.has(term)))
      .filter((g) => g.length > 1);
    synonymCache = { at: Date.now(), groups };
    return groups;
  }

  async function places(): Promise<Place[]> {
    if (!deps.places) return [];
    if (placeCache && Date.now() - placeCache.at < 10 * 60_000) return placeCache.places;
    const list = await deps.places.authorities();
    placeCache = { at: Date.now(), places: list };
    return list;
  }

  async function accessOf(viewer: CurrentUser | undefined): Promise<string[]> {
    const keys = ['public'];
    if (!viewer || !accessAllows('member', viewer)) return keys;
    keys.push('members');
    for (const s of sources.values()) if (s.accessFor) keys.push(...(await s.accessFor(viewer)));
    return [...new Set(keys)];
  }

  /** A postcode, or an authority named, in the query. */
  async function placeIn(q: string): Promise<string | undefined> {
    const pc = q.match(/\b[A-Za-z]{1,2}\d[A-Za-z\d]?\s*\d[A-Za-z]{2}\b/);
    if (pc && normalisePostcode(pc[0])) return normalisePostcode(pc[0]);
    const folded = ` ${normaliseQuery(q).replace(/[^\p{L}\p{N}]+/gu, ' ')} `;
    const named = (await places())
      .flatMap((p) => [p.name, p.nameCy].filter((n): n is string => !!n))
      .map((n) => ({ n, f: ` ${normaliseQuery(n).replace(/[^\p{L}\p{N}]+/gu, ' ')} ` }))
      .filter((x) => folded.includes(x.f))
      .sort((a, b) => b.f.length - a.f.length)[0];
    return named?.n;
  }

  function dateRange(r: DateRange): { from?: Date; until?: Date } {
    const t = now();
    const daysAgo = (n: number) => new Date(t.getTime() - n * 86_400_000);
    switch (r) {
      case 'upcoming':
        return { from: t };
      case 'week':
        return { from: daysAgo(7), until: t };
      case 'month':
        return { from: daysAgo(31), until: t };
      case 'year':
        return { from: daysAgo(366), until: t };
      default:
        return {};
    }
  }

  async function didYouMean(q: string, viewer?: CurrentUser): Promise<string | undefined> {
    const words = [...new Set(normaliseQuery(q).match(/[\p{L}\p{N}]+/gu) ?? [])].filter(
      (w) => w.length >= 4 && !/^\d+$/.test(w),
    );
    if (!words.length) return undefined;
    const known = await repo.knownWords(words);
    // Places and editors' synonyms are words people mean, even when no title holds them.
    for (const p of await places())
      for (const n of [p.name, p.nameCy])
        for (const w of n ? (normaliseQuery(n).match(/[\p{L}\p{N}]+/gu) ?? []) : []) known.add(w);
    for (const g of await synonymGroups())
      for (const t of g) for (const w of t.match(/[\p{L}\p{N}]+/gu) ?? []) known.add(w);
    let changed = false;
    let out = normaliseQuery(q);
    for (const w of words) {
      if (known.has(w)) continue;
      // A word the index finds for this person is no misspelling: a mutated Welsh word
      // ("gysylltiad"), a stemmed form, a word only members' discussions hold.
      const found = await repo.countByKind(await service.question(w, viewer));
      if (Object.values(found).some((n) => n > 0)) continue;
      const near = await repo.nearestWord(w);
      if (near) {
        out = out.replace(
          new RegExp(`(^|[^\\p{L}\\p{N}])${w}(?=$|[^\\p{L}\\p{N}])`, 'u'),
          `$1${near}`,
        );
        changed = true;
      }
    }
    return changed ? out : undefined;
  }

  const service = {
    /** A feature's things, found through its source (wired in app.ts). */
    addSource(source: SearchSource) {
      if (sources.has(source.name)) throw new Error(`Search source ${source.name} added twice`);
      sources.set(source.name, source);
    },

    /** What a search needs: the question as the database takes it. */
    async question(
      q: string,
      viewer: CurrentUser | undefined,
      f: { kinds?: SearchKind[]; area?: string | undefined; date?: DateRange } = {},
    ): Promise<Question> {
      const base = normaliseQuery(q);
      const groups = await synonymGroups();
      const variants = expandSynonyms(base, groups);
      const named = kindsNamed(q);
      const rest = named.length ? withoutKindWords(q) : '';
      const restVariants = /[\p{L}\p{N}]/u.test(rest) ? expandSynonyms(rest, groups) : [];
      const welsh = variants.map(welshQuery);
      const restWelsh = restVariants.map(welshQuery);
      // Words that must stand side by side (a phrase, "pre-birth"): the pairs they need first.
      // (Every variant must need some, or the pairs narrow nothing.)
      return {
        english: variants,
        welsh,
        pairs: variants.every(mayNeedPairs) ? await repo.pairsNeeded(variants, welsh) : undefined,
        access: await accessOf(viewer),
        prefer: named,
        named: restVariants.length
          ? {
              kinds: named,
              english: restVariants,
              welsh: restWelsh,
              pairs: restVariants.every(mayNeedPairs)
                ? await repo.pairsNeeded(restVariants, restWelsh)
                : undefined,
            }
          : undefined,
        kinds: f.kinds,
        area: f.area,
        ...dateRange(f.date ?? 'any'),
      };
    },

    async search(viewer: CurrentUser | undefined, p: SearchParams): Promise<SearchOutcome> {
      const q = p.q.trim().slice(0, 200);
      const empty: SearchOutcome = { q, results: [], total: 0, counts: {}, pages: 0 };
      if (!q) return empty;
      // Words that name kinds ("services in Leeds") rank those kinds higher; a
      // query of nothing else ("news", "events", "canllawiau") lists those
      // kinds, newest first: news items seldom say "news".
      const named = kindsNamed(q);
      const browse = named.length > 0 && !/[\p{L}\p{N}]/u.test(withoutKindWords(q));
      let question: Question = browse
        ? { ...(await service.question('', viewer, p)), english: [], welsh: [], browse: named }
        : await service.question(q, viewer, p);
      let anyWords = false;
      let counted: Record<string, number> | undefined;
      // Nothing has every word: then what has any of them (not for a phrase in quotes or a "-word").
      const words = browse ? [] : (normaliseQuery(q).match(/[\p{L}\p{N}]+/gu) ?? []);
      if (words.length > 1 && !/["-]/.test(q)) {
        counted = await repo.countByKind(question);
        if (Object.values(counted).every((n) => n === 0)) {
          question = await service.question(words.join(' or '), viewer, p);
          anyWords = true;
          counted = undefined;
        }
      }
      const [counts, ranked, bet, where] = await Promise.all([
        counted ?? repo.countByKind(question),
        repo.search(question, PAGE_SIZE, (Math.min(p.page, MAX_PAGE) - 1) * PAGE_SIZE),
        repo.bestBet(normaliseQuery(q)),
        placeIn(q),
      ]);
      const chosen = Object.entries(counts).filter(
        ([k]) => !p.kinds.length || p.kinds.includes(k as SearchKind),
      );
      // Each kind is counted up to COUNT_CAP: above it, "more than".
      const capped = chosen.some(([, c]) => c > COUNT_CAP);
      const total = chosen.reduce((n, [, c]) => n + Math.min(c, COUNT_CAP), 0);
      const hits = await repo.hits(
        ranked.map((r) => r.key),
        question,
      );
      const shown = await service.openableHits(hits, viewer);
      const foldedWords = new Set(
        (question.welsh.join(' ').match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => w !== 'or'),
      );
      const results = shown.map((h): Result => {
        const raw = h.language === 'cy' ? welshSnippet(h.welshBody ?? '', foldedWords) : h.snippet;
        return {
          key: h.key,
          kind: h.kind as SearchKind,
          typeLabel: h.typeLabel,
          url: h.url,
          title: h.title,
          language: h.language === 'cy' ? 'cy' : 'en',
          snippet: raw && raw.includes(MARK_START) ? markedHtml(raw) : null,
          summary: h.summary,
          date: h.date,
        };
      });
      const outcome: SearchOutcome = {
        q,
        results,
        total,
        capped,
        counts,
        pages: Math.min(MAX_PAGE, Math.ceil(total / PAGE_SIZE)),
        bestBet: bet ? { url: bet.url, title: bet.title } : undefined,
        anyWords,
        didYouMean: total < 3 && !browse ? await didYouMean(q, viewer) : undefined,
        near: where && deps.places ? await deps.places.near(where) : undefined,
      };
      if (p.page === 1) {
        // Counted without the person: the query's words and the day, nothing else.
        await repo
          .countSearch(dayOf(now()), normaliseQuery(q), total === 0)
          .catch((e: unknown) => log.warn({ err: e }, 'search: counting a search failed'));
      }
      return outcome;
    },

    /**
     * The engine behind a feature's own search (resources, services, the
     * community): the ids of one source's documents of these kinds that match
     * the words, best first, at most RANK_LIMIT, with the same synonyms,
     * stemming and Welsh folding as the site search. Changes told so far are
     * indexed first, so a feature finds what it has just published. The
     * feature still applies its own rules to what it shows.
     */
    async matching(
      viewer: CurrentUser | undefined,
      source: string,
      kinds: SearchKind[],
      text: string,
    ): Promise<string[]> {
      const q = text.trim().slice(0, 200);
      if (!q) return [];
      await pending;
      const question = { ...(await service.question(q, viewer, { kinds })), source };
      const prefix = `${source}:`;
      return (await repo.search(question, RANK_LIMIT, 0)).map((r) => r.key.slice(prefix.length));
    },

    /** Of these hits, those the owning features say this person may open now; the rest looked at again. */
    async openableHits<H extends { source: string; sourceId: string }>(
      hits: H[],
      viewer: CurrentUser | undefined,
    ): Promise<H[]> {
      const bySource = new Map<string, string[]>();
      for (const h of hits) bySource.set(h.source, [...(bySource.get(h.source) ?? []), h.sourceId]);
      const allowed = new Set<string>();
      await Promise.all(
        [...bySource].map(async ([name, ids]) => {
          const source = sources.get(name);
          if (!source) return;
          const ok = await source.openable(ids, viewer);
          for (const id of ids) {
            if (ok.has(id)) allowed.add(`${name}:${id}`);
          }
          const refused = ids.filter((id) => !ok.has(id));
          if (refused.length) service.changed(name, refused);
        }),
      );
      return hits.filter((h) => allowed.has(`${h.source}:${h.sourceId}`));
    },

    /** A result opened from the search: counted for the query, without the person. False: not a result's address. */
    async opened(q: string, url: string): Promise<boolean> {
      if (!(await repo.urlIndexed(url)) && !(await repo.bestBets()).some((b) => b.url === url))
        return false;
      const query = normaliseQuery(q);
      if (query)
        await repo
          .countClick(dayOf(now()), query, url)
          .catch((e: unknown) => log.warn({ err: e }, 'search: counting an opened result failed'));
      return true;
    },

    /** "Look at these again": called by features after a change commits. Never throws. */
    changed(sourceName: string, ids: readonly string[]): void {
      const source = sources.get(sourceName);
      if (!source || !ids.length) return;
      pending = pending
        .then(() => reindex(source, ids))
        .then(
          () => undefined,
          (e: unknown) =>
            log.warn({ err: e, source: sourceName }, 'search: indexing a change failed'),
        );
    },

    /** Resolves when the changes told so far are in the index (tests, the CLI). */
    settled: (): Promise<void> => pending,

    /** The index made again from every source: what is gone is removed. */
    async rebuild(): Promise<{ indexed: Record<string, number>; removed: number; words: number }> {
      const indexed: Record<string, number> = {};
      let removed = await repo.removeSourcesOtherThan([...sources.keys()]);
      for (const s of sources.values()) {
        const r = await rebuildSource(s);
        indexed[s.name] = r.indexed;
        removed += r.removed;
      }
      const words = await repo.refreshWords();
      return { indexed, removed, words };
    },

    /** The job run every minute: each source's changes since its last look. */
    async sync(): Promise<number> {
      let n = 0;
      for (const s of sources.values()) {
        const last = await repo.checkedAt(s.name);
        if (!last) {
          n += (await rebuildSource(s)).indexed;
          continue;
        }
        if (!s.changedSince) continue;
        const startedAt = now();
        // A little overlap: a change committed just before the last look is not missed.
        const ids = await s.changedSince(new Date(last.getTime() - 60_000), 10_000);
        n += await reindex(s, ids);
        await repo.setCheckedAt(s.name, startedAt);
      }
      return n;
    },

    /** The daily job: everything again, the word list remade, old counts forgotten. */
    async sweep() {
      const done = await service.rebuild();
      await repo.purgeStats(dayOf(new Date(now().getTime() - STATS_DAYS * 86_400_000)));
      return done;
    },

    /** How many documents of each kind the index holds. */
    size: () => repo.count(),

    /** The areas to filter by: regions, then authorities by name. */
    async areas(): Promise<{ regions: Region[]; authorities: Place[] }> {
      const found = await repo.areas();
      const all = await places();
      const known = new Map(all.map((p) => [p.gssCode, p]));
      const regionCodes = new Map(all.map((p) => [p.regionName, p.regionCode ?? null]));
      return {
        regions: found.regions.map((name) => ({ name, code: regionCodes.get(name) ?? null })),
        authorities: found.authorities
          .map((g) => known.get(g))
          .filter((p): p is Place => p !== undefined)
          .sort((a, b) => a.name.localeCompare(b.name)),
      };
    },

    // --- editors

    async insights(actor: CurrentUser | undefined, days = 30) {
      mustEdit(actor);
      const since = dayOf(new Date(now().getTime() - days * 86_400_000));
      const [top, empty, opened, synonyms, bestBets] = await Promise.all([
        repo.topQueries(since, 25, false),
        repo.topQueries(since, 25, true),
        repo.topClicks(since, 25),
        repo.synonyms(),
        repo.bestBets(),
      ]);
      return { top, empty, opened, synonyms, bestBets, days };
    },

    /** Terms, one a line or comma separated: at least two different ones, each 2–60 characters. */
    async addSynonyms(
      actor: CurrentUser | undefined,
      raw: string,
    ): Promise<{ error?: string; vars?: Record<string, string> }> {
      mustEdit(actor);
      const terms = [
        ...new Set(
          raw
            .split(/[\n,]/)
            .map((t) => normaliseQuery(t).replace(/"/g, ''))
            .filter(Boolean),
        ),
      ];
      if (terms.length < 2) return { error: 'search.admin.errors.twoTerms' };
      if (terms.length > 10) return { error: 'search.admin.errors.tooManyTerms' };
      if (terms.some((t) => t.length < 2 || t.length > 60))
        return { error: 'search.admin.errors.termLength' };
      const [broad] = await repo.oneWordTerms(terms);
      if (broad) return { error: 'search.admin.errors.oneWord', vars: { term: broad } };
      await repo.addSynonyms(terms);
      synonymCache = undefined;
      return {};
    },

    async removeSynonyms(actor: CurrentUser | undefined, id: number): Promise<boolean> {
      mustEdit(actor);
      synonymCache = undefined;
      return repo.removeSynonyms(id);
    },

    async addBestBet(
      actor: CurrentUser | undefined,
      input: { query: string; url: string; title: string },
    ): Promise<{ errors?: Record<string, string> }> {
      mustEdit(actor);
      const errors: Record<string, string> = {};
      const query = normaliseQuery(input.query);
      if (!query) errors.query = 'search.admin.errors.query';
      else if (query.length > 100) errors.query = 'search.admin.errors.queryLength';
      let url = input.url.trim();
      try {
        // A full address of this site, or a path: kept as a path.
        if (/^https?:\/\//i.test(url)) url = new URL(url).pathname + new URL(url).search;
      } catch {
        url = '';
      }
      const indexed =
        url.startsWith('/') && !url.startsWith('//') ? await repo.documentTitleAt(url) : undefined;
      if (!url) errors.url = 'search.admin.errors.url';
      else if (!indexed) errors.url = 'search.admin.errors.urlUnknown';
      const title = input.title.trim() || indexed?.title || '';
      if (title.length > 200) errors.title = 'search.admin.errors.titleLength';
      if (Object.keys(errors).length) return { errors };
      const made = await repo.addBestBet({ query, url, title, titleCy: indexed?.titleCy ?? null });
      return made ? {} : { errors: { query: 'search.admin.errors.queryTaken' } };
    },

    async removeBestBet(actor: CurrentUser | undefined, id: number): Promise<boolean> {
      mustEdit(actor);
      return repo.removeBestBet(id);
    },
  };
  deps.jobs?.register(SYNC_JOB, async () => {
    await service.sync();
  });
  deps.jobs?.register(SWEEP_JOB, async () => {
    await service.sweep();
  });
  return service;
}

function mustEdit(actor: CurrentUser | undefined): asserts actor is CurrentUser {
  if (!accessAllows('editor', actor)) throw new AccessDenied('Editors only');
}

export type SearchService = ReturnType<typeof createSearchService>;
