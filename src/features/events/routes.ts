import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { formatDate, formatRange, formatTime } from '../../platform/dates.ts';
import { atomFeed } from '../../platform/feeds.ts';
import { spreadsheetCell } from '../../platform/spreadsheet.ts';
import { echoValues, errorsFrom, fieldError, type FormErrors, text } from '../../platform/forms.ts';
import { TooMany, waitText } from '../../platform/rate-limit.ts';
import { csvStringify } from '../../platform/csv.ts';
import { withFields } from '../../platform/objects.ts';
import type { EventRow } from './repository.ts';
import { EVENT_MODES } from './schema.ts';
import type { EventsService, Refusal } from './service.ts';

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

/** An agenda time written "10am" or "1:30 pm", in the page's language. */
export function agendaTime(time: string, locale: 'en' | 'cy'): string {
  if (locale !== 'cy') return time;
  return time.replace(
    /\b(\d{1,2}(?:[:.]\d{2})?)\s?([ap])\.?m\.?\b/gi,
    (_m, t: string, ap: string) => `${t}${ap.toLowerCase() === 'a' ? 'yb' : 'yh'}`,
  );
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

const requiredText = (key: string, max: number) =>
  z.string(key).trim().min(1, key).max(max, 'events.errors.tooLong');
const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, 'events.errors.tooLong')
    .optional()
    .transform((v) => v || undefined);
const emailText = (requiredKey: string) =>
  requiredText(requiredKey, 254).pipe(z.email('events.errors.emailFormat'));
const optionalEmail = optionalText(254).pipe(z.email('events.errors.emailFormat').optional());

/** One person on a booking (the form's attendee_N_* fields). */
const attendeeSchema = (inPerson: boolean) =>
  z.object({
    name: requiredText('events.errors.attendeeName', 100),
    email: optionalEmail,
    accessNeeds: optionalText(500),
    dietaryNeeds: inPerson ? optionalText(500) : z.unknown().transform(() => undefined),
  });

const bookingSchema = (inPerson: boolean) =>
  z.object({
    bookerName: requiredText('events.errors.bookerName', 100),
    bookerEmail: emailText('events.errors.bookerEmail'),
    attendees: z.array(attendeeSchema(inPerson)),
    choice: z.enum(['all', 'split', 'waitlist']).optional().catch(undefined),
  });

/** The form's name for a path in the booking schema: attendees[2].name is attendee_2_name. */
const ATTENDEE_FIELDS: Record<string, string> = {
  name: 'name',
  email: 'email',
  accessNeeds: 'access',
  dietaryNeeds: 'dietary',
};

/**
 * The booking form, parsed with zod: fixed fields plus attendee_N_* for each
 * of `places` people. Problems come back as GOV.UK errors on the fields typed.
 */
function parseBookingForm(
  body: Record<string, unknown>,
  places: number,
  inPerson: boolean,
  t: (key: string, vars?: Record<string, string | number>) => string,
):
  | { ok: true; data: z.infer<ReturnType<typeof bookingSchema>> }
  | { ok: false; errors: FormErrors } {
  const attendees = Array.from({ length: places }, (_v, i) => ({
    name: body[`attendee_${i}_name`],
    email: body[`attendee_${i}_email`],
    accessNeeds: body[`attendee_${i}_access`],
    dietaryNeeds: body[`attendee_${i}_dietary`],
  }));
  const parsed = bookingSchema(inPerson).safeParse({ ...body, attendees });
  if (parsed.success) return { ok: true, data: parsed.data };
  const problems = parsed.error.issues.map((issue) => {
    const [first, i, field] = issue.path;
    if (first === 'attendees' && typeof i === 'number')
      return {
        field: `attendee_${i}_${ATTENDEE_FIELDS[String(field)] ?? 'name'}`,
        key: issue.message,
        vars: { n: i + 1 },
      };
    return { field: String(first ?? 'form'), key: issue.message };
  });
  return { ok: false, errors: errorsFrom(problems, t) };
}

/** The GOV.UK message for a booking the service refused. */
function refusalError(
  refused: Refusal,
  t: (key: string, vars?: Record<string, string | number>) => string,
  locale: 'en' | 'cy',
): FormErrors {
  const vars: Record<string, string | number> | undefined =
    refused.reason === 'tooMany'
      ? { count: refused.max }
      : refused.reason === 'notYetOpen'
        ? {
            opens: `${formatDate(refused.opensAt, locale)}, ${formatTime(refused.opensAt, locale)}`,
          }
        : undefined;
  return errorsFrom(
    [
      {
        field: refused.reason === 'tooMany' || refused.reason === 'none' ? 'places' : 'booking',
        key: `events.errors.refused.${refused.reason}`,
        ...(vars ? { vars } : {}),
      },
    ],
    t,
  );
}

