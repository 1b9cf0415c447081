import { and, asc, desc, eq, gt, inArray, notInArray, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { SEARCH_KINDS } from '../../platform/search.ts';
import {
  searchBestBets,
  searchClickStats,
  searchDocuments,
  shelfOf,
  searchQueryStats,
  searchSync,
  searchSynonyms,
  searchWords,
} from './schema.ts';
import { requiredPairs } from './pairs.ts';

/**
 * All SQL of the site search, and only SQL: what to index, how to rank and
 * who may see what are the service's.
 */

export type DocumentRow = typeof searchDocuments.$inferSelect;
export type BestBetRow = typeof searchBestBets.$inferSelect;
export type SynonymRow = typeof searchSynonyms.$inferSelect;

/** A document ready to write: its words already folded by the service. */
export interface IndexedDocument {
  key: string;
  source: string;
  sourceId: string;
  kind: string;
  typeLabel: string | null;
  typeLabelCy: string | null;
  url: string;
  language: string;
  title: string;
  titleCy: string | null;
  summary: string | null;
  summaryCy: string | null;
  body: string;
  bodyCy: string | null;
  authorities: string[];
  regions: string[];
  date: Date | null;
  access: string;
  /** Text for the `english` config (accents removed), by weight. */
  english: { a: string; b: string; c: string };
  /** Welsh text folded (mutations, accents), for the `simple` config, by weight. */
  welsh: { a: string; b: string; c: string };
}

/** The question, as the service made it. */
export interface Question {
  /** Queries for `websearch_to_tsquery('english', …)`: the words and each synonym's variant. */
  english: string[];
  /** The same, Welsh-folded, for `websearch_to_tsquery('simple', …)`. */
  welsh: string[];
  access: string[];
  /** Kinds the query named ("services in Leeds"): ranked higher, not filtered. */
  prefer?: string[] | undefined;
  /**
   * A query that only named kinds ("news", "events"): every document of
   * these kinds matches, newest first (no words, so no rank or snippet).
   */
  browse?: string[] | undefined;
  /**
   * A query that named kinds beside other words ("news about adoption"): a
   * document of a named kind matches on the other words alone, as well as
   * any document matching them all (news items seldom say "news").
   */
  named?:
    | { kinds: string[]; english: string[]; welsh: string[]; pairs?: string[][] | undefined }
    | undefined;
  /**
   * Word pairs a match must hold (pairs.ts): one list for each of the
   * query's alternatives (the words, each synonym's variant, the Welsh
   * folding), a match holding every pair of at least one. Undefined when an
   * alternative needs no words side by side.
   */
  pairs?: string[][] | undefined;
  kinds?: string[] | undefined;
  /** A GSS code or a region name. */
  area?: string | undefined;
  /** Only one source's documents (a feature's own search). */
  source?: string | undefined;
  from?: Date | undefined;
  until?: Date | undefined;
}

export type Hit = Pick<
  DocumentRow,
  | 'key'
  | 'source'
  | 'sourceId'
  | 'kind'
  | 'typeLabel'
  | 'typeLabelCy'
  | 'url'
  | 'language'
  | 'title'
  | 'titleCy'
  | 'summary'
  | 'summaryCy'
  | 'date'
> & { snippet: string | null; snippetCy: string | null; welshBody: string | null };

/** Markers ts_headline puts around a matched word: control characters no text of ours holds. */
export const MARK_START = '\u0002';
export const MARK_END = '\u0003';

/** The most matches ranked for one query: beyond it, the rest are counted, not ranked. */
export const RANK_LIMIT = 2000;
/** Matches of one kind counted up to this, then shown as "more than". */
export const COUNT_CAP = 1000;

function tsquery(q: Pick<Question, 'english' | 'welsh'>): SQL {
  const parts = [
    ...q.english.map((e) => sql`websearch_to_tsquery('english', ${e})`),
    ...q.welsh.map((w) => sql`websearch_to_tsquery('simple', ${w})`),
  ];
  return sql.join(parts, sql` || `);
}

/**
 * The words asked for, within these kinds (all when none), written kind by
 * kind: `(kind = 'resource' AND access = 'public' AND words @@ …) OR …`.
 * Each kind has two GIN indexes of its words, partial on the kind: what anybody
 * may find (`search_documents_words_<kind>_public`) and the rest (`_private`:
 * members, private groups), and two of its word pairs, for phrases
 * (`search_documents_pairs_<kind>_…`). So a common word costs each kind only its own
 * matches, the planner joins the bitmaps (BitmapOr), and a visitor's search
 * never reads the members' documents only to leave them out (the private
 * part is asked for only when the person may find more than public
 * documents; `filters` still keeps only their own access keys). The kind and
 * the access are written as literals so that the planner can match the
 * partial indexes.
 */
function matchQuery(
  q: Pick<Question, 'english' | 'welsh' | 'browse' | 'named' | 'pairs' | 'access'>,
  kinds: readonly string[] | undefined,
): SQL {
  const d = searchDocuments;
  const chosen = SEARCH_KINDS.filter(
    (k) => (!kinds?.length || kinds.includes(k)) && (!q.browse || q.browse.includes(k)),
  );
  if (!chosen.length) return sql`false`;
  if (q.browse) {
    // A kind's documents for this person, by their shelf (kind and access), which only a
    // browse names: its index (search_documents_shelf_date) holds them newest first, and a
    // search for words, which names the kind alone, never reads it.
    const shelves = chosen.flatMap((k) => q.access.map((a) => `${k}:${a}`));
    return shelves.length === 1
      ? sql`${SHELF} = ${shelves[0]}`
      : sql`${SHELF} = ANY(${sql.param(shelves)}::text[])`;
  }
  // The words; or for a phrase, first the pairs of its words, from the pairs' own indexes (one
  // per kind and access, as the words'). Each list of pairs (one for each of the query's
  // alternatives) is an arm of its own, so that it is an index's condition: an OR of them inside
  // an arm was read as no condition at all (the whole kind). Lists of one pair each (a two-word
  // phrase, in English and Welsh) make one arm, `&&` (any of the pairs), also an index's
  // condition. The phrase itself is then checked on what the pairs let through, written as a
  // function (`ts_match_vq`, the operator's own) that no index answers: with `@@` the planner
  // also built the kind's whole words bitmap for a phrase of common words.
  const alternatives = (query: SQL, pairs: string[][] | undefined): SQL[] => {
    if (!pairs?.length) return [sql`${d.words} @@ (${query})`];
    const phrase = sql`ts_match_vq(${d.words}, (${query}))`;
    if (pairs.every((p) => p.length === 1))
      return [sql`${d.pairs} && ${sql.param(pairs.map((p) => p[0]!))}::text[] AND ${phrase}`];
    return pairs.map((p) => sql`${d.pairs} @> ${sql.param(p)}::text[] AND ${phrase}`);
  };
  const tq = alternatives(tsquery(q), q.pairs);
  const named = q.named && alternatives(tsquery(q.named), q.named.pairs);
  const access = [
    sql`${d.access} = ${sql.raw(`'public'`)}`,
    ...(q.access.some((a) => a !== 'public') ? [sql`${d.access} <> ${sql.raw(`'public'`)}`] : []),
  ];
  return sql`(${sql.join(
    chosen.flatMap((k) => {
      const text = named && q.named!.kinds.includes(k) ? [...tq, ...named] : tq;
      return access.flatMap((a) =>
        text.map((t) => sql`(${d.kind} = ${sql.raw(`'${k}'`)} AND ${a} AND ${t})`),
      );
    }),
    sql` OR `,
  )})`;
}

/** A document's kind and access together, as `search_documents_shelf_date` indexes them. */
const SHELF = shelfOf(searchDocuments);

function filters(q: Question, withKinds: boolean): SQL | undefined {
  const d = searchDocuments;
  return and(
    sql`${d.access} = ANY(${sql.param(q.access)}::text[])`,
    withKinds && q.kinds?.length ? inArray(d.kind, q.kinds) : undefined,
    q.source ? eq(d.source, q.source) : undefined,
    q.area ? sql`(${q.area} = ANY(${d.authorities}) OR ${q.area} = ANY(${d.regions}))` : undefined,
    q.from ? sql`${d.date} >= ${q.from}` : undefined,
    q.until ? sql`${d.date} < ${q.until}` : undefined,
  );
}

export function createSearchRepository(db: Db) {
  const d = searchDocuments;
  /**
   * A text query through the words' indexes only: with a LIMIT, the planner
   * would otherwise read the table from the start for a common word (or a
   * kind's documents in date order), unpacking every row's words on the way
   * (0.5 s over 220,000 documents). So no sequential scan, and for words no
   * plain index scan either: only bitmaps, which the GIN indexes give. Browsing
   * kinds (`ordered`) may read the kinds' dates in order.
   */
  const throughIndex = <T>(work: (tx: Db) => Promise<T>, ordered = false): Promise<T> =>
    db.transaction(async (tx) => {
      await tx.execute(
        sql`SELECT set_config('enable_seqscan', 'off', true), set_config('enable_indexscan', ${ordered ? 'on' : 'off'}, true)`,
      );
      return work(tx as unknown as Db);
    });
  /**
   * A count of use: its commit need not wait for the disk (a crash may lose
   * the last fraction of a second of counts, never anything else), so the
   * search answering does not wait on a flush.
   */
  const unhurried = (work: (tx: Db) => Promise<unknown>): Promise<void> =>
    db.transaction(async (tx) => {
      await tx.execute(sql`SET LOCAL synchronous_commit = off`);
      await work(tx as unknown as Db);
    });
  return {
    async upsert(docs: IndexedDocument[]): Promise<void> {
      if (!docs.length) return;
      const words = (x: IndexedDocument) =>
        sql`setweight(to_tsvector('english', ${x.english.a}), 'A') || setweight(to_tsvector('english', ${x.english.b}), 'B') || setweight(to_tsvector('english', ${x.english.c}), 'C') || setweight(to_tsvector('simple', ${x.welsh.a}), 'A') || setweight(to_tsvector('simple', ${x.welsh.b}), 'B') || setweight(to_tsvector('simple', ${x.welsh.c}), 'C')`;
      // Titles and summaries only, small enough to stay in the row: what ranking reads.
      const rankWords = (x: IndexedDocument) =>
        sql`setweight(to_tsvector('english', ${x.english.a}), 'A') || setweight(to_tsvector('english', ${x.english.b}), 'B') || setweight(to_tsvector('simple', ${x.welsh.a}), 'A') || setweight(to_tsvector('simple', ${x.welsh.b}), 'B')`;
      await db
        .insert(d)
        .values(
          docs.map((x) => ({
            key: x.key,
            source: x.source,
            sourceId: x.sourceId,
            kind: x.kind,
            typeLabel: x.typeLabel,
            typeLabelCy: x.typeLabelCy,
            url: x.url,
            language: x.language,
            title: x.title,
            titleCy: x.titleCy,
            summary: x.summary,
            summaryCy: x.summaryCy,
            body: x.body,
            bodyCy: x.bodyCy,
            authorities: x.authorities,
            regions: x.regions,
            date: x.date,
            access: x.access,
            words: words(x),
            rankWords: rankWords(x),
          })),
        )
        .onConflictDoUpdate({
          target: d.key,
          set: {
            kind: sql`excluded.kind`,
            typeLabel: sql`excluded.type_label`,
            typeLabelCy: sql`excluded.type_label_cy`,
            url: sql`excluded.url`,
            language: sql`excluded.language`,
            title: sql`excluded.title`,
            titleCy: sql`excluded.title_cy`,
            summary: sql`excluded.summary`,
            summaryCy: sql`excluded.summary_cy`,
            body: sql`excluded.body`,
            bodyCy: sql`excluded.body_cy`,
            authorities: sql`excluded.authorities`,
            regions: sql`excluded.regions`,
            date: sql`excluded.date`,
            access: sql`excluded.access`,
            words: sql`excluded.words`,
            rankWords: sql`excluded.rank_words`,
            indexedAt: sql`now()`,
          },
        });
    },

    async remove(source: string, ids: readonly string[]): Promise<number> {
      if (!ids.length) return 0;
      const gone = await db
        .delete(d)
        .where(and(eq(d.source, source), inArray(d.sourceId, [...ids])))
        .returning({ key: d.key });
      return gone.length;
    },

    /** Remove a source's documents between two ids (exclusive, inclusive) that are not among `keep`. */
    async removeMissing(
      source: string,
      after: string | undefined,
      upTo: string | undefined,
      keep: readonly string[],
    ): Promise<number> {
      const gone = await db
        .delete(d)
        .where(
          and(
            eq(d.source, source),
            after === undefined ? undefined : gt(d.sourceId, after),
            upTo === undefined ? undefined : sql`${d.sourceId} <= ${upTo}`,
            keep.length ? notInArray(d.sourceId, [...keep]) : undefined,
          ),
        )
        .returning({ key: d.key });
      return gone.length;
    },

    /** Sources in the index that are not among these (a feature taken away). */
    async removeSourcesOtherThan(sources: readonly string[]): Promise<number> {
      const gone = await db
        .delete(d)
        .where(notInArray(d.source, [...sources]))
        .returning({ key: d.key });
      return gone.length;
    },

    async count(): Promise<Record<string, number>> {
      const rows = await db
        .select({ kind: d.kind, n: sql<number>`count(*)::int` })
        .from(d)
        .groupBy(d.kind);
      return Object.fromEntries(rows.map((r) => [r.kind, r.n]));
    },

    /** A page of the best matches, best first (of at most RANK_LIMIT matches). */
    /**
     * The word pairs each of these queries needs (pairs.ts), or undefined
     * when one of them needs none: then no pairs narrow the search.
     */
    async pairsNeeded(english: string[], welsh: string[]): Promise<string[][] | undefined> {
      const parts = [
        ...english.map((e) => sql`SELECT websearch_to_tsquery('english', ${e})::text AS q`),
        ...welsh.map((w) => sql`SELECT websearch_to_tsquery('simple', ${w})::text AS q`),
      ];
      if (!parts.length) return undefined;
      const rows = rowsOf<{ q: string }>(await db.execute(sql.join(parts, sql` UNION ALL `)));
      // A query of stopwords only matches nothing, so it asks nothing of the pairs.
      const needed = rows.filter((r) => r.q !== '').map((r) => requiredPairs(r.q));
      return needed.length && needed.every((p) => p.length) ? needed : undefined;
    },

    async search(q: Question, limit: number, offset: number) {
      if (q.browse) {
        // Every document of the kinds named, newest first: straight from the shelves' dates
        // (search_documents_shelf_date), over all of them, not a first 2,000 found.
        const rows = await throughIndex(
          (tx) =>
            tx.execute<{ key: string }>(sql`
          SELECT ${d.key} AS key FROM ${d}
          WHERE ${matchQuery(q, q.kinds)} AND ${filters(q, true)}
          ORDER BY ${d.date} DESC NULLS LAST, ${d.key}
          LIMIT ${limit} OFFSET ${offset}`),
          true,
        );
        return rowsOf<{ key: string }>(rows).map((r) => ({ key: r.key, rank: 0 }));
      }
      const tq = tsquery(q);
      // A document of a kind the query named is ranked on the query's other words: its kind
      // stands for the word that named it ("stories County Durham": a story on County Durham).
      const ranked = (by: SQL) =>
        sql`(ts_rank(${d.rankWords}, ${by}, 1) + CASE WHEN ${d.rankWords} @@ ${by} THEN 0.1 ELSE 0 END)`;
      const rank = q.named
        ? sql`CASE WHEN ${d.kind} = ANY(${sql.param(q.named.kinds)}::text[])
              THEN greatest(${ranked(sql`tq`)}, ${ranked(sql`tq2`)}) ELSE ${ranked(sql`tq`)} END`
        : ranked(sql`tq`);
      const where = filters(q, true);
      // Rank what matched; the title's own words are worth most (weights A–C), and
      // shorter documents are not out-ranked by long ones for a passing mention (normalisation 1);
      // a kind the query named ("services in Leeds", "guidelines") counts three times over.
      const rows = await throughIndex((tx) =>
        tx.execute<{ key: string; rank: number }>(sql`
        SELECT m.key, m.rank FROM (
          SELECT ${d.key} AS key,
            ${rank} * CASE WHEN ${d.kind} = ANY(${sql.param(q.prefer ?? [])}::text[]) THEN 3 ELSE 1 END AS rank,
            ${d.date} AS date
          FROM ${d}, (SELECT ${tq} AS tq, ${q.named ? tsquery(q.named) : sql`NULL::tsquery`} AS tq2) q
          WHERE ${matchQuery(q, q.kinds)} AND ${where}
          LIMIT ${RANK_LIMIT}
        ) m
        ORDER BY m.rank DESC, m.date DESC NULLS LAST, m.key
        LIMIT ${limit} OFFSET ${offset}`),
      );
      return rowsOf<{ key: string; rank: number }>(rows).map((r) => ({
        key: r.key,
        rank: Number(r.rank),
      }));
    },

    /**
     * The matches of each kind, over every other filter (the kind filter's own
     * counts), each counted up to COUNT_CAP + 1: a common word costs no more
     * than a rare one.
     */
    async countByKind(q: Question): Promise<Record<string, number>> {
      const where = filters(q, false);
      const parts = SEARCH_KINDS.map(
        (k) => sql`SELECT ${k}::text AS kind, (SELECT count(*)::int FROM (
            SELECT 1 FROM ${d} WHERE ${matchQuery(q, [k])} AND ${where}
            LIMIT ${COUNT_CAP + 1}) x) AS n`,
      );
      const rows = await throughIndex(
        (tx) => tx.execute<{ kind: string; n: number }>(sql.join(parts, sql` UNION ALL `)),
        q.browse !== undefined,
      );
      return Object.fromEntries(
        rowsOf<{ kind: string; n: number }>(rows)
          .filter((r) => Number(r.n) > 0)
          .map((r) => [r.kind, Number(r.n)]),
      );
    },

    /** The chosen documents with a snippet of their words around the matches. */
    async hits(keys: string[], q: Pick<Question, 'english' | 'welsh' | 'browse'>): Promise<Hit[]> {
      if (!keys.length) return [];
      // Browsing a kind has no words to show in context: the summary stands instead.
      const tq = q.browse ? sql`NULL::tsquery` : tsquery(q);
      const opts = `StartSel=${MARK_START}, StopSel=${MARK_END}, MaxWords=35, MinWords=15, MaxFragments=2, FragmentDelimiter=" … "`;
      const rows = await db
        .select({
          key: d.key,
          source: d.source,
          sourceId: d.sourceId,
          kind: d.kind,
          typeLabel: d.typeLabel,
          typeLabelCy: d.typeLabelCy,
          url: d.url,
          language: d.language,
          title: d.title,
          titleCy: d.titleCy,
          summary: d.summary,
          summaryCy: d.summaryCy,
          date: d.date,
          snippet: sql<
            string | null
          >`CASE WHEN ${d.body} = '' THEN NULL ELSE ts_headline(CASE WHEN ${d.language} = 'cy' THEN 'simple'::regconfig ELSE 'english'::regconfig END, ${d.body}, ${tq}, ${opts}) END`,
          welshBody: sql<
            string | null
          >`CASE WHEN ${d.language} = 'cy' THEN left(${d.body}, 5000) ELSE NULL END`,
          snippetCy: sql<
            string | null
          >`CASE WHEN ${d.bodyCy} IS NULL OR ${d.bodyCy} = '' THEN NULL ELSE ts_headline('simple', ${d.bodyCy}, ${tq}, ${opts}) END`,
        })
        .from(d)
        .where(inArray(d.key, keys));
      const byKey = new Map(rows.map((r) => [r.key, r]));
      return keys.map((k) => byKey.get(k)).filter((r): r is Hit => r !== undefined);
    },

    /** The areas documents are about, for the filter. */
    async areas(): Promise<{ regions: string[]; authorities: string[] }> {
      const rows = await db.execute<{ region: string | null; authority: string | null }>(sql`
        SELECT DISTINCT unnest(${d.regions}) AS region, NULL AS authority FROM ${d}
        UNION SELECT DISTINCT NULL, unnest(${d.authorities}) FROM ${d}`);
      const list = rowsOf<{ region: string | null; authority: string | null }>(rows);
      return {
        regions: list.flatMap((r) => (r.region ? [r.region] : [])).sort(),
        authorities: list.flatMap((r) => (r.authority ? [r.authority] : [])),
      };
    },

    async urlIndexed(url: string): Promise<boolean> {
      const [row] = await db.select({ key: d.key }).from(d).where(eq(d.url, url)).limit(1);
      return row !== undefined;
    },

    // --- did you mean

    /** Remake the word list from titles and summaries (words of 4 letters or more). */
    async refreshWords(): Promise<number> {
      await db.execute(sql`DELETE FROM ${searchWords}`);
      const rows = await db.execute<{ n: number }>(sql`
        WITH w AS (
          INSERT INTO ${searchWords} (word, documents)
          SELECT word, count(DISTINCT key)::int FROM (
            SELECT ${d.key} AS key, regexp_split_to_table(lower(${d.title} || ' ' || coalesce(${d.summary}, '') || ' ' || coalesce(${d.titleCy}, '')), '[^[:alnum:]]+') AS word
            FROM ${d} WHERE ${d.access} = 'public'
          ) s
          WHERE length(word) BETWEEN 4 AND 30 AND word !~ '^[0-9]+$'
          GROUP BY word
          RETURNING 1)
        SELECT count(*)::int AS n FROM w`);
      return Number(rowsOf<{ n: number }>(rows)[0]?.n ?? 0);
    },

    /** Of these words, those in the word list. */
    async knownWords(words: string[]): Promise<Set<string>> {
      if (!words.length) return new Set();
      const rows = await db
        .select({ word: searchWords.word })
        .from(searchWords)
        .where(inArray(searchWords.word, words));
      return new Set(rows.map((r) => r.word));
    },

    /** The nearest listed word by spelling (trigrams), most used first among equals. */
    async nearestWord(word: string): Promise<string | undefined> {
      const rows = await db.execute<{ word: string }>(sql`
        SELECT word FROM ${searchWords}
        WHERE word % ${word} AND word <> ${word} AND similarity(word, ${word}) >= 0.4
        ORDER BY similarity(word, ${word}) DESC, documents DESC, word
        LIMIT 1`);
      return rowsOf<{ word: string }>(rows)[0]?.word;
    },

    // --- synonyms and best bets

    synonyms: () => db.select().from(searchSynonyms).orderBy(asc(searchSynonyms.id)),
    /**
     * The terms of two words or more that English search reads as one word
     * at most, because the rest are words too common to index ("looked
     * after" is searched as "look": "after" is a stopword).
     */
    async oneWordTerms(terms: string[]): Promise<string[]> {
      if (!terms.length) return [];
      const rows = await db.execute<{ term: string }>(sql`
        SELECT term FROM unnest(${sql.param(terms)}::text[]) AS term
        WHERE term LIKE '% %'
          AND coalesce(array_length(tsvector_to_array(to_tsvector('english', term)), 1), 0) <= 1`);
      return rowsOf<{ term: string }>(rows).map((r) => r.term);
    },
    async addSynonyms(terms: string[]): Promise<void> {
      await db.insert(searchSynonyms).values({ terms });
    },
    async removeSynonyms(id: number): Promise<boolean> {
      const gone = await db
        .delete(searchSynonyms)
        .where(eq(searchSynonyms.id, id))
        .returning({ id: searchSynonyms.id });
      return gone.length > 0;
    },
    bestBets: () => db.select().from(searchBestBets).orderBy(asc(searchBestBets.query)),
    async bestBet(query: string): Promise<BestBetRow | undefined> {
      const [row] = await db.select().from(searchBestBets).where(eq(searchBestBets.query, query));
      return row;
    },
    /** False when that query already has a best bet. */
    async addBestBet(b: {
      query: string;
      url: string;
      title: string;
      titleCy: string | null;
    }): Promise<boolean> {
      const made = await db
        .insert(searchBestBets)
        .values(b)
        .onConflictDoNothing()
        .returning({ id: searchBestBets.id });
      return made.length > 0;
    },
    async removeBestBet(id: number): Promise<boolean> {
      const gone = await db
        .delete(searchBestBets)
        .where(eq(searchBestBets.id, id))
        .returning({ id: searchBestBets.id });
      return gone.length > 0;
    },
    async documentTitleAt(
      url: string,
    ): Promise<{ title: string; titleCy: string | null } | undefined> {
      const [row] = await db
        .select({ title: d.title, titleCy: d.titleCy })
        .from(d)
        .where(eq(d.url, url))
        .limit(1);
      return row;
    },

    // --- learning from use

    async countSearch(day: string, query: string, empty: boolean): Promise<void> {
      await unhurried((tx) =>
        tx
          .insert(searchQueryStats)
          .values({ day, query, searches: 1, empty: empty ? 1 : 0 })
          .onConflictDoUpdate({
            target: [searchQueryStats.day, searchQueryStats.query],
            set: {
              searches: sql`${searchQueryStats.searches} + 1`,
              empty: sql`${searchQueryStats.empty} + ${empty ? 1 : 0}`,
            },
          }),
      );
    },
    async countClick(day: string, query: string, url: string): Promise<void> {
      await unhurried((tx) =>
        tx
          .insert(searchClickStats)
          .values({ day, query, url, clicks: 1 })
          .onConflictDoUpdate({
            target: [searchClickStats.day, searchClickStats.query, searchClickStats.url],
            set: { clicks: sql`${searchClickStats.clicks} + 1` },
          }),
      );
    },
    /** The most searched queries since a day, with how often they found nothing and were opened. */
    async topQueries(since: string, limit: number, emptyOnly: boolean) {
      const s = searchQueryStats;
      const rows = await db
        .select({
          query: s.query,
          searches: sql<number>`sum(${s.searches})::int`,
          empty: sql<number>`sum(${s.empty})::int`,
          clicks: sql<number>`coalesce((SELECT sum(c.clicks) FROM ${searchClickStats} c WHERE c.query = ${s.query} AND c.day >= ${since}), 0)::int`,
        })
        .from(s)
        .where(sql`${s.day} >= ${since}`)
        .groupBy(s.query)
        .having(emptyOnly ? sql`sum(${s.empty}) > 0` : undefined)
        .orderBy(desc(sql`sum(${emptyOnly ? s.empty : s.searches})`), asc(s.query))
        .limit(limit);
      return rows;
    },
    async topClicks(since: string, limit: number) {
      const c = searchClickStats;
      return db
        .select({ query: c.query, url: c.url, clicks: sql<number>`sum(${c.clicks})::int` })
        .from(c)
        .where(sql`${c.day} >= ${since}`)
        .groupBy(c.query, c.url)
        .orderBy(desc(sql`sum(${c.clicks})`), asc(c.query), asc(c.url))
        .limit(limit);
    },
    /** Forget counts older than a day (kept a year). */
    async purgeStats(before: string): Promise<void> {
      await db.delete(searchQueryStats).where(sql`${searchQueryStats.day} < ${before}`);
      await db.delete(searchClickStats).where(sql`${searchClickStats.day} < ${before}`);
    },

    // --- catching up

    async checkedAt(source: string): Promise<Date | undefined> {
      const [row] = await db.select().from(searchSync).where(eq(searchSync.source, source));
      return row?.checkedAt;
    },
    async setCheckedAt(source: string, at: Date): Promise<void> {
      await db
        .insert(searchSync)
        .values({ source, checkedAt: at })
        .onConflictDoUpdate({ target: searchSync.source, set: { checkedAt: at } });
    },
  };
}

function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

export type SearchRepository = ReturnType<typeof createSearchRepository>;
