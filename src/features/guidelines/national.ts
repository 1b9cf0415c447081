/**
 * The national picture's disclosure rules (no database): which figures may be
 * shown so that no area, or group of fewer than `min` areas, can be picked out
 * — not from one figure, and not by subtracting shown figures from a shown
 * total.
 *
 * - An **area** is a set of authorities rated together. Plans that share an
 *   authority are one area (the same authority is never counted twice, and
 *   one plan covering three authorities is one area, not three: it is one
 *   source of ratings). An area takes part when the latest round of one of its
 *   plans has a confirmed rating (not "not applicable") on a statement of the
 *   current version; its rating of a statement is the lowest of its plans'.
 * - **Per figure**: a statement's, a stage's or a region's stage figure is
 *   shown only when at least `min` areas contribute to it.
 * - **Remainders**: a stage's figure is the sum of its statements', and of its
 *   region groups'. When the hidden parts of a stage (with any area in them)
 *   cover fewer than `min` areas together, the smallest shown part is hidden
 *   as well, so "stage minus the shown parts" never gives a group under `min`.
 * - **Regions**: regions with fewer than `min` areas are counted together as
 *   "other regions"; if that group is itself under `min` (but not empty), the
 *   smallest named region joins it. Every region group shown has at least
 *   `min` areas, and the groups add up to the total, so nothing is left over.
 */

/** One plan's latest round: each statement's lowest confirmed rating (0 not, 1 partly, 2 fully). */
export interface PlanRatings {
  planId: string;
  areaCodes: string[];
  region: string;
  ratings: Record<string, number>;
}

export interface Figure {
  fully: number;
  partly: number;
  not: number;
  /** How many areas contribute (kept for the tests; never shown). */
  areas: number;
  /** True when the figure must not be shown. */
  hidden: boolean;
}

export interface RegionGroup {
  /** '' for "other regions". */
  name: string;
  areas: number;
  stages: Map<string, Figure>;
}

export interface NationalPicture {
  total: number;
  byStage: Map<string, Figure>;
  byStatement: Map<string, Figure>;
  byRegion: RegionGroup[];
}

interface Area {
  region: string;
  ratings: Map<string, number>;
}

/** Plans sharing an authority are merged into one area (union–find over authority codes). */
export function areasOf(plans: PlanRatings[]): Area[] {
  const sorted = [...plans].sort((a, b) => a.planId.localeCompare(b.planId));
  const parent = sorted.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  const byCode = new Map<string, number>();
  sorted.forEach((p, i) => {
    for (const code of p.areaCodes) {
      const j = byCode.get(code);
      if (j === undefined) byCode.set(code, i);
      else parent[find(i)] = find(j);
    }
  });
  const areas = new Map<number, Area>();
  sorted.forEach((p, i) => {
    const root = find(i);
    // The area's region is its first plan's (plans sorted by id, so it is stable).
    const area = areas.get(root) ?? { region: sorted[root]!.region, ratings: new Map() };
    for (const [ref, v] of Object.entries(p.ratings))
      area.ratings.set(ref, Math.min(v, area.ratings.get(ref) ?? 2));
    areas.set(root, area);
  });
  return [...areas.values()];
}

const KEYS = ['not', 'partly', 'fully'] as const;

class Counter {
  readonly areas = new Set<number>();
  readonly tally = { fully: 0, partly: 0, not: 0 };
  add(area: number, v: number) {
    this.areas.add(area);
    this.tally[KEYS[v]!]++;
  }
}

/**
 * Hides the parts under `min` areas, then, while the hidden parts with any
 * area in them cover fewer than `min` areas together, the smallest shown
 * part too (one is enough: a shown part has `min` areas or more).
 */
function suppress(parts: Map<string, Counter>, min: number): Set<string> {
  const hidden = new Set([...parts].filter(([, c]) => c.areas.size < min).map(([k]) => k));
  const covered = () => {
    const union = new Set<number>();
    for (const k of hidden) for (const a of parts.get(k)!.areas) union.add(a);
    return union.size;
  };
  let n = covered();
  while (n > 0 && n < min) {
    const next = [...parts]
      .filter(([k]) => !hidden.has(k))
      .sort(([ka, a], [kb, b]) => a.areas.size - b.areas.size || ka.localeCompare(kb))[0];
    if (!next) break;
    hidden.add(next[0]);
    n = covered();
  }
  return hidden;
}

