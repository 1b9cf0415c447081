import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NARROW, regionLines, shortCodes, tileMap, WIDE } from './tile-map.ts';

describe('the tile map’s short codes', () => {
  test('initials for three words and more, a word and a half for two, consonants for one', () => {
    const codes = shortCodes(['North East Lincolnshire', 'West Berkshire', 'Leeds', 'Kent']);
    assert.equal(codes.get('North East Lincolnshire'), 'NEL');
    assert.equal(codes.get('West Berkshire'), 'WBE');
    assert.equal(codes.get('Leeds'), 'LDS');
    assert.equal(codes.get('Kent'), 'KNT');
  });

  test('words that only say what kind of place are skipped', () => {
    const codes = shortCodes(['City of London', 'County Durham', 'Kingston upon Hull, City of']);
    assert.equal(codes.get('City of London'), 'LND');
    assert.equal(codes.get('County Durham'), 'DRH');
    assert.equal(codes.get('Kingston upon Hull, City of'), 'KHU');
  });

  test('names that would share a code get different ones, whatever order they come in', () => {
    const names = ['Barnet', 'Barnsley', 'Brent', 'Bromley', 'Bury', 'Brentwood', 'Bexley'];
    const codes = shortCodes(names);
    assert.equal(new Set(codes.values()).size, names.length);
    for (const code of codes.values()) assert.match(code, /^[A-Z]{3}$/);
    assert.deepEqual(shortCodes([...names].reverse()), codes);
  });

  test('a name with too few letters, or accents, still gets a code', () => {
    const codes = shortCodes(['Ab', 'Ynys Môn', 'Ab ']);
    assert.equal(codes.get('Ab'), 'A2');
    assert.equal(codes.get('Ynys Môn'), 'YMO');
    assert.equal(new Set(codes.values()).size, 3);
  });

  test('each square carries its authority’s code', () => {
    const map = tileMap([
      { gssCode: 'E1', label: 'Leeds', state: 'covered', stateLabel: 'x', regionCode: 'E12000003' },
      { gssCode: 'W1', label: 'Conwy', state: 'none', stateLabel: 'x', regionCode: 'W92000004' },
    ]);
    assert.deepEqual(
      map.tiles.map((t) => [t.gssCode, t.code]),
      [
        ['W1', 'CNW'],
        ['E1', 'LDS'],
      ],
    );
  });

  test('a phone’s layout has two columns of four squares a row, and long region names on two lines', () => {
    const input = Array.from({ length: 9 }, (_, i) => ({
      gssCode: `E${i}`,
      label: `Place ${'ABCDEFGHI'[i]}`,
      state: 'none',
      stateLabel: 'x',
      regionCode: i < 5 ? 'E12000002' : 'E12000001',
    }));
    const narrow = tileMap(input, NARROW);
    const wide = tileMap(input, WIDE);
    const columnsOf = (m: typeof narrow) => new Set(m.regions.map((r) => r.x)).size;
    assert.equal(columnsOf(narrow), 2);
    assert.equal(
      new Set(narrow.tiles.filter((t) => t.regionCode === 'E12000002').map((t) => t.y)).size,
      2,
    );
    assert.equal(
      new Set(wide.tiles.filter((t) => t.regionCode === 'E12000002').map((t) => t.y)).size,
      1,
    );
    assert.ok(+narrow.viewBox.split(' ')[2]! < +wide.viewBox.split(' ')[2]!, 'narrower');
    assert.deepEqual(
      regionLines('Gorllewin Canolbarth Lloegr', NARROW).lines.map((l) => l.text),
      ['Gorllewin', 'Canolbarth Lloegr'],
    );
    assert.equal(regionLines('Wales', NARROW).lines.length, 1);
    assert.equal(regionLines('Gorllewin Canolbarth Lloegr', WIDE).lines.length, 1);
    assert.ok(
      regionLines('Gorllewin Canolbarth Lloegr', NARROW).countY >
        regionLines('Wales', NARROW).countY,
    );
  });
});
