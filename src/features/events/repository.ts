import { createHash, randomBytes } from 'node:crypto';
import { and, asc, desc, eq, gte, inArray, lt, ne, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import {
  type AttendeeStatus,
  attendees,
  bookings,
  eventAgendaItems,
  type EventMode,
  eventOrganisers,
  events,
  eventSpeakers,
} from './schema.ts';

/** All SQL of the events feature. */

export type EventRow = typeof events.$inferSelect;
export type NewEvent = typeof events.$inferInsert;
export type BookingRow = typeof bookings.$inferSelect;
export type AttendeeRow = typeof attendees.$inferSelect;
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface NewAttendee {
  name: string;
  email?: string | undefined;
  accessNeeds?: string | undefined;
  dietaryNeeds?: string | undefined;
}

export type BookOutcome =
  | { kind: 'booked'; bookingId: string; confirmed: number; waiting: number }
  | { kind: 'short'; free: number; waitlist: boolean }
  | { kind: 'closed' };

/** 'all': everyone or nobody; 'split': the free places, the rest waiting; 'waitlist': everyone waiting. */
export type BookChoice = 'all' | 'split' | 'waitlist';

export interface Offered {
  /** The link token for this offer (only its hash is stored). */
  token: string;
  attendeeId: string;
  bookingId: string;
  name: string;
  email: string | null;
  bookerEmail: string;
  expiresAt: Date;
}

async function lockEvent(tx: Tx, eventId: string): Promise<EventRow | undefined> {
  const [row] = await tx.select().from(events).where(eq(events.id, eventId)).for('update');
  return row;
}

/** Offer freed places to the people waiting longest; the offer holds the place. Inside the event's lock. */
async function offerNext(
  tx: Tx,
  event: EventRow,
  placesTaken: number,
  now: Date,
): Promise<Offered[]> {
  const free = event.capacity - placesTaken;
  if (free <= 0 || event.status !== 'published') return [];
  const next = await tx
    .select({ id: attendees.id })
    .from(attendees)
    .where(and(eq(attendees.eventId, event.id), eq(attendees.status, 'waiting')))
    .orderBy(asc(attendees.seq))
    .limit(free);
  if (next.length === 0) return [];
  const expiresAt = new Date(now.getTime() + event.offerHours * 3600_000);
  const offered: Omit<Offered, 'bookerEmail' | 'expiresAt'>[] = [];
  for (const n of next) {
    const token = randomBytes(32).toString('base64url');
    const [row] = await tx
      .update(attendees)
      .set({
        status: 'offered',
        offerExpiresAt: expiresAt,
        offerTokenHash: createHash('sha256').update(token).digest('hex'),
      })
      .where(eq(attendees.id, n.id))
      .returning({
        attendeeId: attendees.id,
        bookingId: attendees.bookingId,
        name: attendees.name,
        email: attendees.email,
      });
    offered.push({ ...row!, token });
  }
  await tx
    .update(events)
    .set({ placesTaken: placesTaken + offered.length })
    .where(eq(events.id, event.id));
  const bookers = await tx
    .select({ id: bookings.id, email: bookings.bookerEmail })
    .from(bookings)
    .where(
      inArray(
        bookings.id,
        offered.map((o) => o.bookingId),
      ),
    );
  const emailOf = new Map(bookers.map((b) => [b.id, b.email]));
  return offered.map((o) => ({ ...o, bookerEmail: emailOf.get(o.bookingId)!, expiresAt }));
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

/** Replace an event's agenda and speakers, in order, inside the caller's transaction. */
async function writeProgramme(
  tx: Tx,
  eventId: string,
  agenda: ProgrammeItem[],
  speakers: Speaker[],
) {
  await tx.delete(eventAgendaItems).where(eq(eventAgendaItems.eventId, eventId));
  await tx.delete(eventSpeakers).where(eq(eventSpeakers.eventId, eventId));
  if (agenda.length)
    await tx
      .insert(eventAgendaItems)
      .values(agenda.map((a, position) => ({ ...a, eventId, position })));
  if (speakers.length)
    await tx
      .insert(eventSpeakers)
      .values(speakers.map((sp, position) => ({ ...sp, eventId, position })));
}

export function createEventsRepository(db: Db) {
  return {
    async upsertEvent(values: NewEvent): Promise<EventRow> {
      const { id: _id, placesTaken: _taken, ...rest } = values;
      const [row] = await db
        .insert(events)
        .values(values)
        .onConflictDoUpdate({ target: events.slug, set: { ...rest, updatedAt: new Date() } })
        .returning();
      return row!;
    },
    async replaceProgramme(
      eventId: string,
      agenda: ProgrammeItem[],
      speakers: Speaker[],
    ): Promise<void> {
      await db.transaction((tx) => writeProgramme(tx, eventId, agenda, speakers));
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
     * Create or change an event with its agenda and speakers, all or nothing.
     * The capacity may not go below the places taken: checked under the
     * event's row lock (and by the table's CHECK), so a booking made at the
     * same moment cannot slip past it. Returns 'capacity' when it would.
     */
    async saveEvent(
      id: string | undefined,
      values: Omit<NewEvent, 'id' | 'placesTaken'>,
      agenda: ProgrammeItem[],
      speakers: Speaker[],
    ): Promise<EventRow | 'capacity' | undefined> {
      return db.transaction(async (tx) => {
        let row: EventRow | undefined;
        if (id) {
          const [current] = await tx.select().from(events).where(eq(events.id, id)).for('update');
          if (!current) return undefined;
          if (values.capacity < current.placesTaken) return 'capacity';
          [row] = await tx
            .update(events)
            .set({ ...values, sequence: sql`${events.sequence} + 1`, updatedAt: new Date() })
            .where(eq(events.id, id))
            .returning();
        } else {
          [row] = await tx.insert(events).values(values).returning();
        }
        await writeProgramme(tx, row!.id, agenda, speakers);
        return row;
      });
    },

    /**
     * Book places under the event's row lock: the count of free places read
     * here cannot change until this transaction ends, on any instance.
     */
    async book(
      eventId: string,
      booking: {
        tokenHash: string;
        bookerName: string;
        bookerEmail: string;
        userId?: string | undefined;
        locale: 'en' | 'cy';
      },
      people: NewAttendee[],
      choice: BookChoice,
      now: Date,
    ): Promise<BookOutcome> {
      return db.transaction(async (tx) => {
        const event = await lockEvent(tx, eventId);
        if (!event || event.status !== 'published') return { kind: 'closed' } as const;
        if (
          (event.bookingOpensAt && event.bookingOpensAt > now) ||
          (event.bookingClosesAt && event.bookingClosesAt <= now) ||
          event.startsAt <= now
        ) {
          return { kind: 'closed' } as const;
        }
        const free = Math.max(0, event.capacity - event.placesTaken);
        const n = people.length;
        if (choice === 'all' && free < n)
          return { kind: 'short', free, waitlist: event.waitlistEnabled } as const;
        if (!event.waitlistEnabled && choice !== 'all')
          return { kind: 'short', free, waitlist: false } as const;
        const confirmed = choice === 'waitlist' ? 0 : Math.min(free, n);
        const [b] = await tx
          .insert(bookings)
          .values({ ...booking, eventId })
          .returning({ id: bookings.id });
        await tx.insert(attendees).values(
          people.map((p, i) => ({
            bookingId: b!.id,
            eventId,
            name: p.name,
            email: p.email ?? null,
            accessNeeds: p.accessNeeds ?? null,
            dietaryNeeds: p.dietaryNeeds ?? null,
            status: (i < confirmed ? 'confirmed' : 'waiting') as AttendeeStatus,
          })),
        );
        if (confirmed > 0) {
          await tx
            .update(events)
            .set({ placesTaken: event.placesTaken + confirmed })
            .where(eq(events.id, eventId));
        }
        return { kind: 'booked', bookingId: b!.id, confirmed, waiting: n - confirmed } as const;
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

    /** Cancel some (or all) of a booking's places; freed places are offered to the waiting list. */
    async cancel(
      bookingId: string,
      attendeeIds: string[] | 'all',
      now: Date,
    ): Promise<{ cancelled: number; offered: Offered[] }> {
      return db.transaction(async (tx) => {
        const [b] = await tx.select().from(bookings).where(eq(bookings.id, bookingId));
        if (!b) return { cancelled: 0, offered: [] };
        const event = (await lockEvent(tx, b.eventId))!;
        const current = await tx
          .select({ id: attendees.id, status: attendees.status })
          .from(attendees)
          .where(
            and(
              eq(attendees.bookingId, bookingId),
              ne(attendees.status, 'cancelled'),
              attendeeIds === 'all' ? undefined : inArray(attendees.id, attendeeIds),
            ),
          );
        if (current.length === 0) return { cancelled: 0, offered: [] };
        const held = current.filter(
          (a) => a.status === 'confirmed' || a.status === 'offered',
        ).length;
        await tx
          .update(attendees)
          .set({ status: 'cancelled', offerExpiresAt: null })
          .where(
            inArray(
              attendees.id,
              current.map((c) => c.id),
            ),
          );
        const taken = event.placesTaken - held;
        await tx.update(events).set({ placesTaken: taken }).where(eq(events.id, event.id));
        return { cancelled: current.length, offered: await offerNext(tx, event, taken, now) };
      });
    },

    /** Offers not taken in time lapse; their places go to the next in line. */
    async expireOffers(now: Date): Promise<{
      expired: { bookingId: string; name: string; email: string | null }[];
      offered: Offered[];
    }> {
      const due = await db
        .selectDistinct({ eventId: attendees.eventId })
        .from(attendees)
        .where(and(eq(attendees.status, 'offered'), lt(attendees.offerExpiresAt, now)));
      const out = {
        expired: [] as { bookingId: string; name: string; email: string | null }[],
        offered: [] as Offered[],
      };
      for (const { eventId } of due) {
        await db.transaction(async (tx) => {
          const event = (await lockEvent(tx, eventId))!;
          const expired = await tx
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
          const taken = event.placesTaken - expired.length;
          await tx.update(events).set({ placesTaken: taken }).where(eq(events.id, eventId));
          out.expired.push(...expired);
          out.offered.push(...(await offerNext(tx, event, taken, now)));
        });
      }
      return out;
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
      const [row] = await db
        .update(events)
        .set({ status, sequence: sql`${events.sequence} + 1`, updatedAt: new Date() })
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
      await db.transaction(async (tx) => {
        const ids = (
          await tx.select({ id: bookings.id }).from(bookings).where(eq(bookings.userId, userId))
        ).map((r) => r.id);
        if (!ids.length) return;
        await tx
          .update(attendees)
          .set({ name: 'Former member', email: null, accessNeeds: null, dietaryNeeds: null })
          .where(inArray(attendees.bookingId, ids));
        await tx
          .update(bookings)
          .set({ bookerName: 'Former member', bookerEmail: 'removed@invalid', userId: null })
          .where(inArray(bookings.id, ids));
      });
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
