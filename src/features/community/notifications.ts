import { accessAllows, type CurrentUser, type UserRole } from '../../platform/auth.ts';
import type { I18n, Locale, Translate } from '../../platform/i18n/index.ts';
import type { JobQueue } from '../../platform/jobs/index.ts';
import type { Mailer, MailMessage } from '../../platform/mail.ts';
import type { Database, Tx } from '../../db/client.ts';
import { secretsOf, signer } from '../../platform/signing.ts';
import type {
  NotificationRow,
  NotificationsRepository,
  Prefs,
} from './notifications-repository.ts';
import type { CommunityRepository, PostRow, SpaceRow, ThreadRow } from './repository.ts';
import {
  EMAIL_CHOICES,
  type EmailChoice,
  type FollowMode,
  NOTIFICATION_KINDS,
  type NotificationKind,
} from './schema.ts';
import { accessTo, type CommunityEvents, CommunityRefusal } from './service.ts';

/**
 * Community notifications: who is told about a published post (mentions,
 * replies to one's thread, replies in followed threads, new threads in
 * followed spaces) or a moderator's decision on their post; the
 * notifications page; email at once or as a daily digest, per member; the
 * one-click unsubscribe for each kind of email; following and muting.
 *
 * Only people who may read the space are ever told, never the writer about
 * their own post. An anonymous post reaches here with no name (`authorName`
 * undefined) and is stored and shown as "A parent"; its author's id is used
 * only to leave them out, and never stored with a notification.
 */

export const DIGEST_JOB = 'community.daily-digest';
/** A day, and a little more, so a late-running job leaves nothing out (digested items are marked). */
const DIGEST_WINDOW_MS = 26 * 3600 * 1000;
const PAGE_LIMIT = 100;
/** The kinds a person is offered: reports reach only the site's moderators. */
export const kindsFor = (user: CurrentUser | undefined): NotificationKind[] =>
  NOTIFICATION_KINDS.filter(
    (k) => (k !== 'report' && k !== 'held') || accessAllows('moderator', user),
  );

/** What an unsubscribe link can turn off: one kind of notification email, or the daily digest. */
export const UNSUBSCRIBE_KINDS = [...NOTIFICATION_KINDS, 'digest'] as const;
export type UnsubscribeKind = (typeof UNSUBSCRIBE_KINDS)[number];

/**
 * Something elsewhere on the site that concerns a member (a comment on a news item or story they
 * wrote, a reply to their comment): told through the same notifications page, email choices,
 * daily digest and unsubscribe links as the community's own. The feature that asks has decided
 * the person may see it; only active people are told.
 */
export interface ElsewhereNotice {
  userId: string;
  kind: Extract<NotificationKind, 'comment' | 'comment_reply'>;
  /** The writer's display name; null for an anonymous writer ("A parent"). */
  actorLabel: string | null;
  /** What it is about (e.g. the article's title). */
  title: string;
  /** Its path on this site, e.g. `/news/{slug}#comment-{id}`. */
  link: string;
}

export interface NotificationsDeps {
  repo: NotificationsRepository;
  /** The platform's unit of work (`database.transaction`). */
  transaction: Database['transaction'];
  community: CommunityRepository;
  mailer: Mailer;
  jobs: JobQueue;
  i18n: I18n;
  baseUrl: string;
  /** The session secret: signs unsubscribe links. */
  secret: string;
  /** The one it replaced (SESSION_SECRET_PREVIOUS): links it signed still work. */
  previousSecret?: string | undefined;
  log?: { error(obj: unknown, msg: string): void };
  /** The accounts service: whom to write to, and who is named in a post. */
  people: {
    /** Active people to tell, with their address and language (one call for them all). */
    contacts(ids: readonly string[]): Promise<Map<string, Person>>;
    /** Approved, active people whose name follows an "@" in the text. */
    approvedNamedIn(text: string): Promise<{ id: string; displayName: string }[]>;
    /** The site's moderators (moderators and admins): told about reports. */
    moderatorIds?(): Promise<string[]>;
  };
}

