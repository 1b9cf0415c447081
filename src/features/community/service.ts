import { randomUUID } from 'node:crypto';
import { accessAllows, type AuditLog, type CurrentUser } from '../../platform/auth.ts';
import { plainText, renderMarkdown } from '../../platform/rich-text.ts';
import {
  noSearchChanges,
  type SearchChanged,
  type SearchDocument,
  type SearchMatches,
  type SearchSource,
} from '../../platform/search.ts';
import type { Storage } from '../../platform/storage.ts';
import type { Tx } from '../../db/client.ts';
import { type CheckedAttachment, MAX_ATTACHMENTS } from './attachments.ts';
import {
  type CommunityRepository,
  type NewAttachment,
  THREAD_COUNT_CAP,
  type MembershipRow,
  type PostRow,
  type SpaceRow,
  type ThreadRow,
} from './repository.ts';
import type { PostStatus } from './schema.ts';

/**
 * The community's rules, all in one place: who may read, post in and
 * moderate each space; threads and replies (Markdown made safe when saved);
 * anonymous posts by parents; likes, edits (old text kept for moderators),
 * deletion; reports and the moderation queue; "new since your last visit".
 */

/** How far a space's threads are counted (numbered pages); past it, lists page on by id. */
export { THREAD_COUNT_CAP } from './repository.ts';
export const THREADS_PER_PAGE = 30;
export const POSTS_PER_PAGE = 20;
/** How many of a new member's posts wait for a moderator unless a setting says otherwise. */
export const DEFAULT_HELD_POSTS = 2;
export const HELD_POSTS_SETTING = 'community.held_first_posts';

