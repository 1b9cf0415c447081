import { SLUG_PATTERN, slugify } from '../../platform/slug.ts';
import { spreadsheetCell } from '../../platform/spreadsheet.ts';
import type { LocationRow } from './oruk.ts';
import type { ServiceRecord } from './repository.ts';
import { termName } from './terms.ts';
import {
  inVocabularyOrder,
  SERVICE_MODELS,
  SERVICE_OFFERS,
  SERVICE_SERVES,
  SERVICE_STATUSES,
} from './schema.ts';
import { csvParse, csvStringify } from '../../platform/csv.ts';

/**
 * The services spreadsheet: one row per service, lists as space-separated
 * codes. The same columns come out of `/services.csv` and `export:services`
 * and go into `import:services`, so a file can be exported, edited and
 * imported again.
 */

export const COLUMNS = [
  'slug',
  'name',
  'name_cy',
  'organisation',
  'description',
  'description_cy',
  'status',
  'model',
  'model_name',
  'offers',
  'offer_names',
  'serves',
  'serves_names',
  'areas',
  'area_names',
  'referral_route',
  'funding',
  'year_started',
  'last_verified',
  'url',
  'email',
  'contact_name',
  'phone',
  'location_name',
  'address_1',
  'city',
  'postal_code',
  'lat',
  'lng',
] as const;
type Column = (typeof COLUMNS)[number];

export interface ExportRow {
  service: ServiceRecord['values'] & { slug: string };
  organisationName: string;
  areas: string[];
  location?: Omit<LocationRow, 'id'> | undefined;
  contact?: { name: string; phone: string | null } | undefined;
}

/**
 * Each list of codes has its names beside it (`model_name`, `area_names` …),
 * in English, for people reading the file; importing reads the codes and
 * ignores the names.
 */
export function toCsv(rows: ExportRow[], areaName: (gss: string) => string = (g) => g): string {
  const names = (kind: 'model' | 'offer' | 'serves', codes: string[]) =>
    codes.map((c) => termName(kind, c, 'en')).join('; ');
  return csvStringify().stringify(
    rows.map((r) => {
      const s = r.service;
      const cells: Record<Column, unknown> = {
        slug: s.slug,
        name: s.name,
        name_cy: s.nameCy,
        organisation: r.organisationName,
        description: s.description,
        description_cy: s.descriptionCy,
        status: s.status,
        model: s.model,
        model_name: names('model', [s.model]),
        offers: (s.offers ?? []).join(' '),
        offer_names: names('offer', s.offers ?? []),
        serves: (s.serves ?? []).join(' '),
        serves_names: names('serves', s.serves ?? []),
        areas: r.areas.join(' '),
        area_names: r.areas.map(areaName).join('; '),
        referral_route: s.referralRoute,
        funding: s.funding,
        year_started: s.yearStarted,
        last_verified: s.lastVerified,
        url: s.url,
        email: s.email,
        contact_name: r.contact?.name,
        phone: r.contact?.phone,
        location_name: r.location?.name,
        address_1: r.location?.address1,
        city: r.location?.city,
        postal_code: r.location?.postalCode,
        lat: r.location?.lat,
        lng: r.location?.lng,
      };
      return COLUMNS.map((c) => spreadsheetCell(cells[c]));
    }),
    { header: true, columns: [...COLUMNS] },
  );
}

export interface ImportProblem {
  row: number;
  field: string;
  message: string;
}

/**
 * Read and check a services CSV. Every problem is reported with its row
 * (the header is row 1) and field; records only when there are none.
 */
export function fromCsv(
  csv: string,
  authorities: Set<string>,
):
  | { ok: true; records: (ServiceRecord & { organisationName: string })[] }
  | { ok: false; problems: ImportProblem[] } {
  let rows: Record<string, string>[];
  try {
    rows = csvParse().parse(csv, { columns: true, skip_empty_lines: true, trim: true, bom: true });
  } catch (err) {
    return {
      ok: false,
      problems: [{ row: 0, field: 'file', message: (err as Error).message.split('\n')[0]! }],
    };
  }
  const problems: ImportProblem[] = [];
  if (!rows.length) problems.push({ row: 0, field: 'file', message: 'has no rows' });
  const missing = ['name', 'organisation', 'model'].filter((c) => rows.length && !(c in rows[0]!));
  for (const c of missing) problems.push({ row: 1, field: c, message: 'column is missing' });
  if (missing.length) return { ok: false, problems };
  return checkRows(rows, authorities, (i) => i + 2, problems);
}

