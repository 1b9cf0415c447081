import { z } from 'zod';
import { spreadsheetCell } from '../../platform/spreadsheet.ts';
import type { SubscriberRow } from './repository.ts';
import { FREQUENCIES, type Frequency, type Topic, TOPICS } from './schema.ts';
import { csvParse, csvStringify } from '../../platform/csv.ts';

/**
 * The subscribers' CSV, out and in. An import must say, for every row, when
 * and where the person gave their consent (`consent_date`, `consent_source`):
 * a list without that evidence cannot be mailed under PECR. Every bad row is
 * reported, and then nothing is imported.
 */

export const CSV_COLUMNS = [
  'email',
  'name',
  'state',
  'topics',
  'frequency',
  'language',
  'signed_up_at',
  'confirmed_at',
  'unsubscribed_at',
] as const;

export function subscribersCsv(rows: SubscriberRow[]): string {
  return csvStringify().stringify(
    rows.map((s) =>
      [
        s.email,
        s.name ?? '',
        s.state,
        s.topics.join(';'),
        s.frequency,
        s.locale,
        s.createdAt.toISOString(),
        s.confirmedAt?.toISOString() ?? '',
        s.unsubscribedAt?.toISOString() ?? '',
      ].map(spreadsheetCell),
    ),
    { header: true, columns: [...CSV_COLUMNS] },
  );
}

export interface ImportRow {
  line: number;
  email: string;
  name?: string | undefined;
  consentAt: Date;
  source: string;
  topics: Topic[];
  frequency: Frequency;
  locale: 'en' | 'cy';
}

export interface ImportProblem {
  line: number;
  /** A translation key under newsletter.import.problems. */
  problem: string;
}

const email = z.string().trim().max(254).pipe(z.email());

export function parseImport(
  text: string,
  now: Date,
): { rows: ImportRow[]; problems: ImportProblem[] } {
  let records: Record<string, string>[];
  try {
    records = csvParse().parse(text, {
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      skip_empty_lines: true,
      trim: true,
      bom: true,
    }) as Record<string, string>[];
  } catch {
    return { rows: [], problems: [{ line: 1, problem: 'unreadable' }] };
  }
  const first = records[0];
  if (!first) return { rows: [], problems: [{ line: 1, problem: 'empty' }] };
  const missing = ['email', 'consent_date', 'consent_source'].filter((c) => !(c in first));
  if (missing.length) return { rows: [], problems: [{ line: 1, problem: 'columns' }] };
  const rows: ImportRow[] = [];
  const problems: ImportProblem[] = [];
  const seen = new Set<string>();
  records.forEach((r, i) => {
    const line = i + 2; // the header is line 1
    const e = email.safeParse(r.email ?? '');
    if (!e.success) return problems.push({ line, problem: 'email' });
    const address = e.data.toLowerCase();
    if (seen.has(address)) return problems.push({ line, problem: 'duplicate' });
    seen.add(address);
    const consentAt = /^\d{4}-\d{2}-\d{2}/.test(r.consent_date ?? '')
      ? new Date(r.consent_date!)
      : undefined;
    if (!consentAt || Number.isNaN(consentAt.getTime()))
      return problems.push({ line, problem: 'consentDate' });
    if (consentAt > now) return problems.push({ line, problem: 'consentFuture' });
    const source = (r.consent_source ?? '').trim();
    if (!source || source.length > 200) return problems.push({ line, problem: 'consentSource' });
    const topicList = (r.topics ?? '')
      .split(/[;,]/)
      .map((t) => t.trim())
      .filter(Boolean);
    if (topicList.some((t) => !(TOPICS as readonly string[]).includes(t)))
      return problems.push({ line, problem: 'topics' });
    const frequency = (r.frequency || 'each').trim();
    if (!(FREQUENCIES as readonly string[]).includes(frequency))
      return problems.push({ line, problem: 'frequency' });
    const locale = (r.language || 'en').trim();
    if (locale !== 'en' && locale !== 'cy') return problems.push({ line, problem: 'language' });
    const name = (r.name ?? '').trim();
    if (name.length > 100) return problems.push({ line, problem: 'name' });
    rows.push({
      line,
      email: e.data,
      name: name || undefined,
      consentAt,
      source,
      topics: topicList.length ? (topicList as Topic[]) : [...TOPICS],
      frequency: frequency as Frequency,
      locale,
    });
    return undefined;
  });
  return { rows, problems };
}
