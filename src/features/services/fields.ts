import { z } from 'zod';
import { normalisePostcode } from '../../platform/geocoder.ts';
import {
  SERVICE_MODELS,
  SERVICE_OFFERS,
  SERVICE_SERVES,
  SERVICE_STATUSES,
  type ServiceModel,
  type ServiceStatus,
} from './schema.ts';

/**
 * A service as people edit it: the one shape behind the suggestion form, the
 * manager's edit form, the moderator's side-by-side review and the history
 * page. Lists are sorted so that two equal entries compare equal.
 */
export interface ServiceFields {
  name: string;
  nameCy: string;
  organisation: string;
  description: string;
  descriptionCy: string;
  status: ServiceStatus;
  model: ServiceModel;
  offers: string[];
  serves: string[];
  areas: string[];
  referralRoute: string;
  funding: string;
  yearStarted: string;
  url: string;
  email: string;
  phone: string;
  placeName: string;
  address: string;
  town: string;
  postcode: string;
}

/** The fields in the order forms, reviews and the history show them. */
export const FIELD_ORDER: (keyof ServiceFields)[] = [
  'name',
  'nameCy',
  'organisation',
  'description',
  'descriptionCy',
  'status',
  'model',
  'offers',
  'serves',
  'areas',
  'referralRoute',
  'funding',
  'yearStarted',
  'url',
  'email',
  'phone',
  'placeName',
  'address',
  'town',
  'postcode',
];

const text = (max: number) =>
  z
    .string()
    .optional()
    .transform((v) => (v ?? '').trim())
    .pipe(z.string().max(max, 'services.form.errors.tooLong'));
const required = (max: number, key: string) =>
  text(max).pipe(z.string().min(1, key).max(max, 'services.form.errors.tooLong'));
const list = (allowed: readonly string[], key: string) =>
  z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((v) => [...new Set(v === undefined ? [] : Array.isArray(v) ? v : [v])].sort())
    .pipe(z.array(z.string()).refine((xs) => xs.every((x) => allowed.includes(x)), key));

/** The form as posted; messages are i18n keys (services.form.errors.*). */
export function fieldsSchema(currentAuthorities: ReadonlySet<string>) {
  const thisYear = new Date().getFullYear();
  return z.object({
    name: required(160, 'services.form.errors.nameRequired'),
    nameCy: text(160),
    organisation: required(160, 'services.form.errors.organisationRequired'),
    description: required(2000, 'services.form.errors.descriptionRequired'),
    descriptionCy: text(2000),
    status: z.enum(SERVICE_STATUSES, 'services.form.errors.statusRequired'),
    model: z.enum(SERVICE_MODELS, 'services.form.errors.modelRequired'),
    offers: list(SERVICE_OFFERS, 'services.form.errors.offersInvalid'),
    serves: list(SERVICE_SERVES, 'services.form.errors.servesInvalid'),
    areas: list([...currentAuthorities], 'services.form.errors.areasInvalid').refine(
      (a) => a.length > 0,
      'services.form.errors.areasRequired',
    ),
    referralRoute: text(1000),
    funding: text(500),
    yearStarted: text(4).refine(
      (v) => !v || (/^\d{4}$/.test(v) && Number(v) >= 1980 && Number(v) <= thisYear),
      'services.form.errors.yearInvalid',
    ),
    url: text(300).refine(
      (v) => !v || /^https?:\/\/[^\s]+\.[^\s]+$/i.test(v),
      'services.form.errors.urlInvalid',
    ),
    email: text(200).refine(
      (v) => !v || z.email().safeParse(v).success,
      'services.form.errors.emailInvalid',
    ),
    phone: text(30).refine(
      (v) => !v || /^[+0-9 ()-]{7,30}$/.test(v),
      'services.form.errors.phoneInvalid',
    ),
    placeName: text(160),
    address: text(200),
    town: text(100),
    postcode: text(20)
      .refine(
        (v) => !v || normalisePostcode(v) !== undefined,
        'services.form.errors.postcodeInvalid',
      )
      .transform((v) => (v ? (normalisePostcode(v) ?? v) : '')),
  }) satisfies z.ZodType<ServiceFields, unknown>;
}

/** A change as the history and the review show it: one row per field that differs. */
export interface FieldChange {
  field: string;
  before: string;
  after: string;
}

const asText = (v: string | string[]) => (Array.isArray(v) ? v.join(' ') : v);

/** The fields that differ between two versions (before is empty for a new service). */
export function diffFields(before: ServiceFields | undefined, after: ServiceFields): FieldChange[] {
  return FIELD_ORDER.flatMap((field) => {
    const b = before ? asText(before[field]) : '';
    const a = asText(after[field]);
    return a === b ? [] : [{ field, before: b, after: a }];
  });
}
