import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseFeed } from '@rowanmanning/feed-parser';
import { PDFDocument } from 'pdf-lib';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import { strictParse } from '../../../test/helpers/atom.ts';
import { sentMail } from '../../../test/helpers/mail.ts';
import { submitMultipart } from '../../../test/helpers/multipart.ts';
import { signIn, submit } from '../../../test/helpers/session.ts';
import { enableTwoFactor } from '../../../test/helpers/totp.ts';
import { DEMO_PASSWORD } from '../accounts/seed.ts';
import { createResourcesRepository, type FacetName, type SearchFilters } from './repository.ts';
import { LENGTH_BANDS } from './schema.ts';
import { videoEmbed } from './service.ts';

interface Row {
  id: string;
  type: string;
  topics: string[];
  audiences: string[];
  length_minutes: number | null;
  by_parents: boolean;
  language: string;
}

const band = (m: number | null) =>
  m == null ? null : m < 10 ? 'under-10' : m <= 30 ? '10-30' : m <= 60 ? '30-60' : 'over-60';

/** Facet counts the slow, obvious way, from every published row. */
function expectedFacets(rows: Row[], f: SearchFilters) {
  const ok: Record<FacetName, (r: Row) => boolean> = {
    type: (r) => !f.types.length || f.types.includes(r.type as never),
    topic: (r) => !f.topics.length || r.topics.some((x) => f.topics.includes(x)),
    audience: (r) =>
      !f.audiences.length || r.audiences.some((x) => f.audiences.includes(x as never)),
    length: (r) => !f.lengths.length || f.lengths.includes(band(r.length_minutes) as never),
    parents: (r) => !f.byParents || r.by_parents,
    language: (r) => !f.languages.length || f.languages.includes(r.language as never),
  };
  const others = (name: FacetName) => (r: Row) =>
    (Object.keys(ok) as FacetName[]).every((n) => n === name || ok[n](r));
  const count = (name: FacetName, valuesOf: (r: Row) => (string | null)[]) => {
    const out: Record<string, number> = {};
    for (const r of rows.filter(others(name)))
      for (const v of valuesOf(r)) if (v != null) out[v] = (out[v] ?? 0) + 1;
    return out;
  };
  return {
    type: count('type', (r) => [r.type]),
    topic: count('topic', (r) => r.topics),
    audience: count('audience', (r) => r.audiences),
    length: count('length', (r) => [band(r.length_minutes)]),
    parents: count('parents', (r) => (r.by_parents ? ['yes'] : [])),
    language: count('language', (r) => [r.language]),
    total: rows.filter((r) => (Object.keys(ok) as FacetName[]).every((n) => ok[n](r))).length,
  };
}

const none: SearchFilters = {
  types: [],
  topics: [],
  audiences: [],
  lengths: [],
  byParents: false,
  languages: [],
};

async function realPdf(text: string): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage().drawText(text);
  return Buffer.from(await doc.save());
}

