import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { AccessDenied, type AuditLog, type CurrentUser } from '../../platform/auth.ts';
import type { I18n, Locale } from '../../platform/i18n/index.ts';
import type { Database } from '../../db/client.ts';
import type { Mailer } from '../../platform/mail.ts';
import { plainText, renderMarkdown } from '../../platform/rich-text.ts';
import {
  noSearchChanges,
  type SearchChanged,
  type SearchMatches,
  type SearchDocument,
  type SearchSource,
} from '../../platform/search.ts';
import { SLUG_PATTERN, slugify } from '../../platform/slug.ts';
import type { Storage } from '../../platform/storage.ts';
import type { PersonalDataProvider } from '../accounts/service.ts';
import { checkUpload, cleanFilename } from '../../platform/files.ts';
import { ALLOWED } from './files.ts';
import {
  FACETS,
  type FacetCounts,
  type FacetGroup,
  type FacetName,
  type NewResource,
  type NewResourceFile,
  type ResourceRow,
  type ResourceSearchRow,
  type ResourcesRepository,
  type SearchFilters,
  type SortOrder,
  type TopicRow,
  type TopicSearchRow,
  UUID_PATTERN,
} from './repository.ts';
import type { Audience, FileKind, ResourceStatus, ResourceType } from './schema.ts';

/**
 * The rules of the repository: who sees what (published and archived
 * resources are public; drafts and submissions only to editors and to the
 * member who sent them), what may be uploaded, how a submission moves
 * through moderation, and who is told.
 */

export interface ResourceInput {
  title: string;
  slug?: string | undefined;
  summary: string;
  body: string;
  type: ResourceType;
  topics: string[];
  audiences: Audience[];
  lengthMinutes?: number | undefined;
  publishedOn?: string | undefined;
  authors: string;
  organisation: string;
  licence: string;
  byParents: boolean;
  language: 'en' | 'cy';
  externalUrl?: string | undefined;
}

/** A file the multipart parser wrote to a temporary path. */
export interface Upload {
  field: string;
  kind: FileKind;
  tmpPath: string;
  filename: string;
  size: number;
  truncated: boolean;
}

export interface Problem {
  field: string;
  key: string;
  vars?: Record<string, string | number>;
}

export type SaveResult = { ok: true; resource: ResourceRow } | { ok: false; problems: Problem[] };

export interface ResourcesDeps {
  repo: ResourcesRepository;
  /** The platform's unit of work (`database.transaction`). */
  transaction: Database['transaction'];
  storage: Storage;
  mailer: Mailer;
  i18n: I18n;
  baseUrl: string;
  /** The accounts service: names to show, and whom to write to (their address and language). */
  people: {
    person(id: string): Promise<{ displayName: string } | undefined>;
    contact(
      id: string,
    ): Promise<{ email: string; locale: string; displayName: string } | undefined>;
    audit: AuditLog;
  };
  /** Tells the site search what changed, after it commits (none by default). */
  searchChanged?: SearchChanged;
  /** The site search's matches among published resources: the text search here (its own match when absent). */
  searchMatches?: SearchMatches;
}

/** The site search's name for this feature's documents. */
export const SEARCH_SOURCE = 'resources';
/** Topic pages' ids in the search, kept apart from resources' (both are UUIDs). */
const TOPIC_PREFIX = 'topic:';