export function eventsRoutes(events: EventsService, opts: { baseUrl: string }): FastifyPluginAsync {
  return async (app) => {
    const pub = { access: 'public' as const };

    // Not page-cached: the list and an event's page say how many places are
    // left, which must be true the moment after a booking, on every instance.
    app.get('/events', { config: pub }, async (req, reply) => {
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
        events: rows.map((e) =>
          withFields(present(e, req.locale), { availability: events.availability(e) }),
        ),
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

    app.get('/events/:slug', { config: pub }, async (req, reply) => {
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
        // Agenda times are typed as text ("10am", "1:30pm"): in Welsh, "10yb", "1:30yh".
        agenda: found.agenda.map((a) => ({ ...a, time: agendaTime(a.time, req.locale) })),
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
        refused?: boolean;
        status?: number;
        /** The field to put the focus in (after "Update the number of people"). */
        focus?: string;
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
          refused: extra.refused,
          focus: extra.focus,
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
      // A ceiling per network address only, and a high one: a launch's rush comes
      // from shared NHS and council addresses. The limit that stops a script is
      // per email address and event, in the service.
      { config: { ...pub, rateLimit: { max: 300, timeWindow: 60_000 } } },
      async (req, reply) => {
        const p = slugParam.safeParse(req.params);
        if (!p.success) return reply.callNotFound();
        const found = await events.publicEvent(p.data.slug);
        if (!found) return reply.callNotFound();
        const body = (req.body ?? {}) as Record<string, unknown>;
        const values = echoValues(body);
        // The number of people: more than one booking allows is the service's
        // refusal, with its message; anything unreadable is one person.
        const places = z.coerce.number().int().min(1).max(50).catch(1).parse(body.places);
        // "Show the boxes for this many people" (works without JavaScript).
        // Focus goes to what changed: the first new person's name, or back to the number.
        if (body.action === 'places') {
          const shown = z.coerce.number().int().min(1).max(50).catch(places).parse(body.shown);
          const now = Math.min(places, found.event.maxPerBooking);
          return bookPage(req, reply, p.data.slug, {
            places,
            values,
            focus: now > shown ? `attendee_${shown}_name` : 'places',
          });
        }
        const max = found.event.maxPerBooking;
        if (places > max)
          return bookPage(req, reply, p.data.slug, {
            places: max,
            values,
            errors: refusalError({ reason: 'tooMany', max }, req.t, req.locale),
            status: 400,
          });
        const form = parseBookingForm(body, places, found.event.mode !== 'online', req.t);
        if (!form.ok)
          return bookPage(req, reply, p.data.slug, {
            places,
            errors: form.errors,
            values,
            status: 400,
          });
        let result;
        try {
          result = await events.book(p.data.slug, {
            ...form.data,
            choice: form.data.choice ?? 'all',
            locale: req.locale,
            userId: req.user?.id,
          });
        } catch (err) {
          if (!(err instanceof TooMany)) throw err;
          reply.header('retry-after', String(err.retryAfterSeconds));
          return bookPage(req, reply, p.data.slug, {
            places,
            values,
            errors: fieldError('bookerEmail', 'events.book.tooOften', req.t, {
              wait: waitText(req.t, err.retryAfterSeconds),
            }),
            status: 429,
          });
        }
        if (result.kind === 'short') {
          const free = result.free;
          return bookPage(req, reply, p.data.slug, {
            places,
            values,
            errors: errorsFrom(
              [
                {
                  field: result.waitlist ? 'choice' : 'places',
                  key: free > 0 ? 'events.book.shortWaitlist' : 'events.book.noneLeft',
                  vars: { count: free },
                },
              ],
              req.t,
            ),
            short: { free, waitlist: result.waitlist },
            status: 409,
          });
        }
        if (result.kind === 'refused') {
          return bookPage(req, reply, p.data.slug, {
            places,
            values,
            errors: refusalError(result, req.t, req.locale),
            refused: true,
            status: 409,
          });
        }
        return reply.redirect(
          `/bookings/${result.token}?done=${result.confirmed > 0 ? 'booked' : 'waitlisted'}`,
          303,
        );
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
      const active = found.people.filter((a) => a.status !== 'cancelled');
      const holding = active.some((a) => a.status === 'confirmed' || a.status === 'offered');
      return reply.render(
        `${V}/booking.njk`,
        {
          // A booking of only waiting people does not read as a confirmed one.
          title: req.t(
            active.length === 0
              ? 'events.manage.titleCancelled'
              : holding
                ? 'events.manage.title'
                : 'events.manage.titleWaiting',
          ),
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
          active: active.length,
          eventCancelled: found.event.status === 'cancelled',
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
    // Cancelling asks first: a page that says what will happen, then the POST.
    const missing = (req: FastifyRequest, reply: FastifyReply) =>
      reply.render(
        `${V}/booking-missing.njk`,
        { title: req.t('events.manage.missing.title'), noindex: true },
        404,
      );
    const confirmPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      token: string,
      attendeeId?: string,
    ) => {
      const found = await events.booking(token);
      if (!found || !found.editable) return missing(req, reply);
      const active = found.people.filter((a) => a.status !== 'cancelled');
      const person = attendeeId ? active.find((a) => a.id === attendeeId) : undefined;
      if ((attendeeId && !person) || active.length === 0) return missing(req, reply);
      return reply.render(`${V}/cancel.njk`, {
        title: person
          ? req.t('events.manage.confirm.titleOne', { name: person.name })
          : req.t('events.manage.confirm.titleAll'),
        event: present(found.event, req.locale),
        person,
        people: active,
        action: person
          ? `/bookings/${token}/attendees/${person.id}/cancel`
          : `/bookings/${token}/cancel`,
        back: `/bookings/${token}`,
        noindex: true,
      });
    };
    app.get('/bookings/:token/cancel', { config: pub }, async (req, reply) => {
      const p = tokenParam.safeParse(req.params);
      if (!p.success) return missing(req, reply);
      return confirmPage(req, reply, p.data.token);
    });
    app.get('/bookings/:token/attendees/:id/cancel', { config: pub }, async (req, reply) => {
      const p = attendeeParams.safeParse(req.params);
      if (!p.success) return missing(req, reply);
      return confirmPage(req, reply, p.data.token, p.data.id);
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
        const t = req.t;
        const csv = csvStringify().stringify([
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
