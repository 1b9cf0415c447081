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
  /** The accounts service: approved, active people by the start of a name (never an email). */
  people: {
    searchApproved(f: {
      q: string;
      excludeId: string;
      limit: number;
      offset: number;
    }): Promise<{ id: string; displayName: string }[]>;
  };
  /** The members service: which of these people the member directory lists (its own rule). */
  members: { listedAmong(ids: readonly string[]): Promise<Set<string>> };
}

/** Candidates looked at per round, and rounds at most, to find MAX_SUGGESTIONS names. */
const BATCH = 100;
const ROUNDS = 5;

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
      // Candidates by name from accounts, kept when listed (members) or seen posting here
      // (community): one call to each per round of candidates, never one per person.
      const names: string[] = [];
      for (let round = 0; round < ROUNDS && names.length < MAX_SUGGESTIONS; round++) {
        const batch = await deps.people.searchApproved({
          q: text,
          excludeId: viewer.id,
          limit: BATCH,
          offset: round * BATCH,
        });
        const ids = batch.map((p) => p.id);
        const [listed, posted] = await Promise.all([
          deps.members.listedAmong(ids),
          repo.postedIn(found.space.id, ids),
        ]);
        for (const p of batch)
          if ((listed.has(p.id) || posted.has(p.id)) && !names.includes(p.displayName))
            names.push(p.displayName);
        if (batch.length < BATCH) break;
      }
      return names.slice(0, MAX_SUGGESTIONS).map((name) => ({ name }));
    },
  };
}

export type Mentions = ReturnType<typeof createMentions>;
