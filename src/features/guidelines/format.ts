import type * as Yaml from 'yaml';
import { lazy } from '../../platform/lazy.ts';

/** yaml, loaded with the first guideline file read or written (not at start-up). */
const yaml = lazy<typeof Yaml>('yaml');
import { z } from 'zod';
import { AGENCIES, EXAMPLE_KINDS, LENSES, LEVELS, VERSION_STATUSES } from './schema.ts';

/**
 * The guideline file (YAML): one version of one guideline, as
 * `import:guideline` reads it and `export:guideline` writes it. The format is
 * documented in README.md. Parsing reports every problem with its path
 * (`stages[1].statements[3].level`); writing is canonical (fixed key order,
 * empty optional fields left out), so export → import → export gives the
 * same bytes.
 */

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** A statement's number: 1, 2.3, 10.1.4 — also how it appears in its web address. */
export const REF = /^\d{1,3}(?:\.\d{1,3}){0,3}$/;

/** A message for a wrong value, and "is required" for a missing one. */
const m = (message: string) => ({
  error: (iss: { input?: unknown }) => (iss.input === undefined ? 'is required' : message),
});
const text = (max: number) =>
  z
    .string(m('must be text'))
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`);
const optionalText = (max: number) => text(max).optional();
const slugList = z
  .array(
    z.string(m('must be text')).regex(SLUG, 'must be a web address name like demo-service-1'),
    m('must be a list'),
  )
  .default([]);
const enumOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, m(`must be one of: ${values.join(', ')}`));

const exampleSchema = z.strictObject({
  kind: enumOf(EXAMPLE_KINDS),
  text: text(4000),
  area: optionalText(200),
  services: slugList,
  resources: slugList,
  stories: slugList,
});

const statementSchema = z.strictObject({
  ref: z.string(m('must be text, in quotes: "1.2"')).regex(REF, 'must be a number like 1 or 2.3'),
  text: text(4000),
  text_cy: optionalText(4000),
  level: enumOf(LEVELS),
  agencies: z.array(enumOf(AGENCIES), m('must be a list')).min(1, 'must name at least one agency'),
  lenses: z.array(enumOf(LENSES), m('must be a list')).default([]),
  examples: z.array(exampleSchema, m('must be a list')).default([]),
});

const stageSchema = z.strictObject({
  key: z.string(m('must be text')).regex(SLUG, 'must be a web address name like pre-birth'),
  title: text(200),
  title_cy: optionalText(200),
  intro: optionalText(4000),
  intro_cy: optionalText(4000),
  for_parents: text(6000),
  for_parents_cy: optionalText(6000),
  statements: z
    .array(statementSchema, m('must be a list'))
    .min(1, 'must have at least one statement'),
});

export const guidelineFileSchema = z.strictObject({
  slug: z.string(m('must be text')).regex(SLUG, 'must be a web address name like born-into-care'),
  title: text(200),
  title_cy: optionalText(200),
  summary: text(2000),
  summary_cy: optionalText(2000),
  publisher: text(200),
  illustrative: z.boolean(m('must be true or false')).default(false),
  version: z.strictObject(
    {
      number: z.number(m('must be a whole number')).int('must be a whole number').min(1).max(999),
      label: text(200),
      status: enumOf(VERSION_STATUSES),
      issued_on: z.iso.date('must be a date like 2026-04-01'),
      licence: text(500),
      source_url: z
        .url({ protocol: /^https?$/, error: 'must be a web address starting https:// or http://' })
        .optional(),
    },
    m('must be a group of fields (number, label, status, issued_on, licence)'),
  ),
  stages: z.array(stageSchema, m('must be a list')).min(1, 'must have at least one stage'),
});

/** Stage keys and statement numbers used twice (checked on the raw data, so reported with every other problem). */
function repeats(raw: unknown): Problem[] {
  const out: Problem[] = [];
  const stages = (raw as { stages?: unknown } | null)?.stages;
  if (!Array.isArray(stages)) return out;
  const keys = new Set<unknown>();
  const refs = new Set<unknown>();
  stages.forEach((s: { key?: unknown; statements?: unknown } | null, i: number) => {
    if (typeof s?.key === 'string') {
      if (keys.has(s.key)) out.push({ path: `stages[${i}].key`, message: `repeats "${s.key}"` });
      keys.add(s.key);
    }
    if (!Array.isArray(s?.statements)) return;
    s.statements.forEach((st: { ref?: unknown } | null, j: number) => {
      if (typeof st?.ref !== 'string') return;
      if (refs.has(st.ref))
        out.push({
          path: `stages[${i}].statements[${j}].ref`,
          message: `repeats statement ${st.ref}`,
        });
      refs.add(st.ref);
    });
  });
  return out;
}

export type GuidelineFile = z.output<typeof guidelineFileSchema>;
export interface Problem {
  path: string;
  message: string;
}

/** `stages[1].statements[3].level` from zod's path. */
export function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out || '(file)';
}

export function parseGuidelineYaml(
  source: string,
): { ok: true; data: GuidelineFile } | { ok: false; problems: Problem[] } {
  const doc = yaml().parseDocument(source, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length)
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '(file)',
        message: e.message.split('\n')[0]!,
      })),
    };
  if (!yaml().isMap(doc.contents) && !yaml().isSeq(doc.contents))
    return {
      ok: false,
      problems: [
        {
          path: '(file)',
          message: 'is not a guideline (expected keys such as slug, title, stages)',
        },
      ],
    };
  const raw: unknown = doc.toJS();
  const parsed = guidelineFileSchema.safeParse(raw);
  const problems = [
    ...(parsed.success
      ? []
      : parsed.error.issues.map((i) => ({
          path: pathText(i.path),
          message:
            i.code === 'unrecognized_keys'
              ? `has unknown field(s): ${i.keys.join(', ')}`
              : i.message,
        }))),
    ...repeats(raw),
  ];
  if (parsed.success && !problems.length) return { ok: true, data: parsed.data };
  return { ok: false, problems };
}

/** The canonical text of a guideline file. */
export function toGuidelineYaml(g: GuidelineFile): string {
  const opt = <T>(k: string, v: T | undefined | null) =>
    v === undefined || v === null ? {} : { [k]: v };
  const list = (k: string, v: string[]) => (v.length ? { [k]: v } : {});
  const data = {
    slug: g.slug,
    title: g.title,
    ...opt('title_cy', g.title_cy),
    summary: g.summary,
    ...opt('summary_cy', g.summary_cy),
    publisher: g.publisher,
    illustrative: g.illustrative,
    version: {
      number: g.version.number,
      label: g.version.label,
      status: g.version.status,
      issued_on: g.version.issued_on,
      licence: g.version.licence,
      ...opt('source_url', g.version.source_url),
    },
    stages: g.stages.map((s) => ({
      key: s.key,
      title: s.title,
      ...opt('title_cy', s.title_cy),
      ...opt('intro', s.intro),
      ...opt('intro_cy', s.intro_cy),
      for_parents: s.for_parents,
      ...opt('for_parents_cy', s.for_parents_cy),
      statements: s.statements.map((st) => ({
        ref: st.ref,
        text: st.text,
        ...opt('text_cy', st.text_cy),
        level: st.level,
        agencies: st.agencies,
        ...list('lenses', st.lenses),
        ...(st.examples.length
          ? {
              examples: st.examples.map((e) => ({
                kind: e.kind,
                text: e.text,
                ...opt('area', e.area),
                ...list('services', e.services),
                ...list('resources', e.resources),
                ...list('stories', e.stories),
              })),
            }
          : {}),
      })),
    })),
  };
  return yaml().stringify(data, {
    lineWidth: 0,
    defaultStringType: 'PLAIN',
    defaultKeyType: 'PLAIN',
  });
}
