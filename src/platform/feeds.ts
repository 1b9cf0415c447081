/**
 * Atom 1.0 (RFC 4287) feeds, generated with the `feed` package.
 *
 * `feed` builds the document, but a few of its values need preparing so
 * that any text comes out exactly as given and the XML stays well-formed:
 *  - entry titles and summaries are written as `type="html"` in CDATA, so
 *    our plain text is HTML-escaped first (which also keeps `]]>` out);
 *  - other text elements go through xml-js, which turns `&amp;` back into
 *    `&` before escaping, so `&` is pre-escaped to make that a no-op;
 *  - attribute values only get `&` and `"` escaped, so a category may not
 *    contain `<` (we refuse it rather than write broken XML);
 *  - characters XML 1.0 cannot carry (most C0 controls, lone surrogates,
 *    U+FFFE/U+FFFF) are dropped or replaced, and CR/CRLF become LF, as an
 *    XML parser would make them anyway;
 *  - `feed` ignores the language for Atom, so `xml:lang` is added to the
 *    root element here.
 */
import type * as FeedLib from 'feed';
import type { Item } from 'feed';
import { createKept } from './kept.ts';
import { lazy } from './lazy.ts';

/** `feed` (and xml-js under it), loaded with the first feed asked for, not at start-up. */
const feedLib = lazy<typeof FeedLib>('feed');

export interface FeedEntry {
  /** Absolute URL or `urn:` id; stable for the life of the entry. */
  id: string;
  title: string;
  /** Absolute http(s) URL of the entry's page. */
  url: string;
  /** Plain text. */
  summary: string;
  updated: Date;
  published?: Date;
  author?: string;
  categories?: string[];
}

export interface AtomFeedOptions {
  /** Absolute URL or `urn:` id of the feed. */
  id: string;
  title: string;
  subtitle?: string;
  /** The feed's own URL (`<link rel="self">`). */
  selfUrl: string;
  /** The page the feed belongs to (`<link rel="alternate">`). */
  siteUrl: string;
  updated: Date;
  language?: 'en' | 'cy';
  /** Written in the order given (normally newest first). */
  entries: FeedEntry[];
}

export const DEFAULT_AUTHOR = 'Supporting Parents';
const ATOM_ROOT = '<feed xmlns="http://www.w3.org/2005/Atom">';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// Not a Char in XML 1.0 (§2.2), once CR has become LF; lone surrogates are handled above.
// eslint-disable-next-line no-control-regex
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/** Text as an XML parser will hand it back: LF line ends, no characters XML cannot hold. */
export function cleanFeedText(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD').replace(/\r\n?/g, '\n').replace(NOT_XML_CHAR, '');
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** For the `type="html"` title and summary: HTML that displays as the plain text given. */
function asHtml(text: string): string {
  return cleanFeedText(text).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** For text elements written by xml-js, which un-escapes `&amp;` before escaping. */
function asXmlText(text: string): string {
  return cleanFeedText(text).replace(/&/g, '&amp;');
}

function parseUrl(value: string, what: string): URL {
  try {
    return new URL(value);
  } catch {
    throw new Error(`Feed ${what} must be an absolute URL: ${JSON.stringify(value)}`);
  }
}

function httpUrl(value: string, what: string): string {
  const url = parseUrl(value, what);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`Feed ${what} must be an http(s) URL: ${JSON.stringify(value)}`);
  }
  return url.href;
}

/** Atom ids are IRIs: we allow absolute http(s) URLs and `urn:` ids (RFC 8141). */
function atomId(value: string, what: string): string {
  if (/^urn:/i.test(value)) {
    if (!/^urn:[a-z0-9][a-z0-9-]{0,31}:[^\s<>"{}|\\^`]+$/i.test(value)) {
      throw new Error(`Feed ${what} is not a valid urn: id: ${JSON.stringify(value)}`);
    }
    return new URL(value).href; // as `feed` will write it (the scheme lower-cased)
  }
  try {
    return httpUrl(value, what);
  } catch {
    throw new Error(
      `Feed ${what} must be an absolute http(s) URL or a urn: id: ${JSON.stringify(value)}`,
    );
  }
}

function date(value: Date, what: string): Date {
  if (!Number.isFinite(value.getTime())) throw new Error(`Feed ${what} is not a valid date`);
  return value;
}

function category(value: string, entryId: string): string {
  // Attribute values: XML parsers turn line breaks and tabs into spaces anyway.
  const term = cleanFeedText(value).replace(/\s+/g, ' ').trim();
  if (term.includes('<')) {
    throw new Error(`Feed entry ${entryId} category cannot contain "<": ${JSON.stringify(value)}`);
  }
  return term;
}

/**
 * Feeds already written, by everything they were written from: a feed is asked
 * for far more often than its entries change, and writing the XML (the `feed`
 * library, through xml-js) was ~40% of a feed request's time. The key is the
 * whole of the options, so a kept feed is never stale: a changed entry, title
 * or date is a new key. The most recently used are kept, 4 MB of them (kept.ts).
 */
const written = createKept<string>(4 * 1024 * 1024);

/** An Atom 1.0 document (UTF-8 XML) for the given entries. */
export function atomFeed(opts: AtomFeedOptions): string {
  const key = JSON.stringify(opts);
  const kept = written.get(key);
  if (kept !== undefined) return kept;
  const xml = writeAtomFeed(opts);
  written.set(key, xml);
  return xml;
}

function writeAtomFeed(opts: AtomFeedOptions): string {
  const feedId = atomId(opts.id, 'id');
  const feed = new (feedLib().Feed)({
    id: asXmlText(feedId),
    title: asXmlText(opts.title),
    ...(opts.subtitle ? { description: asXmlText(opts.subtitle) } : {}),
    link: httpUrl(opts.siteUrl, 'siteUrl'),
    feedLinks: { atom: httpUrl(opts.selfUrl, 'selfUrl') },
    updated: date(opts.updated, 'updated'),
    author: { name: asXmlText(DEFAULT_AUTHOR) },
    generator: false,
  });
  for (const entry of opts.entries) {
    // `feed` writes the entry id through `new URL(id)`, so pass it normalised.
    const id = atomId(entry.id, 'entry id');
    const categories = (entry.categories ?? []).map((c) => category(c, id)).filter(Boolean);
    const item: Item = {
      id,
      title: asHtml(entry.title),
      link: httpUrl(entry.url, `entry ${id} url`),
      description: asHtml(entry.summary),
      date: date(entry.updated, `entry ${id} updated`),
      ...(entry.published ? { published: date(entry.published, `entry ${id} published`) } : {}),
      ...(entry.author ? { author: [{ name: asXmlText(entry.author) }] } : {}),
      ...(categories.length ? { category: categories.map((term) => ({ term })) } : {}),
    };
    feed.addItem(item);
  }
  const xml = feed.atom1();
  if (!opts.language) return xml;
  if (!xml.includes(ATOM_ROOT)) {
    throw new Error(
      'Could not set the feed language: unexpected <feed> element from the feed library',
    );
  }
  return xml.replace(
    ATOM_ROOT,
    `<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="${opts.language}">`,
  );
}
