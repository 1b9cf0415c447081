import assert from 'node:assert/strict';
import { test } from 'node:test';
import { viewEnvironment } from '../../../test/helpers/views.ts';

/**
 * The view environment answers nunjucks' Frame.set and trim filter with less
 * work (quickerRuntime in index.ts). Each template below is given with what
 * nunjucks 3.2.4 itself renders for it (worked out on an environment without
 * the change): loop variables, scopes, macros and their callers, trimming.
 */
const CASES: [string, string, Record<string, unknown>?][] = [
  [
    '{% for x in ["a", "b", "c"] %}[{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ x }}]{% endfor %}',
    '[1032truefalse3a][2121falsefalse3b][3210falsetrue3c]',
  ],
  ['{% set a = 1 %}{% for i in [1, 2] %}{% set a = i %}{% endfor %}{{ a }}', '2'],
  ['{% set b = 1 %}{% if true %}{% set b = 2 %}{% endif %}{{ b }}', '2'],
  [
    '{% for o in [1, 2] %}{% for i in [3, 4] %}{{ o }}{{ i }}{{ loop.index }};{% endfor %}{{ loop.index }}|{% endfor %}',
    '131;142;1|231;242;2|',
  ],
  [
    '{% macro m(x, y = "d") %}{{ x }}{{ y }}{% set x = "z" %}{{ x }}{% endmacro %}{{ m("a") }}{{ m("b", y = "e") }}{{ x }}',
    'adzbez',
  ],
  ['{% macro w() %}<{{ caller() }}>{% endmacro %}{% call w() %}in{% endcall %}', '<in>'],
  ['{% set s %}  cap  {% endset %}[{{ s | trim }}]', '[cap]'],
  [
    '{% for k, v in { one: 1, two: 2 } %}{{ k }}={{ v }}{{ loop.index }} {% endfor %}',
    'one=11 two=22 ',
  ],
  ['{% set n = 0 %}{% for i in [1, 2, 3] %}{% set n = n + i %}{% endfor %}{{ n }}', '6'],
  [
    '{{ "  a  b\\n\\t " | trim }}|{{ "<i> " | safe | trim }}|{{ "<i> " | trim }}',
    'a  b|<i>|&lt;i&gt;',
  ],
  // Every Unicode space and line end, as the regular expression's \s took them.
  [
    '[{{ ws | trim }}]{{ ws | trim | length }}',
    '[x y]3',
    { ws: '\u00a0\u2003x y\u2028\ufeff\u3000 ' },
  ],
  ['{{ n | trim }}', '7', { n: '  7 ' }],
];

test('loops, scopes, macros and trim render as nunjucks renders them', () => {
  const env = viewEnvironment();
  for (const [template, expected, context] of CASES)
    assert.equal(env.renderString(template, context ?? {}), expected, template);
});