/** Words as plain text for the search: Markdown and tags gone, and the entities they left decoded. */
export function searchText(markdown: string): string {
  return plainText(markdown)
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#0*39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** The first words of a text, up to about `max` characters, ending at a word. */
function firstWords(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:.–-]+$/, '')}…`;
}

const EDITORS = new Set(['editor', 'admin']);
export const isEditor = (actor: CurrentUser | undefined): boolean =>
  !!actor && EDITORS.has(actor.role);

/** A YouTube or Vimeo link, as the privacy-enhanced player's address. */
export function videoEmbed(
  url: string | null | undefined,
): { provider: string; embedUrl: string } | undefined {
  if (!url) return undefined;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const host = u.hostname.replace(/^www\.|^m\./, '');
  let id: string | null | undefined;
  if (host === 'youtube.com')
    id =
      u.pathname === '/watch'
        ? u.searchParams.get('v')
        : /^\/(?:embed|shorts)\/([\w-]{6,20})/.exec(u.pathname)?.[1];
  else if (host === 'youtu.be') id = u.pathname.slice(1);
  if (id && /^[\w-]{6,20}$/.test(id))
    return { provider: 'YouTube', embedUrl: `https://www.youtube-nocookie.com/embed/${id}` };
  if (host === 'vimeo.com' || host === 'player.vimeo.com') {
    const vid = /(\d{5,12})/.exec(u.pathname)?.[1];
    if (vid) return { provider: 'Vimeo', embedUrl: `https://player.vimeo.com/video/${vid}?dnt=1` };
  }
  return undefined;
}

/**
 * Facet counts from facet groups: each value of a facet is counted over the
 * resources that pass every *other* facet's filter, so a count says how many
 * results choosing that value (as well) would give. Several values within a
 * facet mean any of them. Also the total passing every filter.
 */
export function countFacets(
  groups: FacetGroup[],
  f: SearchFilters,
): { facets: FacetCounts; total: number } {
  const passes: Record<FacetName, (g: FacetGroup) => boolean> = {
    type: (g) => !f.types.length || f.types.includes(g.type),
    topic: (g) => !f.topics.length || g.topics.some((x) => f.topics.includes(x)),
    audience: (g) => !f.audiences.length || g.audiences.some((x) => f.audiences.includes(x)),
    length: (g) => !f.lengths.length || (g.lengthBand !== null && f.lengths.includes(g.lengthBand)),
    parents: (g) => !f.byParents || g.byParents,
    language: (g) => !f.languages.length || f.languages.includes(g.language),
  };
  const valuesOf: Record<FacetName, (g: FacetGroup) => readonly (string | null)[]> = {
    type: (g) => [g.type],
    topic: (g) => g.topics,
    audience: (g) => g.audiences,
    length: (g) => [g.lengthBand],
    parents: (g) => (g.byParents ? ['yes'] : []),
    language: (g) => [g.language],
  };
  const facets = Object.fromEntries(FACETS.map((n) => [n, {}])) as FacetCounts;
  let total = 0;
  for (const g of groups) {
    const failed = FACETS.filter((n) => !passes[n](g));
    if (failed.length === 0) total += g.n;
    if (failed.length > 1) continue;
    // Counted under a facet only when every other facet passes.
    for (const name of failed.length ? failed : FACETS)
      for (const v of new Set(valuesOf[name](g)))
        if (v !== null) facets[name][v] = (facets[name][v] ?? 0) + g.n;
  }
  return { facets, total };
}

/** How long facet groups are kept: a publish elsewhere shows in counts within this. */
const FACET_CACHE_MS = 60_000;
const FACET_CACHE_SIZE = 500;