describe('resources', () => {
  let t: TestApp;
  let member: string;
  let editor: string;
  before(async () => {
    t = await testApp({ seed: true });
    member = await signIn(t.app, 'member@example.org', DEMO_PASSWORD, undefined, '10.7.0.1');
    const secret = await enableTwoFactor(t.app, 'editor@example.org');
    editor = await signIn(t.app, 'editor@example.org', DEMO_PASSWORD, secret, '10.7.0.2');
  });
  after(async () => t.close());

  const published = () =>
    t.database.query<Row>(
      `SELECT id, type, topics, audiences, length_minutes, by_parents, language
       FROM resources WHERE status = 'published'`,
    );

  test('facet counts equal counts computed independently, for several filter sets', async () => {
    const rows = await published();
    assert.ok(rows.length >= 40, 'the demo has about 40 resources');
    const cases: SearchFilters[] = [
      none,
      { ...none, types: ['video', 'briefing'] },
      { ...none, topics: ['maintaining-links'], audiences: ['parents'] },
      { ...none, lengths: ['under-10', '10-30'], byParents: true },
      { ...none, languages: ['cy'], types: ['guide'] },
      {
        ...none,
        types: ['report'],
        topics: ['commissioning', 'fathers'],
        lengths: [...LENGTH_BANDS],
      },
    ];
    for (const f of cases) {
      const got = await t.app.services.resources.search(f, 'newest', 1, 100);
      const want = expectedFacets(rows, f);
      const label = JSON.stringify(f);
      assert.deepEqual(got.facets.type, want.type, `type counts for ${label}`);
      assert.deepEqual(got.facets.topic, want.topic, `topic counts for ${label}`);
      assert.deepEqual(got.facets.audience, want.audience, `audience counts for ${label}`);
      assert.deepEqual(got.facets.length, want.length, `length counts for ${label}`);
      assert.deepEqual(got.facets.parents, want.parents, `parents counts for ${label}`);
      assert.deepEqual(got.facets.language, want.language, `language counts for ${label}`);
      assert.equal(got.total, want.total, `total for ${label}`);
    }
    // With a text query: facets over exactly the rows the query matches.
    const matched = await t.app.services.resources.search(
      { ...none, q: 'contact' },
      'relevant',
      1,
      500,
    );
    const ids = new Set(matched.rows.map((r) => r.id));
    assert.ok(ids.size > 0 && ids.size < rows.length, 'the query narrows the results');
    const want = expectedFacets(
      rows.filter((r) => ids.has(r.id)),
      none,
    );
    assert.deepEqual(matched.facets.type, want.type);
    assert.deepEqual(matched.facets.topic, want.topic);

    // And the page shows the same numbers in its filters.
    const page = await t.app.inject('/resources?type=video');
    const all = expectedFacets(rows, { ...none, types: ['video'] });
    assert.match(page.body, new RegExp(`Videos \\(${all.type.video}\\)`));
    assert.match(page.body, new RegExp(`${all.total} resources?<`));
  });

  test('search ranks a title match above a body match, and filters are links that can be shared', async () => {
    const res = await t.app.services.resources.search(
      { ...none, q: 'farewell contact' },
      'relevant',
      1,
      5,
    );
    // The two with both words in their titles come first (the webinar's slides, whose title
    // has the words side by side, then the video), before any with them in the text only.
    assert.deepEqual(
      res.rows.slice(0, 2).map((r) => r.slug),
      ['farewell-contact-webinar-slides', 'farewell-contact-sessions-video'],
    );
    const page = await t.app.inject('/resources?q=farewell&sort=shortest&topic=maintaining-links');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Remove filter: <\/span>Maintaining links/);
    assert.match(
      page.body,
      /href="\/resources\?q=farewell&amp;sort=shortest"/,
      'removing the filter keeps the rest',
    );
    const bad = await t.app.inject('/resources?type=nonsense&page=-4&length=x');
    assert.equal(bad.statusCode, 200, 'unknown filter values are ignored, not an error');
  });

  test('a resource page has its file, citation, related resources and JSON-LD', async () => {
    const res = await t.app.inject('/resources/keeping-in-touch-key-messages');
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /8 minute read/);
    assert.match(res.body, /How to cite/);
    assert.match(res.body, /A\. Example; B\. Sample \(2024\) Keeping in touch after removal/);
    assert.match(res.body, /Related resources/);
    const ld = /<script type="application\/ld\+json"[^>]*>([^<]+)<\/script>/.exec(res.body);
    const data = JSON.parse(ld![1]!) as Record<string, unknown>;
    assert.equal(data['@type'], 'Report');
    assert.equal(data.name, 'Keeping in touch after removal: key messages for practitioners');
    assert.equal(data.timeRequired, 'PT8M');

    const video = await t.app.inject('/resources/farewell-contact-sessions-video');
    assert.match(video.body, /20 minute video/);
    assert.match(
      video.body,
      /data-sp-embed="https:\/\/www\.youtube-nocookie\.com\/embed\/demoVideo01"/,
    );
    assert.doesNotMatch(video.body, /<iframe/, 'the player loads only when asked');
    assert.match(video.body, /Captions: farewell-contact-sessions-video\.vtt/);
  });

  test('related resources: published ones sharing most topics, newest first among equals; any topic text is one parameter', async () => {
    const repo = createResourcesRepository(t.database.db);
    const resource = (await repo.bySlug('keeping-in-touch-key-messages'))!;
    assert.ok(resource.topics.length > 0);
    // Worked out here in plain SQL, apart from the repository's query.
    const expected = await t.database.query<{ slug: string; overlap: number }>(
      `SELECT slug, cardinality(ARRAY(SELECT unnest(topics) INTERSECT SELECT unnest($1::text[]))) AS overlap
       FROM (SELECT * FROM resources WHERE status = 'published' AND id <> $2 AND topics && $1::text[]
             ORDER BY published_on DESC NULLS LAST LIMIT 50) c
       ORDER BY overlap DESC, published_on DESC NULLS LAST`,
      [resource.topics, resource.id],
    );
    const related = await repo.related(resource, 4);
    assert.ok(related.length > 0 && related.length <= 4);
    assert.ok(related.every((r) => r.slug !== resource.slug && r.status === 'published'));
    const overlapOf = new Map(expected.map((e) => [e.slug, Number(e.overlap)]));
    const overlaps = related.map((r) => overlapOf.get(r.slug));
    assert.ok(
      overlaps.every((o) => o !== undefined && o > 0),
      'each shares a topic',
    );
    assert.deepEqual(
      overlaps,
      [...overlaps].sort((a, b) => b! - a!),
      'most shared first',
    );
    assert.equal(overlaps[0], Number(expected[0]!.overlap));
    // Topic text with quotes, backslashes, commas and braces matches only itself.
    const odd = ['a "quoted", {braced} topic', 'back\\slash'];
    await t.database.query(`UPDATE resources SET topics = topics || $1::text[] WHERE id = $2`, [
      odd,
      related[0]!.id,
    ]);
    const byOdd = await repo.related(
      { ...resource, id: 'aaaaaaaa-0000-4000-8000-000000000000', topics: odd },
      4,
    );
    assert.deepEqual(
      byOdd.map((r) => r.slug),
      [related[0]!.slug],
    );
    await t.database.query(
      `UPDATE resources SET topics = array(SELECT unnest(topics) EXCEPT SELECT unnest($1::text[])) WHERE id = $2`,
      [odd, related[0]!.id],
    );
  });

  test('a file named report.pdf that is really an executable is refused; a real PDF comes back byte-identical, with ranges', async () => {
    const fields = {
      title: 'Our leaflet for parents',
      summary: 'A leaflet we made with parents.',
      type: 'guide',
      topics: ['lived-experience'],
      audiences: ['parents'],
      language: 'en',
    };
    const exe = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200, 0x90)]);
    const refused = await submitMultipart(
      t.app,
      '/resources/submit',
      '/resources/submit',
      fields,
      [{ name: 'file', filename: 'report.pdf', content: exe, type: 'application/pdf' }],
      member,
    );
    assert.equal(refused.res.statusCode, 400);
    assert.match(
      refused.res.body,
      /report\.pdf must be a PDF, PowerPoint, Word, OpenDocument, MP4, MP3 or WebVTT file/,
    );
    assert.match(refused.res.body, /value="Our leaflet for parents"/, 'what was typed is kept');
    const [counted] = await t.database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM resources WHERE title = 'Our leaflet for parents'`,
    );
    assert.equal(counted?.n, 0, 'nothing half-written');

    const pdf = await realPdf('A real PDF');
    const renamed = await submitMultipart(
      t.app,
      '/resources/submit',
      '/resources/submit',
      fields,
      [{ name: 'file', filename: 'leaflet.docx', content: pdf }],
      member,
    );
    assert.equal(renamed.res.statusCode, 400);
    assert.match(renamed.res.body, /leaflet\.docx is really a PDF file/);

    const ok = await submitMultipart(
      t.app,
      '/resources/submit',
      '/resources/submit',
      fields,
      [{ name: 'file', filename: 'leaflet.pdf', content: pdf }],
      member,
    );
    assert.equal(ok.res.statusCode, 303);
    const [row] = await t.database.query<{ slug: string; id: string }>(
      `SELECT slug, id FROM resources WHERE title = 'Our leaflet for parents'`,
    );
    const [file] = await t.database.query<{ id: string }>(
      'SELECT id FROM resource_files WHERE resource_id = $1',
      [row!.id],
    );
    const url = `/resources/${row!.slug}/files/${file!.id}`;
    const visitor = await t.app.inject(url);
    assert.equal(visitor.statusCode, 404, 'a submission is not public');
    const whole = await t.app.inject({ url, headers: { cookie: member } });
    assert.equal(whole.statusCode, 200, 'the member who sent it can see it');
    assert.equal(whole.headers['content-type'], 'application/pdf');
    assert.match(String(whole.headers['content-disposition']), /inline; filename="?leaflet\.pdf/);
    assert.ok(whole.rawPayload.equals(pdf), 'byte-identical');

    const part = await t.app.inject({ url, headers: { cookie: member, range: 'bytes=5-24' } });
    assert.equal(part.statusCode, 206);
    assert.equal(part.headers['content-range'], `bytes 5-24/${pdf.length}`);
    assert.ok(part.rawPayload.equals(pdf.subarray(5, 25)));
    const tail = await t.app.inject({ url, headers: { cookie: member, range: 'bytes=-10' } });
    assert.equal(tail.statusCode, 206);
    assert.ok(tail.rawPayload.equals(pdf.subarray(pdf.length - 10)));
    const beyond = await t.app.inject({
      url,
      headers: { cookie: member, range: `bytes=${pdf.length + 5}-` },
    });
    assert.equal(beyond.statusCode, 416);
    assert.equal(beyond.headers['content-range'], `bytes */${pdf.length}`);
  });

  test('a member’s submission reaches the queue, is published by an editor, appears in search and the feed, and the member is emailed', async () => {
    const fields = {
      title: 'Zephyrine peer group toolkit',
      summary: 'How we run a peer group for mothers.',
      body: 'We meet weekly.\n\n<script>alert(1)</script> [bad](javascript:alert(1)) **bold**',
      type: 'tool',
      topics: ['lived-experience', 'trauma-informed'],
      audiences: ['practitioners', 'parents'],
      externalUrl: 'https://www.example.org/demo/toolkit',
      byParents: 'yes',
      lengthMinutes: '15',
      language: 'en',
    };
    const sent = await submitMultipart(
      t.app,
      '/resources/submit',
      '/resources/submit',
      fields,
      [],
      member,
    );
    assert.equal(sent.res.statusCode, 303);
    const queue = await t.app.inject({
      url: '/admin/resources?status=submitted',
      headers: { cookie: editor },
    });
    assert.equal(queue.statusCode, 200);
    assert.match(queue.body, /Zephyrine peer group toolkit/);
    const refused = await t.app.inject({ url: '/admin/resources', headers: { cookie: member } });
    assert.equal(refused.statusCode, 403, 'a member cannot open the queue');

    const search = () =>
      t.app.services.resources.search({ ...none, q: 'zephyrine' }, 'relevant', 1, 10);
    assert.equal((await search()).total, 0, 'not in search before publishing');
    const [row] = await t.database.query<{ id: string; slug: string; body_html: string }>(
      `SELECT id, slug, body_html FROM resources WHERE title = $1`,
      [fields.title],
    );
    assert.doesNotMatch(
      row!.body_html,
      /<script|href="javascript:/i,
      'rich text is sanitised: no element, no link',
    );
    assert.match(row!.body_html, /<strong>bold<\/strong>/);

    const published = await submit(
      t.app,
      `/admin/resources/${row!.id}`,
      `/admin/resources/${row!.id}/status`,
      { action: 'publish' },
      editor,
    );
    assert.equal(published.res.statusCode, 303);
    assert.equal((await search()).total, 1, 'in search once published');
    const feed = await t.app.inject('/resources/feed.atom');
    assert.equal(feed.statusCode, 200);
    strictParse(feed.body);
    const parsed = parseFeed(feed.body);
    assert.ok(
      parsed.items.some(
        (i) => i.title === fields.title && i.url?.endsWith(`/resources/${row!.slug}`),
      ),
    );
    const mail = (await sentMail(t.app)).find(
      (m) => m.to === 'member@example.org' && /published/.test(m.subject),
    );
    assert.ok(mail, 'the member is emailed');
    assert.match(mail.text, new RegExp(`/resources/${row!.slug}`));
  });

  test('declining emails the reason; archiving keeps the page, marked', async () => {
    const sent = await submitMultipart(
      t.app,
      '/resources/submit',
      '/resources/submit',
      {
        title: 'A resource to decline',
        summary: 'Not quite ready.',
        type: 'paper',
        topics: ['fathers'],
        audiences: ['researchers'],
        externalUrl: 'https://www.example.org/paper',
      },
      [],
      member,
    );
    assert.equal(sent.res.statusCode, 303);
    const [row] = await t.database.query<{ id: string }>(
      `SELECT id FROM resources WHERE title = 'A resource to decline'`,
    );
    const noReason = await submit(
      t.app,
      `/admin/resources/${row!.id}`,
      `/admin/resources/${row!.id}/status`,
      { action: 'decline', reason: '' },
      editor,
    );
    assert.equal(noReason.res.statusCode, 400);
    assert.match(noReason.res.body, /Enter the reason for declining/);
    const declined = await submit(
      t.app,
      `/admin/resources/${row!.id}`,
      `/admin/resources/${row!.id}/status`,
      { action: 'decline', reason: 'Please add the date it was published.' },
      editor,
    );
    assert.equal(declined.res.statusCode, 303);
    const mail = (await sentMail(t.app)).find((m) =>
      /was not published: A resource to decline/.test(m.subject),
    );
    assert.match(mail!.text, /Please add the date it was published\./);

    const [pub] = await t.database.query<{ id: string }>(
      `SELECT id FROM resources WHERE slug = 'contact-evidence-review'`,
    );
    const archived = await submit(
      t.app,
      `/admin/resources/${pub!.id}`,
      `/admin/resources/${pub!.id}/status`,
      { action: 'archive' },
      editor,
    );
    assert.equal(archived.res.statusCode, 303);
    const page = await t.app.inject('/resources/contact-evidence-review');
    assert.equal(page.statusCode, 200, 'an archived page stays reachable');
    assert.match(page.body, /This resource is archived/);
    const found = await t.app.services.resources.search(
      { ...none, q: 'evidence review contact wellbeing' },
      'relevant',
      1,
      50,
    );
    assert.ok(
      !found.rows.some((r) => r.slug === 'contact-evidence-review'),
      'archived resources leave search',
    );
    await submit(
      t.app,
      `/admin/resources/${pub!.id}`,
      `/admin/resources/${pub!.id}/status`,
      { action: 'restore' },
      editor,
    );
  });

  test('editors create with validation, preview a draft, and arrange a topic page', async () => {
    const empty = await submitMultipart(
      t.app,
      '/admin/resources/new',
      '/admin/resources/new',
      { title: '', summary: '' },
      [],
      editor,
    );
    assert.equal(empty.res.statusCode, 400);
    for (const msg of [
      'Enter a title',
      'Enter a summary',
      'Select the type of resource',
      'Select at least one topic',
      'Upload a file or enter a link',
    ])
      assert.ok(empty.res.body.includes(msg) || msg === 'Upload a file or enter a link', msg);
    assert.match(empty.res.body, /<title>Error: /);
    const wrong = await submitMultipart(
      t.app,
      '/admin/resources/new',
      '/admin/resources/new',
      {
        title: 'x'.repeat(201),
        summary: 'S',
        type: 'paper',
        topics: 'fathers',
        audiences: 'researchers',
        lengthMinutes: '0',
        'publishedOn-day': '31',
        'publishedOn-month': '2',
        'publishedOn-year': '2024',
        externalUrl: 'ftp://www.example.org/x',
      },
      [],
      editor,
    );
    assert.equal(wrong.res.statusCode, 400);
    assert.match(wrong.res.body, /This answer must be 200 characters or fewer/);
    assert.match(wrong.res.body, /Enter the length as a whole number of minutes/);
    assert.match(wrong.res.body, /Date published must be a real date/);
    assert.match(wrong.res.body, /id="externalUrl-error"/);
    assert.ok(wrong.res.body.includes('value="ftp://www.example.org/x"'), 'what was typed is kept');
    const clash = await submitMultipart(
      t.app,
      '/admin/resources/new',
      '/admin/resources/new',
      {
        title: 'Another',
        slug: 'contact-evidence-review',
        summary: 'S',
        type: 'paper',
        topics: 'fathers',
        audiences: 'researchers',
        externalUrl: 'https://www.example.org/x',
      },
      [],
      editor,
    );
    assert.match(clash.res.body, /Another resource already uses this web address/);
    const draft = await submitMultipart(
      t.app,
      '/admin/resources/new',
      '/admin/resources/new',
      {
        title: 'Draft for preview',
        summary: 'S',
        type: 'paper',
        topics: 'fathers',
        audiences: 'researchers',
        externalUrl: 'https://www.example.org/x',
        action: 'preview',
      },
      [],
      editor,
    );
    assert.equal(draft.res.statusCode, 303);
    assert.equal(draft.res.headers.location, '/resources/draft-for-preview');
    const preview = await t.app.inject({
      url: '/resources/draft-for-preview',
      headers: { cookie: editor },
    });
    assert.match(preview.body, /Preview: this resource is draft/);
    assert.equal(
      (await t.app.inject('/resources/draft-for-preview')).statusCode,
      404,
      'visitors cannot see drafts',
    );

    const bad = await submit(
      t.app,
      '/admin/topics/fathers',
      '/admin/topics/fathers',
      {
        intro: 'Fathers matter.',
        section_0_heading: 'Start',
        section_0_items: 'no-such-resource | x',
      },
      editor,
    );
    assert.equal(bad.res.statusCode, 400);
    assert.match(bad.res.body, /These resources could not be found: no-such-resource/);
    const good = await submit(
      t.app,
      '/admin/topics/fathers',
      '/admin/topics/fathers',
      {
        intro: 'Fathers **matter**.',
        section_0_heading: 'Read first',
        section_0_items:
          '/resources/contraception-conversations | A short one\nkeeping-in-touch-key-messages',
        section_1_heading: 'Then',
        section_1_items: 'https://example.org/resources/contact-evidence-review',
      },
      editor,
    );
    assert.equal(good.res.statusCode, 303);
    const topic = await t.app.inject('/topics/fathers');
    assert.match(topic.body, /<strong>matter<\/strong>/);
    const order = [
      'Read first',
      'Talking about contraception',
      'A short one',
      'Keeping in touch after removal',
      'Then',
      'Contact and wellbeing',
    ];
    const at = order.map((s) => topic.body.indexOf(s));
    assert.ok(
      at.every((i, n) => i > 0 && (n === 0 || i > at[n - 1]!)),
      `sections in order: ${at.join(',')}`,
    );
  });

  test('video links become privacy-enhanced players', () => {
    assert.equal(
      videoEmbed('https://www.youtube.com/watch?v=abcDEF12345')?.embedUrl,
      'https://www.youtube-nocookie.com/embed/abcDEF12345',
    );
    assert.equal(videoEmbed('https://youtu.be/abcDEF12345')?.provider, 'YouTube');
    assert.equal(
      videoEmbed('https://vimeo.com/123456789')?.embedUrl,
      'https://player.vimeo.com/video/123456789?dnt=1',
    );
    assert.equal(videoEmbed('https://www.example.org/watch?v=abcDEF12345'), undefined);
    assert.equal(videoEmbed('javascript:alert(1)'), undefined);
  });
});
