import { createHash, randomBytes } from 'node:crypto';
import { accessAllows, type AuditLog, type CurrentUser } from '../../platform/auth.ts';
import { type Geocoder, normalisePostcode } from '../../platform/geocoder.ts';
import type { I18n, Locale } from '../../platform/i18n/index.ts';
import type { JobQueue } from '../../platform/jobs/index.ts';
import type { Database, Tx } from '../../db/client.ts';
import type { Mailer } from '../../platform/mail.ts';
import { noSearchChanges, type SearchChanged } from '../../platform/search.ts';
import { slugify } from '../../platform/slug.ts';
import type { DirectoryCache } from './directory.ts';
import { diffFields, type FieldChange, type ServiceFields } from './fields.ts';
import type { ServiceRecord, ServicesRepository } from './repository.ts';
import {
  type ChangeSource,
  inVocabularyOrder,
  SERVICE_OFFERS,
  SERVICE_SERVES,
  type SuggestionStatus,
} from './schema.ts';

/**
 * Keeping the map true: suggestions from anyone (visitors confirm their email
 * first), moderators' review and decision, managers who edit their service
 * directly and confirm it is still right, the history of every change, and
 * the yearly reminder to managers. Every rule about who may do what is here.
 */

export const VERIFY_REMINDER_JOB = 'services.verification-reminders';
export const PURGE_SUGGESTIONS_JOB = 'services.purge-unconfirmed';
/** An entry is due a check when it was last checked this long ago. */
export const VERIFY_AFTER_DAYS = 365;
const UNCONFIRMED_DAYS = 7;
/** Words that are pages under /services, so never a service's address. */
const RESERVED_SLUGS = new Set(['suggest', 'suggestions', 'coverage', 'map']);

export class NotAllowedError extends Error {
  readonly statusCode = 403;
  constructor() {
    super('Not allowed');
  }
}

interface Person {
  email: string | null;
  displayName: string;
  locale: string;
  approved?: boolean;
}

export interface ChangesDeps {
  repo: ServicesRepository;
  /** The platform's unit of work (`database.transaction`). */
  transaction: Database['transaction'];
  directory: DirectoryCache;
  geocoder?: Geocoder | undefined;
  mailer: Mailer;
  jobs: JobQueue;
  i18n: I18n;
  baseUrl: string;
  people: {
    user(id: string): Promise<Person | undefined>;
    memberByEmail(email: string): Promise<{ id: string } | undefined>;
    audit: AuditLog;
  };
  /** Tells the site search what changed, after it commits (none by default). */
  searchChanged?: SearchChanged;
}

const isModerator = (u: CurrentUser | undefined): u is CurrentUser => accessAllows('moderator', u);
const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
const today = () => new Date().toISOString().slice(0, 10);

type Found = NonNullable<Awaited<ReturnType<ServicesRepository['serviceBySlug']>>>;

/** A stored service as the form shows it. */
export function fieldsOf(found: Found): ServiceFields {
  const s = found.service;
  const place = found.locations[0];
  const contact = found.contacts[0];
  return {
    name: s.name,
    nameCy: s.nameCy ?? '',
    organisation: found.organisation.name,
    description: s.description,
    descriptionCy: s.descriptionCy ?? '',
    status: s.status,
    model: s.model,
    offers: [...s.offers].sort(),
    serves: [...s.serves].sort(),
    areas: found.areas.map((a) => a.gssCode).sort(),
    referralRoute: s.referralRoute,
    funding: s.funding,
    yearStarted: s.yearStarted ? String(s.yearStarted) : '',
    url: s.url ?? '',
    email: s.email ?? contact?.email ?? '',
    phone: contact?.phone ?? '',
    placeName: place?.name ?? '',
    address: place?.address1 ?? '',
    town: place?.city ?? '',
    postcode: place?.postalCode ?? '',
  };
}