export function createResourcesService(deps: ResourcesDeps) {
  const { repo, storage, mailer, i18n, baseUrl, people } = deps;

  let topicCache: { at: number; rows: TopicRow[] } | undefined;
  const allTopics = async (): Promise<TopicRow[]> => {
    if (topicCache && Date.now() - topicCache.at < 30_000) return topicCache.rows;
    const rows = await repo.allTopics();
    topicCache = { at: Date.now(), rows };
    return rows;
  };

  // Facet groups per text query, newest use last; cleared on every change made here.
  const facetCache = new Map<string, { at: number; groups: Promise<FacetGroup[]> }>();
  const facetGroups = (f: Pick<SearchFilters, 'q' | 'ids'>): Promise<FacetGroup[]> => {
    const key = (f.q ?? '').toLowerCase();
    const hit = facetCache.get(key);
    if (hit && Date.now() - hit.at < FACET_CACHE_MS) {
      facetCache.delete(key);
      facetCache.set(key, hit);
      return hit.groups;
    }
    const groups = repo.facetGroups(f);
    groups.catch(() => facetCache.delete(key));
    facetCache.set(key, { at: Date.now(), groups });
    if (facetCache.size > FACET_CACHE_SIZE) facetCache.delete(facetCache.keys().next().value!);
    return groups;
  };
  const changed = () => facetCache.clear();
  /** After a commit: the search looks at these again. Never lets the search fail a request. */
  const searchChanged = deps.searchChanged ?? noSearchChanges;
  const tellSearch = (ids: readonly string[]) => {
    if (!ids.length) return;
    try {
      searchChanged(SEARCH_SOURCE, ids);
    } catch {
      // The index catches up through changedSince.
    }
  };

  const canSee = (r: ResourceRow, actor: CurrentUser | undefined): boolean =>
    r.status === 'published' ||
    r.status === 'archived' ||
    isEditor(actor) ||
    (!!actor && r.submittedBy === actor.id);

  function requireEditor(actor: CurrentUser | undefined): asserts actor is CurrentUser {
    if (!isEditor(actor)) throw new AccessDenied('Editors only');
  }

  async function validate(
    input: ResourceInput,
    id: string | undefined,
  ): Promise<{ problems: Problem[]; slug: string }> {
    const problems: Problem[] = [];
    const topicSlugs = new Set((await allTopics()).map((t) => t.slug));
    for (const t of input.topics)
      if (!topicSlugs.has(t))
        problems.push({ field: 'topics', key: 'resources.errors.topicUnknown' });
    const slug = input.slug ? input.slug : slugify(input.title, 'resource');
    if (!SLUG_PATTERN.test(slug) || slug.length > 100)
      problems.push({ field: 'slug', key: 'resources.errors.slugFormat' });
    else if (await repo.slugTaken(slug, id))
      problems.push({
        field: input.slug ? 'slug' : 'title',
        key: input.slug ? 'resources.errors.slugTaken' : 'resources.errors.titleTaken',
      });
    return { problems, slug };
  }

  /** Check every upload, then store the good ones; nothing is stored if any is refused. */
  async function storeUploads(
    resourceId: string,
    uploads: Upload[],
  ): Promise<{ problems: Problem[]; files: Omit<NewResourceFile, 'resourceId'>[] }> {
    const problems: Problem[] = [];
    const checked: { u: Upload; mime: string; ext: string }[] = [];
    for (const u of uploads) {
      const r = await checkUpload(u.tmpPath, u.filename, u.size, u.truncated, ALLOWED);
      if (!r.ok) {
        problems.push({
          field: u.field,
          key: `resources.errors.file.${r.reason}`,
          vars: {
            name: cleanFilename(u.filename),
            detected: r.detected ?? '',
            max: r.max ? Math.round(r.max / 1024 / 1024) : 0,
          },
        });
        continue;
      }
      if (u.kind === 'captions' && r.type.ext !== 'vtt') {
        problems.push({
          field: u.field,
          key: 'resources.errors.file.captions',
          vars: { name: cleanFilename(u.filename) },
        });
        continue;
      }
      checked.push({ u, mime: r.type.mime, ext: r.type.ext });
    }
    if (problems.length) return { problems, files: [] };
    const files: Omit<NewResourceFile, 'resourceId'>[] = [];
    for (const c of checked) {
      const id = randomUUID();
      const storageKey = `resources/${resourceId}/${id}.${c.ext}`;
      const { size } = await storage.put(storageKey, createReadStream(c.u.tmpPath));
      files.push({
        id,
        kind: c.u.kind,
        storageKey,
        filename: cleanFilename(c.u.filename),
        contentType: c.mime,
        size,
      });
    }
    return { problems: [], files };
  }

  async function save(
    actor: CurrentUser,
    id: string | undefined,
    input: ResourceInput,
    uploads: Upload[],
    status: ResourceStatus | undefined,
    extra: Partial<NewResource> = {},
  ): Promise<SaveResult> {
    const { problems, slug } = await validate(input, id);
    const resourceId = id ?? randomUUID();
    const existingFiles = id ? await repo.files(id) : [];
    const hasMain =
      existingFiles.some((f) => f.kind === 'main') || uploads.some((u) => u.kind === 'main');
    if (!input.externalUrl && !hasMain)
      problems.push({ field: 'file', key: 'resources.errors.fileOrLink' });
    if (problems.length) return { ok: false, problems };
    const stored = await storeUploads(resourceId, uploads);
    if (stored.problems.length) return { ok: false, problems: stored.problems };
    const values: NewResource = {
      ...(id ? {} : { id: resourceId }),
      slug,
      title: input.title,
      summary: input.summary,
      body: input.body,
      bodyHtml: renderMarkdown(input.body),
      type: input.type,
      topics: input.topics,
      audiences: input.audiences,
      lengthMinutes: input.lengthMinutes ?? null,
      publishedOn: input.publishedOn ?? null,
      authors: input.authors,
      organisation: input.organisation,
      licence: input.licence,
      byParents: input.byParents,
      language: input.language,
      externalUrl: input.externalUrl ?? null,
      ...(status ? { status } : {}),
      ...extra,
    };
    try {
      const resource = await repo.save(values, stored.files, id);
      changed();
      if (status === 'published' && !resource.firstPublishedAt)
        await repo.setStatus(resource.id, 'published');
      tellSearch([resource.id]);
      await people.audit(id ? 'resource.updated' : 'resource.created', {
        actorId: actor.id,
        detail: { resource: resource.id, status: resource.status },
      });
      return { ok: true, resource: (await repo.byId(resource.id))! };
    } catch (err) {
      // Nothing half-written: the row was not saved, so its new files go too.
      for (const f of stored.files) await storage.delete(f.storageKey);
      throw err;
    }
  }

  /**
   * Change a resource's status and tell its submitter, in one unit of work:
   * the submitter (another feature's data) is looked up first.
   */
  async function setStatusAndTell(
    id: string,
    status: ResourceStatus,
    reason: string | undefined,
    userId: string | null,
    key: string,
    vars: Record<string, string>,
  ) {
    const user = userId ? await people.contact(userId) : undefined;
    return deps.transaction(async (tx) => {
      const row = await repo.in(tx).setStatus(id, status, reason);
      if (user) {
        const t = i18n.translator((user.locale === 'cy' ? 'cy' : 'en') as Locale);
        await mailer.send(
          {
            to: user.email,
            subject: t(`resources.emails.${key}.subject`, vars),
            text: `${t(`resources.emails.${key}.body`, { ...vars, name: user.displayName })}\n\n${t('resources.emails.footer')}\n`,
          },
          { tx },
        );
      }
      return row;
    });
  }

  const service = {
    allTopics,
    async search(
      filters: SearchFilters,
      sort: SortOrder,
      page: number,
      pageSize: number,
    ): Promise<{
      rows: Awaited<ReturnType<ResourcesRepository['search']>>['rows'];
      total: number;
      facets: FacetCounts;
    }> {
      // Words go through the site search, so they find here what they find there.
      const matched =
        filters.q?.trim() && deps.searchMatches
          ? { ...filters, ids: await deps.searchMatches(filters.q) }
          : filters;
      const [{ rows }, groups] = await Promise.all([
        repo.search(matched, sort, pageSize, (page - 1) * pageSize),
        facetGroups(matched),
      ]);
      return { rows, ...countFacets(groups, filters) };
    },

    /** A resource as the actor may see it, with its files and related resources. */
    async view(slug: string, actor: CurrentUser | undefined) {
      const resource = await repo.bySlug(slug);
      if (!resource || !canSee(resource, actor)) return undefined;
      const [files, related] = await Promise.all([
        repo.files(resource.id),
        repo.related(resource, 4),
      ]);
      return { resource, files, related, canEdit: isEditor(actor) };
    },
    async file(slug: string, fileId: string, actor: CurrentUser | undefined) {
      const resource = await repo.bySlug(slug);
      if (!resource || !canSee(resource, actor)) return undefined;
      const file = await repo.file(resource.id, fileId);
      return file ? { resource, file } : undefined;
    },
    async latest(limit: number) {
      return repo.latest(limit);
    },

    // Contributions
    async submit(
      actor: CurrentUser | undefined,
      input: ResourceInput,
      uploads: Upload[],
    ): Promise<SaveResult> {
      if (!actor) throw new AccessDenied('Sign in to submit a resource');
      const result = await save(
        actor,
        undefined,
        { ...input, slug: undefined },
        uploads,
        'submitted',
        {
          submittedBy: actor.id,
        },
      );
      return result;
    },
    async editorSave(
      actor: CurrentUser | undefined,
      id: string | undefined,
      input: ResourceInput,
      uploads: Upload[],
      status?: ResourceStatus,
    ): Promise<SaveResult | undefined> {
      requireEditor(actor);
      if (id && !(await repo.byId(id))) return undefined;
      return save(actor, id, input, uploads, status);
    },
    async forEditing(actor: CurrentUser | undefined, id: string) {
      requireEditor(actor);
      const resource = await repo.byId(id);
      if (!resource) return undefined;
      const files = await repo.files(id);
      const submitter = resource.submittedBy
        ? await people.person(resource.submittedBy)
        : undefined;
      return { resource, files, submitter: submitter?.displayName };
    },
    async publish(actor: CurrentUser | undefined, id: string): Promise<ResourceRow | undefined> {
      requireEditor(actor);
      const before = await repo.byId(id);
      if (!before) return undefined;
      const row = await setStatusAndTell(
        id,
        'published',
        undefined,
        before.status === 'submitted' ? before.submittedBy : null,
        'published',
        { title: before.title, link: `${baseUrl}/resources/${before.slug}` },
      );
      changed();
      tellSearch([id]);
      await people.audit('resource.published', { actorId: actor.id, detail: { resource: id } });
      return row;
    },
    async decline(
      actor: CurrentUser | undefined,
      id: string,
      reason: string,
    ): Promise<ResourceRow | undefined> {
      requireEditor(actor);
      const before = await repo.byId(id);
      if (!before) return undefined;
      const row = await setStatusAndTell(id, 'draft', reason, before.submittedBy, 'declined', {
        title: before.title,
        reason,
      });
      changed();
      tellSearch([id]);
      await people.audit('resource.declined', { actorId: actor.id, detail: { resource: id } });
      return row;
    },
    async archive(actor: CurrentUser | undefined, id: string, archived: boolean) {
      requireEditor(actor);
      const row = await repo.setStatus(id, archived ? 'archived' : 'published');
      changed();
      if (row) tellSearch([id]);
      await people.audit(archived ? 'resource.archived' : 'resource.restored', {
        actorId: actor.id,
        detail: { resource: id },
      });
      return row;
    },
    async removeFile(actor: CurrentUser | undefined, id: string, fileId: string): Promise<boolean> {
      requireEditor(actor);
      const row = await repo.deleteFile(id, fileId);
      if (row) await storage.delete(row.storageKey);
      return !!row;
    },
    async list(
      actor: CurrentUser | undefined,
      status: ResourceStatus | undefined,
      page: number,
      pageSize: number,
    ) {
      requireEditor(actor);
      const [result, counts] = await Promise.all([
        repo.listByStatus(status, pageSize, (page - 1) * pageSize),
        repo.countByStatus(),
      ]);
      return { ...result, counts };
    },
    async mySubmissions(actor: CurrentUser) {
      return repo.submissionsOf(actor.id);
    },

    // Topic pages
    async topicPage(slug: string, actor: CurrentUser | undefined) {
      const topic = await repo.topicBySlug(slug);
      if (!topic) return undefined;
      const sections = (await repo.topicSections(topic.id))
        .map((s) => ({
          ...s,
          items: s.items.filter(
            (i) =>
              i.resource.status === 'published' ||
              i.resource.status === 'archived' ||
              isEditor(actor),
          ),
        }))
        .filter((s) => s.items.length > 0 || isEditor(actor));
      const filters = {
        types: [],
        topics: [slug],
        audiences: [],
        lengths: [],
        byParents: false,
        languages: [],
      };
      const [{ rows }, groups] = await Promise.all([
        repo.search(filters, 'newest', 10, 0),
        facetGroups({}),
      ]);
      return { topic, sections, latest: rows, total: countFacets(groups, filters).total };
    },
    /**
     * Save a topic page. Each section's resources are lines of the form
     * "address-or-slug | note"; an unknown resource is a problem on that section.
     */
    async saveTopicPage(
      actor: CurrentUser | undefined,
      slug: string,
      intro: string,
      sections: { heading: string; note: string; items: string }[],
    ): Promise<{ ok: true } | { ok: false; problems: Problem[] } | undefined> {
      requireEditor(actor);
      const topic = await repo.topicBySlug(slug);
      if (!topic) return undefined;
      const problems: Problem[] = [];
      const parsed = sections.map((s, i) => {
        const lines = s.items
          .split(/\r?\n/)
          .map((l) => l.trim())
          .filter(Boolean)
          .map((l) => {
            const [ref = '', ...note] = l.split('|');
            const refSlug = ref
              .trim()
              .replace(/^.*\/resources\//, '')
              .replace(/[/?#].*$/, '');
            return { slug: refSlug, note: note.join('|').trim() };
          });
        if (!s.heading && lines.length)
          problems.push({
            field: `section_${i}_heading`,
            key: 'resources.errors.sectionHeading',
            vars: { n: i + 1 },
          });
        return { ...s, lines };
      });
      const known = new Map(
        (await repo.bySlugs([...new Set(parsed.flatMap((s) => s.lines.map((l) => l.slug)))])).map(
          (r) => [r.slug, r.id],
        ),
      );
      parsed.forEach((s, i) => {
        const missing = s.lines.filter((l) => !known.has(l.slug)).map((l) => l.slug);
        if (missing.length)
          problems.push({
            field: `section_${i}_items`,
            key: 'resources.errors.unknownResources',
            vars: { slugs: missing.join(', ') },
          });
      });
      if (problems.length) return { ok: false, problems };
      await repo.saveTopicPage(
        topic.id,
        { intro, introHtml: renderMarkdown(intro) },
        parsed
          .filter((s) => s.heading)
          .map((s) => ({
            heading: s.heading,
            note: s.note,
            items: [
              ...new Map(
                s.lines.map((l) => [l.slug, { resourceId: known.get(l.slug)!, note: l.note }]),
              ).values(),
            ],
          })),
      );
      topicCache = undefined;
      tellSearch([`${TOPIC_PREFIX}${topic.id}`]);
      await people.audit('topic.updated', { actorId: actor.id, detail: { topic: slug } });
      return { ok: true };
    },

    /**
     * The site search's view of the repository: every published resource
     * (kind `resource`, its type as the label) and every topic page (kind
     * `topic`, id `topic:<id>`). All of it is public; drafts, submissions and
     * archived resources are neither documents nor openable.
     */
    searchSource(): SearchSource {
      const en = i18n.translator('en');
      const cy = i18n.translator('cy');
      const resourceDoc = (r: ResourceSearchRow): SearchDocument => {
        const date =
          r.firstPublishedAt ?? (r.publishedOn ? new Date(`${r.publishedOn}T00:00:00Z`) : null);
        return {
          id: r.id,
          kind: 'resource',
          typeLabel: en(`resources.types.${r.type}.one`),
          typeLabelCy: cy(`resources.types.${r.type}.one`),
          url: `/resources/${r.slug}`,
          language: r.language,
          title: r.title,
          summary: r.summary,
          body: [searchText(r.body), r.authors, r.organisation].filter(Boolean).join('\n'),
          ...(date ? { date } : {}),
          access: 'public',
          updatedAt: r.updatedAt,
        };
      };
      const topicDoc = (t: TopicSearchRow): SearchDocument => {
        const intro = searchText(t.intro);
        return {
          id: `${TOPIC_PREFIX}${t.id}`,
          kind: 'topic',
          url: `/topics/${t.slug}`,
          language: 'en',
          title: t.name,
          ...(t.nameCy ? { titleCy: t.nameCy } : {}),
          ...(intro ? { summary: firstWords(intro, 200) } : {}),
          body: [intro, searchText(t.sections)].filter(Boolean).join('\n'),
          access: 'public',
          updatedAt: t.updatedAt,
        };
      };
      const split = (ids: readonly string[]) => ({
        resources: ids.filter((i) => UUID_PATTERN.test(i)),
        topics: ids
          .filter((i) => i.startsWith(TOPIC_PREFIX))
          .map((i) => i.slice(TOPIC_PREFIX.length))
          .filter((i) => UUID_PATTERN.test(i)),
      });
      return {
        name: SEARCH_SOURCE,
        kinds: ['resource', 'topic'],
        async documents({ after, ids, limit }) {
          if (limit <= 0) return [];
          if (ids) {
            const wanted = split(after === undefined ? ids : ids.filter((i) => i > after));
            const [rs, ts] = await Promise.all([
              repo.searchResources({ ids: wanted.resources, limit }),
              repo.searchTopics({ ids: wanted.topics, limit }),
            ]);
            return [...rs.map(resourceDoc), ...ts.map(topicDoc)].slice(0, limit);
          }
          // In id order every resource (a UUID) comes before every topic ("topic:…").
          const rs =
            after !== undefined && after >= TOPIC_PREFIX
              ? []
              : await repo.searchResources({ after, limit });
          if (rs.length >= limit) return rs.map(resourceDoc);
          const topicsAfter =
            after === undefined || after < TOPIC_PREFIX
              ? { after: undefined }
              : after.startsWith(TOPIC_PREFIX)
                ? { after: after.slice(TOPIC_PREFIX.length) }
                : undefined;
          const ts = topicsAfter
            ? await repo.searchTopics({ ...topicsAfter, limit: limit - rs.length })
            : [];
          return [...rs.map(resourceDoc), ...ts.map(topicDoc)];
        },
        async openable(ids) {
          // Everything published here is public: who is asking does not matter.
          const wanted = split(ids);
          const [rs, ts] = await Promise.all([
            repo.publishedIds(wanted.resources),
            repo.topicIds(wanted.topics),
          ]);
          return new Set([...rs, ...ts.map((id) => `${TOPIC_PREFIX}${id}`)]);
        },
        async changedSince(since, limit) {
          const found = await repo.changedSince(since, limit);
          return [
            ...found.resources,
            ...found.topics.map((t) => ({ ...t, id: `${TOPIC_PREFIX}${t.id}` })),
          ]
            .sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime())
            .slice(0, limit)
            .map((c) => c.id);
        },
      };
    },

    personalData: {
      name: 'resourceSubmissions',
      async export(userId: string) {
        return (await repo.submissionsOf(userId)).map((r) => ({
          title: r.title,
          status: r.status,
          submittedAt: r.createdAt,
          link: `${baseUrl}/resources/${r.slug}`,
        }));
      },
      async erase(userId: string, removeContributions: boolean) {
        // Published resources belong to the repository (their authors are named
        // in them); the member's link to them is removed either way.
        const removed = await repo.detachSubmitter(userId, removeContributions);
        changed();
        tellSearch(removed);
      },
    } satisfies PersonalDataProvider,
  };
  return service;
}

export type ResourcesService = ReturnType<typeof createResourcesService>;
export { plainText };
