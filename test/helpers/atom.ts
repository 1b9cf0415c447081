import assert from 'node:assert/strict';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export type XmlNode = Record<string, unknown>;

/**
 * Strict XML checks (the feed parser is lenient, so it would not notice
 * broken XML): well-formed, then the elements RFC 4287 requires.
 */
export function strictParse(xml: string): { feed: XmlNode; entries: XmlNode[] } {
  // fast-xml-parser's validator does not check XML 1.0 Char (§2.2), so do that here.
  assert.doesNotMatch(xml, NOT_XML_CHAR, 'only characters XML 1.0 allows');
  const valid = XMLValidator.validate(xml);
  assert.equal(valid, true, `not well-formed XML: ${JSON.stringify(valid)}`);
  const doc = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    parseTagValue: false,
    trimValues: false,
    isArray: (name) => ['entry', 'link', 'author', 'category'].includes(name),
  }).parse(xml) as { feed?: XmlNode };
  const feed = doc.feed;
  assert.ok(feed, 'root element is <feed>');
  assert.equal(feed['@xmlns'], 'http://www.w3.org/2005/Atom');
  for (const name of ['id', 'title', 'updated']) assert.ok(name in feed, `feed has <${name}>`);
  assert.match(String(feed.updated), RFC3339);
  const links = feed.link as XmlNode[];
  assert.equal(links.filter((l) => l['@rel'] === 'self').length, 1, 'one <link rel="self">');
  const entries = (feed.entry as XmlNode[] | undefined) ?? [];
  for (const entry of entries) {
    for (const name of ['id', 'title', 'updated']) assert.ok(name in entry, `entry has <${name}>`);
    assert.match(String(entry.updated), RFC3339);
    // Atom needs an author on the feed or on every entry.
    assert.ok(feed.author || entry.author, 'an author applies to the entry');
  }
  return { feed, entries };
}

const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;
