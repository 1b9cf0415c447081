import type { IndexedDocument } from './repository.ts';

/**
 * A plain public document of the index for tests, as a source would give it
 * (`<source>:<i>`, a resource, no dates or places): tests override what they look at.
 */
export function indexedDocument(
  source: string,
  i: number,
  over: Partial<IndexedDocument> = {},
): IndexedDocument {
  return {
    key: `${source}:${i}`,
    source,
    sourceId: String(i),
    kind: 'resource',
    typeLabel: null,
    typeLabelCy: null,
    url: `/${source}/${i}`,
    language: 'en',
    title: `Item ${i}`,
    titleCy: null,
    summary: null,
    summaryCy: null,
    body: '',
    bodyCy: null,
    authorities: [],
    regions: [],
    date: null,
    access: 'public',
    english: { a: `Item ${i}`, b: '', c: '' },
    welsh: { a: '', b: '', c: '' },
    ...over,
  };
}
