import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { SRC_DIR } from '../../root.ts';
import { safeUrl } from '../logging.ts';
import { createI18n, discoverLocaleDirs, loadLocaleDirs } from './index.ts';
import { languageHref } from './plugin.ts';

const i18n = createI18n(loadLocaleDirs(discoverLocaleDirs(SRC_DIR)));

test('every string exists in both English and Welsh', () => {
  const en = i18n.keys('en');
  const cy = i18n.keys('cy');
  assert.ok(en.length > 50);
  assert.deepEqual(
    en.filter((k) => !cy.includes(k)),
    [],
    'missing in Welsh',
  );
  assert.deepEqual(
    cy.filter((k) => !en.includes(k)),
    [],
    'missing in English',
  );
});

test('interpolation and Welsh plural forms', () => {
  const m = createI18n({
    en: { x: { hi: 'Hello {name}', n: { one: '{count} place', other: '{count} places' } } },
    cy: {
      x: {
        hi: 'Helo {name}',
        n: {
          zero: 'dim lle',
          one: '{count} lle',
          two: '{count} le',
          few: '{count} lle',
          many: '{count} lle',
          other: '{count} lle',
        },
      },
    },
  });
  const en = m.translator('en');
  const cy = m.translator('cy');
  assert.equal(en('x.hi', { name: 'Sam' }), 'Hello Sam');
  assert.equal(en('x.n', { count: 1 }), '1 place');
  assert.equal(en('x.n', { count: 12 }), '12 places');
  assert.equal(cy('x.n', { count: 0 }), 'dim lle');
  assert.equal(cy('x.n', { count: 2 }), '2 le');
  assert.equal(cy('x.missing'), 'x.missing', 'an unknown key shows itself, never blank');
  assert.equal(join('a', 'b'), 'a/b');
});

test('the language link keeps every other query parameter (property)', () => {
  fc.assert(
    fc.property(
      fc.dictionary(
        fc.string({ minLength: 1 }).filter((k) => k !== 'lang'),
        fc.string(),
      ),
      fc.constantFrom('en', 'cy'),
      (params, lang) => {
        const qs = new URLSearchParams(params).toString();
        const href = languageHref(`/resources${qs ? `?${qs}` : ''}`, lang as 'en' | 'cy');
        const out = new URL(href, 'http://x');
        assert.equal(out.pathname, '/resources');
        assert.equal(out.searchParams.get('lang'), lang);
        for (const [k, v] of Object.entries(params)) assert.equal(out.searchParams.get(k), v);
      },
    ),
  );
});

test('logged URLs never keep the query string (property)', () => {
  fc.assert(
    fc.property(fc.webPath(), fc.webQueryParameters(), (path, query) => {
      const logged = safeUrl(`${path || '/'}?${query}`);
      assert.ok(!logged.includes('?'));
    }),
  );
});
