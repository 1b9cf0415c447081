/**
 * The national overview's picture when no boundaries have been imported: a
 * tile map (a cartogram) of every authority, one equal square each, grouped
 * by region, each region labelled with its name and how many of its
 * authorities have a service, and each square marked with a short code for
 * its authority (the page's table of authorities gives every code's name), so
 * the picture reads on paper too, where nothing can be hovered. It needs no
 * boundary file and reads the same at any size; the page's tables hold the
 * same facts in words. Pure: the page pastes the numbers into an <svg>.
 */

export interface TileLayout {
  /** Regions in columns, west to east and north to south, roughly as on a map. */
  columns: readonly (readonly string[])[];
  /** Squares in a row of a region's block. */
  perRow: number;
  /** Where a region's name is longer, it takes two lines (room for two is kept above each block). */
  nameChars?: number;
}

/** For a screen from tablet up, and for paper: three columns, six squares a row. */
export const WIDE: TileLayout = {
  columns: [
    ['E12000002', 'W92000004', 'E12000009'], // North West, Wales, South West
    ['E12000001', 'E12000005', 'E12000004', 'E12000007'], // North East, West and East Midlands, London
    ['E12000003', 'E12000006', 'E12000008'], // Yorkshire and The Humber, East of England, South East
  ],
  perRow: 6,
};

/** For a phone: two columns, four squares a row, so the codes stay large enough to read. */
export const NARROW: TileLayout = {
  columns: [
    ['E12000002', 'W92000004', 'E12000005', 'E12000004', 'E12000009'], // NW, Wales, Midlands, SW
    ['E12000001', 'E12000003', 'E12000006', 'E12000007', 'E12000008'], // NE, Yorkshire, East, London, SE
  ],
  perRow: 4,
  nameChars: 18,
};

export const TILE = 28;
const GAP = 3;
const PITCH = TILE + GAP;
const COLUMN_GAP = 36;
/** Room beyond the last column for a long region name, and below the last row. */
const PAD_RIGHT = 52;
const PAD_BOTTOM = 4;
/** Room above a region's squares for its name (a line, or two) and its count. */
const LABEL = 38;
const LINE = 14;
const REGION_GAP = 14;

export interface TileInput {
  gssCode: string;
  label: string;
  state: string;
  stateLabel: string;
  regionCode: string | null;
}

export interface TileMap {
  viewBox: string;
  /** The side of a square. */
  size: number;
  regions: { code: string; x: number; y: number; total: number; covered: number }[];
  tiles: (TileInput & { x: number; y: number; code: string })[];
}

/**
 * Lay the authorities out. Regions not in the layout (a new one in a later
 * list) go to the foot of the shortest column, so no authority is left out.
 */
export function tileMap(authorities: TileInput[], layout: TileLayout = WIDE): TileMap {
  const { perRow } = layout;
  const block = perRow * PITCH - GAP;
  const label = layout.nameChars ? LABEL + LINE : LABEL;
  const blockHeight = (code: string) =>
    label + Math.ceil((byRegion.get(code)?.length ?? 0) / perRow) * PITCH - GAP + REGION_GAP;
  const shortCode = shortCodes(authorities.map((a) => a.label));
  const byRegion = new Map<string, TileInput[]>();
  for (const a of authorities) {
    const code = a.regionCode ?? 'unknown';
    byRegion.set(code, [...(byRegion.get(code) ?? []), a]);
  }
  const columns = layout.columns.map((c) => c.filter((code) => byRegion.has(code)));
  const placed = new Set(columns.flat());
  const heights = columns.map((c) => c.reduce((h, code) => h + blockHeight(code), 0));
  for (const code of byRegion.keys()) {
    if (placed.has(code)) continue;
    const shortest = heights.indexOf(Math.min(...heights));
    columns[shortest]!.push(code);
    heights[shortest]! += blockHeight(code);
  }
  const regions: TileMap['regions'] = [];
  const tiles: TileMap['tiles'] = [];
  columns.forEach((codes, col) => {
    const x0 = col * (block + COLUMN_GAP);
    let y = 0;
    for (const code of codes) {
      const members = byRegion.get(code)!;
      regions.push({
        code,
        x: x0,
        y,
        total: members.length,
        covered: members.filter((m) => m.state === 'covered').length,
      });
      members.forEach((m, i) =>
        tiles.push({
          ...m,
          code: shortCode.get(m.label)!,
          x: x0 + (i % perRow) * PITCH,
          y: y + label + Math.floor(i / perRow) * PITCH,
        }),
      );
      y += blockHeight(code);
    }
  });
  const width = columns.length * (block + COLUMN_GAP) - COLUMN_GAP + PAD_RIGHT;
  const height = Math.max(...heights, 0) - REGION_GAP + PAD_BOTTOM;
  return { viewBox: `0 0 ${width} ${height}`, size: TILE, regions, tiles };
}

