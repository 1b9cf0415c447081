import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createEventsRepository } from '../../src/features/events/repository.ts';
import type { Locale } from '../../src/platform/i18n/index.ts';
import { linkFromMail } from '../helpers/mail.ts';
import { launchBrowser, type LiveServer, liveServer, noBrowser } from './browser.ts';
import { signIn } from './sign-in.ts';

/**
 * The core journeys (#19), each done with the keyboard alone (Tab, Enter,
 * Space, arrows, typing) and without JavaScript, as a person who cannot use
 * a mouse, or whose scripts failed, would. Every Tab must land on something
 * with a visible focus indicator, and after a page loads the focus is where
 * the page put it (the top, or the part that changed), never lost.
 *
 * Kept fast: one server, one browser, one context per person and variant,
 * no axe (the accessibility suite does that). The journeys run at 1280 px in
 * English; the two whose layout and wording change most on a phone and in
 * Welsh (finding a service, and booking then cancelling) run again at 375 px
 * in Welsh, and those two and posting a thread run once more with JavaScript
 * (the map, the booking form's script, the mention suggestions), so that the
 * enhanced pages are tried by keyboard too. The mobile and Welsh checks of
 * every page are test/e2e/pages.test.ts.
 */

interface Focused {
  id: string;
  tag: string;
  type: string;
  text: string;
  /** The text of the table row it is in, if any. */
  row: string;
  visible: boolean;
}

/** What has the focus, and whether it can be seen (GOV.UK's yellow outline or shadow). */
const focused = (page: Page): Promise<Focused> =>
  // A string, so the test's compiler adds nothing to what runs in the page.
  page.evaluate(`(() => {
    const el = document.activeElement;
    if (!el || el === document.body)
      return { id: '', tag: 'BODY', type: '', text: '', row: '', visible: false };
    const shown = (s) =>
      (s.outlineStyle !== 'none' && s.outlineColor !== 'rgba(0, 0, 0, 0)' && s.outlineWidth !== '0px') ||
      s.boxShadow !== 'none' ||
      s.backgroundColor === 'rgb(255, 221, 0)';
    // Checkboxes and radios are drawn by their label's ::before.
    const label = el.labels && el.labels[0];
    const visible =
      shown(getComputedStyle(el)) ||
      (['checkbox', 'radio'].includes(el.type) && !!label && shown(getComputedStyle(label, '::before')));
    const row = el.closest('tr');
    return {
      id: el.id,
      tag: el.tagName,
      type: el.type || '',
      text: (el.innerText || el.value || '').trim().replace(/\\s+/g, ' '),
      row: row ? row.textContent : '',
      visible,
    };
  })()`);

/** Press Tab until `wanted` has the focus; every stop on the way must show its focus. */
async function tabTo(
  page: Page,
  wanted: (f: Focused) => boolean,
  what: string,
  max = 150,
  key: 'Tab' | 'Shift+Tab' = 'Tab',
) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(key);
    const f = await focused(page);
    assert.ok(f.visible || f.tag === 'BODY', `focus is visible on ${f.tag}#${f.id} "${f.text}"`);
    if (wanted(f)) return f;
  }
  throw new Error(`${what}: not reached in ${max} presses of Tab on ${page.url()}`);
}
const byId = (id: string) => (f: Focused) => f.id === id;
const byText = (text: string | RegExp) => (f: Focused) =>
  typeof text === 'string' ? f.text === text : text.test(f.text);

/** Tab to a field and type into it. */
async function typeInto(page: Page, id: string, value: string) {
  await tabTo(page, byId(id), `the field #${id}`);
  await page.keyboard.type(value);
}

/** Press a key that loads a page, and wait for the new one. */
async function pressAndWait(page: Page, key: string) {
  await Promise.all([page.waitForEvent('load'), page.keyboard.press(key)]);
}

