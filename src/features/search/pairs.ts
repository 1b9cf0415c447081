/**
 * Word pairs: what lets a phrase be answered from an index.
 *
 * PostgreSQL's GIN index of a tsvector keeps no word positions, so a phrase
 * ("adoption workers", or a hyphenated word, which is searched as a phrase)
 * is found by reading every document that has all its words and checking
 * their positions: for two common words, tens of thousands of rows to find a
 * few hundred. So each document also keeps the pairs of its words that stand
 * next to each other (`search_documents.pairs`, made by the SQL function
 * `search_word_pairs` from the same tsvector), and a query that needs words
 * side by side first asks that index for the documents holding those pairs.
 *
 * This module reads a tsquery as PostgreSQL prints it and works out which
 * pairs every match must hold. It only ever narrows to a superset of the
 * matches: the tsquery itself is still checked on what the pairs let through.
 */

type Node =
  | { op: 'lexeme'; word: string; plain: boolean }
  | { op: 'not'; arg: Node }
  | { op: 'and' | 'or'; left: Node; right: Node }
  | { op: 'phrase'; left: Node; right: Node; distance: number };

/** The tokens of a tsquery's text form: quoted lexemes (with :* or :AB after), operators, brackets. */
function tokens(text: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ') {
      i++;
    } else if (c === "'") {
      let word = '';
      i++;
      for (;;) {
        if (i >= text.length) return undefined;
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            word += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        word += text[i];
        i++;
      }
      const suffix = /^:[*A-D]+/.exec(text.slice(i));
      if (suffix) i += suffix[0].length;
      out.push(`'${suffix ? '~' : '='}${word}`);
    } else if (c === '<') {
      const m = /^<(-|\d+)>/.exec(text.slice(i));
      if (!m) return undefined;
      out.push(m[0]);
      i += m[0].length;
    } else if ('&|!()'.includes(c)) {
      out.push(c);
      i++;
    } else {
      return undefined;
    }
  }
  return out;
}

/** Parse, with PostgreSQL's precedence: ! over <-> over & over |. */
function parse(text: string): Node | undefined {
  const toks = tokens(text);
  if (!toks?.length) return undefined;
  let at = 0;
  const peek = () => toks[at];
  const primary = (): Node => {
    const t = toks[at++];
    if (t === undefined) throw new Error('end');
    if (t === '(') {
      const n = or();
      if (toks[at++] !== ')') throw new Error('bracket');
      return n;
    }
    if (t === '!') return { op: 'not', arg: primary() };
    if (t.startsWith("'")) return { op: 'lexeme', word: t.slice(2), plain: t[1] === '=' };
    throw new Error(`unexpected ${t}`);
  };
  const phrase = (): Node => {
    let left = primary();
    while (peek()?.startsWith('<')) {
      const t = toks[at++]!;
      left = {
        op: 'phrase',
        left,
        right: primary(),
        distance: t === '<->' ? 1 : Number(t.slice(1, -1)),
      };
    }
    return left;
  };
  const and = (): Node => {
    let left = phrase();
    while (peek() === '&') {
      at++;
      left = { op: 'and', left, right: phrase() };
    }
    return left;
  };
  const or = (): Node => {
    let left = and();
    while (peek() === '|') {
      at++;
      left = { op: 'or', left, right: and() };
    }
    return left;
  };
  try {
    const n = or();
    return at === toks.length ? n : undefined;
  } catch {
    return undefined;
  }
}

const hasNot = (n: Node): boolean =>
  n.op === 'not' || (n.op !== 'lexeme' && (hasNot(n.left) || hasNot(n.right)));

/** The plain lexeme a phrase part begins or ends with, if it is one word. */
function edge(n: Node, end: 'first' | 'last'): string | undefined {
  if (n.op === 'lexeme') return n.plain ? n.word : undefined;
  if (n.op === 'phrase') return edge(end === 'first' ? n.left : n.right, end);
  return undefined;
}

function required(n: Node): Set<string> {
  switch (n.op) {
    case 'lexeme':
    case 'not':
      return new Set();
    case 'and':
      return new Set([...required(n.left), ...required(n.right)]);
    case 'or': {
      const right = required(n.right);
      return new Set([...required(n.left)].filter((p) => right.has(p)));
    }
    case 'phrase': {
      // A negation inside a phrase matches by absence: nothing can be required of it.
      if (hasNot(n)) return new Set();
      const out = new Set([...required(n.left), ...required(n.right)]);
      const a = edge(n.left, 'last');
      const b = edge(n.right, 'first');
      // Only words right next to each other: "adoption of workers" (<2>) may match with
      // another word where "of" was, so it needs no pair.
      if (n.distance === 1 && a !== undefined && b !== undefined) out.add(wordPair(a, b));
      return out;
    }
  }
}

/** How a pair is written in the index (as `search_word_pairs` writes it). */
export function wordPair(a: string, b: string): string {
  return `${a} ${b}`;
}

/**
 * The pairs a document must hold for it to match this tsquery (its text, as
 * `tsquery::text` prints it): empty when the query needs no words side by
 * side, or is not understood.
 */
export function requiredPairs(tsqueryText: string): string[] {
  const n = parse(tsqueryText);
  return n ? [...required(n)].sort() : [];
}

/**
 * Whether a query's text could make a tsquery with words side by side: a
 * quote, or a word joined to another by anything but a space ("pre-birth",
 * "don't", "e-mail").
 */
export function mayNeedPairs(q: string): boolean {
  return /"|[\p{L}\p{N}][^\s\p{L}\p{N}]+[\p{L}\p{N}]/u.test(q);
}
