import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { formatDate, formatTime, londonInstant, londonParts } from '../../platform/dates.ts';
import { echoValues, errorsFrom, type FormErrors, text } from '../../platform/forms.ts';
import type { EventRow } from './repository.ts';
import { EVENT_MODES, EVENT_STATUSES, type EventMode, type EventStatus } from './schema.ts';
import type { EventInput, EventProblem, EventsService } from './service.ts';

/** Editors' pages for events: list, create, edit, name organisers. HTTP only. */

const V = 'events/views';
const idParam = z.object({ id: z.uuid() });
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const URL_OK = (v: string) => {
  if (!URL.canParse(v) || v.length > 500) return false;
  return new URL(v).protocol === 'https:';
};

/** A date (day, month, year fields) and a time field, in London, as an instant. */
function readWhen(
  body: Record<string, unknown>,
  name: string,
  required: boolean,
  problems: EventProblem[],
): Date | undefined {
  const [d, m, y] = ['day', 'month', 'year'].map((p) => text(body[`${name}-${p}`]));
  const time = text(body[`${name}-time`]);
  if (!d && !m && !y && !time) {
    if (required) problems.push({ field: name, key: `events.admin.errors.${name}Required` });
    return undefined;
  }
  const t = /^(\d{1,2})[:.](\d{2})$/.exec(time ?? '');
  const ok = [d, m, y].every((v) => v && /^\d{1,4}$/.test(v)) && t;
  const when = ok
    ? londonInstant(Number(y), Number(m), Number(d), Number(t[1]), Number(t[2]))
    : undefined;
  if (!when) problems.push({ field: name, key: 'events.admin.errors.when' });
  return when;
}

