import { createHash } from 'node:crypto';
import type { ServiceListItem } from './repository.ts';
import type { ServiceStatus } from './schema.ts';

/**
 * Our records in Open Referral UK 3.0 shapes. Ids are our UUIDs; records we
 * do not store as rows (taxonomies, attributes, phones, addresses) get
 * stable name-based UUIDs, so the same thing always has the same id.
 */

export function stableId(...parts: string[]): string {
  const h = createHash('sha1').update(parts.join('\u0000')).digest('hex');
  // A version 5 style UUID: version nibble 5, RFC 4122 variant.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export const ORUK_STATUS: Record<ServiceStatus, string> = {
  active: 'active',
  in_development: 'inactive',
  paused: 'temporarily closed',
  closed: 'defunct',
};

export interface TermRow {
  id: string;
  taxonomy: string;
  code: string;
  name: string;
  nameCy: string;
}

export const TAXONOMY_NAMES: Record<string, string> = {
  'supporting-parents:model': 'Service model',
  'supporting-parents:offer': 'What the service offers',
  'supporting-parents:serves': 'Who the service works with',
};

export function orukTaxonomy(name: string, baseUrl: string) {
  return {
    id: stableId('taxonomy', name),
    name,
    description: TAXONOMY_NAMES[name] ?? name,
    uri: `${baseUrl}/api/oruk/taxonomies/${stableId('taxonomy', name)}`,
    version: '1',
  };
}

export function orukTerm(t: TermRow, baseUrl: string) {
  return {
    id: t.id,
    name: t.name,
    description: `${TAXONOMY_NAMES[t.taxonomy] ?? t.taxonomy}: ${t.name}`,
    taxonomy: t.taxonomy,
    taxonomy_id: stableId('taxonomy', t.taxonomy),
    term: t.code,
    term_uri: `${baseUrl}/api/oruk/taxonomy_terms/${t.id}`,
  };
}

export function orukServiceSummary(
  s: ServiceListItem & { organisationDescription?: string },
  baseUrl: string,
) {
  return {
    id: s.id,
    organization_id: s.organisationId,
    name: s.name,
    description: s.description,
    url: s.url ?? `${baseUrl}/services/${s.slug}`,
    ...(s.email ? { email: s.email } : {}),
    status: ORUK_STATUS[s.status],
    ...(s.lastVerified ? { assured_date: s.lastVerified } : {}),
    last_modified: s.updatedAt.toISOString(),
    organization: {
      id: s.organisationId,
      name: s.organisationName,
      description: s.organisationDescription ?? '',
    },
  };
}

export interface LocationRow {
  id: string;
  name: string;
  address1: string;
  city: string;
  postalCode: string;
  lat: number | null;
  lng: number | null;
}

export function orukLocation(l: LocationRow) {
  return {
    id: l.id,
    location_type: 'physical',
    name: l.name,
    ...(l.lat !== null ? { latitude: l.lat } : {}),
    ...(l.lng !== null ? { longitude: l.lng } : {}),
    addresses: [
      {
        id: stableId('address', l.id),
        location_id: l.id,
        address_1: l.address1,
        city: l.city,
        state_province: '',
        postal_code: l.postalCode,
        country: 'GB',
        address_type: 'physical',
      },
    ],
  };
}