/** A person to tell, as the access rules and the email need them. */
interface Person {
  id: string;
  displayName: string;
  role: UserRole;
  approved: boolean;
  email: string;
  locale: string;
}

/** A person as the access rules see them. */
const asViewer = (p: Person): CurrentUser => ({
  id: p.id,
  displayName: p.displayName,
  role: p.role,
  approved: p.approved,
  totpEnabled: false,
});

/** The text in which mentions count: not lines quoted from another post. */
export function unquoted(body: string): string {
  return body
    .split('\n')
    .filter((line) => !/^\s{0,3}>/.test(line))
    .join('\n');
}

const WORD = /[\p{L}\p{N}_]/u;

/**
 * The ids of people mentioned as "@Display Name" in `text`: at each "@" (not
 * inside a word, so not an email address) the longest matching display name,
 * case-insensitively, that does not run on into a longer word.
 */
export function findMentions(
  text: string,
  candidates: { id: string; displayName: string }[],
): Set<string> {
  const lower = text.toLowerCase();
  const names = candidates
    .map((c) => ({ id: c.id, name: c.displayName.toLowerCase() }))
    .filter((c) => c.name.length > 0)
    .sort((a, b) => b.name.length - a.name.length);
  const found = new Set<string>();
  for (let i = lower.indexOf('@'); i >= 0; i = lower.indexOf('@', i + 1)) {
    if (i > 0 && (WORD.test(lower.charAt(i - 1)) || lower.charAt(i - 1) === '.')) continue;
    const rest = lower.slice(i + 1);
    const fits = (name: string) => rest.startsWith(name) && !WORD.test(rest.charAt(name.length));
    const best = names.find((c) => fits(c.name));
    if (!best) continue;
    for (const c of names) if (c.name === best.name) found.add(c.id);
  }
  return found;
}

const UNSUBSCRIBE_PURPOSE = 'community.unsubscribe';

/**
 * The token in an unsubscribe link: who and which kind of email, signed
 * (HMAC-SHA256 with the session secret), base64url. Exported for tests.
 */
export function makeUnsubscribeToken(secret: string, userId: string, kind: UnsubscribeKind) {
  const payload = `${userId}:${kind}`;
  const mac = signer([secret], UNSUBSCRIBE_PURPOSE).sign(payload);
  return `${Buffer.from(payload).toString('base64url')}.${mac}`;
}

