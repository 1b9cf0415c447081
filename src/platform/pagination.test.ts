import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pageLinks } from './pagination.ts';

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
