import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  check,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { users } from '../accounts/schema.ts';

export const EVENT_MODES = ['online', 'in_person', 'hybrid'] as const;
export type EventMode = (typeof EVENT_MODES)[number];
export const EVENT_STATUSES = ['draft', 'published', 'postponed', 'cancelled'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];
export const ATTENDEE_STATUSES = ['confirmed', 'offered', 'waiting', 'cancelled'] as const;
export type AttendeeStatus = (typeof ATTENDEE_STATUSES)[number];

/**
 * An event. `places_taken` counts confirmed places and places held by an
 * open waiting-list offer; it only changes inside a transaction that holds
 * the event's row lock, and a CHECK keeps it within capacity, so no
 * interleaving of requests on any number of instances can oversell.
 */
export const events = pgTable(
  'events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    slug: text('slug').notNull(),
    title: text('title').notNull(),
    summary: text('summary').notNull(),
    body: text('body').notNull().default(''),
    startsAt: timestamp('starts_at', { withTimezone: true }).notNull(),
    endsAt: timestamp('ends_at', { withTimezone: true }).notNull(),
    mode: text('mode', { enum: EVENT_MODES }).notNull(),
    venueName: text('venue_name'),
    venueAddress: text('venue_address'),
    /** Shown only to confirmed attendees. */
    joiningLink: text('joining_link'),
    audience: text('audience'),
    capacity: integer('capacity').notNull(),
    placesTaken: integer('places_taken').notNull().default(0),
    bookingOpensAt: timestamp('booking_opens_at', { withTimezone: true }),
    bookingClosesAt: timestamp('booking_closes_at', { withTimezone: true }),
    maxPerBooking: integer('max_per_booking').notNull().default(4),
    waitlistEnabled: boolean('waitlist_enabled').notNull().default(true),
    offerHours: integer('offer_hours').notNull().default(48),
    organiserName: text('organiser_name').notNull(),
    organiserEmail: text('organiser_email').notNull(),
    status: text('status', { enum: EVENT_STATUSES }).notNull().default('draft'),
    recordingUrl: text('recording_url'),
    slidesUrl: text('slides_url'),
    isDemo: boolean('is_demo').notNull().default(false),
    sequence: integer('sequence').notNull().default(0),
    reminderSentAt: timestamp('reminder_sent_at', { withTimezone: true }),
    /**
     * When it was published (first made public from a draft; set by the repository, cleared
     * if it goes back to draft; postponing and publishing again keep it). The digest's "new".
     */
    publishedAt: timestamp('published_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('events_slug_key').on(t.slug),
    index('events_starts_idx').on(t.status, t.startsAt),
    index('events_published_idx').on(t.publishedAt),
    check(
      'events_places_within_capacity',
      sql`${t.placesTaken} >= 0 AND ${t.placesTaken} <= ${t.capacity}`,
    ),
  ],
);

export const eventAgendaItems = pgTable(
  'event_agenda_items',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    eventId: uuid('event_id')
      .notNull()
      .references(() => events.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    time: text('time').notNull(),
    title: text('title').notNull(),
    speakers: text('speakers'),
  },
  (t) => [index('event_agenda_event_idx').on(t.eventId, t.position)],
);

export const eventSpeakers = pgTable(
  'event_speakers',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    eventId: uuid('event_id')
      .notNull()
      .references(() => events.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    name: text('name').notNull(),
    role: text('role'),
    bio: text('bio'),
  },
  (t) => [index('event_speakers_event_idx').on(t.eventId, t.position)],
);

/** Members an editor names as organisers of one event. */
export const eventOrganisers = pgTable(
  'event_organisers',
  {
    eventId: uuid('event_id')
      .notNull()
      .references(() => events.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.eventId, t.userId] })],
);

/** One booking: the booker and the manage link (only its hash is stored). */
export const bookings = pgTable(
  'bookings',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    eventId: uuid('event_id')
      .notNull()
      .references(() => events.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull(),
    bookerName: text('booker_name').notNull(),
    bookerEmail: text('booker_email').notNull(),
    userId: uuid('user_id'),
    /** The language the booking was made in: its emails use it. */
    locale: text('locale', { enum: ['en', 'cy'] })
      .notNull()
      .default('en'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('bookings_token_key').on(t.tokenHash),
    index('bookings_event_idx').on(t.eventId),
  ],
);

/** A place for one person: confirmed, offered (held until `offer_expires_at`), waiting, or cancelled. */
export const attendees = pgTable(
  'attendees',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    bookingId: uuid('booking_id')
      .notNull()
      .references(() => bookings.id, { onDelete: 'cascade' }),
    eventId: uuid('event_id')
      .notNull()
      .references(() => events.id, { onDelete: 'cascade' }),
    /** Order of joining the waiting list (and of booking). */
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    name: text('name').notNull(),
    email: text('email'),
    accessNeeds: text('access_needs'),
    dietaryNeeds: text('dietary_needs'),
    status: text('status', { enum: ATTENDEE_STATUSES }).notNull(),
    offerExpiresAt: timestamp('offer_expires_at', { withTimezone: true }),
    /** Hash of the link sent with a waiting-list offer; it opens the booking like the booker's own link. */
    offerTokenHash: text('offer_token_hash'),
    checkedInAt: timestamp('checked_in_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('attendees_booking_idx').on(t.bookingId),
    index('attendees_waiting_idx').on(t.eventId, t.status, t.seq),
    index('attendees_offer_idx').on(t.status, t.offerExpiresAt),
    uniqueIndex('attendees_offer_token_key').on(t.offerTokenHash),
  ],
);
