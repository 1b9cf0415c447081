import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFeed } from '@rowanmanning/feed-parser';
import fc from 'fast-check';
import { strictParse, type XmlNode } from '../../test/helpers/atom.ts';
import { atomFeed, cleanFeedText, DEFAULT_AUTHOR, type AtomFeedOptions } from './feeds.ts';

function textOf(node: unknown): string {
  if (typeof node === 'string') return node;
  if (node && typeof node === 'object' && '#text' in node) return String(node['#text']);
  return '';
}

const base: AtomFeedOptions = {
  id: 'https://supporting-parents.example/feeds/news.atom',
  title: 'Supporting Parents: news',
  subtitle: 'News and updates',
  selfUrl: 'https://supporting-parents.example/feeds/news.atom',
  siteUrl: 'https://supporting-parents.example/news',
  updated: new Date(Date.UTC(2026, 2, 25, 12, 0)),
  entries: [],
};

test('feed and entries: titles, links, ids, dates and order come back from a real feed parser', () => {
  const entries = [
    {
      id: 'https://supporting-parents.example/news/3',
      title: 'Third',
      url: 'https://supporting-parents.example/news/3',
      summary: 'Newest',
      updated: new Date(Date.UTC(2026, 2, 24, 9, 30)),
      published: new Date(Date.UTC(2026, 2, 20, 8, 0)),
      author: 'Sam Jones',
      categories: ['Wellbeing', 'SEND & ALN'],
    },
    {
      id: 'urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427',
      title: 'First',
      url: 'https://supporting-parents.example/news/1?utm_source=feed&lang=cy',
      summary: 'Oldest',
      updated: new Date(Date.UTC(2026, 0, 5, 10, 0)),
    },
    {
      id: 'https://supporting-parents.example/news/2',
      title: 'Second',
      url: 'https://supporting-parents.example/news/2',
      summary: 'Middle',
      updated: new Date(Date.UTC(2026, 1, 1, 0, 0)),
    },
  ];
  const xml = atomFeed({ ...base, language: 'cy', entries });
  assert.ok(xml.startsWith('<?xml version="1.0" encoding="utf-8"?>'));
  const { feed: raw, entries: rawEntries } = strictParse(xml);
  assert.equal(raw['@xml:lang'], 'cy');
  assert.equal(raw.id, base.id);
  assert.equal(textOf((raw.author as XmlNode[])[0]!.name), DEFAULT_AUTHOR);
  assert.deepEqual(
    rawEntries.map((e) => e.id),
    entries.map((e) => e.id),
  );

  const feed = parseFeed(xml);
  assert.equal(feed.meta.type, 'atom');
  assert.equal(feed.title, base.title);
  assert.equal(feed.description, base.subtitle);
  assert.equal(feed.language, 'cy');
  assert.equal(feed.url, base.siteUrl);
  assert.equal(feed.self, base.selfUrl);
  assert.equal(feed.updated?.getTime(), base.updated.getTime());
  assert.deepEqual(
    feed.authors.map((a) => a.name),
    [DEFAULT_AUTHOR],
  );
  assert.deepEqual(
    feed.items.map((i) => [i.id, i.title, i.url, i.description, i.updated?.getTime()]),
    entries.map((e) => [e.id, e.title, e.url, e.summary, e.updated.getTime()]),
  );
  const [newest] = feed.items;
  assert.equal(newest!.published?.getTime(), entries[0]!.published!.getTime());
  assert.deepEqual(
    newest!.authors.map((a) => a.name),
    ['Sam Jones'],
  );
  assert.deepEqual(
    newest!.categories.map((c) => c.term),
    ['Wellbeing', 'SEND & ALN'],
  );
  assert.equal(feed.items[1]!.published, null);
});

