import { createHash, randomBytes } from 'node:crypto';
import { AccessDenied, type AuditLog, type CurrentUser } from '../../platform/auth.ts';
import { formatDate, formatRange, formatTime } from '../../platform/dates.ts';
import type { I18n, Locale } from '../../platform/i18n/index.ts';
import type { JobQueue } from '../../platform/jobs/index.ts';
import type { Mailer } from '../../platform/mail.ts';
import { createLimits, emailKey, type Limits } from '../../platform/rate-limit.ts';
import {
  noSearchChanges,
  type SearchChanged,
  type SearchDocument,
  type SearchSource,
} from '../../platform/search.ts';
import { icsFor } from '../../platform/calendar.ts';
import { SLUG_PATTERN, slugify } from '../../platform/slug.ts';
import type { Database, Tx } from '../../db/client.ts';
import {
  type EventRow,
  type EventSearchRow,
  type EventsQueries,
  type EventsRepository,
  type NewAttendee,
  type NewBooking,
  UUID_PATTERN,
} from './repository.ts';
import type { EventMode, EventStatus } from './schema.ts';

/**
 * The rules of events and booking: capacity (never oversold), the waiting
 * list and its offers, cancellation, what to send and who may see what. Each
 * change is one unit of work (`transaction`): the event's row is locked, the
 * rules decide, the repository writes, and the emails it causes are queued in
 * the same transaction — they go exactly when the change commits. `now` is
 * injected so tests can move the clock.
 */

export type Availability =
  | { state: 'open'; placesLeft: number }
  | { state: 'full'; waitlist: boolean }
  | { state: 'notYetOpen'; opensAt: Date }
  | { state: 'closed' | 'past' | 'cancelled' | 'postponed' };

export interface BookingInput {
  bookerName: string;
  bookerEmail: string;
  attendees: NewAttendee[];
  choice: BookChoice;
  locale: Locale;
  userId?: string | undefined;
}

/** 'all': everyone or nobody; 'split': the free places, the rest waiting; 'waitlist': everyone waiting. */
export type BookChoice = 'all' | 'split' | 'waitlist';

/** Why a booking was refused (nothing is written). */
export type Refusal =
  | { reason: 'unavailable' | 'cancelled' | 'postponed' | 'closed' | 'started' }
  | { reason: 'notYetOpen'; opensAt: Date }
  | { reason: 'tooMany'; max: number }
  | { reason: 'none' };

export type BookOutcome =
  | { kind: 'booked'; bookingId: string; confirmed: number; waiting: number; token: string }
  | { kind: 'short'; free: number; waitlist: boolean }
  | ({ kind: 'refused' } & Refusal);

/** A place offered to someone waiting: the offer's link token (only its hash is stored). */
export interface Offered {
  token: string;
  attendeeId: string;
  bookingId: string;
  name: string;
  email: string | null;
  expiresAt: Date;
}

export const OFFER_JOB = 'events.expire-offers';
export const REMINDER_JOB = 'events.reminders';
export const PURGE_JOB = 'events.purge-bookings';
/** Booking details (names, needs) are kept for 6 months after the event, as the privacy notice says. */
export const BOOKING_RETENTION_DAYS = 183;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Who may be named an organiser: approved members, found by email (from the accounts service). */
export interface EventPeople {
  memberByEmail(email: string): Promise<{ id: string; displayName: string } | undefined>;
  displayName(id: string): Promise<string | undefined>;
  audit: AuditLog;
}

/** An event as an editor's form gives it (times already London-checked instants). */
export interface EventInput {
  title: string;
  slug?: string | undefined;
  summary: string;
  body: string;
  startsAt: Date;
  endsAt: Date;
  mode: EventMode;
  venueName?: string | undefined;
  venueAddress?: string | undefined;
  joiningLink?: string | undefined;
  audience?: string | undefined;
  capacity: number;
  maxPerBooking: number;
  waitlistEnabled: boolean;
  offerHours: number;
  bookingOpensAt?: Date | undefined;
  bookingClosesAt?: Date | undefined;
  organiserName: string;
  organiserEmail: string;
  status: EventStatus;
  /** Emailed to everyone booked or waiting when this save postpones or cancels the event. */
  statusMessage?: string | undefined;
  recordingUrl?: string | undefined;
  slidesUrl?: string | undefined;
  agenda: { time: string; title: string; speakers?: string | undefined }[];
  speakers: { name: string; role?: string | undefined; bio?: string | undefined }[];
}

