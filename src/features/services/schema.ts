import { sql } from 'drizzle-orm';
import {
  boolean,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { users } from '../accounts/schema.ts';

/**
 * The national service map, aligned with Open Referral UK 3.0: organisations
 * run services; services are delivered at locations (service_at_locations)
 * and cover areas (service_areas, here children's services authorities);
 * contacts belong to services. This field's vocabularies (model, offers, who
 * is served) are ORUK taxonomies: `taxonomy_terms`, with the codes kept on
 * the service for filtering.
 */

export const SERVICE_MODELS = [
  'pause',
  'fdac',
  'la_in_house',
  'third_sector',
  'pre_birth',
  'reunification',
  'other',
] as const;
export const SERVICE_OFFERS = [
  'therapeutic',
  'practical',
  'advocacy',
  'contraception',
  'contact',
  'peer_support',
  'groupwork',
] as const;
export const SERVICE_SERVES = [
  'mothers',
  'fathers',
  'couples',
  'pregnant',
  'care_leavers',
] as const;
export const SERVICE_STATUSES = ['active', 'in_development', 'paused', 'closed'] as const;
export type ServiceModel = (typeof SERVICE_MODELS)[number];
export type ServiceStatus = (typeof SERVICE_STATUSES)[number];

/** The children's services authorities, as versioned reference data. */
export const localAuthorities = pgTable(
  'local_authorities',
  {
    gssCode: text('gss_code').primaryKey(),
    name: text('name').notNull(),
    nameCy: text('name_cy'),
    kind: text('kind').notNull(),
    regionCode: text('region_code'),
    regionName: text('region_name').notNull(),
    nation: text('nation', { enum: ['England', 'Wales'] }).notNull(),
    lat: doublePrecision('lat').notNull(),
    lng: doublePrecision('lng').notNull(),
    /** The effective date of the list this row came from. */
    listDate: date('list_date', { mode: 'string' }).notNull(),
    /** Set when a newer list no longer has this authority; its history stays. */
    retiredOn: date('retired_on', { mode: 'string' }),
  },
  (t) => [index('local_authorities_current_idx').on(t.retiredOn, t.nation, t.regionName)],
);

export const organisations = pgTable('organisations', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  email: text('email'),
  website: text('website'),
  isDemo: boolean('is_demo').notNull().default(false),
});

export const services = pgTable(
  'services',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    slug: text('slug').notNull(),
    organisationId: uuid('organisation_id')
      .notNull()
      .references(() => organisations.id, { onDelete: 'restrict' }),
    name: text('name').notNull(),
    nameCy: text('name_cy'),
    description: text('description').notNull().default(''),
    descriptionCy: text('description_cy'),
    url: text('url'),
    email: text('email'),
    status: text('status', { enum: SERVICE_STATUSES }).notNull().default('active'),
    model: text('model', { enum: SERVICE_MODELS }).notNull(),
    offers: text('offers')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    serves: text('serves')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    referralRoute: text('referral_route').notNull().default(''),
    funding: text('funding').notNull().default(''),
    yearStarted: integer('year_started'),
    lastVerified: date('last_verified', { mode: 'string' }),
    /** When its managers were last asked to check it (at most monthly). */
    verificationRemindedAt: timestamp('verification_reminded_at', { withTimezone: true }),
    isDemo: boolean('is_demo').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('services_slug_key').on(t.slug),
    index('services_model_idx').on(t.status, t.model),
    index('services_offers_idx').using('gin', t.offers),
  ],
);

export const locations = pgTable('locations', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  address1: text('address_1').notNull().default(''),
  city: text('city').notNull().default(''),
  postalCode: text('postal_code').notNull().default(''),
  lat: doublePrecision('lat'),
  lng: doublePrecision('lng'),
});

export const serviceAtLocations = pgTable(
  'service_at_locations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    serviceId: uuid('service_id')
      .notNull()
      .references(() => services.id, { onDelete: 'cascade' }),
    locationId: uuid('location_id')
      .notNull()
      .references(() => locations.id, { onDelete: 'cascade' }),
  },
  (t) => [index('service_at_locations_service_idx').on(t.serviceId)],
);

export const serviceAreas = pgTable(
  'service_areas',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    serviceId: uuid('service_id')
      .notNull()
      .references(() => services.id, { onDelete: 'cascade' }),
    gssCode: text('gss_code')
      .notNull()
      .references(() => localAuthorities.gssCode),
  },
  (t) => [
    uniqueIndex('service_areas_key').on(t.serviceId, t.gssCode),
    index('service_areas_gss_idx').on(t.gssCode),
  ],
);

