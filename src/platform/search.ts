/**
 * The site search's contract with the features (platform: it names no feature).
 *
 * Each feature that has things worth finding gives the search a `SearchSource`
 * (wired in app.ts): it describes its things as `SearchDocument`s and says, at
 * the moment of a search, which of them a person may open. The search keeps
 * one index of the documents; what a person sees is always checked with the
 * owning feature first, so an unpublished, deleted or now-private thing never
 * shows, even before the index has caught up.
 *
 * A feature tells the search when something changed by calling the
 * `SearchChanged` function it was given (after its transaction commits); the
 * search then asks the source for those documents again. A document the
 * source no longer returns is removed from the index.
 */
import type { CurrentUser } from './auth.ts';

/** What kind of thing a result is: shown on the result and used as a filter. */
export type SearchKind =
  'service' | 'resource' | 'topic' | 'event' | 'news' | 'story' | 'guideline' | 'thread';

export const SEARCH_KINDS: readonly SearchKind[] = [
  'service',
  'resource',
  'topic',
  'event',
  'news',
  'story',
  'guideline',
  'thread',
];

/**
 * Who may find a document in the index (the owning feature still decides
 * at search time, through `openable`):
 * - `public`: anyone;
 * - `members`: approved members (and staff);
 * - any other string: an access key a source grants through `accessFor`
 *   (e.g. `space:<id>` for a private group's members).
 */
export type SearchAccess = string;

export interface SearchDocument {
  /** The owning source's id for it: unique within the source, stable. */
  id: string;
  kind: SearchKind;
  /** A finer type shown on the result instead of the kind's name, e.g. a resource's "Video". Plain words, in English. */
  typeLabel?: string;
  /** Its Welsh, when the source has one. */
  typeLabelCy?: string;
  /** Where it is, as a path on this site (e.g. `/resources/farewell-contact`). */
  url: string;
  /** The language its words are in. */
  language: 'en' | 'cy';
  title: string;
  /** A sentence or two: shown under the title when no words are highlighted. */
  summary?: string;
  /** Plain text (no HTML): searched, and the source of highlighted snippets. Cut to 20,000 characters. */
  body?: string;
  /** Welsh versions of the words, when the source keeps both languages (indexed too). */
  titleCy?: string;
  summaryCy?: string;
  bodyCy?: string;
  /** Local authority GSS codes it concerns (services: where it is or serves; articles: places). */
  authorities?: string[];
  /** Region names it concerns (e.g. "North West", "Wales"). */
  regions?: string[];
  /** The date that matters to a reader: an event's start, an article's publication, a change. */
  date?: Date;
  access: SearchAccess;
  /** When it last changed, when the source knows. */
  updatedAt?: Date;
}

export interface SearchSource {
  /** A short stable name, the first half of every key in the index (e.g. `resources`). */
  name: string;
  /** The kinds it yields. */
  kinds: readonly SearchKind[];
  /**
   * Its documents in id order: those after `after` (a whole rebuild pages
   * through them), or those among `ids` (a change). A document it may not show
   * anyone (a draft, a deleted thread) is simply not returned.
   */
  documents(q: {
    after?: string;
    ids?: readonly string[];
    limit: number;
  }): Promise<SearchDocument[]>;
  /** Of these ids, the ones this person may open now. */
  openable(ids: readonly string[], viewer: CurrentUser | undefined): Promise<Set<string>>;
  /** Access keys beyond `public` and `members` this person holds (e.g. their private groups). */
  accessFor?(viewer: CurrentUser): Promise<string[]>;
  /** Ids of documents changed since then (a safety net run every few minutes). */
  changedSince?(since: Date, limit: number): Promise<string[]>;
}

/** What a feature calls after a change commits: "look at these again". Never throws. */
export type SearchChanged = (source: string, ids: readonly string[]) => void;

/**
 * The site search's matches for a feature's own search box: the ids of the
 * feature's documents that match the words, best first, for this person. So
 * that "contact" finds on /resources what it finds on /search (synonyms,
 * stemming, Welsh mutations). Wired in app.ts; without it a feature uses its
 * own text match.
 */
export type SearchMatches = (text: string, viewer?: CurrentUser) => Promise<string[]>;

/** The default for a feature built without the search (tests, the CLI). */
export const noSearchChanges: SearchChanged = () => {};

// ---------------------------------------------------------------------------
// Text: the same folding for what is indexed and what is asked.

/** Lower case, accents removed (â → a, ŵ → w, é → e). */
export function foldAccents(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}

/**
 * A Welsh word brought back to a common form, so that the mutated forms of a
 * word (soft, nasal, aspirate, and h- before a vowel) meet its radical:
 * gofal / ofal / ngofal → "cofal"; cymorth / gymorth / nghymorth / chymorth →
 * "cymorth"; plentyn / blentyn / mhlentyn / phlentyn → "plentyn";
 * tad / dad / nhad / thad → "tad"; mam / fam → "pam".
 * Several radicals fold together (bara / mara / para, glan / llan): search
 * may over-match a little in Welsh; it does not miss a mutated form.
 */
export function foldWelshWord(word: string): string {
  const w = foldAccents(word);
  if (w.length < 3) return w;
  // Multi-letter mutated and radical initials first.
  const rules: [RegExp, string][] = [
    [/^ngh/, 'c'],
    [/^mh/, 'p'],
    [/^nh/, 't'],
    [/^ng(?=[aeiouwy])/, 'c'],
    [/^ch/, 'c'],
    [/^ph/, 'p'],
    [/^th/, 't'],
    [/^dd/, 't'],
    [/^ll/, 'l'],
    [/^rh/, 'r'],
    [/^h(?=[aeiouwy])/, ''],
  ];
  for (const [re, to] of rules) {
    if (re.test(w)) return finish(w.replace(re, to));
  }
  return finish(w);

  function finish(s: string): string {
    const first = s[0];
    if (first === 'g') return `c${s.slice(1)}`;
    if (first === 'd') return `t${s.slice(1)}`;
    if (first === 'b' || first === 'f' || first === 'm') return `p${s.slice(1)}`;
    // A vowel, l, r or w may be a radical that lost its g (gofal → ofal, glan → lan, gwaith → waith).
    if (/^[aeiouwylr]/.test(s)) return `c${s}`;
    return s;
  }
}

/** Every word of a text folded the Welsh way, joined by spaces (for a `simple` tsvector). */
export function foldWelsh(text: string): string {
  return (foldAccents(text).match(/[\p{L}\p{N}]+/gu) ?? []).map(foldWelshWord).join(' ');
}
