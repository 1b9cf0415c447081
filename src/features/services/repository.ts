import { and, asc, eq, inArray, isNull, ne, notInArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import {
  localAuthorities,
  locations,
  organisations,
  postcodeCache,
  serviceAreas,
  serviceAtLocations,
  serviceContacts,
  services,
  taxonomyTerms,
} from './schema.ts';

export type AuthorityRow = typeof localAuthorities.$inferSelect;
export type NewAuthority = Omit<typeof localAuthorities.$inferInsert, 'listDate' | 'retiredOn'>;
export type ServiceRow = typeof services.$inferSelect;
export type NewService = typeof services.$inferInsert;
export type LocationInput = Omit<typeof locations.$inferInsert, 'id'>;
export type ContactInput = Omit<typeof serviceContacts.$inferInsert, 'id' | 'serviceId'>;

/** A service in a list: its row, its organisation's name and the authorities it covers. */
export type ServiceListItem = ServiceRow & { organisationName: string; areas: string[] };

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface ServiceRecord {
  values: NewService;
  areas: string[];
  places: LocationInput[];
  contacts: ContactInput[];
}

/** Upsert one service by slug with its areas, locations and contacts, inside the caller's transaction. */
async function writeService(tx: Tx, r: ServiceRecord): Promise<ServiceRow> {
  const { id: _id, ...rest } = r.values;
  const [row] = await tx
    .insert(services)
    .values(r.values)
    .onConflictDoUpdate({ target: services.slug, set: { ...rest, updatedAt: new Date() } })
    .returning();
  const serviceId = row!.id;
  await tx.delete(serviceAreas).where(eq(serviceAreas.serviceId, serviceId));
  if (r.areas.length)
    await tx.insert(serviceAreas).values(r.areas.map((gssCode) => ({ serviceId, gssCode })));
  const old = await tx
    .delete(serviceAtLocations)
    .where(eq(serviceAtLocations.serviceId, serviceId))
    .returning({ locationId: serviceAtLocations.locationId });
  if (old.length)
    await tx.delete(locations).where(
      inArray(
        locations.id,
        old.map((o) => o.locationId),
      ),
    );
  for (const place of r.places) {
    const [loc] = await tx.insert(locations).values(place).returning({ id: locations.id });
    await tx.insert(serviceAtLocations).values({ serviceId, locationId: loc!.id });
  }
  await tx.delete(serviceContacts).where(eq(serviceContacts.serviceId, serviceId));
  if (r.contacts.length)
    await tx.insert(serviceContacts).values(r.contacts.map((c) => ({ ...c, serviceId })));
  return row!;
}

export function createServicesRepository(db: Db) {
  return {
    /**
     * Load a list of authorities effective on `listDate`: new and changed ones
     * are written, ones missing from the list are retired (kept for history),
     * all in one transaction.
     */
    async loadAuthorities(rows: NewAuthority[], listDate: string) {
      return db.transaction(async (tx) => {
        for (const r of rows)
          await tx
            .insert(localAuthorities)
            .values({ ...r, listDate, retiredOn: null })
            .onConflictDoUpdate({
              target: localAuthorities.gssCode,
              set: { ...r, listDate, retiredOn: null },
            });
        const retired = await tx
          .update(localAuthorities)
          .set({ retiredOn: listDate })
          .where(
            and(
              isNull(localAuthorities.retiredOn),
              notInArray(
                localAuthorities.gssCode,
                rows.map((r) => r.gssCode),
              ),
            ),
          )
          .returning({ gssCode: localAuthorities.gssCode });
        return { loaded: rows.length, retired: retired.map((r) => r.gssCode) };
      });
    },
    /** The geocoder's cache (see platform/geocoder.ts). */
    postcodeCache: {
      async get(postcode: string) {
        const [row] = await db
          .select({ lat: postcodeCache.lat, lng: postcodeCache.lng })
          .from(postcodeCache)
          .where(eq(postcodeCache.postcode, postcode));
        return row;
      },
      async set(postcode: string, point: { lat: number; lng: number } | null) {
        const values = {
          postcode,
          lat: point?.lat ?? null,
          lng: point?.lng ?? null,
          fetchedAt: new Date(),
        };
        await db
          .insert(postcodeCache)
          .values(values)
          .onConflictDoUpdate({ target: postcodeCache.postcode, set: values });
      },
    },
    /** Locations of listed services, for distances. */
    async serviceLocations(): Promise<
      { serviceId: string; lat: number | null; lng: number | null }[]
    > {
      return db
        .select({ serviceId: serviceAtLocations.serviceId, lat: locations.lat, lng: locations.lng })
        .from(serviceAtLocations)
        .innerJoin(locations, eq(locations.id, serviceAtLocations.locationId));
    },
    async currentAuthorities(): Promise<AuthorityRow[]> {
      return db
        .select()
        .from(localAuthorities)
        .where(isNull(localAuthorities.retiredOn))
        .orderBy(
          asc(localAuthorities.nation),
          asc(localAuthorities.regionName),
          asc(localAuthorities.name),
        );
    },
    async authorityCount(): Promise<number> {
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(localAuthorities)
        .where(isNull(localAuthorities.retiredOn));
      return Number(row?.n ?? 0);
    },

    async upsertOrganisation(values: typeof organisations.$inferInsert): Promise<string> {
      const [found] = await db
        .select({ id: organisations.id })
        .from(organisations)
        .where(eq(organisations.name, values.name));
      if (found) return found.id;
      const [row] = await db
        .insert(organisations)
        .values(values)
        .returning({ id: organisations.id });
      return row!.id;
    },
    async upsertTerm(values: typeof taxonomyTerms.$inferInsert): Promise<void> {
      const { id: _id, ...rest } = values;
      await db
        .insert(taxonomyTerms)
        .values(values)
        .onConflictDoUpdate({ target: [taxonomyTerms.taxonomy, taxonomyTerms.code], set: rest });
    },
    /** Upsert a service by slug with its areas, locations and contacts, all or nothing. */
    async saveService(
      values: NewService,
      areas: string[],
      places: LocationInput[],
      contacts: ContactInput[],
    ): Promise<ServiceRow> {
      return db.transaction((tx) => writeService(tx, { values, areas, places, contacts }));
    },
    /**
     * Import many services in one transaction: organisations found or made by
     * name, services upserted by slug. Either every row is written or none.
     */
    async importServices(
      rows: (ServiceRecord & { organisationName: string })[],
    ): Promise<{ created: number; updated: number }> {
      return db.transaction(async (tx) => {
        let created = 0;
        const orgIds = new Map<string, string>();
        for (const r of rows) {
          let organisationId = orgIds.get(r.organisationName);
          if (!organisationId) {
            const [found] = await tx
              .select({ id: organisations.id })
              .from(organisations)
              .where(eq(organisations.name, r.organisationName));
            organisationId =
              found?.id ??
              (
                await tx
                  .insert(organisations)
                  .values({ name: r.organisationName })
                  .returning({ id: organisations.id })
              )[0]!.id;
            orgIds.set(r.organisationName, organisationId);
          }
          const [existing] = await tx
            .select({ id: services.id })
            .from(services)
            .where(eq(services.slug, r.values.slug));
          if (!existing) created++;
          await writeService(tx, { ...r, values: { ...r.values, organisationId } });
        }
        return { created, updated: rows.length - created };
      });
    },
    /** Every service with all it needs for an export row. */
    async exportRows() {
      const all = await db
        .select({ service: services, organisationName: organisations.name })
        .from(services)
        .innerJoin(organisations, eq(organisations.id, services.organisationId))
        .orderBy(asc(services.slug));
      const [areas, places, contacts] = await Promise.all([
        db.select().from(serviceAreas),
        db
          .select({ serviceId: serviceAtLocations.serviceId, location: locations })
          .from(serviceAtLocations)
          .innerJoin(locations, eq(locations.id, serviceAtLocations.locationId)),
        db.select().from(serviceContacts),
      ]);
      return all.map((r) => ({
        ...r,
        areas: areas.filter((a) => a.serviceId === r.service.id).map((a) => a.gssCode),
        location: places.find((p) => p.serviceId === r.service.id)?.location,
        contact: contacts.find((c) => c.serviceId === r.service.id),
      }));
    },

    /** Every listed service (not closed) with its organisation and areas; the service filters. */
    async listedServices(): Promise<ServiceListItem[]> {
      const rows = await db
        .select({
          service: services,
          organisationName: organisations.name,
          areas: sql<
            string[]
          >`coalesce(array_agg(${serviceAreas.gssCode}) FILTER (WHERE ${serviceAreas.gssCode} IS NOT NULL), '{}')`,
        })
        .from(services)
        .innerJoin(organisations, eq(organisations.id, services.organisationId))
        .leftJoin(serviceAreas, eq(serviceAreas.serviceId, services.id))
        .where(ne(services.status, 'closed'))
        .groupBy(services.id, organisations.name)
        .orderBy(asc(services.name));
      return rows.map((r) => ({
        ...r.service,
        organisationName: r.organisationName,
        areas: r.areas,
      }));
    },
    async allTerms() {
      return db
        .select()
        .from(taxonomyTerms)
        .orderBy(asc(taxonomyTerms.taxonomy), asc(taxonomyTerms.code));
    },
    /** Every service-at-location of a listed service, with its place. */
    async serviceAtLocations() {
      return db
        .select({
          id: serviceAtLocations.id,
          serviceId: serviceAtLocations.serviceId,
          location: locations,
        })
        .from(serviceAtLocations)
        .innerJoin(locations, eq(locations.id, serviceAtLocations.locationId))
        .innerJoin(services, eq(services.id, serviceAtLocations.serviceId))
        .where(ne(services.status, 'closed'));
    },
    async slugOfId(id: string): Promise<string | undefined> {
      const [row] = await db
        .select({ slug: services.slug })
        .from(services)
        .where(eq(services.id, id));
      return row?.slug;
    },
    async serviceBySlug(slug: string) {
      const [found] = await db
        .select({ service: services, organisation: organisations })
        .from(services)
        .innerJoin(organisations, eq(organisations.id, services.organisationId))
        .where(eq(services.slug, slug));
      if (!found) return undefined;
      const id = found.service.id;
      const [areas, places, contacts] = await Promise.all([
        db
          .select({
            gssCode: localAuthorities.gssCode,
            name: localAuthorities.name,
            nameCy: localAuthorities.nameCy,
          })
          .from(serviceAreas)
          .innerJoin(localAuthorities, eq(localAuthorities.gssCode, serviceAreas.gssCode))
          .where(eq(serviceAreas.serviceId, id))
          .orderBy(asc(localAuthorities.name)),
        db
          .select({ location: locations })
          .from(serviceAtLocations)
          .innerJoin(locations, eq(locations.id, serviceAtLocations.locationId))
          .where(eq(serviceAtLocations.serviceId, id)),
        db.select().from(serviceContacts).where(eq(serviceContacts.serviceId, id)),
      ]);
      return { ...found, areas, locations: places.map((p) => p.location), contacts };
    },
  };
}

export type ServicesRepository = ReturnType<typeof createServicesRepository>;