export const serviceContacts = pgTable('service_contacts', {
  id: uuid('id').primaryKey().defaultRandom(),
  serviceId: uuid('service_id')
    .notNull()
    .references(() => services.id, { onDelete: 'cascade' }),
  name: text('name').notNull().default(''),
  title: text('title').notNull().default(''),
  phone: text('phone'),
  email: text('email'),
});

/** ORUK taxonomy terms for this field's vocabularies. */
export const taxonomyTerms = pgTable(
  'taxonomy_terms',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    taxonomy: text('taxonomy').notNull(),
    code: text('code').notNull(),
    name: text('name').notNull(),
    nameCy: text('name_cy').notNull(),
  },
  (t) => [uniqueIndex('taxonomy_terms_key').on(t.taxonomy, t.code)],
);

/** Postcodes already asked of the geocoder (lat/lng null: it does not exist). */
export const postcodeCache = pgTable('postcode_cache', {
  postcode: text('postcode').primaryKey(),
  lat: doublePrecision('lat'),
  lng: doublePrecision('lng'),
  fetchedAt: timestamp('fetched_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Members who may edit a service directly (its managers). */
export const serviceManagers = pgTable(
  'service_managers',
  {
    serviceId: uuid('service_id')
      .notNull()
      .references(() => services.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    addedAt: timestamp('added_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.serviceId, t.userId] }),
    index('service_managers_user_idx').on(t.userId),
  ],
);

export const CHANGE_SOURCES = ['suggestion', 'manager', 'moderator', 'import', 'verified'] as const;
export type ChangeSource = (typeof CHANGE_SOURCES)[number];

/**
 * Every change to a service, kept for its history page: which fields
 * changed (before and after, as shown to people), how the change came, and
 * (for staff only) who made it.
 */
export const serviceChanges = pgTable(
  'service_changes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    serviceId: uuid('service_id')
      .notNull()
      .references(() => services.id, { onDelete: 'cascade' }),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    source: text('source', { enum: CHANGE_SOURCES }).notNull(),
    actorId: uuid('actor_id').references(() => users.id, { onDelete: 'set null' }),
    changes: jsonb('changes')
      .$type<{ field: string; before: string; after: string }[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
  },
  (t) => [index('service_changes_service_idx').on(t.serviceId, t.at)],
);

export const SUGGESTION_STATUSES = ['unconfirmed', 'pending', 'approved', 'rejected'] as const;
export type SuggestionStatus = (typeof SUGGESTION_STATUSES)[number];

/**
 * A proposed new service or change, waiting for a moderator. A visitor's
 * email is kept only until they are told the decision; until they confirm
 * it the suggestion is not in the queue (unconfirmed ones go after 7 days).
 */
export const serviceSuggestions = pgTable(
  'service_suggestions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    serviceId: uuid('service_id').references(() => services.id, { onDelete: 'cascade' }),
    proposed: jsonb('proposed').$type<Record<string, unknown>>().notNull(),
    note: text('note').notNull().default(''),
    suggesterId: uuid('suggester_id').references(() => users.id, { onDelete: 'set null' }),
    email: text('email'),
    /** The language the suggester used, for the emails they get. */
    locale: text('locale').notNull().default('en'),
    tokenHash: text('token_hash'),
    status: text('status', { enum: SUGGESTION_STATUSES }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    decidedBy: uuid('decided_by').references(() => users.id, { onDelete: 'set null' }),
    reason: text('reason'),
  },
  (t) => [
    index('service_suggestions_status_idx').on(t.status, t.createdAt),
    uniqueIndex('service_suggestions_token_key').on(t.tokenHash),
  ],
);

/** ONS boundary of an authority, stored as an SVG path in the overview map's projection. */
export const authorityBoundaries = pgTable('authority_boundaries', {
  gssCode: text('gss_code')
    .primaryKey()
    .references(() => localAuthorities.gssCode, { onDelete: 'cascade' }),
  path: text('path').notNull(),
  loadedAt: timestamp('loaded_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Codes in the order of their vocabulary, so equal lists are stored and exported alike. */
export function inVocabularyOrder(codes: readonly string[], vocab: readonly string[]): string[] {
  return [...new Set(codes)].sort((a, b) => vocab.indexOf(a) - vocab.indexOf(b));
}
