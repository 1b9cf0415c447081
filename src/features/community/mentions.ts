import type { CurrentUser } from '../../platform/auth.ts';
import type { MentionsRepository } from './mentions-repository.ts';
import { CommunityRefusal, type CommunityService } from './service.ts';

/**
 * @mention suggestions for the post box: names of people one may mention,
 * for someone who may post in the space. Collect little, show less: only
 * names the asker could already see somewhere else — members who chose to be
 * listed in the member directory, and the named (not anonymous) authors of
 * visible posts in this same space. Never an email address, never the author
 * of an anonymous post, never a suspended or unapproved account, never the
 * asker. Suggesting is a convenience: writing "@Display Name" works without it.
 */

export const MAX_SUGGESTIONS = 8;
export const MAX_QUERY_LENGTH = 50;

/** The text to look for is missing, empty or longer than MAX_QUERY_LENGTH. */
export class MentionsQueryError extends Error {
  readonly statusCode = 400;
  constructor() {
    super(`The text to look for must be 1 to ${MAX_QUERY_LENGTH} characters`);
  }
}

export interface MentionsDeps {
  repo: MentionsRepository;
  /** The community's own space lookup and access rules (refusals thrown as CommunityRefusal). */
  community: Pick<CommunityService, 'space'>;
}

/** What is looked for: spaces run together and trimmed; undefined when empty or too long. */
export function searchText(q: string | undefined): string | undefined {
  const text = (q ?? '').replace(/\s+/g, ' ').trim();
  return text.length >= 1 && text.length <= MAX_QUERY_LENGTH ? text : undefined;
}

export function createMentions(deps: MentionsDeps) {
  const { repo, community } = deps;
  return {
    /**
     * Up to MAX_SUGGESTIONS names for "@q" in this space. Undefined for an
     * unknown space. Refused (CommunityRefusal) for anyone who may not post
     * there: a visitor must sign in (401), everyone else is refused (403).
     * The query is checked after access, so a refusal tells nothing more.
     */
    async suggest(
      viewer: CurrentUser | undefined,
      slug: string,
      q: string | undefined,
    ): Promise<{ name: string }[] | undefined> {
      const found = await community.space(viewer, slug);
      if (!found) return undefined;
      if (!viewer) throw new CommunityRefusal('signIn');
      if (!found.access.post)
        throw new CommunityRefusal(
          found.access.refusal ?? (viewer.approved ? 'group' : 'approval'),
        );
      const text = searchText(q);
      if (text === undefined) throw new MentionsQueryError();
      const names = await repo.suggest({
        spaceId: found.space.id,
        requesterId: viewer.id,
        q: text,
        limit: MAX_SUGGESTIONS,
      });
      return names.map((name) => ({ name }));
    },
  };
}

export type Mentions = ReturnType<typeof createMentions>;
