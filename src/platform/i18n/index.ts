import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/**
 * English and Welsh. Strings live in `locales/{en,cy}.json` beside the code
 * that uses them: the platform's in `src/platform/i18n/locales` (namespace
 * `common`), each feature's in `src/features/<name>/locales` (namespace
 * `<name>`). Keys are `namespace.path.to.string`; `{name}` interpolates; a
 * value may be an object of plural forms (zero, one, two, few, many, other —
 * Welsh uses all six) chosen by `count` through Intl.PluralRules.
 */

export const LOCALES = ['en', 'cy'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'en';
export const LANG_COOKIE = 'lang';

export function isLocale(v: unknown): v is Locale {
  return typeof v === 'string' && (LOCALES as readonly string[]).includes(v);
}

type Messages = Record<string, unknown>;
export type Translate = (key: string, vars?: Record<string, string | number>) => string;

export interface I18n {
  translator(locale: Locale): Translate;
  /** Every key of one locale, flattened (for the completeness test). */
  keys(locale: Locale): string[];
}

export function loadLocaleDirs(dirs: Record<string, string>): Record<Locale, Messages> {
  const out: Record<Locale, Messages> = { en: {}, cy: {} };
  for (const [ns, dir] of Object.entries(dirs)) {
    for (const locale of LOCALES) {
      const file = join(dir, `${locale}.json`);
      if (existsSync(file)) out[locale][ns] = JSON.parse(readFileSync(file, 'utf8')) as Messages;
    }
  }
  return out;
}

/** Namespaces found under src/features/<name>/locales, plus `common`. */
export function discoverLocaleDirs(srcDir: string): Record<string, string> {
  const dirs: Record<string, string> = { common: join(srcDir, 'platform', 'i18n', 'locales') };
  const features = join(srcDir, 'features');
  for (const name of readdirSync(features)) {
    const dir = join(features, name, 'locales');
    if (existsSync(dir)) dirs[basename(name)] = dir;
  }
  return dirs;
}

const PLURAL_FORMS = new Set(['zero', 'one', 'two', 'few', 'many', 'other']);

function lookup(messages: Messages, key: string): unknown {
  let node: unknown = messages;
  for (const part of key.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Messages)[part];
  }
  return node;
}

function flatten(node: unknown, prefix: string, out: string[]): void {
  if (node !== null && typeof node === 'object') {
    const entries = Object.entries(node as Messages);
    if (entries.length > 0 && entries.every(([k]) => PLURAL_FORMS.has(k))) {
      out.push(prefix);
      return;
    }
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.push(prefix);
  }
}

export function createI18n(messages: Record<Locale, Messages>): I18n {
  const plurals = {
    en: new Intl.PluralRules('en'),
    cy: new Intl.PluralRules('cy'),
  } satisfies Record<Locale, Intl.PluralRules>;
  const cache = new Map<Locale, Translate>();

  function translator(locale: Locale): Translate {
    const cached = cache.get(locale);
    if (cached) return cached;
    // Messages do not change while the process runs: each key is looked up once.
    const found = new Map<string, unknown>();
    const t: Translate = (key, vars) => {
      let value = found.get(key);
      if (value === undefined) {
        value = lookup(messages[locale], key);
        if (value === undefined && locale !== DEFAULT_LOCALE)
          value = lookup(messages[DEFAULT_LOCALE], key);
        if (value !== undefined) found.set(key, value);
      }
      if (value !== null && typeof value === 'object') {
        const forms = value as Record<string, string>;
        const count = Number(vars?.count ?? 0);
        const form =
          count === 0 && forms.zero !== undefined ? 'zero' : plurals[locale].select(count);
        value = forms[form] ?? forms.other;
      }
      if (typeof value !== 'string') return key;
      if (!vars) return value;
      return value.replace(/\{(\w+)\}/g, (m, name: string) =>
        vars[name] === undefined ? m : String(vars[name]),
      );
    };
    cache.set(locale, t);
    return t;
  }

  return {
    translator,
    keys(locale) {
      const out: string[] = [];
      flatten(messages[locale], '', out);
      return out.sort();
    },
  };
}
