import { z } from 'zod';
import { checkRows, type ImportProblem } from './csv.ts';
import { ORUK_STATUS } from './oruk.ts';

/**
 * ORUK 3.0 service records (as `export:services --format json` writes them,
 * or as another directory publishes them) turned into the spreadsheet's rows,
 * so one set of checks serves both formats. Problems name the record
 * (numbered from 1) and the field. A record with the id of one of our
 * services updates it, keeping what ORUK has no field for (Welsh name and
 * description, year started).
 */

const text = z.string().nullish();
const term = z.object({ taxonomy: text, term: text }).passthrough();
const record = z
  .object({
    id: text,
    name: text,
    description: text,
    url: text,
    email: text,
    status: text,
    assured_date: text,
    application_process: text,
    organization: z.object({ name: text }).passthrough().nullish(),
    attributes: z.array(z.object({ taxonomy_term: term.nullish() }).passthrough()).nullish(),
    service_areas: z.array(z.object({ extent: text, extent_type: text }).passthrough()).nullish(),
    funding: z.array(z.object({ source: text }).passthrough()).nullish(),
    contacts: z
      .array(
        z
          .object({ name: text, phones: z.array(z.object({ number: text })).nullish() })
          .passthrough(),
      )
      .nullish(),
    service_at_locations: z
      .array(
        z
          .object({
            location: z
              .object({
                name: text,
                latitude: z.number().nullish(),
                longitude: z.number().nullish(),
                addresses: z
                  .array(z.object({ address_1: text, city: text, postal_code: text }).passthrough())
                  .nullish(),
              })
              .passthrough()
              .nullish(),
          })
          .passthrough(),
      )
      .nullish(),
  })
  .passthrough();

const FROM_ORUK_STATUS = Object.fromEntries(
  Object.entries(ORUK_STATUS).map(([ours, theirs]) => [theirs, ours]),
);

export function fromOrukJson(
  json: string,
  authorities: Set<string>,
  opts: {
    /** Our service with this ORUK id: its slug, and what ORUK has no field for (kept as it is). */
    existing: (
      id: string,
    ) => { slug: string; nameCy: string; descriptionCy: string; yearStarted: string } | undefined;
    baseUrl: string;
  },
) {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (err) {
    return {
      ok: false as const,
      problems: [{ row: 0, field: 'file', message: `is not JSON: ${(err as Error).message}` }],
    };
  }
  // A list of records, or a paged ORUK response holding them.
  const list = Array.isArray(data)
    ? data
    : data && typeof data === 'object' && Array.isArray((data as { contents?: unknown }).contents)
      ? (data as { contents: unknown[] }).contents
      : undefined;
  if (!list)
    return {
      ok: false as const,
      problems: [{ row: 0, field: 'file', message: 'must be a list of ORUK service records' }],
    };
  const problems: ImportProblem[] = [];
  const rows = list.map((item, i) => {
    const parsed = record.safeParse(item);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      problems.push({
        row: i + 1,
        field: issue.path.join('.') || 'record',
        message: 'is not an ORUK service record here',
      });
      return {};
    }
    const r = parsed.data;
    const terms = (taxonomy: string) =>
      (r.attributes ?? [])
        .map((a) => a.taxonomy_term)
        .filter((t) => t?.taxonomy === `supporting-parents:${taxonomy}` && t.term)
        .map((t) => t!.term!);
    const status = r.status ? FROM_ORUK_STATUS[r.status] : 'active';
    if (!status)
      problems.push({ row: i + 1, field: 'status', message: `unknown ORUK status "${r.status}"` });
    const place = r.service_at_locations?.[0]?.location;
    const address = place?.addresses?.[0];
    const contact = r.contacts?.[0];
    const ownPage = r.url?.startsWith(`${opts.baseUrl}/services/`);
    const ours = r.id ? opts.existing(r.id) : undefined;
    return {
      slug: ours?.slug ?? '',
      name_cy: ours?.nameCy ?? '',
      description_cy: ours?.descriptionCy ?? '',
      year_started: ours?.yearStarted ?? '',
      name: r.name ?? '',
      organisation: r.organization?.name ?? '',
      description: r.description ?? '',
      status: status ?? 'active',
      model: terms('model')[0] ?? '',
      offers: terms('offer').join(' '),
      serves: terms('serves').join(' '),
      areas: (r.service_areas ?? []).map((a) => a.extent ?? '').join(' '),
      referral_route: r.application_process ?? '',
      funding: r.funding?.[0]?.source ?? '',
      last_verified: r.assured_date ?? '',
      url: ownPage ? '' : (r.url ?? ''),
      email: r.email ?? '',
      contact_name: contact?.name ?? '',
      phone: contact?.phones?.[0]?.number ?? '',
      location_name: place?.name ?? '',
      address_1: address?.address_1 ?? '',
      city: address?.city ?? '',
      postal_code: address?.postal_code ?? '',
      lat: place?.latitude == null ? '' : String(place.latitude),
      lng: place?.longitude == null ? '' : String(place.longitude),
    } as Record<string, string>;
  });
  if (!rows.length) problems.push({ row: 0, field: 'file', message: 'has no records' });
  return checkRows(rows, authorities, (i) => i + 1, problems);
}
