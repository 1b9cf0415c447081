import { stringify } from 'csv-stringify/sync';
import { spreadsheetCell } from '../../platform/spreadsheet.ts';
import type { PlanOverview } from './plans.ts';

/**
 * A plan as a spreadsheet, in the layout of a baseline assessment tool: one
 * row per statement and agency (number, statement, level, agency, rating,
 * the three questions, evidence, flags, actions), and the actions on a
 * sheet of their own (.xlsx) or after a blank line (CSV). Cells that look
 * like formulas are made text.
 */

type T = (key: string, vars?: Record<string, string | number>) => string;

function assessmentRows(p: PlanOverview, t: T): string[][] {
  const header = [
    t('guidelines.export.stage'),
    t('guidelines.export.number'),
    t('guidelines.export.statement'),
    t('guidelines.export.level'),
    t('guidelines.export.agency'),
    t('guidelines.export.rating'),
    t('guidelines.export.state'),
    t('guidelines.export.naReason'),
    t('guidelines.export.know'),
    t('guidelines.export.howKnow'),
    t('guidelines.export.willDo'),
    t('guidelines.export.evidence'),
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

const titleRows = (p: PlanOverview, t: T): string[][] => [
  [p.plan.title],
  [`${p.guideline.title} — ${p.version.label}`],
  [`${t('guidelines.export.round')}: ${p.round.name}`],
  [],
];

export function planCsv(p: PlanOverview, t: T): string {
  const rows = [...titleRows(p, t), ...assessmentRows(p, t), [], ...actionRows(p, t)];
  return stringify(rows.map((r) => r.map(spreadsheetCell)));
}

export async function planXlsx(p: PlanOverview, t: T): Promise<Buffer> {
  const { default: ExcelJS } = await import('exceljs');
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Supporting Parents';
  const sheet = wb.addWorksheet(t('guidelines.export.assessmentSheet'));
  for (const r of titleRows(p, t)) sheet.addRow(r);
  const assessment = assessmentRows(p, t);
  const headerRow = sheet.addRow(assessment[0]!);
  headerRow.font = { bold: true };
  for (const r of assessment.slice(1)) sheet.addRow(r.map(spreadsheetCell));
  sheet.getRow(1).font = { bold: true, size: 14 };
  sheet.columns.forEach((c, i) => {
    c.width = [18, 8, 60, 12, 22, 16, 14, 30, 40, 40, 40, 40, 12, 12, 40][i] ?? 20;
    c.alignment = { wrapText: true, vertical: 'top' };
  });
  sheet.views = [{ state: 'frozen', ySplit: 5 }];
  const actions = wb.addWorksheet(t('guidelines.export.actionsSheet'));
  const rows = actionRows(p, t);
  actions.addRow(rows[0]!).font = { bold: true };
  for (const r of rows.slice(1)) actions.addRow(r.map(spreadsheetCell));
  actions.columns.forEach((c, i) => {
    c.width = [50, 8, 22, 22, 12, 14, 16, 12, 8][i] ?? 16;
  });
  return Buffer.from(await wb.xlsx.writeBuffer());
}
