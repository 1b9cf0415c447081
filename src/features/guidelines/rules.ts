import type { ActionRow, RatingRow, StatementRow } from './repository.ts';

/** The plan rules that need no database: combined ratings, disagreement, RAG, versions compared. */

export type Combined = 'fully' | 'partly' | 'not' | 'na' | 'none';

/**
 * A statement's rating across its agencies: the lowest confirmed one (not
 * applicable left out); `na` when every agency said so; `none` when nothing
 * is confirmed yet.
 */
export function combined(ratings: Pick<RatingRow, 'rating' | 'state'>[]): Combined {
  const confirmed = ratings.filter((r) => r.state === 'confirmed');
  if (!confirmed.length) return 'none';
  const values = new Set(confirmed.map((r) => r.rating));
  if (values.has('not')) return 'not';
  if (values.has('partly')) return 'partly';
  if (values.has('fully')) return 'fully';
  return 'na';
}

/** Agencies disagree when their confirmed ratings (not applicable aside) are not all the same. */
export function disagree(ratings: Pick<RatingRow, 'rating' | 'state'>[]): boolean {
  const values = new Set(
    ratings.filter((r) => r.state === 'confirmed' && r.rating !== 'na').map((r) => r.rating),
  );
  return values.size > 1;
}

export type Rag = 'red' | 'amber' | 'green';
const DAY = 24 * 3600 * 1000;

/** ISO date (YYYY-MM-DD) of a Date, in UTC. */
export const isoDay = (d: Date): string => d.toISOString().slice(0, 10);
const daysUntil = (due: string, today: string): number =>
  Math.round((Date.parse(due) - Date.parse(today)) / DAY);

/**
 * RAG from dates and status: red when blocked or past its due date and not
 * delivered; amber when due within 30 days and not delivered, or not
 * started and due within 90 days; green otherwise (delivered, or on track).
 */
export function rag(a: Pick<ActionRow, 'status' | 'dueOn'>, today: string): Rag {
  if (a.status === 'delivered') return 'green';
  const days = daysUntil(a.dueOn, today);
  if (a.status === 'blocked' || days < 0) return 'red';
  if (days <= 30 || (a.status === 'not_started' && days <= 90)) return 'amber';
  return 'green';
}

export const overdue = (a: Pick<ActionRow, 'status' | 'dueOn'>, today: string): boolean =>
  a.status !== 'delivered' && a.dueOn < today;

/** Overdue actions first, then by due date, then title. */
export function sortActions<T extends Pick<ActionRow, 'status' | 'dueOn' | 'title'>>(
  actions: T[],
  today: string,
): T[] {
  return [...actions].sort(
    (a, b) =>
      Number(overdue(b, today)) - Number(overdue(a, today)) ||
      a.dueOn.localeCompare(b.dueOn) ||
      a.title.localeCompare(b.title),
  );
}

export type Change = 'unchanged' | 'changed' | 'new' | 'removed';
/** What a version comparison looks at in a statement. */
export type Comparable = Pick<StatementRow, 'ref' | 'text' | 'level' | 'agencies' | 'lenses'>;
const same = (a: Comparable, b: Comparable) =>
  a.text === b.text &&
  a.level === b.level &&
  [...a.agencies].sort().join() === [...b.agencies].sort().join() &&
  [...a.lenses].sort().join() === [...b.lenses].sort().join();

/** Statement by statement (matched by number), what a newer version did to each. */
export function compareVersions<T extends Comparable>(
  older: T[],
  newer: T[],
): { ref: string; change: Change; before?: T; after?: T }[] {
  const old = new Map(older.map((s) => [s.ref, s]));
  const out: { ref: string; change: Change; before?: T; after?: T }[] = [];
  for (const s of newer) {
    const before = old.get(s.ref);
    out.push({
      ref: s.ref,
      change: !before ? 'new' : same(before, s) ? 'unchanged' : 'changed',
      ...(before ? { before } : {}),
      after: s,
    });
    old.delete(s.ref);
  }
  for (const s of old.values()) out.push({ ref: s.ref, change: 'removed', before: s });
  return out;
}

/**
 * The rules of a rating, whoever calls: "not applicable" needs a reason (not
 * just spaces). Answers the field and message key of the first problem.
 */
export function ratingProblem(input: {
  rating: string;
  naReason?: string | null | undefined;
}): { field: 'naReason'; key: string } | undefined {
  if (input.rating === 'na' && !input.naReason?.trim())
    return { field: 'naReason', key: 'guidelines.errors.naReason' };
  return undefined;
}
