import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tidyWhitespace } from './index.ts';

test('indentation goes; line breaks between words stay; pre and textarea keep every space', () => {
  const page = [
    '<ul>',
    '    <li><a href="/">One</a>',
    '      <a href="/2">Two</a></li>',
    '</ul>',
    '<textarea name="body">',
    '    code block',
    '  second</textarea>',
    '<p>Text</p>   ',
    '',
    '   <PRE>  a\n     b</PRE><p>x  y</p>',
  ].join('\n');
  assert.equal(
    tidyWhitespace(page),
    [
      '<ul>',
      '<li><a href="/">One</a>',
      '<a href="/2">Two</a></li>',
      '</ul>',
      '<textarea name="body">\n    code block\n  second</textarea>',
      '<p>Text</p>',
      '<PRE>  a\n     b</PRE><p>x  y</p>',
    ].join('\n'),
  );
});
