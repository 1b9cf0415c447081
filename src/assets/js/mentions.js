// @mention autocomplete for post boxes. Progressive enhancement only: without
// this file (or when a request fails) people type "@Display Name" themselves,
// which is all a mention needs.
//
// Contract with the templates:
//   <textarea data-mentions="/community/{space}/mentions"
//             data-mentions-label="Names you can mention"
//             data-mentions-instructions="Use the up and down arrow keys…"
//             data-mentions-found='["No names found","1 name found",…]'>
// data-mentions-found holds the "N names found" sentence for 0 to 8 names,
// already translated. The URL answers { suggestions: [{ name }] }.
//
// The ARIA 1.2 combobox pattern, on the textarea: role="combobox",
// aria-autocomplete="list", aria-controls, aria-expanded and
// aria-activedescendant; the suggestions are a listbox below the box.

const MIN_LETTERS = 2;
const MAX_QUERY = 50;
const MAX_NAMES = 8;
const DELAY_MS = 200;
const WORD = /[\p{L}\p{N}_.]/u;
const LETTERS_FIRST = new RegExp(`^\\p{L}{${MIN_LETTERS}}`, 'u');

let boxes = 0;

/** The "@name" being typed just before the caret, or undefined. */
export function mentionAt(text, caret) {
  const before = text.slice(Math.max(0, caret - MAX_QUERY - 1), caret);
  const at = before.lastIndexOf('@');
  if (at < 0) return undefined;
  const start = caret - before.length + at;
  // After a letter, digit or dot it is an email address, not a mention.
  if (start > 0 && WORD.test(text.charAt(start - 1))) return undefined;
  // Quoted lines (starting with ">") do not mention anyone.
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  if (/^\s{0,3}>/.test(text.slice(lineStart, start + 1))) return undefined;
  const query = text.slice(start + 1, caret);
  if (query.length > MAX_QUERY || /[\n@]/.test(query) || /\s$/.test(query)) return undefined;
  if (!LETTERS_FIRST.test(query)) return undefined;
  return { start, query };
}

function readSentences(textarea) {
  try {
    const list = JSON.parse(textarea.getAttribute('data-mentions-found') || '[]');
    return Array.isArray(list) ? list.map(String) : [];
  } catch {
    return [];
  }
}

