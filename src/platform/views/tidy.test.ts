import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import nunjucks from 'nunjucks';
import { ROOT_DIR, SRC_DIR } from '../../root.ts';
import { tidyWhitespace } from '../../../test/helpers/views.ts';
import { addPieceTag, tidyTemplateSource } from './index.ts';

/** Our environment's settings and tags, with templates given as strings. */
const env = () => {
  const e = new nunjucks.Environment(null, {
    autoescape: true,
    trimBlocks: true,
    lstripBlocks: true,
  });
  addPieceTag(e);
  return e;
};

/** The old way (render, then tidy the page) and the new (tidy the template, then render). */
function both(src: string, context: Record<string, unknown> = {}) {
  return {
    before: tidyWhitespace(env().renderString(src, context)),
    after: env().renderString(tidyTemplateSource(src), context),
  };
}

/** Whitespace as a browser counts it: any run is one space, but inside pre and textarea. */
function asRead(html: string): string {
  return html
    .split(/(<(?:pre|textarea)\b[\s\S]*?<\/(?:pre|textarea)>)/i)
    .map((part, i) => (i % 2 ? part : part.replace(/\s+/g, ' ')))
    .join('')
    .trim();
}

test('a tidied template reads as the tidied page did, in the cases that could differ', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['<ul>\n  {% for x in xs %}\n    <li>{{ x }}</li>\n  {% endfor %}\n</ul>', { xs: [1, 2] }],
    // A block tag right after a word, then indentation: the words must not run together.
    ['<p>Read{% if x %}\n      more{% endif %}\n      here</p>', { x: true }],
    ['<p>one {% if x %}\n    two\n\n    three{% endif %}</p>', { x: true }],
    [
      '<p>{% if x %}\n    {% if y %}\n        deep\n    {% endif %}\n{% endif %}</p>',
      { x: 1, y: 1 },
    ],
    // Whitespace control, comments, and a variable at the start of a line.
    ['<p>\n    {%- if x -%}\n        tight\n    {%- endif -%}\n</p>', { x: 1 }],
    ['<div>\n  {# a comment #}\n  {{ a }}\n    {{ b }}\n</div>', { a: 'A', b: 'B' }],
    // Strings in tags keep every character; so do pre and textarea.
    ['{% set s = "a\n     b %}" %}<p>{{ s }}</p>\n   <i>x</i>', {}],
    [
      '<pre>\n  {{ code }}\n    kept</pre>\n   <textarea>\n  {{ v }}</textarea>',
      { code: 'c', v: 'v' },
    ],
    // A caught block and a macro called with a body.
    ['{% set c %}\n    <b>in</b>\n    {{ n }}\n{% endset %}\n  <p>{{ c }}</p>', { n: 1 }],
    [
      '{% macro m() %}\n  <span>{{ caller() }}</span>\n{% endmacro %}\n{% call m() %}\n    body\n{% endcall %}',
      {},
    ],
    // What is put into a page is left as it was written.
    ['<div>{{ html | safe }}</div>', { html: '<p>one\n    two</p>' }],
  ];
  for (const [src, context] of cases) {
    const { before, after } = both(src, context);
    assert.equal(asRead(after), asRead(before), src);
  }
  // Strings inside tags are not touched: the string's own spaces reach the page.
  assert.match(env().renderString(tidyTemplateSource('{{ "a\n     b" }}'), {}), /a\n {5}b/);
  // And the indentation has gone (after a block tag, one space stands for it).
  const { after } = both(cases[0]![0], cases[0]![1]);
  assert.equal(after, '<ul>\n <li>1</li>\n <li>2</li>\n</ul>');
});

test('every template of ours and of GOV.UK Frontend still compiles, and none grew', () => {
  const folders = [
    join(SRC_DIR, 'platform', 'views', 'templates'),
    join(SRC_DIR, 'features'),
    join(ROOT_DIR, 'node_modules', 'govuk-frontend', 'dist'),
  ];
  let count = 0;
  for (const folder of folders) {
    for (const entry of readdirSync(folder, { recursive: true, encoding: 'utf8' })) {
      if (!entry.endsWith('.njk')) continue;
      const src = readFileSync(join(folder, entry), 'utf8');
      const tidied = tidyTemplateSource(src);
      assert.ok(tidied.length <= src.length, entry);
      // Compiling parses every tag: a tag cut or joined wrongly would not parse.
      new nunjucks.Template(tidied, env(), entry, true);
      count++;
    }
  }
  assert.ok(count > 100, `${count} templates`);
});