export function createServiceChanges(deps: ChangesDeps) {
  const { repo, directory, mailer, i18n, baseUrl, people } = deps;

  const { transaction } = deps;
  const searchChanged = deps.searchChanged ?? noSearchChanges;
  /** After a commit: the search looks at this service again. Never lets the search fail a change. */
  const tellSearch = (id: string) => {
    try {
      searchChanged('services', [id]);
    } catch {
      // The index catches up through changedSince.
    }
  };
  /** Queue an email inside the unit of work `tx` that causes it. */
  async function send(
    tx: Tx,
    to: string | null | undefined,
    locale: string,
    key: string,
    vars: Record<string, string>,
  ) {
    if (!to) return;
    const t = i18n.translator((locale === 'cy' ? 'cy' : 'en') as Locale);
    await mailer.send(
      {
        to,
        subject: t(`services.emails.${key}.subject`, vars),
        text: `${t(`services.emails.${key}.body`, vars)}\n\n${t('services.emails.footer')}\n`,
      },
      { tx },
    );
  }

  /** Where a place is, when its postcode is new (a failed lookup leaves it unplaced). */
  async function placeOf(f: ServiceFields, before: Found | undefined) {
    const old = before?.locations[0];
    if (old && old.postalCode === f.postcode) return { lat: old.lat, lng: old.lng };
    const postcode = f.postcode ? normalisePostcode(f.postcode) : undefined;
    if (!postcode || !deps.geocoder) return { lat: null, lng: null };
    const found = await deps.geocoder.postcode(postcode);
    return found.status === 'found' ? { lat: found.lat, lng: found.lng } : { lat: null, lng: null };
  }

  /** A free slug for a new service's name. */
  async function freeSlug(name: string): Promise<string> {
    const base = slugify(name, 'service');
    for (let n = 1; ; n++) {
      const slug = n === 1 && !RESERVED_SLUGS.has(base) ? base : `${base}-${n}`;
      if (!(await repo.serviceBySlug(slug))) return slug;
    }
  }

  async function recordOf(
    f: ServiceFields,
    before: Found | undefined,
    verifiedOn?: string,
  ): Promise<ServiceRecord & { organisationName: string }> {
    const s = before?.service;
    const contact = before?.contacts[0];
    const hasPlace = Boolean(f.placeName || f.address || f.town || f.postcode);
    return {
      organisationName: f.organisation,
      values: {
        slug: s?.slug ?? (await freeSlug(f.name)),
        organisationId: s?.organisationId ?? '00000000-0000-0000-0000-000000000000',
        name: f.name,
        nameCy: f.nameCy || null,
        description: f.description,
        descriptionCy: f.descriptionCy || null,
        url: f.url || null,
        email: f.email || null,
        status: f.status,
        model: f.model,
        offers: inVocabularyOrder(f.offers, SERVICE_OFFERS),
        serves: inVocabularyOrder(f.serves, SERVICE_SERVES),
        referralRoute: f.referralRoute,
        funding: f.funding,
        yearStarted: f.yearStarted ? Number(f.yearStarted) : null,
        lastVerified: verifiedOn ?? s?.lastVerified ?? null,
        isDemo: s?.isDemo ?? false,
      },
      areas: f.areas,
      places: hasPlace
        ? [
            {
              name: f.placeName || f.name,
              address1: f.address,
              city: f.town,
              postalCode: f.postcode,
              ...(await placeOf(f, before)),
            },
          ]
        : [],
      contacts: f.phone
        ? [
            {
              name: contact?.name ?? '',
              title: contact?.title ?? '',
              phone: f.phone,
              email: contact?.email ?? null,
            },
          ]
        : [],
    };
  }

  /** May this person edit the service directly? Its managers and moderators may. */
  async function mayEdit(actor: CurrentUser | undefined, serviceId: string): Promise<boolean> {
    if (!actor) return false;
    return accessAllows('moderator', actor) || repo.isManager(serviceId, actor.id);
  }

  async function write(
    f: ServiceFields,
    before: Found | undefined,
    change: { source: ChangeSource; actorId: string | null; changes: FieldChange[] },
    opts: { verifiedOn?: string; settle?: { suggestionId: string; decidedBy: string } } = {},
  ) {
    const row = await repo.applyChange(
      await recordOf(f, before, opts.verifiedOn),
      change,
      opts.settle,
    );
    if (row) {
      directory.invalidate();
      tellSearch(row.id);
    }
    return row;
  }

  const api = {
    isModerator,
    mayEdit,
    /** The service and its fields as the form shows them. */
    async current(slug: string) {
      const found = await repo.serviceBySlug(slug);
      return found ? { found, fields: fieldsOf(found) } : undefined;
    },

    /**
     * Store a suggestion. A member's goes straight to the queue; a visitor's
     * waits until they follow the link emailed to `email`.
     */
    async suggest(input: {
      actor: CurrentUser | undefined;
      slug?: string | undefined;
      fields: ServiceFields;
      note: string;
      email?: string | undefined;
      locale: Locale;
    }): Promise<{ ok: true; needsConfirmation: boolean } | { ok: false; problem: 'unchanged' }> {
      const before = input.slug ? await repo.serviceBySlug(input.slug) : undefined;
      if (input.slug && !before) throw new Error('No such service');
      if (before && !diffFields(fieldsOf(before), input.fields).length)
        return { ok: false, problem: 'unchanged' };
      const token = input.actor ? undefined : randomBytes(32).toString('base64url');
      // The suggestion and the email with its confirmation link: one unit of work.
      const row = await transaction(async (tx) => {
        const row = await repo.in(tx).addSuggestion({
          serviceId: before?.service.id ?? null,
          proposed: { ...input.fields },
          note: input.note,
          suggesterId: input.actor?.id ?? null,
          email: input.actor ? null : (input.email ?? null),
          locale: input.locale,
          tokenHash: token ? hashToken(token) : null,
          status: token ? 'unconfirmed' : 'pending',
        });
        if (token)
          await send(tx, input.email, input.locale, 'confirm', {
            name: input.fields.name,
            link: `${baseUrl}/services/suggestions/confirm/${token}`,
          });
        return row;
      });
      await people.audit('service.suggested', {
        actorId: input.actor?.id ?? null,
        detail: { suggestion: row.id, service: before?.service.id ?? null },
      });
      return { ok: true, needsConfirmation: Boolean(token) };
    },
    /** Whether a confirmation link is one we sent and is still waiting. */
    async confirmable(token: string): Promise<boolean> {
      const row = await repo.suggestionByToken(hashToken(token));
      return row?.status === 'unconfirmed';
    },
    async confirm(token: string): Promise<boolean> {
      return Boolean(await repo.confirmSuggestion(hashToken(token)));
    },

    /** The moderators' queue. */
    async queue(actor: CurrentUser | undefined, status: SuggestionStatus) {
      if (!isModerator(actor)) throw new NotAllowedError();
      return repo.suggestions(status);
    },
    /** One suggestion beside the entry as it is now, field by field. */
    async review(actor: CurrentUser | undefined, id: string) {
      if (!isModerator(actor)) throw new NotAllowedError();
      const found = await repo.suggestion(id);
      if (!found) return undefined;
      const proposed = found.suggestion.proposed as unknown as ServiceFields;
      const current = found.slug ? await repo.serviceBySlug(found.slug) : undefined;
      const before = current ? fieldsOf(current) : undefined;
      return {
        ...found,
        proposed,
        before,
        changes: diffFields(before, proposed),
        fromVisitor: !found.suggestion.suggesterId,
      };
    },
    /** Approve: the change is written, kept in the history, and the suggester told. */
    async approve(actor: CurrentUser | undefined, id: string) {
      if (!isModerator(actor)) throw new NotAllowedError();
      const found = await repo.suggestion(id);
      if (!found || found.suggestion.status !== 'pending') return undefined;
      const proposed = found.suggestion.proposed as unknown as ServiceFields;
      const current = found.slug ? await repo.serviceBySlug(found.slug) : undefined;
      const changes = diffFields(current ? fieldsOf(current) : undefined, proposed);
      const s = found.suggestion;
      const to = s.suggesterId ? (await people.user(s.suggesterId))?.email : s.email;
      const record = await recordOf(proposed, current, undefined);
      // The change, the suggester's email and forgetting their address: one unit of work.
      const row = await transaction(async (tx) => {
        const r = repo.in(tx);
        const row = await r.applyChange(
          record,
          { source: 'suggestion', actorId: actor.id, changes },
          { suggestionId: id, decidedBy: actor.id },
        );
        if (!row) return undefined;
        await send(tx, to, s.locale, 'approved', {
          name: row.name,
          link: `${baseUrl}/services/${row.slug}`,
        });
        await r.forgetSuggestionEmail(id);
        return row;
      });
      if (!row) return undefined;
      directory.invalidate();
      tellSearch(row.id);
      await people.audit('service.suggestion_approved', {
        actorId: actor.id,
        detail: { suggestion: id, service: row.id },
      });
      return row;
    },
    /** Reject with a reason, which is emailed to the suggester. */
    async reject(actor: CurrentUser | undefined, id: string, reason: string) {
      if (!isModerator(actor)) throw new NotAllowedError();
      const found = await repo.suggestion(id);
      const who = found?.suggestion;
      const to = who?.suggesterId ? (await people.user(who.suggesterId))?.email : who?.email;
      const row = await transaction(async (tx) => {
        const row = await repo.in(tx).rejectSuggestion(id, actor.id, reason);
        if (row)
          await send(tx, to, row.locale, 'rejected', {
            name: String((row.proposed as { name?: string }).name ?? ''),
            reason,
          });
        return row;
      });
      if (!row) return undefined;
      await people.audit('service.suggestion_rejected', {
        actorId: actor.id,
        detail: { suggestion: id },
      });
      return row;
    },

    /** A manager's (or moderator's) direct edit; a manager's save also counts as a check. */
    async edit(actor: CurrentUser | undefined, slug: string, fields: ServiceFields) {
      const before = await repo.serviceBySlug(slug);
      if (!before) return undefined;
      // Asked once: whether they manage it decides both the permission and how the change is kept.
      const manager = actor ? await repo.isManager(before.service.id, actor.id) : false;
      if (!manager && !isModerator(actor)) throw new NotAllowedError();
      const changes = diffFields(fieldsOf(before), fields);
      const row = await write(
        fields,
        before,
        { source: manager ? 'manager' : 'moderator', actorId: actor!.id, changes },
        manager ? { verifiedOn: today() } : {},
      );
      await people.audit('service.edited', {
        actorId: actor!.id,
        detail: { service: before.service.id, fields: changes.map((c) => c.field) },
      });
      return row;
    },
    /** "These details are still right": last checked becomes today. */
    async verify(actor: CurrentUser | undefined, slug: string) {
      const before = await repo.serviceBySlug(slug);
      if (!before) return false;
      if (!(await mayEdit(actor, before.service.id))) throw new NotAllowedError();
      await repo.markVerified(
        before.service.id,
        actor!.id,
        today(),
        before.service.lastVerified ?? '',
      );
      directory.invalidate();
      return true;
    },
    /** The public history: what changed and how, never who (staff see that in the audit log). */
    async history(slug: string) {
      const found = await repo.serviceBySlug(slug);
      if (!found) return undefined;
      return { found, changes: await repo.history(found.service.id) };
    },

    /** Managers of a service, for moderators. */
    async managers(actor: CurrentUser | undefined, slug: string) {
      if (!isModerator(actor)) throw new NotAllowedError();
      const found = await repo.serviceBySlug(slug);
      if (!found) return undefined;
      const ids = await repo.managers(found.service.id);
      const people_ = await Promise.all(
        ids.map(async (id) => ({ id, ...(await people.user(id)) })),
      );
      return { found, managers: people_ };
    },
    /** Make an approved member a manager (by their email); they are told by email. */
    async addManager(
      actor: CurrentUser | undefined,
      slug: string,
      email: string,
    ): Promise<{ ok: true } | { ok: false; problem: 'noMember' | 'already' } | undefined> {
      if (!isModerator(actor)) throw new NotAllowedError();
      const found = await repo.serviceBySlug(slug);
      if (!found) return undefined;
      const member = await people.memberByEmail(email);
      if (!member) return { ok: false, problem: 'noMember' };
      const person = await people.user(member.id);
      const added = await transaction(async (tx) => {
        if (!(await repo.in(tx).addManager(found.service.id, member.id))) return false;
        await send(tx, person?.email, person?.locale ?? 'en', 'manager', {
          name: found.service.name,
          link: `${baseUrl}/services/${slug}/edit`,
        });
        return true;
      });
      if (!added) return { ok: false, problem: 'already' };
      await people.audit('service.manager_added', {
        actorId: actor.id,
        subjectId: member.id,
        detail: { service: found.service.id },
      });
      return { ok: true };
    },
    async removeManager(actor: CurrentUser | undefined, slug: string, userId: string) {
      if (!isModerator(actor)) throw new NotAllowedError();
      const found = await repo.serviceBySlug(slug);
      if (!found) return false;
      await repo.removeManager(found.service.id, userId);
      await people.audit('service.manager_removed', {
        actorId: actor.id,
        subjectId: userId,
        detail: { service: found.service.id },
      });
      return true;
    },
    /** The services a member manages (for their account page). */
    managedBy: (userId: string) => repo.managedBy(userId),

    /**
     * Email the managers of every entry not checked for 12 months (each entry
     * at most once a month). Returns how many entries were due.
     */
    async sendReminders(now = new Date()): Promise<number> {
      const cutoff = new Date(now.getTime() - VERIFY_AFTER_DAYS * 86400_000)
        .toISOString()
        .slice(0, 10);
      const remindedBefore = new Date(now.getTime() - 30 * 86400_000);
      // Who to write to is looked up first (another feature's data); then the
      // claim and its emails are one unit of work: claimed means emailed.
      const managers = new Map<string, Person | undefined>();
      for (const id of await repo.staleManagers(cutoff, remindedBefore))
        managers.set(id, await people.user(id));
      return transaction(async (tx) => {
        const due = await repo.in(tx).claimStaleForReminder(cutoff, remindedBefore);
        for (const s of due)
          for (const id of s.managers) {
            const person = managers.get(id);
            await send(tx, person?.email, person?.locale ?? 'en', 'reminder', {
              name: s.name,
              link: `${baseUrl}/services/${s.slug}/edit`,
            });
          }
        return due.length;
      });
    },
    async purgeUnconfirmed(now = new Date()): Promise<number> {
      return repo.purgeUnconfirmed(new Date(now.getTime() - UNCONFIRMED_DAYS * 86400_000));
    },
    personalData: {
      name: 'services',
      export: (userId: string) => repo.personalData(userId),
      erase: (userId: string, removeContributions: boolean) =>
        repo.eraseMember(userId, removeContributions),
    },
  };
  deps.jobs.register(VERIFY_REMINDER_JOB, async () => {
    await api.sendReminders();
  });
  deps.jobs.register(PURGE_SUGGESTIONS_JOB, async () => {
    await api.purgeUnconfirmed();
  });
  return api;
}

export type ServiceChanges = ReturnType<typeof createServiceChanges>;