function enhance(textarea) {
  const endpoint = textarea.getAttribute('data-mentions');
  if (!endpoint || textarea.hasAttribute('data-mentions-ready')) return;
  textarea.setAttribute('data-mentions-ready', '');
  const sentences = readSentences(textarea);
  const instructions = textarea.getAttribute('data-mentions-instructions') || '';
  const id = `${textarea.id || `sp-mentions-${++boxes}`}-mentions`;

  const list = document.createElement('ul');
  list.id = id;
  list.className = 'sp-mentions__list';
  list.setAttribute('role', 'listbox');
  list.setAttribute('aria-label', textarea.getAttribute('data-mentions-label') || '');
  list.hidden = true;
  const status = document.createElement('div');
  status.className = 'govuk-visually-hidden';
  status.setAttribute('role', 'status');
  status.setAttribute('aria-live', 'polite');
  textarea.after(list, status);

  textarea.setAttribute('role', 'combobox');
  textarea.setAttribute('aria-autocomplete', 'list');
  textarea.setAttribute('aria-controls', id);
  textarea.setAttribute('aria-expanded', 'false');

  /** What is shown: the mention being completed, its names, the chosen one. */
  let current; // { start, query }
  let names = [];
  let active = -1;
  let dismissed; // the start of a mention closed with Escape
  let timer;
  let controller;
  const cache = new Map(); // lower-case query → names
  const dead = new Set(); // queries with no names: longer ones have none either

  function announce(text) {
    if (status.textContent !== text) status.textContent = text;
  }

  function collapse() {
    names = [];
    active = -1;
    list.hidden = true;
    list.replaceChildren();
    textarea.classList.remove('sp-mentions__field--open');
    textarea.setAttribute('aria-expanded', 'false');
    textarea.removeAttribute('aria-activedescendant');
  }

  function close() {
    clearTimeout(timer);
    controller?.abort();
    controller = undefined;
    current = undefined;
    collapse();
  }

  function highlight(index) {
    active = index;
    list.querySelectorAll('[role="option"]').forEach((option, i) => {
      option.setAttribute('aria-selected', String(i === index));
    });
    if (index < 0) {
      textarea.removeAttribute('aria-activedescendant');
      return;
    }
    const option = list.children[index];
    textarea.setAttribute('aria-activedescendant', option.id);
    option.scrollIntoView?.({ block: 'nearest' });
  }

  function show(mention, found) {
    current = mention;
    const sentence = sentences[found.length] || '';
    announce(found.length ? `${sentence} ${instructions}`.trim() : sentence);
    if (!found.length) return collapse();
    names = found;
    active = -1;
    list.replaceChildren(
      ...found.map((name, i) => {
        const option = document.createElement('li');
        option.id = `${id}-${i}`;
        option.className = 'sp-mentions__option';
        option.setAttribute('role', 'option');
        option.setAttribute('aria-selected', 'false');
        option.textContent = name;
        return option;
      }),
    );
    list.hidden = false;
    textarea.classList.add('sp-mentions__field--open');
    textarea.setAttribute('aria-expanded', 'true');
    textarea.removeAttribute('aria-activedescendant');
  }

  function choose(index) {
    const name = names[index];
    if (!current || name === undefined) return;
    const { start } = current;
    const caret = textarea.selectionStart;
    close();
    textarea.focus();
    textarea.setRangeText(`@${name} `, start, caret, 'end');
    // Let other scripts (a character count, say) know the text changed.
    textarea.dispatchEvent(new window.Event('input', { bubbles: true }));
    announce('');
  }

  async function lookUp(mention) {
    const key = mention.query.toLowerCase().replace(/\s+/g, ' ');
    if (cache.has(key)) return show(mention, cache.get(key));
    for (const d of dead) if (key.startsWith(d)) return show(mention, []);
    controller?.abort();
    const mine = new window.AbortController();
    controller = mine;
    try {
      const url = new URL(endpoint, window.location.href);
      url.searchParams.set('q', mention.query);
      const res = await window.fetch(url, {
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
        signal: mine.signal,
      });
      if (!res.ok) return failed(mine);
      const data = await res.json();
      if (controller !== mine) return; // a newer request took over
      const found = (Array.isArray(data?.suggestions) ? data.suggestions : [])
        .map((s) => s?.name)
        .filter((n) => typeof n === 'string' && n.length > 0)
        .slice(0, MAX_NAMES);
      cache.set(key, found);
      if (!found.length) dead.add(key);
      // Only if the caret is still at this mention.
      const now = mentionAt(textarea.value, textarea.selectionStart);
      if (now && now.start === mention.start && now.query === mention.query) show(mention, found);
    } catch {
      // Aborted for a newer request, or the network failed: nothing to show.
      if (!mine.signal.aborted) failed(mine);
    }
  }

  // A request that failed hides the list, unless a newer one took over. A
  // look-up still waiting for its delay goes ahead: it was typed after.
  function failed(mine) {
    if (controller !== mine) return;
    controller = undefined;
    current = undefined;
    collapse();
  }

  function update() {
    const mention =
      textarea.selectionStart === textarea.selectionEnd
        ? mentionAt(textarea.value, textarea.selectionStart)
        : undefined;
    if (!mention || mention.start === dismissed) {
      if (!mention) dismissed = undefined;
      close();
      return;
    }
    dismissed = undefined;
    clearTimeout(timer);
    timer = setTimeout(() => lookUp(mention), DELAY_MS);
  }

  textarea.addEventListener('input', (event) => {
    if (!event.isTrusted) return; // our own, after choosing a name
    update();
  });
  // Moving the caret away from the mention closes the list.
  const recheck = () => {
    if (!current) return;
    const mention = mentionAt(textarea.value, textarea.selectionStart);
    if (!mention || mention.start !== current.start || mention.query !== current.query) close();
  };
  textarea.addEventListener('click', recheck);
  textarea.addEventListener('keyup', (event) => {
    if (['ArrowLeft', 'ArrowRight', 'Home', 'End', 'PageUp', 'PageDown'].includes(event.key))
      recheck();
  });
  textarea.addEventListener('blur', () => close());

  textarea.addEventListener('keydown', (event) => {
    if (list.hidden || !names.length || event.isComposing) return;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    switch (event.key) {
      case 'ArrowDown':
        event.preventDefault();
        highlight(active >= names.length - 1 ? 0 : active + 1);
        break;
      case 'ArrowUp':
        event.preventDefault();
        highlight(active <= 0 ? names.length - 1 : active - 1);
        break;
      case 'Enter':
      case 'Tab':
        // Only a chosen name is inserted; otherwise Enter is a new line, Tab moves on.
        if (active < 0 || event.shiftKey) {
          close();
          return;
        }
        event.preventDefault();
        choose(active);
        break;
      case 'Escape':
        event.preventDefault();
        dismissed = current?.start;
        close();
        break;
      default:
    }
  });

  // Keep the focus (and a phone's keyboard) in the box while a name is tapped.
  list.addEventListener('mousedown', (event) => event.preventDefault());
  list.addEventListener('click', (event) => {
    const option =
      event.target instanceof window.Element ? event.target.closest('[role="option"]') : null;
    if (!option) return;
    choose([...list.children].indexOf(option));
  });
}

for (const textarea of document.querySelectorAll('textarea[data-mentions]')) enhance(textarea);
