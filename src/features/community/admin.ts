import {
  accessAllows,
  AccessDenied,
  type AuditLog,
  type CurrentUser,
} from '../../platform/auth.ts';
import { noSearchChanges, type SearchChanged } from '../../platform/search.ts';
import { SLUG_PATTERN, slugify } from '../../platform/slug.ts';
import type { CommunityAdminRepository, SpaceFields } from './admin-repository.ts';
import type { SpaceRow } from './repository.ts';
import type { SpaceKind, SpaceVisibility } from './schema.ts';
import { DEFAULT_HELD_POSTS, HELD_POSTS_SETTING, SEARCH_SOURCE } from './service.ts';

/**
 * The community's administration (admins only, checked here as well as on
 * the routes): the spaces, creating and changing them, each space's own
 * moderators, and how many of a new member's first posts wait for approval.
 * Every change is in the audit log.
 */

export const MAX_HELD_POSTS = 20;
/**
 * Web addresses a space may not have: `/community/<these>` are other pages,
 * and `/admin/community/spaces/new` is the form for a new space.
 */
export const RESERVED_SLUGS = ['attachments', 'new', 'notifications', 'people', 'posts', 'search'];

export interface SpaceInput {
  name: string;
  nameCy?: string | undefined;
  description: string;
  descriptionCy?: string | undefined;
  /** Only when a space is made; made from the name when not given. */
  slug?: string | undefined;
  kind: SpaceKind;
  visibility: SpaceVisibility;
  publicRead: boolean;
  allowAnonymous: boolean;
  position: number;
}

/** Something wrong with what an admin asked for: a field and a message key. */
export interface AdminProblem {
  field: string;
  key: string;
  vars?: Record<string, string | number>;
}

export type AdminResult<T> = { ok: true; value: T } | { ok: false; problems: AdminProblem[] };

export interface CommunityAdminDeps {
  repo: CommunityAdminRepository;
  people: {
    /** A person's name and email address (admins see their spaces' moderators'), from accounts. */
    contact(id: string): Promise<{ id: string; displayName: string; email: string } | undefined>;
    /** An existing, approved and active (not suspended) account by email address. */
    memberByEmail(email: string): Promise<{ id: string; displayName: string } | undefined>;
    /** Site settings (the accounts service keeps them). */
    setting<T>(key: string): Promise<T | undefined>;
    putSetting(key: string, value: unknown): Promise<void>;
    audit: AuditLog;
  };
  /** The site search, told (after the change) of threads whose readers changed. */
  searchChanged?: SearchChanged;
}

/** How many thread ids the search is told of at once. */
const SEARCH_CHUNK = 1_000;

const E = 'community.admin.errors';

function requireAdmin(actor: CurrentUser | undefined): asserts actor is CurrentUser {
  if (!accessAllows('admin', actor)) throw new AccessDenied('Admins only');
}

/** The rules every space keeps, whoever asks. */
function spaceProblems(input: SpaceInput): AdminProblem[] {
  const problems: AdminProblem[] = [];
  if (!input.name.trim()) problems.push({ field: 'name', key: `${E}.nameRequired` });
  if (input.publicRead && input.visibility !== 'members')
    problems.push({ field: 'publicRead', key: `${E}.publicReadGroup` });
  if (!Number.isInteger(input.position) || input.position < 0 || input.position > 9999)
    problems.push({ field: 'position', key: `${E}.position` });
  return problems;
}

const fieldsOf = (input: SpaceInput): SpaceFields => ({
  name: input.name.trim(),
  nameCy: input.nameCy?.trim() || null,
  description: input.description.trim(),
  descriptionCy: input.descriptionCy?.trim() || null,
  kind: input.kind,
  visibility: input.visibility,
  publicRead: input.publicRead,
  allowAnonymous: input.allowAnonymous,
  position: input.position,
});

