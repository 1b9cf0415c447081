import type { Database } from '../../db/client.ts';
import { AccessDenied, type AuditLog, type CurrentUser } from '../../platform/auth.ts';
import {
  noSearchChanges,
  type SearchChanged,
  type SearchDocument,
  type SearchSource,
} from '../../platform/search.ts';
import { type GuidelineFile, parseGuidelineYaml, type Problem, toGuidelineYaml } from './format.ts';
import type {
  ExampleRow,
  GuidelineRow,
  GuidelinesRepository,
  StageRow,
  StatementRow,
  VersionContent,
  VersionRow,
} from './repository.ts';
import { nationalPicture } from './national.ts';
import { type Comparable, compareVersions, isoDay } from './rules.ts';
import type { Agency, Level, Lens } from './schema.ts';

/**
 * Guidelines: versioned, structured content (guideline → version → stages →
 * statements → examples), read by everyone, loaded from YAML, edited by
 * editors; feedback from plans; the national picture. Plans are in plans.ts.
 */

export { AGENCIES, LENSES, LEVELS } from './schema.ts';

/** The national picture shows no figure at all for fewer areas than this. */
export const MIN_AREAS = 5;
/**
 * The national picture's counts are kept this long per guideline (and
 * dropped at once when a plan on this instance changes): an aggregate over
 * every plan, a few seconds old at most, instead of one query over all the
 * ratings for every visit.
 */
export const NATIONAL_TTL_MS = 30_000;

export interface LinkedItem {
  href: string;
  title: string;
}

export interface GuidelinesDeps {
  repo: GuidelinesRepository;
  transaction: Database['transaction'];
  audit: AuditLog;
  /** Other features' pages that examples link to (undefined when gone). */
  links: {
    service(slug: string): Promise<LinkedItem | undefined>;
    resource(slug: string): Promise<LinkedItem | undefined>;
    /** A practice story (the articles feature), when it is published. */
    story?(slug: string): Promise<LinkedItem | undefined>;
  };
  /** The site search, told (after the change commits) which statements to look at again. */
  searchChanged?: SearchChanged;
}

/** The site search's name for guidelines (the first half of their keys in its index). */
export const SEARCH_SOURCE = 'guidelines';

export interface StatementView extends StatementRow {
  examples: ExampleRow[];
}
export interface StageView extends StageRow {
  statements: StatementView[];
}
export interface GuidelineView {
  guideline: GuidelineRow;
  versions: VersionRow[];
  version: VersionRow;
  latest: VersionRow;
  stages: StageView[];
}

export interface Filters {
  level?: Level | undefined;
  agency?: Agency | undefined;
  lens?: Lens | undefined;
}

const isEditor = (u: CurrentUser | undefined) => u?.role === 'editor' || u?.role === 'admin';

/** The version people read by default: the latest published one, else the latest. */
export function currentVersion(versions: VersionRow[]): VersionRow | undefined {
  const published = versions.filter((v) => v.status === 'published');
  return published.at(-1) ?? versions.at(-1);
}

/** A version's content as stages of statements with their examples. */
export function assemble(
  guideline: GuidelineRow,
  versions: VersionRow[],
  version: VersionRow,
  c: VersionContent,
): GuidelineView {
  const examples = new Map<string, ExampleRow[]>();
  for (const e of c.examples) {
    const list = examples.get(e.statementId);
    if (list) list.push(e);
    else examples.set(e.statementId, [e]);
  }
  const byStage = new Map<string, StatementView[]>();
  for (const st of c.statements) {
    const item = { ...st, examples: examples.get(st.id) ?? [] };
    const list = byStage.get(st.stageId);
    if (list) list.push(item);
    else byStage.set(st.stageId, [item]);
  }
  return {
    guideline,
    versions,
    version,
    latest: currentVersion(versions) ?? version,
    stages: c.stages.map((s) => ({ ...s, statements: byStage.get(s.id) ?? [] })),
  };
}