test('<, & and quotes are escaped, in text, HTML-typed text and attributes', () => {
  const tricky = `Tom & Jerry's "big" <script>alert('x')</script> ]]> &amp; &lt;`;
  const xml = atomFeed({
    ...base,
    title: tricky,
    subtitle: tricky,
    selfUrl: 'https://supporting-parents.example/feeds/news.atom?a=1&b="2"',
    entries: [
      {
        id: 'https://supporting-parents.example/news/1?x=1&y=2',
        title: tricky,
        url: 'https://supporting-parents.example/news/1?a=1&b=2',
        summary: `${tricky}\nsecond line`,
        updated: base.updated,
        author: tricky,
        categories: [`Q&A "and" > more`],
      },
    ],
  });
  assert.doesNotMatch(xml, /<script/);
  const { feed: raw, entries } = strictParse(xml);
  // type="text" elements: the exact string, as a strict XML parser sees it.
  assert.equal(textOf(raw.title), tricky);
  assert.equal(textOf(raw.subtitle), tricky);
  assert.equal(raw.id, base.id);
  const entry = entries[0]!;
  assert.equal(entry.id, 'https://supporting-parents.example/news/1?x=1&y=2');
  assert.equal(textOf((entry.author as XmlNode[])[0]!.name), tricky);
  assert.equal((entry.category as XmlNode[])[0]!['@term'], 'Q&A "and" > more');
  assert.equal(
    (entry.link as XmlNode[])[0]!['@href'],
    'https://supporting-parents.example/news/1?a=1&b=2',
  );
  assert.equal((entry.title as XmlNode)['@type'], 'html');

  // type="html" title and summary: HTML that a feed reader shows as our plain text.
  const feed = parseFeed(xml);
  const item = feed.items[0]!;
  assert.equal(item.title, tricky);
  assert.equal(item.description, `${tricky}\nsecond line`);
  assert.equal(item.url, 'https://supporting-parents.example/news/1?a=1&b=2');
  assert.equal(feed.self, 'https://supporting-parents.example/feeds/news.atom?a=1&b=%222%22');
});

test('characters XML cannot hold are dropped, and the feed stays well-formed', () => {
  const xml = atomFeed({
    ...base,
    title: 'Bell\u0007 null\u0000 CR\r\nLF \uFFFF lone \uD800 surrogate',
    entries: [
      {
        id: 'urn:sp:news:1',
        title: 'Form\u000Cfeed',
        url: 'https://supporting-parents.example/news/1',
        summary: 'tab\tkept, vertical\u000Btab dropped',
        updated: base.updated,
      },
    ],
  });
  const { feed: raw } = strictParse(xml);
  assert.equal(textOf(raw.title), 'Bell null CR\nLF  lone \uFFFD surrogate');
  const item = parseFeed(xml).items[0]!;
  assert.equal(item.title, 'Formfeed');
  assert.equal(item.description, 'tab\tkept, verticaltab dropped');
});

test('an empty feed is valid and has the self link and default author', () => {
  const xml = atomFeed(base);
  const { feed, entries } = strictParse(xml);
  assert.equal(entries.length, 0);
  assert.equal(feed['@xml:lang'], undefined);
  assert.ok((feed.link as XmlNode[]).some((l) => l['@rel'] === 'alternate'));
  assert.equal(parseFeed(xml).items.length, 0);
});

test('ids and URLs must be absolute; bad values are refused with a clear error', () => {
  const entry = {
    id: 'https://supporting-parents.example/news/1',
    title: 'T',
    url: 'https://supporting-parents.example/news/1',
    summary: 'S',
    updated: base.updated,
  };
  assert.throws(
    () => atomFeed({ ...base, id: '/feeds/news' }),
    /id must be an absolute http\(s\) URL or a urn: id/,
  );
  assert.throws(() => atomFeed({ ...base, id: 'urn:bad' }), /not a valid urn: id/);
  assert.throws(
    () => atomFeed({ ...base, selfUrl: 'news.atom' }),
    /selfUrl must be an absolute URL/,
  );
  assert.throws(
    () => atomFeed({ ...base, siteUrl: 'ftp://x.example/' }),
    /siteUrl must be an http\(s\) URL/,
  );
  assert.throws(
    () => atomFeed({ ...base, entries: [{ ...entry, id: 'news-1' }] }),
    /entry id must be/,
  );
  assert.throws(
    () => atomFeed({ ...base, entries: [{ ...entry, url: 'javascript:alert(1)' }] }),
    /url must be an http\(s\) URL/,
  );
  assert.throws(() => atomFeed({ ...base, updated: new Date(NaN) }), /updated is not a valid date/);
  assert.throws(
    () => atomFeed({ ...base, entries: [{ ...entry, categories: ['a<b'] }] }),
    /category cannot contain "<"/,
  );
});

