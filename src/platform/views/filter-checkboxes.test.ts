import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sameToABrowser, viewEnvironment } from '../../../test/helpers/views.ts';

const env = viewEnvironment();

/** Both macros on the same items: ours, and GOV.UK Frontend's own. */
function renderBoth(name: string, legend: string, items: unknown[], idPrefix?: string) {
  const ours = env.renderString(
    '{% from "macros.njk" import filterCheckboxes %}{{ filterCheckboxes(name, legend, items, idPrefix) }}',
    { name, legend, items, idPrefix },
  );
  const govuk = env.renderString(
    '{% from "govuk/components/checkboxes/macro.njk" import govukCheckboxes %}' +
      '{{ govukCheckboxes({ name: name, idPrefix: idPrefix, classes: "govuk-checkboxes--small", fieldset: { legend: { text: legend, classes: "govuk-fieldset__legend--s" } }, items: items }) }}',
    { name, legend, items, idPrefix },
  );
  return { ours: sameToABrowser(ours), govuk: sameToABrowser(govuk) };
}

test('filterCheckboxes gives the markup of govukCheckboxes for a filter', () => {
  const items = [
    { value: 'pre-birth', text: 'Pre-birth (12)', checked: true },
    { value: 'a&b', text: 'Fathers & "kin" <carers> (0)', checked: false },
    { value: 'wales', text: 'Cymru (3)' },
    { value: 'last', text: 'Last (1)', checked: true },
  ];
  const { ours, govuk } = renderBoth('topic', 'Topic & theme', items);
  assert.equal(ours, govuk);
  // Checked ones are checked, ids follow GOV.UK's (the first has no number), text is escaped.
  assert.match(ours, /id="topic" name="topic" type="checkbox" value="pre-birth" checked>/);
  assert.match(ours, /id="topic-2" name="topic" type="checkbox" value="a&amp;b">/);
  assert.match(ours, /Fathers &amp; &quot;kin&quot; &lt;carers&gt; \(0\)/);
  assert.match(ours, /id="topic-4" name="topic" type="checkbox" value="last" checked>/);
  assert.equal((ours.match(/ checked>/g) ?? []).length, 2);
});

test('filterCheckboxes takes an id prefix, skips empty items and may have none', () => {
  const withPrefix = renderBoth(
    'region',
    'Region',
    [
      { value: 'North East', text: 'North East' },
      null,
      { value: 'Wales', text: 'Wales', checked: true },
    ],
    'area',
  );
  assert.equal(withPrefix.ours, withPrefix.govuk);
  assert.match(withPrefix.ours, /id="area-3" name="region"/);
  const none = renderBoth('kind', 'Kind', []);
  assert.equal(none.ours, none.govuk);
});
