import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../../db/client.ts';
import { AccessDenied, type CurrentUser } from '../../platform/auth.ts';
import { formatDate, londonInstant, londonParts } from '../../platform/dates.ts';
import type { I18n, Locale } from '../../platform/i18n/index.ts';
import type { JobQueue } from '../../platform/jobs/index.ts';
import { type AllowedType, checkUpload } from '../../platform/files.ts';
import type { Mailer } from '../../platform/mail.ts';
import type { Storage } from '../../platform/storage.ts';
import { secretsOf, signer } from '../../platform/signing.ts';
import type { Contact } from '../accounts/service.ts';
import { type EmailSection, issueHtml, issueText, renderEmail } from './email.ts';
import type { IssueItemRow, IssueRow, NewsletterRepository, SubscriberRow } from './repository.ts';
import {
  type ConsentEvent,
  type Frequency,
  type SubscriberState,
  type SuppressionReason,
  type Topic,
  TOPICS,
} from './schema.ts';
import { type MailEvent, parseWebhook, type Provider } from './webhooks.ts';

export { TOPICS, FREQUENCIES, SUBSCRIBER_STATES } from './schema.ts';
export type { Topic, Frequency } from './schema.ts';
export { PROVIDERS } from './webhooks.ts';

/**
 * The mailing list: double opt-in sign-up, the consent log, preferences
 * through signed links, one-click unsubscribe, the suppression list for all
 * of the site's mail, issues and digests sent through the job queue.
 * Every email is queued in the unit of work of the change that causes it.
 */

export const SEND_JOB = 'newsletter.send';
export const PURGE_JOB = 'newsletter.purge-unconfirmed';
export const DIGEST_JOB = 'newsletter.digest';
/** Unconfirmed sign-ups are removed after this many days. */
export const UNCONFIRMED_DAYS = 7;
/** Soft bounces within SOFT_BOUNCE_DAYS that suppress an address. */
export const SOFT_BOUNCE_LIMIT = 3;
export const SOFT_BOUNCE_DAYS = 30;
/** A manage link works for this many days (a fresh one is in every email). */
export const MANAGE_LINK_DAYS = 180;
/**
 * A recipient claimed by a worker that died is sent again after this (on
 * PostgreSQL at once, when the worker's claimant lock is gone with it).
 */
export const DELIVERY_LEASE_SECONDS = 300;
/** Messages of one send in flight at once. */
export const SEND_CONCURRENCY = 4;

/**
 * The version of the words a person saw when they gave or changed consent:
 * change the version whenever the wording on that form changes.
 */
export const WORDING = {
  signup: 'signup-2026-12',
  footer: 'footer-2026-12',
  account: 'account-2026-12',
  confirm: 'confirm-2026-12',
  preferences: 'preferences-2026-12',
  unsubscribe: 'unsubscribe-2026-12',
  import: 'import',
  suppression: 'suppression',
} as const;

export type SignUpForm = 'page' | 'footer';

export interface DigestItem {
  title: string;
  url: string;
  summary?: string | undefined;
  publishedAt: Date;
}

/** Where digests find what was published: each feature's own, wired in app.ts. */
export interface DigestSource {
  topic: Topic;
  publishedBetween(from: Date, until: Date): Promise<DigestItem[]>;
}

export interface NewsletterDeps {
  repo: NewsletterRepository;
  transaction: Database['transaction'];
  mailer: Mailer;
  jobs: JobQueue;
  i18n: I18n;
  baseUrl: string;
  secret: string;
  /** The session secret `secret` replaced (SESSION_SECRET_PREVIOUS): links it signed still work. */
  previousSecret?: string | undefined;
  /** Newsletter emails per minute (NEWSLETTER_PER_MINUTE). */
  perMinute: number;
  /**
   * This process's mark on the recipients it claims (`Database.claimant`):
   * another instance takes them back as soon as this process is gone.
   */
  claimant?: () => Promise<number | null>;
  log: FastifyBaseLogger;
  people: { contact(userId: string): Promise<Contact | undefined> };
  /** Where issues' images are kept (served at /newsletter/images/{name}). */
  storage?: Storage;
  sources?: DigestSource[];
  now?: () => Date;
}

export interface Preferences {
  name?: string | undefined;
  topics: Topic[];
  frequency: Frequency;
  locale: Locale;
}

export interface IssueInput {
  subject: string;
  body: string;
  topics: Topic[];
  locale: Locale;
}

export class NotAllowed extends Error {}