export interface EventProblem {
  field: string;
  key: string;
  vars?: Record<string, string | number>;
}

export interface EventsDeps {
  people?: EventPeople;
  repo: EventsRepository;
  /** The platform's unit of work (`database.transaction`). */
  transaction: Database['transaction'];
  mailer: Mailer;
  jobs: JobQueue;
  i18n: I18n;
  baseUrl: string;
  /** Attempt counters (the platform's); a private in-memory set by default. */
  limits?: Limits;
  now?: () => Date;
  /** Tells the site search what changed, after it commits (none by default). */
  searchChanged?: SearchChanged;
}

/** The site search's name for events. */
export const SEARCH_SOURCE = 'events';

/**
 * Bookings per email address and event: a person books once, perhaps
 * changes their mind a few times; a script filling an event with one
 * address is stopped. A crowd (many addresses, one network) is not.
 */
export const BOOKINGS_PER_ADDRESS_AND_EVENT_PER_HOUR = 6;
/** Booking emails to one address (as booker or attendee, any event); past that, not sent. */
export const BOOKING_EMAILS_PER_RECIPIENT_PER_HOUR = 20;

export function availability(event: EventRow, now: Date): Availability {
  if (event.status === 'cancelled') return { state: 'cancelled' };
  if (event.status === 'postponed') return { state: 'postponed' };
  if (event.endsAt <= now || event.startsAt <= now) return { state: 'past' };
  if (event.bookingOpensAt && event.bookingOpensAt > now)
    return { state: 'notYetOpen', opensAt: event.bookingOpensAt };
  if (event.bookingClosesAt && event.bookingClosesAt <= now) return { state: 'closed' };
  const placesLeft = Math.max(0, event.capacity - event.placesTaken);
  return placesLeft > 0
    ? { state: 'open', placesLeft }
    : { state: 'full', waitlist: event.waitlistEnabled };
}

/**
 * Why this event cannot take this booking now, if it cannot: read under the
 * event's lock, so it is still true when the booking is written.
 */
export function refusal(event: EventRow, places: number, now: Date): Refusal | undefined {
  if (event.status === 'cancelled') return { reason: 'cancelled' };
  if (event.status === 'postponed') return { reason: 'postponed' };
  if (event.status !== 'published') return { reason: 'unavailable' };
  if (event.startsAt <= now || event.endsAt <= now) return { reason: 'started' };
  if (event.bookingOpensAt && event.bookingOpensAt > now)
    return { reason: 'notYetOpen', opensAt: event.bookingOpensAt };
  if (event.bookingClosesAt && event.bookingClosesAt <= now) return { reason: 'closed' };
  if (places < 1) return { reason: 'none' };
  if (places > event.maxPerBooking) return { reason: 'tooMany', max: event.maxPerBooking };
  return undefined;
}

function requireEditor(actor: CurrentUser | undefined): asserts actor is CurrentUser {
  if (!actor || (actor.role !== 'editor' && actor.role !== 'admin'))
    throw new AccessDenied('Editors only');
}

