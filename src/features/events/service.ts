import { createHash, randomBytes } from 'node:crypto';
import { AccessDenied, type AuditLog, type CurrentUser } from '../../platform/auth.ts';
import { formatDate, formatRange, formatTime } from '../../platform/dates.ts';
import type { I18n, Locale } from '../../platform/i18n/index.ts';
import type { JobQueue } from '../../platform/jobs/index.ts';
import type { Mailer } from '../../platform/mail.ts';
import { icsFor } from '../../platform/calendar.ts';
import { SLUG_PATTERN, slugify } from '../../platform/slug.ts';
import type { BookChoice, EventRow, EventsRepository, NewAttendee, Offered } from './repository.ts';
import type { EventMode, EventStatus } from './schema.ts';

/**
 * The rules of events and booking. Capacity is guarded by the database (see
 * the repository's `book`); this decides what to offer, what to send and who
 * may see what. `now` is injected so tests can move the clock.
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
  mailer: Mailer;
  jobs: JobQueue;
  i18n: I18n;
  baseUrl: string;
  now?: () => Date;
}

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

function requireEditor(actor: CurrentUser | undefined): asserts actor is CurrentUser {
  if (!actor || (actor.role !== 'editor' && actor.role !== 'admin'))
    throw new AccessDenied('Editors only');
}

export function createEventsService(deps: EventsDeps) {
  const { repo, mailer, i18n, baseUrl } = deps;
  const now = deps.now ?? (() => new Date());

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

  async function mail(
    to: string,
    locale: Locale,
    key: string,
    vars: Record<string, string>,
    event?: EventRow,
    withCalendar = false,
  ) {
    const t = i18n.translator(locale);
    await mailer.send({
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
    });
  }

  const varsFor = (e: EventRow, locale: Locale) => ({
    title: e.title,
    when: formatRange(e.startsAt, e.endsAt, locale),
    link: eventUrl(e),
  });

  async function sendOffers(offered: Offered[]) {
    for (const o of offered) {
      const booking = await repo.bookerOf(o.bookingId);
      const event = booking && (await repo.eventById(booking.eventId));
      if (!booking || !event) continue;
      const locale = booking.locale;
      const vars = {
        ...varsFor(event, locale),
        name: o.name,
        expires: `${formatDate(o.expiresAt, locale)}, ${formatTime(o.expiresAt, locale)}`,
      };
      await mail(booking.bookerEmail, locale, 'offer', {
        ...vars,
        manage: `${baseUrl}/bookings/${o.token}`,
      });
      if (o.email && o.email.toLowerCase() !== booking.bookerEmail.toLowerCase())
        await mail(o.email, locale, 'offerAttendee', vars);
    }
  }

  /** Everyone booked or waiting hears that the event is cancelled or postponed, with an updated calendar entry. */
  async function tellEveryone(
    updated: EventRow,
    status: 'cancelled' | 'postponed',
    message: string,
  ): Promise<number> {
    const to = await repo.recipients(updated.id, ['confirmed', 'offered', 'waiting']);
    for (const r of to) {
      await mail(
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

    /** A public event (drafts are for organisers only). */
    async publicEvent(slug: string) {
      const event = await repo.eventBySlug(slug);
      if (!event || event.status === 'draft') return undefined;
      const programme = await repo.programme(event.id);
      return { event, ...programme, availability: availability(event, now()) };
    },

    async book(slug: string, input: BookingInput) {
      const event = await repo.eventBySlug(slug);
      if (!event || event.status === 'draft') return { kind: 'closed' as const };
      if (input.attendees.length < 1 || input.attendees.length > event.maxPerBooking)
        return { kind: 'closed' as const };
      const token = randomBytes(32).toString('base64url');
      const outcome = await repo.book(
        event.id,
        {
          tokenHash: sha256(token),
          bookerName: input.bookerName,
          bookerEmail: input.bookerEmail,
          userId: input.userId,
          locale: input.locale,
        },
        input.attendees,
        input.choice,
        now(),
      );
      if (outcome.kind !== 'booked') return outcome;
      const fresh = (await repo.eventById(event.id))!;
      const manage = `${baseUrl}/bookings/${token}`;
      const confirmedNames = input.attendees.slice(0, outcome.confirmed).map((a) => a.name);
      const waitingNames = input.attendees.slice(outcome.confirmed).map((a) => a.name);
      const t = i18n.translator(input.locale);
      await mail(
        input.bookerEmail,
        input.locale,
        'booked',
        {
          ...varsFor(fresh, input.locale),
          manage,
          confirmed: confirmedNames.length ? confirmedNames.join(', ') : t('events.emails.none'),
          waiting: waitingNames.length ? waitingNames.join(', ') : t('events.emails.none'),
        },
        fresh,
        outcome.confirmed > 0,
      );
      for (const [i, a] of input.attendees.entries()) {
        if (!a.email || a.email.toLowerCase() === input.bookerEmail.toLowerCase()) continue;
        const key = i < outcome.confirmed ? 'attendeeConfirmed' : 'attendeeWaiting';
        await mail(
          a.email,
          input.locale,
          key,
          { ...varsFor(fresh, input.locale), name: a.name, booker: input.bookerName },
          fresh,
          i < outcome.confirmed,
        );
      }
      return { ...outcome, token };
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
      const result = await repo.cancel(found.booking.id, attendeeIds, now());
      if (result.cancelled > 0) {
        await mail(found.booking.bookerEmail, found.booking.locale, 'cancelled', {
          ...varsFor(found.event, found.booking.locale),
          count: String(result.cancelled),
        });
      }
      await sendOffers(result.offered);
      return result;
    },

    async acceptOffer(token: string, attendeeId: string) {
      const found = await repo.bookingByTokenHash(sha256(token));
      if (!found) return false;
      const ok = await repo.acceptOffer(found.booking.id, attendeeId, now());
      if (ok) {
        const person = found.people.find((p) => p.id === attendeeId)!;
        await mail(
          found.booking.bookerEmail,
          found.booking.locale,
          'offerAccepted',
          { ...varsFor(found.event, found.booking.locale), name: person.name },
          found.event,
          true,
        );
      }
      return ok;
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
      const ok = await repo.updateAttendee(found.booking.id, attendeeId, {
        name: patch.name,
        email: patch.email ?? null,
        accessNeeds: patch.accessNeeds ?? null,
        dietaryNeeds: patch.dietaryNeeds ?? null,
      });
      if (ok)
        await mail(found.booking.bookerEmail, found.booking.locale, 'changed', {
          ...varsFor(found.event, found.booking.locale),
          name: patch.name,
        });
      return ok;
    },

    async expireOffers() {
      const { expired, offered } = await repo.expireOffers(now());
      for (const e of expired) {
        const booking = await repo.bookerOf(e.bookingId);
        const event = booking && (await repo.eventById(booking.eventId));
        if (booking && event)
          await mail(booking.bookerEmail, booking.locale, 'offerExpired', {
            ...varsFor(event, booking.locale),
            name: e.name,
          });
      }
      await sendOffers(offered);
      return { expired: expired.length, offered: offered.length };
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
        for (const r of await repo.bookingsOfUser(userId)) {
          const result = await repo.cancel(r.booking.id, 'all', now());
          await sendOffers(result.offered);
        }
        await repo.eraseBookingsOfUser(userId);
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
      const saved = await repo.saveEvent(id, values, agenda, speakers);
      if (saved === undefined) return undefined;
      if (saved === 'capacity') {
        const fresh = await repo.eventById(id!);
        return {
          ok: false,
          problems: [
            {
              field: 'capacity',
              key: 'events.admin.errors.capacityTaken',
              vars: { taken: fresh?.placesTaken ?? 0 },
            },
          ],
        };
      }
      await deps.people?.audit(id ? 'event.updated' : 'event.created', {
        actorId: actor.id,
        detail: {
          event: saved.id,
          status: saved.status,
          ...(current && current.status !== saved.status ? { was: current.status } : {}),
        },
      });
      const told =
        telling && (saved.status === 'cancelled' || saved.status === 'postponed')
          ? await tellEveryone(saved, saved.status, input.statusMessage ?? '')
          : 0;
      return { ok: true, event: saved, told };
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
      const to = await repo.recipients(view.event.id, ['confirmed', 'offered']);
      for (const r of to) {
        await mailer.send({
          to: r.email,
          subject: `${view.event.title}: ${subject}`,
          text: `${message}

${eventUrl(view.event)}
`,
        });
      }
      return to.length;
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
      const updated = (await repo.setStatus(view.event.id, status))!;
      await deps.people?.audit(`event.${status}`, {
        actorId: actor?.id ?? null,
        detail: { event: updated.id },
      });
      return tellEveryone(updated, status, message);
    },
    /** The day before: a reminder with the calendar entry (and joining link) to everyone with a place. */
    async sendReminders(): Promise<number> {
      const t0 = now();
      let sent = 0;
      for (const event of await repo.dueReminders(
        new Date(t0.getTime() + 12 * 3600_000),
        new Date(t0.getTime() + 36 * 3600_000),
      )) {
        if (!(await repo.claimReminder(event.id, t0))) continue;
        for (const r of await repo.recipients(event.id, ['confirmed'])) {
          await mail(
            r.email,
            r.locale,
            'reminder',
            { ...varsFor(event, r.locale), joining: event.joiningLink ?? '' },
            event,
            true,
          );
          sent++;
        }
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
