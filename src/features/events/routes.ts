import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { formatDate, formatRange, formatTime } from '../../platform/dates.ts';
import { atomFeed } from '../../platform/feeds.ts';
import { spreadsheetCell } from '../../platform/spreadsheet.ts';
import { errorsFrom, type FormErrors, text } from '../../platform/forms.ts';
import type { EventRow, NewAttendee } from './repository.ts';
import { EVENT_MODES } from './schema.ts';
import type { EventsService } from './service.ts';

/** HTTP only: parse with zod, call the events service, render. */

const V = 'events/views';
const PAGE_SIZE = 20;
const slugParam = z.object({ slug: z.string().regex(/^[a-z0-9-]{1,120}$/) });
const tokenParam = z.object({ token: z.string().min(20).max(100) });
const attendeeParams = tokenParam.extend({ id: z.uuid() });
const listQuery = z.object({
  when: z.enum(['upcoming', 'past']).catch('upcoming'),
  mode: z.enum(EVENT_MODES).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(1000).catch(1),
});
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** What a person sees of an event: dates in words, in their language. */
function present(e: EventRow, locale: 'en' | 'cy') {
  return {
    ...e,
    when: formatRange(e.startsAt, e.endsAt, locale),
    date: formatDate(e.startsAt, locale),
    time: formatTime(e.startsAt, locale),
    joiningLink: undefined, // never on public pages
  };
}

function jsonLd(e: EventRow, baseUrl: string): string {
  const attendance = {
    online: 'https://schema.org/OnlineEventAttendanceMode',
    in_person: 'https://schema.org/OfflineEventAttendanceMode',
    hybrid: 'https://schema.org/MixedEventAttendanceMode',
  }[e.mode];
  const status = {
    draft: 'https://schema.org/EventScheduled',
    published: 'https://schema.org/EventScheduled',
    postponed: 'https://schema.org/EventPostponed',
    cancelled: 'https://schema.org/EventCancelled',
  }[e.status];
  const data = {
    '@context': 'https://schema.org',
    '@type': 'Event',
    name: e.title,
    description: e.summary,
    startDate: e.startsAt.toISOString(),
    endDate: e.endsAt.toISOString(),
    eventAttendanceMode: attendance,
    eventStatus: status,
    url: `${baseUrl}/events/${e.slug}`,
    location: [
      ...(e.mode !== 'in_person'
        ? [{ '@type': 'VirtualLocation', url: `${baseUrl}/events/${e.slug}` }]
        : []),
      ...(e.mode !== 'online' && e.venueName
        ? [{ '@type': 'Place', name: e.venueName, address: e.venueAddress ?? '' }]
        : []),
    ],
    organizer: { '@type': 'Organization', name: e.organiserName },
    maximumAttendeeCapacity: e.capacity,
    remainingAttendeeCapacity: Math.max(0, e.capacity - e.placesTaken),
  };
  // Inside <script>: escape "<" so no content can close the element.
  return JSON.stringify(data).replace(/</g, '\\u003c');
}

interface BookingForm {
  bookerName?: string | undefined;
  bookerEmail?: string | undefined;
  attendees: NewAttendee[];
  choice?: 'all' | 'split' | 'waitlist' | undefined;
}