/**
 * A region's name as the layout draws it: on one line, or where it is longer
 * than the layout's `nameChars`, on two, broken at the space nearest the
 * middle (SVG text does not wrap). With the y of each line and of the count
 * below, from the top of the region's block.
 */
export function regionLines(
  name: string,
  layout: TileLayout,
): { lines: { text: string; y: number }[]; countY: number } {
  let parts = [name];
  if (layout.nameChars && name.length > layout.nameChars) {
    const spaces = [...name.matchAll(/ /g)].map((m) => m.index);
    const middle = spaces.sort(
      (a, b) => Math.abs(a - name.length / 2) - Math.abs(b - name.length / 2),
    )[0];
    if (middle !== undefined) parts = [name.slice(0, middle), name.slice(middle + 1)];
  }
  return {
    lines: parts.map((text, i) => ({ text, y: LINE + i * LINE })),
    countY: LINE + 16 + (parts.length - 1) * LINE,
  };
}

/** Words a short code skips: they say what kind of place, not which. */
const FILLER = new Set(['and', 'of', 'the', 'upon', 'on', 'city', 'county', 'borough', 'council']);

/**
 * A three-letter code for each name, different for every name given: the
 * initials of a name of three or more words ("North East Lincolnshire" NEL),
 * a first initial and the start of the second word for two ("West Berkshire"
 * WBE), a first letter and the next two consonants for one ("Leeds" LDS);
 * where that is taken, the first letter and two later letters in order. Names
 * are taken in alphabetical order, so the codes do not change with the order
 * they come in.
 */
export function shortCodes(names: readonly string[]): Map<string, string> {
  const taken = new Set<string>();
  const codes = new Map<string, string>();
  for (const name of [...new Set(names)].sort((a, b) => a.localeCompare(b, 'en'))) {
    const code = candidates(name).find((c) => !taken.has(c)) ?? fallback(name, taken);
    taken.add(code);
    codes.set(name, code);
  }
  return codes;
}

function candidates(name: string): string[] {
  const words = name
    .normalize('NFD')
    .replace(/[^A-Za-z\s-]/g, '')
    .split(/[\s-]+/)
    .filter((w) => w && !FILLER.has(w.toLowerCase()))
    .map((w) => w.toUpperCase());
  const letters = words.join('');
  const first: string[] = [];
  if (words.length >= 3)
    first.push(
      words
        .slice(0, 3)
        .map((w) => w[0])
        .join(''),
    );
  if (words.length === 2) first.push(words[0]![0]! + words[1]!.slice(0, 2));
  const consonants = letters.slice(1).replace(/[AEIOU]/g, '');
  if (letters[0] && consonants.length >= 2) first.push(letters[0] + consonants.slice(0, 2));
  // Then every first letter and two later letters, in order.
  for (let i = 1; i < letters.length; i++)
    for (let j = i + 1; j < letters.length; j++)
      first.push(letters[0]! + letters[i]! + letters[j]!);
  return first.filter((c) => c.length === 3);
}

/** A name too short for a code of its own letters (or all of them taken): a number. */
function fallback(name: string, taken: Set<string>): string {
  const start = (name.normalize('NFD').replace(/[^A-Za-z]/g, '')[0] ?? 'X').toUpperCase();
  for (let n = 2; ; n++) if (!taken.has(`${start}${n}`)) return `${start}${n}`;
}
