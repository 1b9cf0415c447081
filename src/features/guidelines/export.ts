import { createHash } from 'node:crypto';
import { spreadsheetCell } from '../../platform/spreadsheet.ts';
import { createKept } from '../../platform/kept.ts';
import type { PlanExport, PlanOverview } from './plans.ts';
import { csvStringify } from '../../platform/csv.ts';

/**
 * A plan as a spreadsheet, in the layout of a baseline assessment tool: one
 * row per statement and agency (number, statement, level, agency, rating,
 * the three questions, evidence, flags, actions) for the latest round, the
 * actions, and every round's ratings (first to last, each row with its round
 * and version) — sheets of their own in the .xlsx, after a blank line each in
 * the CSV. Cells that look like formulas are made text.
 */

type T = (key: string, vars?: Record<string, string | number>) => string;

type AgencyRow = PlanOverview['stages'][number]['statements'][number]['agencies'][number];

/** The headings of agencyCells' columns. */
const agencyHeader = (t: T): string[] =>
  ['agency', 'rating', 'state', 'naReason', 'know', 'howKnow', 'willDo', 'evidence'].map((k) =>
    t(`guidelines.export.${k}`),
  );

/** One agency's answer for a statement: agency, rating, state, the reason, the three questions, evidence. */
const agencyCells = (a: AgencyRow, t: T): string[] => [
  t(`guidelines.agencies.${a.agency}`),
  a.rating ? t(`guidelines.ratings.${a.rating.rating}`) : '',
  a.rating ? t(`guidelines.states.${a.rating.state}`) : t('guidelines.states.unrated'),
  a.rating?.naReason ?? '',
  a.rating?.know ?? '',
  a.rating?.howKnow ?? '',
  a.rating?.willDo ?? '',
  a.evidence
    .map((e) => `${e.description} (${t('guidelines.export.reviewBy')} ${e.reviewBy})`)
    .join('; '),
];

function assessmentRows(p: PlanOverview, t: T): string[][] {
  const header = [
    t('guidelines.export.stage'),
    t('guidelines.export.number'),
    t('guidelines.export.statement'),
    t('guidelines.export.level'),
    ...agencyHeader(t),
    t('guidelines.export.needsReview'),
    t('guidelines.export.disagree'),
    t('guidelines.export.actions'),
  ];
  const rows: string[][] = [header];
  for (const stage of p.stages)
    for (const item of stage.statements) {
      const actions = p.actions
        .filter((a) => a.statementRef === item.statement.ref)
        .map(
          (a) => `${a.title} (${a.owner}, ${a.dueOn}, ${t(`guidelines.actionStatus.${a.status}`)})`,
        )
        .join('; ');
      for (const a of item.agencies)
        rows.push([
          stage.title,
          item.statement.ref,
          item.statement.text,
          t(`guidelines.levels.${item.statement.level}`),
          ...agencyCells(a, t),
          a.needsReview ? t('guidelines.export.yes') : '',
          item.disagree ? t('guidelines.export.yes') : '',
          actions,
        ]);
    }
  return rows;
}

function actionRows(p: PlanOverview, t: T): string[][] {
  return [
    [
      t('guidelines.export.actionTitle'),
      t('guidelines.export.number'),
      t('guidelines.export.agency'),
      t('guidelines.export.owner'),
      t('guidelines.export.due'),
      t('guidelines.export.status'),
      t('guidelines.export.evidenceStatus'),
      t('guidelines.export.signedOffOn'),
      t('guidelines.export.rag'),
    ],
    ...p.actions.map((a) => [
      a.title,
      a.statementRef ?? '',
      t(`guidelines.agencies.${a.agency}`),
      a.owner,
      a.dueOn,
      t(`guidelines.actionStatus.${a.status}`),
      t(`guidelines.evidenceStatus.${a.evidenceStatus}`),
      a.signedOffOn ?? '',
      t(`guidelines.rag.${a.rag}`),
    ]),
  ];
}