/** The booking form: fixed fields plus attendee_N_* for each place. */
function readBookingForm(
  body: Record<string, unknown>,
  places: number,
  inPerson: boolean,
): {
  form: BookingForm;
  problems: { field: string; key: string; vars?: Record<string, string | number> }[];
} {
  const problems: { field: string; key: string; vars?: Record<string, string | number> }[] = [];
  const bookerName = text(body.bookerName);
  const bookerEmail = text(body.bookerEmail);
  if (!bookerName) problems.push({ field: 'bookerName', key: 'events.errors.bookerName' });
  else if (bookerName.length > 100)
    problems.push({ field: 'bookerName', key: 'events.errors.tooLong' });
  if (!bookerEmail) problems.push({ field: 'bookerEmail', key: 'events.errors.bookerEmail' });
  else if (!EMAIL.test(bookerEmail) || bookerEmail.length > 254)
    problems.push({ field: 'bookerEmail', key: 'events.errors.emailFormat' });
  const attendees: NewAttendee[] = [];
  for (let i = 0; i < places; i++) {
    const name = text(body[`attendee_${i}_name`]);
    const email = text(body[`attendee_${i}_email`]);
    const accessNeeds = text(body[`attendee_${i}_access`]);
    const dietaryNeeds = inPerson ? text(body[`attendee_${i}_dietary`]) : undefined;
    if (!name)
      problems.push({
        field: `attendee_${i}_name`,
        key: 'events.errors.attendeeName',
        vars: { n: i + 1 },
      });
    else if (name.length > 100)
      problems.push({ field: `attendee_${i}_name`, key: 'events.errors.tooLong' });
    if (email && (!EMAIL.test(email) || email.length > 254))
      problems.push({ field: `attendee_${i}_email`, key: 'events.errors.emailFormat' });
    for (const [field, v] of [
      [`attendee_${i}_access`, accessNeeds],
      [`attendee_${i}_dietary`, dietaryNeeds],
    ] as const) {
      if (v && v.length > 500) problems.push({ field, key: 'events.errors.tooLong' });
    }
    attendees.push({ name: name ?? '', email, accessNeeds, dietaryNeeds });
  }
  const choice = z
    .enum(['all', 'split', 'waitlist'])
    .optional()
    .catch(undefined)
    .parse(body.choice);
  return { form: { bookerName, bookerEmail, attendees, choice }, problems };
}