const textUnit = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('<', '>', '&', '"', "'", ']]>', '&amp;', '&lt;', '\n', ' '),
  },
);

test('property: any titles and summaries come back exactly (as text) through both parsers', () => {
  fc.assert(
    fc.property(
      fc.string({ unit: textUnit, maxLength: 80, size: 'max' }),
      fc.string({ unit: textUnit, maxLength: 300, size: 'max' }),
      (title, summary) => {
        const xml = atomFeed({
          ...base,
          title,
          entries: [
            {
              id: 'urn:sp:news:1',
              title,
              url: 'https://supporting-parents.example/news/1',
              summary,
              updated: base.updated,
              author: title || 'x',
            },
          ],
        });
        const { feed: raw, entries } = strictParse(xml);
        assert.equal(textOf(raw.title), title);
        assert.equal(textOf((entries[0]!.author as XmlNode[])[0]!.name), title || 'x');
        // The feed parser trims, and decodes the type="html" text once.
        const item = parseFeed(xml).items[0]!;
        assert.equal(item.title ?? '', title.trim());
        assert.equal(item.description ?? '', summary.trim());
      },
    ),
    { numRuns: 200 },
  );
});

test('property: any code points give well-formed XML holding the cleaned text', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 100, size: 'max' }), (text) => {
      const xml = atomFeed({
        ...base,
        title: text,
        subtitle: text,
        entries: [
          {
            id: 'urn:sp:news:1',
            title: text,
            url: 'https://supporting-parents.example/news/1',
            summary: text,
            updated: base.updated,
          },
        ],
      });
      const { feed: raw, entries } = strictParse(xml);
      const expected = cleanFeedText(text);
      assert.equal(textOf(raw.title), expected);
      assert.ok('title' in entries[0]!);
      assert.equal(parseFeed(xml).items[0]!.title ?? '', expected.trim());
    }),
    { numRuns: 200 },
  );
});

test('a feed written before is given again only for the very same entries: a change is never stale', () => {
  const entry = {
    id: 'https://supporting-parents.example/news/kept',
    title: 'Kept once',
    url: 'https://supporting-parents.example/news/kept',
    summary: 'First words',
    updated: new Date(Date.UTC(2026, 5, 1, 9, 0)),
  };
  const first = atomFeed({ ...base, entries: [entry] });
  assert.equal(
    atomFeed({ ...base, entries: [{ ...entry }] }),
    first,
    'the same entries: the same feed',
  );
  const changes: Partial<typeof entry>[] = [
    { title: 'Kept twice' },
    { summary: 'Other words' },
    { updated: new Date(Date.UTC(2026, 5, 1, 9, 0, 0, 1)) },
  ];
  for (const change of changes) {
    const changed = atomFeed({ ...base, entries: [{ ...entry, ...change }] });
    assert.notEqual(changed, first, JSON.stringify(change));
    const parsed = parseFeed(changed);
    const item = parsed.items[0]!;
    if (change.title) assert.equal(item.title, change.title);
    if (change.summary) assert.equal(item.description, change.summary);
    if (change.updated) assert.equal(item.updated?.getTime(), change.updated.getTime());
  }
  assert.notEqual(atomFeed({ ...base, language: 'cy', entries: [entry] }), first, 'its language');
  // What cannot be written still fails each time.
  const bad = { ...entry, updated: new Date(Number.NaN) };
  assert.throws(() => atomFeed({ ...base, entries: [bad] }), /not a valid date/);
  assert.throws(() => atomFeed({ ...base, entries: [bad] }), /not a valid date/);
});