type Checked =
  | { ok: true; records: (ServiceRecord & { organisationName: string })[] }
  | { ok: false; problems: ImportProblem[] };

/**
 * Check rows with the spreadsheet's columns, wherever they came from (a CSV,
 * or ORUK records turned into rows); `rowNumber` says how a row is named.
 */
export function checkRows(
  rows: Record<string, string>[],
  authorities: Set<string>,
  rowNumber: (index: number) => number,
  problems: ImportProblem[] = [],
): Checked {
  const slugs = new Map<string, number>();
  const records = rows.map((r, i) => {
    const row = rowNumber(i);
    const bad = (field: string, message: string) => problems.push({ row, field, message });
    const list = (field: 'offers' | 'serves' | 'areas', allowed: (v: string) => boolean) => {
      const values = (r[field] ?? '').split(/[\s,;]+/).filter(Boolean);
      const wrong = values.filter((v) => !allowed(v));
      if (wrong.length) bad(field, `unknown: ${wrong.join(', ')}`);
      return values;
    };
    const name = r.name ?? '';
    if (!name) bad('name', 'is empty');
    else if (name.length > 200) bad('name', 'is longer than 200 characters');
    if (!r.organisation) bad('organisation', 'is empty');
    const slug = r.slug || slugify(name, 'service');
    if (!SLUG_PATTERN.test(slug)) bad('slug', 'must be lower case letters, numbers and hyphens');
    if (slugs.has(slug)) bad('slug', `is the same as row ${slugs.get(slug)}`);
    slugs.set(slug, row);
    const model = r.model ?? '';
    if (!(SERVICE_MODELS as readonly string[]).includes(model))
      bad('model', `must be one of ${SERVICE_MODELS.join(', ')}`);
    const status = r.status || 'active';
    if (!(SERVICE_STATUSES as readonly string[]).includes(status))
      bad('status', `must be one of ${SERVICE_STATUSES.join(', ')}`);
    const offers = list('offers', (v) => (SERVICE_OFFERS as readonly string[]).includes(v));
    const serves = list('serves', (v) => (SERVICE_SERVES as readonly string[]).includes(v));
    const areas = list('areas', (v) => authorities.has(v));
    const year = r.year_started ? Number(r.year_started) : undefined;
    if (
      year !== undefined &&
      !(Number.isInteger(year) && year >= 1950 && year <= new Date().getFullYear() + 1)
    )
      bad('year_started', 'must be a year like 2019');
    if (
      r.last_verified &&
      !(/^\d{4}-\d{2}-\d{2}$/.test(r.last_verified) && !Number.isNaN(Date.parse(r.last_verified)))
    )
      bad('last_verified', 'must be a date like 2025-03-31');
    if (r.url && !(URL.canParse(r.url) && /^https?:$/.test(new URL(r.url).protocol)))
      bad('url', 'must be a web address starting https://');
    if (r.email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(r.email))
      bad('email', 'must be an email address');
    const lat = r.lat ? Number(r.lat) : null;
    const lng = r.lng ? Number(r.lng) : null;
    if (lat !== null && !(lat >= 49.8 && lat <= 55.9))
      bad('lat', 'must be a latitude in England or Wales');
    if (lng !== null && !(lng >= -6.5 && lng <= 1.8))
      bad('lng', 'must be a longitude in England or Wales');
    return {
      organisationName: r.organisation ?? '',
      values: {
        slug,
        organisationId: '',
        name,
        nameCy: r.name_cy || null,
        description: r.description ?? '',
        descriptionCy: r.description_cy || null,
        status: status as (typeof SERVICE_STATUSES)[number],
        model: model as (typeof SERVICE_MODELS)[number],
        offers: inVocabularyOrder(offers, SERVICE_OFFERS),
        serves: inVocabularyOrder(serves, SERVICE_SERVES),
        referralRoute: r.referral_route ?? '',
        funding: r.funding ?? '',
        yearStarted: year ?? null,
        lastVerified: r.last_verified || null,
        url: r.url || null,
        email: r.email || null,
      },
      areas: [...new Set(areas)].sort(),
      places:
        r.location_name || r.address_1 || lat !== null
          ? [
              {
                name: r.location_name || name,
                address1: r.address_1 ?? '',
                city: r.city ?? '',
                postalCode: r.postal_code ?? '',
                lat,
                lng,
              },
            ]
          : [],
      contacts:
        r.contact_name || r.phone
          ? [{ name: r.contact_name ?? '', title: '', phone: r.phone || null }]
          : [],
    };
  });
  return problems.length ? { ok: false, problems } : { ok: true, records };
}
