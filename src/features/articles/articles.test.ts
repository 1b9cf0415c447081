import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DomUtils, parseDocument } from 'htmlparser2';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import { strictParse } from '../../../test/helpers/atom.ts';
import { post } from '../../../test/helpers/newsletter.ts';
import { sentMail } from '../../../test/helpers/mail.ts';
import { signIn, submit } from '../../../test/helpers/session.ts';
import { enableTwoFactor } from '../../../test/helpers/totp.ts';
import { DEMO_PASSWORD } from '../accounts/seed.ts';
import {
  bodyImageProblems,
  linkCount,
  matchesWordList,
  renderBody,
  safeguardingConcern,
} from './service.ts';

const PAYLOADS = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '[click](javascript:alert(1))',
  '<svg onload=alert(1)><script>alert(2)</script></svg>',
  '<a href="jav&#x09;ascript:alert(1)">x</a>',
  '<iframe src="https://example.org"></iframe>',
  '<details open ontoggle=alert(1)>',
  '[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '<math><a xlink:href="javascript:alert(1)">x</a></math>',
];

/** Parsed as a browser would: no active element, no handler, no script link. */
function assertInert(html: string) {
  const dom = parseDocument(html);
  for (const el of DomUtils.findAll(() => true, dom.children)) {
    assert.ok(
      !['script', 'iframe', 'svg', 'math', 'object', 'embed', 'style'].includes(el.name),
      `no <${el.name}>`,
    );
    for (const [name, value] of Object.entries(el.attribs)) {
      assert.ok(!/^on/i.test(name), `no ${name} handler`);
      if (['href', 'src', 'action'].includes(name))
        assert.ok(
          /^(https?:|mailto:|\/|#|\?)/i.test([...value].filter((c) => c > ' ').join('')),
          `a safe ${name}: ${value}`,
        );
    }
  }
}

describe('rules without a database', () => {
  test('the safeguarding hold: a date of birth, a school or a case number', () => {
    assert.ok(safeguardingConcern('Her daughter Amy, born 3/4/2019, goes to Oak Hill Primary'));
    assert.ok(safeguardingConcern('DOB 12 March 2018'));
    assert.ok(safeguardingConcern('The case number is LV21C00123'));
    assert.ok(safeguardingConcern('my son is at St Mary’s Primary School since 4/9/2023'));
    assert.ok(!safeguardingConcern('A thoughtful piece about pre-birth work. Thank you.'));
    assert.ok(!safeguardingConcern('The launch is on 3 March 2027 in Cardiff.'));
  });
  test('links and the word list', () => {
    assert.equal(linkCount('see https://a.example.org and www.example.org and example.com'), 3);
    assert.ok(matchesWordList('Cheap COURSES here', ['cheap courses']));
    assert.ok(!matchesWordList('cheapest', ['cheap']));
  });
  test('images need alt text; a lone image becomes a figure with its caption', () => {
    assert.deepEqual(
      bodyImageProblems('![](/a.png)').map((p) => p.key),
      ['articles.errors.imageAlt'],
    );
    assert.deepEqual(
      bodyImageProblems('![a](javascript:alert(1))').map((p) => p.key),
      ['articles.errors.imageSrc'],
    );
    const html = renderBody('Text\n\n![A map "quoted"](/articles/images/visits.svg "A <caption>")');
    assert.match(html, /<figure class="sp-figure"><img src="\/articles\/images\/visits.svg"/);
    assert.match(html, /alt="A map &quot;quoted&quot;"/);
    assert.match(html, /<figcaption class="govuk-body-s">A &lt;caption&gt;<\/figcaption>/);
    assertInert(renderBody([...PAYLOADS, '![x](/a"onerror=alert(1).png)'].join('\n\n')));
  });
});

describe('articles', () => {
  let t: TestApp;
  const jar: Record<string, string> = {};
  let signIns = 0;
  let fresh = 0;
  /** A page as `who` sees it; a visitor's address is made unique, so the page cache (10 s) never answers. */
  const get = (url: string, who?: string) =>
    t.app.inject({
      url: who ? url : `${url}${url.includes('?') ? '&' : '?'}fresh=${++fresh}`,
      headers: who ? { cookie: jar[who]! } : {},
    });
  /** Mail sent since there were `n` (the outbox lists newest first). */
  const mailSince = async (n: number) => {
    const all = await sentMail(t.app);
    return all.slice(0, all.length - n);
  };
  const idOf = async (slug: string) =>
    (await t.database.query<{ id: string }>('SELECT id FROM articles WHERE slug = $1', [slug]))[0]!
      .id;

  before(async () => {
    t = await testApp({ seed: true });
    const addr = () => `10.9.${++signIns}.1`;
    jar.member = await signIn(t.app, 'member@example.org', DEMO_PASSWORD, undefined, addr());
    jar.parent = await signIn(t.app, 'parent@example.org', DEMO_PASSWORD, undefined, addr());
    for (const who of ['editor', 'moderator'] as const) {
      const secret = await enableTwoFactor(t.app, `${who}@example.org`);
      jar[who] = await signIn(t.app, `${who}@example.org`, DEMO_PASSWORD, secret, addr());
    }
  });
  after(async () => t.close());

  test('a list under every filter and pair of filters holds what plain SQL finds, in order', async () => {
    // The lists are prepared once per set of filters in use (repository.ts): each set is
    // checked against a query written here, on the demo content, with its counts and pages.
    const [any] = await t.database.query<{
      topic: string;
      region: string;
      series: string;
      authority: string;
      service: string;
      statement: string;
    }>(
      `SELECT (SELECT topics[1] FROM articles WHERE cardinality(topics) > 0 AND status = 'published' LIMIT 1) AS topic,
              (SELECT regions[1] FROM articles WHERE cardinality(regions) > 0 AND status = 'published' LIMIT 1) AS region,
              (SELECT series_id FROM articles WHERE series_id IS NOT NULL AND status = 'published' LIMIT 1) AS series,
              (SELECT authorities[1] FROM articles WHERE cardinality(authorities) > 0 AND status = 'published' LIMIT 1) AS authority,
              (SELECT services[1] FROM articles WHERE cardinality(services) > 0 AND status = 'published' LIMIT 1) AS service,
              (SELECT statements[1] FROM articles WHERE cardinality(statements) > 0 AND status = 'published' LIMIT 1) AS statement`,
    );
    assert.ok(any && Object.values(any).every(Boolean), 'the demo content uses every filter');
    const one = {
      kind: { f: { kind: 'story' as const }, sql: `kind = 'story'` },
      topics: {
        f: { topics: [any.topic, 'no-such-topic'] },
        sql: `topics && ARRAY['${any.topic}']`,
      },
      regions: { f: { regions: [any.region] }, sql: `regions && ARRAY['${any.region}']` },
      seriesId: { f: { seriesId: any.series }, sql: `series_id = '${any.series}'` },
      authority: { f: { authority: any.authority }, sql: `'${any.authority}' = ANY(authorities)` },
      service: { f: { service: any.service }, sql: `'${any.service}' = ANY(services)` },
      statement: { f: { statement: any.statement }, sql: `'${any.statement}' = ANY(statements)` },
    };
    const keys = Object.keys(one) as (keyof typeof one)[];
    const sets = [
      [],
      ...keys.map((k) => [k]),
      ...keys.flatMap((a, i) => keys.slice(i + 1).map((b) => [a, b])),
    ];
    let nonEmpty = 0;
    for (const set of sets) {
      const f = Object.assign({}, ...set.map((k) => one[k].f));
      const where = set.map((k) => one[k].sql).join(' AND ') || 'true';
      const expected = await t.database.query<{ slug: string }>(
        `SELECT slug FROM articles WHERE status IN ('published', 'scheduled') AND publish_at <= now()
           AND ${where} ORDER BY publish_at DESC, id DESC`,
      );
      const first = await t.app.services.articles.list(f, 1, 2);
      const second = await t.app.services.articles.list(f, 2, 2);
      assert.equal(first.total, expected.length, `count with ${set.join(' and ') || 'no filter'}`);
      assert.equal(second.total, expected.length);
      assert.deepEqual(
        [...first.rows, ...second.rows].map((r) => r.slug),
        expected.slice(0, 4).map((r) => r.slug),
        `the first two pages with ${set.join(' and ') || 'no filter'}`,
      );
      if (expected.length) nonEmpty++;
    }
    assert.ok(
      nonEmpty >= keys.length + 1,
      `most sets find something (${nonEmpty} of ${sets.length})`,
    );
  });

  test("a list's total is kept for seconds, and forgotten at once when an article changes", async () => {
    const articles = t.app.services.articles;
    const at = Date.now();
    const total = async () => (await articles.list({ kind: 'news' }, 1, 5)).total;
    const live = async () =>
      Number(
        (
          await t.database.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM articles WHERE kind = 'news'
               AND status IN ('published', 'scheduled') AND publish_at <= now()`,
          )
        )[0]!.n,
      );
    try {
      articles.setClock(() => new Date(at));
      const before = await total();
      assert.equal(before, await live());
      // Written behind the repository's back (as another instance would): the kept total stands
      // for its few seconds, then the next list counts again. The page itself is never kept.
      const [row] = await t.database.query<{ id: string }>(
        `INSERT INTO articles (kind, slug, title, standfirst, body, body_html, status, publish_at, is_demo)
         VALUES ('news', 'count-kept-demo', 'Counted later (demo)', 'x', 'x', '<p>x</p>', 'published',
           now() - interval '1 hour', true) RETURNING id`,
      );
      assert.equal(await total(), before, 'kept for a few seconds');
      assert.ok(
        (await articles.list({ kind: 'news' }, 1, 50)).rows.some(
          (r) => r.slug === 'count-kept-demo',
        ),
        'the page is read afresh',
      );
      articles.setClock(() => new Date(at + 11_000));
      assert.equal(await total(), before + 1, 'counted again after its time');
      // A change through the service (an editor archives it) is counted at once.
      const { res } = await submit(
        t.app,
        `/admin/articles/${row!.id}`,
        `/admin/articles/${row!.id}/status`,
        { action: 'archive' },
        jar.editor,
      );
      assert.equal(res.statusCode, 303);
      assert.equal(await total(), before, 'archived: counted at once');
    } finally {
      articles.setClock();
      await t.database.query(`DELETE FROM articles WHERE slug = 'count-kept-demo'`);
    }
  });

  test('lists, filters, series and pages in English and Welsh', async () => {
    const news = await get('/news');
    assert.equal(news.statusCode, 200);
    // The topic and region checkboxes fold under "More filters" (a phone sees the list
    // first), open when one of them is chosen.
    assert.match(
      news.body,
      /<details class="govuk-details sp-more-filters">[\s\S]*name="topic"[\s\S]*name="region"[\s\S]*<\/details>/,
    );
    assert.match(
      (await get('/news?region=Wales')).body,
      /<details class="govuk-details sp-more-filters" open>/,
    );
    assert.match(news.body, /A live national overview of services for parents \(demo\)/);
    assert.doesNotMatch(
      news.body,
      /Coming soon: a webinar/,
      'a scheduled item is not listed early',
    );
    const stories = await get('/stories?region=Wales');
    assert.match(stories.body, /Newport/);
    assert.doesNotMatch(stories.body, /County Durham/);
    assert.doesNotMatch(stories.body, /Peer mentors in Cardiff/, 'a proposal is not public');
    const topic = await get('/stories?topic=family-court');
    assert.match(topic.body, /Manchester/);
    assert.doesNotMatch(topic.body, /Coventry \(demo\)/);
    const series = await get('/series/seeding-change');
    assert.match(series.body, /Practice week/);
    assert.match(series.body, /Bringing children home/);
    const cy = await get('/stories?lang=cy');
    assert.match(cy.body, /<html lang="cy"/);
    assert.match(cy.body, /Straeon ymarfer/);
    assert.equal((await get('/news/no-such-article')).statusCode, 404);
    assert.equal((await get('/stories/peer-mentors-in-cardiff-demo')).statusCode, 404);
    assert.equal((await get('/series/nope')).statusCode, 404);
  });

  test('an article page: JSON-LD, Open Graph, hreflang, share links, no third-party script', async () => {
    for (const [path, type] of [
      ['/news/practice-week-demo', 'NewsArticle'],
      ['/stories/bringing-children-home-in-coventry-demo', 'Article'],
    ] as const) {
      const res = await get(path);
      assert.equal(res.statusCode, 200);
      const ld = /<script type="application\/ld\+json"[^>]*>(.*?)<\/script>/s.exec(res.body);
      assert.ok(ld, 'JSON-LD is there');
      const data = JSON.parse(ld[1]!) as Record<string, unknown>;
      assert.equal(data['@type'], type);
      assert.equal(data.url, `${t.config.baseUrl}${path}`);
      assert.ok(data.headline && data.datePublished && data.author && data.publisher);
      for (const prop of ['og:title', 'og:description', 'og:url', 'og:type'])
        assert.match(res.body, new RegExp(`<meta property="${prop}" content="[^"]+">`));
      assert.match(res.body, /<meta name="twitter:card" content="summary/);
      assert.match(res.body, /<link rel="alternate" hreflang="cy" href="[^"]+\?lang=cy">/);
      assert.match(res.body, /<link rel="canonical"/);
      assert.match(res.body, /linkedin\.com\/sharing/);
      assert.match(res.body, /bsky\.app\/intent\/compose/);
      const scripts = [...res.body.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]!);
      assert.ok(
        scripts.every((s) => s.startsWith('/')),
        `only our own scripts: ${scripts.join(', ')}`,
      );
    }
    const week = await get('/news/practice-week-demo');
    assert.match(week.body, /<img src="\/articles\/images\/visits.svg" alt="A simple outline map/);
    const story = await get('/stories/pre-birth-work-in-county-durham-demo');
    assert.match(story.body, /<figcaption class="govuk-body-s">The team/);
    const parentStory = await get('/stories/bringing-children-home-in-coventry-demo');
    assert.match(parentStory.body, /gave their consent/);
  });

  test('every published article: its JSON-LD and Open Graph say what the database holds', async () => {
    const rows = await t.database.query<{
      kind: 'news' | 'story';
      slug: string;
      title: string;
      standfirst: string;
      language: 'en' | 'cy';
      publish_at: Date;
      lead_image_url: string | null;
    }>(
      `SELECT kind, slug, title, standfirst, language, publish_at, lead_image_url FROM articles
       WHERE status = 'published' AND publish_at <= now() ORDER BY kind, slug`,
    );
    assert.ok(rows.length >= 5, `the demo's articles (${rows.length})`);
    // What an HTML parser would give back for an attribute's text.
    const unescape = (v: string) =>
      v
        .replace(/&#39;/g, "'")
        .replace(/&quot;/g, '"')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&amp;/g, '&');
    for (const a of rows) {
      const path = `/${a.kind === 'news' ? 'news' : 'stories'}/${a.slug}`;
      const url = `${t.config.baseUrl}${path}`;
      const res = await get(path);
      assert.equal(res.statusCode, 200, path);
      const meta = (prop: string) => {
        const m = new RegExp(`<meta (?:property|name)="${prop}" content="([^"]*)">`).exec(res.body);
        return m ? unescape(m[1]!) : undefined;
      };
      const ld = /<script type="application\/ld\+json"[^>]*>(.*?)<\/script>/s.exec(res.body);
      assert.ok(ld, `${path}: JSON-LD`);
      const data = JSON.parse(ld[1]!) as Record<string, unknown>;
      assert.equal(data['@context'], 'https://schema.org', path);
      assert.equal(data['@type'], a.kind === 'news' ? 'NewsArticle' : 'Article', path);
      assert.equal(data.headline, a.title, path);
      assert.equal(data.description, a.standfirst, path);
      assert.equal(data.url, url, path);
      assert.equal(data.datePublished, new Date(a.publish_at).toISOString(), path);
      assert.equal(data.inLanguage, a.language === 'cy' ? 'cy' : 'en-GB', path);
      assert.ok(Number.isFinite(Date.parse(String(data.dateModified))), path);
      assert.ok(Array.isArray(data.author) && data.author.length > 0, path);
      assert.equal((data.publisher as { name?: string }).name, 'Supporting Parents', path);
      assert.equal(meta('og:type'), 'article', path);
      assert.equal(meta('og:title'), a.title, path);
      assert.equal(meta('og:url'), url, path);
      assert.ok(meta('og:description'), `${path}: og:description`);
      assert.equal(meta('og:locale'), a.language === 'cy' ? 'cy_GB' : 'en_GB', path);
      if (a.lead_image_url) {
        const image = new URL(a.lead_image_url, t.config.baseUrl).href;
        assert.deepEqual(data.image, [image], path);
        assert.equal(meta('og:image'), image, path);
        assert.ok(meta('og:image:alt'), `${path}: the image described`);
        assert.equal(meta('twitter:card'), 'summary_large_image', path);
      } else {
        assert.equal(data.image, undefined, path);
        assert.equal(meta('og:image'), undefined, path);
        assert.equal(meta('twitter:card'), 'summary', path);
      }
      assert.match(
        res.body,
        new RegExp(`<link rel="canonical" href="${url.replace(/[.?]/g, '\\$&')}">`),
      );
    }
  });

  test('feeds pass strict Atom checks', async () => {
    for (const path of [
      '/news/feed.atom',
      '/stories/feed.atom',
      '/series/seeding-change/feed.atom',
    ]) {
      const res = await get(path);
      assert.equal(res.statusCode, 200, path);
      assert.match(String(res.headers['content-type']), /application\/atom\+xml/);
      const { entries } = strictParse(res.body);
      assert.ok(entries.length > 0, path);
    }
  });

  test('a scheduled article appears at its time and not before, then in its feed', async () => {
    const articles = t.app.services.articles;
    const form = await submit(
      t.app,
      '/admin/articles/new?kind=news',
      '/admin/articles/new?kind=news',
      {
        title: 'Scheduled for later',
        standfirst: 'Appears at its time.',
        body: 'Words.',
        'publishAt-day': '1',
        'publishAt-month': '1',
        'publishAt-year': '2090',
        'publishAt-time': '10:00',
        action: 'schedule',
      },
      jar.editor,
    );
    assert.equal(form.res.statusCode, 303, form.res.body.slice(0, 500));
    const visible = async () => (await get('/news/scheduled-for-later')).statusCode;
    const inFeed = async () => (await get('/news/feed.atom')).body.includes('Scheduled for later');
    assert.equal(await visible(), 404);
    assert.equal(await inFeed(), false);
    const at = new Date('2090-01-01T10:00:00Z').getTime();
    try {
      articles.setClock(() => new Date(at - 60_000));
      assert.equal(await visible(), 404, 'a minute before: not yet');
      articles.setClock(() => new Date(at + 1000));
      assert.equal(await visible(), 200, 'at its time');
      assert.equal(await inFeed(), true);
      const published = await articles.publishDue();
      assert.ok(
        published.some((a) => a.slug === 'scheduled-for-later'),
        'the job marks it published',
      );
    } finally {
      articles.setClock();
    }
    const [job] = await t.database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM jobs WHERE name = 'articles.publish-due' AND run_at >= '2090-01-01'`,
    );
    assert.equal(job!.n, 1, 'a job was queued for its time');
  });

  test('the editor form: GOV.UK errors, what was typed kept, nothing written', async () => {
    const { res } = await submit(
      t.app,
      '/admin/articles/new?kind=story',
      '/admin/articles/new?kind=story',
      {
        title: '',
        standfirst: 'Kept as typed <b>',
        body: 'A picture: \n\n![](/articles/images/visits.svg)',
        authorities: 'Newport\nAtlantis',
        featuresParent: 'yes',
        action: 'publish',
      },
      jar.editor,
    );
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /govuk-error-summary/);
    assert.match(res.body, /Enter a title/);
    assert.match(res.body, /Atlantis/);
    assert.match(res.body, /Kept as typed &lt;b&gt;/);
    const [n] = await t.database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM articles WHERE standfirst LIKE 'Kept as typed%'`,
    );
    assert.equal(n!.n, 0);
    const images = await submit(
      t.app,
      '/admin/articles/new?kind=story',
      '/admin/articles/new?kind=story',
      { title: 'Pictures', standfirst: 'S', body: '![](/a.png)', action: 'publish' },
      jar.editor,
    );
    assert.equal(images.res.statusCode, 400);
    assert.match(images.res.body, /Describe every picture/);
    const consent = await submit(
      t.app,
      '/admin/articles/new?kind=story',
      '/admin/articles/new?kind=story',
      { title: 'A parent', standfirst: 'S', body: 'B', featuresParent: 'yes', action: 'publish' },
      jar.editor,
    );
    assert.match(consent.res.body, /Enter the date the parent gave consent/);
    assert.equal((await get('/admin/articles/new', 'member')).statusCode, 403);
  });

  test('a story shows its guideline statements as links; an unknown statement is refused, naming it', async () => {
    const G = 'demo-born-into-care-illustrative';
    const durham = await get('/stories/pre-birth-work-in-county-durham-demo');
    assert.match(
      durham.body,
      new RegExp(
        `<a class="govuk-link" href="/guidelines/${G}/1\\.2">1\\.2 Each parent has one named social worker`,
      ),
      'a demo story links the statement it shows',
    );
    assert.equal((await get(`/guidelines/${G}/1.2`)).statusCode, 200, 'the link leads to it');
    const cy = await get('/stories/pre-birth-work-in-county-durham-demo?lang=cy');
    assert.match(cy.body, new RegExp(`href="/guidelines/${G}/1\\.1">1\\.1 Caiff pryderon`));
    // An English story on a Welsh page: its words are marked English and the page says so;
    // on the English page nothing is marked.
    assert.match(cy.body, /<h1 class="govuk-heading-xl" lang="en">/);
    assert.match(cy.body, /<div class="sp-prose" lang="en">/);
    assert.match(cy.body, /Mae’r erthygl hon yn Saesneg yn unig\./);
    assert.match(durham.body, /<h1 class="govuk-heading-xl">/);
    assert.match(durham.body, /<div class="sp-prose">/);
    assert.doesNotMatch(durham.body, /in English only/);

    const fields = {
      title: 'A story tied to the guideline',
      standfirst: 'Practice that shows two statements.',
      body: 'Words.',
      action: 'publish',
    };
    const refused = await submit(
      t.app,
      '/admin/articles/new?kind=story',
      '/admin/articles/new?kind=story',
      { ...fields, statements: `${G}/1.3\nno-such-guideline/1.1\n${G}/9.9\nnot a statement` },
      jar.editor,
    );
    assert.equal(refused.res.statusCode, 400);
    assert.match(refused.res.body, /govuk-error-summary/);
    assert.match(
      refused.res.body,
      new RegExp(
        `href="#statements">These are not statements of a guideline on this site: no-such-guideline/1\\.1, ${G}/9\\.9, not a statement`,
      ),
    );
    assert.match(refused.res.body, /id="statements-error"/, 'the message is by the field');
    assert.match(
      refused.res.body,
      new RegExp(`${G}/1\\.3\nno-such-guideline/1\\.1`),
      'kept as typed',
    );
    const [none] = await t.database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM articles WHERE title = $1`,
      [fields.title],
    );
    assert.equal(none!.n, 0, 'nothing saved');

    const saved = await submit(
      t.app,
      '/admin/articles/new?kind=story',
      '/admin/articles/new?kind=story',
      {
        ...fields,
        statements: `${G}/1.3\nhttps://example.org/guidelines/${G}/2.2?version=1\n${G} 1.3`,
      },
      jar.editor,
    );
    assert.equal(saved.res.statusCode, 303, saved.res.body.slice(0, 400));
    const [row] = await t.database.query<{ statements: string[] }>(
      `SELECT statements FROM articles WHERE title = $1`,
      [fields.title],
    );
    assert.deepEqual(row!.statements, [`${G}/1.3`, `${G}/2.2`], 'stored as slug/ref, once each');
    const page = await get('/stories/a-story-tied-to-the-guideline');
    assert.match(page.body, new RegExp(`href="/guidelines/${G}/1\\.3">1\\.3 Fathers and partners`));
    assert.match(page.body, new RegExp(`href="/guidelines/${G}/2\\.2">2\\.2 Hospital staff`));
    const citing = await t.app.services.articles.storiesForStatement(G, '1.1');
    assert.deepEqual(citing.map((s) => s.slug).sort(), [
      'fewer-babies-into-care-in-newport-demo',
      'pre-birth-work-in-county-durham-demo',
    ]);
  });

  test('a first comment waits for a moderator; approving it tells the article author', async () => {
    await t.app.services.accounts.createUserDirect({
      email: 'first-commenter@example.org',
      displayName: 'First Commenter',
      role: 'member',
      kind: 'practitioner',
      password: DEMO_PASSWORD,
      approved: true,
    });
    jar.first = await signIn(
      t.app,
      'first-commenter@example.org',
      DEMO_PASSWORD,
      undefined,
      '10.9.99.1',
    );
    const path = '/stories/fewer-babies-into-care-in-newport-demo';
    const id = await idOf('fewer-babies-into-care-in-newport-demo');
    const { res } = await submit(
      t.app,
      path,
      `/articles/${id}/comments`,
      { body: 'My first comment here.', showBackground: 'yes' },
      jar.first,
    );
    assert.equal(res.statusCode, 303);
    assert.match(String(res.headers.location), /commented=held/);
    assert.doesNotMatch(
      (await get(path)).body,
      /My first comment here\./,
      'visitors do not see it',
    );
    assert.doesNotMatch((await get(path, 'member')).body, /My first comment here\./);
    assert.match(
      (await get(path, 'first')).body,
      /My first comment here\.[\s\S]*|Waiting for a moderator/,
    );
    const queue = await get('/admin/articles/comments', 'moderator');
    assert.match(queue.body, /My first comment here\./);
    assert.match(queue.body, /A new member’s first comment/);
    const [c] = await t.database.query<{ id: string }>(
      `SELECT id FROM article_comments WHERE body = 'My first comment here.'`,
    );
    const before = (await sentMail(t.app)).length;
    const decided = await submit(
      t.app,
      '/admin/articles/comments',
      `/admin/articles/comments/${c!.id}`,
      { action: 'approve' },
      jar.moderator,
    );
    assert.equal(decided.res.statusCode, 303);
    const page = await get(path);
    assert.match(page.body, /My first comment here\./);
    assert.match(page.body, /First Commenter/);
    assert.match(page.body, /Practitioner/, 'the background they chose to show');
    const mail = await mailSince(before);
    assert.ok(
      mail.some(
        (m) => m.to === 'first-commenter@example.org' && /approved your comment/.test(m.text),
      ),
    );
    assert.ok(
      mail.some(
        (m) => m.to === 'editor@example.org' && /First Commenter commented on/.test(m.text),
      ),
      'the editor who wrote the story is told',
    );
  });

  test('a reply notifies the comment replied to, never oneself; replies stay one level deep', async () => {
    const path = '/news/national-overview-of-services-launched-demo';
    const id = await idOf('national-overview-of-services-launched-demo');
    const [top] = await t.database.query<{ id: string }>(
      `SELECT c.id FROM article_comments c JOIN users u ON u.id = c.author_id
       WHERE c.article_id = $1 AND c.parent_id IS NULL AND u.email = 'member@example.org' ORDER BY c.created_at LIMIT 1`,
      [id],
    );
    const [reply] = await t.database.query<{ id: string }>(
      `SELECT id FROM article_comments WHERE parent_id = $1 LIMIT 1`,
      [top!.id],
    );
    const before = (await sentMail(t.app)).length;
    const own = await submit(
      t.app,
      path,
      `/articles/${id}/comments`,
      { body: 'Replying to myself.', parentId: top!.id },
      jar.member,
    );
    assert.equal(own.res.statusCode, 303);
    let mail = await mailSince(before);
    assert.ok(!mail.some((m) => m.to === 'member@example.org'), 'not told of their own reply');
    const b2 = (await sentMail(t.app)).length;
    const other = await submit(
      t.app,
      path,
      `/articles/${id}/comments`,
      { body: 'A reply to a reply.', parentId: reply!.id, anonymous: 'yes' },
      jar.parent,
    );
    assert.equal(other.res.statusCode, 303);
    mail = await mailSince(b2);
    const toMember = mail.find((m) => m.to === 'member@example.org');
    assert.ok(toMember, 'the author of the comment replied to is told');
    assert.match(toMember.text, /A parent replied/);
    assert.doesNotMatch(
      toMember.text,
      /Demo Parent/,
      'an anonymous reply does not name its writer',
    );
    const [row] = await t.database.query<{ parent_id: string; anonymous: boolean }>(
      `SELECT parent_id, anonymous FROM article_comments WHERE body = 'A reply to a reply.'`,
    );
    assert.equal(row!.parent_id, top!.id, 'joined the top comment: one level');
    assert.equal(row!.anonymous, true);
    const [mine] = await t.database.query<{ id: string }>(
      `SELECT id FROM article_comments WHERE body = 'A reply to a reply.'`,
    );
    const page = (await get(`${path}?order=newest`)).body;
    const block = page.slice(page.indexOf(`id="comment-${mine!.id}"`));
    const shown = block.slice(0, block.indexOf('</article>'));
    assert.match(shown, /<strong>A parent<\/strong>/);
    assert.doesNotMatch(shown, /Demo Parent/, 'the parent’s name is not with the comment');
  });

  test('a date of birth and a school name are held for safeguarding, even for a regular member', async () => {
    const path = '/stories/bringing-children-home-in-coventry-demo';
    const id = await idOf('bringing-children-home-in-coventry-demo');
    const { res } = await submit(
      t.app,
      path,
      `/articles/${id}/comments`,
      { body: 'My daughter Lily, born 14/02/2019, is at Oakfield Primary School.' },
      jar.member,
    );
    assert.match(String(res.headers.location), /commented=held/);
    const [c] = await t.database.query<{ status: string; held_reason: string }>(
      `SELECT status, held_reason FROM article_comments WHERE body LIKE 'My daughter Lily%'`,
    );
    assert.deepEqual(c, { status: 'held', held_reason: 'safeguarding' });
    assert.doesNotMatch((await get(path)).body, /Lily/);
  });

  test('a report reaches the queue, the reporter hears the outcome and the author the reason', async () => {
    const [promo] = await t.database.query<{ id: string }>(
      `SELECT id FROM article_comments WHERE body LIKE 'Visit www.example.org/demo-offer%'`,
    );
    const queue = await get('/admin/articles/comments', 'moderator');
    assert.match(queue.body, /demo-offer/, 'the demo report is in the queue');
    // Another report, from the parent.
    const report = await submit(
      t.app,
      `/articles/comments/${promo!.id}/report`,
      `/articles/comments/${promo!.id}/report`,
      { reason: 'Spam' },
      jar.member,
    );
    assert.equal(report.res.statusCode, 200);
    assert.match(report.res.body, /Report sent/);
    const empty = await submit(
      t.app,
      '/admin/articles/comments',
      `/admin/articles/comments/${promo!.id}`,
      { action: 'hide', reason: '' },
      jar.moderator,
    );
    assert.equal(empty.res.statusCode, 400, 'hiding needs a reason');
    const before = (await sentMail(t.app)).length;
    const hide = await submit(
      t.app,
      '/admin/articles/comments',
      `/admin/articles/comments/${promo!.id}`,
      { action: 'hide', reason: 'Advertising is not allowed.' },
      jar.moderator,
    );
    assert.equal(hide.res.statusCode, 303);
    const mail = await mailSince(before);
    assert.ok(
      mail.some((m) => m.to === 'member@example.org' && /A moderator has hidden it/.test(m.text)),
      'the reporter is told',
    );
    const author = mail.find((m) => m.to === 'parent@example.org');
    assert.ok(
      author && /Advertising is not allowed\./.test(author.text),
      'the author sees the reason',
    );
    assert.doesNotMatch(
      (await get('/news/national-overview-of-services-launched-demo')).body,
      /demo-offer/,
    );
    const parentView = await get('/news/national-overview-of-services-launched-demo', 'parent');
    assert.match(parentView.body, /A moderator hid this comment: Advertising is not allowed\./);
    const [audit] = await t.database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_log WHERE event = 'article.comment_hide'`,
    );
    assert.equal(audit!.n, 1);
  });

  test('stopping a member commenting; closed comments', async () => {
    await t.app.services.accounts.createUserDirect({
      email: 'stopped@example.org',
      displayName: 'Stopped Member',
      role: 'member',
      kind: 'practitioner',
      password: DEMO_PASSWORD,
      approved: true,
    });
    jar.stopped = await signIn(t.app, 'stopped@example.org', DEMO_PASSWORD, undefined, '10.9.98.1');
    const path = '/stories/inside-a-family-drug-and-alcohol-court-manchester-demo';
    const id = await idOf('inside-a-family-drug-and-alcohol-court-manchester-demo');
    await submit(t.app, path, `/articles/${id}/comments`, { body: 'Rude words.' }, jar.stopped);
    const [c] = await t.database.query<{ id: string }>(
      `SELECT id FROM article_comments WHERE body = 'Rude words.'`,
    );
    const ban = await submit(
      t.app,
      '/admin/articles/comments',
      `/admin/articles/comments/${c!.id}`,
      { action: 'ban', reason: 'Repeated abuse.' },
      jar.moderator,
    );
    assert.equal(ban.res.statusCode, 303);
    const page = await get(path, 'stopped');
    assert.match(page.body, /You can no longer comment on articles/);
    const again = await submit(
      t.app,
      path,
      `/articles/${id}/comments`,
      { body: 'Again.' },
      jar.stopped,
    );
    assert.equal(again.res.statusCode, 403);
    await t.database.query(`UPDATE articles SET comments_open = false WHERE id = $1`, [id]);
    const closed = await get(path, 'member');
    assert.match(closed.body, /Comments are closed on this article/);
    await t.database.query(`UPDATE articles SET comments_open = true WHERE id = $1`, [id]);
  });

  test('stored XSS is inert in articles, comments, feeds and emails', async () => {
    const body = PAYLOADS.join('\n\n');
    const made = await submit(
      t.app,
      '/admin/articles/new?kind=news',
      '/admin/articles/new?kind=news',
      {
        title: '<script>alert("t")</script> & title',
        standfirst: '<img src=x onerror=alert(1)> standfirst ]]>',
        body,
        authors: '<b>Bold</b> | <i>role</i>',
        action: 'publish',
      },
      jar.editor,
    );
    assert.equal(made.res.statusCode, 303, made.res.body.slice(0, 400));
    const [a] = await t.database.query<{ id: string; slug: string }>(
      `SELECT id, slug FROM articles WHERE title LIKE '<script>%'`,
    );
    const page = await get(`/news/${a!.slug}`);
    const main = page.body.slice(page.body.indexOf('<main'), page.body.indexOf('</main>'));
    assertInert(main);
    assert.match(main, /&lt;script&gt;alert/);
    const ld = /<script type="application\/ld\+json"[^>]*>(.*?)<\/script>/s.exec(page.body)![1]!;
    assert.doesNotMatch(ld, /<\/?script/i, 'no closing tag inside the JSON-LD');
    const feed = (await get('/news/feed.atom')).body;
    strictParse(feed);
    assert.doesNotMatch(feed, /<script>|<img src=x/, 'feed text is escaped');
    const before = (await sentMail(t.app)).length;
    await submit(t.app, `/news/${a!.slug}`, `/articles/${a!.id}/comments`, { body }, jar.member);
    const after = await get(`/news/${a!.slug}`);
    const comments = after.body.slice(after.body.indexOf('id="comments"'));
    assertInert(comments.slice(0, comments.indexOf('</section>')));
    const mail = await mailSince(before);
    for (const m of mail) assert.doesNotMatch(m.raw, /text\/html/, 'emails are plain text');
  });

  test('members propose a story; an editor publishes it and the member is told', async () => {
    const { res } = await submit(
      t.app,
      '/stories/propose',
      '/stories/propose',
      {
        title: 'Our drop-in for fathers',
        standfirst: 'A weekly drop-in.',
        body: 'What we learned.',
        authorities: 'Cardiff',
        topics: 'fathers',
      },
      jar.member,
    );
    assert.equal(res.statusCode, 303);
    assert.equal((await get('/stories/our-drop-in-for-fathers')).statusCode, 404);
    const list = await get('/admin/articles?status=submitted', 'editor');
    assert.match(list.body, /Our drop-in for fathers/);
    const id = await idOf('our-drop-in-for-fathers');
    const before = (await sentMail(t.app)).length;
    const pub = await submit(
      t.app,
      `/admin/articles/${id}`,
      `/admin/articles/${id}/status`,
      { action: 'publish' },
      jar.editor,
    );
    assert.equal(pub.res.statusCode, 303);
    assert.equal((await get('/stories/our-drop-in-for-fathers')).statusCode, 200);
    const mail = await mailSince(before);
    assert.ok(
      mail.some((m) => m.to === 'member@example.org' && /It is now published/.test(m.text)),
    );
    assert.equal((await get('/stories/propose')).statusCode, 303, 'visitors sign in first');
  });

  test('home page latest news; "practice stories from here" on a service page and the overview', async () => {
    const home = await get('/');
    assert.match(home.body, /Latest news/);
    assert.match(home.body, /href="\/news\/national-overview-of-services-launched-demo"/);
    const [svc] = await t.database.query<{ slug: string }>(
      `SELECT slug FROM services WHERE status = 'active' ORDER BY slug LIMIT 1`,
    );
    const made = await submit(
      t.app,
      '/admin/articles/new?kind=story',
      '/admin/articles/new?kind=story',
      {
        title: 'A story about one service',
        standfirst: 'Here.',
        body: 'Words.',
        services: `https://example.org/services/${svc!.slug}`,
        authorities: 'Newport',
        action: 'publish',
      },
      jar.editor,
    );
    assert.equal(made.res.statusCode, 303, made.res.body.slice(0, 300));
    const page = await get(`/services/${svc!.slug}`);
    assert.match(page.body, /Practice stories from here/);
    assert.match(page.body, /href="\/stories\/a-story-about-one-service"/);
    const story = await get('/stories/a-story-about-one-service');
    assert.match(story.body, new RegExp(`href="/services/${svc!.slug}"`));
    const overview = await get('/services/coverage');
    assert.match(overview.body, /href="\/stories\?la=W06000022"/);
    const here = await get('/stories?la=W06000022');
    assert.match(here.body, /A story about one service/);
    assert.match(here.body, /Working together to keep babies safely at home in Newport/);
    assert.doesNotMatch(here.body, /Coventry \(demo\)/);
  });

  test('comments come 25 threads a page, and a new comment opens its page', async () => {
    const id = await idOf('pre-birth-work-in-county-durham-demo');
    await t.database.query(
      `INSERT INTO article_comments (article_id, author_id, body, body_html, created_at)
       SELECT $1, (SELECT id FROM users WHERE email = 'parent@example.org'), 'Generated ' || g,
         '<p class="govuk-body">Generated number ' || g || '.</p>', now() - (200 - g) * interval '1 minute'
       FROM generate_series(1, 120) AS g`,
      [id],
    );
    const path = '/stories/pre-birth-work-in-county-durham-demo';
    const first = (await get(path)).body;
    assert.match(first, /Generated number 25\./);
    assert.doesNotMatch(first, /Generated number 26\./);
    assert.match(first, /cpage=2#comments/);
    const third = (await get(`${path}?cpage=3`)).body;
    assert.match(third, /Generated number 51\./);
    assert.match(third, /Generated number 75\./);
    assert.doesNotMatch(third, /Generated number 50\./);
    assert.doesNotMatch(third, /Generated number 76\./);
    const newest = (await get(`${path}?order=newest`)).body;
    assert.match(newest, /Generated number 120\./);
    assert.doesNotMatch(newest, /Generated number 95\./);
    // A reply is read with its thread's page, wherever it stands in time, and `c` finds it.
    const [reply] = await t.database.query<{ id: string }>(
      `INSERT INTO article_comments (article_id, parent_id, author_id, body, body_html, created_at)
       SELECT $1, c.id, c.author_id, 'A late reply', '<p class="govuk-body">A late reply to 10.</p>', now()
       FROM article_comments c WHERE c.article_id = $1 AND c.body = 'Generated 10'
       RETURNING id`,
      [id],
    );
    assert.ok(reply);
    assert.match(first, /<h2[^>]*id="comments">\d+ comments<\/h2>/);
    const count = (body: string) => Number(/id="comments">(\d+) comments/.exec(body)?.[1]);
    const before = count(first);
    const again = (await get(path)).body;
    assert.equal(count(again), before + 1);
    assert.match(again, /A late reply to 10\./);
    assert.doesNotMatch((await get(`${path}?cpage=2`)).body, /A late reply to 10\./);
    const found = (await get(`${path}?order=newest&c=${reply.id}`)).body;
    assert.match(found, /A late reply to 10\./);
    assert.match(found, /Generated number 10\./);
    assert.doesNotMatch(found, /Generated number 120\./);
    const { res } = await submit(
      t.app,
      path,
      `/articles/${id}/comments`,
      { body: 'Straight to the last page.' },
      jar.member,
    );
    const to = String(res.headers.location);
    assert.match(to, /commented=yes&c=/);
    assert.match((await get(to.split('#')[0]!, 'member')).body, /Straight to the last page\./);
  });

  test('comments are told through the community’s notifications: the page and its link, each kind’s email choice, the daily summary, never about one’s own', async () => {
    const path = '/stories/bringing-children-home-in-coventry-demo';
    const id = await idOf('bringing-children-home-in-coventry-demo');
    const kinds = ['mention', 'reply', 'followed', 'new_thread', 'moderation', 'comment'];
    // The editor who wrote the story wants one summary a day; the member wants emails at once,
    // but not about replies to their comments.
    const choose = async (who: string, email: string, on: string[]) =>
      (
        await post(
          t,
          '/community/notifications/settings',
          '/community/notifications/settings',
          { email, kinds: on },
          { cookie: jar[who]! },
        )
      ).res.statusCode;
    assert.equal(await choose('editor', 'daily', [...kinds, 'comment_reply']), 303);
    assert.equal(await choose('member', 'immediately', kinds), 303);
    const settings = await get('/community/notifications/settings', 'member');
    assert.match(settings.body, /Comments on news and stories you wrote/);
    assert.match(settings.body, /Replies to your comments on news and stories/);

    const comment = async (who: string, body: string, extra: Record<string, string> = {}) => {
      const { res } = await submit(
        t.app,
        path,
        `/articles/${id}/comments`,
        { body, ...extra },
        jar[who],
      );
      assert.match(String(res.headers.location), /commented=yes/, `${who}'s comment is shown`);
      const [row] = await t.database.query<{ id: string }>(
        'SELECT id FROM article_comments WHERE body = $1',
        [body],
      );
      return row!.id;
    };
    const noticesOf = (email: string) =>
      t.database.query<{ id: string; kind: string; link: string; emailed_at: Date | null }>(
        `SELECT n.id, n.kind, n.link, n.emailed_at FROM community_notifications n
         JOIN users u ON u.id = n.user_id WHERE u.email = $1 AND n.link LIKE $2 ORDER BY n.created_at`,
        [email, `${path}#%`],
      );

    const before = (await sentMail(t.app)).length;
    const top = await comment('member', 'Notified through the notifications page.');
    const [toEditor] = await noticesOf('editor@example.org');
    assert.ok(toEditor, 'the author of the story is notified');
    assert.equal(toEditor.kind, 'comment');
    assert.equal(toEditor.link, `${path}#comment-${top}`);
    assert.equal(toEditor.emailed_at, null, 'not emailed: they chose the daily summary');
    assert.ok(!(await mailSince(before)).some((m) => m.to === 'editor@example.org'));
    // On their notifications page, marked unread, leading to the comment.
    const page = await get('/community/notifications', 'editor');
    assert.match(
      page.body,
      /Demo Practitioner commented on ‘Bringing children home: reunification in Coventry/,
    );
    assert.match(page.body, /News and stories/);
    assert.match(page.body, new RegExp(`href="/community/notifications/${toEditor.id}"`));
    const open = await get(`/community/notifications/${toEditor.id}`, 'editor');
    assert.equal(open.statusCode, 303);
    assert.equal(open.headers.location, `${path}#comment-${top}`);
    // Not another member's notification.
    assert.equal((await get(`/community/notifications/${toEditor.id}`, 'member')).statusCode, 404);

    // A reply: its author is never told of their own; the member has turned replies' emails off,
    // so the notification is on their page only.
    const b2 = (await sentMail(t.app)).length;
    await comment('member', 'Replying in my own thread.', { parentId: top });
    assert.equal((await noticesOf('member@example.org')).length, 0, 'never about one’s own');
    await comment('parent', 'A parent’s answer to you.', { parentId: top, anonymous: 'yes' });
    const toMember = await noticesOf('member@example.org');
    assert.deepEqual(
      toMember.map((n) => [n.kind, n.emailed_at]),
      [['comment_reply', null]],
    );
    assert.match(
      (await get('/community/notifications', 'member')).body,
      /A parent replied to your comment/,
    );
    assert.ok(!(await mailSince(b2)).some((m) => m.to === 'member@example.org'));
    // The member turns them back on: the next reply is emailed at once, with its link.
    assert.equal(await choose('member', 'immediately', [...kinds, 'comment_reply']), 303);
    const b3 = (await sentMail(t.app)).length;
    await comment('parent', 'Another answer, by name.', { parentId: top });
    const [mail] = (await mailSince(b3)).filter((m) => m.to === 'member@example.org');
    assert.ok(mail, 'emailed at once');
    assert.match(
      mail.text,
      /Demo Parent \(pseudonym\) replied to your comment on .{1,3}Bringing children home/,
    );
    assert.match(mail.text, new RegExp(`${path}#comment-`));
    assert.match(mail.raw, /List-Unsubscribe-Post: List-Unsubscribe=One-Click/);

    // The editor's daily summary: the story's comments under their own heading, with links.
    const b4 = (await sentMail(t.app)).length;
    await t.app.platform.jobs.enqueue('community.daily-digest', {});
    const [digest] = (await mailSince(b4)).filter((m) => m.to === 'editor@example.org');
    assert.ok(digest, 'the daily summary');
    assert.match(
      digest.text,
      /News and stories\n=+\n- Demo Practitioner commented on .{1,3}Bringing children home/,
    );
    assert.match(digest.text, new RegExp(`${path}#comment-${top}`));
    assert.equal(await choose('editor', 'immediately', [...kinds, 'comment_reply']), 303);
  });

  test('likes on articles and comments: a member likes, the count shows, a second like does not count twice, a visitor cannot', async () => {
    const path = '/stories/fewer-babies-into-care-in-newport-demo';
    const id = await idOf('fewer-babies-into-care-in-newport-demo');
    const likesOf = async () =>
      (
        await t.database.query<{ n: number; rows: number }>(
          `SELECT like_count AS n, (SELECT count(*)::int FROM article_likes WHERE article_id = $1) AS rows
           FROM articles WHERE id = $1`,
          [id],
        )
      )[0]!;
    const like = (who: string, liked?: string) =>
      submit(t.app, path, `/articles/${id}/like`, liked ? { liked } : {}, jar[who]);
    assert.deepEqual(await likesOf(), { n: 0, rows: 0 });
    const first = await like('member');
    assert.equal(first.res.statusCode, 303);
    assert.equal(first.res.headers.location, `${path}#like`);
    const page = await get(path, 'member');
    assert.match(page.body, /<span class="govuk-body">1 like<\/span>/, 'the count shows');
    assert.match(
      page.body,
      /name="liked" value="no">\s*<button[^>]*aria-pressed="true">Like this article/,
    );
    // The same form sent again (a double click, or the back button): still one like.
    await like('member', 'yes');
    assert.deepEqual(await likesOf(), { n: 1, rows: 1 }, 'a second like does not count twice');
    await like('parent');
    assert.deepEqual(await likesOf(), { n: 2, rows: 2 });
    assert.match((await get(path)).body, /2 likes/, 'visitors see the count');
    // A visitor, and a member not yet approved, cannot like.
    const visitor = await t.app.inject({
      method: 'POST',
      url: `/articles/${id}/like`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'liked=yes',
    });
    assert.equal(visitor.statusCode, 401);
    const pending = await signIn(
      t.app,
      'pending@example.org',
      DEMO_PASSWORD,
      undefined,
      '10.9.97.1',
    );
    const refusedLike = await submit(t.app, '/account', `/articles/${id}/like`, {}, pending);
    assert.equal(refusedLike.res.statusCode, 403);
    assert.doesNotMatch(
      (await get(path)).body,
      /action="\/articles\/[^"]+\/like"/,
      'no button for visitors',
    );
    assert.deepEqual(await likesOf(), { n: 2, rows: 2 });
    // Taking a like back, twice, takes one away.
    await like('parent', 'no');
    await like('parent', 'no');
    assert.deepEqual(await likesOf(), { n: 1, rows: 1 });

    // A comment's likes.
    const [c] = await t.database.query<{ id: string }>(
      `SELECT c.id FROM article_comments c JOIN articles a ON a.id = c.article_id
       WHERE a.slug = 'national-overview-of-services-launched-demo' AND c.status = 'visible'
       AND c.body LIKE 'Seeing the gaps on a map%'`,
    );
    const overview = '/news/national-overview-of-services-launched-demo';
    const commentLikes = async () =>
      (
        await t.database.query<{ n: number }>(
          `SELECT like_count AS n FROM article_comments WHERE id = $1`,
          [c!.id],
        )
      )[0]!.n;
    const liked = await submit(
      t.app,
      overview,
      `/articles/comments/${c!.id}/like`,
      { liked: 'yes' },
      jar.member,
    );
    assert.equal(liked.res.statusCode, 303);
    assert.equal(liked.res.headers.location, `${overview}#comment-${c!.id}`);
    await submit(t.app, overview, `/articles/comments/${c!.id}/like`, { liked: 'yes' }, jar.member);
    assert.equal(await commentLikes(), 1, 'a second like does not count twice');
    const block = (await get(overview)).body;
    const shown = block.slice(block.indexOf(`id="comment-${c!.id}"`));
    assert.match(shown.slice(0, shown.indexOf('</article>')), /1 like/);
    const visitorComment = await t.app.inject({
      method: 'POST',
      url: `/articles/comments/${c!.id}/like`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'liked=yes',
    });
    assert.equal(visitorComment.statusCode, 401);
    assert.equal(
      (await submit(t.app, '/account', `/articles/comments/${c!.id}/like`, {}, pending)).res
        .statusCode,
      403,
    );
    assert.equal(await commentLikes(), 1);
  });

  test('held for a moderator through a real post: too many links, and the word list an admin sets', async () => {
    const path = '/stories/inside-a-family-drug-and-alcohol-court-manchester-demo';
    const id = await idOf('inside-a-family-drug-and-alcohol-court-manchester-demo');
    const post = (body: string, who = 'member') =>
      submit(t.app, path, `/articles/${id}/comments`, { body }, jar[who]);
    const stateOf = async (body: string) =>
      (
        await t.database.query<{ status: string; held_reason: string | null }>(
          `SELECT status, held_reason FROM article_comments WHERE body = $1`,
          [body],
        )
      )[0];
    // The member has shown comments, so only the links and the words can hold theirs.
    const two = 'Two links: https://one.example.org and www.two.example.org are fine.';
    assert.match(String((await post(two)).res.headers.location), /commented=yes/);
    assert.deepEqual(await stateOf(two), { status: 'visible', held_reason: null });
    const three = 'See https://a.example.org, https://b.example.org and www.c.example.org today.';
    assert.match(String((await post(three)).res.headers.location), /commented=held/);
    assert.deepEqual(await stateOf(three), { status: 'held', held_reason: 'links' });
    assert.doesNotMatch((await get(path)).body, /a\.example\.org/, 'others do not see it');

    // An admin sets the word list (and keeps the other settings).
    const secret = await enableTwoFactor(t.app, 'admin@example.org');
    jar.admin = await signIn(t.app, 'admin@example.org', DEMO_PASSWORD, secret, '10.9.96.1');
    const settings = (words: string) =>
      submit(
        t.app,
        '/admin/articles/settings',
        '/admin/articles/settings',
        { heldFirst: '1', maxLinks: '2', words },
        jar.admin,
      );
    assert.equal((await settings('cheap courses\nmiracle cure')).res.statusCode, 303);
    try {
      const words = 'Try this Miracle Cure, it worked for us.';
      assert.match(String((await post(words)).res.headers.location), /commented=held/);
      assert.deepEqual(await stateOf(words), { status: 'held', held_reason: 'words' });
      const near = 'No miracles here, just steady work.';
      assert.match(
        String((await post(near)).res.headers.location),
        /commented=yes/,
        'whole words only',
      );
      const queue = (await get('/admin/articles/comments', 'moderator')).body;
      assert.match(queue, /Try this Miracle Cure/);
      assert.match(queue, /https:\/\/a\.example\.org/);
    } finally {
      assert.equal((await settings('')).res.statusCode, 303);
    }
  });

  test('comments close after their date', async () => {
    const made = await submit(
      t.app,
      '/admin/articles/new?kind=news',
      '/admin/articles/new?kind=news',
      {
        title: 'Comments close in 2090',
        standfirst: 'Then no more.',
        body: 'Words.',
        'commentsCloseAt-day': '1',
        'commentsCloseAt-month': '6',
        'commentsCloseAt-year': '2090',
        'commentsCloseAt-time': '09:00',
        action: 'publish',
      },
      jar.editor,
    );
    assert.equal(made.res.statusCode, 303, made.res.body.slice(0, 400));
    const path = '/news/comments-close-in-2090';
    const id = await idOf('comments-close-in-2090');
    const [row] = await t.database.query<{ at: Date }>(
      `SELECT comments_close_at AS at FROM articles WHERE id = $1`,
      [id],
    );
    assert.equal(new Date(row!.at).toISOString(), '2090-06-01T08:00:00.000Z', 'London summer time');
    const before = await submit(
      t.app,
      path,
      `/articles/${id}/comments`,
      { body: 'Before the date.' },
      jar.member,
    );
    assert.match(String(before.res.headers.location), /commented=yes/);
    const articles = t.app.services.articles;
    try {
      articles.setClock(() => new Date('2090-06-01T08:00:01Z'));
      const page = await get(path, 'member');
      assert.match(page.body, /Comments are closed on this article/);
      assert.doesNotMatch(page.body, new RegExp(`action="/articles/${id}/comments"`), 'no form');
      assert.match(page.body, /Before the date\./, 'what was said stays');
      const after = await submit(
        t.app,
        path,
        `/articles/${id}/comments`,
        { body: 'After the date.' },
        jar.member,
      );
      assert.equal(after.res.statusCode, 403);
      assert.match(after.res.body, /Comments are closed/);
    } finally {
      articles.setClock();
    }
    const [n] = await t.database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM article_comments WHERE body = 'After the date.'`,
    );
    assert.equal(n!.n, 0);
  });

  test('a moderator keeps a reported comment: the reporter is told it stays, and it leaves the queue', async () => {
    const path = '/stories/fewer-babies-into-care-in-newport-demo';
    const id = await idOf('fewer-babies-into-care-in-newport-demo');
    const body = 'A fair question about the referral route, reported by mistake.';
    const posted = await submit(t.app, path, `/articles/${id}/comments`, { body }, jar.member);
    assert.match(String(posted.res.headers.location), /commented=yes/);
    const [c] = await t.database.query<{ id: string }>(
      `SELECT id FROM article_comments WHERE body = $1`,
      [body],
    );
    const report = await submit(
      t.app,
      `/articles/comments/${c!.id}/report`,
      `/articles/comments/${c!.id}/report`,
      { reason: 'I think this is off topic.' },
      jar.parent,
    );
    assert.equal(report.res.statusCode, 200);
    assert.match((await get('/admin/articles/comments', 'moderator')).body, /reported by mistake/);
    const before = (await sentMail(t.app)).length;
    const keep = await submit(
      t.app,
      '/admin/articles/comments',
      `/admin/articles/comments/${c!.id}`,
      { action: 'dismiss' },
      jar.moderator,
    );
    assert.equal(keep.res.statusCode, 303);
    const mail = await mailSince(before);
    const told = mail.find((m) => m.to === 'parent@example.org');
    assert.ok(told, 'the reporter is told');
    assert.equal(told.subject, 'The comment you reported was checked');
    assert.match(told.text, /decided it can stay/);
    assert.match(told.text, new RegExp(`${path}#comment-${c!.id}`));
    assert.ok(
      !mail.some((m) => m.to === 'member@example.org'),
      'the author is not told of a report kept',
    );
    assert.match((await get(path)).body, /reported by mistake/, 'still shown');
    assert.doesNotMatch(
      (await get('/admin/articles/comments', 'moderator')).body,
      /reported by mistake/,
    );
    const [audit] = await t.database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_log WHERE event = 'article.comment_dismiss'`,
    );
    assert.equal(audit!.n, 1);
  });

  test("comments are in the member's export and handled on deletion", async () => {
    const [member] = await t.database.query<{ id: string }>(
      `SELECT id FROM users WHERE email = 'member@example.org'`,
    );
    const data = await t.app.services.articles.personalData.export(member!.id);
    assert.ok(data.comments.some((c) => /How can I share the overview/.test(c.text)));
    await t.app.services.articles.personalData.erase(member!.id, true);
    const [left] = await t.database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM article_comments WHERE author_id = $1`,
      [member!.id],
    );
    assert.equal(left!.n, 0);
    const page = await get('/news/national-overview-of-services-launched-demo');
    assert.doesNotMatch(page.body, /How can I share the overview/);
  });
});
