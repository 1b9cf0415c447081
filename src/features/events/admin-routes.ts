import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { formatDate, formatTime, londonInstant, londonParts } from '../../platform/dates.ts';
import { echoValues, errorsFrom, type FormErrors, text } from '../../platform/forms.ts';
import type { EventRow } from './repository.ts';
import { EVENT_MODES, EVENT_STATUSES } from './schema.ts';
import type { EventInput, EventProblem, EventsService } from './service.ts';

/** Editors' pages for events: list, create, edit, name organisers. HTTP only. */

const V = 'events/views';
const idParam = z.object({ id: z.uuid() });
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** "HH:MM | Title | Speakers" and "Name | Role | Bio" lines. */
function lines(v: unknown): string[][] {
  return (typeof v === 'string' ? v : '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => l.split('|').map((c) => c.trim()));
}

const E = 'events.admin.errors';
const TOO_LONG = `${E}.tooLong`;
/** Whole-number fields: their range (in the message) and the value when left blank. */
const RANGES = {
  capacity: { min: 1, max: 100_000, blank: undefined },
  maxPerBooking: { min: 1, max: 20, blank: 4 },
  offerHours: { min: 1, max: 336, blank: 48 },
} as const;

const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const required = (field: string, max: number) =>
  z.string(`${E}.${field}Required`).trim().min(1, `${E}.${field}Required`).max(max, TOO_LONG);
const optional = (max: number) =>
  z.preprocess(blankToUndefined, z.string().trim().max(max, TOO_LONG).optional());
const whole = (field: keyof typeof RANGES) => {
  const { min, max, blank } = RANGES[field];
  const key = `${E}.${field}`;
  const n = z
    .string(key)
    .trim()
    .regex(/^\d{1,6}$/, key)
    .transform(Number)
    .pipe(z.number().min(min, key).max(max, key));
  return z.preprocess(blankToUndefined, blank === undefined ? n : n.optional().default(blank));
};
const httpsUrl = (v: string) =>
  URL.canParse(v) && v.length <= 500 && new URL(v).protocol === 'https:';
const urlOrResource = optional(500).refine(
  (v) => !v || httpsUrl(v) || /^\/resources\/[a-z0-9-]+$/.test(v),
  `${E}.urlOrResource`,
);
/** A London date (day, month, year) and time, as an instant; all blank is undefined. */
const when = z
  .object({ day: z.unknown(), month: z.unknown(), year: z.unknown(), time: z.unknown() })
  .transform((w, ctx) => {
    const [d, m, y, time] = [w.day, w.month, w.year, w.time].map(text);
    if (!d && !m && !y && !time) return undefined;
    const t = /^(\d{1,2})[:.](\d{2})$/.exec(time ?? '');
    const ok = [d, m, y].every((v) => v && /^\d{1,4}$/.test(v)) && t;
    const at = ok
      ? londonInstant(Number(y), Number(m), Number(d), Number(t[1]), Number(t[2]))
      : undefined;
    if (!at) ctx.addIssue({ code: 'custom', message: `${E}.when` });
    return at;
  });
const agendaLines = z.unknown().transform((v, ctx) => {
  const agenda = lines(v).map(([time = '', title = '', speakers]) => ({
    time,
    title,
    ...(speakers ? { speakers } : {}),
  }));
  if (agenda.some((a) => !a.time || !a.title || a.time.length > 20 || a.title.length > 300))
    ctx.addIssue({ code: 'custom', message: `${E}.agenda` });
  return agenda;
});
const speakerLines = z.unknown().transform((v, ctx) => {
  const speakers = lines(v).map(([name = '', role, bio]) => ({
    name,
    ...(role ? { role } : {}),
    ...(bio ? { bio } : {}),
  }));
  if (speakers.some((s) => !s.name || s.name.length > 200 || (s.bio?.length ?? 0) > 1000))
    ctx.addIssue({ code: 'custom', message: `${E}.speakers` });
  return speakers;
});

/** The editors' event form, field by field (the rules between fields follow). */
const eventForm = z.object({
  title: required('title', 200),
  slug: optional(100),
  summary: required('summary', 600),
  body: z.preprocess(
    (v) => (typeof v === 'string' ? v : ''),
    z.string().trim().max(20_000, TOO_LONG),
  ),
  starts: when,
  ends: when,
  mode: z.enum(EVENT_MODES, `${E}.modeRequired`),
  venueName: optional(200),
  venueAddress: optional(500),
  joiningLink: optional(500),
  audience: optional(300),
  capacity: whole('capacity'),
  maxPerBooking: whole('maxPerBooking'),
  offerHours: whole('offerHours'),
  waitlistEnabled: z.unknown().transform((v) => text(v) !== 'no'),
  opens: when,
  closes: when,
  organiserName: required('organiserName', 200),
  organiserEmail: required('organiserEmail', 254).pipe(z.email(`${E}.email`)),
  status: z.enum(EVENT_STATUSES).catch('draft'),
  statusMessage: optional(2000),
  recordingUrl: urlOrResource,
  slidesUrl: urlOrResource,
  agenda: agendaLines,
  speakers: speakerLines,
});
type EventFormField = keyof typeof eventForm.shape;
const FIELD_ORDER = Object.keys(eventForm.shape);

/**
 * The rules between fields, checked on the fields that parsed (so every
 * problem shows at once, not only after the others are put right).
 */
function crossFieldProblems(shape: Record<string, unknown>): EventProblem[] {
  const value = <K extends EventFormField>(k: K) => {
    const r = eventForm.shape[k].safeParse(shape[k]);
    return r.success ? (r.data as z.infer<(typeof eventForm.shape)[K]>) : undefined;
  };
  const problems: EventProblem[] = [];
  const problem = (field: string, key: string) => problems.push({ field, key: `${E}.${key}` });
  const [starts, ends, opens, closes] = (['starts', 'ends', 'opens', 'closes'] as const).map(value);
  const mode = value('mode');
  const joiningLink = value('joiningLink');
  if (!starts && eventForm.shape.starts.safeParse(shape.starts).success)
    problem('starts', 'startsRequired');
  if (!ends && eventForm.shape.ends.safeParse(shape.ends).success) problem('ends', 'endsRequired');
  if (starts && ends && ends <= starts) problem('ends', 'endsBeforeStart');
  if (mode && mode !== 'online' && !value('venueName')) problem('venueName', 'venueNameRequired');
  if (mode && mode !== 'in_person' && !joiningLink && !text(shape.joiningLink))
    problem('joiningLink', 'joiningLinkRequired');
  else if (joiningLink && !httpsUrl(joiningLink)) problem('joiningLink', 'url');
  if (opens && closes && closes <= opens) problem('closes', 'closesBeforeOpens');
  return problems;
}

/** The flat form fields, with each date's four fields gathered under its name. */
function formShape(body: Record<string, unknown>): Record<string, unknown> {
  // Fields a form may leave out (an unticked box, an empty list) are blank, not missing.
  const out: Record<string, unknown> = { waitlistEnabled: '', agenda: '', speakers: '', ...body };
  for (const name of ['starts', 'ends', 'opens', 'closes'])
    out[name] = Object.fromEntries(
      ['day', 'month', 'year', 'time'].map((p) => [p, body[`${name}-${p}`]]),
    );
  return out;
}

/** Parse the editors' form with zod: the service's input, or the problems to show. */
export function readEventForm(
  body: Record<string, unknown>,
): { ok: true; input: EventInput } | { ok: false; problems: EventProblem[] } {
  const shape = formShape(body);
  const parsed = eventForm.safeParse(shape);
  const cross = crossFieldProblems(shape);
  if (!parsed.success || cross.length) {
    const fieldProblems = (parsed.error?.issues ?? []).map((issue): EventProblem => {
      const field = String(issue.path[0] ?? 'title');
      const range = RANGES[field as keyof typeof RANGES];
      const vars: Record<string, number> | undefined =
        issue.message === TOO_LONG && issue.code === 'too_big'
          ? { max: Number(issue.maximum) }
          : range && issue.message === `${E}.${field}`
            ? { min: range.min, max: range.max }
            : undefined;
      return { field, key: issue.message, ...(vars ? { vars } : {}) };
    });
    // In the form's order; the first problem of a field is the one shown.
    const at = (p: EventProblem) => FIELD_ORDER.indexOf(p.field);
    const problems = [...fieldProblems, ...cross].sort((a, b) => at(a) - at(b));
    return { ok: false, problems };
  }
  const { starts, ends, opens, closes, ...f } = parsed.data!;
  return {
    ok: true,
    input: {
      ...f,
      startsAt: starts!,
      endsAt: ends!,
      bookingOpensAt: opens,
      bookingClosesAt: closes,
    },
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
      const form = readEventForm(body);
      const result = form.ok ? await events.saveEvent(req.user, id, form.input) : form;
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