export function eventsRoutes(events: EventsService, opts: { baseUrl: string }): FastifyPluginAsync {
  return async (app) => {
    const pub = { access: 'public' as const };

    app.get('/events', { config: { ...pub, pageCache: 10 } }, async (req, reply) => {
      const q = listQuery.parse(req.query);
      const { rows, total } = await events.list({
        upcoming: q.when === 'upcoming',
        mode: q.mode,
        page: q.page,
        pageSize: PAGE_SIZE,
      });
      const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
      const href = (page: number) =>
        `/events?${new URLSearchParams({ when: q.when, ...(q.mode ? { mode: q.mode } : {}), page: String(page) })}`;
      return reply.render(`${V}/list.njk`, {
        title: req.t('events.list.title'),
        query: q,
        events: rows.map((e) => ({
          ...present(e, req.locale),
          availability: events.availability(e),
        })),
        total,
        pagination: {
          pages,
          previous: q.page > 1 ? { href: href(q.page - 1) } : undefined,
          next: q.page < pages ? { href: href(q.page + 1) } : undefined,
        },
        alternateLinks: [
          {
            type: 'application/atom+xml',
            href: '/events/feed.atom',
            title: req.t('events.feed.title'),
          },
        ],
      });
    });

    app.get('/events/feed.atom', { config: { ...pub, a11y: false } }, async (req, reply) => {
      const { rows } = await events.list({ upcoming: true, page: 1, pageSize: 50 });
      const updated = rows.reduce((max, e) => (e.updatedAt > max ? e.updatedAt : max), new Date(0));
      const xml = atomFeed({
        id: `${opts.baseUrl}/events`,
        title: req.t('events.feed.title'),
        selfUrl: `${opts.baseUrl}/events/feed.atom`,
        siteUrl: `${opts.baseUrl}/events`,
        updated: rows.length ? updated : new Date(0),
        language: req.locale,
        entries: rows.map((e) => ({
          id: `${opts.baseUrl}/events/${e.slug}`,
          title: e.title,
          url: `${opts.baseUrl}/events/${e.slug}`,
          summary: `${formatRange(e.startsAt, e.endsAt, req.locale)}. ${e.summary}`,
          updated: e.updatedAt,
          published: e.createdAt,
        })),
      });
      return reply
        .header('content-type', 'application/atom+xml; charset=utf-8')
        .header('cache-control', 'public, max-age=300')
        .send(xml);
    });

    app.get('/events/:slug', { config: { ...pub, pageCache: 5 } }, async (req, reply) => {
      const raw = (req.params as { slug: string }).slug;
      if (raw.endsWith('.ics')) {
        const ics = await events.calendar(raw.slice(0, -4));
        if (!ics) return reply.callNotFound();
        return reply
          .header('content-type', 'text/calendar; charset=utf-8')
          .header('content-disposition', `attachment; filename="${raw}"`)
          .send(ics);
      }
      const p = slugParam.safeParse(req.params);
      const found = p.success ? await events.publicEvent(p.data.slug) : undefined;
      if (!found) return reply.callNotFound();
      return reply.render(`${V}/event.njk`, {
        title: found.event.title,
        description: found.event.summary,
        event: present(found.event, req.locale),
        agenda: found.agenda,
        speakers: found.speakers,
        availability: found.availability,
        jsonLd: jsonLd(found.event, opts.baseUrl),
      });
    });

    const bookPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      slug: string,
      extra: {
        places?: number;
        errors?: FormErrors;
        values?: Record<string, unknown>;
        short?: { free: number; waitlist: boolean };
        status?: number;
      },
    ) => {
      const found = await events.publicEvent(slug);
      if (!found) return reply.callNotFound();
      const max = found.event.maxPerBooking;
      const places = Math.min(Math.max(extra.places ?? 1, 1), max);
      return reply.render(
        `${V}/book.njk`,
        {
          title: req.t('events.book.title', { title: found.event.title }),
          event: present(found.event, req.locale),
          availability: found.availability,
          places,
          placeOptions: Array.from({ length: max }, (_v, i) => ({
            value: String(i + 1),
            text: String(i + 1),
            selected: i + 1 === places,
          })),
          inPerson: found.event.mode !== 'online',
          errors: extra.errors,
          values: extra.values ?? {},
          short: extra.short,
          noindex: true,
        },
        extra.status ?? 200,
      );
    };

    app.get('/events/:slug/book', { config: pub }, async (req, reply) => {
      const p = slugParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      const places = z.coerce
        .number()
        .int()
        .min(1)
        .max(50)
        .catch(1)
        .parse((req.query as { places?: string }).places);
      return bookPage(req, reply, p.data.slug, { places });
    });

    app.post(
      '/events/:slug/book',
      { config: { ...pub, rateLimit: { max: 20, timeWindow: 60_000 } } },
      async (req, reply) => {
        const p = slugParam.safeParse(req.params);
        if (!p.success) return reply.callNotFound();
        const found = await events.publicEvent(p.data.slug);
        if (!found) return reply.callNotFound();
        const body = (req.body ?? {}) as Record<string, unknown>;
        const places = z.coerce
          .number()
          .int()
          .min(1)
          .max(found.event.maxPerBooking)
          .catch(1)
          .parse(body.places);
        // "Show the boxes for this many people" (works without JavaScript).
        if (body.action === 'places')
          return bookPage(req, reply, p.data.slug, { places, values: body });
        const { form, problems } = readBookingForm(body, places, found.event.mode !== 'online');
        const values = { ...body, _csrf: undefined };
        if (problems.length)
          return bookPage(req, reply, p.data.slug, {
            places,
            errors: errorsFrom(problems, req.t),
            values,
            status: 400,
          });
        const result = await events.book(p.data.slug, {
          bookerName: form.bookerName!,
          bookerEmail: form.bookerEmail!,
          attendees: form.attendees,
          choice: form.choice ?? 'all',
          locale: req.locale,
          userId: req.user?.id,
        });
        if (result.kind === 'short') {
          return bookPage(req, reply, p.data.slug, {
            places,
            values,
            short: { free: result.free, waitlist: result.waitlist },
            status: 409,
          });
        }
        if (result.kind === 'closed') {
          return reply.render(
            `${V}/closed.njk`,
            {
              title: req.t('events.closed.title'),
              event: present(found.event, req.locale),
              noindex: true,
            },
            409,
          );
        }
        return reply.redirect(`/bookings/${result.token}?done=booked`, 303);
      },
    );

    // Managing a booking: the link in the booker's email is the key.
    /** The manage page; after a bad edit, shown again with the errors and what was typed. */
    const bookingPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      token: string,
      edit?: { id: string; errors: FormErrors; values: Record<string, unknown> },
    ) => {
      const found = await events.booking(token);
      if (!found)
        return reply.render(
          `${V}/booking-missing.njk`,
          { title: req.t('events.manage.missing.title'), noindex: true },
          404,
        );
      return reply.render(
        `${V}/booking.njk`,
        {
          title: req.t('events.manage.title'),
          event: present(found.event, req.locale),
          booking: found.booking,
          people: found.people.map((a) => ({
            ...a,
            ...(edit?.id === a.id
              ? {
                  name: edit.values.name,
                  email: edit.values.email,
                  accessNeeds: edit.values.access,
                  dietaryNeeds: edit.values.dietary,
                  open: true,
                }
              : {}),
            offerExpires: a.offerExpiresAt
              ? `${formatDate(a.offerExpiresAt, req.locale)}, ${formatTime(a.offerExpiresAt, req.locale)}`
              : undefined,
          })),
          errors: edit?.errors,
          joiningLink: found.joiningLink,
          editable: found.editable,
          active: found.people.filter((a) => a.status !== 'cancelled').length,
          inPerson: found.event.mode !== 'online',
          action: `/bookings/${token}`,
          done: (req.query as { done?: string }).done,
          noindex: true,
        },
        edit ? 400 : 200,
      );
    };
    app.get('/bookings/:token', { config: pub }, async (req, reply) => {
      const p = tokenParam.safeParse(req.params);
      if (!p.success)
        return reply.render(
          `${V}/booking-missing.njk`,
          { title: req.t('events.manage.missing.title'), noindex: true },
          404,
        );
      return bookingPage(req, reply, p.data.token);
    });
    app.post('/bookings/:token/cancel', { config: pub }, async (req, reply) => {
      const p = tokenParam.safeParse(req.params);
      if (!p.success || !(await events.cancel(p.data.token, 'all'))) return reply.callNotFound();
      return reply.redirect(`/bookings/${p.data.token}?done=cancelled`, 303);
    });
    app.post('/bookings/:token/attendees/:id/cancel', { config: pub }, async (req, reply) => {
      const p = attendeeParams.safeParse(req.params);
      if (!p.success || !(await events.cancel(p.data.token, [p.data.id])))
        return reply.callNotFound();
      return reply.redirect(`/bookings/${p.data.token}?done=cancelled-one`, 303);
    });
    app.post('/bookings/:token/attendees/:id/accept', { config: pub }, async (req, reply) => {
      const p = attendeeParams.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      const ok = await events.acceptOffer(p.data.token, p.data.id);
      return reply.redirect(
        `/bookings/${p.data.token}?done=${ok ? 'accepted' : 'offer-gone'}`,
        303,
      );
    });
    app.post('/bookings/:token/attendees/:id', { config: pub }, async (req, reply) => {
      const p = attendeeParams.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      const body = (req.body ?? {}) as Record<string, unknown>;
      const name = text(body.name);
      const email = text(body.email);
      const problems: { field: string; key: string; vars?: Record<string, string | number> }[] = [];
      if (!name)
        problems.push({ field: `name-${p.data.id}`, key: 'events.errors.attendeeNameEdit' });
      else if (name.length > 100)
        problems.push({ field: `name-${p.data.id}`, key: 'events.errors.tooLong' });
      if (email && (!EMAIL.test(email) || email.length > 254))
        problems.push({ field: `email-${p.data.id}`, key: 'events.errors.emailFormat' });
      for (const f of ['access', 'dietary'] as const) {
        if ((text(body[f])?.length ?? 0) > 500)
          problems.push({ field: `${f}-${p.data.id}`, key: 'events.errors.tooLong' });
      }
      if (problems.length) {
        return bookingPage(req, reply, p.data.token, {
          id: p.data.id,
          errors: errorsFrom(problems, req.t),
          values: body,
        });
      }
      const ok = await events.updateAttendee(p.data.token, p.data.id, {
        name: name!,
        email,
        accessNeeds: text(body.access),
        dietaryNeeds: text(body.dietary),
      });
      return reply.redirect(
        `/bookings/${p.data.token}?done=${ok ? 'changed' : 'not-changed'}`,
        303,
      );
    });
  };
}

