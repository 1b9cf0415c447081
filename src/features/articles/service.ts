import { randomUUID } from 'node:crypto';
import {
  accessAllows,
  AccessDenied,
  type AuditLog,
  type CurrentUser,
} from '../../platform/auth.ts';
import type { Database, Tx } from '../../db/client.ts';
import type { I18n, Locale } from '../../platform/i18n/index.ts';
import type { JobQueue } from '../../platform/jobs/index.ts';
import type { Mailer } from '../../platform/mail.ts';
import { withFields } from '../../platform/objects.ts';
import { plainText, renderMarkdown } from '../../platform/rich-text.ts';
import {
  noSearchChanges,
  type SearchChanged,
  type SearchDocument,
  type SearchSource,
} from '../../platform/search.ts';
import { SLUG_PATTERN, slugify } from '../../platform/slug.ts';
import type { PersonalDataProvider } from '../accounts/service.ts';
import type {
  ArticleRow,
  ArticlesRepository,
  ArticleSummary,
  CommentView,
  ListFilters,
  NewArticle,
  SeriesRow,
} from './repository.ts';
import {
  type ArticleAuthor,
  type ArticleKind,
  type ArticleStatus,
  type Background,
  BACKGROUNDS,
  type HoldReason,
} from './schema.ts';

/**
 * The rules of news and practice stories: who sees what (public once
 * published, or scheduled and its time has come; drafts and proposals for
 * editors and the member who proposed), how a proposal is moderated, when a
 * scheduled article goes out (the job queue, at its time), comments and
 * their careful moderation, and who is told.
 */

export const PUBLISH_JOB = 'articles.publish-due';
export const HELD_FIRST_SETTING = 'articles.held_first_comments';
export const MAX_LINKS_SETTING = 'articles.max_links';
export const WORD_LIST_SETTING = 'articles.word_list';
export const DEFAULT_HELD_FIRST = 1;
export const DEFAULT_MAX_LINKS = 2;

export interface ArticleInput {
  kind: ArticleKind;
  title: string;
  slug?: string | undefined;
  standfirst: string;
  body: string;
  language: 'en' | 'cy';
  authors: ArticleAuthor[];
  topics: string[];
  series?: string | undefined;
  leadImageUrl?: string | undefined;
  leadImageAlt?: string | undefined;
  leadImageCaption?: string | undefined;
  authorities: string[];
  services: string[];
  statements: string[];
  featuresParent: boolean;
  consentRecordedOn?: string | undefined;
  consentReviewOn?: string | undefined;
  commentsOpen: boolean;
  commentsCloseAt?: Date | undefined;
}

export interface Problem {
  field: string;
  key: string;
  vars?: Record<string, string | number>;
}

export interface Place {
  gssCode: string;
  name: string;
  nameCy: string | null;
  regionName: string;
  /** The region's code, for its name in Welsh (services.regions.<code>). */
  regionCode?: string | null;
  nation: string;
}
export interface Topic {
  slug: string;
  name: string;
  nameCy: string | null;
}
interface Contact {
  id: string;
  email: string;
  locale: string;
  displayName: string;
}
interface PersonInfo {
  id: string;
  displayName: string;
  kind: string;
  active: boolean;
}

export interface ArticlesDeps {
  repo: ArticlesRepository;
  transaction: Database['transaction'];
  mailer: Mailer;
  jobs: JobQueue;
  i18n: I18n;
  baseUrl: string;
  /** The time now: tests move it on to see a scheduled article appear. */
  clock?: () => Date;
  /** The resources service's topics (shared vocabulary). */
  topics: () => Promise<Topic[]>;
  /** The services feature: authorities from the reference list, and services on the map. */
  places: {
    authorities(): Promise<Place[]>;
    service(
      slug: string,
    ): Promise<{ slug: string; name: string; nameCy: string | null } | undefined>;
    /** Slugs of the services covering an authority (demo content links to them). */
    servicesIn?(gssCode: string): Promise<string[]>;
  };
  /** The accounts service: names and kinds, whom to write to, settings, the audit log. */
  people: {
    person(id: string): Promise<PersonInfo | undefined>;
    people(ids: readonly string[]): Promise<Map<string, PersonInfo>>;
    contacts(ids: readonly string[]): Promise<Map<string, Contact>>;
    setting<T>(key: string): Promise<T | undefined>;
    putSetting(key: string, value: unknown): Promise<void>;
    audit: AuditLog;
  };
  /**
   * The site's notifications (the community's `elsewhere`, wired in app.ts): the people told of a
   * comment, on their notifications page and by email as their choices say (at once, in the daily
   * summary, or not by email). Returns the writes for the comment's own unit of work.
   */
  notify?: (notices: CommentNotice[]) => Promise<((tx: Tx) => Promise<void>) | undefined>;
  /**
   * The guidelines feature (wired in app.ts): the statements of a guideline's current version that
   * exist, with their words and their page's address; unknown ones are left out.
   */
  guidelineStatements: (keys: StatementKey[]) => Promise<GuidelineStatement[]>;
  /** The site search, told (after the change commits) which articles to look at again. */
  searchChanged?: SearchChanged;
}

/** A guideline statement as stored on a story: the guideline's slug and the statement's reference. */
export interface StatementKey {
  slug: string;
  ref: string;
}
/** A statement as the guidelines feature describes it, for a story's page. */
export interface GuidelineStatement extends StatementKey {
  text: string;
  textCy: string | null;
  guideline: string;
  guidelineCy: string | null;
  /** Its page on this site. */
  href: string;
}

/**
 * A statement as an editor types it: `slug/ref` (`demo-born-into-care-illustrative/1.2`), the
 * same with a space, or the statement page's address (`…/guidelines/slug/ref`).
 */
