import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';

describe('articles (smoke)', () => {
  let t: TestApp;
  before(async () => {
    t = await testApp({ seed: true });
  });
  after(async () => t.close());
  test('pages render', async () => {
    for (const url of ['/news', '/stories', '/news/practice-week-demo', '/stories/pre-birth-work-in-county-durham-demo', '/series/seeding-change', '/news/feed.atom', '/news/national-overview-of-services-launched-demo?lang=cy']) {
      const res = await t.app.inject({ url });
      if (res.statusCode !== 200) console.log(url, res.statusCode, t.logs.filter((l) => /"level":50/.test(l)).join("\n").slice(0, 3000));
      assert.equal(res.statusCode, 200, url);
    }
  });
});