export function createEventsService(deps: EventsDeps) {
  const { repo, mailer, i18n, baseUrl, transaction } = deps;
  const now = deps.now ?? (() => new Date());
  const limits = deps.limits ?? createLimits({ secret: randomBytes(32).toString('base64url') });
  const bookingLimit = limits.define('booking', [
    { points: BOOKINGS_PER_ADDRESS_AND_EVENT_PER_HOUR, seconds: 3600 },
  ]);
  const recipientLimit = limits.define('booking-email', [
    { points: BOOKING_EMAILS_PER_RECIPIENT_PER_HOUR, seconds: 3600 },
  ]);

  const searchChanged = deps.searchChanged ?? noSearchChanges;
  /** After a commit: the search looks at this event again. Never lets the search fail a change. */
  const tellSearch = (id: string) => {
    try {
      searchChanged(SEARCH_SOURCE, [id]);
    } catch {
      // The index catches up through changedSince.
    }
  };

  const eventUrl = (e: EventRow) => `${baseUrl}/events/${e.slug}`;
  const calendarFor = (e: EventRow, includeJoiningLink: boolean) =>
    icsFor([
      {
        uid: `${e.id}@supporting-parents`,
        title: e.title,
        description: `${e.summary}${includeJoiningLink && e.joiningLink ? `\n\nJoin online: ${e.joiningLink}` : ''}\n\n${eventUrl(e)}`,
        start: e.startsAt,
        end: e.endsAt,
        ...(e.venueName
          ? { location: [e.venueName, e.venueAddress].filter(Boolean).join(', ') }
          : {}),
        url: eventUrl(e),
        status:
          e.status === 'cancelled'
            ? 'CANCELLED'
            : e.status === 'postponed'
              ? 'TENTATIVE'
              : 'CONFIRMED',
        organizer: { name: e.organiserName, email: e.organiserEmail },
        sequence: e.sequence,
      },
    ]);

  /** Queue an email inside the unit of work `tx` that causes it. */
  async function mail(
    tx: Tx,
    to: string,
    locale: Locale,
    key: string,
    vars: Record<string, string>,
    event?: EventRow,
    withCalendar = false,
  ) {
    const t = i18n.translator(locale);
    await mailer.send(
      {
        to,
        subject: t(`events.emails.${key}.subject`, vars),
        text: `${t(`events.emails.${key}.body`, vars)}\n\n${t('events.emails.footer', vars)}\n`,
        ...(withCalendar && event
          ? {
              attachments: [
                {
                  filename: `${event.slug}.ics`,
                  content: calendarFor(event, true),
                  contentType: 'text/calendar; charset=utf-8; method=PUBLISH',
                },
              ],
            }
          : {}),
      },
      { tx },
    );
  }

  const varsFor = (e: EventRow, locale: Locale) => ({
    title: e.title,
    when: formatRange(e.startsAt, e.endsAt, locale),
    link: eventUrl(e),
  });

  /**
   * Offer the places free after `placesTaken` to the people waiting longest,
   * each held for the event's offer hours, and email them. Inside the unit of
   * work that freed the places, holding the event's lock.
   */
  async function offerFreedPlaces(
    tx: Tx,
    r: EventsQueries,
    event: EventRow,
    placesTaken: number,
  ): Promise<Offered[]> {
    const free = event.capacity - placesTaken;
    if (free <= 0 || event.status !== 'published') return [];
    const next = await r.waitingInOrder(event.id, free);
    if (next.length === 0) return [];
    const expiresAt = new Date(now().getTime() + event.offerHours * 3600_000);
    const offered: Offered[] = [];
    for (const attendeeId of next) {
      const token = randomBytes(32).toString('base64url');
      const row = await r.offerPlace(attendeeId, expiresAt, sha256(token));
      offered.push({ ...row, token, expiresAt });
    }
    await r.setPlacesTaken(event.id, placesTaken + offered.length);
    await sendOffers(tx, r, offered);
    return offered;
  }

  async function sendOffers(tx: Tx, r: EventsQueries, offered: Offered[]) {
    for (const o of offered) {
      const booking = await r.bookerOf(o.bookingId);
      const event = booking && (await r.eventById(booking.eventId));
      if (!booking || !event) continue;
      const locale = booking.locale;
      const vars = {
        ...varsFor(event, locale),
        name: o.name,
        expires: `${formatDate(o.expiresAt, locale)}, ${formatTime(o.expiresAt, locale)}`,
      };
      await mail(tx, booking.bookerEmail, locale, 'offer', {
        ...vars,
        manage: `${baseUrl}/bookings/${o.token}`,
      });
      if (o.email && o.email.toLowerCase() !== booking.bookerEmail.toLowerCase())
        await mail(tx, o.email, locale, 'offerAttendee', vars);
    }
  }

  /** Everyone booked or waiting hears that the event is cancelled or postponed, with an updated calendar entry. */
  async function tellEveryone(
    tx: Tx,
    updated: EventRow,
    status: 'cancelled' | 'postponed',
    message: string,
  ): Promise<number> {
    const to = await repo.in(tx).recipients(updated.id, ['confirmed', 'offered', 'waiting']);
    for (const r of to) {
      await mail(
        tx,
        r.email,
        r.locale,
        status === 'cancelled' ? 'eventCancelled' : 'eventPostponed',
        { ...varsFor(updated, r.locale), message },
        updated,
        true,
      );
    }
    return to.length;
  }

  /**
   * Cancel some (or all) of a booking's places under the event's lock; the
   * places they held are offered to the waiting list (and those offers
   * emailed) in the same unit of work.
   */
  async function cancelPlaces(
    tx: Tx,
    bookingId: string,
    attendeeIds: string[] | 'all',
  ): Promise<{ cancelled: number; ids: string[]; names: string[]; offered: Offered[] }> {
    const r = repo.in(tx);
    const booking = await r.bookerOf(bookingId);
    const event = booking && (await r.lockEvent(booking.eventId));
    if (!event) return { cancelled: 0, ids: [], names: [], offered: [] };
    const current = await r.activeAttendees(bookingId, attendeeIds);
    if (current.length === 0) return { cancelled: 0, ids: [], names: [], offered: [] };
    const held = current.filter((a) => a.status === 'confirmed' || a.status === 'offered').length;
    await r.cancelAttendees(current.map((c) => c.id));
    const taken = event.placesTaken - held;
    await r.setPlacesTaken(event.id, taken);
    return {
      cancelled: current.length,
      ids: current.map((c) => c.id),
      names: current.map((c) => c.name),
      offered: await offerFreedPlaces(tx, r, event, taken),
    };
  }

  const service = {
    now,
    availability: (e: EventRow) => availability(e, now()),

    async list(opts: {
      upcoming: boolean;
      mode?: EventMode | undefined;
      page: number;
      pageSize: number;
    }) {
      return repo.listEvents({
        upcoming: opts.upcoming,
        mode: opts.mode,
        now: now(),
        limit: opts.pageSize,
        offset: (opts.page - 1) * opts.pageSize,
      });
    },

    /**
     * New events for the newsletter's digest: published after `from`, up to `until` (by when
     * they were published, not drafted), still published (not cancelled or postponed) and not
     * over yet. All of them: the window is the bound.
     */
    async publishedBetween(
      from: Date,
      until: Date,
    ): Promise<{ slug: string; title: string; summary: string; publishedAt: Date }[]> {
      const rows = await repo.publishedBetween(from, until, now());
      return rows.map((e) => ({
        slug: e.slug,
        title: e.title,
        summary: e.summary,
        publishedAt: e.publishedAt!,
      }));
    },

    /** A public event (drafts are for organisers only). */
    async publicEvent(slug: string) {
      const event = await repo.eventBySlug(slug);
      if (!event || event.status === 'draft') return undefined;
      const programme = await repo.programme(event.id);
      return { event, ...programme, availability: availability(event, now()) };
    },

    /**
     * Book places, all in one unit of work under the event's row lock: the
     * rules (open, not started, places per booking, capacity, the waiting
     * list) are checked against the locked row, so however many requests
     * arrive at once, on however many instances, exactly the free places are
     * confirmed; the confirmation emails are queued in the same transaction.
     */
    async book(slug: string, input: BookingInput): Promise<BookOutcome> {
      const found = await repo.eventBySlug(slug);
      if (!found) return { kind: 'refused', reason: 'unavailable' };
      // TooMany (429) past the bookings one address may make for this event.
      await bookingLimit.consume(`${emailKey(input.bookerEmail)}\u0000${found.id}`);
      const token = randomBytes(32).toString('base64url');
      return transaction(async (tx) => {
        const r = repo.in(tx);
        const event = await r.lockEvent(found.id);
        if (!event) return { kind: 'refused', reason: 'unavailable' } as const;
        const n = input.attendees.length;
        const refused = refusal(event, n, now());
        if (refused) return { kind: 'refused', ...refused };
        const free = Math.max(0, event.capacity - event.placesTaken);
        if (input.choice === 'all' && free < n)
          return { kind: 'short', free, waitlist: event.waitlistEnabled } as const;
        if (!event.waitlistEnabled && input.choice !== 'all')
          return { kind: 'short', free, waitlist: false } as const;
        const confirmed = input.choice === 'waitlist' ? 0 : Math.min(free, n);
        const booking: NewBooking = {
          tokenHash: sha256(token),
          bookerName: input.bookerName,
          bookerEmail: input.bookerEmail,
          userId: input.userId,
          locale: input.locale,
        };
        const bookingId = await r.insertBooking(
          event.id,
          booking,
          input.attendees.map((a, i) => ({
            ...a,
            status: i < confirmed ? ('confirmed' as const) : ('waiting' as const),
          })),
        );
        const placesTaken = event.placesTaken + confirmed;
        if (confirmed > 0) await r.setPlacesTaken(event.id, placesTaken);
        const fresh = { ...event, placesTaken };
        const manage = `${baseUrl}/bookings/${token}`;
        const confirmedNames = input.attendees.slice(0, confirmed).map((a) => a.name);
        const waitingNames = input.attendees.slice(confirmed).map((a) => a.name);
        const t = i18n.translator(input.locale);
        // Nobody confirmed: the email says they are waiting, not booked.
        if ((await recipientLimit.take(emailKey(input.bookerEmail))).ok)
          await mail(
            tx,
            input.bookerEmail,
            input.locale,
            confirmed > 0 ? 'booked' : 'waitlisted',
            {
              ...varsFor(fresh, input.locale),
              manage,
              confirmed: confirmedNames.length
                ? confirmedNames.join(', ')
                : t('events.emails.none'),
              waiting: waitingNames.length ? waitingNames.join(', ') : t('events.emails.none'),
            },
            fresh,
            confirmed > 0,
          );
        for (const [i, a] of input.attendees.entries()) {
          if (!a.email || a.email.toLowerCase() === input.bookerEmail.toLowerCase()) continue;
          if (!(await recipientLimit.take(emailKey(a.email))).ok) continue;
          const key = i < confirmed ? 'attendeeConfirmed' : 'attendeeWaiting';
          await mail(
            tx,
            a.email,
            input.locale,
            key,
            { ...varsFor(fresh, input.locale), name: a.name, booker: input.bookerName },
            fresh,
            i < confirmed,
          );
        }
        return { kind: 'booked', bookingId, confirmed, waiting: n - confirmed, token } as const;
      });
    },

    async booking(token: string) {
      if (token.length > 100) return undefined;
      const found = await repo.bookingByTokenHash(sha256(token));
      if (!found) return undefined;
      const { event, people } = found;
      const anyConfirmed = people.some((p) => p.status === 'confirmed');
      return {
        ...found,
        availability: availability(event, now()),
        /** The joining link goes only to people with a confirmed place. */
        joiningLink: anyConfirmed && event.status === 'published' ? event.joiningLink : null,
        editable:
          availability(event, now()).state !== 'past' &&
          !(event.bookingClosesAt && event.bookingClosesAt <= now()),
      };
    },

    async cancel(token: string, attendeeIds: string[] | 'all') {
      const found = await repo.bookingByTokenHash(sha256(token));
      if (!found) return undefined;
      return transaction(async (tx) => {
        const result = await cancelPlaces(tx, found.booking.id, attendeeIds);
        if (result.cancelled > 0) {
          // Who is cancelled, whether anyone is left, and the link to the booking.
          const left = found.people.filter(
            (p) => p.status !== 'cancelled' && !result.ids.includes(p.id),
          ).length;
          await mail(
            tx,
            found.booking.bookerEmail,
            found.booking.locale,
            left > 0 ? 'cancelledSome' : 'cancelled',
            {
              ...varsFor(found.event, found.booking.locale),
              count: String(result.cancelled),
              names: result.names.join(', '),
              manage: `${baseUrl}/bookings/${token}`,
            },
          );
        }
        return result;
      });
    },

    async acceptOffer(token: string, attendeeId: string) {
      const found = await repo.bookingByTokenHash(sha256(token));
      if (!found) return false;
      return transaction(async (tx) => {
        // The offer already holds the place: accepting changes no count, only
        // an offer still open can be taken.
        const ok = await repo.in(tx).acceptOffer(found.booking.id, attendeeId, now());
        if (ok) {
          const person = found.people.find((p) => p.id === attendeeId)!;
          await mail(
            tx,
            found.booking.bookerEmail,
            found.booking.locale,
            'offerAccepted',
            { ...varsFor(found.event, found.booking.locale), name: person.name },
            found.event,
            true,
          );
        }
        return ok;
      });
    },

    async updateAttendee(
      token: string,
      attendeeId: string,
      patch: {
        name: string;
        email?: string | undefined;
        accessNeeds?: string | undefined;
        dietaryNeeds?: string | undefined;
      },
    ) {
      const found = await service.booking(token);
      if (!found || !found.editable) return false;
      return transaction(async (tx) => {
        const ok = await repo.in(tx).updateAttendee(found.booking.id, attendeeId, {
          name: patch.name,
          email: patch.email ?? null,
          accessNeeds: patch.accessNeeds ?? null,
          dietaryNeeds: patch.dietaryNeeds ?? null,
        });
        if (ok)
          await mail(tx, found.booking.bookerEmail, found.booking.locale, 'changed', {
            ...varsFor(found.event, found.booking.locale),
            name: patch.name,
          });
        return ok;
      });
    },

    /** Offers not taken in time lapse and their places go to the next in line: one unit of work per event. */
    async expireOffers() {
      let expired = 0;
      let offered = 0;
      for (const eventId of await repo.eventsWithLapsedOffers(now())) {
        await transaction(async (tx) => {
          const r = repo.in(tx);
          const event = await r.lockEvent(eventId);
          if (!event) return;
          const lapsed = await r.lapseOffers(eventId, now());
          const taken = event.placesTaken - lapsed.length;
          await r.setPlacesTaken(eventId, taken);
          for (const e of lapsed) {
            const booking = await r.bookerOf(e.bookingId);
            if (booking)
              await mail(tx, booking.bookerEmail, booking.locale, 'offerExpired', {
                ...varsFor(event, booking.locale),
                name: e.name,
              });
          }
          expired += lapsed.length;
          offered += (await offerFreedPlaces(tx, r, event, taken)).length;
        });
      }
      return { expired, offered };
    },

    /** The public calendar file: never the joining link. */
    async calendar(slug: string): Promise<string | undefined> {
      const event = await repo.eventBySlug(slug);
      return event && event.status !== 'draft' ? calendarFor(event, false) : undefined;
    },

    async canOrganise(actor: CurrentUser | undefined, event: EventRow): Promise<boolean> {
      if (!actor) return false;
      if (actor.role === 'editor' || actor.role === 'admin') return true;
      return repo.isOrganiser(event.id, actor.id);
    },

    async counts(eventId: string) {
      return repo.counts(eventId);
    },

    /** For the accounts feature: a member's bookings in their data export, and cancelled when they leave. */
    personalData: {
      name: 'eventBookings',
      async export(userId: string) {
        const rows = await repo.bookingsOfUser(userId);
        return Promise.all(
          rows.map(async (r) => ({
            event: r.title,
            startsAt: r.startsAt,
            bookerName: r.booking.bookerName,
            bookerEmail: r.booking.bookerEmail,
            bookedAt: r.booking.createdAt,
          })),
        );
      },
      async erase(userId: string) {
        await transaction(async (tx) => {
          const r = repo.in(tx);
          for (const b of await r.bookingsOfUser(userId))
            await cancelPlaces(tx, b.booking.id, 'all');
          await r.eraseBookingsOfUser(userId);
        });
      },
    },

    // Editors: create and change events, name organisers.
    async adminList(actor: CurrentUser | undefined, page: number, pageSize: number) {
      requireEditor(actor);
      return repo.allEvents(pageSize, (page - 1) * pageSize);
    },
    async forEditing(actor: CurrentUser | undefined, id: string) {
      requireEditor(actor);
      const event = await repo.eventById(id);
      if (!event) return undefined;
      const [programme, organiserIds, counts] = await Promise.all([
        repo.programme(id),
        repo.organiserIds(id),
        repo.counts(id),
      ]);
      const organisers = await Promise.all(
        organiserIds.map(async (userId) => ({
          userId,
          displayName: (await deps.people?.displayName(userId)) ?? '',
        })),
      );
      return { event, ...programme, organisers, counts };
    },
    /**
     * Save an editor's event; the rules that need the database are checked
     * here. Postponing or cancelling an event people have booked emails every
     * one of them, as the organiser page does (the same `tellEveryone`); an
     * event with bookings cannot go back to draft.
     */
    async saveEvent(
      actor: CurrentUser | undefined,
      id: string | undefined,
      input: EventInput,
    ): Promise<
      | { ok: true; event: EventRow; told: number }
      | { ok: false; problems: EventProblem[] }
      | undefined
    > {
      requireEditor(actor);
      const problems: EventProblem[] = [];
      const current = id ? await repo.eventById(id) : undefined;
      if (id && !current) return undefined;
      const slug = input.slug ?? slugify(input.title, 'event');
      if (!SLUG_PATTERN.test(slug) || slug.length > 100)
        problems.push({ field: 'slug', key: 'events.admin.errors.slugFormat' });
      else if (await repo.slugTaken(slug, id))
        problems.push({
          field: input.slug ? 'slug' : 'title',
          key: input.slug ? 'events.admin.errors.slugTaken' : 'events.admin.errors.titleTaken',
        });
      const telling =
        (input.status === 'cancelled' || input.status === 'postponed') &&
        input.status !== (current?.status ?? 'draft');
      if (!current && telling)
        problems.push({ field: 'status', key: 'events.admin.errors.statusNew' });
      if (current) {
        const c = await repo.counts(current.id);
        const people = c.confirmed + c.offered + c.waiting;
        if (input.status === 'draft' && current.status !== 'draft' && people > 0)
          problems.push({ field: 'status', key: 'events.admin.errors.draftWithBookings' });
        if (telling && people > 0 && !input.statusMessage)
          problems.push({ field: 'statusMessage', key: 'events.admin.errors.statusMessage' });
      }
      if (problems.length) return { ok: false, problems };
      const { agenda, speakers, slug: _s, statusMessage: _m, ...fields } = input;
      const values = {
        ...fields,
        slug,
        venueName: input.mode === 'online' ? null : (input.venueName ?? null),
        venueAddress: input.mode === 'online' ? null : (input.venueAddress ?? null),
        joiningLink: input.mode === 'in_person' ? null : (input.joiningLink ?? null),
        audience: input.audience ?? null,
        bookingOpensAt: input.bookingOpensAt ?? null,
        bookingClosesAt: input.bookingClosesAt ?? null,
        recordingUrl: input.recordingUrl ?? null,
        slidesUrl: input.slidesUrl ?? null,
      };
      // The event, its programme and the emails a cancellation or postponement
      // causes: one unit of work. The capacity may not go below the places
      // taken — checked under the event's row lock (and by the table's CHECK),
      // so a booking made at the same moment cannot slip past it.
      const saved = await transaction(
        async (tx): Promise<{ row: EventRow; told: number } | { capacity: number } | undefined> => {
          const r = repo.in(tx);
          let row: EventRow | undefined;
          if (id) {
            const locked = await r.lockEvent(id);
            if (!locked) return undefined;
            if (values.capacity < locked.placesTaken) return { capacity: locked.placesTaken };
            row = await r.updateEvent(id, values);
          } else {
            row = await r.insertEvent(values);
          }
          if (!row) return undefined;
          await r.replaceProgramme(row.id, agenda, speakers);
          const told =
            telling && (row.status === 'cancelled' || row.status === 'postponed')
              ? await tellEveryone(tx, row, row.status, input.statusMessage ?? '')
              : 0;
          return { row, told };
        },
      );
      if (saved === undefined) return undefined;
      if ('capacity' in saved)
        return {
          ok: false,
          problems: [
            {
              field: 'capacity',
              key: 'events.admin.errors.capacityTaken',
              vars: { taken: saved.capacity },
            },
          ],
        };
      tellSearch(saved.row.id);
      await deps.people?.audit(id ? 'event.updated' : 'event.created', {
        actorId: actor.id,
        detail: {
          event: saved.row.id,
          status: saved.row.status,
          ...(current && current.status !== saved.row.status ? { was: current.status } : {}),
        },
      });
      return { ok: true, event: saved.row, told: saved.told };
    },
    async addOrganiser(
      actor: CurrentUser | undefined,
      eventId: string,
      email: string,
    ): Promise<'added' | 'unknown' | undefined> {
      requireEditor(actor);
      if (!(await repo.eventById(eventId))) return undefined;
      const member = await deps.people?.memberByEmail(email);
      if (!member) return 'unknown';
      await repo.addOrganiser(eventId, member.id);
      await deps.people?.audit('event.organiser-added', {
        actorId: actor.id,
        subjectId: member.id,
        detail: { event: eventId, user: member.id },
      });
      return 'added';
    },
    async removeOrganiser(
      actor: CurrentUser | undefined,
      eventId: string,
      userId: string,
    ): Promise<boolean> {
      requireEditor(actor);
      if (!(await repo.eventById(eventId))) return false;
      await repo.removeOrganiser(eventId, userId);
      await deps.people?.audit('event.organiser-removed', {
        actorId: actor.id,
        subjectId: userId,
        detail: { event: eventId, user: userId },
      });
      return true;
    },

    // Organisers: editors and admins, and members an editor names for the event.
    async organiserView(actor: CurrentUser | undefined, slug: string) {
      const event = await repo.eventBySlug(slug);
      if (!event) return undefined;
      if (!(await service.canOrganise(actor, event)))
        throw new AccessDenied('Not an organiser of this event');
      const people = await repo.attendeesOf(event.id);
      return { event, people, counts: await repo.counts(event.id) };
    },
    async checkIn(
      actor: CurrentUser | undefined,
      slug: string,
      attendeeId: string,
      checkedIn: boolean,
    ) {
      const view = await service.organiserView(actor, slug);
      return view ? repo.setCheckIn(view.event.id, attendeeId, checkedIn, now()) : false;
    },
    /** A message to every attendee with a place (through the queue). */
    async emailAttendees(
      actor: CurrentUser | undefined,
      slug: string,
      subject: string,
      message: string,
    ): Promise<number> {
      const view = await service.organiserView(actor, slug);
      if (!view) return 0;
      // All the messages or none.
      return transaction(async (tx) => {
        const to = await repo.in(tx).recipients(view.event.id, ['confirmed', 'offered']);
        for (const r of to) {
          await mailer.send(
            {
              to: r.email,
              subject: `${view.event.title}: ${subject}`,
              text: `${message}

${eventUrl(view.event)}
`,
            },
            { tx },
          );
        }
        return to.length;
      });
    },
    /** Cancel or postpone an event: everyone booked or waiting is emailed, with an updated calendar entry. */
    async changeStatus(
      actor: CurrentUser | undefined,
      slug: string,
      status: 'cancelled' | 'postponed',
      message: string,
    ): Promise<number> {
      const view = await service.organiserView(actor, slug);
      if (!view) return 0;
      const { updated, told } = await transaction(async (tx) => {
        const updated = (await repo.in(tx).setStatus(view.event.id, status))!;
        return { updated, told: await tellEveryone(tx, updated, status, message) };
      });
      tellSearch(updated.id);
      await deps.people?.audit(`event.${status}`, {
        actorId: actor?.id ?? null,
        detail: { event: updated.id },
      });
      return told;
    },
    /**
     * The site search's view of events: published and postponed ones, past
     * ones too (the date is the start, so the search can filter by it); not
     * drafts or cancelled ones. Every event page is public.
     */
    searchSource(): SearchSource {
      const en = i18n.translator('en');
      const cy = i18n.translator('cy');
      const doc = (e: EventSearchRow): SearchDocument => ({
        id: e.id,
        kind: 'event',
        typeLabel: en(`events.searchType.${e.mode}`),
        typeLabelCy: cy(`events.searchType.${e.mode}`),
        url: `/events/${e.slug}`,
        language: 'en',
        title: e.title,
        summary: e.summary,
        body: [
          e.body,
          [e.venueName, e.venueAddress].filter(Boolean).join(', '),
          e.speakers.map((s) => [s.name, s.role].filter(Boolean).join(', ')).join('; '),
          e.agenda.join('; '),
          e.audience,
          e.organiserName,
        ]
          .filter(Boolean)
          .join('\n'),
        date: e.startsAt,
        access: 'public',
        updatedAt: e.updatedAt,
      });
      return {
        name: SEARCH_SOURCE,
        kinds: ['event'],
        async documents({ after, ids, limit }) {
          if (limit <= 0) return [];
          const rows = await repo.searchEvents({
            after,
            ids: ids?.filter((i) => UUID_PATTERN.test(i)),
            limit,
          });
          return rows.map(doc);
        },
        async openable(ids) {
          // Every findable event's page is public: who is asking does not matter.
          return new Set(await repo.findableIds(ids.filter((i) => UUID_PATTERN.test(i))));
        },
        changedSince: (since, limit) => repo.changedSince(since, limit),
      };
    },
    /** The day before: a reminder with the calendar entry (and joining link) to everyone with a place. */
    async sendReminders(): Promise<number> {
      const t0 = now();
      let sent = 0;
      for (const event of await repo.dueReminders(
        new Date(t0.getTime() + 12 * 3600_000),
        new Date(t0.getTime() + 36 * 3600_000),
      )) {
        // The claim and its reminders commit together: claimed means sent.
        sent += await transaction(async (tx) => {
          const q = repo.in(tx);
          if (!(await q.claimReminder(event.id, t0))) return 0;
          const to = await q.recipients(event.id, ['confirmed']);
          for (const r of to) {
            await mail(
              tx,
              r.email,
              r.locale,
              'reminder',
              { ...varsFor(event, r.locale), joining: event.joiningLink ?? '' },
              event,
              true,
            );
          }
          return to.length;
        });
      }
      return sent;
    },
  };

  deps.jobs.register(OFFER_JOB, async () => {
    await service.expireOffers();
  });
  deps.jobs.register(PURGE_JOB, async () => {
    await repo.purgeBookingsBefore(
      new Date(now().getTime() - BOOKING_RETENTION_DAYS * 24 * 3600_000),
    );
  });
  deps.jobs.register(REMINDER_JOB, async () => {
    await service.sendReminders();
  });
  return service;
}

export type EventsService = ReturnType<typeof createEventsService>;