export function createNotifications(deps: NotificationsDeps) {
  const { repo, community, mailer, i18n, baseUrl } = deps;

  const links = signer(secretsOf(deps.secret, deps.previousSecret), UNSUBSCRIBE_PURPOSE);
  const unsubscribeToken = (userId: string, kind: UnsubscribeKind) =>
    makeUnsubscribeToken(deps.secret, userId, kind);
  function readToken(token: string): { userId: string; kind: UnsubscribeKind } | undefined {
    const [data, mac] = token.split('.');
    if (!data || !mac || token.split('.').length !== 2) return undefined;
    const payload = Buffer.from(data, 'base64url').toString('utf8');
    if (!links.verify(payload, mac)) return undefined;
    const m = /^([0-9a-f-]{36}):([a-z_]+)$/.exec(payload);
    if (!m || !(UNSUBSCRIBE_KINDS as readonly string[]).includes(m[2]!)) return undefined;
    return { userId: m[1]!, kind: m[2] as UnsubscribeKind };
  }
  const unsubscribeUrl = (userId: string, kind: UnsubscribeKind) =>
    `${baseUrl}/community/notifications/unsubscribe/${unsubscribeToken(userId, kind)}`;

  const translator = (locale: string) => i18n.translator((locale === 'cy' ? 'cy' : 'en') as Locale);
  const spaceName = (locale: string, s: SpaceRow) =>
    locale === 'cy' && s.nameCy ? s.nameCy : s.name;

  /** One notification in words: "A parent replied in “Title”, a thread you follow". */
  function describe(
    t: Translate,
    n: { kind: NotificationKind; actorLabel: string | null; action: string | null },
    title: string,
  ): string {
    const actor = n.actorLabel ?? t('community.aParent');
    if (n.kind === 'report') return t('community.notifications.text.report', { title });
    if (n.kind === 'held') return t('community.notifications.text.held', { title });
    if (n.kind === 'moderation')
      return t(
        `community.notifications.text.moderation_${n.action === 'hide' || n.action === 'warn' || n.action === 'approve' ? n.action : 'restore'}`,
        {
          title,
        },
      );
    return t(`community.notifications.text.${n.kind}`, { actor, title });
  }

  /** Whether this person may read the space now (and the thread, if hidden). */
  async function mayRead(person: Person, space: SpaceRow, threadHidden: boolean) {
    const viewer = asViewer(person);
    const access = accessTo(space, viewer, await community.membership(space.id, person.id));
    return access.read && (!threadHidden || access.moderate);
  }

  async function emailNow(
    person: Person,
    n: {
      id: string;
      kind: NotificationKind;
      actorLabel: string | null;
      action: string | null;
      reason: string | null;
      postId: string;
    },
    title: string,
    space: SpaceRow,
    tx: Tx,
  ) {
    if (!person.email) return;
    const t = translator(person.locale);
    const unsubscribe = unsubscribeUrl(person.id, n.kind);
    const line = describe(t, n, title);
    const parts = [
      line,
      ...((n.kind === 'moderation' || n.kind === 'report') && n.reason
        ? [t('community.notifications.reason', { reason: n.reason })]
        : []),
      t('community.notifications.email.space', { space: spaceName(person.locale, space) }),
      t('community.notifications.email.open', { link: `${baseUrl}/community/posts/${n.postId}` }),
      ...(n.kind === 'report' || n.kind === 'held'
        ? [t('community.notifications.email.queue', { link: `${baseUrl}/admin/moderation` })]
        : []),
      t('community.notifications.email.privacy'),
      t('community.notifications.email.footer', {
        settings: `${baseUrl}/community/notifications/settings`,
      }),
      t('community.notifications.email.unsubscribe', {
        kind: t(`community.notifications.kinds.${n.kind}`),
        link: unsubscribe,
      }),
    ];
    await mailer.send(
      {
        to: person.email,
        subject: line,
        text: `${parts.join('\n\n')}\n`,
        headers: {
          'List-Unsubscribe': `<${unsubscribe}>`,
          'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
        },
      },
      { tx },
    );
  }

  interface What {
    space: SpaceRow;
    threadId: string;
    threadTitle: string;
    threadHidden: boolean;
    postId: string;
    actorLabel: string | null;
    action?: 'hide' | 'restore' | 'warn' | 'approve';
    reason?: string;
  }
  /** Store notifications for these people, then email those who want it now. */
  async function deliver(recipients: Map<string, NotificationKind>, what: What) {
    const write = await prepare(recipients, what);
    // The notifications, their emails and the mark that they were emailed: one unit of work.
    if (write) await deps.transaction(write);
  }
  /**
   * Who may be told (looked up before any transaction starts), and the writes
   * to make inside the unit of work that causes them.
   */
  async function prepare(
    recipients: Map<string, NotificationKind>,
    what: What,
  ): Promise<((tx: Tx) => Promise<void>) | undefined> {
    if (!recipients.size) return undefined;
    const people = (await deps.people.contacts([...recipients.keys()])).values();
    const allowed: Person[] = [];
    for (const p of people) if (await mayRead(p, what.space, what.threadHidden)) allowed.push(p);
    if (!allowed.length) return undefined;
    return async (tx: Tx) => {
      const repo = deps.repo.in(tx);
      const rows = await repo.add(
        allowed.map((p) => ({
          userId: p.id,
          kind: recipients.get(p.id)!,
          spaceId: what.space.id,
          threadId: what.threadId,
          postId: what.postId,
          actorLabel: what.actorLabel,
          action: what.action ?? null,
          reason: what.reason || null,
        })),
      );
      const prefs = await repo.prefsOf(allowed.map((p) => p.id));
      const emailed: string[] = [];
      for (const row of rows) {
        const pref = prefs.get(row.userId) ?? { email: 'immediately', emailOff: [] };
        const person = allowed.find((p) => p.id === row.userId)!;
        if (pref.email !== 'immediately' || pref.emailOff.includes(row.kind) || !person.email)
          continue;
        await emailNow(person, { ...row, postId: what.postId }, what.threadTitle, what.space, tx);
        emailed.push(row.id);
      }
      await repo.markEmailed(emailed);
    };
  }

  /** An email at once about something elsewhere on the site (no post text: only its title). */
  async function emailElsewhere(person: Person, row: NotificationRow & { link: string }, tx: Tx) {
    const t = translator(person.locale);
    const unsubscribe = unsubscribeUrl(person.id, row.kind);
    const line = describe(t, row, row.title ?? '');
    const parts = [
      line,
      t('community.notifications.email.openElsewhere', { link: `${baseUrl}${row.link}` }),
      t('community.notifications.email.footer', {
        settings: `${baseUrl}/community/notifications/settings`,
      }),
      t('community.notifications.email.unsubscribe', {
        kind: t(`community.notifications.kinds.${row.kind}`),
        link: unsubscribe,
      }),
    ];
    await mailer.send(
      {
        to: person.email,
        subject: line,
        text: `${parts.join('\n\n')}\n`,
        headers: {
          'List-Unsubscribe': `<${unsubscribe}>`,
          'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
        },
      },
      { tx },
    );
  }

  /** Never let a notification problem undo a post that is already saved. */
  const safely = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      if (!deps.log) throw err;
      deps.log.error({ err }, `community notifications: ${what} failed`);
    }
  };

  /** Who `body` mentions (not in quoted lines): approved members' ids. */
  async function mentionedIn(body: string): Promise<Set<string>> {
    const text = unquoted(body);
    return text.includes('@')
      ? findMentions(text, await deps.people.approvedNamedIn(text))
      : new Set();
  }
  /** What a post's notifications are about. */
  const about = (post: PostRow, thread: ThreadRow, space: SpaceRow, actorLabel: string | null) => ({
    space,
    threadId: thread.id,
    threadTitle: thread.title,
    threadHidden: thread.hidden,
    postId: post.id,
    actorLabel,
  });

  /** The site's moderators, but not the person whose act it is, each told with this kind. */
  async function moderatorsBut(personId: string, kind: NotificationKind) {
    const ids = (await deps.people.moderatorIds?.()) ?? [];
    return new Map(ids.filter((id) => id !== personId).map((id) => [id, kind]));
  }

  const events: CommunityEvents = {
    async posted({ post, thread, space, authorId, authorName }) {
      await safely('posted', async () => {
        const isNew = post.number === 1;
        const watchers = await repo.watchers(thread.id, space.id);
        const muted = new Set(
          [...watchers.thread, ...watchers.space]
            .filter((w) => w.mode === 'mute')
            .map((w) => w.userId),
        );
        const recipients = new Map<string, NotificationKind>();
        const add = (id: string | null | undefined, kind: NotificationKind) => {
          if (!id || id === authorId || recipients.has(id)) return;
          if (kind !== 'mention' && muted.has(id)) return;
          recipients.set(id, kind);
        };
        for (const id of await mentionedIn(post.body)) add(id, 'mention');
        if (!isNew) add(thread.authorId, 'reply');
        for (const w of watchers.thread) if (w.mode === 'follow') add(w.userId, 'followed');
        if (isNew)
          for (const w of watchers.space) if (w.mode === 'follow') add(w.userId, 'new_thread');
        // Writing in a thread follows it (unless one chose otherwise before).
        await repo.followIfUnset(authorId, thread.id);
        await deliver(recipients, about(post, thread, space, authorName ?? null));
      });
    },
    async edited({ post, previousBody, thread, space, authorId, authorName }) {
      await safely('edited', async () => {
        const now = await mentionedIn(post.body);
        if (!now.size) return;
        const already = await mentionedIn(previousBody);
        const recipients = new Map<string, NotificationKind>();
        for (const id of now)
          if (id !== authorId && !already.has(id)) recipients.set(id, 'mention');
        if (!recipients.size) return;
        await deliver(recipients, about(post, thread, space, authorName ?? null));
      });
    },
    /**
     * A report: the site's moderators are told, each as their settings say
     * (at once, in the daily digest, or not by email). The writes are returned
     * for the report's own transaction. The reporter is not named.
     */
    async reported({ post, thread, space, reason, reporterId }) {
      return prepare(await moderatorsBut(reporterId, 'report'), {
        ...about(post, thread, space, null),
        reason,
      });
    },
    /**
     * A post held for approval: the site's moderators are told as for a report
     * (their settings decide how), in the post's own transaction. The author is
     * not named: the moderators see who wrote it in the queue.
     */
    async held({ postId, thread, space, authorId }) {
      return prepare(await moderatorsBut(authorId, 'held'), {
        space,
        threadId: thread.id,
        threadTitle: thread.title,
        threadHidden: thread.hidden,
        postId,
        actorLabel: null,
      });
    },
    async moderated({ post, thread, space, action, reason }) {
      if (action === 'dismiss' || !post.authorId) return;
      const authorId = post.authorId;
      await safely('moderated', () =>
        deliver(new Map([[authorId, 'moderation']]), {
          ...about(post, thread, space, null),
          threadHidden: false,
          action,
          reason,
        }),
      );
    },
  };

  /** The space and what the viewer may do there; refused as the community pages refuse. */
  async function readableSpace(viewer: CurrentUser, slug: string) {
    const space = await community.spaceBySlug(slug);
    if (!space) return undefined;
    const access = accessTo(space, viewer, await community.membership(space.id, viewer.id));
    if (!access.read) throw new CommunityRefusal(access.refusal ?? 'group');
    return { space, access };
  }

  const api = {
    ...events,
    DIGEST_JOB,
    unsubscribeToken,

    /**
     * Notifications about things elsewhere on the site (`ElsewhereNotice`): the people are looked
     * up now, and the writes (the notifications, the emails of those who want them at once, the
     * mark that they were emailed) are returned for the caller's own unit of work, so they commit
     * with the comment that causes them. Nothing to write: undefined.
     */
    async elsewhere(notices: ElsewhereNotice[]): Promise<((tx: Tx) => Promise<void>) | undefined> {
      for (const n of notices)
        if (!/^\/(?![/\\])/.test(n.link)) throw new Error('A notification links to this site only');
      if (!notices.length) return undefined;
      const people = await deps.people.contacts([...new Set(notices.map((n) => n.userId))]);
      const told = notices.filter((n) => people.has(n.userId));
      if (!told.length) return undefined;
      return async (tx: Tx) => {
        const r = deps.repo.in(tx);
        const rows = await r.add(
          told.map((n) => ({
            userId: n.userId,
            kind: n.kind,
            title: n.title,
            link: n.link,
            actorLabel: n.actorLabel,
          })),
        );
        const prefs = await r.prefsOf([...new Set(rows.map((row) => row.userId))]);
        const emailed: string[] = [];
        for (const row of rows) {
          const pref = prefs.get(row.userId) ?? { email: 'immediately', emailOff: [] };
          const person = people.get(row.userId)!;
          if (pref.email !== 'immediately' || pref.emailOff.includes(row.kind) || !person.email)
            continue;
          await emailElsewhere(person, { ...row, link: row.link! }, tx);
          emailed.push(row.id);
        }
        await r.markEmailed(emailed);
      };
    },

    /** A member's notifications, newest first, only those they may still read. */
    async page(viewer: CurrentUser, kind?: NotificationKind) {
      const [rows, memberships] = await Promise.all([
        repo.list(viewer.id, { limit: PAGE_LIMIT, ...(kind ? { kind } : {}) }),
        community.memberships(viewer.id),
      ]);
      const items = rows.filter((r) => {
        // Elsewhere on the site: the feature that asked decided who may see it.
        if (!r.space) return r.n.link !== null;
        const space = r.space;
        const access = accessTo(
          space,
          viewer,
          memberships.find((m) => m.spaceId === space.id),
        );
        if (!access.read) return false;
        if (access.moderate) return true;
        const ownPost = r.n.kind === 'moderation';
        return !r.threadHidden && (r.postStatus === 'visible' || ownPost);
      });
      return {
        items: items.map((r) => ({
          id: r.n.id,
          kind: r.n.kind,
          actorLabel: r.n.actorLabel,
          action: r.n.action,
          reason: r.n.reason,
          postId: r.n.postId,
          link: r.n.link,
          threadTitle: r.threadTitle ?? r.n.title ?? '',
          space: r.space,
          createdAt: r.n.createdAt,
          unread: !r.n.readAt,
        })),
        unread: items.filter((r) => !r.n.readAt).length,
      };
    },
    describe,
    unreadCount: (viewer: CurrentUser) => repo.unreadCount(viewer.id),
    markAllRead: (viewer: CurrentUser) => repo.markAllRead(viewer.id),
    /**
     * Opening a notification marks it read; where to go: the post it is about, or the page
     * elsewhere on the site; nothing if it is not the viewer's.
     */
    async openOne(viewer: CurrentUser, id: string): Promise<string | undefined> {
      const row = await repo.markOneRead(viewer.id, id);
      if (row?.postId) return `/community/posts/${row.postId}`;
      return row?.link && /^\/(?![/\\])/.test(row.link) ? row.link : undefined;
    },
    settings: (viewer: CurrentUser): Promise<Prefs> => repo.prefs(viewer.id),
    async saveSettings(viewer: CurrentUser, choice: EmailChoice, kinds: NotificationKind[]) {
      if (!(EMAIL_CHOICES as readonly string[]).includes(choice)) throw new Error('Bad choice');
      await repo.setPrefs(viewer.id, {
        email: choice,
        emailOff: kindsFor(viewer).filter((k) => !kinds.includes(k)),
      });
    },

    /** Follow, mute or neither: a thread the viewer may read. */
    async followThread(
      viewer: CurrentUser,
      slug: string,
      threadId: string,
      mode: FollowMode | 'none' | 'check',
    ) {
      const found = await readableSpace(viewer, slug);
      if (!found) return undefined;
      const thread = await community.thread(threadId);
      if (!thread || thread.spaceId !== found.space.id) return undefined;
      if (thread.hidden && !found.access.moderate) return undefined;
      if (mode !== 'check') await repo.setThreadMode(viewer.id, thread.id, mode);
      return { space: found.space, thread };
    },
    /** Follow (be told of new threads), mute or neither: a space the viewer may read. */
    async followSpace(viewer: CurrentUser, slug: string, mode: FollowMode | 'none' | 'check') {
      const found = await readableSpace(viewer, slug);
      if (!found) return undefined;
      if (mode !== 'check') await repo.setSpaceMode(viewer.id, found.space.id, mode);
      return found;
    },
    /** What an unsubscribe link is for, if it is one we made. */
    unsubscribeTarget: (token: string) => readToken(token),
    /** Turn off the kind of email the link names (the digest link stops the digest). */
    async unsubscribe(token: string): Promise<UnsubscribeKind | undefined> {
      const target = readToken(token);
      if (!target) return undefined;
      if (target.kind === 'digest') await repo.emailNever(target.userId);
      else await repo.emailOff(target.userId, target.kind);
      return target.kind;
    },

    /**
     * The daily digest: one email to each member whose choice is "daily", with
     * everything from the last day not yet emailed or digested, grouped by
     * space; those notifications are then marked. Returns how many emails.
     */
    async sendDigest(now = new Date()): Promise<number> {
      const rows = await repo.forDigest(new Date(now.getTime() - DIGEST_WINDOW_MS));
      const byUser = new Map<string, typeof rows>();
      for (const r of rows) byUser.set(r.n.userId, [...(byUser.get(r.n.userId) ?? []), r]);
      const people = await deps.people.contacts([...byUser.keys()]);
      let sent = 0;
      for (const [userId, list] of byUser) {
        const person = people.get(userId);
        const include: typeof rows = [];
        let digest: MailMessage | undefined;
        if (person?.email)
          for (const r of list)
            if (
              !r.emailOff.includes(r.n.kind) &&
              (r.space ? await mayRead(person, r.space, false) : r.n.link !== null)
            )
              include.push(r);
        if (person?.email && include.length) {
          const t = translator(person.locale);
          // Space by space; what is elsewhere on the site comes last, under its own heading.
          const spaces = new Map<string, typeof rows>();
          for (const r of include) {
            const key = r.space?.id ?? '';
            spaces.set(key, [...(spaces.get(key) ?? []), r]);
          }
          const ordered = [...spaces.entries()].sort(([a], [b]) =>
            a === '' ? 1 : b === '' ? -1 : 0,
          );
          const sections = ordered.map(([, items]) => {
            const first = items[0]!.space;
            const heading = first
              ? spaceName(person.locale, first)
              : t('community.notifications.elsewhere');
            const lines = items.map(
              (r) =>
                `- ${describe(t, r.n, r.threadTitle ?? r.n.title ?? '')}${
                  r.n.kind === 'moderation' && r.n.reason
                    ? ` (${t('community.notifications.reason', { reason: r.n.reason })})`
                    : ''
                }\n  ${r.n.postId ? `${baseUrl}/community/posts/${r.n.postId}` : `${baseUrl}${r.n.link ?? '/'}`}`,
            );
            return `${heading}\n${'='.repeat(Math.min(60, heading.length))}\n${lines.join('\n')}`;
          });
          const unsubscribe = unsubscribeUrl(userId, 'digest');
          digest = {
            to: person.email,
            subject: t('community.notifications.digest.subject', { count: include.length }),
            text: `${[
              t('community.notifications.digest.intro'),
              ...sections,
              t('community.notifications.email.privacy'),
              t('community.notifications.email.footer', {
                settings: `${baseUrl}/community/notifications/settings`,
              }),
              t('community.notifications.digest.unsubscribe', { link: unsubscribe }),
            ].join('\n\n')}\n`,
            headers: {
              'List-Unsubscribe': `<${unsubscribe}>`,
              'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
            },
          };
          sent++;
        }
        // The digest email and the mark on what it covered commit together.
        await deps.transaction(async (tx) => {
          if (digest) await mailer.send(digest, { tx });
          await repo.in(tx).markDigested(list.map((r) => r.n.id));
        });
      }
      return sent;
    },

    personalData: {
      name: 'community-notifications',
      export: (userId: string) => repo.personalData(userId),
      erase: (userId: string) => repo.erase(userId),
    },
  };
  deps.jobs.register(DIGEST_JOB, async () => {
    await api.sendDigest();
  });
  return api;
}

export type CommunityNotifications = ReturnType<typeof createNotifications>;