/** The site search's name for the community (the first half of its keys in the index). */
export const SEARCH_SOURCE = 'community';
/** How much of a thread's text the search keeps (SearchDocument.body). */
const SEARCH_BODY_MAX = 20_000;
const SEARCH_SUMMARY_MAX = 200;
const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
};
/** Markdown as plain words for the search: no markup, no HTML entities. */
function searchText(markdown: string): string {
  return plainText(markdown).replace(
    /&(?:#(\d+)|#x([0-9a-f]+)|([a-z]+));/gi,
    (all, dec?: string, hex?: string, name?: string) =>
      dec
        ? String.fromCodePoint(Number(dec))
        : hex
          ? String.fromCodePoint(parseInt(hex, 16))
          : (ENTITIES[name!.toLowerCase()] ?? all),
  );
}
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Why someone may not do what they asked: a visitor signs in; others are told why. */
export type Refusal = 'signIn' | 'approval' | 'group' | 'locked' | 'notYours';

export class CommunityRefusal extends Error {
  readonly statusCode: number;
  constructor(readonly reason: Refusal) {
    super(`Refused: ${reason}`);
    this.statusCode = reason === 'signIn' ? 401 : 403;
  }
}

export interface Access {
  read: boolean;
  post: boolean;
  moderate: boolean;
  /** Why not, when `read` is false. */
  refusal?: Refusal;
  membership?: MembershipRow | undefined;
}

const isStaffModerator = (u: CurrentUser | undefined) => accessAllows('moderator', u);
/** Approved (accounts' one rule, as route access `member` applies it): may post where they may read. */
const isApproved = (u: CurrentUser | undefined) => accessAllows('member', u);

/** What a person may do in a space. */
export function accessTo(
  space: SpaceRow,
  viewer: CurrentUser | undefined,
  membership: MembershipRow | undefined,
): Access {
  const member = membership?.status === 'member' ? membership : undefined;
  const moderate = isStaffModerator(viewer) || member?.role === 'moderator';
  const approved = isApproved(viewer);
  const inGroup = space.visibility !== 'group' || Boolean(member);
  const post = moderate || (approved && inGroup);
  const read = post || (space.visibility === 'members' && space.publicRead);
  const refusal: Refusal | undefined = read
    ? undefined
    : !viewer
      ? 'signIn'
      : !approved
        ? 'approval'
        : 'group';
  return { read, post, moderate, ...(refusal ? { refusal } : {}), membership };
}

/** May a person with this access to its space read the thread: a hidden one is for moderators. */
export function mayReadThread(access: Access, thread: { hidden: boolean }): boolean {
  return access.read && (!thread.hidden || access.moderate);
}

/** What happened, for whoever listens (notifications). Authors of anonymous posts are not passed on. */
export interface CommunityEvents {
  posted(e: {
    post: PostRow;
    thread: ThreadRow;
    space: SpaceRow;
    /** The writer's id, for not notifying them of their own post. */
    authorId: string;
    /** The name to show, or undefined when the post is anonymous ("A parent"). */
    authorName: string | undefined;
  }): Promise<void>;
  /** A published post was edited by its author: people newly mentioned are told. */
  edited(e: {
    post: PostRow;
    previousBody: string;
    thread: ThreadRow;
    space: SpaceRow;
    authorId: string;
    authorName: string | undefined;
  }): Promise<void>;
  moderated(e: {
    post: PostRow;
    thread: ThreadRow;
    space: SpaceRow;
    /** approve: a held post let through (restore, on a post that was waiting). */
    action: 'hide' | 'restore' | 'dismiss' | 'warn' | 'approve';
    reason: string;
  }): Promise<void>;
  /**
   * A post was reported: returns the writes (the moderators' notifications
   * and emails) to make in the report's own transaction, so a saved report
   * always has them and a failed one never does.
   */
  reported?(e: {
    post: PostRow;
    thread: ThreadRow;
    space: SpaceRow;
    reason: string;
    reporterId: string;
  }): Promise<((tx: Tx) => Promise<void>) | undefined>;
  /**
   * A post is held for approval: returns the writes (the moderators'
   * notifications and emails) to make in the post's own transaction.
   */
  held?(e: {
    postId: string;
    thread: Pick<ThreadRow, 'id' | 'title' | 'hidden'>;
    space: SpaceRow;
    authorId: string;
  }): Promise<((tx: Tx) => Promise<void>) | undefined>;
}

export interface CommunityDeps {
  events?: CommunityEvents;
  repo: CommunityRepository;
  /** Where posts' attachments are kept (under `community/<postId>/`). */
  storage?: Storage;
  /** The accounts service's read model of people (names, kinds): never their email addresses. */
  people: {
    person(id: string): Promise<CommunityPerson | undefined>;
    /** Several at once: one call for a page's authors, never one per row. */
    people(ids: readonly string[]): Promise<Map<string, CommunityPerson>>;
    setting<T>(key: string): Promise<T | undefined>;
    audit: AuditLog;
  };
  /** The site search, told (after the change commits) which threads to look at again. */
  searchChanged?: SearchChanged;
  /** The site search's matching threads for a viewer: the community search's words (its own match when absent). */
  searchMatches?: SearchMatches;
}

/** What the community shows of a person. */
export interface CommunityPerson {
  id: string;
  displayName: string;
  kind: string;
}

export function createCommunityService(deps: CommunityDeps) {
  const { repo, people } = deps;
  const searchChanged = deps.searchChanged ?? noSearchChanges;
  /** Tell the search these threads changed: after the commit, never failing the request. */
  const changed = (ids: readonly string[]) => {
    if (!ids.length) return;
    try {
      searchChanged(SEARCH_SOURCE, ids);
    } catch {
      // The search's safety net (changedSince) finds it later.
    }
  };

  async function spaceFor(viewer: CurrentUser | undefined, slug: string) {
    const row = await repo.spaceContext(slug, viewer?.id);
    if (!row) return undefined;
    const membership = row.membership ?? undefined;
    return {
      space: row.space,
      access: accessTo(row.space, viewer, membership),
      /** The viewer's follow/mute choice for the space, if any. */
      follow: row.follow ?? undefined,
    };
  }
  async function readable(viewer: CurrentUser | undefined, slug: string) {
    const found = await spaceFor(viewer, slug);
    if (found && !found.access.read) throw new CommunityRefusal(found.access.refusal!);
    return found;
  }
  /** The space, the thread in it and the viewer's standing there, from one query. */
  async function threadFor(viewer: CurrentUser | undefined, slug: string, threadId: string) {
    const row = await repo.threadContext(slug, threadId, viewer?.id);
    if (!row) return undefined;
    const access = accessTo(row.space, viewer, row.membership ?? undefined);
    if (!access.read) throw new CommunityRefusal(access.refusal!);
    const thread = row.thread;
    if (!thread || !mayReadThread(access, thread)) return undefined;
    return {
      space: row.space,
      access,
      thread,
      lastReadAt: row.lastReadAt ?? undefined,
      /** The viewer's follow/mute choice for the thread, if any. */
      follow: row.follow ?? undefined,
    };
  }
  /** The post, its thread and space, and what the viewer may do there. */
  async function postFor(viewer: CurrentUser | undefined, postId: string) {
    const post = await repo.post(postId);
    if (!post) return undefined;
    const thread = await repo.thread(post.threadId);
    const space = thread && (await repo.spaceById(thread.spaceId));
    if (!thread || !space) return undefined;
    const membership = viewer ? await repo.membership(space.id, viewer.id) : undefined;
    const access = accessTo(space, viewer, membership);
    if (!access.read) throw new CommunityRefusal(access.refusal!);
    const seen = post.status === 'visible' || access.moderate || post.authorId === viewer?.id;
    if (!seen || !mayReadThread(access, thread)) return undefined;
    return { post, thread, space, access };
  }
  /** Only parents may post as "A parent", and only where the space allows it. */
  async function mayPostAnonymously(
    viewer: CurrentUser,
    found: { space: SpaceRow },
    known?: Map<string, CommunityPerson>,
  ) {
    if (!found.space.allowAnonymous) return false;
    const me = known?.get(viewer.id) ?? (await people.person(viewer.id));
    return me?.kind === 'parent';
  }
  /** A new member's first posts wait for a moderator. */
  async function statusForNewPost(viewer: CurrentUser, access: Access): Promise<PostStatus> {
    if (access.moderate) return 'visible';
    const held = (await people.setting<number>(HELD_POSTS_SETTING)) ?? DEFAULT_HELD_POSTS;
    return (await repo.publishedPostsBy(viewer.id)) < held ? 'pending' : 'visible';
  }
  const render = (body: string) => renderMarkdown(body, { ugc: true });
  /**
   * Store a new post's checked files under `community/<postId>/<id>.<ext>`,
   * before its row is written; the caller writes the post and these rows in
   * one transaction and calls `discard` if that fails. If one file fails to
   * store, those already stored are removed.
   */
  async function storeAttachments(
    postId: string,
    files: CheckedAttachment[] | undefined,
  ): Promise<NewAttachment[]> {
    if (!files?.length) return [];
    if (!deps.storage) throw new Error('No storage for attachments');
    const stored: NewAttachment[] = [];
    try {
      for (const f of files) {
        const id = randomUUID();
        const storageKey = `community/${postId}/${id}.${f.ext}`;
        // Already without metadata that could identify the poster (checkAttachments).
        const { size } = await deps.storage.put(storageKey, f.content);
        stored.push({ id, storageKey, filename: f.filename, mime: f.mime, size, alt: f.alt });
      }
    } catch (err) {
      await discard(stored.map((a) => a.storageKey));
      throw err;
    }
    return stored;
  }
  /** Remove files from storage (after their rows are gone, or were never written). */
  async function discard(keys: string[]) {
    for (const key of keys) await deps.storage?.delete(key).catch(() => undefined);
  }
  /** Pass a published post on to whoever listens (never an anonymous author's name). */
  async function tell(viewer: CurrentUser, post: PostRow, thread: ThreadRow, space: SpaceRow) {
    await deps.events?.posted({
      post,
      thread,
      space,
      authorId: viewer.id,
      authorName: post.anonymous ? undefined : viewer.displayName,
    });
  }

  return {
    accessTo,
    /**
     * Spaces the viewer may see listed, with what they may do in each (and, with
     * `activity`, how many threads, up to THREAD_COUNT_CAP + 1, and the latest activity).
     */
    async spaces(viewer: CurrentUser | undefined, opts: { activity?: boolean } = {}) {
      const [all, memberships] = await Promise.all([
        repo.spaces(opts),
        viewer ? repo.memberships(viewer.id) : Promise.resolve([]),
      ]);
      return all
        .map((s) => {
          const membership = memberships.find((m) => m.spaceId === s.space.id);
          return { ...s, access: accessTo(s.space, viewer, membership) };
        })
        .filter(
          // Groups are listed to approved members (so they can ask to join); public spaces to all.
          (s) => s.access.read || (isApproved(viewer) && s.space.visibility === 'group'),
        );
    },
    space: readable,
    /** A page of the space's threads, with "new" marked for the viewer. */
    async threads(viewer: CurrentUser | undefined, slug: string, page: number, after?: string) {
      const found = await readable(viewer, slug);
      if (!found) return undefined;
      const list = await repo.threads(found.space.id, {
        includeHidden: found.access.moderate,
        offset: (page - 1) * THREADS_PER_PAGE,
        limit: THREADS_PER_PAGE + 1, // one more: is there a next page?
        ...(viewer ? { readerId: viewer.id } : {}),
        ...(after ? { after } : {}),
      });
      const hasNext = list.rows.length > THREADS_PER_PAGE;
      const shown = list.rows.slice(0, THREADS_PER_PAGE);
      // The starters' names: one call for the page (never asked for an anonymous thread).
      const starters = await people.people(
        shown.flatMap((r) => (!r.thread.anonymous && r.thread.authorId ? [r.thread.authorId] : [])),
      );
      // Past the counting cap the number of pages is not known: "next" while there is one.
      const pages =
        list.total > THREAD_COUNT_CAP
          ? page + (hasNext ? 1 : 0)
          : Math.max(1, Math.ceil(list.total / THREADS_PER_PAGE));
      return {
        ...found,
        ...list,
        pages,
        // Past the counting cap "next" continues from the last thread shown,
        // so a deep page costs what the first does.
        after: list.total > THREAD_COUNT_CAP && hasNext ? shown.at(-1)?.thread.id : undefined,
        rows: shown.map((r) => ({
          ...r,
          // Anonymous threads carry no name, whoever is reading.
          authorName:
            r.thread.anonymous || !r.thread.authorId
              ? null
              : (starters.get(r.thread.authorId)?.displayName ?? null),
          isNew: Boolean(viewer) && (!r.lastReadAt || r.lastReadAt < r.thread.lastPostAt),
        })),
      };
    },
    /**
     * A page of a thread. Members see visible posts (and their own waiting
     * ones); moderators also see hidden and waiting posts, marked. Reading
     * records the visit, after working out which posts are new.
     */
    async thread(viewer: CurrentUser | undefined, slug: string, threadId: string, page: number) {
      const found = await threadFor(viewer, slug, threadId);
      if (!found) return undefined;
      const statuses: PostStatus[] = found.access.moderate
        ? ['visible', 'hidden', 'pending', 'deleted']
        : ['visible', 'deleted'];
      const list = await repo.posts(threadId, {
        statuses,
        offset: (page - 1) * POSTS_PER_PAGE,
        limit: POSTS_PER_PAGE,
        ...(viewer ? { viewerId: viewer.id } : {}),
      });
      const lastRead = found.lastReadAt;
      // The named authors (and the viewer, for "post as a parent"): one call for the page.
      const named = await people.people([
        ...list.rows.flatMap((p) => (!p.anonymous && p.authorId ? [p.authorId] : [])),
        ...(viewer && found.space.allowAnonymous ? [viewer.id] : []),
      ]);
      if (viewer) {
        const newest = list.rows.at(-1)?.createdAt;
        // Written only when it moves forward: re-reading costs no write.
        if (newest && (!lastRead || newest > lastRead))
          await repo.markRead(viewer.id, threadId, newest);
      }
      return {
        ...found,
        total: list.total,
        pages: Math.max(1, Math.ceil(list.total / POSTS_PER_PAGE)),
        posts: list.rows.map(({ authorId, ...p }) => {
          const author = p.anonymous || !authorId ? undefined : named.get(authorId);
          return {
            ...p,
            authorName: author?.displayName ?? null,
            authorKind: author?.kind ?? null,
            isNew: Boolean(viewer) && !p.mine && (!lastRead || p.createdAt > lastRead),
          };
        }),
        mayPostAnonymously: viewer ? await mayPostAnonymously(viewer, found, named) : false,
      };
    },
    /** Which page of the thread a post is on, for links to it. */
    async pageOf(viewer: CurrentUser | undefined, postId: string) {
      const found = await postFor(viewer, postId);
      if (!found) return undefined;
      const statuses: PostStatus[] = found.access.moderate
        ? ['visible', 'hidden', 'pending', 'deleted']
        : ['visible', 'deleted'];
      const before = await repo.postsBefore(found.thread.id, found.post.number, statuses);
      return {
        slug: found.space.slug,
        threadId: found.thread.id,
        page: Math.floor(before / POSTS_PER_PAGE) + 1,
      };
    },
    /** What the new-thread form needs to know. */
    async newThreadForm(viewer: CurrentUser, slug: string) {
      const found = await readable(viewer, slug);
      if (!found) return undefined;
      if (!found.access.post) throw new CommunityRefusal(found.access.refusal ?? 'group');
      return { ...found, mayPostAnonymously: await mayPostAnonymously(viewer, found) };
    },
    async createThread(
      viewer: CurrentUser,
      slug: string,
      input: {
        title: string;
        body: string;
        anonymous: boolean;
        attachments?: CheckedAttachment[];
      },
    ) {
      const found = await readable(viewer, slug);
      if (!found) return undefined;
      if (!found.access.post) throw new CommunityRefusal(found.access.refusal ?? 'group');
      const anonymous = input.anonymous && (await mayPostAnonymously(viewer, found));
      const status = await statusForNewPost(viewer, found.access);
      // Files first, then the thread, post and attachment rows in one transaction
      // (with the moderators' notifications when the post is held).
      const postId = randomUUID();
      const threadId = randomUUID();
      const hidden = status === 'pending';
      const tellModerators = hidden
        ? await deps.events?.held?.({
            postId,
            thread: { id: threadId, title: input.title, hidden },
            space: found.space,
            authorId: viewer.id,
          })
        : undefined;
      const files = await storeAttachments(postId, input.attachments);
      const created = await repo
        .createThread(
          {
            id: threadId,
            spaceId: found.space.id,
            title: input.title,
            authorId: viewer.id,
            anonymous,
            hidden,
          },
          { id: postId, body: input.body, bodyHtml: render(input.body), status },
          files,
          tellModerators,
        )
        .catch(async (err: unknown) => {
          await discard(files.map((f) => f.storageKey));
          throw err;
        });
      await people.audit('community.thread_created', {
        actorId: viewer.id,
        detail: { thread: created.thread.id, held: status === 'pending' },
      });
      if (status === 'visible') changed([created.thread.id]);
      if (status === 'visible') await tell(viewer, created.post, created.thread, found.space);
      return { ...created, held: status === 'pending' };
    },
    async reply(
      viewer: CurrentUser,
      slug: string,
      threadId: string,
      input: { body: string; anonymous: boolean; attachments?: CheckedAttachment[] },
    ) {
      const found = await threadFor(viewer, slug, threadId);
      if (!found) return undefined;
      if (!found.access.post) throw new CommunityRefusal(found.access.refusal ?? 'group');
      if (found.thread.locked && !found.access.moderate) throw new CommunityRefusal('locked');
      const anonymous = input.anonymous && (await mayPostAnonymously(viewer, found));
      const status = await statusForNewPost(viewer, found.access);
      // Files first, then the post and attachment rows in one transaction
      // (with the moderators' notifications when the post is held).
      const postId = randomUUID();
      const tellModerators =
        status === 'pending'
          ? await deps.events?.held?.({
              postId,
              thread: found.thread,
              space: found.space,
              authorId: viewer.id,
            })
          : undefined;
      const files = await storeAttachments(postId, input.attachments);
      const post = await repo
        .reply(
          {
            id: postId,
            threadId,
            authorId: viewer.id,
            anonymous,
            body: input.body,
            bodyHtml: render(input.body),
            status,
          },
          files,
          tellModerators,
        )
        .catch(async (err: unknown) => {
          await discard(files.map((f) => f.storageKey));
          throw err;
        });
      if (status === 'visible') changed([threadId]);
      if (status === 'visible') await tell(viewer, post, found.thread, found.space);
      return { post, held: status === 'pending' };
    },
    /** The post as its author wrote it, for editing or quoting. */
    async source(viewer: CurrentUser | undefined, postId: string) {
      const found = await postFor(viewer, postId);
      if (!found || found.post.status === 'deleted') return undefined;
      const mayEdit = found.access.moderate || found.post.authorId === viewer?.id;
      return { ...found, mayEdit };
    },
    /** What the edit page needs: the post and its files, for its author or a moderator. */
    async editForm(viewer: CurrentUser, postId: string) {
      const found = await this.source(viewer, postId);
      if (!found) return undefined;
      if (!found.mayEdit) throw new CommunityRefusal('notYours');
      return { ...found, files: await repo.attachmentsOf(postId) };
    },
    /**
     * Edit a post: its words (the old ones kept for moderators), and its
     * files: `remove` (ids of its own files) and `add` (checked files). A
     * post keeps at most MAX_ATTACHMENTS files: more gives `tooMany` and
     * changes nothing. New files are stored first; if the change cannot be
     * saved they are removed again; removed files leave storage after.
     */
    async edit(
      viewer: CurrentUser,
      postId: string,
      body: string,
      files: { remove?: string[]; add?: CheckedAttachment[] } = {},
    ) {
      const found = await postFor(viewer, postId);
      if (!found || found.post.status === 'deleted') return undefined;
      if (!found.access.moderate && found.post.authorId !== viewer.id)
        throw new CommunityRefusal('notYours');
      if (found.thread.locked && !found.access.moderate) throw new CommunityRefusal('locked');
      const existing =
        files.remove?.length || files.add?.length ? await repo.attachmentsOf(postId) : [];
      const remove = existing.filter((a) => files.remove?.includes(a.id)).map((a) => a.id);
      const adding = files.add ?? [];
      if (existing.length - remove.length + adding.length > MAX_ATTACHMENTS)
        return { tooMany: true as const };
      const added = await storeAttachments(postId, adding);
      const saved = await repo
        .editPost(postId, body, render(body), viewer.id, { remove, add: added })
        .catch(async (err: unknown) => {
          await discard(added.map((f) => f.storageKey));
          throw err;
        });
      if (!saved) {
        await discard(added.map((f) => f.storageKey));
        return undefined;
      }
      await discard(saved.removedKeys);
      changed([found.thread.id]);
      const row = saved.post;
      await people.audit('community.post_edited', {
        actorId: viewer.id,
        detail: {
          post: postId,
          byModerator: found.post.authorId !== viewer.id,
          ...(remove.length ? { filesRemoved: remove.length } : {}),
          ...(added.length ? { filesAdded: added.length } : {}),
        },
      });
      // Mentions are the author's: a moderator's edit tells nobody.
      if (row?.status === 'visible' && found.post.authorId === viewer.id)
        await deps.events?.edited({
          post: row,
          previousBody: found.post.body,
          thread: found.thread,
          space: found.space,
          authorId: viewer.id,
          authorName: row.anonymous ? undefined : viewer.displayName,
        });
      return { post: row, space: found.space, thread: found.thread };
    },
    /** Earlier versions of a post: moderators only. */
    async revisions(viewer: CurrentUser, postId: string) {
      const found = await postFor(viewer, postId);
      if (!found) return undefined;
      if (!found.access.moderate) throw new CommunityRefusal('notYours');
      return { ...found, revisions: await repo.revisions(postId) };
    },
    async remove(viewer: CurrentUser, postId: string) {
      const found = await postFor(viewer, postId);
      if (!found) return undefined;
      if (!found.access.moderate && found.post.authorId !== viewer.id)
        throw new CommunityRefusal('notYours');
      const files = await repo.attachmentsOf(postId);
      const row = await repo.deletePost(postId);
      // The rows went with the post; now the files.
      if (row) await discard(files.map((f) => f.storageKey));
      if (row) changed([found.thread.id]);
      await people.audit('community.post_deleted', {
        actorId: viewer.id,
        detail: { post: postId, byModerator: found.post.authorId !== viewer.id },
      });
      return row && { post: row, space: found.space, thread: found.thread };
    },
    async like(viewer: CurrentUser, postId: string) {
      const found = await postFor(viewer, postId);
      if (!found || found.post.status !== 'visible') return undefined;
      if (!found.access.post) throw new CommunityRefusal(found.access.refusal ?? 'group');
      return { liked: await repo.toggleLike(postId, viewer.id), ...found };
    },
    async report(viewer: CurrentUser, postId: string, reason: string) {
      const found = await postFor(viewer, postId);
      if (!found || found.post.status !== 'visible') return undefined;
      if (!isApproved(viewer)) throw new CommunityRefusal('approval');
      const tellModerators = await deps.events?.reported?.({
        ...found,
        reason,
        reporterId: viewer.id,
      });
      await repo.report(postId, viewer.id, reason, tellModerators);
      await people.audit('community.post_reported', {
        actorId: viewer.id,
        detail: { post: postId },
      });
      return found;
    },

    /** How many reports and held posts wait (site moderators; others get nothing). */
    async queueCounts(
      viewer: CurrentUser | undefined,
    ): Promise<{ reports: number; held: number } | undefined> {
      return isStaffModerator(viewer) ? repo.queueCounts() : undefined;
    },
    /** The moderation queue (site moderators): reports and held posts. */
    async queue(viewer: CurrentUser | undefined) {
      if (!isStaffModerator(viewer)) throw new CommunityRefusal('notYours');
      return repo.queue();
    },
    /**
     * A moderator's decision on a post: hide, restore (also approves a held
     * post) or dismiss the reports. Reports on it are resolved; audited.
     */
    async moderatePost(
      viewer: CurrentUser,
      postId: string,
      action: 'hide' | 'restore' | 'dismiss' | 'warn',
      reason: string,
    ) {
      const found = await postFor(viewer, postId);
      if (!found) return undefined;
      if (!found.access.moderate) throw new CommunityRefusal('notYours');
      // A warning changes nothing on the page: the member is told why (the reason is required).
      if (action === 'hide' || action === 'restore')
        await repo.setPostStatus(postId, action === 'hide' ? 'hidden' : 'visible');
      // The opening post of a held thread shows the thread too.
      if (action === 'restore' && found.post.number === 1 && found.thread.hidden)
        await repo.setThread(found.thread.id, { hidden: false });
      if (action === 'hide' || action === 'restore') changed([found.thread.id]);
      await repo.resolveReports(postId, viewer.id, action);
      // Restoring a held post approves it: the author is told it was approved, not "restored".
      const approved = action === 'restore' && found.post.status === 'pending';
      await deps.events?.moderated({ ...found, action: approved ? 'approve' : action, reason });
      // A held post that is approved now reaches the people it concerns.
      if (action === 'restore' && found.post.status === 'pending' && found.post.authorId) {
        const author = await people.person(found.post.authorId);
        await deps.events?.posted({
          ...found,
          post: { ...found.post, status: 'visible' },
          authorId: found.post.authorId,
          authorName: found.post.anonymous ? undefined : author?.displayName,
        });
      }
      await people.audit(`community.post_${action}`, {
        actorId: viewer.id,
        subjectId: found.post.authorId,
        detail: { post: postId, reason },
      });
      return found;
    },
    /** Pin, lock, hide or move a thread (the space's moderators). */
    async moderateThread(
      viewer: CurrentUser,
      slug: string,
      threadId: string,
      change: { pinned?: boolean; locked?: boolean; hidden?: boolean; moveTo?: string },
    ) {
      const found = await threadFor(viewer, slug, threadId);
      if (!found) return undefined;
      if (!found.access.moderate) throw new CommunityRefusal('notYours');
      let spaceId: string | undefined;
      if (change.moveTo) {
        const target = await spaceFor(viewer, change.moveTo);
        if (!target?.access.moderate) throw new CommunityRefusal('notYours');
        spaceId = target.space.id;
      }
      const row = await repo.setThread(threadId, {
        ...(change.pinned === undefined ? {} : { pinned: change.pinned }),
        ...(change.locked === undefined ? {} : { locked: change.locked }),
        ...(change.hidden === undefined ? {} : { hidden: change.hidden }),
        ...(spaceId ? { spaceId } : {}),
      });
      if (row) changed([threadId]);
      await people.audit('community.thread_moderated', {
        actorId: viewer.id,
        detail: { thread: threadId, ...change },
      });
      return row;
    },

    /**
     * An attachment, with the same rules as its post: refused (sign in, not
     * approved, private group) as the space is; a hidden or held post's files
     * for moderators and the author only; a deleted post has none.
     */
    async attachment(viewer: CurrentUser | undefined, id: string) {
      const file = await repo.attachment(id);
      if (!file) return undefined;
      const found = await postFor(viewer, file.postId);
      if (!found || found.post.status === 'deleted') return undefined;
      return { file, ...found };
    },

    /** Ask to join a group. */
    async requestToJoin(viewer: CurrentUser, slug: string) {
      const space = await repo.spaceBySlug(slug);
      if (!space || space.visibility !== 'group') return undefined;
      if (!isApproved(viewer)) throw new CommunityRefusal('approval');
      const existing = await repo.membership(space.id, viewer.id);
      if (!existing) await repo.setMembership(space.id, viewer.id, { status: 'requested' });
      return space;
    },
    /** A group's members and requests: its moderators only. */
    async members(viewer: CurrentUser, slug: string) {
      const found = await spaceFor(viewer, slug);
      if (!found) return undefined;
      if (!found.access.moderate) throw new CommunityRefusal('notYours');
      const rows = await repo.members(found.space.id);
      const names = await people.people(rows.map((m) => m.userId));
      const members = rows
        .map((m) => ({ ...m, displayName: names.get(m.userId)?.displayName ?? '' }))
        .sort(
          (a, b) =>
            a.status.localeCompare(b.status) ||
            a.displayName.localeCompare(b.displayName, 'en', { sensitivity: 'base' }),
        );
      return { ...found, members };
    },
    async decideMember(
      viewer: CurrentUser,
      slug: string,
      userId: string,
      decision: 'accept' | 'remove',
    ) {
      const found = await spaceFor(viewer, slug);
      if (!found) return undefined;
      if (!found.access.moderate) throw new CommunityRefusal('notYours');
      if (decision === 'accept')
        await repo.setMembership(found.space.id, userId, { status: 'member' });
      else await repo.removeMembership(found.space.id, userId);
      await people.audit(`community.member_${decision}`, {
        actorId: viewer.id,
        subjectId: userId,
        detail: { space: found.space.id },
      });
      return found;
    },

    /** Search posts, only in spaces the viewer may read. */
    async search(viewer: CurrentUser | undefined, q: string) {
      const spaces = await this.spaces(viewer);
      const readable = spaces.filter((s) => s.access.read).map((s) => s.space.id);
      // Words go through the site search (synonyms, stemming, Welsh mutations), best
      // thread first; what is shown is still only what the viewer's spaces allow.
      const ranked =
        readable.length && q.trim() && deps.searchMatches
          ? await deps.searchMatches(q, viewer)
          : undefined;
      // Nothing there (or a visitor reading a public space: threads are never public in
      // the site search): the community's own match of the words.
      return repo.search(q, readable, 50, ranked?.length ? ranked : undefined);
    },
    /**
     * The site search's source: one document per thread its space's readers
     * see (not hidden, not held for a moderator), the text of its visible
     * posts as its body (never an author's name: posts may be anonymous).
     * Never public, even where a space is public to read: `members` for spaces
     * every approved member reads, `space:<id>` for a private group's.
     */
    searchSource(): SearchSource {
      /** The community's own rule for reading, and the search's: approved members only. */
      const searchable = (access: Access, viewer: CurrentUser | undefined) =>
        isApproved(viewer) && access.read;
      const uuids = (ids: readonly string[]) => ids.filter((id) => UUID.test(id));
      const toDocument = (
        t: Awaited<ReturnType<typeof repo.searchThreads>>[number],
      ): SearchDocument => {
        const first = t.first ? searchText(t.first) : '';
        const summary =
          first.length > SEARCH_SUMMARY_MAX
            ? `${first.slice(0, SEARCH_SUMMARY_MAX).replace(/\s+\S*$/, '')}…`
            : first;
        return {
          id: t.id,
          kind: 'thread',
          typeLabel: 'Discussion',
          typeLabelCy: 'Trafodaeth',
          url: `/community/${t.spaceSlug}/${t.id}`,
          language: 'en',
          title: t.title,
          ...(summary ? { summary } : {}),
          body: t.text ? searchText(t.text).slice(0, SEARCH_BODY_MAX) : '',
          date: t.lastPostAt,
          access: t.visibility === 'group' ? `space:${t.spaceId}` : 'members',
          updatedAt: t.editedAt && t.editedAt > t.lastPostAt ? t.editedAt : t.lastPostAt,
        };
      };
      return {
        name: SEARCH_SOURCE,
        kinds: ['thread'],
        async documents(q) {
          const rows = await repo.searchThreads({
            after: q.after === undefined ? undefined : q.after.toLowerCase(),
            ids: q.ids && uuids(q.ids),
            limit: q.limit,
            // Markdown is longer than its words: read more of it than is kept.
            textMax: SEARCH_BODY_MAX * 3,
          });
          return rows.map(toDocument);
        },
        async openable(ids, viewer) {
          if (!viewer || !isApproved(viewer)) return new Set();
          const rows = await repo.threadsWithSpaces(uuids(ids), viewer.id);
          return new Set(
            rows
              .filter((r) => {
                const access = accessTo(r.space, viewer, r.membership ?? undefined);
                return searchable(access, viewer) && mayReadThread(access, r.thread);
              })
              .map((r) => r.thread.id),
          );
        },
        async accessFor(viewer) {
          if (!isApproved(viewer)) return [];
          const [all, memberships] = await Promise.all([
            repo.spaces(),
            repo.memberships(viewer.id),
          ]);
          return all
            .filter(({ space }) => space.visibility === 'group')
            .filter(({ space }) =>
              searchable(
                accessTo(
                  space,
                  viewer,
                  memberships.find((m) => m.spaceId === space.id),
                ),
                viewer,
              ),
            )
            .map(({ space }) => `space:${space.id}`);
        },
        async changedSince(since, limit) {
          return repo.threadsChangedSince(since, limit);
        },
      };
    },
    personalData: {
      name: 'community',
      export: (userId: string) => repo.postsBy(userId),
      erase: async (userId: string, removeContributions: boolean) => {
        // Removed posts take their files with them.
        const { keys, threadIds } = await repo.eraseMember(userId, removeContributions);
        changed(threadIds);
        await discard(keys);
      },
    },
  };
}

export type CommunityService = ReturnType<typeof createCommunityService>;
