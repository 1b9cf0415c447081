import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sameToABrowser } from '../../../test/helpers/views.ts';
import { createI18n, discoverLocaleDirs, loadLocaleDirs } from '../i18n/index.ts';
import { createViewEnvironment } from './index.ts';

/**
 * layout.njk writes out the markup of GOV.UK Frontend's page template and of
 * the macros it drew the page's frame with. The frame as those drew it is kept
 * in test/fixtures/views/layout-govuk-frontend.njk; both must give a browser
 * the same page, for every kind of page.
 */

const srcDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const rootDir = join(srcDir, '..');
const env = createViewEnvironment({
  srcDir,
  rootDir,
  extraPaths: [join(rootDir, 'test', 'fixtures', 'views')],
});
const i18n = createI18n(loadLocaleDirs(discoverLocaleDirs(srcDir)));

const PAGE = `{% extends frame %}
{% block extraHead %}<meta name="x-extra" content="1">{% endblock %}
{% block breadcrumbs %}{% if crumbs %}<nav class="govuk-breadcrumbs"><a href="/">Home</a></nav>{% endif %}{% endblock %}
{% block content %}<h1 class="govuk-heading-l">{{ title }}</h1>{% endblock %}
{% block bodyEnd %}{{ super() }}<script type="module" src="/assets/extra.js" nonce="{{ cspNonce }}"></script>{% endblock %}`;

const link = (href: string, text: string, active = false, html?: string) => ({
  href,
  ...(html ? { html } : { text }),
  active,
});

function context(lang: 'en' | 'cy', signedIn: boolean, extra: Record<string, unknown> = {}) {
  return {
    t: i18n.translator(lang),
    lang,
    asset: (name: string) => `/assets/${name}`,
    currentPath: '/news',
    cspNonce: 'n0nce',
    langLinks: { en: '/news?page=2&amp;lang=en', cy: '/news?page=2&lang=cy' },
    panels: {
      header: ['search/views/_header-search.njk'],
      footer: ['newsletter/views/_footer-form.njk'],
      account: [],
    },
    footerNavigation: [
      { href: '/privacy', text: 'Privacy <notice>' },
      { href: '/cookies', text: 'Cookies' },
    ],
    serviceNavigation: [
      link('/services', 'Services'),
      link('/news', 'News & views', true),
      link('/community', 'Community'),
    ],
    accountNavigation: signedIn
      ? [
          link(
            '/account/notifications',
            '',
            false,
            'Notifications <span class="sp-nav-count">3</span>',
          ),
          link('/account', 'Your account', true),
        ]
      : [link('/account/sign-in', 'Sign in')],
    title: 'A page about "quotes" & <tags>',
    ...extra,
  };
}

test('the page frame is the markup GOV.UK Frontend draws, for visitors and members, in English and Welsh', () => {
  const cases = [
    context('en', false),
    context('cy', false),
    context('en', true, { crumbs: true, description: 'About <this>' }),
    context('cy', true, {
      errors: { summary: [{ text: 'Enter a name', href: '#name' }] },
      noindex: true,
      alternateLinks: [{ type: 'application/atom+xml', href: '/news/feed.atom', title: 'News' }],
    }),
    context('en', false, { serviceNavigation: [link('/services', 'Services')], cspNonce: '' }),
    context('en', true, { serviceNavigation: [] }),
  ];
  for (const c of cases) {
    const ours = env.renderString(PAGE, { ...c, frame: 'layout.njk' });
    const theirs = env.renderString(PAGE, { ...c, frame: 'layout-govuk-frontend.njk' });
    assert.equal(sameToABrowser(ours), sameToABrowser(theirs));
    // Escaped, in the title and the page.
    assert.equal(ours.split('A page about &quot;quotes&quot; &amp; &lt;tags&gt;').length, 3);
    assert.match(ours, new RegExp(`<html lang="${c.lang}"`));
  }
});
