#!/usr/bin/env node
// Validates a dated children's services authorities reference file.
// Usage: node reference/local-authorities/check.mjs [path/to/YYYY-MM-DD.csv]
// Defaults to 2025-04-01.csv next to this script. Plain Node ESM, no dependencies.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const here = dirname(fileURLToPath(import.meta.url));
const file = process.argv[2] ?? join(here, '2025-04-01.csv');

const EXPECTED_HEADER = [
  'gss_code',
  'name',
  'name_cy',
  'kind',
  'region_code',
  'region_name',
  'nation',
  'lat',
  'lng',
];
const EXPECTED = { total: 175, England: 153, Wales: 22 };
const REGIONS = {
  E12000001: 'North East',
  E12000002: 'North West',
  E12000003: 'Yorkshire and The Humber',
  E12000004: 'East Midlands',
  E12000005: 'West Midlands',
  E12000006: 'East of England',
  E12000007: 'London',
  E12000008: 'South East',
  E12000009: 'South West',
};
const WALES_REGION = { code: 'W92000004', name: 'Wales' };
// GSS prefix -> [kind, nation]
const PREFIX_KIND = {
  E06: ['unitary', 'England'],
  E08: ['metropolitan_district', 'England'],
  E09: ['london_borough', 'England'],
  E10: ['county', 'England'],
  W06: ['welsh_unitary', 'Wales'],
};
const BOUNDS = { latMin: 49.8, latMax: 55.9, lngMin: -6.5, lngMax: 1.8 };

/** Minimal RFC 4180 parser: quoted fields, "" escapes, CRLF or LF. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          inQuotes = false;
        }
      } else {
        field += c;
      }
    } else if (c === '"') {
      if (field !== '') throw new Error(`stray quote in unquoted field on row ${rows.length + 1}`);
      inQuotes = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else {
      field += c;
    }
  }
  if (inQuotes) throw new Error('unterminated quoted field');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
const [header, ...body] = parseCsv(text);
assert.deepEqual(header, EXPECTED_HEADER, 'header mismatch');

const records = body.map((cells, i) => {
  assert.equal(
    cells.length,
    header.length,
    `row ${i + 2}: expected ${header.length} fields, got ${cells.length}`,
  );
  return Object.fromEntries(header.map((h, j) => [h, cells[j]]));
});

const errors = [];
const fail = (r, msg) => errors.push(`${r.gss_code || '?'} (${r.name || '?'}): ${msg}`);
const codes = new Set();
const names = new Set();
const namesCy = new Set();
const byNation = { England: 0, Wales: 0 };
const byRegion = new Map();

for (const r of records) {
  if (!/^[EW]\d{8}$/.test(r.gss_code)) fail(r, 'malformed GSS code');
  if (codes.has(r.gss_code)) fail(r, 'duplicate gss_code');
  codes.add(r.gss_code);

  if (!r.name || r.name !== r.name.trim()) fail(r, 'missing or untrimmed name');
  const key = r.name.toLowerCase();
  if (names.has(key)) fail(r, 'duplicate name');
  names.add(key);

  const expected = PREFIX_KIND[r.gss_code.slice(0, 3)];
  if (!expected) {
    fail(
      r,
      `code prefix ${r.gss_code.slice(0, 3)} is not an upper-tier children's services authority prefix`,
    );
  } else {
    const [kind, nation] = expected;
    if (r.kind !== kind) fail(r, `kind ${r.kind} does not match prefix (expected ${kind})`);
    if (r.nation !== nation)
      fail(r, `nation ${r.nation} does not match prefix (expected ${nation})`);
  }

  if (r.nation === 'England') {
    byNation.England++;
    if (!(r.region_code in REGIONS)) fail(r, `unknown English region ${r.region_code}`);
    else if (REGIONS[r.region_code] !== r.region_name)
      fail(r, `region_name ${r.region_name} != ${REGIONS[r.region_code]}`);
    if (r.name_cy !== '') fail(r, 'English row should have empty name_cy');
  } else if (r.nation === 'Wales') {
    byNation.Wales++;
    if (r.region_code !== WALES_REGION.code || r.region_name !== WALES_REGION.name)
      fail(r, 'Welsh row must use W92000004 / Wales');
    if (!r.name_cy || r.name_cy !== r.name_cy.trim()) fail(r, 'Welsh row missing name_cy');
    else {
      const cyKey = r.name_cy.toLowerCase();
      if (namesCy.has(cyKey)) fail(r, 'duplicate name_cy');
      namesCy.add(cyKey);
    }
  } else {
    fail(r, `unknown nation ${r.nation}`);
  }

  const lat = Number(r.lat);
  const lng = Number(r.lng);
  if (r.lat === '' || !Number.isFinite(lat) || lat < BOUNDS.latMin || lat > BOUNDS.latMax)
    fail(r, `lat ${r.lat} out of range`);
  if (r.lng === '' || !Number.isFinite(lng) || lng < BOUNDS.lngMin || lng > BOUNDS.lngMax)
    fail(r, `lng ${r.lng} out of range`);

  const regionLabel = `${r.region_code} ${r.region_name}`;
  byRegion.set(regionLabel, (byRegion.get(regionLabel) ?? 0) + 1);
}

if (records.length !== EXPECTED.total)
  errors.push(`expected ${EXPECTED.total} rows, got ${records.length}`);
if (byNation.England !== EXPECTED.England)
  errors.push(`expected ${EXPECTED.England} England rows, got ${byNation.England}`);
if (byNation.Wales !== EXPECTED.Wales)
  errors.push(`expected ${EXPECTED.Wales} Wales rows, got ${byNation.Wales}`);

console.log(
  `${file}: ${records.length} rows (England ${byNation.England}, Wales ${byNation.Wales})`,
);
for (const [region, n] of [...byRegion].sort(([a], [b]) => a.localeCompare(b))) {
  console.log(`  ${region.padEnd(36)} ${String(n).padStart(3)}`);
}

if (errors.length > 0) {
  console.error(`\n${errors.length} problem(s):`);
  for (const e of errors) console.error(`  - ${e}`);
  process.exit(1);
}
console.log('OK');