const figure = (c: Counter | undefined, hidden: boolean): Figure =>
  hidden || !c
    ? { fully: 0, partly: 0, not: 0, areas: c?.areas.size ?? 0, hidden: true }
    : { ...c.tally, areas: c.areas.size, hidden: false };

/**
 * The figures that may be shown, for the statements of the current version
 * (`stages`: each stage's key and its statements' refs, in order).
 */
export function nationalPicture(
  plans: PlanRatings[],
  stages: { key: string; refs: string[] }[],
  min: number,
): NationalPicture {
  const stageOf = new Map<string, string>();
  for (const s of stages) for (const ref of s.refs) stageOf.set(ref, s.key);
  // Only areas with a confirmed rating on a statement of this version take part.
  const areas = areasOf(plans).filter((a) => [...a.ratings.keys()].some((r) => stageOf.has(r)));
  const total = areas.length;

  const statements = new Map<string, Counter>();
  const stageCounts = new Map<string, Counter>();
  for (const s of stages) {
    stageCounts.set(s.key, new Counter());
    for (const ref of s.refs) statements.set(ref, new Counter());
  }
  areas.forEach((a, i) => {
    for (const [ref, v] of a.ratings) {
      const stage = stageOf.get(ref);
      if (!stage) continue; // a statement not in the current version
      statements.get(ref)!.add(i, v);
      stageCounts.get(stage)!.add(i, v);
    }
  });

  const byStage = new Map<string, Figure>();
  const byStatement = new Map<string, Figure>();
  for (const s of stages) {
    const stage = stageCounts.get(s.key)!;
    byStage.set(s.key, figure(stage, stage.areas.size < min));
    const parts = new Map(s.refs.map((ref) => [ref, statements.get(ref)!]));
    const hidden = suppress(parts, min);
    for (const ref of s.refs) byStatement.set(ref, figure(parts.get(ref), hidden.has(ref)));
  }

  // Region groups: small regions together; a small remainder takes the smallest named region.
  const perRegion = new Map<string, number>();
  for (const a of areas) perRegion.set(a.region, (perRegion.get(a.region) ?? 0) + 1);
  const named = [...perRegion]
    .filter(([, n]) => n >= min)
    .sort(([a, x], [b, y]) => x - y || a.localeCompare(b));
  const other = () => total - named.reduce((n, [, c]) => n + c, 0);
  if (other() > 0 && other() < min && named.length) named.shift();
  const groupOf = (region: string) => (named.some(([r]) => r === region) ? region : '');
  const groups = new Map<string, Map<string, Counter>>();
  const groupAreas = new Map<string, number>();
  areas.forEach((a, i) => {
    const g = groupOf(a.region);
    groupAreas.set(g, (groupAreas.get(g) ?? 0) + 1);
    const stagesOfGroup =
      groups.get(g) ?? new Map(stages.map((s) => [s.key, new Counter()] as const));
    groups.set(g, stagesOfGroup);
    for (const [ref, v] of a.ratings) {
      const stage = stageOf.get(ref);
      if (stage) stagesOfGroup.get(stage)!.add(i, v);
    }
  });
  const byRegion: RegionGroup[] = [...groups.keys()]
    .sort((a, b) => (a === '' ? 1 : b === '' ? -1 : a.localeCompare(b)))
    .map((name) => ({ name, areas: groupAreas.get(name)!, stages: new Map<string, Figure>() }));
  for (const s of stages) {
    const parts = new Map(byRegion.map((g) => [g.name, groups.get(g.name)!.get(s.key)!]));
    const hidden = suppress(parts, min);
    for (const g of byRegion) g.stages.set(s.key, figure(parts.get(g.name), hidden.has(g.name)));
  }
  return { total, byStage, byStatement, byRegion: total >= min ? byRegion : [] };
}
