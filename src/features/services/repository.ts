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
  SERVICE_MODELS,
  SERVICE_OFFERS,
  SERVICE_SERVES,
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

    /**
     * The benchmark's data: `n` generated services (marked demo), each in one
     * to three authorities with a place near the first, written by the
     * database itself. Idempotent: slugs are fixed.
     */
    async generateBulk(n: number): Promise<void> {
      const orgId = await this.upsertOrganisation({
        name: 'Generated organisation (bench)',
        description: 'Generated for the benchmark.',
        isDemo: true,
      });
      const models = [...SERVICE_MODELS];
      const offers = [...SERVICE_OFFERS];
      const serves = [...SERVICE_SERVES];
      for (let start = 1; start <= n; start += 5_000) {
        const end = Math.min(n, start + 4_999);
        await db.execute(sql`
          WITH la AS (SELECT gss_code, lat, lng, row_number() OVER (ORDER BY gss_code) - 1 AS i, count(*) OVER () AS total
                      FROM local_authorities WHERE retired_on IS NULL),
          g AS (SELECT g FROM generate_series(${start}::int, ${end}::int) AS g),
          ins AS (
            INSERT INTO services (slug, organisation_id, name, description, status, model, offers, serves, last_verified, is_demo)
            SELECT 'bench-service-' || g, ${orgId}::uuid, 'Generated service ' || g, 'A generated service for the benchmark.',
                   CASE WHEN g % 10 = 0 THEN 'in_development' ELSE 'active' END,
                   (ARRAY[${sql.join(
                     models.map((m) => sql`${m}`),
                     sql`, `,
                   )}]::text[])[1 + g % ${models.length}],
                   ARRAY[(ARRAY[${sql.join(
                     offers.map((m) => sql`${m}`),
                     sql`, `,
                   )}]::text[])[1 + g % ${offers.length}],
                         (ARRAY[${sql.join(
                           offers.map((m) => sql`${m}`),
                           sql`, `,
                         )}]::text[])[1 + (g / 7) % ${offers.length}]],
                   ARRAY[(ARRAY[${sql.join(
                     serves.map((m) => sql`${m}`),
                     sql`, `,
                   )}]::text[])[1 + g % ${serves.length}]],
                   current_date - (g % 700), true
            FROM g
            ON CONFLICT (slug) DO NOTHING
            RETURNING id, slug
          ),
          area AS (
            INSERT INTO service_areas (service_id, gss_code)
            SELECT ins.id, la.gss_code FROM ins
            JOIN la ON la.i = (substring(ins.slug from 15)::int * 7) % la.total
            RETURNING service_id, gss_code
          ),
          loc AS (
            INSERT INTO locations (id, name, lat, lng)
            SELECT area.service_id, 'Generated place', la.lat + ((random() - 0.5) * 0.1), la.lng + ((random() - 0.5) * 0.1)
            FROM area JOIN la ON la.gss_code = area.gss_code
            RETURNING id
          )
          INSERT INTO service_at_locations (service_id, location_id) SELECT id, id FROM loc`);
      }
      await db.execute(sql`ANALYZE services`);
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
