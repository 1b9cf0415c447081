import {
  and,
  asc,
  desc,
  eq,
  gt,
  inArray,
  isNull,
  lt,
  ne,
  notInArray,
  or,
  type SQL,
  sql,
} from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { FieldChange } from './fields.ts';
import type { Db, Tx } from '../../db/client.ts';
import {
  authorityBoundaries,
  type ChangeSource,
  localAuthorities,
  locations,
  organisations,
  postcodeCache,
  serviceAreas,
  serviceAtLocations,
  serviceContacts,
  serviceChanges,
  serviceManagers,
  services,
  serviceSuggestions,
  type SuggestionStatus,
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

/** A lower-case UUID, as the database writes them (anything else is never one of our ids). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Ids after `after` in the order of their text (a UUID's order is its text's). */
const idAfter = (column: PgColumn, after: string): SQL =>
  UUID_PATTERN.test(after) ? gt(column, after) : sql`${column}::text COLLATE "C" > ${after}`;

/** A listed service as the site search reads it: its words, and the places it is in and serves. */
export interface ServiceSearchRow {
  id: string;
  slug: string;
  name: string;
  nameCy: string | null;
  description: string;
  descriptionCy: string | null;
  model: ServiceRow['model'];
  offers: string[];
  serves: string[];
  referralRoute: string;
  organisationName: string;
  updatedAt: Date;
  areas: { gssCode: string; name: string; nameCy: string | null; regionName: string }[];
  places: { name: string; city: string }[];
}

/** Entries not checked since `cutoff`, with a manager, not reminded since `remindedBefore`. */
const staleForReminder = (cutoff: string, remindedBefore: Date) =>
  and(
    ne(services.status, 'closed'),
    sql`coalesce(${services.lastVerified}, ${services.createdAt}::date) < ${cutoff}::date`,
    or(
      isNull(services.verificationRemindedAt),
      lt(services.verificationRemindedAt, remindedBefore),
    ),
    sql`exists (select 1 from ${serviceManagers} where ${serviceManagers.serviceId} = ${services.id})`,
  );

/** The repository over `db`, and `in(tx)`: the same queries inside a service's unit of work. */
export function createServicesRepository(db: Db) {
  return { ...servicesQueries(db), in: (tx: Tx) => servicesQueries(tx) };
}

function servicesQueries(db: Db) {
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
    ): Promise<{ created: number; updated: number; ids: string[] }> {
      return db.transaction(async (tx) => {
        let created = 0;
        const ids: string[] = [];
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
          const row = await writeService(tx, { ...r, values: { ...r.values, organisationId } });
          ids.push(row.id);
          await tx
            .insert(serviceChanges)
            .values({ serviceId: row.id, source: 'import', actorId: null });
        }
        return { created, updated: rows.length - created, ids };
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
      // Grouped once: the benchmark's 10,000 services must not be a quadratic scan.
      const areasOf = new Map<string, string[]>();
      for (const a of areas)
        areasOf.set(a.serviceId, [...(areasOf.get(a.serviceId) ?? []), a.gssCode]);
      const placeOf = new Map<string, (typeof places)[number]['location']>();
      for (const p of places) if (!placeOf.has(p.serviceId)) placeOf.set(p.serviceId, p.location);
      const contactOf = new Map<string, (typeof contacts)[number]>();
      for (const c of contacts) if (!contactOf.has(c.serviceId)) contactOf.set(c.serviceId, c);
      return all.map((r) => ({
        ...r,
        areas: (areasOf.get(r.service.id) ?? []).sort(),
        location: placeOf.get(r.service.id),
        contact: contactOf.get(r.service.id),
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
    /**
     * The site search's services: the listed ones (as `listedServices`: not
     * closed) after `after` or among `ids` (valid ids only), in id order, with
     * the authorities they cover and the places they work from.
     */
    async searchServices(q: {
      after?: string | undefined;
      ids?: readonly string[] | undefined;
      limit: number;
    }): Promise<ServiceSearchRow[]> {
      if (q.ids && !q.ids.length) return [];
      const rows = await db
        .select({
          id: services.id,
          slug: services.slug,
          name: services.name,
          nameCy: services.nameCy,
          description: services.description,
          descriptionCy: services.descriptionCy,
          model: services.model,
          offers: services.offers,
          serves: services.serves,
          referralRoute: services.referralRoute,
          organisationName: organisations.name,
          updatedAt: services.updatedAt,
        })
        .from(services)
        .innerJoin(organisations, eq(organisations.id, services.organisationId))
        .where(
          and(
            ne(services.status, 'closed'),
            q.after !== undefined ? idAfter(services.id, q.after) : undefined,
            q.ids ? inArray(services.id, [...q.ids]) : undefined,
          ),
        )
        .orderBy(asc(services.id))
        .limit(q.limit);
      if (!rows.length) return [];
      const ids = rows.map((r) => r.id);
      const [areas, places] = await Promise.all([
        db
          .select({
            serviceId: serviceAreas.serviceId,
            gssCode: localAuthorities.gssCode,
            name: localAuthorities.name,
            nameCy: localAuthorities.nameCy,
            regionName: localAuthorities.regionName,
          })
          .from(serviceAreas)
          .innerJoin(localAuthorities, eq(localAuthorities.gssCode, serviceAreas.gssCode))
          .where(inArray(serviceAreas.serviceId, ids))
          .orderBy(asc(localAuthorities.name)),
        db
          .select({
            serviceId: serviceAtLocations.serviceId,
            name: locations.name,
            city: locations.city,
          })
          .from(serviceAtLocations)
          .innerJoin(locations, eq(locations.id, serviceAtLocations.locationId))
          .where(inArray(serviceAtLocations.serviceId, ids))
          .orderBy(asc(locations.name)),
      ]);
      return rows.map((r) => ({
        ...r,
        areas: areas.filter((a) => a.serviceId === r.id).map(({ serviceId: _s, ...a }) => a),
        places: places.filter((p) => p.serviceId === r.id).map(({ serviceId: _s, ...p }) => p),
      }));
    },
    /** Of these ids, the services listed in the directory (not closed). */
    async listedIds(ids: readonly string[]): Promise<string[]> {
      if (!ids.length) return [];
      const rows = await db
        .select({ id: services.id })
        .from(services)
        .where(and(inArray(services.id, [...ids]), ne(services.status, 'closed')));
      return rows.map((r) => r.id);
    },
    /** Services (closed ones too: one may have left the directory) changed since then, oldest first. */
    async changedSince(since: Date, limit: number): Promise<string[]> {
      const rows = await db
        .select({ id: services.id })
        .from(services)
        .where(gt(services.updatedAt, since))
        .orderBy(asc(services.updatedAt))
        .limit(limit);
      return rows.map((r) => r.id);
    },
    /**
     * Services active now that first became active after `from`, up to `until`, oldest first.
     * No column says when a service went live, so it is read from what is kept: a service
     * created active went live when it was created (`created_at`); one created in development
     * or paused went live at its first history entry changing the status to active. Its
     * status when created is the `after` of its first history entry with an empty `before`
     * (a new service through a suggestion or a moderator), else the `before` of its first
     * status change, else (no status change kept: the seed, imports, which keep no field
     * changes) its status now. So a paused service made active again is not new, and a
     * service an import turns active is not seen (imports keep no field changes).
     */
    async becameActiveBetween(from: Date, until: Date) {
      const statusChanges = (where: SQL) => sql`
        SELECT c.at, e->>'before' AS before, e->>'after' AS after
        FROM ${serviceChanges} c CROSS JOIN LATERAL jsonb_array_elements(c.changes) e
        WHERE c.service_id = ${services.id} AND e->>'field' = 'status' AND ${where}`;
      const initial = sql`coalesce(
        (SELECT x.after FROM (${statusChanges(sql`e->>'before' = ''`)}) x ORDER BY x.at LIMIT 1),
        (SELECT x.before FROM (${statusChanges(sql`e->>'before' <> ''`)}) x ORDER BY x.at LIMIT 1),
        ${services.status})`;
      const wentLive = sql`CASE WHEN ${initial} = 'active' THEN ${services.createdAt} ELSE
        (SELECT min(x.at) FROM (${statusChanges(sql`e->>'before' <> '' AND e->>'after' = 'active'`)}) x)
        END`;
      const inner = db
        .select({
          id: services.id,
          slug: services.slug,
          name: services.name,
          description: services.description,
          wentLive: sql<Date>`${wentLive}`.as('went_live'),
        })
        .from(services)
        .where(
          and(
            eq(services.status, 'active'),
            sql`${services.createdAt} <= ${until}`,
            // Only services with something in the window need the history read.
            or(
              sql`${services.createdAt} > ${from}`,
              sql`EXISTS (SELECT 1 FROM ${serviceChanges} c WHERE c.service_id = ${services.id}
                    AND c.at > ${from} AND c.at <= ${until})`,
            ),
          ),
        )
        .as('s');
      const rows = await db
        .select()
        .from(inner)
        .where(and(sql`${inner.wentLive} > ${from}`, sql`${inner.wentLive} <= ${until}`))
        .orderBy(asc(inner.wentLive), asc(inner.slug));
      return rows.map((r) => ({ ...r, wentLive: new Date(r.wentLive) }));
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

    /**
     * Write a service (new or by slug) and its history entry in one
     * transaction; with `suggestionId`, also settle that suggestion, but only
     * if it is still pending (two moderators cannot both approve it).
     */
    async applyChange(
      r: ServiceRecord & { organisationName: string },
      change: { source: ChangeSource; actorId: string | null; changes: FieldChange[] },
      settle?: { suggestionId: string; decidedBy: string },
    ): Promise<ServiceRow | undefined> {
      return db.transaction(async (tx) => {
        if (settle) {
          const [taken] = await tx
            .update(serviceSuggestions)
            .set({ status: 'approved', decidedAt: new Date(), decidedBy: settle.decidedBy })
            .where(
              and(
                eq(serviceSuggestions.id, settle.suggestionId),
                eq(serviceSuggestions.status, 'pending'),
              ),
            )
            .returning({ id: serviceSuggestions.id });
          if (!taken) return undefined;
        }
        const [org] = await tx
          .select({ id: organisations.id })
          .from(organisations)
          .where(eq(organisations.name, r.organisationName));
        const organisationId =
          org?.id ??
          (
            await tx
              .insert(organisations)
              .values({ name: r.organisationName })
              .returning({ id: organisations.id })
          )[0]!.id;
        const row = await writeService(tx, { ...r, values: { ...r.values, organisationId } });
        if (settle)
          await tx
            .update(serviceSuggestions)
            .set({ serviceId: row.id })
            .where(eq(serviceSuggestions.id, settle.suggestionId));
        await tx.insert(serviceChanges).values({ serviceId: row.id, ...change });
        return row;
      });
    },
    /** Mark a service checked today by its manager, with a history entry. */
    async markVerified(serviceId: string, actorId: string, today: string, before: string) {
      await db.transaction(async (tx) => {
        await tx
          .update(services)
          .set({ lastVerified: today, verificationRemindedAt: null })
          .where(eq(services.id, serviceId));
        await tx.insert(serviceChanges).values({
          serviceId,
          source: 'verified',
          actorId,
          changes: [{ field: 'lastVerified', before, after: today }],
        });
      });
    },
    async history(serviceId: string) {
      return db
        .select()
        .from(serviceChanges)
        .where(eq(serviceChanges.serviceId, serviceId))
        .orderBy(desc(serviceChanges.at));
    },

    async addSuggestion(values: typeof serviceSuggestions.$inferInsert) {
      const [row] = await db.insert(serviceSuggestions).values(values).returning();
      return row!;
    },
    /** Confirm a visitor's suggestion by its token (used once). */
    async confirmSuggestion(tokenHash: string) {
      const [row] = await db
        .update(serviceSuggestions)
        .set({ status: 'pending', tokenHash: null })
        .where(
          and(
            eq(serviceSuggestions.tokenHash, tokenHash),
            eq(serviceSuggestions.status, 'unconfirmed'),
          ),
        )
        .returning();
      return row;
    },
    async suggestionByToken(tokenHash: string) {
      const [row] = await db
        .select()
        .from(serviceSuggestions)
        .where(eq(serviceSuggestions.tokenHash, tokenHash));
      return row;
    },
    async suggestion(id: string) {
      const [row] = await db
        .select({
          suggestion: serviceSuggestions,
          slug: services.slug,
          serviceName: services.name,
        })
        .from(serviceSuggestions)
        .leftJoin(services, eq(services.id, serviceSuggestions.serviceId))
        .where(eq(serviceSuggestions.id, id));
      return row;
    },
    /** Suggestions with a status, oldest first, and how many there are of each status. */
    async suggestions(status: SuggestionStatus) {
      const [rows, counts] = await Promise.all([
        db
          .select({
            suggestion: serviceSuggestions,
            slug: services.slug,
            serviceName: services.name,
          })
          .from(serviceSuggestions)
          .leftJoin(services, eq(services.id, serviceSuggestions.serviceId))
          .where(eq(serviceSuggestions.status, status))
          .orderBy(
            status === 'pending'
              ? asc(serviceSuggestions.createdAt)
              : desc(serviceSuggestions.createdAt),
          )
          .limit(200),
        db
          .select({ status: serviceSuggestions.status, n: sql<number>`count(*)::int` })
          .from(serviceSuggestions)
          .groupBy(serviceSuggestions.status),
      ]);
      return { rows, counts: Object.fromEntries(counts.map((c) => [c.status, Number(c.n)])) };
    },
    /** Reject a pending suggestion; the visitor's email is returned once and then forgotten. */
    async rejectSuggestion(id: string, decidedBy: string, reason: string) {
      const [before] = await db
        .select({ email: serviceSuggestions.email })
        .from(serviceSuggestions)
        .where(and(eq(serviceSuggestions.id, id), eq(serviceSuggestions.status, 'pending')));
      if (!before) return undefined;
      const [row] = await db
        .update(serviceSuggestions)
        .set({ status: 'rejected', decidedAt: new Date(), decidedBy, reason, email: null })
        .where(and(eq(serviceSuggestions.id, id), eq(serviceSuggestions.status, 'pending')))
        .returning();
      return row ? { ...row, email: before.email } : undefined;
    },
    /** After the decision email is queued, the visitor's address is not kept. */
    async forgetSuggestionEmail(id: string) {
      await db.update(serviceSuggestions).set({ email: null }).where(eq(serviceSuggestions.id, id));
    },
    /** Unconfirmed suggestions older than `before` are deleted. */
    async purgeUnconfirmed(before: Date): Promise<number> {
      const gone = await db
        .delete(serviceSuggestions)
        .where(
          and(
            eq(serviceSuggestions.status, 'unconfirmed'),
            lt(serviceSuggestions.createdAt, before),
          ),
        )
        .returning({ id: serviceSuggestions.id });
      return gone.length;
    },

    async managers(serviceId: string): Promise<string[]> {
      const rows = await db
        .select({ userId: serviceManagers.userId })
        .from(serviceManagers)
        .where(eq(serviceManagers.serviceId, serviceId))
        .orderBy(asc(serviceManagers.addedAt));
      return rows.map((r) => r.userId);
    },
    async isManager(serviceId: string, userId: string): Promise<boolean> {
      const [row] = await db
        .select({ userId: serviceManagers.userId })
        .from(serviceManagers)
        .where(and(eq(serviceManagers.serviceId, serviceId), eq(serviceManagers.userId, userId)));
      return Boolean(row);
    },
    async addManager(serviceId: string, userId: string): Promise<boolean> {
      const added = await db
        .insert(serviceManagers)
        .values({ serviceId, userId })
        .onConflictDoNothing()
        .returning({ userId: serviceManagers.userId });
      return added.length > 0;
    },
    async removeManager(serviceId: string, userId: string): Promise<void> {
      await db
        .delete(serviceManagers)
        .where(and(eq(serviceManagers.serviceId, serviceId), eq(serviceManagers.userId, userId)));
    },
    /** Services a member manages, by name. */
    async managedBy(userId: string) {
      return db
        .select({ slug: services.slug, name: services.name, lastVerified: services.lastVerified })
        .from(serviceManagers)
        .innerJoin(services, eq(services.id, serviceManagers.serviceId))
        .where(eq(serviceManagers.userId, userId))
        .orderBy(asc(services.name));
    },
    /**
     * Services not checked since `cutoff` (or never, and older than that)
     * that have managers and were not reminded since `remindedBefore`;
     * marked reminded as they are returned, so each is asked once a month.
     */
    /** The managers of entries due a reminder (a look before claiming them). */
    async staleManagers(cutoff: string, remindedBefore: Date): Promise<string[]> {
      const rows = await db
        .selectDistinct({ userId: serviceManagers.userId })
        .from(serviceManagers)
        .innerJoin(services, eq(services.id, serviceManagers.serviceId))
        .where(staleForReminder(cutoff, remindedBefore));
      return rows.map((r) => r.userId);
    },
    async claimStaleForReminder(cutoff: string, remindedBefore: Date) {
      return db.transaction(async (tx) => {
        const stale = await tx
          .update(services)
          .set({ verificationRemindedAt: new Date() })
          .where(staleForReminder(cutoff, remindedBefore))
          .returning({
            id: services.id,
            slug: services.slug,
            name: services.name,
            lastVerified: services.lastVerified,
          });
        const managers = stale.length
          ? await tx
              .select()
              .from(serviceManagers)
              .where(
                inArray(
                  serviceManagers.serviceId,
                  stale.map((s) => s.id),
                ),
              )
          : [];
        return stale.map((s) => ({
          ...s,
          managers: managers.filter((m) => m.serviceId === s.id).map((m) => m.userId),
        }));
      });
    },
    /** For a member's data export: suggestions they made and services they manage. */
    async personalData(userId: string) {
      const [suggested, managed] = await Promise.all([
        db
          .select({
            createdAt: serviceSuggestions.createdAt,
            status: serviceSuggestions.status,
            proposed: serviceSuggestions.proposed,
            note: serviceSuggestions.note,
          })
          .from(serviceSuggestions)
          .where(eq(serviceSuggestions.suggesterId, userId)),
        this.managedBy(userId),
      ]);
      return { suggested, managed };
    },
    /** Boundaries: replace the set in one transaction. */
    async saveBoundaries(rows: { gssCode: string; path: string }[]) {
      await db.transaction(async (tx) => {
        await tx.delete(authorityBoundaries);
        for (let i = 0; i < rows.length; i += 50)
          await tx.insert(authorityBoundaries).values(rows.slice(i, i + 50));
      });
    },
    async boundaries(): Promise<Map<string, string>> {
      const rows = await db
        .select({ gssCode: authorityBoundaries.gssCode, path: authorityBoundaries.path })
        .from(authorityBoundaries);
      return new Map(rows.map((r) => [r.gssCode, r.path]));
    },
    /** A member leaves: they manage nothing; their suggestions are detached, or deleted if undecided and asked. */
    async eraseMember(userId: string, removeContributions: boolean) {
      await db.transaction(async (tx) => {
        await tx.delete(serviceManagers).where(eq(serviceManagers.userId, userId));
        if (removeContributions)
          await tx
            .delete(serviceSuggestions)
            .where(
              and(
                eq(serviceSuggestions.suggesterId, userId),
                inArray(serviceSuggestions.status, ['unconfirmed', 'pending']),
              ),
            );
        await tx
          .update(serviceSuggestions)
          .set({ suggesterId: null })
          .where(eq(serviceSuggestions.suggesterId, userId));
      });
    },
  };
}

export type ServicesRepository = ReturnType<typeof createServicesRepository>;
