import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorsFrom } from './forms.ts';
import { createI18n, type Locale } from './i18n/index.ts';

test('field errors carry the hidden "Error" in the page’s language, and link to their field', () => {
  const i18n = createI18n({
    en: { common: { errorPrefix: 'Error', need: 'Enter a {what}' } },
    cy: { common: { errorPrefix: 'Gwall', need: 'Rhowch {what}' } },
  } as Record<Locale, Record<string, unknown>>);
  const problems = [
    { field: 'name', key: 'common.need', vars: { what: 'name' } },
    { field: 'name', key: 'common.need', vars: { what: 'second' } },
    { field: 'files[0]', key: 'common.need', vars: { what: 'file' } },
  ];
  const en = errorsFrom(problems, i18n.translator('en'));
  assert.deepEqual(en.fields.name, { text: 'Enter a name', visuallyHiddenText: 'Error' });
  assert.deepEqual(
    en.summary.map((s) => s.href),
    ['#name', '#files-0-'],
    'one entry a field, the first message',
  );
  const cy = errorsFrom(problems, i18n.translator('cy'));
  assert.equal(cy.fields.name!.visuallyHiddenText, 'Gwall');
  assert.equal(cy.fields.name!.text, 'Rhowch name');
});