describe(
  'core journeys by keyboard alone, without JavaScript (#19)',
  // Independent journeys (each its own context, event or post) run three at a time: they wait
  // on the browser and the server far more than they use a processor.
  { skip: noBrowser, concurrency: 3 },
  () => {
    let server: LiveServer;
    let browser: Browser;
    const contexts: BrowserContext[] = [];
    let t: (locale: Locale, key: string, vars?: Record<string, string | number>) => string;

    before(async () => {
      server = await liveServer({ config: { tileUrl: '' } });
      browser = await launchBrowser();
      t = (locale, key, vars) => server.app.platform.i18n.translator(locale)(key, vars);
      // A member's submission waiting for an editor (the demo content has none).
      await server.database.query(
        `UPDATE resources SET status = 'submitted',
         submitted_by = (SELECT id FROM users WHERE email = 'member@example.org')
       WHERE id = (SELECT id FROM resources WHERE is_demo AND status = 'published'
                   ORDER BY slug DESC LIMIT 1)`,
      );
      const repo = createEventsRepository(server.database.db);
      for (const slug of ['journey-booking-en', 'journey-booking-cy', 'journey-booking-en-js'])
        await repo.upsertEvent({
          slug,
          title: `Journey event ${slug}`,
          summary: 'An event for the journey tests',
          startsAt: new Date(Date.now() + 20 * 86400_000),
          endsAt: new Date(Date.now() + 20 * 86400_000 + 7200_000),
          mode: 'in_person',
          venueName: 'Demo Hall',
          capacity: 30,
          maxPerBooking: 4,
          organiserName: 'Journey organiser',
          organiserEmail: 'organiser@example.org',
          status: 'published',
        });
    });
    after(async () => {
      for (const c of contexts) await c.close();
      await browser?.close();
      await server?.close();
    });

    /** A page in a new context at this width, in this language; without JavaScript unless `js`. */
    async function open(
      width: number,
      lang: Locale,
      as?: 'member' | 'moderator' | 'editor',
      js = false,
    ) {
      const context = await browser.newContext({
        javaScriptEnabled: js,
        viewport: { width, height: 800 },
      });
      contexts.push(context);
      if (as) await signIn(context, server, as);
      const page = await context.newPage();
      const go = async (path: string) => {
        await page.goto(`${server.baseUrl}${path}${path.includes('?') ? '&' : '?'}lang=${lang}`);
      };
      return { page, go };
    }

    // Without JavaScript at 1280 px in English and 375 px in Welsh; with it (the map, the
    // enhanced forms) at 375 px in English: the keyboard must get through all three.
    for (const [width, lang, js] of [
      [1280, 'en', false],
      [375, 'cy', false],
      [375, 'en', true],
    ] as const) {
      const variant = `${width} px, ${lang}${js ? ', with JavaScript' : ''}`;
      test(`find a service near a place (${variant})`, async () => {
        const { page, go } = await open(width, lang, undefined, js);
        await go('/services');
        await typeInto(page, 'near', 'Swansea');
        await pressAndWait(page, 'Enter');
        assert.match(page.url(), /near=Swansea/);
        const firstDistance = page.locator('.sp-results .sp-result strong').first();
        assert.match(await firstDistance.innerText(), lang === 'cy' ? /milltir/ : /miles away/);
        // The first result, by keyboard.
        const name = (await page.locator('.sp-results h3 a').first().innerText()).trim();
        await tabTo(page, byText(name), 'the nearest service');
        await pressAndWait(page, 'Enter');
        assert.equal((await page.locator('h1').innerText()).trim(), name);
      });

      test(`book 3 places, then cancel one (${variant})`, async () => {
        const slug = `journey-booking-${lang}${js ? '-js' : ''}`;
        const { page, go } = await open(width, lang, undefined, js);
        await go(`/events/${slug}/book`);
        await typeInto(page, 'attendee_0_name', 'First Person');
        // Back up to the number of places: three, with the arrow keys, then "Update" with Space.
        await tabTo(page, byId('places'), 'the number of places', 150, 'Shift+Tab');
        await page.keyboard.press('ArrowDown');
        await page.keyboard.press('ArrowDown');
        await tabTo(page, byText(t(lang, 'events.book.update')), 'Update');
        await pressAndWait(page, 'Space');
        // The focus is on the first new person, not the top of the page; what was typed is kept.
        assert.equal((await focused(page)).id, 'attendee_1_name');
        await page.keyboard.type('Second Person');
        await typeInto(page, 'attendee_2_name', 'Third Person');
        await tabTo(page, byId('bookerName'), 'your name', 150, 'Shift+Tab');
        await page.keyboard.type('Journey Booker');
        await typeInto(page, 'bookerEmail', `journey-${lang}${js ? '-js' : ''}@example.org`);
        // Enter in a field books.
        await pressAndWait(page, 'Enter');
        assert.match(page.url(), /\/bookings\/[^/?]+\?done=booked/);
        const manage = page.url().split('?')[0]!;
        assert.equal(await page.locator('.sp-attendee').count(), 3);
        // Cancel the third person's place: open their details, follow "Cancel", confirm with Space.
        await tabTo(
          page,
          byText(t(lang, 'events.manage.changeOrCancel', { name: 'Third Person' })),
          'the third person',
        );
        await page.keyboard.press('Enter');
        await tabTo(
          page,
          byText(t(lang, 'events.manage.cancelOne', { name: 'Third Person' })),
          'Cancel the place',
        );
        await pressAndWait(page, 'Enter');
        assert.match(page.url(), /\/attendees\/[^/]+\/cancel/);
        await tabTo(page, byText(t(lang, 'events.manage.confirm.yesOne')), 'Yes, cancel');
        await pressAndWait(page, 'Space');
        assert.equal(page.url(), `${manage}?done=cancelled-one`);
        const tags = await page.locator('.sp-attendee .govuk-tag').allInnerTexts();
        assert.deepEqual(
          tags.map((s) => s.trim()),
          [
            t(lang, 'events.status.confirmed'),
            t(lang, 'events.status.confirmed'),
            t(lang, 'events.status.cancelled'),
          ],
        );
      });
    }

    test('find and open a resource (1280 px, en)', async () => {
      const { page, go } = await open(1280, 'en');
      await go('/resources');
      await typeInto(page, 'q', 'farewell contact');
      await pressAndWait(page, 'Enter');
      const first = (await page.locator('.sp-results h3 a').first().innerText()).trim();
      await tabTo(page, byText(first), 'the first result');
      await pressAndWait(page, 'Enter');
      assert.equal((await page.locator('h1').innerText()).trim(), first);
    });

    test('register and verify the email address (1280 px, en)', async () => {
      const { page, go } = await open(1280, 'en');
      await go('/account/register');
      await typeInto(page, 'email', 'journey-new@example.org');
      await typeInto(page, 'displayName', 'Journey Newcomer');
      await tabTo(page, (f) => f.type === 'radio', 'the first kind');
      await page.keyboard.press('Space');
      await typeInto(page, 'password', 'a long journey passphrase');
      await tabTo(page, (f) => f.type === 'checkbox', 'I agree');
      await page.keyboard.press('Space');
      await tabTo(page, byText(t('en', 'accounts.register.submit')), 'Create account');
      await pressAndWait(page, 'Enter');
      assert.match(page.url(), /\/account\/check-email/);
      const link = await linkFromMail(server.app, 'journey-new@example.org', '/account/verify/');
      await go(link);
      await tabTo(page, byText(t('en', 'accounts.verify.button')), 'Confirm');
      await pressAndWait(page, 'Enter');
      assert.equal(
        (
          await server.database.query<{ v: boolean }>(
            `SELECT email_verified_at IS NOT NULL AS v FROM users WHERE email = 'journey-new@example.org'`,
          )
        )[0]?.v,
        true,
      );
    });

    // And with JavaScript (the mention suggestions listen to the keys in the text box).
    for (const js of [false, true])
      test(`start a thread and reply to it (1280 px, en${js ? ', with JavaScript' : ''})`, async () => {
        const { page, go } = await open(1280, 'en', 'member', js);
        await go('/community/wales-network');
        await tabTo(page, byText(t('en', 'community.space.newThread')), 'Start a new thread');
        await pressAndWait(page, 'Enter');
        await typeInto(page, 'title', `A journey by keyboard${js ? ' with JavaScript' : ''}`);
        await typeInto(page, 'body', 'Written without a mouse.');
        await tabTo(page, byText(t('en', 'community.newThread.submit')), 'Post thread');
        await pressAndWait(page, 'Space');
        assert.equal(
          (await page.locator('h1').innerText()).trim(),
          `A journey by keyboard${js ? ' with JavaScript' : ''}`,
        );
        await typeInto(page, 'body', 'And a reply, also by keyboard.');
        await tabTo(page, byText(t('en', 'community.thread.replySubmit')), 'Post reply');
        await pressAndWait(page, 'Space');
        assert.match(await page.locator('main').innerText(), /And a reply, also by keyboard\./);
      });

    test('a member reports a post and a moderator hides it from /admin (1280 px, en)', async () => {
      const member = await open(1280, 'en', 'member');
      const [post] = await server.database.query<{ id: string }>(
        `SELECT p.id FROM posts p JOIN threads t ON t.id = p.thread_id
       JOIN community_spaces s ON s.id = t.space_id
       WHERE s.slug = 'contact-and-keeping-links' AND p.status = 'visible' AND p.number > 1
       ORDER BY p.created_at LIMIT 1`,
      );
      await member.go(`/community/posts/${post!.id}/report`);
      await typeInto(member.page, 'reason', 'Reported in the journey test.');
      await tabTo(member.page, byText(t('en', 'community.report.submit')), 'Send report');
      await pressAndWait(member.page, 'Space');

      const moderator = await open(1280, 'en', 'moderator');
      await moderator.go('/admin');
      await tabTo(
        moderator.page,
        byText(t('en', 'admin.dashboard.queues.reports')),
        'Reported posts',
      );
      await pressAndWait(moderator.page, 'Enter');
      assert.match(moderator.page.url(), /\/admin\/moderation/);
      // This report's "Hide" button: the one in the row with its reason.
      await tabTo(
        moderator.page,
        (f) =>
          f.text.startsWith(t('en', 'community.moderation.hide')) &&
          f.row.includes('Reported in the journey test.'),
        'Hide',
      );
      await pressAndWait(moderator.page, 'Space');
      const [status] = await server.database.query<{ status: string }>(
        'SELECT status FROM posts WHERE id = $1',
        [post!.id],
      );
      assert.equal(status!.status, 'hidden');
    });

    test('an editor publishes a member’s submission from /admin (1280 px, en)', async () => {
      const [submitted] = await server.database.query<{ id: string; title: string }>(
        `SELECT id, title FROM resources WHERE status = 'submitted' ORDER BY created_at LIMIT 1`,
      );
      assert.ok(submitted, 'the demo content has a submission waiting');
      const { page, go } = await open(1280, 'en', 'editor');
      await go('/admin');
      await tabTo(page, byText(t('en', 'admin.dashboard.queues.submissions')), 'Submissions');
      await pressAndWait(page, 'Enter');
      await tabTo(page, byText(submitted.title), 'the submission');
      await pressAndWait(page, 'Enter');
      await tabTo(page, byText(t('en', 'resources.edit.savePublish')), 'Save and publish');
      await pressAndWait(page, 'Space');
      const [row] = await server.database.query<{ status: string }>(
        'SELECT status FROM resources WHERE id = $1',
        [submitted.id],
      );
      assert.equal(row!.status, 'published');
    });
  },
);
