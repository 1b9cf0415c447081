import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sameToABrowser, viewEnvironment } from '../../../test/helpers/views.ts';

const env = viewEnvironment();

/** A stand-in for the page's translations: the key and its values, so each string is traceable. */
const t = (key: string, vars?: Record<string, string>) =>
  vars ? `${key} ${Object.values(vars).join(' ')}` : key;

/** The reply box as GOV.UK's macros draw it (what article.njk had) and as replyBox does. */
function renderBoth(ctx: { c: { id: string; name: string }; value?: string; error?: unknown }) {
  const vars = { ...ctx, t, articleId: 'a1b2', token: 'tok&"en', open: Boolean(ctx.error) };
  const ours = env.renderString(
    '{% from "articles/views/_reply.njk" import replyBox %}{{ replyBox(t, articleId, c, token, value, error, open) }}',
    vars,
  );
  const govuk = env.renderString(
    `{% from "macros.njk" import csrfField %}
{% from "govuk/components/textarea/macro.njk" import govukTextarea %}
{% from "govuk/components/button/macro.njk" import govukButton %}
{% from "govuk/components/details/macro.njk" import govukDetails %}
{% set replyField = "body-" + c.id %}
{% set replyHtml %}
<form method="post" action="/articles/{{ articleId }}/comments" novalidate>{{ csrfField(token) }}
<input type="hidden" name="parentId" value="{{ c.id }}">
{{ govukTextarea({ id: replyField, name: "body", rows: 3, value: value, errorMessage: error, label: { text: t("articles.comments.replyLabel", { name: c.name }) } }) }}
{{ govukButton({ text: t("articles.comments.replyButton"), classes: "govuk-!-margin-bottom-0" }) }}
</form>
{% endset %}
{{ govukDetails({ summaryText: t("articles.comments.reply", { name: c.name }), html: replyHtml, classes: "sp-reply", open: open }) }}`,
    vars,
  );
  return { ours: sameToABrowser(ours), govuk: sameToABrowser(govuk) };
}

test('replyBox gives the markup of govukDetails, govukTextarea and govukButton', () => {
  const c = { id: 'c0ffee', name: 'Sam <"A parent"> & co' };
  const plain = renderBoth({ c });
  assert.equal(plain.ours, plain.govuk);
  assert.match(plain.ours, /<details class="govuk-details sp-reply">/);
  assert.match(plain.ours, /Sam &lt;&quot;A parent&quot;&gt; &amp; co/);
  assert.match(plain.ours, /name="_csrf" value="tok&amp;&quot;en"/);
  const typed = renderBoth({ c, value: 'What I wrote </textarea><script>x</script>' });
  assert.equal(typed.ours, typed.govuk);
  assert.match(typed.ours, /&lt;\/textarea&gt;&lt;script&gt;/);
});

test('replyBox with an error: open, the message with its hidden prefix, the field described by it', () => {
  const c = { id: 'c0ffee', name: 'Sam' };
  const error = { text: 'Enter your reply', visuallyHiddenText: 'Gwall' };
  const withError = renderBoth({ c, value: 'x', error });
  assert.equal(withError.ours, withError.govuk);
  assert.match(withError.ours, /<details class="govuk-details sp-reply" open>/);
  assert.match(withError.ours, /aria-describedby="body-c0ffee-error"/);
  assert.match(
    withError.ours,
    /<span class="govuk-visually-hidden">Gwall:<\/span>Enter your reply/,
  );
  const noPrefix = renderBoth({ c, error: { text: 'Enter your reply' } });
  assert.equal(noPrefix.ours, noPrefix.govuk);
  const hiddenOff = renderBoth({
    c,
    error: { text: 'Enter your reply', visuallyHiddenText: false },
  });
  assert.equal(hiddenOff.ours, hiddenOff.govuk);
});