/** Every round's ratings, first round to last: one row per round, statement and agency. */
function roundRows(p: PlanExport, t: T): string[][] {
  const rows: string[][] = [
    [
      t('guidelines.export.round'),
      t('guidelines.export.version'),
      t('guidelines.export.stage'),
      t('guidelines.export.number'),
      ...agencyHeader(t),
    ],
  ];
  for (const h of p.history)
    for (const stage of h.stages)
      for (const item of stage.statements)
        for (const a of item.agencies)
          rows.push([
            h.round.name,
            h.version.label,
            stage.title,
            item.statement.ref,
            ...agencyCells(a, t),
          ]);
  return rows;
}

const titleRows = (p: PlanOverview, t: T): string[][] => [
  [p.plan.title],
  [`${p.guideline.title} — ${p.version.label}`],
  [`${t('guidelines.export.round')}: ${p.round.name}`],
  [],
];

export function planCsv(p: PlanExport, t: T): string {
  const rows = [
    ...titleRows(p, t),
    ...assessmentRows(p, t),
    [],
    ...actionRows(p, t),
    [],
    [t('guidelines.export.roundsSheet')],
    ...roundRows(p, t),
  ];
  return csvStringify().stringify(rows.map((r) => r.map(spreadsheetCell)));
}

/**
 * The .xlsx (write-excel-file): cells are written as text, never as
 * formulas, so nothing needs escaping; long text wraps; the heading rows
 * stay in view.
 */
export async function planXlsx(p: PlanExport, t: T): Promise<Buffer> {
  const title = titleRows(p, t);
  const assessment = assessmentRows(p, t);
  const actions = actionRows(p, t);
  const rounds = roundRows(p, t);
  const names = ['assessmentSheet', 'actionsSheet', 'roundsSheet'].map((k) =>
    t(`guidelines.export.${k}`),
  );
  // The file is made of these cells alone: the same cells, the same file. Writing one costs
  // ~150 ms of CPU for a plan of 60 statements, 4 agencies, 300 actions and 6 rounds (the
  // library styles and zips every cell), so a file is kept by a hash of its cells: no stale
  // file is possible. (The route keeps downloads by the plan's state too; this also serves
  // a new state whose cells are the same: a new day, a change the export does not show.)
  const key = createHash('sha256')
    .update(JSON.stringify([names, title, assessment, actions, rounds]))
    .digest('base64');
  const kept = written.get(key);
  if (kept) return kept;
  const file = await writeXlsx(names, title, assessment, actions, rounds);
  written.set(key, file);
  return file;
}

/** The .xlsx files written last, by the hash of their cells: at most 8 MB. */
const written = createKept<Buffer>(8 * 1024 * 1024);

async function writeXlsx(
  [assessmentSheet, actionsSheet, roundsSheet]: string[],
  title: string[][],
  assessment: string[][],
  actions: string[][],
  rounds: string[][],
): Promise<Buffer> {
  const { default: writeExcelFile } = await import('write-excel-file/node');
  const bold = (row: string[]) => row.map((value) => ({ value, fontWeight: 'bold' as const }));
  const wrap = (row: string[]) =>
    row.map((value) => ({ value, wrap: true, alignVertical: 'top' as const }));
  const sheets = [
    {
      sheet: assessmentSheet!,
      data: [
        [{ value: title[0]![0]!, fontWeight: 'bold' as const, fontSize: 14 }],
        ...title.slice(1).map((r) => r.map((value) => ({ value }))),
        bold(assessment[0]!),
        ...assessment.slice(1).map(wrap),
      ],
      columns: [18, 8, 60, 12, 22, 16, 14, 30, 40, 40, 40, 40, 12, 12, 40].map((width) => ({
        width,
      })),
      stickyRowsCount: title.length + 1,
    },
    {
      sheet: actionsSheet!,
      data: [bold(actions[0]!), ...actions.slice(1).map(wrap)],
      columns: [50, 8, 22, 22, 12, 14, 16, 12, 8].map((width) => ({ width })),
      stickyRowsCount: 1,
    },
    {
      sheet: roundsSheet!,
      data: [bold(rounds[0]!), ...rounds.slice(1).map(wrap)],
      columns: [22, 22, 18, 8, 22, 16, 14, 30, 40, 40, 40, 40].map((width) => ({ width })),
      stickyRowsCount: 1,
    },
  ];
  return writeExcelFile(sheets).toBuffer();
}
