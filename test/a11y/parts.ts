import { extraPages, pages } from './manifest.ts';

/**
 * The accessibility suite runs in parts, one test file each
 * (test/e2e/a11y-<k>.test.ts), so the test runner spreads the pages over
 * its parallel slots like any other files instead of one file holding the
 * suite's longest path. Each page of the manifest belongs to exactly one
 * part: in the manifest's order, each goes to the part with the fewest page
 * visits so far (a route's static sample URLs count one each; a sample
 * function counts one), so parts stay even as pages are added.
 */
export interface Visit {
  /** The manifest route, or the path of an extra page. */
  key: string;
  route?: string;
  extra?: (typeof extraPages)[number];
}

export function partsOf(count: number): Visit[][] {
  const parts: Visit[][] = Array.from({ length: count }, () => []);
  const load = new Array<number>(count).fill(0);
  const place = (visit: Visit, weight: number) => {
    const i = load.indexOf(Math.min(...load));
    parts[i]!.push(visit);
    load[i]! += weight;
  };
  for (const [route, sample] of Object.entries(pages))
    place({ key: route, route }, Array.isArray(sample.paths) ? sample.paths.length : 1);
  for (const extra of extraPages) place({ key: `${extra.path} (${extra.status})`, extra }, 1);
  return parts;
}