/** "HH:MM | Title | Speakers" and "Name | Role | Bio" lines. */
function lines(v: unknown): string[][] {
  return (typeof v === 'string' ? v : '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => l.split('|').map((c) => c.trim()));
}

export function readEventForm(body: Record<string, unknown>): {
  input: EventInput;
  problems: EventProblem[];
} {
  const problems: EventProblem[] = [];
  const need = (field: string, max: number): string => {
    const v = text(body[field]) ?? '';
    if (!v) problems.push({ field, key: `events.admin.errors.${field}Required` });
    else if (v.length > max)
      problems.push({ field, key: 'events.admin.errors.tooLong', vars: { max } });
    return v;
  };
  const optional = (field: string, max: number): string | undefined => {
    const v = text(body[field]);
    if (v && v.length > max)
      problems.push({ field, key: 'events.admin.errors.tooLong', vars: { max } });
    return v;
  };
  const whole = (field: string, min: number, max: number, fallback?: number): number => {
    const v = text(body[field]);
    if (!v && fallback !== undefined) return fallback;
    if (!v || !/^\d{1,6}$/.test(v) || Number(v) < min || Number(v) > max) {
      problems.push({ field, key: `events.admin.errors.${field}`, vars: { min, max } });
      return fallback ?? min;
    }
    return Number(v);
  };
  const title = need('title', 200);
  const slug = optional('slug', 100);
  const summary = need('summary', 600);
  const bodyText = typeof body.body === 'string' ? body.body.trim() : '';
  if (bodyText.length > 20_000)
    problems.push({ field: 'body', key: 'events.admin.errors.tooLong', vars: { max: 20000 } });
  const startsAt = readWhen(body, 'starts', true, problems);
  const endsAt = readWhen(body, 'ends', true, problems);
  if (startsAt && endsAt && endsAt <= startsAt)
    problems.push({ field: 'ends', key: 'events.admin.errors.endsBeforeStart' });
  const modeText = text(body.mode);
  const mode = (EVENT_MODES as readonly string[]).includes(modeText ?? '')
    ? (modeText as EventMode)
    : undefined;
  if (!mode) problems.push({ field: 'mode', key: 'events.admin.errors.modeRequired' });
  const venueName = optional('venueName', 200);
  const venueAddress = optional('venueAddress', 500);
  if (mode && mode !== 'online' && !venueName)
    problems.push({ field: 'venueName', key: 'events.admin.errors.venueNameRequired' });
  const joiningLink = optional('joiningLink', 500);
  if (mode && mode !== 'in_person' && !joiningLink)
    problems.push({ field: 'joiningLink', key: 'events.admin.errors.joiningLinkRequired' });
  else if (joiningLink && !URL_OK(joiningLink))
    problems.push({ field: 'joiningLink', key: 'events.admin.errors.url' });
  const audience = optional('audience', 300);
  const capacity = whole('capacity', 1, 100_000);
  const maxPerBooking = whole('maxPerBooking', 1, 20, 4);
  const offerHours = whole('offerHours', 1, 336, 48);
  const bookingOpensAt = readWhen(body, 'opens', false, problems);
  const bookingClosesAt = readWhen(body, 'closes', false, problems);
  if (bookingOpensAt && bookingClosesAt && bookingClosesAt <= bookingOpensAt)
    problems.push({ field: 'closes', key: 'events.admin.errors.closesBeforeOpens' });
  const organiserName = need('organiserName', 200);
  const organiserEmail = need('organiserEmail', 254);
  if (organiserEmail && !EMAIL.test(organiserEmail))
    problems.push({ field: 'organiserEmail', key: 'events.admin.errors.email' });
  const statusText = text(body.status);
  const status = (EVENT_STATUSES as readonly string[]).includes(statusText ?? '')
    ? (statusText as EventStatus)
    : 'draft';
  const statusMessage = optional('statusMessage', 2000);
  const recordingUrl = optional('recordingUrl', 500);
  const slidesUrl = optional('slidesUrl', 500);
  for (const [field, v] of [
    ['recordingUrl', recordingUrl],
    ['slidesUrl', slidesUrl],
  ] as const)
    if (v && !URL_OK(v) && !/^\/resources\/[a-z0-9-]+$/.test(v))
      problems.push({ field, key: 'events.admin.errors.urlOrResource' });
  const agenda = lines(body.agenda).map(([time = '', title = '', speakers]) => ({
    time,
    title,
    ...(speakers ? { speakers } : {}),
  }));
  if (agenda.some((a) => !a.time || !a.title || a.time.length > 20 || a.title.length > 300))
    problems.push({ field: 'agenda', key: 'events.admin.errors.agenda' });
  const speakers = lines(body.speakers).map(([name = '', role, bio]) => ({
    name,
    ...(role ? { role } : {}),
    ...(bio ? { bio } : {}),
  }));
  if (speakers.some((s) => !s.name || s.name.length > 200 || (s.bio?.length ?? 0) > 1000))
    problems.push({ field: 'speakers', key: 'events.admin.errors.speakers' });
  return {
    input: {
      title,
      slug,
      summary,
      body: bodyText,
      startsAt: startsAt ?? new Date(0),
      endsAt: endsAt ?? new Date(0),
      mode: mode ?? 'online',
      venueName,
      venueAddress,
      joiningLink,
      audience,
      capacity,
      maxPerBooking,
      waitlistEnabled: text(body.waitlistEnabled) !== 'no',
      offerHours,
      bookingOpensAt,
      bookingClosesAt,
      organiserName,
      organiserEmail,
      status,
      statusMessage,
      recordingUrl,
      slidesUrl,
      agenda,
      speakers,
    },
    problems,
  };
}

function whenValues(name: string, date: Date | null): Record<string, string> {
  if (!date) return {};
  const p = londonParts(date);
  return {
    [`${name}-day`]: String(p.day),
    [`${name}-month`]: String(p.month),
    [`${name}-year`]: String(p.year),
    [`${name}-time`]: `${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`,
  };
}

function valuesOf(
  e: EventRow,
  agenda: { time: string; title: string; speakers: string | null }[],
  speakers: { name: string; role: string | null; bio: string | null }[],
): Record<string, unknown> {
  return {
    title: e.title,
    slug: e.slug,
    summary: e.summary,
    body: e.body,
    ...whenValues('starts', e.startsAt),
    ...whenValues('ends', e.endsAt),
    ...whenValues('opens', e.bookingOpensAt),
    ...whenValues('closes', e.bookingClosesAt),
    mode: e.mode,
    venueName: e.venueName ?? '',
    venueAddress: e.venueAddress ?? '',
    joiningLink: e.joiningLink ?? '',
    audience: e.audience ?? '',
    capacity: String(e.capacity),
    maxPerBooking: String(e.maxPerBooking),
    waitlistEnabled: e.waitlistEnabled ? 'yes' : 'no',
    offerHours: String(e.offerHours),
    organiserName: e.organiserName,
    organiserEmail: e.organiserEmail,
    status: e.status,
    recordingUrl: e.recordingUrl ?? '',
    slidesUrl: e.slidesUrl ?? '',
    agenda: agenda.map((a) => [a.time, a.title, a.speakers].filter(Boolean).join(' | ')).join('\n'),
    speakers: speakers
      .map((s) => [s.name, s.role ?? '', s.bio ?? ''].join(' | ').replace(/( \| )+$/, ''))
      .join('\n'),
  };
}

const notices = z.object({
  saved: z
    .enum(['created', 'updated', 'organiser-added', 'organiser-removed'])
    .optional()
    .catch(undefined),
  told: z.coerce.number().int().min(0).optional().catch(undefined),
});

export function eventsAdminRoutes(events: EventsService): FastifyPluginAsync {
  return async (app) => {
    const editor = { access: 'editor' as const };

    app.get('/admin/events', { config: editor }, async (req, reply) => {
      const page = z.coerce
        .number()
        .int()
        .min(1)
        .max(1000)
        .catch(1)
        .parse((req.query as { page?: unknown }).page);
      const { rows, total } = await events.adminList(req.user, page, 50);
      const pages = Math.max(1, Math.ceil(total / 50));
      return reply.render(`${V}/admin-list.njk`, {
        title: req.t('events.admin.title'),
        noindex: true,
        rows: rows.map((e) => ({
          ...e,
          starts: `${formatDate(e.startsAt, req.locale)}, ${formatTime(e.startsAt, req.locale)}`,
          statusName: req.t(`events.admin.statuses.${e.status}`),
        })),
        pagination: {
          pages,
          previous: page > 1 ? { href: `/admin/events?page=${page - 1}` } : undefined,
          next: page < pages ? { href: `/admin/events?page=${page + 1}` } : undefined,
        },
      });
    });

    const editPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      id: string | undefined,
      extra: {
        errors?: FormErrors;
        values?: Record<string, unknown>;
        organiserEmail?: string;
        status?: number;
      } = {},
    ) => {
      const found = id ? await events.forEditing(req.user, id) : undefined;
      if (id && !found) return reply.callNotFound();
      const values =
        extra.values ??
        (found
          ? valuesOf(found.event, found.agenda, found.speakers)
          : { waitlistEnabled: 'yes', maxPerBooking: '4', offerHours: '48', status: 'draft' });
      return reply.render(
        `${V}/admin-edit.njk`,
        {
          title: found
            ? req.t('events.admin.editTitle', { title: found.event.title })
            : req.t('events.admin.newTitle'),
          noindex: true,
          event: found?.event,
          statusName: found ? req.t(`events.admin.statuses.${found.event.status}`) : undefined,
          organisers: found?.organisers ?? [],
          counts: found?.counts,
          values,
          errors: extra.errors,
          organiserEmail: extra.organiserEmail,
          ...notices.parse(req.query ?? {}),
        },
        extra.status ?? 200,
      );
    };
    const save = async (req: FastifyRequest, reply: FastifyReply, id: string | undefined) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const { input, problems } = readEventForm(body);
      const result = problems.length
        ? { ok: false as const, problems }
        : await events.saveEvent(req.user, id, input);
      if (!result) return reply.callNotFound();
      if (!result.ok)
        return editPage(req, reply, id, {
          errors: errorsFrom(result.problems, req.t),
          values: echoValues(body),
          status: 400,
        });
      const told = result.told ? `&told=${result.told}` : '';
      return reply.redirect(
        `/admin/events/${result.event.id}/edit?saved=${id ? 'updated' : 'created'}${told}`,
        303,
      );
    };
    app.get('/admin/events/new', { config: editor }, async (req, reply) =>
      editPage(req, reply, undefined),
    );
    app.post('/admin/events/new', { config: editor }, async (req, reply) =>
      save(req, reply, undefined),
    );
    app.get('/admin/events/:id/edit', { config: editor }, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      return p.success ? editPage(req, reply, p.data.id) : reply.callNotFound();
    });
    app.post('/admin/events/:id/edit', { config: editor }, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      return p.success ? save(req, reply, p.data.id) : reply.callNotFound();
    });
    app.post('/admin/events/:id/organisers', { config: editor }, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      const email = text((req.body as Record<string, unknown> | undefined)?.email) ?? '';
      const problem = !email ? 'organiserEmail' : !EMAIL.test(email) ? 'email' : undefined;
      const result = problem ? problem : await events.addOrganiser(req.user, p.data.id, email);
      if (result === undefined) return reply.callNotFound();
      if (result !== 'added') {
        const key =
          result === 'unknown' ? 'events.admin.errors.notAMember' : `events.admin.errors.${result}`;
        return editPage(req, reply, p.data.id, {
          errors: errorsFrom([{ field: 'organiser', key }], req.t),
          organiserEmail: email,
          status: 400,
        });
      }
      return reply.redirect(`/admin/events/${p.data.id}/edit?saved=organiser-added`, 303);
    });
    app.post(
      '/admin/events/:id/organisers/:userId/delete',
      { config: editor },
      async (req, reply) => {
        const p = idParam.extend({ userId: z.uuid() }).safeParse(req.params);
        if (!p.success) return reply.callNotFound();
        if (!(await events.removeOrganiser(req.user, p.data.id, p.data.userId)))
          return reply.callNotFound();
        return reply.redirect(`/admin/events/${p.data.id}/edit?saved=organiser-removed`, 303);
      },
    );
  };
}
