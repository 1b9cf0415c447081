import type { z } from 'zod';
import type { Translate } from './i18n/index.ts';

/**
 * Forms in the GOV.UK style. Schemas give i18n keys as their messages; a
 * failed parse becomes an error summary (linking to each field) and inline
 * messages, and the page is shown again with what was typed.
 */

export interface FormErrors {
  summary: { text: string; href: string }[];
  /** Each field's message, with the hidden "Error" before it in the page's language. */
  fields: Record<string, { text: string; visuallyHiddenText?: string }>;
}

export type FormResult<T> =
  { ok: true; data: T } | { ok: false; errors: FormErrors; values: Record<string, unknown> };

/** The id of the input a field's error links to (GOV.UK: the first input of a group). */
export function fieldId(name: string): string {
  return name.replace(/[^a-zA-Z0-9_-]/g, '-');
}

export function errorsFrom(
  problems: { field: string; key: string; vars?: Record<string, string | number> }[],
  t: Translate,
): FormErrors {
  const errors: FormErrors = { summary: [], fields: {} };
  for (const p of problems) {
    if (errors.fields[p.field]) continue;
    const text = t(p.key, p.vars);
    errors.fields[p.field] = { text, visuallyHiddenText: t('common.errorPrefix') };
    errors.summary.push({ text, href: `#${fieldId(p.field)}` });
  }
  return errors;
}

/** One message for one field, e.g. a rule the service checked. */
export function fieldError(
  field: string,
  key: string,
  t: Translate,
  vars?: Record<string, string | number>,
): FormErrors {
  return errorsFrom([{ field, key, ...(vars ? { vars } : {}) }], t);
}

export function parseForm<S extends z.ZodType>(
  schema: S,
  body: unknown,
  t: Translate,
): FormResult<z.infer<S>> {
  const values = (
    body && typeof body === 'object' ? { ...(body as Record<string, unknown>) } : {}
  ) as Record<string, unknown>;
  delete values._csrf;
  for (const k of Object.keys(values)) if (/password|^code$/i.test(k)) delete values[k]; // never echo secrets
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return { ok: true, data: parsed.data };
  const problems = parsed.error.issues.map((i) => ({
    field: String(i.path[0] ?? 'form'),
    key: i.message,
  }));
  return { ok: false, errors: errorsFrom(problems, t), values };
}

/** Trimmed text; empty becomes undefined. */
export function text(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  return s === '' ? undefined : s;
}

/**
 * What was typed, to show a form again after a problem: text fields and
 * lists of text (checkboxes), never the CSRF token or a file.
 */
export function echoValues(body: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    if (k === '_csrf') continue;
    if (typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string')))
      values[k] = v;
  }
  return values;
}