/** Images an issue may carry (served to mail programs, so only the common kinds). */
export const IMAGE_TYPES: readonly AllowedType[] = [
  { ext: 'png', mime: 'image/png', label: 'a PNG image', maxBytes: 2 * 1024 * 1024, inline: true },
  {
    ext: 'jpg',
    mime: 'image/jpeg',
    label: 'a JPEG image',
    maxBytes: 2 * 1024 * 1024,
    inline: true,
    exts: ['jpg', 'jpeg'],
  },
  { ext: 'gif', mime: 'image/gif', label: 'a GIF image', maxBytes: 2 * 1024 * 1024, inline: true },
];
export const IMAGE_NAME = /^[0-9a-f-]{36}\.(png|jpg|gif)$/;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const DAY = 24 * 3600 * 1000;

/** Midnight in London at the start of the month `at` falls in, or `back` months before it. */
export function monthStart(at: Date, back = 0): Date {
  const { year, month } = londonParts(at);
  const m = year * 12 + (month - 1) - back;
  // Midnight on the 1st always exists in London (the clocks change at 1 am).
  return londonInstant(Math.floor(m / 12), (m % 12) + 1, 1, 0, 0)!;
}

export function createNewsletterService(deps: NewsletterDeps) {
  const { repo, transaction, mailer, jobs, i18n, baseUrl, secret } = deps;
  const now = deps.now ?? (() => new Date());
  const sources = deps.sources ?? [];
  const host = new URL(baseUrl).hostname || 'localhost';

  // Signed links: who and what for, so no table of tokens and no old email needed.
  // Signed with the current secret; the one it replaced (SESSION_SECRET_PREVIOUS) still checks.
  const { sign, verify: check } = signer(secretsOf(secret, deps.previousSecret), 'newsletter', 32);
  function manageToken(id: string): string {
    const day = Math.floor(now().getTime() / DAY);
    return `${id}.${day}.${sign(`manage:${id}:${day}`)}`;
  }
  function unsubscribeToken(id: string): string {
    return `${id}.${sign(`unsubscribe:${id}`)}`;
  }
  function readManageToken(token: string): string | undefined {
    const m = /^([0-9a-f-]{36})\.(\d{1,6})\.([A-Za-z0-9_-]{32})$/.exec(token);
    if (!m || !check(`manage:${m[1]}:${m[2]}`, m[3]!)) return undefined;
    if (Math.floor(now().getTime() / DAY) - Number(m[2]) > MANAGE_LINK_DAYS) return undefined;
    return m[1];
  }
  function readUnsubscribeToken(token: string): string | undefined {
    const m = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{32})$/.exec(token);
    return m && check(`unsubscribe:${m[1]}`, m[2]!) ? m[1] : undefined;
  }
  const links = (id: string) => ({
    preferencesUrl: `${baseUrl}/newsletter/preferences/${manageToken(id)}`,
    unsubscribeUrl: `${baseUrl}/newsletter/unsubscribe/${unsubscribeToken(id)}`,
  });
  /** RFC 8058: the https address to POST to, and the header that says so. */
  const listHeaders = (id: string) => ({
    'List-Unsubscribe': `<${links(id).unsubscribeUrl}>`,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  });
  /** The address a request came from, never stored as it is. */
  const ipHash = (ip: string | undefined) =>
    ip ? createHmac('sha256', secret).update(`ip:${ip}`).digest('hex').slice(0, 32) : null;

  type R = ReturnType<NewsletterRepository['in']>;

  /** A short transactional email to a subscriber (with their preference and unsubscribe links). */
  async function tell(
    r: R,
    s: SubscriberRow,
    key: string,
    vars: Record<string, string>,
    tx: Parameters<Parameters<Database['transaction']>[0]>[0],
    withLinks = true,
  ) {
    void r;
    const t = i18n.translator(s.locale);
    const l = links(s.id);
    const body = t(`newsletter.emails.${key}.body`, { ...vars, ...l });
    const footer = withLinks ? `\n\n--\n${t('newsletter.emails.footer', l)}` : '';
    await mailer.send(
      {
        to: s.email,
        subject: t(`newsletter.emails.${key}.subject`, vars),
        text: `${body}${footer}\n`,
        ...(withLinks ? { headers: listHeaders(s.id) } : {}),
      },
      { tx },
    );
  }

  async function consent(
    r: R,
    s: SubscriberRow,
    event: ConsentEvent,
    form: string,
    wording: string,
    ip: string | undefined,
    detail: Record<string, unknown> = {},
  ) {
    await r.addConsent([
      {
        subscriberId: s.id,
        event,
        form,
        wording,
        locale: s.locale,
        ipHash: ipHash(ip),
        detail,
        at: now(),
      },
    ]);
  }

  const prefsDetail = (p: { topics: string[]; frequency: string; locale: string }) => ({
    topics: p.topics,
    frequency: p.frequency,
    language: p.locale,
  });

  function requireEditor(actor: CurrentUser | undefined): asserts actor is CurrentUser {
    if (!actor || (actor.role !== 'editor' && actor.role !== 'admin'))
      throw new AccessDenied('Editors only');
  }

  // Sending an issue: each recipient's email.
  // Rendering (Markdown, layout, juice) is done once per issue, language and
  // set of topics; each recipient's links are put in afterwards.
  const PREFS = 'https://prefs.placeholder.invalid/p';
  const UNSUB = 'https://unsub.placeholder.invalid/u';
  const rendered = new Map<string, { html: string; text: string; empty: boolean }>();
  function issueEmail(issue: IssueRow, items: IssueItemRow[], s: SubscriberRow) {
    const locale = issue.kind === 'digest' ? s.locale : issue.locale;
    const topics = issue.kind === 'digest' ? TOPICS.filter((x) => s.topics.includes(x)) : [];
    const key = `${issue.id}|${issue.updatedAt.getTime()}|${locale}|${topics.join(',')}`;
    // A digest's subject in each recipient's language.
    const subject =
      issue.kind === 'digest'
        ? i18n.translator(locale)('newsletter.digest.subject', {
            date: formatDate(issue.coversUntil ?? issue.createdAt, locale),
          })
        : issue.subject;
    let r = rendered.get(key);
    if (!r) {
      const t = i18n.translator(locale);
      const sections: EmailSection[] = topics
        .map((topic) => ({
          heading: t(`newsletter.topics.${topic}`),
          items: items.filter((i) => i.topic === topic),
        }))
        .filter((sec) => sec.items.length > 0);
      r = {
        ...renderEmail({
          t,
          lang: locale,
          subject,
          bodyHtml: issueHtml(issue.body),
          bodyText: issueText(issue.body),
          sections,
          preferencesUrl: PREFS,
          unsubscribeUrl: UNSUB,
          webUrl: `${baseUrl}/newsletter/archive/${issue.id}`,
        }),
        empty: issue.kind === 'digest' && sections.length === 0,
      };
      if (rendered.size > 200) rendered.clear();
      rendered.set(key, r);
    }
    const l = links(s.id);
    const personal = (x: string) =>
      x.replaceAll(PREFS, l.preferencesUrl).replaceAll(UNSUB, l.unsubscribeUrl);
    return {
      empty: r.empty,
      message: {
        to: s.email,
        subject,
        text: personal(r.text),
        html: personal(r.html),
        headers: listHeaders(s.id),
        messageId: `<nl-${issue.id}-${s.id}@${host}>`,
      },
    };
  }

  async function suppressAddress(
    email: string,
    reason: SuppressionReason,
    source: string,
    detail: string | null,
  ) {
    await transaction(async (tx) => {
      const r = repo.in(tx);
      const added = await r.suppress(email, reason, source, detail);
      const s = await r.subscriberByEmail(email, true);
      if (added && s)
        await consent(r, s, 'suppressed', source, WORDING.suppression, undefined, { reason });
    });
  }

  const service = {
    manageToken,
    unsubscribeToken,
    /** For the platform's mailer: every message the site sends is checked against this. */
    isSuppressed: (address: string) => repo.isSuppressed(address),

    // Signing up
    /**
     * A sign-up from a form: the answer is the same whatever the address's
     * state (the route shows one page); what it causes differs — a
     * confirmation email for a new, pending or unsubscribed address, a note
     * with the preference link for a subscribed one, nothing for a suppressed one.
     */
    async signUp(
      input: { email: string; name?: string | undefined } & Preferences,
      form: SignUpForm,
      ip: string | undefined,
    ): Promise<void> {
      const email = input.email.trim();
      await transaction(async (tx) => {
        const r = repo.in(tx);
        if (await r.isSuppressed(email)) return;
        const existing = await r.subscriberByEmail(email, true);
        const wording = form === 'footer' ? WORDING.footer : WORDING.signup;
        if (existing?.state === 'subscribed') {
          await tell(r, existing, 'already', {}, tx);
          return;
        }
        // One confirmation a minute for a pending address, however often it is asked.
        if (existing?.state === 'pending' && now().getTime() - existing.askedAt.getTime() < 60_000)
          return;
        const token = randomBytes(24).toString('base64url');
        const values = {
          name: input.name ?? null,
          topics: input.topics,
          frequency: input.frequency,
          locale: input.locale,
          state: 'pending' as const,
          confirmTokenHash: sha256(token),
          askedAt: now(),
        };
        const s = existing
          ? await r.updateSubscriber(existing.id, values)
          : await r.insertSubscriber({ email, ...values, createdAt: now() });
        await consent(r, s, 'asked', form, wording, ip, prefsDetail(s));
        await tell(
          r,
          s,
          'confirm',
          { link: `${baseUrl}/newsletter/confirm/${token}`, days: String(UNCONFIRMED_DAYS) },
          tx,
          false,
        );
      });
    },

    /** The pending sign-up a confirmation link is for (the GET shows a button). */
    async pendingFor(token: string): Promise<SubscriberRow | undefined> {
      const s = await repo.subscriberByConfirmHash(sha256(token));
      return s?.state === 'pending' ? s : undefined;
    },

    /** The link's button: subscribed, the consent logged, the welcome email queued. */
    async confirm(token: string, ip: string | undefined): Promise<SubscriberRow | undefined> {
      return transaction(async (tx) => {
        const r = repo.in(tx);
        const found = await r.subscriberByConfirmHash(sha256(token));
        if (!found || found.state !== 'pending') return undefined;
        const locked = (await r.subscriberById(found.id, true))!;
        if (locked.state !== 'pending') return undefined;
        const s = await r.updateSubscriber(locked.id, {
          state: 'subscribed',
          confirmTokenHash: null,
          confirmedAt: now(),
          unsubscribedAt: null,
        });
        await consent(r, s, 'confirmed', 'confirmation-link', WORDING.confirm, ip, prefsDetail(s));
        await tell(r, s, 'welcome', {}, tx);
        return s;
      });
    },

    /** A signed-in member, whose address is verified: subscribed in one step. Returns a manage token. */
    async memberSignUp(actor: CurrentUser, ip: string | undefined): Promise<string | undefined> {
      const contact = await deps.people.contact(actor.id);
      if (!contact || !contact.active) return undefined;
      if (await repo.isSuppressed(contact.email)) return undefined;
      return transaction(async (tx) => {
        const r = repo.in(tx);
        const existing = await r.subscriberByEmail(contact.email, true);
        if (existing?.state === 'subscribed') {
          if (!existing.userId) await r.updateSubscriber(existing.id, { userId: actor.id });
          return manageToken(existing.id);
        }
        const values = {
          state: 'subscribed' as const,
          name: existing?.name ?? contact.displayName,
          topics: existing?.topics.length ? existing.topics : [...TOPICS],
          frequency: existing?.frequency ?? ('each' as const),
          locale: contact.locale,
          userId: actor.id,
          confirmTokenHash: null,
          askedAt: now(),
          confirmedAt: now(),
          unsubscribedAt: null,
        };
        const s = existing
          ? await r.updateSubscriber(existing.id, values)
          : await r.insertSubscriber({ email: contact.email, ...values, createdAt: now() });
        await consent(r, s, 'confirmed', 'account', WORDING.account, ip, {
          ...prefsDetail(s),
          verifiedAccount: true,
        });
        await tell(r, s, 'welcome', {}, tx);
        return manageToken(s.id);
      });
    },

    /** Whether a member is on the list (their account page). */
    async memberState(userId: string): Promise<SubscriberState | undefined> {
      const contact = await deps.people.contact(userId);
      if (!contact) return undefined;
      return (await repo.subscriberByEmail(contact.email))?.state;
    },

    // Preferences
    /** Sends a fresh preference link; nothing for an unknown or suppressed address (the same answer). */
    async requestManageLink(email: string): Promise<void> {
      await transaction(async (tx) => {
        const r = repo.in(tx);
        const s = await r.subscriberByEmail(email.trim());
        if (!s || (await r.isSuppressed(s.email))) return;
        await tell(r, s, 'manage', {}, tx);
      });
    },

    /** The subscriber a preference link is for, and their consent log. */
    async preferences(token: string) {
      const id = readManageToken(token);
      const s = id ? await repo.subscriberById(id) : undefined;
      return s ? { subscriber: s } : undefined;
    },

    async savePreferences(
      token: string,
      prefs: Preferences,
      ip: string | undefined,
    ): Promise<SubscriberRow | undefined> {
      const id = readManageToken(token);
      if (!id) return undefined;
      return transaction(async (tx) => {
        const r = repo.in(tx);
        const before = await r.subscriberById(id, true);
        if (!before) return undefined;
        const s = await r.updateSubscriber(id, {
          name: prefs.name ?? null,
          topics: prefs.topics,
          frequency: prefs.frequency,
          locale: prefs.locale,
        });
        await consent(r, s, 'topics', 'preferences', WORDING.preferences, ip, prefsDetail(s));
        return s;
      });
    },

    /** A subscriber's data (the preference page's download and the account export). */
    async exportData(subscriberId: string) {
      const s = await repo.subscriberById(subscriberId);
      if (!s) return undefined;
      return {
        email: s.email,
        name: s.name,
        state: s.state,
        topics: s.topics,
        frequency: s.frequency,
        language: s.locale,
        signedUpAt: s.createdAt,
        confirmedAt: s.confirmedAt,
        unsubscribedAt: s.unsubscribedAt,
        consentLog: (await repo.consentFor(s.id)).map((c) => ({
          at: c.at,
          event: c.event,
          form: c.form,
          wording: c.wording,
          language: c.locale,
          addressHash: c.ipHash,
          detail: c.detail,
        })),
        emailsSent: (await repo.deliveriesOf(s.id)).map((d) => ({
          subject: d.subject,
          state: d.state,
          sentAt: d.sentAt,
        })),
        suppression: (await repo.suppression(s.email)) ?? null,
      };
    },
    exportByToken: async (token: string) => {
      const id = readManageToken(token);
      return id ? service.exportData(id) : undefined;
    },

    // Unsubscribing
    /** The subscriber an unsubscribe link is for (a GET changes nothing). */
    async unsubscribeTarget(token: string): Promise<SubscriberRow | undefined> {
      const id = readUnsubscribeToken(token) ?? readManageToken(token);
      return id ? repo.subscriberById(id) : undefined;
    },

    /** RFC 8058 and the page's button: safe to repeat (a second time changes and logs nothing). */
    async unsubscribe(
      token: string,
      form: 'one-click' | 'link' | 'preferences',
      ip: string | undefined,
    ): Promise<SubscriberRow | undefined> {
      const id = readUnsubscribeToken(token) ?? readManageToken(token);
      if (!id) return undefined;
      return transaction(async (tx) => {
        const r = repo.in(tx);
        const s = await r.subscriberById(id, true);
        if (!s) return undefined;
        if (s.state === 'unsubscribed') return s;
        const done = await r.updateSubscriber(id, {
          state: 'unsubscribed',
          unsubscribedAt: now(),
          confirmTokenHash: null,
        });
        await consent(r, done, 'unsubscribed', form, WORDING.unsubscribe, ip);
        return done;
      });
    },

    /** Undo from the unsubscribe page: back on the list, the same preferences, logged as a confirmation. */
    async undoUnsubscribe(
      token: string,
      ip: string | undefined,
    ): Promise<SubscriberRow | undefined> {
      const id = readUnsubscribeToken(token) ?? readManageToken(token);
      if (!id) return undefined;
      return transaction(async (tx) => {
        const r = repo.in(tx);
        const s = await r.subscriberById(id, true);
        if (!s || s.state !== 'unsubscribed' || !s.confirmedAt) return s;
        if (await r.isSuppressed(s.email)) return s;
        const back = await r.updateSubscriber(id, { state: 'subscribed', unsubscribedAt: null });
        await consent(
          r,
          back,
          'confirmed',
          'unsubscribe-undo',
          WORDING.unsubscribe,
          ip,
          prefsDetail(back),
        );
        return back;
      });
    },

    // Housekeeping
    /** Unconfirmed sign-ups older than UNCONFIRMED_DAYS are removed, with their log. */
    async purgeUnconfirmed(): Promise<number> {
      return transaction(async (tx) => {
        const r = repo.in(tx);
        await r.allowErasure();
        return r.deletePendingBefore(new Date(now().getTime() - UNCONFIRMED_DAYS * DAY));
      });
    },

    /** For accounts' "your data": the member's subscription and its consent log. */
    personalData: {
      name: 'newsletter',
      async export(userId: string) {
        const contact = await deps.people.contact(userId);
        const s =
          (await repo.subscriberByUser(userId)) ??
          (contact ? await repo.subscriberByEmail(contact.email) : undefined);
        return s ? service.exportData(s.id) : null;
      },
      async erase(userId: string) {
        const contact = await deps.people.contact(userId);
        const s =
          (await repo.subscriberByUser(userId)) ??
          (contact ? await repo.subscriberByEmail(contact.email) : undefined);
        if (!s) return;
        await transaction(async (tx) => {
          const r = repo.in(tx);
          await r.allowErasure();
          await r.deleteSubscriber(s.id);
        });
      },
    },

    // Bounces and complaints
    /**
     * A provider's report: a hard bounce or a complaint suppresses the address
     * at once (with the reason); soft bounces after SOFT_BOUNCE_LIMIT in
     * SOFT_BOUNCE_DAYS. Returns what was understood.
     */
    async receiveMailEvents(provider: Provider, body: unknown): Promise<MailEvent[]> {
      const events = parseWebhook(provider, body);
      for (const e of events) {
        await repo.addMailEvent({
          email: e.email,
          kind: e.kind,
          provider,
          at: e.at ?? now(),
          detail: e.detail ?? null,
        });
        if (e.kind === 'hard-bounce' || e.kind === 'complaint') {
          await suppressAddress(e.email, e.kind, provider, e.detail ?? null);
        } else {
          const since = new Date(now().getTime() - SOFT_BOUNCE_DAYS * DAY);
          if ((await repo.softBouncesSince(e.email, since)) >= SOFT_BOUNCE_LIMIT)
            await suppressAddress(e.email, 'soft-bounces', provider, e.detail ?? null);
        }
      }
      return events;
    },

    async suppressions(actor: CurrentUser | undefined) {
      requireEditor(actor);
      return repo.suppressions(200);
    },
    async suppressManually(actor: CurrentUser | undefined, email: string) {
      requireEditor(actor);
      await suppressAddress(email.trim(), 'manual', 'admin', null);
    },
    async unsuppress(actor: CurrentUser | undefined, email: string) {
      requireEditor(actor);
      return repo.unsuppress(email.trim());
    },

    // Subscribers for editors
    async subscribers(
      actor: CurrentUser | undefined,
      f: { q?: string | undefined; state?: SubscriberState | undefined; page: number },
    ) {
      requireEditor(actor);
      const pageSize = 50;
      const { rows, total } = await repo.searchSubscribers({
        ...f,
        limit: pageSize,
        offset: (f.page - 1) * pageSize,
      });
      return {
        rows,
        total,
        pages: Math.max(1, Math.ceil(total / pageSize)),
        counts: await repo.stateCounts(),
      };
    },
    async allSubscribers(actor: CurrentUser | undefined) {
      requireEditor(actor);
      return repo.allSubscribers();
    },
    /**
     * Import confirmed subscribers: every row must have an address and its
     * consent (the date and the source); one bad row and nothing is imported.
     */
    async importSubscribers(
      actor: CurrentUser | undefined,
      rows: {
        line: number;
        email: string;
        name?: string | undefined;
        consentAt: Date;
        source: string;
        topics: Topic[];
        frequency: Frequency;
        locale: Locale;
      }[],
    ): Promise<{ imported: number; skipped: number }> {
      requireEditor(actor);
      return transaction(async (tx) => {
        const r = repo.in(tx);
        let imported = 0;
        let skipped = 0;
        for (const row of rows) {
          if ((await r.subscriberByEmail(row.email)) || (await r.isSuppressed(row.email))) {
            skipped++;
            continue;
          }
          const s = await r.insertSubscriber({
            email: row.email,
            name: row.name ?? null,
            state: 'subscribed',
            topics: row.topics,
            frequency: row.frequency,
            locale: row.locale,
            askedAt: row.consentAt,
            confirmedAt: row.consentAt,
            createdAt: now(),
          });
          await r.addConsent([
            {
              subscriberId: s.id,
              event: 'imported',
              form: `import: ${row.source}`,
              wording: WORDING.import,
              locale: s.locale,
              ipHash: null,
              at: now(),
              detail: {
                consentGivenAt: row.consentAt.toISOString(),
                source: row.source,
                importedBy: actor.id,
              },
            },
          ]);
          imported++;
        }
        return { imported, skipped };
      });
    },

    // Issues
    async issues(actor: CurrentUser | undefined) {
      requireEditor(actor);
      const rows = await repo.listIssues(100);
      const counts = await repo.deliveryCounts(rows.map((r) => r.id));
      return rows.map((r) => ({ ...r, counts: counts.get(r.id) ?? {} }));
    },
    async issue(actor: CurrentUser | undefined, id: string) {
      requireEditor(actor);
      const row = await repo.issueById(id);
      if (!row) return undefined;
      const counts = (await repo.deliveryCounts([id])).get(id) ?? {};
      return { issue: row, items: await repo.itemsFor(id), counts };
    },
    async saveIssue(actor: CurrentUser | undefined, id: string | undefined, input: IssueInput) {
      requireEditor(actor);
      if (id) {
        const found = await repo.issueById(id);
        if (!found) return undefined;
        if (found.state !== 'draft') throw new NotAllowed('Only a draft can be changed');
        return repo.updateIssue(id, input);
      }
      return repo.insertIssue({ ...input, kind: 'issue', createdBy: actor.id });
    },
    async deleteIssue(actor: CurrentUser | undefined, id: string) {
      requireEditor(actor);
      const found = await repo.issueById(id);
      if (!found || found.state !== 'draft') return false;
      await repo.deleteIssue(id);
      return true;
    },
    /** The email as a recipient would get it (the editor as the sample subscriber, all topics). */
    async preview(actor: CurrentUser | undefined, id: string) {
      requireEditor(actor);
      const issue = await repo.issueById(id);
      if (!issue) return undefined;
      const contact = await deps.people.contact(actor.id);
      const sample: SubscriberRow = {
        id: '00000000-0000-4000-8000-000000000000',
        email: contact?.email ?? 'editor@example.org',
        name: actor.displayName,
        state: 'subscribed',
        topics: [...TOPICS],
        frequency: 'each',
        locale: issue.locale,
        userId: actor.id,
        confirmTokenHash: null,
        createdAt: now(),
        askedAt: now(),
        confirmedAt: now(),
        unsubscribedAt: null,
        updatedAt: now(),
      };
      return issueEmail(issue, await repo.itemsFor(id), sample).message;
    },
    /** A test to the editor themself, queued like any email. */
    async sendTest(actor: CurrentUser | undefined, id: string): Promise<boolean> {
      requireEditor(actor);
      const issue = await repo.issueById(id);
      const message = await service.preview(actor, id);
      if (!issue || !message) return false;
      const { messageId: _fixed, ...rest } = message;
      const t = i18n.translator(issue.locale);
      await mailer.send({
        ...rest,
        subject: `[${t('newsletter.admin.testPrefix')}] ${message.subject}`,
      });
      return true;
    },
    /** Send now (`at` unset) or at a time: the recipients are fixed when sending starts. */
    async schedule(
      actor: CurrentUser | undefined,
      id: string,
      at?: Date,
    ): Promise<IssueRow | undefined> {
      requireEditor(actor);
      return transaction(async (tx) => {
        const r = repo.in(tx);
        const issue = await r.issueById(id, true);
        if (!issue || issue.state !== 'draft') return undefined;
        const when = at && at > now() ? at : now();
        const updated = await r.updateIssue(id, { state: 'scheduled', scheduledAt: when });
        await jobs.enqueue(SEND_JOB, { issueId: id }, { tx, runAt: when });
        return updated;
      });
    },
    /**
     * An image for a draft: checked from its bytes, kept under a name of
     * ours, and added to the end of the body as Markdown with its description.
     */
    async addImage(
      actor: CurrentUser | undefined,
      id: string,
      file: { path: string; filename: string; size: number; truncated: boolean },
      alt: string,
    ): Promise<{ ok: true } | { ok: false; reason: string }> {
      requireEditor(actor);
      const issue = await repo.issueById(id);
      if (!issue || issue.state !== 'draft' || !deps.storage)
        return { ok: false, reason: 'notDraft' };
      const checked = await checkUpload(
        file.path,
        file.filename,
        file.size,
        file.truncated,
        IMAGE_TYPES,
      );
      if (!checked.ok) return { ok: false, reason: checked.reason };
      const name = `${randomUUID()}.${checked.type.ext}`;
      const { createReadStream } = await import('node:fs');
      await deps.storage.put(`newsletter/${name}`, createReadStream(file.path));
      const clean = alt.replace(/[[\]\n\r]/g, ' ').trim();
      await repo.updateIssue(id, {
        body: `${issue.body.trimEnd()}\n\n![${clean}](${baseUrl}/newsletter/images/${name})\n`,
      });
      return { ok: true };
    },
    /** A stored image of an issue, for /newsletter/images/{name}. */
    async image(name: string) {
      if (!IMAGE_NAME.test(name) || !deps.storage) return undefined;
      const key = `newsletter/${name}`;
      const found = await deps.storage.stat(key);
      if (!found) return undefined;
      const type = IMAGE_TYPES.find((t) => name.endsWith(`.${t.ext}`))!;
      return { size: found.size, mime: type.mime, stream: () => deps.storage!.read(key) };
    },

    /** A scheduled issue back to a draft (its job then finds nothing to do). */
    async unschedule(actor: CurrentUser | undefined, id: string) {
      requireEditor(actor);
      return transaction(async (tx) => {
        const r = repo.in(tx);
        const issue = await r.issueById(id, true);
        if (!issue || issue.state !== 'scheduled') return undefined;
        return r.updateIssue(id, { state: 'draft', scheduledAt: null });
      });
    },

    /**
     * Recipients a send had claimed and not marked, to be sent again at once
     * (as the same message: the same Message-ID, so the same .eml file):
     * only for a database only this process can open, at start, when such a
     * claim can only be a dead process's (app.ts). Returns how many.
     */
    releaseClaims(): Promise<number> {
      return repo.releaseClaims();
    },

    /**
     * The send job: fixes the recipients when it first runs, then sends to
     * at most `perMinute` of them and queues itself for the next minute. Each
     * recipient is claimed (state `sending`) before and marked after its
     * email, with a fixed Message-ID: a worker that dies leaves its claimed
     * rows to be sent again after the lease, as the same message.
     */
    async runSend(
      issueId: string,
      opts: { deliver?: Mailer['deliver'] } = {},
    ): Promise<'done' | 'more' | 'nothing'> {
      const deliver = opts.deliver ?? mailer.deliver;
      const started = now();
      const issue = await transaction(async (tx) => {
        const r = repo.in(tx);
        const found = await r.issueById(issueId, true);
        if (!found) return undefined;
        // A job for a time the editor changed since: the issue's own job will come.
        if (found.state === 'scheduled' && found.scheduledAt && found.scheduledAt > now())
          return undefined;
        if (found.state === 'scheduled') {
          await r.createDeliveries(found);
          return r.updateIssue(issueId, { state: 'sending' });
        }
        return found.state === 'sending' ? found : undefined;
      });
      if (!issue) return 'nothing';
      const items = await repo.itemsFor(issueId);
      let sent = 0;
      while (sent < deps.perMinute) {
        const batch = await repo.claimDeliveries(
          issueId,
          Math.min(50, deps.perMinute - sent),
          DELIVERY_LEASE_SECONDS,
          (await deps.claimant?.()) ?? null,
        );
        if (!batch.length) break;
        const people = await repo.subscribersByIds(batch.map((d) => d.subscriberId));
        const one = async (d: (typeof batch)[number]) => {
          const s = people.get(d.subscriberId);
          if (!s || s.state !== 'subscribed') {
            await repo.markDelivery(issueId, d.subscriberId, 'unsubscribed');
            return;
          }
          const { empty, message } = issueEmail(issue, items, s);
          if (empty) {
            await repo.markDelivery(issueId, d.subscriberId, 'skipped');
            return;
          }
          try {
            const result = await deliver(message);
            await repo.markDelivery(
              issueId,
              d.subscriberId,
              result === 'sent' ? 'sent' : 'suppressed',
            );
            sent++;
          } catch (err) {
            const msg = (err instanceof Error ? err.message : String(err)).slice(0, 300);
            await repo.markDelivery(
              issueId,
              d.subscriberId,
              d.attempts >= 3 ? 'failed' : 'pending',
              msg,
            );
          }
        };
        // A few at once: an SMTP round trip is mostly waiting (nodemailer's pool, 5 connections).
        const queue = [...batch];
        await Promise.all(
          Array.from({ length: Math.min(SEND_CONCURRENCY, queue.length) }, async () => {
            for (let d = queue.shift(); d; d = queue.shift()) await one(d);
          }),
        );
      }
      const counts = (await repo.deliveryCounts([issueId])).get(issueId) ?? {};
      const left = (counts.pending ?? 0) + (counts.sending ?? 0);
      if (left === 0) {
        await repo.updateIssue(issueId, { state: 'sent', sentAt: now() });
        return 'done';
      }
      // Next minute's share (or, for rows another worker holds, after their lease).
      const wait = counts.pending ? 60_000 : DELIVERY_LEASE_SECONDS * 1000;
      await jobs.enqueue(SEND_JOB, { issueId }, { runAt: new Date(started.getTime() + wait) });
      return 'more';
    },

    // Digests
    /**
     * A draft digest of what was published since the last digest sent (or on its way: scheduled
     * or sending; the first one: since the start of last month). A draft never sent does not
     * move the start on: the new draft covers its items too and replaces it (keeping an
     * editor's introduction, its body). Nothing new: no draft, so nothing is sent.
     */
    async makeDigest(): Promise<IssueRow | undefined> {
      const until = now();
      const start = async (r: R) => (await r.lastSentDigestUntil()) ?? monthStart(until, 1);
      const from = await start(repo);
      const found: { topic: Topic; item: DigestItem }[] = [];
      for (const source of sources)
        for (const item of await source.publishedBetween(from, until))
          if (item.publishedAt > from && item.publishedAt <= until)
            found.push({ topic: source.topic, item });
      if (!found.length) return undefined;
      const t = i18n.translator('en');
      return transaction(async (tx) => {
        const r = repo.in(tx);
        // A digest scheduled meanwhile: start after it.
        const since = await start(r);
        const items = found.filter(({ item }) => item.publishedAt > since);
        if (!items.length) return undefined;
        const [replaced] = await r.deleteDraftDigests();
        const issue = await r.insertIssue({
          kind: 'digest',
          subject: t('newsletter.digest.subject', { date: formatDate(until, 'en') }),
          body: replaced?.body ?? '',
          topics: [...new Set(items.map((f) => f.topic))],
          locale: 'en',
          coversFrom: since,
          coversUntil: until,
        });
        await r.insertItems(
          issue.id,
          items.map(({ topic, item }) => ({
            topic,
            title: item.title,
            url: item.url,
            summary: item.summary ?? null,
            publishedAt: item.publishedAt,
          })),
        );
        return issue;
      });
    },

    /**
     * The daily job: the monthly digest. A draft is made on the first day of a month (London)
     * with something new since the last digest sent, and no more that month.
     */
    async monthlyDigest(): Promise<IssueRow | undefined> {
      if (await repo.digestMadeSince(monthStart(now()))) return undefined;
      return service.makeDigest();
    },

    // The public archive
    async archive(page: number, pageSize: number) {
      return repo.archive(pageSize, (page - 1) * pageSize);
    },
    async archived(id: string) {
      const issue = await repo.issueById(id);
      if (!issue || issue.state !== 'sent') return undefined;
      return { issue, html: issueHtml(issue.body), items: await repo.itemsFor(id) };
    },
  };

  jobs.register(SEND_JOB, async (payload) => {
    const { issueId } = payload as { issueId: string };
    await service.runSend(issueId);
  });
  jobs.register(PURGE_JOB, async () => {
    await service.purgeUnconfirmed();
  });
  jobs.register(DIGEST_JOB, async () => {
    await service.monthlyDigest();
  });
  return service;
}

export type NewsletterService = ReturnType<typeof createNewsletterService>;
