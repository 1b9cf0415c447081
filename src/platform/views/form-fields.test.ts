import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sameToABrowser, viewEnvironment } from '../../../test/helpers/views.ts';

/**
 * textareaField, radiosField and dateField (macros.njk) write out GOV.UK's
 * markup: each is rendered beside the GOV.UK macro on the same values, plain,
 * filled in, with a hint, with an error (its hidden prefix given, defaulted,
 * switched off), with text to escape.
 */
const env = viewEnvironment();
const IMPORTS = `{% from "macros.njk" import textareaField, radiosField, dateField %}
{% from "govuk/components/textarea/macro.njk" import govukTextarea %}
{% from "govuk/components/radios/macro.njk" import govukRadios %}
{% from "govuk/components/date-input/macro.njk" import govukDateInput %}`;

function same(ours: string, theirs: string, p: Record<string, unknown>) {
  const a = env.renderString(`${IMPORTS}{{ ${ours}(p) }}`, { p });
  const b = env.renderString(`${IMPORTS}{{ ${theirs}(p) }}`, { p });
  assert.equal(sameToABrowser(a), sameToABrowser(b), JSON.stringify(p));
  assert.ok(b.length > 100);
}

const errors = [
  undefined,
  { text: 'Enter what you know' },
  { text: 'Choose <one>', visuallyHiddenText: 'Gwall' },
  { text: 'No prefix', visuallyHiddenText: false },
];

test('textareaField gives the markup of govukTextarea', () => {
  for (const errorMessage of errors)
    for (const extra of [{}, { hint: { text: 'A <hint>' }, rows: 2, value: 'Typed <b>& kept' }])
      same('textareaField', 'govukTextarea', {
        id: 'health-know',
        name: 'know',
        rows: 3,
        label: { text: 'What do you <know>?' },
        errorMessage,
        ...extra,
      });
  same('textareaField', 'govukTextarea', {
    id: 'x',
    name: 'x',
    label: { text: 'Label', classes: 'govuk-label--s' },
  });
});

test('radiosField gives the markup of govukRadios', () => {
  const items = [
    { value: 'met', text: 'Met' },
    { value: 'partly', text: 'Partly <met>', checked: true },
    undefined,
    { value: 'not', text: 'Not met' },
  ];
  for (const errorMessage of errors)
    for (const extra of [{}, { hint: { text: 'Choose one' } }])
      same('radiosField', 'govukRadios', {
        idPrefix: 'health-rating',
        name: 'rating',
        fieldset: { legend: { text: 'Rating for <health>', classes: 'govuk-fieldset__legend--s' } },
        items,
        errorMessage,
        ...extra,
      });
  same('radiosField', 'govukRadios', {
    name: 'reason',
    fieldset: { legend: { text: 'Why' } },
    items,
  });
});

test('dateField gives the markup of govukDateInput', () => {
  const items = (day?: string) => [
    { name: 'day', classes: 'govuk-input--width-2', value: day },
    { name: 'month', classes: 'govuk-input--width-2', value: '4' },
    { name: 'year', classes: 'govuk-input--width-4' },
  ];
  for (const errorMessage of errors)
    for (const extra of [{}, { hint: { text: 'For example, 27 3 2027' } }])
      same('dateField', 'govukDateInput', {
        id: 'health-reviewBy',
        namePrefix: 'reviewBy',
        fieldset: { legend: { text: 'Review <by>' } },
        items: items(errorMessage ? '3<' : undefined),
        errorMessage,
        ...extra,
      });
  // Items without their width: the day's and month's 2, the year's 4, as GOV.UK's defaults.
  same('dateField', 'govukDateInput', {
    id: 'd',
    namePrefix: 'd',
    fieldset: { legend: { text: 'Date', classes: 'govuk-fieldset__legend--s' } },
    items: [{ name: 'day' }, { name: 'month', classes: 'sp-x' }, { name: 'year' }],
  });
});