export function createCommunityAdmin(deps: CommunityAdminDeps) {
  const { repo, people } = deps;

  /** Tell the search all of a space's threads changed; a failure is the search's, not the request's. */
  async function threadsChanged(spaceId: string) {
    const searchChanged = deps.searchChanged ?? noSearchChanges;
    try {
      const ids = await repo.threadIds(spaceId);
      for (let i = 0; i < ids.length; i += SEARCH_CHUNK)
        searchChanged(SEARCH_SOURCE, ids.slice(i, i + SEARCH_CHUNK));
    } catch {
      // The change is saved all the same; the search's next rebuild puts its index right.
    }
  }

  async function heldPosts(): Promise<number> {
    const n = await people.setting<number>(HELD_POSTS_SETTING);
    return typeof n === 'number' ? n : DEFAULT_HELD_POSTS;
  }

  return {
    /** The spaces (with their number of own moderators) and the held-posts setting. */
    async overview(actor: CurrentUser | undefined) {
      requireAdmin(actor);
      const [spaces, held] = await Promise.all([repo.spacesWithModerators(), heldPosts()]);
      return { spaces, heldPosts: held };
    },

    async heldPosts(actor: CurrentUser | undefined): Promise<number> {
      requireAdmin(actor);
      return heldPosts();
    },
    /** How many of a new member's first posts wait for a moderator: a whole number, 0 to 20. */
    async setHeldPosts(actor: CurrentUser | undefined, n: number): Promise<AdminResult<number>> {
      requireAdmin(actor);
      if (!Number.isInteger(n) || n < 0 || n > MAX_HELD_POSTS)
        return {
          ok: false,
          problems: [{ field: 'heldPosts', key: `${E}.heldPosts`, vars: { max: MAX_HELD_POSTS } }],
        };
      const before = await heldPosts();
      await people.putSetting(HELD_POSTS_SETTING, n);
      await people.audit('settings.community-held-first-posts', {
        actorId: actor.id,
        detail: { from: before, to: n },
      });
      return { ok: true, value: n };
    },

    /** What a new space's form starts with. */
    async newSpaceDefaults(actor: CurrentUser | undefined) {
      requireAdmin(actor);
      return { position: await repo.nextPosition() };
    },

    async createSpace(
      actor: CurrentUser | undefined,
      input: SpaceInput,
    ): Promise<AdminResult<SpaceRow>> {
      requireAdmin(actor);
      const problems = spaceProblems(input);
      const typed = input.slug?.trim();
      const slug = typed || slugify(input.name, '');
      if (typed && !SLUG_PATTERN.test(typed))
        problems.push({ field: 'slug', key: `${E}.slugInvalid` });
      else if (!slug && input.name.trim())
        problems.push({ field: 'slug', key: `${E}.slugRequired` });
      else if (RESERVED_SLUGS.includes(slug))
        problems.push({ field: 'slug', key: `${E}.slugReserved`, vars: { slug } });
      else if (slug && (await repo.slugTaken(slug)))
        problems.push({ field: 'slug', key: `${E}.slugTaken`, vars: { slug } });
      if (problems.length) return { ok: false, problems };
      const space = await repo.createSpace({ ...fieldsOf(input), slug });
      // Taken between the check and the insert.
      if (!space)
        return { ok: false, problems: [{ field: 'slug', key: `${E}.slugTaken`, vars: { slug } }] };
      await people.audit('community.space_created', {
        actorId: actor.id,
        subjectId: space.id,
        detail: { space: space.id, slug, ...fieldsOf(input) },
      });
      return { ok: true, value: space };
    },

    /** A space with its own moderators (names and email addresses), for its edit page. */
    async space(actor: CurrentUser | undefined, slug: string) {
      requireAdmin(actor);
      const space = await repo.spaceBySlug(slug);
      if (!space) return undefined;
      const moderators = (
        await Promise.all((await repo.moderatorIds(space.id)).map((id) => people.contact(id)))
      )
        .filter((u) => u !== undefined)
        .map((u) => ({ userId: u.id, displayName: u.displayName, email: u.email ?? '' }))
        .sort((a, b) => a.displayName.localeCompare(b.displayName));
      return { space, moderators };
    },

    /** Change a space (not its web address, which links and emails already use). */
    async updateSpace(
      actor: CurrentUser | undefined,
      slug: string,
      input: SpaceInput,
    ): Promise<AdminResult<SpaceRow> | undefined> {
      requireAdmin(actor);
      const space = await repo.spaceBySlug(slug);
      if (!space) return undefined;
      const problems = spaceProblems(input);
      if (problems.length) return { ok: false, problems };
      const fields = fieldsOf(input);
      const changes: Record<string, { from: unknown; to: unknown }> = {};
      for (const [k, to] of Object.entries(fields)) {
        const from = space[k as keyof SpaceFields];
        if (from !== to) changes[k] = { from, to };
      }
      if (!Object.keys(changes).length) return { ok: true, value: space };
      const row = await repo.updateSpace(space.id, fields);
      if (!row) return undefined;
      // Who may find its threads changed (a private group, or every member): all of them again.
      if (changes.visibility) await threadsChanged(space.id);
      await people.audit('community.space_changed', {
        actorId: actor.id,
        subjectId: space.id,
        detail: { space: space.id, slug, changes },
      });
      return { ok: true, value: row };
    },

    /**
     * Appoint an existing, approved, active member as a moderator of this
     * space: they then moderate it (and only it) by the community's rules.
     */
    async appointModerator(
      actor: CurrentUser | undefined,
      slug: string,
      email: string,
    ): Promise<AdminResult<{ userId: string; displayName: string }> | undefined> {
      requireAdmin(actor);
      const space = await repo.spaceBySlug(slug);
      if (!space) return undefined;
      const member = await people.memberByEmail(email.trim());
      if (!member) return { ok: false, problems: [{ field: 'email', key: `${E}.noSuchMember` }] };
      if ((await repo.moderatorIds(space.id)).includes(member.id))
        return {
          ok: false,
          problems: [
            { field: 'email', key: `${E}.alreadyModerator`, vars: { name: member.displayName } },
          ],
        };
      await repo.appointModerator(space.id, member.id);
      await people.audit('community.moderator_appointed', {
        actorId: actor.id,
        subjectId: member.id,
        detail: { space: space.id, slug },
      });
      return { ok: true, value: { userId: member.id, displayName: member.displayName } };
    },

    /** A moderator of this space becomes an ordinary member of it again. */
    async removeModerator(
      actor: CurrentUser | undefined,
      slug: string,
      userId: string,
    ): Promise<{ removed: boolean } | undefined> {
      requireAdmin(actor);
      const space = await repo.spaceBySlug(slug);
      if (!space) return undefined;
      const removed = await repo.removeModerator(space.id, userId);
      if (removed)
        await people.audit('community.moderator_removed', {
          actorId: actor.id,
          subjectId: userId,
          detail: { space: space.id, slug },
        });
      return { removed };
    },
  };
}

export type CommunityAdmin = ReturnType<typeof createCommunityAdmin>;
