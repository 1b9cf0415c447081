import { and, asc, desc, eq, gt, gte, inArray, lt, lte, ne, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Db, Tx } from '../../db/client.ts';
import {
  type AttendeeStatus,
  attendees,
  bookings,
  eventAgendaItems,
  type EventMode,
  eventOrganisers,
  type EventStatus,
  events,
  eventSpeakers,
} from './schema.ts';

/**
 * All SQL of the events feature, and only SQL: the booking rules are the
 * service's. A repository runs on the database or, built with `in(tx)`, inside
 * the service's unit of work; it never opens a transaction of its own.
 */

export type EventRow = typeof events.$inferSelect;
export type NewEvent = typeof events.$inferInsert;
export type BookingRow = typeof bookings.$inferSelect;
export type AttendeeRow = typeof attendees.$inferSelect;

export interface NewAttendee {
  name: string;
  email?: string | undefined;
  accessNeeds?: string | undefined;
  dietaryNeeds?: string | undefined;
}

export interface NewBooking {
  tokenHash: string;
  bookerName: string;
  bookerEmail: string;
  userId?: string | undefined;
  locale: 'en' | 'cy';
}

export interface ProgrammeItem {
  time: string;
  title: string;
  speakers?: string | undefined;
}
export interface Speaker {
  name: string;
  role?: string | undefined;
  bio?: string | undefined;
}

/** A lower-case UUID, as the database writes them (anything else is never one of our ids). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Ids after `after` in the order of their text (a UUID's order is its text's). */
const idAfter = (column: PgColumn, after: string): SQL =>
  UUID_PATTERN.test(after) ? gt(column, after) : sql`${column}::text COLLATE "C" > ${after}`;

/** Events the site search finds: published ones and postponed ones (their page says so); not drafts or cancelled. */
const FINDABLE = ['published', 'postponed'] as const;

/** An event as the site search reads it, with its programme's words. */
export interface EventSearchRow {
  id: string;
  slug: string;
  title: string;
  summary: string;
  body: string;
  startsAt: Date;
  mode: EventMode;
  venueName: string | null;
  venueAddress: string | null;
  audience: string | null;
  organiserName: string;
  updatedAt: Date;
  speakers: { name: string; role: string | null }[];
  agenda: string[];
}

/** The repository over `db`, and `in(tx)`: the same queries inside a unit of work. */
export function createEventsRepository(db: Db) {
  return { ...queries(db), in: (tx: Tx) => queries(tx) };
}

/**
 * `published_at` for a write that sets this status: the first time it is published it becomes
 * now, and it stays through later saves, postponing and publishing again; back to draft clears it.
 */
function publishedAtFor(status: EventStatus | undefined, now: Date) {
  if (status === 'draft') return { publishedAt: null };
  if (status === 'published') return { publishedAt: sql`coalesce(${events.publishedAt}, ${now})` };
  return {};
}

