import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import type { CurrentUser } from '../../platform/auth.ts';
import type { ResourceInput } from '../resources/service.ts';
import type { SearchOutcome } from './service.ts';

/**
 * What a person searching the demo content should find near the top. Every
 * expectation names the thing by what the database says it is (a slug, a
 * title), never by a list copied from the search's own answers: these were
 * written before any tuning, as a searcher would judge the results.
 */

/** Leeds city centre: the one postcode the fake geocoder knows. */
const LEEDS = { postcode: 'LS1 4AP', lat: 53.7997, lng: -1.5492 };

describe('search relevance over the demo content', () => {
  let t: TestApp;
  let geocoder: Server;
  let editor: CurrentUser;
  let member: CurrentUser;

  const search = (q: string, viewer?: CurrentUser, page = 1): Promise<SearchOutcome> =>
    t.app.services.search.search(viewer, { q, kinds: [], date: 'any', page });

  /** Every result of a query, following its pages. */
  async function everyResult(q: string, viewer?: CurrentUser) {
    const first = await search(q, viewer);
    const all = [...first.results];
    for (let page = 2; page <= first.pages; page++)
      all.push(...(await search(q, viewer, page)).results);
    return all;
  }

  /** The top `n` results, and a readable account of them for a failing assertion. */
  async function top(q: string, viewer?: CurrentUser, n = 3) {
    const outcome = await search(q, viewer);
    const shown = outcome.results.slice(0, n);
    const said = `"${q}" → ${
      outcome.results
        .slice(0, 6)
        .map((r) => `${r.kind} ${r.url} (${r.title})`)
        .join('; ') || 'nothing'
    }`;
    return { outcome, urls: shown.map((r) => r.url), results: shown, said };
  }

  /** Each of these addresses is among the top three results of the query. */
  async function inTop3(q: string, urls: string[], viewer?: CurrentUser) {
    assert.ok(urls.length > 0, `an expectation for "${q}"`);
    const found = await top(q, viewer);
    for (const url of urls)
      assert.ok(found.urls.includes(url), `${url} in the top 3 of ${found.said}`);
    return found;
  }

  /** At least one of these addresses is among the top three. */
  async function oneInTop3(q: string, urls: string[], viewer?: CurrentUser) {
    assert.ok(urls.length > 0, `an expectation for "${q}"`);
    const found = await top(q, viewer);
    assert.ok(
      urls.some((u) => found.urls.includes(u)),
      `one of ${urls.join(', ')} in the top 3 of ${found.said}`,
    );
    return found;
  }

  // --- the demo content, as the features' own tables hold it

  async function resourceUrl(slug: string): Promise<string> {
    const [r] = await t.database.query<{ slug: string }>(
      `SELECT slug FROM resources WHERE slug = $1 AND status = 'published'`,
      [slug],
    );
    assert.ok(r, `the demo has the published resource ${slug}`);
    return `/resources/${r.slug}`;
  }
  async function resourceUrls(where: string, params: unknown[] = []): Promise<string[]> {
    const rows = await t.database.query<{ slug: string }>(
      `SELECT slug FROM resources WHERE status = 'published' AND (${where}) ORDER BY slug`,
      params,
    );
    return rows.map((r) => `/resources/${r.slug}`);
  }
  async function topicUrl(slug: string): Promise<string> {
    const [r] = await t.database.query<{ slug: string }>(
      `SELECT slug FROM topics WHERE slug = $1`,
      [slug],
    );
    assert.ok(r, `the demo has the topic ${slug}`);
    return `/topics/${r.slug}`;
  }
  async function serviceUrls(where: string, params: unknown[] = []): Promise<string[]> {
    const rows = await t.database.query<{ slug: string }>(
      `SELECT slug FROM services WHERE status <> 'closed' AND (${where}) ORDER BY slug`,
      params,
    );
    return rows.map((r) => `/services/${r.slug}`);
  }
  async function articleUrl(kind: 'news' | 'story', titleLike: string): Promise<string> {
    const rows = await t.database.query<{ slug: string }>(
      `SELECT slug FROM articles WHERE kind = $1 AND status = 'published' AND title ILIKE $2`,
      [kind, titleLike],
    );
    assert.equal(rows.length, 1, `one published ${kind} titled like ${titleLike}`);
    return `/${kind === 'news' ? 'news' : 'stories'}/${rows[0]!.slug}`;
  }
  async function statementUrl(textLike: string): Promise<string> {
    const rows = await t.database.query<{ slug: string; ref: string }>(
      `SELECT g.slug, s.ref FROM guideline_statements s
       JOIN guideline_versions v ON v.id = s.version_id JOIN guidelines g ON g.id = v.guideline_id
       WHERE s.text ILIKE $1`,
      [textLike],
    );
    assert.ok(rows.length >= 1, `a guideline statement like ${textLike}`);
    return `/guidelines/${rows[0]!.slug}/${rows[0]!.ref}`;
  }
  async function threadUrl(title: string): Promise<string> {
    const rows = await t.database.query<{ id: string; slug: string }>(
      `SELECT t.id, s.slug FROM threads t JOIN community_spaces s ON s.id = t.space_id
       WHERE t.title = $1 AND NOT t.hidden`,
      [title],
    );
    assert.equal(rows.length, 1, `one thread titled ${title}`);
    return `/community/${rows[0]!.slug}/${rows[0]!.id}`;
  }
  async function eventUrl(titleLike: string): Promise<string> {
    const rows = await t.database.query<{ slug: string }>(
      `SELECT slug FROM events WHERE status = 'published' AND title ILIKE $1`,
      [titleLike],
    );
    assert.equal(rows.length, 1, `one published event titled like ${titleLike}`);
    return `/events/${rows[0]!.slug}`;
  }
  const userRow = async (email: string): Promise<CurrentUser> => {
    const [u] = await t.database.query<{
      id: string;
      display_name: string;
      role: CurrentUser['role'];
      approved_at: Date | null;
    }>(`SELECT id, display_name, role, approved_at FROM users WHERE email = $1`, [email]);
    assert.ok(u, email);
    return {
      id: u.id,
      displayName: u.display_name,
      role: u.role,
      approved: u.approved_at !== null || u.role !== 'member',
      totpEnabled: u.role !== 'member',
    };
  };

  /** A resource written by an editor through the resources service, published, and indexed. */
  async function publishResource(
    input: Partial<ResourceInput> & { title: string },
  ): Promise<string> {
    const [topic] = await t.app.services.resources.allTopics();
    const saved = await t.app.services.resources.editorSave(
      editor,
      undefined,
      {
        summary: input.title,
        body: input.title,
        type: 'guide',
        topics: [topic!.slug],
        audiences: ['practitioners'],
        authors: 'Relevance Test',
        organisation: 'Relevance Test Organisation',
        licence: 'CC BY 4.0',
        byParents: false,
        language: 'en',
        externalUrl: 'https://www.example.org/relevance',
        ...input,
      },
      [],
      'published',
    );
    assert.ok(saved?.ok, JSON.stringify(saved));
    await t.app.services.search.settled();
    return `/resources/${saved.resource.slug}`;
  }

  before(async () => {
    // A postcodes.io-shaped geocoder on loopback: it knows one postcode in Leeds.
    geocoder = createServer((req, res) => {
      const known = req.url === `/postcodes/${encodeURIComponent(LEEDS.postcode)}`;
      res.writeHead(known ? 200 : 404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          known
            ? {
                status: 200,
                result: { postcode: LEEDS.postcode, latitude: LEEDS.lat, longitude: LEEDS.lng },
              }
            : { status: 404, error: 'Postcode not found' },
        ),
      );
    });
    await new Promise<void>((resolve) => geocoder.listen(0, '127.0.0.1', resolve));
    const { port } = geocoder.address() as AddressInfo;
    t = await testApp({ seed: true, config: { geocoderUrl: `http://127.0.0.1:${port}` } });
    editor = await userRow('editor@example.org');
    member = await userRow('member@example.org');
  });
  after(async () => {
    await t?.close();
    geocoder?.close();
  });

  test('"contact": every published resource whose title or summary says contact, the best of them first', async () => {
    const saysContact = await resourceUrls(`title ~* '\\mcontact' OR summary ~* '\\mcontact'`);
    assert.ok(saysContact.length >= 3, 'the demo has resources about contact');
    const all = (await everyResult('contact')).map((r) => r.url);
    for (const url of saysContact) assert.ok(all.includes(url), `"contact" finds ${url}`);
    // The first three are resources with contact in their very title.
    const inTitle = await resourceUrls(`title ~* '\\mcontact'`);
    const found = await top('contact');
    assert.equal(found.urls.length, 3, found.said);
    for (const url of found.urls) assert.ok(inTitle.includes(url), `${url}: ${found.said}`);
  });

  test('"farewell contact": the two resources about farewell contact come first', async () => {
    await inTop3('farewell contact', [
      await resourceUrl('farewell-contact-sessions-video'),
      await resourceUrl('farewell-contact-webinar-slides'),
    ]);
    // A member also finds the community's discussion of it on the first page.
    const discussion = await threadUrl('Farewell contact: what went well for you?');
    const asMember = await search('farewell contact', member);
    assert.ok(asMember.results.some((r) => r.url === discussion));
  });

  test('Welsh mutations: "ofal" finds "gofal", "chymorth" finds "cymorth"', async () => {
    const gofal = await serviceUrls(`description_cy ~* '\\mgofal\\M' OR name_cy ~* '\\mgofal\\M'`);
    const gofalAnywhere = (
      await t.database.query<{ url: string }>(
        `SELECT url FROM search_documents WHERE concat_ws(' ', title_cy, summary_cy, body_cy, CASE WHEN language = 'cy' THEN body END) ~* '\\mgofal\\M'`,
      )
    ).map((r) => r.url);
    assert.ok(gofalAnywhere.length > 0, 'the demo has Welsh text saying "gofal"');
    assert.ok(gofal.every((u) => gofalAnywhere.includes(u)));
    for (const q of ['ofal', 'gofal', 'ngofal']) await oneInTop3(q, gofalAnywhere);

    const cymorth = (
      await t.database.query<{ url: string }>(
        `SELECT url FROM search_documents WHERE concat_ws(' ', title_cy, summary_cy, body_cy, CASE WHEN language = 'cy' THEN concat_ws(' ', title, body) END) ~* '\\m(c|g|ngh|ch)ymorth\\M'`,
      )
    ).map((r) => r.url);
    assert.ok(cymorth.length >= 3, 'the demo has Welsh text saying "cymorth"');
    const found = await top('chymorth');
    assert.equal(found.urls.length, 3, found.said);
    for (const url of found.urls)
      assert.ok(cymorth.includes(url), `${url} says cymorth: ${found.said}`);
    // And the radical form finds the mutated one: "cymorth" finds "chymorth" in a topic's Welsh name.
    const chymorthTopics = (
      await t.database.query<{ slug: string }>(
        `SELECT slug FROM topics WHERE name_cy ~* '\\mchymorth\\M'`,
      )
    ).map((r) => `/topics/${r.slug}`);
    assert.ok(chymorthTopics.length > 0);
    const all = (await everyResult('cymorth')).map((r) => r.url);
    for (const url of chymorthTopics) assert.ok(all.includes(url), `"cymorth" finds ${url}`);
  });

  test('Welsh words: accents ignored, a Welsh resource and Welsh names found', async () => {
    const welsh = await publishResource({
      title: 'Tŷ agored: cyngor i rieni ar ôl mabwysiadu',
      summary: 'Canllaw byr i rieni sy’n cadw mewn cysylltiad â’u plant ar ôl mabwysiadu.',
      body: 'Mae’r canllaw hwn yn esbonio’r camau nesaf, gan gynnwys llythyrau a chyfarfodydd.',
      language: 'cy',
    });
    await inTop3('ty agored', [welsh]);
    await inTop3('tŷ agored', [welsh]);
    await inTop3('ol mabwysiadu', [welsh]);
    await inTop3('ÔL MABWYSIADU', [welsh]);
    // The demo's own Welsh resource, by its words, mutated or not.
    const canllaw = await resourceUrl('canllaw-cyswllt-rhieni');
    await inTop3('cadw mewn cysylltiad', [canllaw]);
    await inTop3('canllaw i rieni', [canllaw]);
    // A service's Welsh name, and a topic's.
    await oneInTop3(
      'Llys Teulu Cyffuriau ac Alcohol',
      await serviceUrls(`name_cy ILIKE 'Llys Teulu Cyffuriau ac Alcohol%'`),
    );
    await inTop3('achosion y llys teulu', [await topicUrl('family-court')]);
    // A discussion whose title has "â", asked without it, by a member.
    await inTop3(
      'cydweithio a byrddau iechyd',
      [await threadUrl('Cydweithio â byrddau iechyd / Working with health boards')],
      member,
    );
  });

  test('a postcode or a place gives the services near it', async () => {
    const byPostcode = await search(LEEDS.postcode);
    assert.ok(byPostcode.near, 'a postcode is understood');
    assert.equal(byPostcode.near.label, LEEDS.postcode);
    assert.ok(byPostcode.near.services.length > 0);
    const miles = byPostcode.near.services.map((s) => s.miles ?? Infinity);
    assert.deepEqual(
      miles,
      [...miles].sort((a, b) => a - b),
      'nearest first',
    );
    const listed = new Set(await serviceUrls('true'));
    for (const s of byPostcode.near.services) assert.ok(listed.has(s.href), s.href);

    const fdacLeeds = await search('FDAC Leeds');
    assert.equal(fdacLeeds.near?.label, 'Leeds');
    const fdac = await serviceUrls(`model = 'fdac'`);
    assert.ok(fdac.length >= 3, 'the demo has FDAC services');
    const found = await top('FDAC Leeds');
    for (const url of found.urls) assert.ok(fdac.includes(url), `${url} is an FDAC: ${found.said}`);

    const inLeeds = await top('services in Leeds');
    assert.equal(inLeeds.outcome.near?.label, 'Leeds');
    assert.ok(inLeeds.outcome.near.services.length > 0);
    assert.ok(
      inLeeds.results.some((r) => r.kind === 'service'),
      `a service among the top 3: ${inLeeds.said}`,
    );

    // A place the demo has a service in: that service first.
    await inTop3('services in Swansea', await serviceUrls(`slug LIKE '%swansea%'`));
    await inTop3('FDAC Salford', await serviceUrls(`model = 'fdac' AND slug LIKE '%salford%'`));
    // A place by its Welsh name.
    const abertawe = await search('Abertawe');
    assert.equal(abertawe.near?.label, 'Swansea');
    await inTop3('Abertawe', await serviceUrls(`slug LIKE '%swansea%'`));
  });

  test('synonyms: FDAC and its full name, looked after and LAC, recurrent and repeat removals', async () => {
    const fdac = await serviceUrls(`model = 'fdac'`);
    for (const q of ['family drug and alcohol court', 'fdac', 'FDAC']) {
      const found = await top(q);
      assert.equal(found.urls.length, 3, found.said);
      for (const url of found.urls)
        assert.ok(fdac.includes(url), `${url} is an FDAC: ${found.said}`);
    }
    // The story says "family drug and alcohol court", never "FDAC": the abbreviation finds it.
    const story = await articleUrl('story', '%family drug and alcohol court%');
    assert.ok(
      (await everyResult('fdac')).some((r) => r.url === story),
      '"fdac" finds the story',
    );

    // The demo says neither "looked after" nor "LAC": two resources that do.
    const saysLac = await publishResource({
      title: 'Family time for LAC: planning with birth parents',
      summary: 'How to plan family time for children in care with their birth parents.',
    });
    const saysLookedAfter = await publishResource({
      title: 'Looked after children and their birth parents: a short guide',
      summary: 'What helps when a child is in care and a parent wants to stay part of their life.',
    });
    // And one that only says "look": "after" is too common to index, so "looked after" alone
    // would be searched as "look". The demo's group says "looked after children" instead, and a
    // group saved before the form refused such terms is searched without them.
    const saysLook = await publishResource({
      title: 'Look at the plan together, after each meeting',
      summary: 'A checklist for reviewing a family plan with a parent.',
    });
    await inTop3('looked after children', [saysLac, saysLookedAfter]);
    await inTop3('LAC', [saysLac, saysLookedAfter]);
    const lac = async () => (await everyResult('LAC')).map((r) => r.url);
    assert.ok(!(await lac()).includes(saysLook), '"LAC" does not find "look"');
    await t.database.query(`INSERT INTO search_synonyms (terms) VALUES ('{lac,"looked after"}')`);
    // (Removing a group that is not there empties the service's cache of groups, as an edit does.)
    await t.app.services.search.removeSynonyms(editor, -1);
    assert.ok(!(await lac()).includes(saysLook), 'an old group with "looked after": still not');
    await inTop3('LAC', [saysLac, saysLookedAfter]);

    // "recurrent" is what the demo says; "repeat removals" is what a searcher may type.
    const recurrent = await resourceUrls(`title ~* '\\mrecurrent\\M'`);
    assert.ok(recurrent.length >= 3);
    for (const q of ['repeat removals', 'repeat care proceedings', 'recurrent']) {
      const found = await top(q);
      assert.equal(found.urls.length, 3, found.said);
      for (const url of found.urls)
        assert.ok(recurrent.includes(url), `${url} is about recurrent proceedings: ${found.said}`);
    }
    // Pre-birth, prebirth, unborn.
    for (const q of ['prebirth', 'unborn', 'before birth'])
      await inTop3(q, [await topicUrl('pre-birth')]);
  });

  test('a phrase in quotes: only what has those words together', async () => {
    const phrase = await everyResult('"keeping links"');
    assert.ok(phrase.length > 0);
    for (const r of phrase) {
      const [doc] = await t.database.query<{ text: string }>(
        `SELECT concat_ws(' ', title, summary, body) AS text FROM search_documents WHERE url = $1`,
        [r.url],
      );
      assert.match(doc!.text, /keeping links/i, r.url);
    }
    await inTop3('"keeping links"', [await resourceUrl('farewell-contact-webinar-slides')]);
    // Quoted, the words in another order find nothing that only has them apart.
    const apart = await search('"links keeping"');
    assert.equal(apart.results.length, 0, 'the words in another order are not the phrase');
    const loose = await search('links keeping');
    assert.ok(loose.total >= phrase.length);
  });

  test('guidelines, topics and resources by what they are about', async () => {
    // The statements themselves first; an event launching guidelines may be among them.
    const guidelines = await top('guidelines');
    assert.equal(guidelines.urls.length, 3, guidelines.said);
    assert.equal(guidelines.results[0]!.kind, 'guideline', guidelines.said);
    assert.ok(
      guidelines.results.filter((r) => r.kind === 'guideline').length >= 2,
      `guideline statements: ${guidelines.said}`,
    );
    await inTop3('pre-birth assessment', [await topicUrl('pre-birth')]);
    await inTop3('independent legal advice before the birth', [
      await statementUrl('%independent legal advice%'),
    ]);
    await inTop3('named social worker', [await statementUrl('%named social worker%')]);
    await inTop3('privacy on the ward', [await statementUrl('%privacy on the ward%')]);
    await inTop3('trauma informed practice', [await topicUrl('trauma-informed')]);
    await inTop3('working with fathers', [await topicUrl('fathers')]);
    await inTop3('contraception', [await resourceUrl('contraception-conversations')]);
    await oneInTop3('sexual health', [
      await topicUrl('reproductive-health'),
      await resourceUrl('reproductive-health-slides'),
    ]);
    await inTop3('digital contact', [await resourceUrl('digital-contact-rapid-review')]);
    await inTop3('letterbox letters', [await resourceUrl('letterbox-contact-parents-guide')]);
    await inTop3('parents voices', [await resourceUrl('parents-voices-podcast')]);
  });

  test('"did you mean" for a misspelling', async () => {
    const misspelt = await search('contct');
    assert.equal(misspelt.didYouMean, 'contact');
    const two = await search('farewel contact');
    assert.ok(
      two.results.length > 0 || two.didYouMean === 'farewell contact',
      JSON.stringify(two.didYouMean),
    );
    const fathrs = await search('fathrs');
    assert.equal(fathrs.didYouMean, 'fathers');
    // A word that is spelt right, a mutated Welsh one among them, is not "corrected".
    for (const q of ['gysylltiad', 'contact', 'ofal']) {
      const right = await search(q);
      assert.equal(right.didYouMean, undefined, `"${q}" is not corrected to "${right.didYouMean}"`);
    }
    const cydweithio = await search('cydweithio a byrddau', member);
    assert.ok(cydweithio.results.length > 0);
    assert.equal(cydweithio.didYouMean, undefined, 'what a member finds is not corrected');
  });

  test('a best bet an editor added comes first', async () => {
    const url = await topicUrl('family-court');
    const made = await t.app.services.search.addBestBet(editor, {
      query: 'Going to court',
      url,
      title: '',
    });
    assert.deepEqual(made, {});
    const found = await search('going to court');
    assert.equal(found.bestBet?.url, url);
    assert.equal(found.bestBet.title, 'Family court proceedings');
    assert.equal((await search('  GOING  to court ')).bestBet?.url, url, 'asked another way');
    assert.equal((await search('going to court today')).bestBet, undefined, 'only that query');
  });

  test('events, news, stories and discussions by a distinctive word of their titles', async () => {
    await inTop3('launch Birmingham', [await eventUrl('Launch in Birmingham%')]);
    await inTop3('learning set', [await eventUrl('Learning set for services in Wales%')]);
    await inTop3('webinar farewell contact', [await eventUrl('Webinar: farewell contact%')]);
    await inTop3('national overview', [await articleUrl('news', '%national overview%')]);
    await inTop3('practice week', [await articleUrl('news', 'Practice week%')]);
    await inTop3('Coventry', [await articleUrl('story', '%Coventry%')]);
    await inTop3('County Durham', [await articleUrl('story', '%County Durham%')]);
    await inTop3('babies Newport', [await articleUrl('story', '%Newport%')]);
    // Discussions, for an approved member.
    await inTop3('memory boxes', [await threadUrl('Photographs and memory boxes')], member);
    await inTop3(
      'letterbox contact',
      [await threadUrl('Letterbox contact: helping parents write the first letter')],
      member,
    );
    await inTop3(
      'contraception pressure',
      [await threadUrl('Long-acting contraception: how do you raise it without pressure?')],
      member,
    );
    await inTop3(
      'Cyfarfod rhwydwaith',
      [await threadUrl('Cyfarfod rhwydwaith nesaf / Next network meeting')],
      member,
    );
    await inTop3(
      'travel costs',
      [await threadUrl('Rural outreach: travel costs and time')],
      member,
    );
    // The same words, for a visitor: no discussion.
    const visitor = await search('memory boxes');
    assert.ok(!visitor.results.some((r) => r.kind === 'thread'));
  });
  test('a query that only names a kind lists that kind, newest first: "news", "digwyddiadau", "stories"', async () => {
    const [news] = await t.database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM articles WHERE kind = 'news' AND status = 'published'`,
    );
    const outcome = await search('news');
    assert.equal(outcome.total, news!.n, 'every published news item, and only those');
    assert.deepEqual(Object.keys(outcome.counts), ['news']);
    assert.ok(outcome.results.length > 1);
    assert.ok(outcome.results.every((r) => r.kind === 'news'));
    const dates = outcome.results.map((r) => (r.date ? new Date(r.date).getTime() : 0));
    assert.deepEqual(
      dates,
      [...dates].sort((a, b) => b - a),
      'newest first',
    );
    // Welsh kind words and plurals too; a kind ticked beside them narrows, never widens.
    const events = await search('digwyddiadau');
    assert.ok(events.results.length > 0 && events.results.every((r) => r.kind === 'event'));
    const stories = await search('Stories');
    assert.ok(stories.results.length > 0 && stories.results.every((r) => r.kind === 'story'));
    const none = await t.app.services.search.search(undefined, {
      q: 'news',
      kinds: ['resource'],
      date: 'any',
      page: 1,
    });
    assert.equal(none.total, 0);
    // Discussions, listed for a member, are still only what that member may open.
    const threads = await search('discussions', member);
    const visitor = await search('discussions');
    assert.ok(threads.total >= visitor.total);
    assert.ok(visitor.results.every((r) => r.kind === 'thread'));
  });

  test('a kind named beside other words finds that kind by the other words alone: "news practice week", "stories …"', async () => {
    // None of these says the kind's word: before, "news practice week" needed "news" in the text.
    const says = async (url: string, word: string) =>
      (
        await t.database.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM search_documents
           WHERE url = $1 AND words @@ websearch_to_tsquery('english', $2)`,
          [url, word],
        )
      )[0]!.n > 0;
    // A demo story that does not say its kind's word (some do: "a practice story"). (Every demo
    // event says "event", so events were found this way already.)
    const unsaid = async (
      kind: 'story',
      word: string,
      candidates: readonly (readonly [string, string])[],
    ): Promise<[string, string]> => {
      for (const [like, words] of candidates) {
        const url = await articleUrl(kind, like);
        if (!(await says(url, word))) return [`${word} ${words}`, url];
      }
      throw new Error(`every candidate ${kind} says "${word}"`);
    };
    const story = await unsaid('story', 'stories', [
      ['%Coventry%', 'Coventry'],
      ['%County Durham%', 'County Durham'],
      ['%Newport%', 'babies Newport'],
    ]);
    const cases = [
      ['news practice week', await articleUrl('news', 'Practice week%'), 'news'],
      [story[0], story[1], 'story'],
    ] as const;
    for (const [q, url, kind] of cases) {
      const word = q.split(' ')[0]!;
      assert.ok(
        !(await says(url, word)),
        `${url} does not say "${word}" (or the test proves nothing)`,
      );
      const found = await inTop3(q, [url]);
      assert.equal(found.results[0]!.kind, kind, `the named kind first: ${found.said}`);
    }
    // Other kinds still match on every word, the kind's word included.
    const mixed = await everyResult('news practice week');
    for (const r of mixed.filter((x) => x.kind !== 'news'))
      assert.match(`${r.title} ${r.summary ?? ''} ${r.snippet ?? ''}`, /news/i, r.url);
    // And "services in Leeds" keeps its services first.
    const leeds = await top('services in Leeds');
    assert.ok(
      leeds.results.every((r) => r.kind === 'service'),
      leeds.said,
    );
  });
});
