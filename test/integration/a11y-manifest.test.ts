import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pages } from '../a11y/manifest.ts';
import { testApp } from '../helpers/app.ts';

test('every HTML page route is in the accessibility manifest, and every entry is a real route', async () => {
  const t = await testApp();
  try {
    const routes = t.app.platform.routes.routes
      .filter((r) => r.method === 'GET' && r.page)
      .map((r) => r.url);
    assert.ok(routes.includes('/'), 'the route table is read');
    const missing = routes.filter((r) => !(r in pages));
    assert.deepEqual(
      missing,
      [],
      `add these routes to test/a11y/manifest.ts: ${missing.join(', ')}`,
    );
    const stale = Object.keys(pages).filter((p) => !routes.includes(p));
    assert.deepEqual(stale, [], 'manifest entries without a route');
  } finally {
    await t.close();
  }
});

test('every route declares who may use it', async () => {
  const t = await testApp();
  try {
    const table = t.app.platform.routes.routes;
    assert.ok(table.length > 5);
    for (const r of table) assert.ok(r.access, `${r.method} ${r.url}`);
  } finally {
    await t.close();
  }
});