const statusForm = z.object({
  status: z.enum(['cancelled', 'postponed'], 'events.errors.statusRequired'),
  message: z
    .string('events.errors.messageRequired')
    .trim()
    .min(1, 'events.errors.messageRequired')
    .max(2000, 'events.errors.tooLong'),
});
const emailForm = z.object({
  subject: z
    .string('events.errors.subjectRequired')
    .trim()
    .min(1, 'events.errors.subjectRequired')
    .max(150, 'events.errors.tooLong'),
  message: z
    .string('events.errors.messageRequired')
    .trim()
    .min(1, 'events.errors.messageRequired')
    .max(5000, 'events.errors.tooLong'),
});

const cell = spreadsheetCell;

/** Organisers: the attendee list with needs, CSV, check-in, email everyone, cancel or postpone. */
export function organiserRoutes(events: EventsService): FastifyPluginAsync {
  return async (app) => {
    const cfg = { config: { access: 'signedIn' as const } };
    const page = async (
      req: FastifyRequest,
      reply: FastifyReply,
      extra: Record<string, unknown> = {},
      status = 200,
    ) => {
      const p = slugParam.safeParse(req.params);
      const view = p.success ? await events.organiserView(req.user, p.data.slug) : undefined;
      if (!view) return reply.callNotFound();
      return reply.render(
        'events/views/attendees.njk',
        {
          title: req.t('events.organise.title'),
          event: present(view.event, req.locale),
          people: view.people,
          counts: view.counts,
          done: (req.query as { done?: string }).done,
          values: {},
          noindex: true,
          ...extra,
        },
        status,
      );
    };
    app.get('/events/:slug/attendees', cfg, async (req, reply) => page(req, reply));
    app.get(
      '/events/:slug/attendees.csv',
      { config: { access: 'signedIn', a11y: false } },
      async (req, reply) => {
        const p = slugParam.safeParse(req.params);
        const view = p.success ? await events.organiserView(req.user, p.data.slug) : undefined;
        if (!view) return reply.callNotFound();
        const { stringify } = await import('csv-stringify/sync');
        const t = req.t;
        const csv = stringify([
          [
            'name',
            'status',
            'email',
            'booked_by',
            'booker_email',
            'access_needs',
            'dietary_needs',
            'checked_in',
          ],
          ...view.people.map((r) => [
            cell(r.attendee.name),
            t(`events.status.${r.attendee.status}`),
            cell(r.attendee.email),
            cell(r.bookerName),
            cell(r.bookerEmail),
            cell(r.attendee.accessNeeds),
            cell(r.attendee.dietaryNeeds),
            r.attendee.checkedInAt ? r.attendee.checkedInAt.toISOString() : '',
          ]),
        ]);
        return reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${view.event.slug}-attendees.csv"`)
          .header('cache-control', 'no-store')
          .send(`\ufeff${csv}`);
      },
    );
    app.post('/events/:slug/attendees/:id/check-in', cfg, async (req, reply) => {
      const p = slugParam.extend({ id: z.uuid() }).safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      const on = (req.body as { checkedIn?: string } | undefined)?.checkedIn === 'yes';
      await events.checkIn(req.user, p.data.slug, p.data.id, on);
      return reply.redirect(
        `/events/${p.data.slug}/attendees?done=${on ? 'checked-in' : 'unchecked'}#attendee-${p.data.id}`,
        303,
      );
    });
    app.post('/events/:slug/email-attendees', cfg, async (req, reply) => {
      const p = slugParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      const form = emailForm.safeParse(req.body ?? {});
      if (!form.success) {
        const errors = errorsFrom(
          form.error.issues.map((i) => ({ field: String(i.path[0]), key: i.message })),
          req.t,
        );
        return page(req, reply, { errors, values: req.body }, 400);
      }
      const n = await events.emailAttendees(
        req.user,
        p.data.slug,
        form.data.subject,
        form.data.message,
      );
      return reply.redirect(`/events/${p.data.slug}/attendees?done=emailed-${n}`, 303);
    });
    app.post('/events/:slug/status', cfg, async (req, reply) => {
      const p = slugParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      const form = statusForm.safeParse(req.body ?? {});
      if (!form.success) {
        const errors = errorsFrom(
          form.error.issues.map((i) => ({
            field: String(i.path[0]) === 'message' ? 'statusMessage' : String(i.path[0]),
            key: i.message,
          })),
          req.t,
        );
        return page(req, reply, { errors, values: req.body }, 400);
      }
      await events.changeStatus(req.user, p.data.slug, form.data.status, form.data.message);
      return reply.redirect(`/events/${p.data.slug}/attendees?done=${form.data.status}`, 303);
    });
  };
}
