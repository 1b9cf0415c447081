import assert from 'node:assert/strict';
import { after, before, type TestOptions } from 'node:test';
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
 * Every journey runs in English and in Welsh at one width: journeys-1280 and
 * journeys-375 (.test.ts) call this with theirs, so the two widths run side by
 * side. Finding a service, booking then cancelling, and posting a thread run
 * once more with JavaScript (the map, the booking form's script, the mention
 * suggestions), so that the enhanced pages are tried by keyboard too.
 *
 * Kept fast: one server and one browser per width, one context per person and
 * variant, no axe (the accessibility suite does that). The mobile and Welsh
 * checks of every page are test/e2e/pages.test.ts.
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

/** The variants one width runs: English and Welsh without JavaScript, and one with it. */
const variantsAt = (width: Width) =>
  [
    { lang: 'en', js: false },
    { lang: 'cy', js: false },
    { lang: width === 375 ? 'en' : 'cy', js: true },
  ] as const;
export type Width = 1280 | 375;

export function journeys(width: Width) {
  const name = `core journeys by keyboard alone, at ${width} px (#19)`;
  // Independent journeys (each its own context, event or post) run three at a time: they wait
  // on the browser and the server far more than they use a processor.
  const options: TestOptions = { skip: noBrowser, concurrency: 3 };
  /** The journeys, for the test file to run (so that the runner counts them under it). */
  const tests: [string, () => Promise<void>][] = [];
  const test = (title: string, run: () => Promise<void>) => void tests.push([title, run]);
  let server: LiveServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let t: (locale: Locale, key: string, vars?: Record<string, string | number>) => string;
  /** Each language's submission, for its editor to publish. */
  let submissions: { id: string; title: string }[] = [];
  /** What a variant's own records are called, so that no two journeys meet. */
  const own = (lang: Locale, js: boolean) => `${width}-${lang}${js ? '-js' : ''}`;
  const noJs = variantsAt(width).filter((v) => !v.js);

  const setUp = () => {
    before(async () => {
      server = await liveServer({ config: { tileUrl: '' } });
      browser = await launchBrowser();
      t = (locale, key, vars) => server.app.platform.i18n.translator(locale)(key, vars);
      // Members' submissions waiting for an editor, one per language (the demo content has none).
      submissions = await server.database.query<{ id: string; title: string }>(
        `UPDATE resources SET status = 'submitted',
             submitted_by = (SELECT id FROM users WHERE email = 'member@example.org')
           WHERE id IN (SELECT id FROM resources WHERE is_demo AND status = 'published'
                        ORDER BY slug DESC LIMIT $1)
           RETURNING id, title`,
        [noJs.length],
      );
      const repo = createEventsRepository(server.database.db);
      for (const { lang, js } of variantsAt(width))
        await repo.upsertEvent({
          slug: `journey-booking-${own(lang, js)}`,
          title: `Journey event ${own(lang, js)}`,
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
  };

  /** A page in a new context at this width, in this language; without JavaScript unless `js`. */
  async function open(lang: Locale, as?: 'member' | 'moderator' | 'editor', js = false) {
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

  for (const { lang, js } of variantsAt(width)) {
    const variant = `${width} px, ${lang}${js ? ', with JavaScript' : ''}`;
    test(`find a service near a place (${variant})`, async () => {
      const { page, go } = await open(lang, undefined, js);
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
      const { page, go } = await open(lang, undefined, js);
      await go(`/events/journey-booking-${own(lang, js)}/book`);
      await typeInto(page, 'attendee_0_name', 'First Person');
      // Back up to the number of places: three, with the arrow keys, then "Update" with Space.
      await tabTo(page, byId('places'), 'the number of places', 150, 'Shift+Tab');
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowDown');
      await tabTo(page, byText(t(lang, 'events.book.update')), 'Update');
      await pressAndWait(page, 'Space');
      // The focus is on the first new person, not the top of the page; what was typed is kept.
      // The browser moves it there (autofocus) when it next draws the page, which on a busy
      // machine can come just after the load event: wait for it a while, then check.
      await page
        .waitForFunction(
          `document.activeElement && document.activeElement.id === 'attendee_1_name'`,
          null,
          {
            timeout: 5000,
          },
        )
        .catch(() => undefined);
      assert.equal((await focused(page)).id, 'attendee_1_name');
      await page.keyboard.type('Second Person');
      await typeInto(page, 'attendee_2_name', 'Third Person');
      await tabTo(page, byId('bookerName'), 'your name', 150, 'Shift+Tab');
      await page.keyboard.type('Journey Booker');
      await typeInto(page, 'bookerEmail', `journey-${own(lang, js)}@example.org`);
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

    // With JavaScript too: the mention suggestions listen to the keys in the text box.
    test(`start a thread and reply to it (${variant})`, async () => {
      const title = `A journey by keyboard (${variant})`;
      const { page, go } = await open(lang, 'member', js);
      await go('/community/wales-network');
      await tabTo(page, byText(t(lang, 'community.space.newThread')), 'Start a new thread');
      await pressAndWait(page, 'Enter');
      await typeInto(page, 'title', title);
      await typeInto(page, 'body', 'Written without a mouse.');
      await tabTo(page, byText(t(lang, 'community.newThread.submit')), 'Post thread');
      await pressAndWait(page, 'Space');
      assert.equal((await page.locator('h1').innerText()).trim(), title);
      await typeInto(page, 'body', 'And a reply, also by keyboard.');
      await tabTo(page, byText(t(lang, 'community.thread.replySubmit')), 'Post reply');
      await pressAndWait(page, 'Space');
      assert.match(await page.locator('main').innerText(), /And a reply, also by keyboard\./);
    });
  }

  noJs.forEach(({ lang }, index) => {
    const variant = `${width} px, ${lang}`;
    test(`find and open a resource (${variant})`, async () => {
      const { page, go } = await open(lang);
      await go('/resources');
      await typeInto(page, 'q', 'farewell contact');
      await pressAndWait(page, 'Enter');
      const first = (await page.locator('.sp-results h3 a').first().innerText()).trim();
      await tabTo(page, byText(first), 'the first result');
      await pressAndWait(page, 'Enter');
      assert.equal((await page.locator('h1').innerText()).trim(), first);
    });

    test(`register and verify the email address (${variant})`, async () => {
      const email = `journey-new-${own(lang, false)}@example.org`;
      const { page, go } = await open(lang);
      await go('/account/register');
      await typeInto(page, 'email', email);
      await typeInto(page, 'displayName', 'Journey Newcomer');
      await tabTo(page, (f) => f.type === 'radio', 'the first kind');
      await page.keyboard.press('Space');
      await typeInto(page, 'password', 'a long journey passphrase');
      await tabTo(page, (f) => f.type === 'checkbox', 'I agree');
      await page.keyboard.press('Space');
      await tabTo(page, byText(t(lang, 'accounts.register.submit')), 'Create account');
      await pressAndWait(page, 'Enter');
      assert.match(page.url(), /\/account\/check-email/);
      const link = await linkFromMail(server.app, email, '/account/verify/');
      await go(link);
      await tabTo(page, byText(t(lang, 'accounts.verify.button')), 'Confirm');
      await pressAndWait(page, 'Enter');
      const [row] = await server.database.query<{ v: boolean }>(
        'SELECT email_verified_at IS NOT NULL AS v FROM users WHERE email = $1',
        [email],
      );
      assert.equal(row?.v, true);
    });

    test(`a member reports a post and a moderator hides it from /admin (${variant})`, async () => {
      const reason = `Reported in the journey test (${variant}).`;
      const member = await open(lang, 'member');
      // Each language its own post.
      const [post] = await server.database.query<{ id: string }>(
        `SELECT p.id FROM posts p JOIN threads t ON t.id = p.thread_id
             JOIN community_spaces s ON s.id = t.space_id
             WHERE s.slug = 'contact-and-keeping-links' AND p.status = 'visible' AND p.number > 1
             ORDER BY p.created_at LIMIT 1 OFFSET $1`,
        [index],
      );
      assert.ok(post, 'the demo content has a post to report');
      await member.go(`/community/posts/${post.id}/report`);
      await typeInto(member.page, 'reason', reason);
      await tabTo(member.page, byText(t(lang, 'community.report.submit')), 'Send report');
      await pressAndWait(member.page, 'Space');

      const moderator = await open(lang, 'moderator');
      await moderator.go('/admin');
      await tabTo(
        moderator.page,
        byText(t(lang, 'admin.dashboard.queues.reports')),
        'Reported posts',
      );
      await pressAndWait(moderator.page, 'Enter');
      assert.match(moderator.page.url(), /\/admin\/moderation/);
      // This report's "Hide" button: the one in the row with its reason.
      await tabTo(
        moderator.page,
        (f) => f.text.startsWith(t(lang, 'community.moderation.hide')) && f.row.includes(reason),
        'Hide',
      );
      await pressAndWait(moderator.page, 'Space');
      const [status] = await server.database.query<{ status: string }>(
        'SELECT status FROM posts WHERE id = $1',
        [post.id],
      );
      assert.equal(status!.status, 'hidden');
    });

    test(`an editor publishes a member’s submission from /admin (${variant})`, async () => {
      const submitted = submissions[index];
      assert.ok(submitted, 'a submission waits for each language');
      const { page, go } = await open(lang, 'editor');
      await go('/admin');
      await tabTo(page, byText(t(lang, 'admin.dashboard.queues.submissions')), 'Submissions');
      await pressAndWait(page, 'Enter');
      await tabTo(page, byText(submitted.title), 'the submission');
      await pressAndWait(page, 'Enter');
      await tabTo(page, byText(t(lang, 'resources.edit.savePublish')), 'Save and publish');
      await pressAndWait(page, 'Space');
      const [row] = await server.database.query<{ status: string }>(
        'SELECT status FROM resources WHERE id = $1',
        [submitted.id],
      );
      assert.equal(row!.status, 'published');
    });
  });
  return { name, options, setUp, tests };
}