function queries(db: Db) {
  return {
    async upsertEvent(values: NewEvent): Promise<EventRow> {
      const { id: _id, placesTaken: _taken, publishedAt: _p, ...rest } = values;
      const now = new Date();
      const [row] = await db
        .insert(events)
        .values({ ...values, publishedAt: values.status === 'published' ? now : null })
        .onConflictDoUpdate({
          target: events.slug,
          set: { ...rest, ...publishedAtFor(values.status, now), updatedAt: now },
        })
        .returning();
      return row!;
    },
    /** Replace an event's agenda and speakers, in order (run it in a unit of work with the event). */
    async replaceProgramme(
      eventId: string,
      agenda: ProgrammeItem[],
      speakers: Speaker[],
    ): Promise<void> {
      await db.delete(eventAgendaItems).where(eq(eventAgendaItems.eventId, eventId));
      await db.delete(eventSpeakers).where(eq(eventSpeakers.eventId, eventId));
      if (agenda.length)
        await db
          .insert(eventAgendaItems)
          .values(agenda.map((a, position) => ({ ...a, eventId, position })));
      if (speakers.length)
        await db
          .insert(eventSpeakers)
          .values(speakers.map((sp, position) => ({ ...sp, eventId, position })));
    },
    async listEvents(opts: {
      upcoming: boolean;
      mode?: EventMode | undefined;
      now: Date;
      limit: number;
      offset: number;
    }) {
      const where = and(
        ne(events.status, 'draft'),
        opts.upcoming ? gte(events.endsAt, opts.now) : lt(events.endsAt, opts.now),
        opts.mode ? eq(events.mode, opts.mode) : undefined,
      );
      const [rows, [total]] = await Promise.all([
        db
          .select()
          .from(events)
          .where(where)
          .orderBy(opts.upcoming ? asc(events.startsAt) : desc(events.startsAt))
          .limit(opts.limit)
          .offset(opts.offset),
        db
          .select({ n: sql<number>`count(*)::int` })
          .from(events)
          .where(where),
      ]);
      return { rows, total: Number(total?.n ?? 0) };
    },
    /**
     * Events published after `from`, up to `until`, that are still published (not cancelled,
     * postponed or back in draft) and not over by `now`, in order of publication. No limit:
     * the window bounds it (a week's or a month's new events).
     */
    async publishedBetween(from: Date, until: Date, now: Date) {
      return db
        .select({
          slug: events.slug,
          title: events.title,
          summary: events.summary,
          startsAt: events.startsAt,
          publishedAt: events.publishedAt,
        })
        .from(events)
        .where(
          and(
            eq(events.status, 'published'),
            gt(events.publishedAt, from),
            lte(events.publishedAt, until),
            gte(events.endsAt, now),
          ),
        )
        .orderBy(asc(events.publishedAt), asc(events.id));
    },
    /** Findable events (published or postponed) after `after` or among `ids`, in id order, with their programme. */
    async searchEvents(q: {
      after?: string | undefined;
      ids?: readonly string[] | undefined;
      limit: number;
    }): Promise<EventSearchRow[]> {
      if (q.ids && !q.ids.length) return [];
      const rows = await db
        .select({
          id: events.id,
          slug: events.slug,
          title: events.title,
          summary: events.summary,
          body: events.body,
          startsAt: events.startsAt,
          mode: events.mode,
          venueName: events.venueName,
          venueAddress: events.venueAddress,
          audience: events.audience,
          organiserName: events.organiserName,
          updatedAt: events.updatedAt,
        })
        .from(events)
        .where(
          and(
            inArray(events.status, [...FINDABLE]),
            q.after !== undefined ? idAfter(events.id, q.after) : undefined,
            q.ids ? inArray(events.id, [...q.ids]) : undefined,
          ),
        )
        .orderBy(asc(events.id))
        .limit(q.limit);
      if (!rows.length) return [];
      const ids = rows.map((r) => r.id);
      const [speakers, agenda] = await Promise.all([
        db
          .select({
            eventId: eventSpeakers.eventId,
            name: eventSpeakers.name,
            role: eventSpeakers.role,
          })
          .from(eventSpeakers)
          .where(inArray(eventSpeakers.eventId, ids))
          .orderBy(asc(eventSpeakers.position)),
        db
          .select({ eventId: eventAgendaItems.eventId, title: eventAgendaItems.title })
          .from(eventAgendaItems)
          .where(inArray(eventAgendaItems.eventId, ids))
          .orderBy(asc(eventAgendaItems.position)),
      ]);
      return rows.map((r) => ({
        ...r,
        speakers: speakers
          .filter((x) => x.eventId === r.id)
          .map(({ name, role }) => ({ name, role })),
        agenda: agenda.filter((x) => x.eventId === r.id).map((x) => x.title),
      }));
    },
    /** Of these ids, the findable events (published or postponed). */
    async findableIds(ids: readonly string[]): Promise<string[]> {
      if (!ids.length) return [];
      const rows = await db
        .select({ id: events.id })
        .from(events)
        .where(and(inArray(events.id, [...ids]), inArray(events.status, [...FINDABLE])));
      return rows.map((r) => r.id);
    },
    /** Events (any status: one may have been cancelled) changed since then, oldest change first. */
    async changedSince(since: Date, limit: number): Promise<string[]> {
      const rows = await db
        .select({ id: events.id })
        .from(events)
        .where(gt(events.updatedAt, since))
        .orderBy(asc(events.updatedAt))
        .limit(limit);
      return rows.map((r) => r.id);
    },
    async eventBySlug(slug: string): Promise<EventRow | undefined> {
      const [row] = await db.select().from(events).where(eq(events.slug, slug));
      return row;
    },
    async eventById(id: string): Promise<EventRow | undefined> {
      const [row] = await db.select().from(events).where(eq(events.id, id));
      return row;
    },
    async programme(eventId: string) {
      const [agenda, speakers] = await Promise.all([
        db
          .select()
          .from(eventAgendaItems)
          .where(eq(eventAgendaItems.eventId, eventId))
          .orderBy(asc(eventAgendaItems.position)),
        db
          .select()
          .from(eventSpeakers)
          .where(eq(eventSpeakers.eventId, eventId))
          .orderBy(asc(eventSpeakers.position)),
      ]);
      return { agenda, speakers };
    },
    async isOrganiser(eventId: string, userId: string): Promise<boolean> {
      const rows = await db
        .select({ e: eventOrganisers.eventId })
        .from(eventOrganisers)
        .where(and(eq(eventOrganisers.eventId, eventId), eq(eventOrganisers.userId, userId)));
      return rows.length > 0;
    },
    async addOrganiser(eventId: string, userId: string): Promise<void> {
      await db.insert(eventOrganisers).values({ eventId, userId }).onConflictDoNothing();
    },
    async removeOrganiser(eventId: string, userId: string): Promise<void> {
      await db
        .delete(eventOrganisers)
        .where(and(eq(eventOrganisers.eventId, eventId), eq(eventOrganisers.userId, userId)));
    },
    async organiserIds(eventId: string): Promise<string[]> {
      const rows = await db
        .select({ userId: eventOrganisers.userId })
        .from(eventOrganisers)
        .where(eq(eventOrganisers.eventId, eventId));
      return rows.map((r) => r.userId);
    },
    /** For editors: every event, any status, newest start first. */
    async allEvents(limit: number, offset: number) {
      const [rows, [total]] = await Promise.all([
        db.select().from(events).orderBy(desc(events.startsAt)).limit(limit).offset(offset),
        db.select({ n: sql<number>`count(*)::int` }).from(events),
      ]);
      return { rows, total: Number(total?.n ?? 0) };
    },
    async slugTaken(slug: string, exceptId?: string): Promise<boolean> {
      const rows = await db
        .select({ id: events.id })
        .from(events)
        .where(and(eq(events.slug, slug), exceptId ? ne(events.id, exceptId) : undefined));
      return rows.length > 0;
    },
    /**
     * The event's row, locked until the unit of work ends (`SELECT … FOR
     * UPDATE`): on PostgreSQL every other booking, cancellation or change of
     * this event waits here, so the places taken read now cannot change
     * under the caller, on any instance. Call it on `in(tx)`.
     */
    async lockEvent(eventId: string): Promise<EventRow | undefined> {
      const [row] = await db.select().from(events).where(eq(events.id, eventId)).for('update');
      return row;
    },
    async insertEvent(
      values: Omit<NewEvent, 'id' | 'placesTaken' | 'publishedAt'>,
    ): Promise<EventRow> {
      const publishedAt = values.status === 'published' ? new Date() : null;
      const [row] = await db
        .insert(events)
        .values({ ...values, publishedAt })
        .returning();
      return row!;
    },
    /** Change an event; its calendar sequence goes up so calendars update. */
    async updateEvent(
      id: string,
      values: Omit<NewEvent, 'id' | 'placesTaken' | 'publishedAt'>,
    ): Promise<EventRow | undefined> {
      const now = new Date();
      const [row] = await db
        .update(events)
        .set({
          ...values,
          ...publishedAtFor(values.status, now),
          sequence: sql`${events.sequence} + 1`,
          updatedAt: now,
        })
        .where(eq(events.id, id))
        .returning();
      return row;
    },
    /** A booking and its attendees, each with the status the service decided. */
    async insertBooking(
      eventId: string,
      booking: NewBooking,
      people: (NewAttendee & { status: AttendeeStatus })[],
    ): Promise<string> {
      const [b] = await db
        .insert(bookings)
        .values({ ...booking, eventId })
        .returning({ id: bookings.id });
      await db.insert(attendees).values(
        people.map((p) => ({
          bookingId: b!.id,
          eventId,
          name: p.name,
          email: p.email ?? null,
          accessNeeds: p.accessNeeds ?? null,
          dietaryNeeds: p.dietaryNeeds ?? null,
          status: p.status,
        })),
      );
      return b!.id;
    },
    /** The table's CHECK keeps it between 0 and the capacity whatever the caller does. */
    async setPlacesTaken(eventId: string, placesTaken: number): Promise<void> {
      await db.update(events).set({ placesTaken }).where(eq(events.id, eventId));
    },
    /** A booking's people not yet cancelled (some of them, or all). */
    async activeAttendees(
      bookingId: string,
      attendeeIds: string[] | 'all',
    ): Promise<{ id: string; name: string; status: AttendeeStatus }[]> {
      return db
        .select({ id: attendees.id, name: attendees.name, status: attendees.status })
        .from(attendees)
        .where(
          and(
            eq(attendees.bookingId, bookingId),
            ne(attendees.status, 'cancelled'),
            attendeeIds === 'all' ? undefined : inArray(attendees.id, attendeeIds),
          ),
        );
    },
    async cancelAttendees(ids: string[]): Promise<void> {
      if (!ids.length) return;
      await db
        .update(attendees)
        .set({ status: 'cancelled', offerExpiresAt: null })
        .where(inArray(attendees.id, ids));
    },
    /** The first `limit` people waiting for this event, longest waiting first. */
    async waitingInOrder(eventId: string, limit: number): Promise<string[]> {
      const rows = await db
        .select({ id: attendees.id })
        .from(attendees)
        .where(and(eq(attendees.eventId, eventId), eq(attendees.status, 'waiting')))
        .orderBy(asc(attendees.seq))
        .limit(limit);
      return rows.map((r) => r.id);
    },
    /** Hold a place for someone waiting until `expiresAt`; only the hash of the offer's link token is stored. */
    async offerPlace(attendeeId: string, expiresAt: Date, tokenHash: string) {
      const [row] = await db
        .update(attendees)
        .set({ status: 'offered', offerExpiresAt: expiresAt, offerTokenHash: tokenHash })
        .where(eq(attendees.id, attendeeId))
        .returning({
          attendeeId: attendees.id,
          bookingId: attendees.bookingId,
          name: attendees.name,
          email: attendees.email,
        });
      return row!;
    },
    /** Events with an offer open past its time. */
    async eventsWithLapsedOffers(now: Date): Promise<string[]> {
      const rows = await db
        .selectDistinct({ eventId: attendees.eventId })
        .from(attendees)
        .where(and(eq(attendees.status, 'offered'), lt(attendees.offerExpiresAt, now)));
      return rows.map((r) => r.eventId);
    },
    /** Cancel this event's offers open past their time; returns whose they were. */
    async lapseOffers(
      eventId: string,
      now: Date,
    ): Promise<{ bookingId: string; name: string; email: string | null }[]> {
      return db
        .update(attendees)
        .set({ status: 'cancelled', offerExpiresAt: null })
        .where(
          and(
            eq(attendees.eventId, eventId),
            eq(attendees.status, 'offered'),
            lt(attendees.offerExpiresAt, now),
          ),
        )
        .returning({
          bookingId: attendees.bookingId,
          name: attendees.name,
          email: attendees.email,
        });
    },

    /** The booking a manage link opens: the booker's own link, or a waiting-list offer's. */
    async bookingByTokenHash(tokenHash: string) {
      let [booking] = await db.select().from(bookings).where(eq(bookings.tokenHash, tokenHash));
      if (!booking) {
        [booking] = await db
          .select({ b: bookings })
          .from(attendees)
          .innerJoin(bookings, eq(bookings.id, attendees.bookingId))
          .where(eq(attendees.offerTokenHash, tokenHash))
          .then((rows) => rows.map((r) => r.b));
      }
      if (!booking) return undefined;
      const [event] = await db.select().from(events).where(eq(events.id, booking.eventId));
      const people = await db
        .select()
        .from(attendees)
        .where(eq(attendees.bookingId, booking.id))
        .orderBy(asc(attendees.seq));
      return { booking, event: event!, people };
    },

    async bookerOf(bookingId: string): Promise<BookingRow | undefined> {
      const [row] = await db.select().from(bookings).where(eq(bookings.id, bookingId));
      return row;
    },

    async acceptOffer(bookingId: string, attendeeId: string, now: Date): Promise<boolean> {
      const rows = await db
        .update(attendees)
        .set({ status: 'confirmed', offerExpiresAt: null })
        .where(
          and(
            eq(attendees.id, attendeeId),
            eq(attendees.bookingId, bookingId),
            eq(attendees.status, 'offered'),
            gte(attendees.offerExpiresAt, now),
          ),
        )
        .returning({ id: attendees.id });
      return rows.length === 1;
    },

    async updateAttendee(
      bookingId: string,
      attendeeId: string,
      patch: {
        name: string;
        email?: string | null;
        accessNeeds?: string | null;
        dietaryNeeds?: string | null;
      },
    ): Promise<boolean> {
      const rows = await db
        .update(attendees)
        .set(patch)
        .where(
          and(
            eq(attendees.id, attendeeId),
            eq(attendees.bookingId, bookingId),
            ne(attendees.status, 'cancelled'),
          ),
        )
        .returning({ id: attendees.id });
      return rows.length === 1;
    },

    async attendeesOf(eventId: string) {
      return db
        .select({
          attendee: attendees,
          bookerName: bookings.bookerName,
          bookerEmail: bookings.bookerEmail,
        })
        .from(attendees)
        .innerJoin(bookings, eq(bookings.id, attendees.bookingId))
        .where(eq(attendees.eventId, eventId))
        .orderBy(asc(attendees.seq));
    },
    async setCheckIn(
      eventId: string,
      attendeeId: string,
      checkedIn: boolean,
      now: Date,
    ): Promise<boolean> {
      const rows = await db
        .update(attendees)
        .set({ checkedInAt: checkedIn ? now : null })
        .where(
          and(
            eq(attendees.id, attendeeId),
            eq(attendees.eventId, eventId),
            eq(attendees.status, 'confirmed'),
          ),
        )
        .returning({ id: attendees.id });
      return rows.length === 1;
    },
    /** Cancel or postpone: calendars update because the sequence goes up. */
    async setStatus(
      eventId: string,
      status: 'cancelled' | 'postponed' | 'published',
    ): Promise<EventRow | undefined> {
      const now = new Date();
      const [row] = await db
        .update(events)
        .set({
          status,
          ...publishedAtFor(status, now),
          sequence: sql`${events.sequence} + 1`,
          updatedAt: now,
        })
        .where(eq(events.id, eventId))
        .returning();
      return row;
    },
    /** Everyone to tell about an event: each booker, and attendees with their own address. */
    async recipients(
      eventId: string,
      statuses: AttendeeStatus[],
    ): Promise<{ email: string; locale: 'en' | 'cy'; confirmed: boolean }[]> {
      const rows = await db
        .select({
          bookerEmail: bookings.bookerEmail,
          locale: bookings.locale,
          email: attendees.email,
          status: attendees.status,
        })
        .from(attendees)
        .innerJoin(bookings, eq(bookings.id, attendees.bookingId))
        .where(and(eq(attendees.eventId, eventId), inArray(attendees.status, statuses)));
      const out = new Map<string, { email: string; locale: 'en' | 'cy'; confirmed: boolean }>();
      for (const r of rows) {
        for (const e of [r.bookerEmail, r.email]) {
          if (!e) continue;
          const key = e.toLowerCase();
          const prev = out.get(key);
          out.set(key, {
            email: e,
            locale: r.locale,
            confirmed: (prev?.confirmed ?? false) || r.status === 'confirmed',
          });
        }
      }
      return [...out.values()];
    },
    async dueReminders(from: Date, to: Date): Promise<EventRow[]> {
      return db
        .select()
        .from(events)
        .where(
          and(
            eq(events.status, 'published'),
            gte(events.startsAt, from),
            lt(events.startsAt, to),
            sql`${events.reminderSentAt} IS NULL`,
          ),
        );
    },
    /** Claim the reminder for one event (once across instances). */
    async claimReminder(eventId: string, now: Date): Promise<boolean> {
      const rows = await db
        .update(events)
        .set({ reminderSentAt: now })
        .where(and(eq(events.id, eventId), sql`${events.reminderSentAt} IS NULL`))
        .returning({ id: events.id });
      return rows.length === 1;
    },

    /** Personal details of bookings for events that ended before `before` are deleted. */
    async purgeBookingsBefore(before: Date): Promise<number> {
      const rows = await db
        .delete(bookings)
        .where(
          inArray(
            bookings.eventId,
            db.select({ id: events.id }).from(events).where(lt(events.endsAt, before)),
          ),
        )
        .returning({ id: bookings.id });
      return rows.length;
    },
    /** The booking rows stay (counts stay true); every personal detail in them goes. */
    async eraseBookingsOfUser(userId: string): Promise<void> {
      const ids = (
        await db.select({ id: bookings.id }).from(bookings).where(eq(bookings.userId, userId))
      ).map((r) => r.id);
      if (!ids.length) return;
      await db
        .update(attendees)
        .set({ name: 'Former member', email: null, accessNeeds: null, dietaryNeeds: null })
        .where(inArray(attendees.bookingId, ids));
      await db
        .update(bookings)
        .set({ bookerName: 'Former member', bookerEmail: 'removed@invalid', userId: null })
        .where(inArray(bookings.id, ids));
    },
    async bookingsOfUser(userId: string) {
      return db
        .select({ booking: bookings, title: events.title, startsAt: events.startsAt })
        .from(bookings)
        .innerJoin(events, eq(events.id, bookings.eventId))
        .where(eq(bookings.userId, userId));
    },

    async counts(eventId: string): Promise<Record<AttendeeStatus, number>> {
      const rows = await db
        .select({ status: attendees.status, n: sql<number>`count(*)::int` })
        .from(attendees)
        .where(eq(attendees.eventId, eventId))
        .groupBy(attendees.status);
      const out: Record<AttendeeStatus, number> = {
        confirmed: 0,
        offered: 0,
        waiting: 0,
        cancelled: 0,
      };
      for (const r of rows) out[r.status] = Number(r.n);
      return out;
    },
  };
}

export type EventsRepository = ReturnType<typeof createEventsRepository>;
/** The queries of a repository, on the database or inside a unit of work. */
export type EventsQueries = ReturnType<typeof queries>;