/** A version as its guideline file (what export writes and import reads). */
function fileOf(view: GuidelineView): GuidelineFile {
  const { guideline, version } = view;
  const u = <T>(v: T | null): T | undefined => (v === null ? undefined : v);
  return {
    slug: guideline.slug,
    title: guideline.title,
    title_cy: u(guideline.titleCy),
    summary: guideline.summary,
    summary_cy: u(guideline.summaryCy),
    publisher: guideline.publisher,
    illustrative: guideline.illustrative,
    version: {
      number: version.number,
      label: version.label,
      status: version.status,
      issued_on: version.issuedOn,
      licence: version.licence,
      source_url: u(version.sourceUrl),
    },
    stages: view.stages.map((s) => ({
      key: s.key,
      title: s.title,
      title_cy: u(s.titleCy),
      intro: s.intro || undefined,
      intro_cy: u(s.introCy),
      for_parents: s.forParents,
      for_parents_cy: u(s.forParentsCy),
      statements: s.statements.map((st) => ({
        ref: st.ref,
        text: st.text,
        text_cy: u(st.textCy),
        level: st.level,
        agencies: st.agencies as Agency[],
        lenses: st.lenses as Lens[],
        examples: st.examples.map((e) => ({
          kind: e.kind,
          text: e.text,
          area: u(e.area),
          services: e.services,
          resources: e.resources,
          stories: e.stories,
        })),
      })),
    })),
  };
}