export function statementKey(line: string): StatementKey | undefined {
  const s = line
    .trim()
    .toLowerCase()
    .replace(/^.*?\/guidelines\//, '')
    .replace(/[?#].*$/, '')
    .replace(/\/+$/, '');
  const m = /^([a-z0-9]+(?:-[a-z0-9]+)*)\s*[/\s]\s*(\d{1,3}(?:\.\d{1,3}){0,3})$/.exec(s);
  return m ? { slug: m[1]!, ref: m[2]! } : undefined;
}
/** How a statement is stored (`slug/ref`), and back. */
export const statementId = (k: StatementKey) => `${k.slug}/${k.ref}`;
const keyOf = (stored: string): StatementKey | undefined => {
  const i = stored.lastIndexOf('/');
  return i > 0 ? { slug: stored.slice(0, i), ref: stored.slice(i + 1) } : undefined;
};

/** Someone to tell about a comment now shown: on what they wrote, or a reply to their comment. */
export interface CommentNotice {
  userId: string;
  kind: 'comment' | 'comment_reply';
  /** The commenter's name; null when they wrote as "A parent". */
  actorLabel: string | null;
  title: string;
  /** The comment's path on this site. */
  link: string;
}

const isEditor = (u: CurrentUser | undefined) => accessAllows('editor', u);
const isModerator = (u: CurrentUser | undefined) =>
  accessAllows('moderator', u) || accessAllows('editor', u);
const isApproved = (u: CurrentUser | undefined) => accessAllows('member', u);

export class ArticleRefusal extends Error {
  readonly statusCode = 403;
  constructor(readonly reason: 'approval' | 'closed' | 'banned' | 'notYours') {
    super(`Refused: ${reason}`);
  }
}

// ---------------------------------------------------------------------------
// Body: Markdown with images as figures

const IMAGE_LINE = /^!\[([^\]]*)\]\(\s*(\S+?)(?:\s+"([^"]*)")?\s*\)$/;
const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** An image address we will show: our own path, or https. */
export function imageSrcAllowed(src: string): boolean {
  if (/^\/(?!\/)[\w\-./%]+$/.test(src)) return true;
  try {
    const u = new URL(src);
    return u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Problems with the images in a body: every image needs alt text and an allowed address. */
export function bodyImageProblems(body: string): Problem[] {
  const problems: Problem[] = [];
  for (const m of body.matchAll(/!\[([^\]]*)\]\(\s*(\S*?)(?:\s+"[^"]*")?\s*\)/g)) {
    if (!m[1]!.trim()) problems.push({ field: 'body', key: 'articles.errors.imageAlt' });
    else if (!imageSrcAllowed(m[2]!))
      problems.push({ field: 'body', key: 'articles.errors.imageSrc' });
  }
  return problems;
}

/**
 * The body as safe HTML: paragraphs that are a single image,
 * `![alt](address "caption")`, become a figure with its caption; the rest is
 * Markdown through the platform's renderer and sanitiser.
 */
export function renderBody(body: string): string {
  const blocks = body.replace(/\r\n?/g, '\n').split(/\n{2,}/);
  const out: string[] = [];
  let pending: string[] = [];
  const flush = () => {
    if (pending.length) out.push(renderMarkdown(pending.join('\n\n')));
    pending = [];
  };
  for (const block of blocks) {
    const m = IMAGE_LINE.exec(block.trim());
    if (m && m[1]!.trim() && imageSrcAllowed(m[2]!)) {
      flush();
      const caption = m[3]?.trim();
      out.push(
        `<figure class="sp-figure"><img src="${escapeHtml(m[2]!)}" alt="${escapeHtml(m[1]!.trim())}" loading="lazy">${caption ? `<figcaption class="govuk-body-s">${escapeHtml(caption)}</figcaption>` : ''}</figure>`,
      );
    } else pending.push(block);
  }
  flush();
  return out.join('\n');
}

// ---------------------------------------------------------------------------
// Moderation rules for comments

const MONTHS =
  '(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|ionawr|chwefror|mawrth|ebrill|mai|mehefin|gorffennaf|awst|medi|hydref|tachwedd|rhagfyr)';
const DATE = new RegExp(
  `\\b(?:\\d{1,2}[/.-]\\d{1,2}[/.-](?:\\d{2}|\\d{4})|\\d{1,2}(?:st|nd|rd|th)?\\s+${MONTHS}\\s+\\d{4}|${MONTHS}\\s+\\d{1,2}(?:st|nd|rd|th)?,?\\s+\\d{4})\\b`,
  'i',
);
const DOB = /\b(?:d\.?\s?o\.?\s?b\.?|date of birth|born on|born|birthday|dyddiad geni|ganwyd)\b/i;
const SCHOOL =
  /\b(?:[A-Z][\w'’-]+\s+){1,4}(?:Primary|Infants?|Junior|Nursery|High|Secondary|Academy|School|College)\b|\bYsgol\s+[A-Z]/;
const CASE_NUMBER =
  /\b[A-Z]{2}\d{2}[A-Z]\d{5}\b|\bcase\s+(?:no\.?|number)\s*[:#]?\s*[A-Z0-9/-]{5,}/i;
const CHILD =
  /\b(?:my|her|his|their|our)\s+(?:son|daughter|child|children|baby|boy|girl|grandson|granddaughter)\b/i;
const NAME = /\b[A-Z][a-z]{2,}\b/;

/**
 * Whether text looks like it identifies a child: a court case number, a date
 * of birth, or a school named together with a date or a child. Such comments
 * wait for a moderator whoever writes them (the safeguarding hold).
 */
export function safeguardingConcern(text: string): boolean {
  if (CASE_NUMBER.test(text)) return true;
  const date = DATE.test(text);
  const dob = DOB.test(text) && date;
  const school = SCHOOL.test(text);
  if (dob && (NAME.test(text) || CHILD.test(text) || school)) return true;
  if (dob) return true;
  if (school && (date || CHILD.test(text))) return true;
  return false;
}

export const linkCount = (text: string): number =>
  (
    text.match(
      /(?:https?:\/\/|www\.)\S+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|co\.uk|uk|io|info|biz)\b/gi,
    ) ?? []
  ).length;

export function matchesWordList(text: string, words: string[]): boolean {
  const lower = text.toLowerCase();
  return words.some((w) => {
    const word = w.trim().toLowerCase();
    if (!word) return false;
    const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`(^|[^\\p{L}\\p{N}])${escaped}($|[^\\p{L}\\p{N}])`, 'u').test(lower);
  });
}

// ---------------------------------------------------------------------------

export const kindPath = (kind: ArticleKind) => (kind === 'news' ? 'news' : 'stories');

/** The site search's name for articles (the first half of their keys in its index). */
export const SEARCH_SOURCE = 'articles';
/** How much of a body the search keeps (SearchDocument.body). */
const SEARCH_BODY_MAX = 20_000;
const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
};
/** Markdown as plain words for the search: no markup, no HTML entities. */
export function searchText(markdown: string, max = SEARCH_BODY_MAX): string {
  return plainText(markdown)
    .replace(
      /&(?:#(\d+)|#x([0-9a-f]+)|([a-z]+));/gi,
      (all, dec?: string, hex?: string, name?: string) =>
        dec
          ? String.fromCodePoint(Number(dec))
          : hex
            ? String.fromCodePoint(parseInt(hex, 16))
            : (ENTITIES[name!.toLowerCase()] ?? all),
    )
    .slice(0, max);
}
/**
 * Top-level comments (each with its replies) on a page of an article: 25, as a parents' forum
 * pages its threads, so that a long discussion is not one very long page on an old phone (50
 * threads and their replies were about 74 KB of HTML, and a third of the page's work).
 */
const COMMENTS_PER_PAGE = 25;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createArticlesService(deps: ArticlesDeps) {
  const { repo, mailer, jobs, i18n, baseUrl, people } = deps;
  const searchChanged = deps.searchChanged ?? noSearchChanges;
  /** Tell the search these articles changed: after the commit, and never a failure of the request. */
  const changed = (ids: readonly string[]) => {
    if (!ids.length) return;
    try {
      searchChanged(SEARCH_SOURCE, ids);
    } catch {
      // The search's safety net (changedSince) finds it later.
    }
  };
  let clock = deps.clock ?? (() => new Date());
  const articleUrl = (a: { kind: ArticleKind; slug: string }) =>
    `${baseUrl}/${kindPath(a.kind)}/${a.slug}`;

  const isPublicNow = (a: ArticleRow) =>
    (a.status === 'published' || a.status === 'scheduled') &&
    !!a.publishAt &&
    a.publishAt.getTime() <= clock().getTime();
  const canSee = (a: ArticleRow, viewer: CurrentUser | undefined) =>
    isPublicNow(a) ||
    a.status === 'archived' ||
    isEditor(viewer) ||
    (!!viewer && a.submittedBy === viewer.id);

  function requireEditor(actor: CurrentUser | undefined): asserts actor is CurrentUser {
    if (!isEditor(actor)) throw new AccessDenied('Editors only');
  }
  function requireModerator(actor: CurrentUser | undefined): asserts actor is CurrentUser {
    if (!isModerator(actor)) throw new AccessDenied('Moderators only');
  }

  let placeCache: { at: number; rows: Promise<Place[]> } | undefined;
  const authorities = (): Promise<Place[]> => {
    if (!placeCache || Date.now() - placeCache.at > 60_000)
      placeCache = { at: Date.now(), rows: deps.places.authorities() };
    return placeCache.rows;
  };
  let seriesCache: { at: number; rows: Promise<SeriesRow[]> } | undefined;
  const allSeries = (): Promise<SeriesRow[]> => {
    if (!seriesCache || Date.now() - seriesCache.at > 30_000)
      seriesCache = { at: Date.now(), rows: repo.allSeries() };
    return seriesCache.rows;
  };

  const translator = (locale: string) => i18n.translator((locale === 'cy' ? 'cy' : 'en') as Locale);

  /** Send a templated email in the unit of work, unless the person asked for none. */
  async function tell(
    tx: Tx,
    to: Contact | undefined,
    key: string,
    vars: Record<string, string>,
    kind = 'articles',
  ) {
    if (!to?.email) return;
    const t = translator(to.locale);
    await mailer.send(
      {
        to: to.email,
        subject: t(`articles.emails.${key}.subject`, vars),
        text: `${t(`articles.emails.${key}.body`, { ...vars, name: to.displayName })}\n\n${t('articles.emails.footer')}\n`,
      },
      { tx },
    );
    void kind;
  }

  async function validate(input: ArticleInput, id: string | undefined) {
    const problems: Problem[] = [];
    const topicSlugs = new Set((await deps.topics()).map((t) => t.slug));
    if (input.topics.some((t) => !topicSlugs.has(t)))
      problems.push({ field: 'topics', key: 'articles.errors.topicUnknown' });
    const places = await authorities();
    const known = new Map(places.map((p) => [p.gssCode, p]));
    const unknownPlaces = input.authorities.filter((g) => !known.has(g));
    if (unknownPlaces.length)
      problems.push({
        field: 'authorities',
        key: 'articles.errors.authorityUnknown',
        vars: { codes: unknownPlaces.join(', ') },
      });
    const missing: string[] = [];
    for (const s of input.services) if (!(await deps.places.service(s))) missing.push(s);
    if (missing.length)
      problems.push({
        field: 'services',
        key: 'articles.errors.serviceUnknown',
        vars: { slugs: missing.join(', ') },
      });
    let seriesId: string | null = null;
    if (input.series) {
      const s = (await allSeries()).find((x) => x.slug === input.series);
      if (!s) problems.push({ field: 'series', key: 'articles.errors.seriesUnknown' });
      else seriesId = s.id;
    }
    // Guideline statements: each must be one of a guideline's (asked of the guidelines feature).
    const typed = input.statements.map((line) => ({ line: line.trim(), key: statementKey(line) }));
    const found = await deps.guidelineStatements(typed.flatMap((x) => (x.key ? [x.key] : [])));
    const foundIds = new Set(found.map(statementId));
    const unknownStatements = typed
      .filter((x) => !x.key || !foundIds.has(statementId(x.key)))
      .map((x) => x.line);
    if (unknownStatements.length)
      problems.push({
        field: 'statements',
        key: 'articles.errors.statementUnknown',
        vars: { statements: unknownStatements.join(', ') },
      });
    const statements = [
      ...new Set(typed.flatMap((x) => (x.key ? [statementId(x.key)] : []))),
    ].filter((id) => foundIds.has(id));
    problems.push(...bodyImageProblems(input.body));
    if (input.leadImageUrl) {
      if (!imageSrcAllowed(input.leadImageUrl))
        problems.push({ field: 'leadImageUrl', key: 'articles.errors.imageSrc' });
      if (!input.leadImageAlt)
        problems.push({ field: 'leadImageAlt', key: 'articles.errors.leadImageAlt' });
    }
    if (input.featuresParent) {
      if (!input.consentRecordedOn)
        problems.push({ field: 'consentRecordedOn', key: 'articles.errors.consent' });
      if (!input.consentReviewOn)
        problems.push({ field: 'consentReviewOn', key: 'articles.errors.consentReview' });
      else if (input.consentRecordedOn && input.consentReviewOn <= input.consentRecordedOn)
        problems.push({ field: 'consentReviewOn', key: 'articles.errors.consentReviewOrder' });
    }
    const slug = input.slug ? input.slug : slugify(input.title, 'article');
    if (!SLUG_PATTERN.test(slug) || slug.length > 100)
      problems.push({ field: 'slug', key: 'articles.errors.slugFormat' });
    else if (await repo.slugTaken(input.kind, slug, id))
      problems.push({
        field: input.slug ? 'slug' : 'title',
        key: input.slug ? 'articles.errors.slugTaken' : 'articles.errors.titleTaken',
      });
    const regions = [
      ...new Set(
        input.authorities.map((g) => known.get(g)?.regionName).filter((r): r is string => !!r),
      ),
    ];
    return { problems, slug, seriesId, regions, statements };
  }

  function valuesFrom(
    input: ArticleInput,
    v: { slug: string; seriesId: string | null; regions: string[]; statements: string[] },
  ): Omit<NewArticle, 'status'> {
    return {
      kind: input.kind,
      slug: v.slug,
      title: input.title,
      standfirst: input.standfirst,
      body: input.body,
      bodyHtml: renderBody(input.body),
      language: input.language,
      authors: input.authors,
      topics: input.topics,
      seriesId: v.seriesId,
      leadImageUrl: input.leadImageUrl ?? null,
      leadImageAlt: input.leadImageUrl ? (input.leadImageAlt ?? null) : null,
      leadImageCaption: input.leadImageUrl ? (input.leadImageCaption ?? null) : null,
      authorities: input.authorities,
      regions: v.regions,
      services: input.services,
      statements: v.statements,
      featuresParent: input.featuresParent,
      consentRecordedOn: input.featuresParent ? (input.consentRecordedOn ?? null) : null,
      consentReviewOn: input.featuresParent ? (input.consentReviewOn ?? null) : null,
      commentsOpen: input.commentsOpen,
      commentsCloseAt: input.commentsCloseAt ?? null,
    };
  }

  /** Names of places, services and series for an article's page. */
  async function context(a: ArticleRow) {
    const keys = a.statements.map(keyOf).filter((k): k is StatementKey => !!k);
    const [places, series, topics, services, statements] = await Promise.all([
      authorities(),
      allSeries(),
      deps.topics(),
      Promise.all(a.services.map((s) => deps.places.service(s))),
      keys.length ? deps.guidelineStatements(keys) : Promise.resolve([]),
    ]);
    const byId = new Map(statements.map((s) => [statementId(s), s]));
    const byCode = new Map(places.map((p) => [p.gssCode, p]));
    return {
      places: a.authorities.map((g) => byCode.get(g)).filter((p): p is Place => !!p),
      series: series.find((s) => s.id === a.seriesId),
      topics: a.topics
        .map((slug) => topics.find((t) => t.slug === slug))
        .filter((t): t is Topic => !!t),
      services: services.filter((s): s is NonNullable<typeof s> => !!s),
      /** In the order stored; one no longer in the guideline's current version has no address. */
      statements: a.statements.map((id): Partial<GuidelineStatement> & { id: string } => ({
        id,
        ...byId.get(id),
      })),
    };
  }

  function commentsClosed(a: ArticleRow): boolean {
    return (
      !a.commentsOpen || (!!a.commentsCloseAt && a.commentsCloseAt.getTime() <= clock().getTime())
    );
  }

  async function holdFor(viewer: CurrentUser, body: string): Promise<HoldReason | undefined> {
    if (safeguardingConcern(body)) return 'safeguarding';
    if (isModerator(viewer)) return undefined;
    const words = (await people.setting<string[]>(WORD_LIST_SETTING)) ?? [];
    if (matchesWordList(body, words)) return 'words';
    const maxLinks = (await people.setting<number>(MAX_LINKS_SETTING)) ?? DEFAULT_MAX_LINKS;
    if (linkCount(body) > maxLinks) return 'links';
    const heldFirst = (await people.setting<number>(HELD_FIRST_SETTING)) ?? DEFAULT_HELD_FIRST;
    if ((await repo.visibleCommentsBy(viewer.id)) < heldFirst) return 'first';
    return undefined;
  }

  /**
   * Who is told of a comment now shown: the article's author (the member who
   * proposed it, or the editor who wrote it) and, for a reply, the author of
   * the comment replied to; never the writer themselves.
   */
  async function recipientsOf(
    article: ArticleRow,
    comment: { id: string; authorId: string | null; parentId: string | null },
    actorLabel: string | null,
  ): Promise<((tx: Tx) => Promise<void>) | undefined> {
    if (!deps.notify) return undefined;
    const parent = comment.parentId ? await repo.comment(comment.parentId) : undefined;
    const ids = new Map<string, CommentNotice['kind']>();
    const articleAuthor = article.submittedBy ?? article.createdBy;
    if (articleAuthor) ids.set(articleAuthor, 'comment');
    if (parent?.authorId && parent.status === 'visible') ids.set(parent.authorId, 'comment_reply');
    if (comment.authorId) ids.delete(comment.authorId);
    const link = `/${kindPath(article.kind)}/${article.slug}#comment-${comment.id}`;
    return deps.notify(
      [...ids].map(([userId, kind]) => ({ userId, kind, actorLabel, title: article.title, link })),
    );
  }

  const service = {
    kindPath,
    articleUrl,
    allSeries,
    authorities,
    topics: () => deps.topics(),
    now: () => clock(),
    /** Set the clock (tests move time on to see a scheduled article appear); none: the real time. */
    setClock(fn?: () => Date) {
      clock = fn ?? deps.clock ?? (() => new Date());
    },
    servicesIn: async (gss: string) => (await deps.places.servicesIn?.(gss)) ?? [],

    async list(f: ListFilters, page: number, pageSize: number) {
      return repo.list(f, clock(), pageSize, (page - 1) * pageSize);
    },
    /** The newest public articles (feeds, the home page). */
    /**
     * News and stories that became public after `from`, up to `until` (for the newsletter's
     * digest): title, address, standfirst and time, oldest first.
     */
    async publishedBetween(from: Date, until: Date, limit = 200) {
      const rows = await repo.publishedBetween(from, until, clock(), limit);
      return rows.map((a) => ({
        kind: a.kind,
        title: a.title,
        url: articleUrl(a),
        summary: a.standfirst,
        publishedAt: a.publishAt!,
      }));
    },
    async latest(f: ListFilters, limit: number): Promise<ArticleSummary[]> {
      return repo.latest(f, clock(), limit);
    },
    async series(slug: string) {
      return (await allSeries()).find((s) => s.slug === slug);
    },
    /** Practice stories that name this service (for its page). */
    async storiesForService(slug: string, limit = 5): Promise<ArticleSummary[]> {
      return (await repo.list({ kind: 'story', service: slug }, clock(), limit, 0)).rows;
    },
    /** A story anyone may read, by its address (a guideline example links to it), or undefined. */
    async publicStory(slug: string) {
      const a = await repo.bySlug('story', slug);
      return a && isPublicNow(a)
        ? { title: a.title, slug: a.slug, language: a.language }
        : undefined;
    },
    /** Public practice stories that show a guideline statement (for the statement's page). */
    async storiesForStatement(slug: string, ref: string, limit = 10): Promise<ArticleSummary[]> {
      const statement = statementId({ slug, ref });
      return (await repo.list({ kind: 'story', statement }, clock(), limit, 0)).rows;
    },
    /** Which of these statements (`slug/ref`) a guideline has now (the demo content checks its own). */
    async knownStatements(ids: string[]): Promise<string[]> {
      const keys = ids.map(keyOf).filter((k): k is StatementKey => !!k);
      const found = new Set((await deps.guidelineStatements(keys)).map(statementId));
      return ids.filter((id) => found.has(id));
    },
    /** How many public stories each authority has (the overview's rows). */
    async storyCountsByAuthority(): Promise<Map<string, number>> {
      return repo.countByAuthority(clock());
    },

    /** Where an article lives (its kind and slug), for going back to its page. */
    async articleById(id: string) {
      const a = await repo.byId(id);
      return a && { kind: a.kind, slug: a.slug };
    },
    /**
     * An article as the viewer may see it, with one page of its comment threads
     * (`COMMENTS_PER_PAGE` top-level comments, each with its replies): `page`
     * counts from 1; `focus` (a comment's id) opens the page that holds it.
     */
    async view(
      kind: ArticleKind,
      slug: string,
      viewer: CurrentUser | undefined,
      opts: { order?: 'oldest' | 'newest'; page?: number; focus?: string | undefined } = {},
    ) {
      const article = await repo.bySlug(kind, slug);
      if (!article || !canSee(article, viewer)) return undefined;
      const moderator = isModerator(viewer);
      const newest = opts.order === 'newest';
      const focused =
        opts.focus && UUID.test(opts.focus)
          ? await repo.threadIndex(article.id, viewer?.id, moderator, opts.focus, newest)
          : undefined;
      const asked =
        focused !== undefined
          ? Math.floor(focused / COMMENTS_PER_PAGE) + 1
          : Math.max(1, Math.floor(opts.page ?? 1) || 1);
      const read = (p: number) =>
        repo.commentPage(article.id, viewer?.id, moderator, {
          newest,
          limit: COMMENTS_PER_PAGE,
          offset: (p - 1) * COMMENTS_PER_PAGE,
        });
      const [ctx, first, liked, ban] = await Promise.all([
        context(article),
        read(asked),
        viewer ? repo.likesArticle(article.id, viewer.id) : Promise.resolve(false),
        viewer ? repo.banOf(viewer.id) : Promise.resolve(undefined),
      ]);
      const commentPages = Math.max(1, Math.ceil(first.threads / COMMENTS_PER_PAGE));
      // A page past the end shows the last one.
      const commentPage = Math.min(asked, commentPages);
      const { comments, visible } = commentPage === asked ? first : await read(commentPage);
      const names = await people.people([
        ...new Set(comments.filter((c) => c.authorId && !c.anonymous).map((c) => c.authorId!)),
      ]);
      const me = viewer ? (names.get(viewer.id) ?? (await people.person(viewer.id))) : undefined;
      const closed = commentsClosed(article);
      return {
        article,
        ...ctx,
        public: isPublicNow(article),
        comments: comments.map((c) =>
          withFields(c, {
            authorName: c.anonymous
              ? undefined
              : c.authorId
                ? names.get(c.authorId)?.displayName
                : undefined,
            mine: !!viewer && c.authorId === viewer.id,
          }),
        ),
        commentPage,
        commentPages,
        commentCount: visible,
        liked,
        closed,
        canEdit: isEditor(viewer),
        canModerate: moderator,
        mayComment: isApproved(viewer) && !ban && !closed && isPublicNow(article),
        mayLike: isApproved(viewer) && isPublicNow(article),
        banned: ban?.reason,
        myKind: me?.kind,
      };
    },

    // Editing
    async forEditing(actor: CurrentUser | undefined, id: string) {
      requireEditor(actor);
      const article = await repo.byId(id);
      if (!article) return undefined;
      const submitter = article.submittedBy ? await people.person(article.submittedBy) : undefined;
      return { article, submitter: submitter?.displayName };
    },
    async list4Editors(
      actor: CurrentUser | undefined,
      status: ArticleStatus | undefined,
      kind: ArticleKind | undefined,
      page: number,
      pageSize: number,
    ) {
      requireEditor(actor);
      const [result, counts] = await Promise.all([
        repo.listByStatus(status, kind, pageSize, (page - 1) * pageSize),
        repo.countByStatus(),
      ]);
      return { ...result, counts };
    },
    /**
     * Save an article (new when `id` is undefined). `action`: keep as draft,
     * publish now, schedule for `publishAt` (a job publishes it then), or
     * archive. Everything valid or nothing written.
     */
    async save(
      actor: CurrentUser | undefined,
      id: string | undefined,
      input: ArticleInput,
      action: 'draft' | 'publish' | 'schedule' | 'save',
      publishAt?: Date,
    ): Promise<{ ok: true; article: ArticleRow } | { ok: false; problems: Problem[] } | undefined> {
      requireEditor(actor);
      const before = id ? await repo.byId(id) : undefined;
      if (id && !before) return undefined;
      const v = await validate(input, id);
      if (action === 'schedule' && (!publishAt || publishAt.getTime() <= clock().getTime()))
        v.problems.push({ field: 'publishAt', key: 'articles.errors.publishAtFuture' });
      if (v.problems.length) return { ok: false, problems: v.problems };
      const submitter =
        before?.status === 'submitted' && before.submittedBy && action === 'publish'
          ? (await people.contacts([before.submittedBy])).get(before.submittedBy)
          : undefined;
      const values = valuesFrom(input, v);
      const now = clock();
      const status: ArticleStatus | undefined =
        action === 'publish'
          ? 'published'
          : action === 'schedule'
            ? 'scheduled'
            : action === 'draft'
              ? 'draft'
              : undefined;
      const article = await deps.transaction(async (tx) => {
        const r = repo.in(tx);
        const timing =
          status === 'published'
            ? { publishAt: before?.status === 'published' ? before.publishAt : now }
            : status === 'scheduled'
              ? { publishAt: publishAt! }
              : status === 'draft'
                ? { publishAt: null }
                : {};
        const row = before
          ? (await r.update(before.id, { ...values, ...(status ? { status } : {}), ...timing }))!
          : await r.insert({
              ...values,
              status: status ?? 'draft',
              ...timing,
              createdBy: actor.id,
            });
        if (status === 'scheduled')
          await jobs.enqueue(PUBLISH_JOB, { id: row.id }, { tx, runAt: publishAt! });
        if (submitter)
          await tell(tx, submitter, 'storyPublished', { title: row.title, link: articleUrl(row) });
        return row;
      });
      seriesCache = undefined;
      changed([article.id]);
      await people.audit(before ? 'article.updated' : 'article.created', {
        actorId: actor.id,
        detail: { article: article.id, status: article.status },
      });
      return { ok: true, article };
    },
    /** Publish, schedule, archive, back to draft, or decline a proposal (with a reason). */
    async setStatus(
      actor: CurrentUser | undefined,
      id: string,
      action: 'publish' | 'archive' | 'unarchive' | 'draft' | 'decline' | 'schedule',
      opts: { reason?: string; publishAt?: Date } = {},
    ): Promise<{ ok: true; article: ArticleRow } | { ok: false; problems: Problem[] } | undefined> {
      requireEditor(actor);
      const before = await repo.byId(id);
      if (!before) return undefined;
      if (action === 'decline' && !opts.reason)
        return { ok: false, problems: [{ field: 'reason', key: 'articles.errors.reason' }] };
      if (
        action === 'schedule' &&
        (!opts.publishAt || opts.publishAt.getTime() <= clock().getTime())
      )
        return {
          ok: false,
          problems: [{ field: 'publishAt', key: 'articles.errors.publishAtFuture' }],
        };
      const submitter =
        before.submittedBy &&
        before.status === 'submitted' &&
        (action === 'publish' || action === 'decline')
          ? (await people.contacts([before.submittedBy])).get(before.submittedBy)
          : undefined;
      const now = clock();
      const article = await deps.transaction(async (tx) => {
        const r = repo.in(tx);
        let row: ArticleRow | undefined;
        if (action === 'publish')
          row = await r.update(id, {
            status: 'published',
            publishAt:
              before.publishAt &&
              before.status !== 'draft' &&
              before.status !== 'submitted' &&
              before.publishAt <= now
                ? before.publishAt
                : now,
          });
        else if (action === 'schedule') {
          row = await r.update(id, { status: 'scheduled', publishAt: opts.publishAt! });
          await jobs.enqueue(PUBLISH_JOB, { id }, { tx, runAt: opts.publishAt! });
        } else if (action === 'archive') row = await r.update(id, { status: 'archived' });
        else if (action === 'unarchive') row = await r.update(id, { status: 'published' });
        else if (action === 'draft') row = await r.update(id, { status: 'draft', publishAt: null });
        else row = await r.update(id, { status: 'draft', declineReason: opts.reason ?? null });
        if (submitter && action === 'publish')
          await tell(tx, submitter, 'storyPublished', {
            title: before.title,
            link: articleUrl(before),
          });
        if (submitter && action === 'decline')
          await tell(tx, submitter, 'storyDeclined', {
            title: before.title,
            reason: opts.reason ?? '',
          });
        return row!;
      });
      changed([id]);
      await people.audit(`article.${action}`, { actorId: actor.id, detail: { article: id } });
      return { ok: true, article };
    },
    /** Publish every scheduled article whose time has come (the job). */
    async publishDue(): Promise<ArticleRow[]> {
      const rows = await repo.publishDue(clock());
      changed(rows.map((a) => a.id));
      for (const a of rows)
        await people.audit('article.published_on_schedule', { detail: { article: a.id } });
      return rows;
    },

    /** A member proposes a practice story: it waits for an editor. */
    async propose(
      actor: CurrentUser | undefined,
      input: ArticleInput,
    ): Promise<{ ok: true; article: ArticleRow } | { ok: false; problems: Problem[] }> {
      if (!actor || !isApproved(actor)) throw new ArticleRefusal('approval');
      const v = await validate({ ...input, kind: 'story', slug: undefined }, undefined);
      if (v.problems.length) return { ok: false, problems: v.problems };
      const article = await repo.insert({
        ...valuesFrom({ ...input, kind: 'story' }, v),
        status: 'submitted',
        submittedBy: actor.id,
      });
      await people.audit('article.proposed', {
        actorId: actor.id,
        detail: { article: article.id },
      });
      return { ok: true, article };
    },

    /**
     * The site search's source: news and practice stories public now (as the
     * lists decide: published, or scheduled and its time has come), for
     * anyone. Comments are not indexed.
     */
    searchSource(): SearchSource {
      const label = (kind: ArticleKind, locale: Locale) =>
        translator(locale)(`articles.kinds.${kind}`);
      const toDocument = (a: Awaited<ReturnType<typeof repo.searchDocuments>>[number]) =>
        ({
          id: a.id,
          kind: a.kind,
          typeLabel: label(a.kind, 'en'),
          typeLabelCy: label(a.kind, 'cy'),
          url: `/${kindPath(a.kind)}/${a.slug}`,
          language: a.language,
          title: a.title,
          summary: a.standfirst,
          body: searchText(a.body),
          authorities: a.authorities,
          regions: a.regions,
          ...(a.publishAt ? { date: a.publishAt } : {}),
          access: 'public',
          updatedAt: a.updatedAt,
        }) satisfies SearchDocument;
      const uuids = (ids: readonly string[]) => ids.filter((id) => UUID.test(id));
      return {
        name: SEARCH_SOURCE,
        kinds: ['news', 'story'],
        async documents(q) {
          const rows = await repo.searchDocuments(
            {
              after: q.after === undefined ? undefined : q.after.toLowerCase(),
              ids: q.ids && uuids(q.ids),
              limit: q.limit,
            },
            clock(),
          );
          return rows.map(toDocument);
        },
        async openable(ids) {
          return new Set(await repo.publicAmong(uuids(ids), clock()));
        },
        async changedSince(since, limit) {
          return repo.changedSince(since, clock(), limit);
        },
      };
    },

    // Likes
    /** The member likes the article (`on`), or takes their like back; asking twice changes nothing. */
    async likeArticle(viewer: CurrentUser, id: string, on = true) {
      const a = await repo.byId(id);
      if (!a || !isPublicNow(a)) return undefined;
      if (!isApproved(viewer)) throw new ArticleRefusal('approval');
      await repo.setArticleLike(id, viewer.id, on);
      return { article: a, liked: on };
    },
    async likeComment(viewer: CurrentUser, id: string, on = true) {
      const c = await repo.comment(id);
      const a = c && (await repo.byId(c.articleId));
      if (!c || !a || c.status !== 'visible' || !isPublicNow(a)) return undefined;
      if (!isApproved(viewer)) throw new ArticleRefusal('approval');
      await repo.setCommentLike(id, viewer.id, on);
      return { article: a, comment: c, liked: on };
    },

    // Comments
    /**
     * A comment or a reply (one level: a reply to a reply joins its
     * parent's thread). Held when it is one of the member's first comments,
     * has too many links, matches the word list, or looks like it names a
     * child (the safeguarding hold). A shown comment tells the article's
     * author and the author replied to, in the same unit of work.
     */
    async comment(
      viewer: CurrentUser,
      articleId: string,
      input: {
        body: string;
        parentId?: string | undefined;
        anonymous: boolean;
        showBackground: boolean;
      },
    ) {
      const article = await repo.byId(articleId);
      if (!article || !isPublicNow(article)) return undefined;
      if (!isApproved(viewer)) throw new ArticleRefusal('approval');
      if (commentsClosed(article)) throw new ArticleRefusal('closed');
      if (await repo.banOf(viewer.id)) throw new ArticleRefusal('banned');
      let parentId: string | null = null;
      if (input.parentId) {
        const parent = await repo.comment(input.parentId);
        if (!parent || parent.articleId !== article.id || parent.status !== 'visible')
          return undefined;
        parentId = parent.parentId ?? parent.id;
      }
      const me = await people.person(viewer.id);
      const anonymous = input.anonymous && me?.kind === 'parent';
      const background: Background | null =
        input.showBackground && me && (BACKGROUNDS as readonly string[]).includes(me.kind)
          ? (me.kind as Background)
          : null;
      const held = await holdFor(viewer, input.body);
      const commentId = randomUUID();
      const notify = held
        ? undefined
        : await recipientsOf(
            article,
            { id: commentId, authorId: viewer.id, parentId },
            anonymous ? null : viewer.displayName,
          );
      const row = await deps.transaction(async (tx) => {
        const c = await repo.in(tx).insertComment({
          id: commentId,
          articleId: article.id,
          parentId,
          authorId: viewer.id,
          anonymous,
          background,
          body: input.body,
          bodyHtml: renderMarkdown(input.body, { ugc: true }),
          status: held ? 'held' : 'visible',
          heldReason: held ?? null,
        });
        await notify?.(tx);
        return c;
      });
      await people.audit('article.comment_created', {
        actorId: viewer.id,
        detail: { comment: row.id, article: article.id, ...(held ? { held } : {}) },
      });
      return { article, comment: row, held };
    },
    /** The author (or a moderator) removes a comment; replies keep their place. */
    async deleteComment(viewer: CurrentUser, id: string) {
      const c = await repo.comment(id);
      const a = c && (await repo.byId(c.articleId));
      if (!c || !a || c.status === 'deleted') return undefined;
      if (c.authorId !== viewer.id && !isModerator(viewer)) throw new ArticleRefusal('notYours');
      await repo.setCommentStatus(id, 'deleted', null);
      await people.audit('article.comment_deleted', {
        actorId: viewer.id,
        subjectId: c.authorId,
        detail: { comment: id },
      });
      return { article: a };
    },
    async commentForReport(viewer: CurrentUser, id: string) {
      const c = await repo.comment(id);
      const a = c && (await repo.byId(c.articleId));
      if (!c || !a || c.status !== 'visible' || !isPublicNow(a)) return undefined;
      if (!isApproved(viewer)) throw new ArticleRefusal('approval');
      return { comment: c, article: a };
    },
    async report(viewer: CurrentUser, id: string, reason: string) {
      const found = await this.commentForReport(viewer, id);
      if (!found) return undefined;
      await repo.report(id, viewer.id, reason);
      await people.audit('article.comment_reported', {
        actorId: viewer.id,
        detail: { comment: id },
      });
      return found;
    },

    // Moderation
    async queue(viewer: CurrentUser | undefined) {
      requireModerator(viewer);
      const rows = await repo.queue();
      const names = await people.people([
        ...new Set(rows.map((r) => r.authorId).filter((x): x is string => !!x)),
      ]);
      return rows.map((r) => ({
        ...r,
        authorName: r.authorId ? names.get(r.authorId)?.displayName : undefined,
      }));
    },
    /**
     * A moderator's decision: approve (a held comment is shown, and the
     * people it concerns are told), hide (with a reason the author is told),
     * restore, dismiss the reports, or stop the author commenting (with a
     * reason). Reporters hear the outcome. One unit of work; audited.
     */
    async moderate(
      viewer: CurrentUser | undefined,
      id: string,
      action: 'approve' | 'hide' | 'restore' | 'dismiss' | 'ban',
      reason: string,
    ): Promise<{ ok: true } | { ok: false; problems: Problem[] } | undefined> {
      requireModerator(viewer);
      const c = await repo.comment(id);
      const article = c && (await repo.byId(c.articleId));
      if (!c || !article) return undefined;
      if ((action === 'hide' || action === 'ban') && !reason)
        return { ok: false, problems: [{ field: `reason-${id}`, key: 'articles.errors.reason' }] };
      const shows = (action === 'approve' || action === 'restore') && c.status !== 'visible';
      const author = c.authorId ? (await people.contacts([c.authorId])).get(c.authorId) : undefined;
      const authorName = c.authorId ? (await people.person(c.authorId))?.displayName : undefined;
      const notify =
        shows && c.status === 'held'
          ? await recipientsOf(article, c, c.anonymous ? null : (authorName ?? null))
          : undefined;
      const outcome = action === 'hide' || action === 'ban' ? 'hidden' : 'kept';
      // Addresses first (another feature's data), then one unit of work.
      const reporterContacts = await contactsOutside(await repo.openReporters(id));
      const link = `${articleUrl(article)}#comment-${id}`;
      await deps.transaction(async (tx) => {
        const r = repo.in(tx);
        if (action === 'approve' || action === 'restore')
          await r.setCommentStatus(id, 'visible', null);
        if (action === 'hide' || action === 'ban') await r.setCommentStatus(id, 'hidden', reason);
        if (action === 'ban' && c.authorId) await r.ban(c.authorId, reason);
        const reporters = await r.resolveReports(id, outcome);
        for (const rid of reporters)
          await tell(
            tx,
            reporterContacts.get(rid),
            outcome === 'hidden' ? 'reportHidden' : 'reportKept',
            {
              title: article.title,
              link,
            },
          );
        if ((action === 'hide' || action === 'ban') && author)
          await tell(tx, author, action === 'ban' ? 'commentBanned' : 'commentHidden', {
            title: article.title,
            reason,
            link,
          });
        if (action === 'approve' && c.status === 'held' && author)
          await tell(tx, author, 'commentApproved', { title: article.title, link });
        await notify?.(tx);
      });
      await people.audit(`article.comment_${action}`, {
        actorId: viewer.id,
        subjectId: c.authorId,
        detail: { comment: id, reason },
      });
      return { ok: true };
    },
    async unban(viewer: CurrentUser | undefined, userId: string) {
      requireModerator(viewer);
      await repo.unban(userId);
      await people.audit('article.comment_unban', { actorId: viewer.id, subjectId: userId });
    },

    // Settings (admins)
    async settings() {
      return {
        heldFirst: (await people.setting<number>(HELD_FIRST_SETTING)) ?? DEFAULT_HELD_FIRST,
        maxLinks: (await people.setting<number>(MAX_LINKS_SETTING)) ?? DEFAULT_MAX_LINKS,
        words: (await people.setting<string[]>(WORD_LIST_SETTING)) ?? [],
      };
    },
    async saveSettings(
      actor: CurrentUser | undefined,
      s: { heldFirst: number; maxLinks: number; words: string[] },
    ) {
      if (!accessAllows('admin', actor)) throw new AccessDenied('Admins only');
      const before = await this.settings();
      await people.putSetting(HELD_FIRST_SETTING, s.heldFirst);
      await people.putSetting(MAX_LINKS_SETTING, s.maxLinks);
      await people.putSetting(WORD_LIST_SETTING, s.words);
      await people.audit('settings.articles-moderation', {
        actorId: actor!.id,
        detail: { from: before, to: s },
      });
    },

    personalData: {
      name: 'articles',
      async export(userId: string) {
        const [comments, proposals] = await Promise.all([
          repo.commentsBy(userId),
          repo.submissionsOf(userId),
        ]);
        return {
          comments: comments.map((c) => ({
            article: `${baseUrl}/${kindPath(c.articleKind)}/${c.articleSlug}`,
            articleTitle: c.articleTitle,
            text: c.body,
            status: c.status,
            at: c.createdAt,
          })),
          proposedStories: proposals.map((a) => ({
            title: a.title,
            status: a.status,
            proposedAt: a.createdAt,
          })),
        };
      },
      async erase(userId: string, removeContributions: boolean) {
        // Only unpublished proposals are removed (never indexed); told all the same.
        const proposed = removeContributions ? await repo.submittedIds(userId) : [];
        await repo.eraseCommenter(userId, removeContributions);
        await repo.detachSubmitter(userId, removeContributions);
        changed(proposed);
      },
    } satisfies PersonalDataProvider,
  };

  /**
   * Reporters' addresses: looked up through accounts (outside our tables). A reporter asked for
   * an answer, so they are told the outcome whatever their notification emails.
   */
  async function contactsOutside(ids: string[]): Promise<Map<string, Contact>> {
    return people.contacts(ids);
  }

  jobs.register(PUBLISH_JOB, async () => {
    await service.publishDue();
  });
  return service;
}

export type ArticlesService = ReturnType<typeof createArticlesService>;
export type { ArticleSummary, CommentView };
