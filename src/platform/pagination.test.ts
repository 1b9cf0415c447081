import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SRC_DIR } from '../root.ts';
import { createI18n, discoverLocaleDirs, loadLocaleDirs } from './i18n/index.ts';
import { labelPages, pageLinks } from './pagination.ts';

test('page links keep the query, drop page=1 and elide distant pages', () => {
  const q = new URLSearchParams([
    ['q', 'pause'],
    ['offer', 'contact'],
    ['offer', 'advocacy'],
    ['page', '7'],
  ]);
  const links = pageLinks('/services', q, 7, 20);
  assert.equal(links.previous?.href, '/services?q=pause&offer=contact&offer=advocacy&page=6');
  assert.equal(links.next?.href, '/services?q=pause&offer=contact&offer=advocacy&page=8');
  const shown = links.items.map((i) => ('ellipsis' in i ? '…' : i.number));
  assert.deepEqual(shown, [1, '…', 5, 6, 7, 8, 9, '…', 20]);
  assert.equal(links.items.filter((i) => 'current' in i && i.current).length, 1);
  const first = pageLinks('/services', new URLSearchParams('q=a'), 2, 2);
  assert.equal(first.previous?.href, '/services?q=a', 'page 1 has no page parameter');
  assert.equal(first.next, undefined);
});

test('a list that is part of its page: its own page parameter, and links that land on it', () => {
  const links = pageLinks('/news/a', new URLSearchParams('order=newest&page=4&cpage=3'), 3, 5, {
    param: 'cpage',
    fragment: 'comments',
  });
  assert.equal(links.previous?.href, '/news/a?order=newest&page=4&cpage=2#comments');
  assert.equal(links.next?.href, '/news/a?order=newest&page=4&cpage=4#comments');
  const first = links.items[0];
  assert.ok(first && 'href' in first);
  assert.equal(first.href, '/news/a?order=newest&page=4#comments', 'page 1 has no cpage');
  const bare = pageLinks('/plans/p', new URLSearchParams(), 2, 2, { fragment: 'actions' });
  assert.equal(bare.previous?.href, '/plans/p#actions');
});

test('the pagination words are in the page’s language: previous, next and each page number', () => {
  const i18n = createI18n(loadLocaleDirs(discoverLocaleDirs(SRC_DIR)));
  const links = pageLinks('/search', new URLSearchParams('q=gofal'), 2, 3);
  const cy = labelPages(links, i18n.translator('cy'))!;
  assert.equal(cy.previous?.html, 'Blaenorol<span class="govuk-visually-hidden"> tudalen</span>');
  assert.equal(cy.next?.html, 'Nesaf<span class="govuk-visually-hidden"> tudalen</span>');
  assert.equal(cy.previous?.href, '/search?q=gofal');
  assert.deepEqual(
    cy.items!.map((i) => ('ellipsis' in i ? '…' : i.visuallyHiddenText)),
    ['Tudalen 1', 'Tudalen 2', 'Tudalen 3'],
  );
  const en = labelPages(links, i18n.translator('en'))!;
  assert.equal(en.next?.html, 'Next<span class="govuk-visually-hidden"> page</span>');
  // No previous link on the first page, none after the last.
  const first = labelPages(
    pageLinks('/search', new URLSearchParams(), 1, 1),
    i18n.translator('cy'),
  )!;
  assert.equal(first.previous, undefined);
  assert.equal(first.next, undefined);
  assert.equal(labelPages(undefined, i18n.translator('cy')), undefined);
});
