import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import nunjucks from 'nunjucks';
import { createViewEnvironment } from './index.ts';
import { sameToABrowser } from '../../../test/helpers/views.ts';

/**
 * An import without `with context` is run once per compiled template, not on
 * every render (keepImports in index.ts). These tests hold it to what nunjucks
 * does without it: the same markup, the importing page's own values, an
 * import `with context` seeing each page, and an error that spoils nothing.
 */

const srcDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const rootDir = join(srcDir, '..');
const fixtures = mkdtempSync(join(tmpdir(), 'sp-imports-'));
after(() => rmSync(fixtures, { recursive: true, force: true }));

let runs = 0;
const fixture = (name: string, text: string) => writeFileSync(join(fixtures, name), text);
fixture(
  'm.njk',
  '{% set _ran = ran() %}{% macro hello(name) %}Hello {{ name }}{{ suffix }}{% endmacro %}' +
    '{% macro fails(really) %}{% if really %}{{ boom() }}{% endif %}ok{% endmacro %}',
);
fixture('page.njk', '{% from "m.njk" import hello %}{{ hello(who) }}|{{ suffix }}');
fixture('with.njk', '{% from "c.njk" import greet with context %}{{ greet() }}');
fixture('c.njk', '{% set _ran = ran() %}{% macro greet() %}Hi {{ who }}{% endmacro %}');
fixture('fails.njk', '{% from "m.njk" import fails %}{{ fails(really) }}');

function environment() {
  const env = createViewEnvironment({ srcDir, rootDir, extraPaths: [fixtures] });
  env.addGlobal('ran', () => {
    runs++;
    return '';
  });
  env.addGlobal('boom', () => {
    throw new Error('boom');
  });
  return env;
}

test('a macro file imported without context runs once; each page still gets its own values', () => {
  const env = environment();
  runs = 0;
  assert.equal(env.render('page.njk', { who: 'Ann', suffix: '!' }), 'Hello Ann|!');
  assert.equal(env.render('page.njk', { who: 'Bo', suffix: '?' }), 'Hello Bo|?');
  // The macro sees only its arguments, as nunjucks gives a context-free import an empty context.
  assert.equal(env.render('page.njk', { who: '<b>' }), 'Hello &lt;b&gt;|');
  assert.equal(runs, 1, 'm.njk ran once for three renders');
});

test('an import "with context" runs each time and sees each page', () => {
  const env = environment();
  runs = 0;
  assert.equal(env.render('with.njk', { who: 'Ann' }), 'Hi Ann');
  assert.equal(env.render('with.njk', { who: 'Bo' }), 'Hi Bo');
  assert.equal(runs, 2);
});

test('a macro that throws leaves the kept import working', () => {
  const env = environment();
  assert.throws(() => env.render('fails.njk', { really: true }), /boom/);
  assert.equal(env.render('fails.njk', { really: false }), 'ok');
  assert.equal(env.render('page.njk', { who: 'Cy' }), 'Hello Cy|');
});

test('GOV.UK components drawn again and again come out as nunjucks draws them afresh', () => {
  const kept = environment();
  const components = {
    radios: '{% from "govuk/components/radios/macro.njk" import govukRadios %}',
    checkboxes: '{% from "govuk/components/checkboxes/macro.njk" import govukCheckboxes %}',
    dateInput: '{% from "govuk/components/date-input/macro.njk" import govukDateInput %}',
    textarea: '{% from "govuk/components/textarea/macro.njk" import govukTextarea %}',
  };
  const calls = [
    `${components.radios}{{ govukRadios({ name: "r", fieldset: { legend: { text: "Pick <one>" } }, hint: { text: "A hint" }, errorMessage: err, items: [{ value: "a", text: "A", checked: a }, { value: "b", text: "B", conditional: { html: "<p>more</p>" } }] }) }}`,
    `${components.checkboxes}{{ govukCheckboxes({ name: "c", idPrefix: prefix, items: [{ value: "x", text: label, checked: a }] }) }}`,
    `${components.dateInput}{{ govukDateInput({ id: "d", namePrefix: "d", errorMessage: err, fieldset: { legend: { text: "Date" } } }) }}`,
    `${components.textarea}{{ govukTextarea({ id: "t", name: "t", label: { text: label }, value: label, errorMessage: err }) }}`,
  ];
  // A plain environment on the same folders, keeping nothing: what nunjucks itself draws.
  const plain = new nunjucks.Environment(
    new nunjucks.FileSystemLoader([
      join(srcDir, 'platform', 'views', 'templates'),
      join(srcDir, 'features'),
      join(rootDir, 'node_modules', 'govuk-frontend', 'dist'),
    ]),
    { autoescape: true, trimBlocks: true, lstripBlocks: true },
  );
  const contexts = [
    { a: true, prefix: 'one', label: 'First', err: undefined },
    { a: false, prefix: 'two', label: 'Sec<ond>', err: { text: 'Choose one' } },
    { a: true, prefix: 'three', label: 'Third', err: undefined },
  ];
  for (const context of contexts) {
    for (const call of calls) {
      const fresh = plain.renderString(call, context);
      // (Ours drops the templates' indentation as they load: the same to a browser.)
      assert.equal(sameToABrowser(kept.renderString(call, context)), sameToABrowser(fresh));
      assert.ok(fresh.length > 100, 'the component drew something');
    }
  }
});