export function createGuidelinesService(deps: GuidelinesDeps) {
  const { repo } = deps;
  const searchChanged = deps.searchChanged ?? noSearchChanges;
  /** Tell the search these statements changed: after the commit, never failing the request. */
  const changed = (ids: readonly string[]) => {
    if (!ids.length) return;
    try {
      searchChanged(SEARCH_SOURCE, [...new Set(ids)]);
    } catch {
      // The search's safety net (changedSince) finds it later.
    }
  };
  /** The search keys of a guideline's current published statements (before and after a change). */
  const statementKeys = async (slug: string) =>
    (await repo.searchStatements({ slug, limit: 100_000 })).map((r) => r.id);

  async function load(slug: string, number?: number): Promise<GuidelineView | undefined> {
    const guideline = await repo.guidelineBySlug(slug);
    if (!guideline) return undefined;
    const versions = await repo.versions([guideline.id]);
    const version =
      number === undefined ? currentVersion(versions) : versions.find((v) => v.number === number);
    if (!version) return undefined;
    return assemble(
      guideline,
      versions,
      version,
      await repo.contentAsOf(version.id, guideline.updatedAt),
    );
  }

  /**
   * A file that would change the statements of a version plans have rated
   * (a round of a plan is on it): their ratings would then speak of words
   * they were not given to. Such a change is a new version; anything else
   * (its status, label, stages' texts, examples) may change in place.
   */
  async function ratedWording(g: GuidelineFile): Promise<Problem | undefined> {
    const guideline = await repo.guidelineBySlug(g.slug);
    const versions = guideline ? await repo.versions([guideline.id]) : [];
    const stored = versions.find((v) => v.number === g.version.number);
    if (!stored || !(await repo.versionInUse(stored.id))) return undefined;
    const { statements } = await repo.content(stored.id);
    const incoming = g.stages.flatMap((s) => s.statements);
    if (compareVersions<Comparable>(statements, incoming).every((c) => c.change === 'unchanged'))
      return undefined;
    const next = Math.max(...versions.map((v) => v.number)) + 1;
    return {
      path: 'version.number',
      message: `plans have rated version ${g.version.number}, so its statements cannot change: give the changed file a new version number (${next}); plans then carry unchanged ratings over and re-assess the changed statements`,
    };
  }

  const nationalCache = new Map<
    string,
    { at: number; value: Awaited<ReturnType<GuidelinesRepository['national']>> }
  >();
  /** The counts and when they were counted (their stamp: the same stamp, the same counts). */
  const nationalCounts = async (guidelineId: string) => {
    const hit = nationalCache.get(guidelineId);
    if (hit && Date.now() - hit.at < NATIONAL_TTL_MS) return hit;
    const entry = { at: Date.now(), value: await repo.national(guidelineId) };
    nationalCache.set(guidelineId, entry);
    return entry;
  };

  const service = {
    load,
    /**
     * The site search's source: one document per statement of each
     * guideline's current published version (id `<slug>/<ref>`, stable across
     * versions), the statement as its title and its examples of practice and
     * innovations as its body, for anyone. Plans are never indexed.
     */
    searchSource(): SearchSource {
      const toDocument = (
        s: Awaited<ReturnType<typeof repo.searchStatements>>[number],
      ): SearchDocument => ({
        id: s.id,
        kind: 'guideline',
        typeLabel: s.stageTitle,
        ...(s.stageTitleCy ? { typeLabelCy: s.stageTitleCy } : {}),
        url: `/guidelines/${s.slug}/${s.ref}`,
        language: 'en',
        title: s.text,
        ...(s.textCy ? { titleCy: s.textCy } : {}),
        summary: s.guidelineTitle,
        ...(s.guidelineTitleCy ? { summaryCy: s.guidelineTitleCy } : {}),
        body: (s.examples ?? []).join('\n\n').slice(0, 20_000),
        date: new Date(`${s.issuedOn}T00:00:00Z`),
        access: 'public',
        updatedAt: s.updatedAt,
      });
      return {
        name: SEARCH_SOURCE,
        kinds: ['guideline'],
        async documents(q) {
          return (await repo.searchStatements({ after: q.after, ids: q.ids, limit: q.limit })).map(
            toDocument,
          );
        },
        async openable(ids) {
          const rows = await repo.searchStatements({ ids, limit: ids.length });
          return new Set(rows.map((r) => r.id));
        },
        async changedSince(since, limit) {
          return repo.statementsChangedSince(since, limit);
        },
      };
    },
    /** Plans changed: the next national picture is counted afresh. */
    plansChanged: () => nationalCache.clear(),

    async list() {
      const rows = await repo.listGuidelines();
      const versions = await repo.versions(rows.map((g) => g.id));
      return rows.map((g) => ({
        guideline: g,
        version: currentVersion(versions.filter((v) => v.guidelineId === g.id)),
      }));
    },

    /** A guideline's contents, with only the statements matching the filters (stages kept). */
    async contents(slug: string, number: number | undefined, f: Filters) {
      const view = await load(slug, number);
      if (!view) return undefined;
      const match = (s: StatementRow) =>
        (!f.level || s.level === f.level) &&
        (!f.agency || s.agencies.includes(f.agency)) &&
        (!f.lens || s.lenses.includes(f.lens));
      const stages = view.stages.map((s) => ({ ...s, statements: s.statements.filter(match) }));
      return {
        ...view,
        /** What the contents are drawn from: the same state, the same contents (for kept pages). */
        state: `${view.version.id}.${view.guideline.updatedAt.getTime()}`,
        stages,
        shown: stages.reduce((n, s) => n + s.statements.length, 0),
        total: view.stages.reduce((n, s) => n + s.statements.length, 0),
      };
    },

    /**
     * Statements named by guideline and number, as another feature shows them (a story's
     * statements): words, the guideline's title and the page's address, from each guideline's
     * current version (one load a guideline). Unknown ones are left out.
     */
    async statementSummaries(keys: { slug: string; ref: string }[]) {
      const slugs = [...new Set(keys.map((k) => k.slug))];
      const views = new Map(await Promise.all(slugs.map(async (s) => [s, await load(s)] as const)));
      return keys.flatMap(({ slug, ref }) => {
        const g = views.get(slug);
        const st = g?.stages.flatMap((s) => s.statements).find((s) => s.ref === ref);
        if (!g || !st) return [];
        return [
          {
            slug,
            ref,
            text: st.text,
            textCy: st.textCy,
            guideline: g.guideline.title,
            guidelineCy: g.guideline.titleCy,
            href: `/guidelines/${slug}/${ref}`,
          },
        ];
      });
    },

    /** One statement with its examples and the services and resources they link to. */
    async statement(slug: string, ref: string, number?: number) {
      const view = await load(slug, number);
      if (!view) return undefined;
      for (const stage of view.stages) {
        const statement = stage.statements.find((s) => s.ref === ref);
        if (!statement) continue;
        const examples = await Promise.all(
          statement.examples.map(async (e) => ({
            ...e,
            serviceLinks: (await Promise.all(e.services.map((s) => deps.links.service(s)))).filter(
              (x): x is LinkedItem => Boolean(x),
            ),
            resourceLinks: (
              await Promise.all(e.resources.map((s) => deps.links.resource(s)))
            ).filter((x): x is LinkedItem => Boolean(x)),
            storyLinks: (await Promise.all(e.stories.map((s) => deps.links.story?.(s)))).filter(
              (x): x is LinkedItem => Boolean(x),
            ),
          })),
        );
        return { ...view, stage, statement: { ...statement, examples } };
      }
      return undefined;
    },

    async stageForParents(slug: string, key: string) {
      const view = await load(slug);
      const index = view?.stages.findIndex((s) => s.key === key) ?? -1;
      if (!view || index < 0) return undefined;
      return {
        ...view,
        stage: view.stages[index]!,
        previous: view.stages[index - 1],
        next: view.stages[index + 1],
      };
    },

    /**
     * Versions published or opened for consultation after `from`, up to `until` (for the
     * newsletter's digest), each with the address of what changed (or of the guideline, for its
     * first version), oldest first.
     */
    async versionsBetween(from: Date, until: Date) {
      const rows = await repo.listGuidelines();
      const versions = await repo.versions(rows.map((g) => g.id));
      const out: { title: string; path: string; summary: string; publishedAt: Date }[] = [];
      for (const v of versions) {
        if (v.status !== 'published' && v.status !== 'consultation') continue;
        if (v.createdAt <= from || v.createdAt > until) continue;
        const g = rows.find((x) => x.id === v.guidelineId)!;
        const previous = versions
          .filter((p) => p.guidelineId === g.id && p.number < v.number)
          .at(-1);
        out.push({
          title: `${g.title}: ${v.label}`,
          path: previous
            ? `/guidelines/${g.slug}/changes?from=${previous.number}&to=${v.number}`
            : `/guidelines/${g.slug}`,
          summary: g.summary,
          publishedAt: v.createdAt,
        });
      }
      return out.sort((a, b) => a.publishedAt.getTime() - b.publishedAt.getTime());
    },

    /** Statement by statement, what version `to` changed from version `from`. */
    async changes(slug: string, from?: number, to?: number) {
      const guideline = await repo.guidelineBySlug(slug);
      if (!guideline) return undefined;
      const versions = await repo.versions([guideline.id]);
      if (versions.length < 2) return { guideline, versions, rows: undefined };
      const newer = versions.find((v) => v.number === to) ?? versions.at(-1)!;
      const older =
        versions.find((v) => v.number === from && v.number !== newer.number) ??
        versions.filter((v) => v.number < newer.number).at(-1) ??
        versions[0]!;
      const [a, b] = await Promise.all([repo.content(older.id), repo.content(newer.id)]);
      return {
        guideline,
        versions,
        older,
        newer,
        rows: compareVersions(a.statements, b.statements),
      };
    },

    /** Checks a guideline file and stores it only when everything in it is valid. */
    async importYaml(
      source: string,
      actor?: CurrentUser,
    ): Promise<
      | { ok: true; slug: string; version: number; created: boolean; statements: number }
      | { ok: false; problems: Problem[] }
    > {
      const parsed = parseGuidelineYaml(source);
      if (!parsed.ok) return parsed;
      const g = parsed.data;
      const rated = await ratedWording(g);
      if (rated) return { ok: false, problems: [rated] };
      const before = await statementKeys(g.slug);
      const saved = await deps.transaction((tx) => repo.in(tx).saveFile(g));
      // Statements the new file removed, changed or added (a newer published version, or new words).
      changed([...before, ...(await statementKeys(g.slug))]);
      await deps.audit('guideline.imported', {
        actorId: actor?.id ?? null,
        detail: { slug: g.slug, version: g.version.number, created: saved.created },
      });
      return {
        ok: true,
        slug: g.slug,
        version: g.version.number,
        created: saved.created,
        statements: g.stages.reduce((n, s) => n + s.statements.length, 0),
      };
    },

    /** The guideline file of a version (the latest when no number is given). */
    async exportYaml(slug: string, number?: number): Promise<string | undefined> {
      const guideline = await repo.guidelineBySlug(slug);
      if (!guideline) return undefined;
      const versions = await repo.versions([guideline.id]);
      const version =
        number === undefined ? versions.at(-1) : versions.find((v) => v.number === number);
      if (!version) return undefined;
      return toGuidelineYaml(fileOf((await load(slug, version.number))!));
    },

    /**
     * What changing a statement's wording on the web does to a version: it
     * is changed where it is, or, when plans have rated it (a round of a
     * plan is on it), a new version is made with the new wording, so the
     * ratings keep the words they were given to (`newVersion`, its number);
     * that only from the latest version: `newer` names it otherwise.
     */
    async editing(
      slug: string,
      number: number,
    ): Promise<{ inUse: boolean; newVersion?: number; newer?: number } | undefined> {
      const view = await load(slug, number);
      if (!view) return undefined;
      if (!(await repo.versionInUse(view.version.id))) return { inUse: false };
      const last = view.versions.at(-1)!;
      return last.number !== number
        ? { inUse: true, newer: last.number }
        : { inUse: true, newVersion: number + 1 };
    },

    /**
     * Editors change a statement's wording on the web (see `editing`): in
     * its version, or, when plans have rated that, in a new one made from
     * it (a published version it replaces is marked superseded). Answers the
     * version the wording is now in; `newer` when plans rated the version
     * and it is not the latest (nothing changed); undefined when there is no
     * such statement.
     */
    async editStatement(
      actor: CurrentUser | undefined,
      slug: string,
      number: number,
      ref: string,
      values: { text: string; textCy: string | null },
    ): Promise<{ version: number } | { newer: number } | undefined> {
      if (!isEditor(actor)) throw new AccessDenied('Editors only');
      const view = await load(slug, number);
      const statement = view?.stages.flatMap((st) => st.statements).find((st) => st.ref === ref);
      if (!view || !statement) return undefined;
      if (statement.text === values.text && (statement.textCy ?? null) === values.textCy)
        return { version: number };
      // The Welsh text is a translation of the words rated: it changes in place.
      const inUse = statement.text !== values.text && (await repo.versionInUse(view.version.id));
      const last = view.versions.at(-1)!;
      if (inUse && last.number !== number) return { newer: last.number };
      const version = await deps.transaction(async (tx) => {
        const r = repo.in(tx);
        if (!inUse) {
          // It moves the guideline's time of change too.
          await r.updateStatement(view.version.id, ref, values);
          return number;
        }
        const file = fileOf(view);
        file.version = { ...file.version, number: number + 1, issued_on: isoDay(new Date()) };
        for (const st of file.stages.flatMap((stage) => stage.statements))
          if (st.ref === ref) {
            st.text = values.text;
            st.text_cy = values.textCy ?? undefined;
          }
        await r.saveFile(file);
        if (view.version.status === 'published')
          await r.setVersionStatus(view.version.id, 'superseded');
        return number + 1;
      });
      changed([`${slug}/${ref}`]);
      await deps.audit('guideline.statement-edited', {
        actorId: actor!.id,
        detail: { slug, version, ref, ...(version !== number ? { from: number } : {}) },
      });
      return { version };
    },

    /** Feedback from plans, per statement, for editors preparing the next version. */
    async feedback(actor: CurrentUser | undefined, slug: string) {
      if (!isEditor(actor)) throw new AccessDenied('Editors only');
      const view = await load(slug);
      if (!view) return undefined;
      const rows = await repo.feedbackFor(view.guideline.id);
      const byRef = new Map<string, typeof rows>();
      for (const r of rows) byRef.set(r.statementRef, [...(byRef.get(r.statementRef) ?? []), r]);
      return { ...view, byRef, total: rows.length };
    },

    /**
     * The national picture. Nobody sees a figure while fewer than MIN_AREAS
     * areas (authorities rated together, with confirmed ratings) take part;
     * then everyone sees the counts by stage, and editors also by statement
     * and region. Every figure needs MIN_AREAS areas of its own, and a
     * figure's neighbours are hidden with it when "total minus the shown
     * parts" would give a smaller group back (the rules: `national.ts`).
     */
    async national(actor: CurrentUser | undefined, slug: string) {
      return (await service.nationalAsOf(actor, slug))?.picture();
    },

    /**
     * The national picture as this reader may see it: its state (the guideline's version and
     * time of change, when the counts were counted, whether the reader is an editor: the
     * same state, the same picture) and the picture, worked out when asked for.
     */
    async nationalAsOf(actor: CurrentUser | undefined, slug: string) {
      const view = await load(slug);
      if (!view) return undefined;
      const counts = await nationalCounts(view.guideline.id);
      const editor = isEditor(actor);
      const state = `${view.version.id}.${view.guideline.updatedAt.getTime()}.${counts.at}.${editor}`;
      const picture = () => {
        const p = nationalPicture(
          counts.value,
          view.stages.map((s) => ({ key: s.key, refs: s.statements.map((st) => st.ref) })),
          MIN_AREAS,
        );
        const { total } = p;
        if (total < MIN_AREAS) return { ...view, total, enough: false as const, editor };
        return {
          ...view,
          total,
          enough: true as const,
          editor,
          byStage: p.byStage,
          byStatement: editor ? p.byStatement : undefined,
          byRegion: editor ? p.byRegion : undefined,
        };
      };
      return { state, picture };
    },
  };
  return service;
}
export type GuidelinesService = ReturnType<typeof createGuidelinesService>;
