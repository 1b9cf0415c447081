import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { userOf } from '../../platform/auth.ts';
import { formatDate, londonInstant, londonParts } from '../../platform/dates.ts';
import { atomFeed } from '../../platform/feeds.ts';
import { errorsFrom, type FormErrors, text } from '../../platform/forms.ts';
import type { Locale } from '../../platform/i18n/index.ts';
import { pageLinks } from '../../platform/pagination.ts';
import { withFields } from '../../platform/objects.ts';
import type { ArticleRow, ArticleSummary, SeriesRow } from './repository.ts';
import { DEMO_IMAGES } from './images.ts';
import { ARTICLE_KINDS, ARTICLE_STATUSES, type ArticleKind, type ArticleStatus } from './schema.ts';
import {
  type ArticleInput,
  ArticleRefusal,
  type ArticlesService,
  kindPath,
  type Place,
  type Problem,
  type Topic,
} from './service.ts';

/** HTTP only: read the query or form, call the articles service, render. */

const V = 'articles/views';
const PAGE_SIZE = 20;
const slugParam = z.object({ slug: z.string().regex(/^[a-z0-9-]{1,120}$/) });
const idParam = z.object({ id: z.uuid() });
const form = { rateLimit: { max: 20, timeWindow: 60_000 } };
/** Words that are pages of their own under /stories and /news, never slugs. */
const RESERVED = new Set(['propose', 'feed', 'series', 'new']);

const list = (v: unknown): string[] =>
  v === undefined
    ? []
    : (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
const lines = (v: unknown): string[] =>
  typeof v === 'string'
    ? v
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean)
    : [];

const listQuery = z.object({
  topic: z
    .unknown()
    .optional()
    .transform((v) =>
      [...new Set(list(v))].filter((x) => /^[a-z0-9-]{1,80}$/.test(x)).slice(0, 10),
    ),
  region: z
    .unknown()
    .optional()
    .transform((v) => [...new Set(list(v))].filter((x) => x.length <= 80).slice(0, 10)),
  series: z
    .string()
    .regex(/^[a-z0-9-]{1,80}$/)
    .optional()
    .catch(undefined),
  /** An authority (GSS code): the overview's "practice stories from here". */
  la: z
    .string()
    .regex(/^[EW]\d{8}$/)
    .optional()
    .catch(undefined),
  page: z.coerce.number().int().min(1).max(1000).catch(1),
});
type ListQuery = z.infer<typeof listQuery>;

function queryOf(q: ListQuery, change: Partial<ListQuery> = {}): URLSearchParams {
  const m = { ...q, ...change };
  const p = new URLSearchParams();
  for (const t of m.topic) p.append('topic', t);
  for (const r of m.region) p.append('region', r);
  if (m.series) p.set('series', m.series);
  if (m.la) p.set('la', m.la);
  if (m.page > 1) p.set('page', String(m.page));
  return p;
}
const withQuery = (path: string, p: URLSearchParams) => {
  const s = p.toString();
  return s ? `${path}?${s}` : path;
};

const nameIn = (locale: Locale, x: { name: string; nameCy: string | null }) =>
  locale === 'cy' && x.nameCy ? x.nameCy : x.name;

/** A date field in three boxes (`name-day`, `-month`, `-year`) as YYYY-MM-DD, or a problem. */
function dateField(
  b: Record<string, unknown>,
  name: string,
): { value?: string; problem?: boolean } {
  const d = text(b[`${name}-day`]);
  const m = text(b[`${name}-month`]);
  const y = text(b[`${name}-year`]);
  if (!d && !m && !y) return {};
  const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  const ok =
    /^\d{4}$/.test(y ?? '') &&
    /^\d{1,2}$/.test(m ?? '') &&
    /^\d{1,2}$/.test(d ?? '') &&
    date.getUTCDate() === Number(d) &&
    date.getUTCMonth() === Number(m) - 1 &&
    Number(y) >= 2000 &&
    Number(y) <= 2100;
  return ok ? { value: date.toISOString().slice(0, 10) } : { problem: true };
}
/** A date and a time (HH:MM, London) as an instant. */
function dateTimeField(
  b: Record<string, unknown>,
  name: string,
): { value?: Date; problem?: boolean } {
  const day = dateField(b, name);
  if (day.problem) return { problem: true };
  if (!day.value) return {};
  const time = text(b[`${name}-time`]) ?? '09:00';
  const tm = /^(\d{1,2})[:.](\d{2})$/.exec(time);
  if (!tm) return { problem: true };
  const [y, mo, d] = day.value.split('-').map(Number) as [number, number, number];
  const at = londonInstant(y, mo, d, Number(tm[1]), Number(tm[2]));
  return at ? { value: at } : { problem: true };
}

/**
 * The article form (editors, and members proposing a story). Authorities
 * are names or GSS codes, one a line; services are slugs or addresses of
 * their pages; authors are "Name | role" lines.
 */
function readArticleForm(
  b: Record<string, unknown>,
  kind: ArticleKind,
  places: Place[],
): { input: ArticleInput; problems: Problem[]; publishAt?: Date | undefined } {
  const problems: Problem[] = [];
  const need = (field: string, max: number, key: string) => {
    const v = text(b[field]) ?? '';
    if (!v) problems.push({ field, key });
    else if (v.length > max)
      problems.push({ field, key: 'articles.errors.tooLong', vars: { max } });
    return v;
  };
  const opt = (field: string, max: number) => {
    const v = text(b[field]);
    if (v && v.length > max)
      problems.push({ field, key: 'articles.errors.tooLong', vars: { max } });
    return v;
  };
  const title = need('title', 200, 'articles.errors.title');
  const standfirst = need('standfirst', 600, 'articles.errors.standfirst');
  const body = typeof b.body === 'string' ? b.body.trim() : '';
  if (!body) problems.push({ field: 'body', key: 'articles.errors.body' });
  else if (body.length > 100_000)
    problems.push({ field: 'body', key: 'articles.errors.tooLong', vars: { max: 100_000 } });
  const authors = lines(b.authors)
    .slice(0, 10)
    .map((l) => {
      const [name = '', ...role] = l.split('|');
      return { name: name.trim().slice(0, 120), role: role.join('|').trim().slice(0, 160) };
    })
    .filter((a) => a.name);
  const byName = new Map<string, string>();
  for (const p of places) {
    byName.set(p.gssCode.toLowerCase(), p.gssCode);
    byName.set(p.name.toLowerCase(), p.gssCode);
    if (p.nameCy) byName.set(p.nameCy.toLowerCase(), p.gssCode);
  }
  const authorityLines = lines(b.authorities).slice(0, 30);
  const unknown = authorityLines.filter((l) => !byName.has(l.toLowerCase()));
  if (unknown.length)
    problems.push({
      field: 'authorities',
      key: 'articles.errors.authorityUnknown',
      vars: { codes: unknown.join(', ') },
    });
  const authorities = [
    ...new Set(
      authorityLines.map((l) => byName.get(l.toLowerCase())).filter((g): g is string => !!g),
    ),
  ];
  const services = [
    ...new Set(
      lines(b.services)
        .slice(0, 20)
        .map((l) => l.replace(/^.*\/services\//, '').replace(/[/?#].*$/, '')),
    ),
  ];
  const consent = dateField(b, 'consentRecordedOn');
  if (consent.problem) problems.push({ field: 'consentRecordedOn', key: 'articles.errors.date' });
  const review = dateField(b, 'consentReviewOn');
  if (review.problem) problems.push({ field: 'consentReviewOn', key: 'articles.errors.date' });
  const closeAt = dateTimeField(b, 'commentsCloseAt');
  if (closeAt.problem) problems.push({ field: 'commentsCloseAt', key: 'articles.errors.date' });
  const publishAt = dateTimeField(b, 'publishAt');
  if (publishAt.problem) problems.push({ field: 'publishAt', key: 'articles.errors.date' });
  const slug = opt('slug', 100);
  if (slug && RESERVED.has(slug))
    problems.push({ field: 'slug', key: 'articles.errors.slugTaken' });
  const input: ArticleInput = {
    kind,
    title,
    slug,
    standfirst,
    body,
    language: text(b.language) === 'cy' ? 'cy' : 'en',
    authors,
    topics: list(b.topics).slice(0, 10),
    series: text(b.series),
    leadImageUrl: opt('leadImageUrl', 500),
    leadImageAlt: opt('leadImageAlt', 300),
    leadImageCaption: opt('leadImageCaption', 300),
    authorities,
    services,
    statements: lines(b.statements)
      .slice(0, 20)
      .map((s) => s.slice(0, 200)),
    featuresParent: text(b.featuresParent) === 'yes',
    consentRecordedOn: consent.value,
    consentReviewOn: review.value,
    commentsOpen: text(b.commentsOpen) !== 'no',
    commentsCloseAt: closeAt.value,
  };
  return { input, problems, publishAt: publishAt.value };
}

function dateValues(name: string, iso: string | null | undefined): Record<string, string> {
  if (!iso) return {};
  const [y, m, d] = iso.split('-');
  return {
    [`${name}-day`]: String(Number(d)),
    [`${name}-month`]: String(Number(m)),
    [`${name}-year`]: y!,
  };
}
function dateTimeValues(name: string, at: Date | null | undefined): Record<string, string> {
  if (!at) return {};
  const p = londonParts(at);
  return {
    [`${name}-day`]: String(p.day),
    [`${name}-month`]: String(p.month),
    [`${name}-year`]: String(p.year),
    [`${name}-time`]: `${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`,
  };
}

function valuesOf(a: ArticleRow, places: Place[], series: SeriesRow[]): Record<string, unknown> {
  const byCode = new Map(places.map((p) => [p.gssCode, p.name]));
  return {
    title: a.title,
    slug: a.slug,
    standfirst: a.standfirst,
    body: a.body,
    language: a.language,
    authors: a.authors.map((x) => (x.role ? `${x.name} | ${x.role}` : x.name)).join('\n'),
    topics: a.topics,
    series: series.find((s) => s.id === a.seriesId)?.slug ?? '',
    leadImageUrl: a.leadImageUrl ?? '',
    leadImageAlt: a.leadImageAlt ?? '',
    leadImageCaption: a.leadImageCaption ?? '',
    authorities: a.authorities.map((g) => byCode.get(g) ?? g).join('\n'),
    services: a.services.join('\n'),
    statements: a.statements.join('\n'),
    featuresParent: a.featuresParent ? 'yes' : '',
    commentsOpen: a.commentsOpen ? 'yes' : 'no',
    ...dateValues('consentRecordedOn', a.consentRecordedOn),
    ...dateValues('consentReviewOn', a.consentReviewOn),
    ...dateTimeValues('commentsCloseAt', a.commentsCloseAt),
    ...dateTimeValues('publishAt', a.status === 'scheduled' ? a.publishAt : null),
  };
}

/** schema.org NewsArticle (news) or Article (stories), safe inside a script element. */
function jsonLd(
  a: ArticleRow,
  url: string,
  baseUrl: string,
  extra: { series?: SeriesRow | undefined; topics: Topic[]; places: Place[] },
): string {
  const data: Record<string, unknown> = {
    '@context': 'https://schema.org',
    '@type': a.kind === 'news' ? 'NewsArticle' : 'Article',
    headline: a.title,
    description: a.standfirst,
    url,
    mainEntityOfPage: { '@type': 'WebPage', '@id': url },
    inLanguage: a.language === 'cy' ? 'cy' : 'en-GB',
    isAccessibleForFree: true,
    ...(a.publishAt ? { datePublished: a.publishAt.toISOString() } : {}),
    dateModified: a.updatedAt.toISOString(),
    author: a.authors.length
      ? a.authors.map((x) => ({
          '@type': 'Person',
          name: x.name,
          ...(x.role ? { jobTitle: x.role } : {}),
        }))
      : [{ '@type': 'Organization', name: 'Supporting Parents' }],
    publisher: { '@type': 'Organization', name: 'Supporting Parents', url: baseUrl },
    ...(a.leadImageUrl ? { image: [new URL(a.leadImageUrl, baseUrl).href] } : {}),
    ...(extra.topics.length ? { keywords: extra.topics.map((t) => t.name).join(', ') } : {}),
    ...(extra.series
      ? {
          isPartOf: {
            '@type': 'CreativeWorkSeries',
            name: extra.series.name,
            url: `${baseUrl}/series/${extra.series.slug}`,
          },
        }
      : {}),
    ...(extra.places.length
      ? {
          contentLocation: extra.places.map((p) => ({
            '@type': 'AdministrativeArea',
            name: p.name,
          })),
        }
      : {}),
    commentCount: a.commentCount,
  };
  return JSON.stringify(data).replace(/</g, '\\u003c');
}

export interface ArticlesRouteOptions {
  baseUrl: string;
}

export function articlesRoutes(
  articles: ArticlesService,
  opts: ArticlesRouteOptions,
): FastifyPluginAsync {
  return async (app) => {
    const pub = { access: 'public' as const };
    const { baseUrl } = opts;

    const summary = (
      req: FastifyRequest,
      a: ArticleSummary,
      topics: Topic[],
      series: SeriesRow[],
    ) => {
      const s = series.find((x) => x.id === a.seriesId);
      return withFields(a, {
        href: `/${kindPath(a.kind)}/${a.slug}`,
        date: a.publishAt ? formatDate(a.publishAt, req.locale) : undefined,
        isoDate: a.publishAt?.toISOString(),
        kindName: req.t(`articles.kinds.${a.kind}`),
        topicNames: a.topics
          .map((slug) => topics.find((t) => t.slug === slug))
          .filter((t): t is Topic => !!t)
          .map((t) => nameIn(req.locale, t)),
        seriesName: s ? nameIn(req.locale, s) : undefined,
      });
    };

    // Lists
    async function listPage(
      req: FastifyRequest,
      reply: FastifyReply,
      kind: ArticleKind | undefined,
      path: string,
      seriesRow?: SeriesRow,
    ) {
      const q = listQuery.parse(req.query ?? {});
      const [topics, series, places] = await Promise.all([
        articles.topics(),
        articles.allSeries(),
        articles.authorities(),
      ]);
      const chosenSeries =
        seriesRow ?? (q.series ? series.find((s) => s.slug === q.series) : undefined);
      const { rows, total } = await articles.list(
        {
          kind,
          topics: q.topic,
          regions: q.region,
          ...(chosenSeries ? { seriesId: chosenSeries.id } : {}),
          ...(q.la ? { authority: q.la } : {}),
        },
        q.page,
        PAGE_SIZE,
      );
      const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
      const regions = [...new Map(places.map((p) => [p.regionName, p.nation])).entries()].map(
        ([name, nation]) => ({ name, nation }),
      );
      // Region names in the page's language, from the service map's translations.
      const regionCodes = new Map(places.map((p) => [p.regionName, p.regionCode ?? '']));
      const regionLabel = (name: string) => {
        const key = `services.regions.${regionCodes.get(name) ?? ''}`;
        const label = req.t(key);
        return label.startsWith('services.regions.') ? name : label;
      };
      const feed = seriesRow ? `/series/${seriesRow.slug}/feed.atom` : `${path}/feed.atom`;
      const filtered =
        q.topic.length + q.region.length + (q.series && !seriesRow ? 1 : 0) + (q.la ? 1 : 0) > 0;
      const place = q.la ? places.find((p) => p.gssCode === q.la) : undefined;
      const chosen = [
        ...q.topic.map((v) => ({
          label: nameIn(req.locale, topics.find((t) => t.slug === v) ?? { name: v, nameCy: null }),
          href: withQuery(path, queryOf(q, { topic: q.topic.filter((x) => x !== v), page: 1 })),
        })),
        ...q.region.map((v) => ({
          label: v,
          href: withQuery(path, queryOf(q, { region: q.region.filter((x) => x !== v), page: 1 })),
        })),
        ...(q.la
          ? [
              {
                label: place ? nameIn(req.locale, place) : q.la,
                href: withQuery(path, queryOf(q, { la: undefined, page: 1 })),
              },
            ]
          : []),
        ...(q.series && !seriesRow
          ? [
              {
                label: chosenSeries ? nameIn(req.locale, chosenSeries) : q.series,
                href: withQuery(path, queryOf(q, { series: undefined, page: 1 })),
              },
            ]
          : []),
      ];
      const title = seriesRow
        ? nameIn(req.locale, seriesRow)
        : req.t(kind === 'news' ? 'articles.list.newsTitle' : 'articles.list.storiesTitle');
      return reply.render(`${V}/list.njk`, {
        title,
        description: seriesRow
          ? (req.locale === 'cy' && seriesRow.descriptionCy) || seriesRow.description
          : req.t(kind === 'news' ? 'articles.list.newsIntro' : 'articles.list.storiesIntro'),
        kind,
        path,
        series: seriesRow,
        query: q,
        rows: rows.map((a) => summary(req, a, topics, series)),
        total,
        filtered,
        chosen,
        topicItems: topics.map((t) => ({
          value: t.slug,
          text: nameIn(req.locale, t),
          checked: q.topic.includes(t.slug),
        })),
        regionItems: regions.map((r) => ({
          value: r.name,
          text: regionLabel(r.name),
          checked: q.region.includes(r.name),
        })),
        seriesItems: [
          { value: '', text: req.t('articles.list.anySeries') },
          ...series.map((s) => ({
            value: s.slug,
            text: nameIn(req.locale, s),
            selected: q.series === s.slug,
          })),
        ],
        seriesLinks: series.map((s) => ({
          href: `/series/${s.slug}`,
          text: nameIn(req.locale, s),
        })),
        pagination: pageLinks(path, queryOf(q), q.page, pages),
        feed,
        alternateLinks: [
          {
            type: 'application/atom+xml',
            href: feed,
            title: req.t('articles.feed.title', { title }),
          },
        ],
      });
    }

    async function feed(
      req: FastifyRequest,
      reply: FastifyReply,
      kind: ArticleKind | undefined,
      path: string,
      title: string,
      seriesRow?: SeriesRow,
    ) {
      const rows = await articles.latest(
        { kind, ...(seriesRow ? { seriesId: seriesRow.id } : {}) },
        50,
      );
      const topics = await articles.topics();
      const updated = rows.reduce(
        (max, r) => (r.updatedAt > max ? r.updatedAt : max),
        rows[0]?.publishAt ?? new Date(0),
      );
      const xml = atomFeed({
        id: `${baseUrl}${path}`,
        title: req.t('articles.feed.title', { title }),
        selfUrl: `${baseUrl}${path}/feed.atom`,
        siteUrl: `${baseUrl}${path}`,
        updated,
        language: req.locale,
        entries: rows.map((r) => ({
          id: `urn:uuid:${r.id}`,
          title: r.title,
          url: articles.articleUrl(r),
          summary: r.standfirst,
          updated: r.updatedAt > r.publishAt! ? r.updatedAt : r.publishAt!,
          published: r.publishAt!,
          ...(r.authors.length ? { author: r.authors.map((x) => x.name).join(', ') } : {}),
          categories: r.topics
            .map((s) => topics.find((t) => t.slug === s)?.name)
            .filter((x): x is string => !!x),
        })),
      });
      return reply
        .header('content-type', 'application/atom+xml; charset=utf-8')
        .header('cache-control', 'public, max-age=300')
        .send(xml);
    }

    app.get('/news', { config: { ...pub, pageCache: 10 } }, (req, reply) =>
      listPage(req, reply, 'news', '/news'),
    );
    app.get('/stories', { config: { ...pub, pageCache: 10 } }, (req, reply) =>
      listPage(req, reply, 'story', '/stories'),
    );
    app.get('/news/feed.atom', { config: { ...pub, a11y: false } }, (req, reply) =>
      feed(req, reply, 'news', '/news', req.t('articles.list.newsTitle')),
    );
    app.get('/stories/feed.atom', { config: { ...pub, a11y: false } }, (req, reply) =>
      feed(req, reply, 'story', '/stories', req.t('articles.list.storiesTitle')),
    );
    app.get('/series/:slug', { config: { ...pub, pageCache: 10 } }, async (req, reply) => {
      const p = slugParam.safeParse(req.params);
      const s = p.success ? await articles.series(p.data.slug) : undefined;
      if (!s) return reply.callNotFound();
      return listPage(req, reply, undefined, `/series/${s.slug}`, s);
    });
    app.get('/series/:slug/feed.atom', { config: { ...pub, a11y: false } }, async (req, reply) => {
      const p = slugParam.safeParse(req.params);
      const s = p.success ? await articles.series(p.data.slug) : undefined;
      if (!s) return reply.callNotFound();
      return feed(req, reply, undefined, `/series/${s.slug}`, nameIn(req.locale, s), s);
    });

    app.get('/articles/images/:name', { config: { ...pub, a11y: false } }, async (req, reply) => {
      const svg = DEMO_IMAGES[(req.params as { name: string }).name];
      if (!svg) return reply.callNotFound();
      return reply
        .header('content-type', 'image/svg+xml')
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox")
        .header('cache-control', 'public, max-age=86400')
        .send(svg);
    });

    // One article
    async function articlePage(
      req: FastifyRequest,
      reply: FastifyReply,
      kind: ArticleKind,
      slug: string,
      extra: { errors?: FormErrors; values?: Record<string, unknown>; status?: number } = {},
    ) {
      const query = (req.query ?? {}) as Record<string, string | undefined>;
      const order = query.order === 'newest' ? 'newest' : 'oldest';
      // Comments a page at a time (light pages on slow phones); `c` opens the page with that comment.
      const found = await articles.view(kind, slug, req.user, {
        order,
        page: Number.parseInt(query.cpage ?? '1', 10) || 1,
        focus: query.c,
      });
      if (!found) return reply.callNotFound();
      const a = found.article;
      const path = `/${kindPath(kind)}/${a.slug}`;
      const url = `${baseUrl}${path}`;
      const top = found.comments.filter((c) => !c.parentId);
      if (order === 'newest') top.reverse();
      const cpage = found.commentPage;
      const commentPages = found.commentPages;
      const commentQuery = new URLSearchParams(order === 'newest' ? { order } : {});
      const commentLinks = pageLinks(path, commentQuery, cpage, commentPages, {
        param: 'cpage',
        fragment: 'comments',
      });
      const present = (c: (typeof found.comments)[number]) =>
        withFields(c, {
          date: formatDate(c.createdAt, req.locale),
          iso: c.createdAt.toISOString(),
          name: c.anonymous
            ? req.t('articles.comments.aParent')
            : (c.authorName ?? req.t('articles.comments.formerMember')),
          backgroundName: c.background ? req.t(`articles.backgrounds.${c.background}`) : undefined,
        });
      const threads = top.map((c) =>
        withFields(present(c), {
          replies: found.comments.filter((r) => r.parentId === c.id).map(present),
        }),
      );
      const shareText = encodeURIComponent(a.title);
      const shareUrl = encodeURIComponent(url);
      const [topics, series] = [found.topics, found.series];
      return reply.render(
        `${V}/article.njk`,
        {
          title: a.title,
          description: a.standfirst,
          article: {
            ...a,
            date: a.publishAt ? formatDate(a.publishAt, req.locale) : undefined,
            iso: a.publishAt?.toISOString(),
            updated:
              a.publishAt && a.updatedAt.getTime() - a.publishAt.getTime() > 3600_000
                ? { text: formatDate(a.updatedAt, req.locale), iso: a.updatedAt.toISOString() }
                : undefined,
            kindName: req.t(`articles.kinds.${a.kind}`),
          },
          path,
          listPath: `/${kindPath(kind)}`,
          isPublic: found.public,
          topics: topics.map((t) => ({ slug: t.slug, name: nameIn(req.locale, t) })),
          series: series ? { slug: series.slug, name: nameIn(req.locale, series) } : undefined,
          places: found.places.map((p) => ({
            name: nameIn(req.locale, p),
            region: p.regionName,
            code: p.gssCode,
          })),
          services: found.services.map((s) => ({ slug: s.slug, name: nameIn(req.locale, s) })),
          statements: found.statements.map((s) => ({
            href: s.href,
            ref: s.ref,
            text: (req.locale === 'cy' && s.textCy) || s.text || s.id,
            guideline: (req.locale === 'cy' && s.guidelineCy) || s.guideline,
          })),
          threads,
          commentCount: found.commentCount,
          order,
          commentPagination: commentLinks,
          orderLinks: (['oldest', 'newest'] as const).map((o) => ({
            order: o,
            href: `${path}${o === 'oldest' ? '' : '?order=newest'}#comments`,
            current: o === order,
          })),
          liked: found.liked,
          closed: found.closed,
          canEdit: found.canEdit,
          canModerate: found.canModerate,
          mayComment: found.mayComment,
          mayLike: found.mayLike,
          banned: found.banned,
          mayPostAnonymously: found.myKind === 'parent',
          mayShowBackground: ['parent', 'practitioner', 'researcher'].includes(found.myKind ?? ''),
          myBackground: found.myKind ? req.t(`articles.backgrounds.${found.myKind}`) : undefined,
          signInHref: `/account/sign-in?next=${encodeURIComponent(path)}`,
          banner: query.commented,
          errors: extra.errors,
          values: extra.values ?? {},
          share: {
            url,
            email: `mailto:?subject=${shareText}&body=${shareUrl}`,
            linkedin: `https://www.linkedin.com/sharing/share-offsite/?url=${shareUrl}`,
            x: `https://x.com/intent/post?text=${shareText}&url=${shareUrl}`,
            bluesky: `https://bsky.app/intent/compose?text=${encodeURIComponent(`${a.title} ${url}`)}`,
          },
          og: {
            type: 'article',
            url,
            title: a.title,
            description: a.standfirst,
            image: a.leadImageUrl ? new URL(a.leadImageUrl, baseUrl).href : undefined,
            imageAlt: a.leadImageAlt,
            locale: req.locale === 'cy' ? 'cy_GB' : 'en_GB',
            published: a.publishAt?.toISOString(),
            modified: a.updatedAt.toISOString(),
          },
          hreflang: {
            en: `${url}?lang=en`,
            cy: `${url}?lang=cy`,
          },
          canonical: url,
          jsonLd: jsonLd(a, url, baseUrl, { series, topics, places: found.places }),
          noindex: !found.public && a.status !== 'archived',
        },
        extra.status ?? 200,
      );
    }

    for (const kind of ARTICLE_KINDS) {
      app.get(
        `/${kindPath(kind)}/:slug`,
        { config: { ...pub, pageCache: 10 } },
        async (req, reply) => {
          const p = slugParam.safeParse(req.params);
          if (!p.success) return reply.callNotFound();
          return articlePage(req, reply, kind, p.data.slug);
        },
      );
    }

    const refused = (req: FastifyRequest, reply: FastifyReply, err: unknown) => {
      if (err instanceof ArticleRefusal)
        return reply.render(
          `${V}/refused.njk`,
          {
            title: req.t(`articles.refusals.${err.reason}.title`),
            reason: err.reason,
            noindex: true,
          },
          403,
        );
      throw err;
    };

    // Members: like, comment, reply, report, delete
    /** A like button says what it asks for (`liked=no` takes a like back), so a resubmission repeats it. */
    const likes = (req: FastifyRequest) =>
      text((req.body as Record<string, unknown> | undefined)?.liked) !== 'no';
    app.post(
      '/articles/:id/like',
      { config: { access: 'member', ...form } },
      async (req, reply) => {
        const p = idParam.safeParse(req.params);
        if (!p.success) return reply.callNotFound();
        try {
          const r = await articles.likeArticle(userOf(req), p.data.id, likes(req));
          if (!r) return reply.callNotFound();
          return reply.redirect(`/${kindPath(r.article.kind)}/${r.article.slug}#like`, 303);
        } catch (err) {
          return refused(req, reply, err);
        }
      },
    );
    app.post(
      '/articles/:id/comments',
      { config: { access: 'member', ...form } },
      async (req, reply) => {
        const p = idParam.safeParse(req.params);
        if (!p.success) return reply.callNotFound();
        const b = (req.body ?? {}) as Record<string, unknown>;
        const body = typeof b.body === 'string' ? b.body.trim() : '';
        const parentId = text(b.parentId);
        if (parentId && !z.uuid().safeParse(parentId).success) return reply.callNotFound();
        const problems: Problem[] = [];
        const field = parentId ? `body-${parentId}` : 'body';
        if (!body) problems.push({ field, key: 'articles.errors.comment' });
        else if (body.length > 5000)
          problems.push({ field, key: 'articles.errors.tooLong', vars: { max: 5000 } });
        try {
          if (problems.length) {
            const found = await articles.articleById(p.data.id);
            if (!found) return reply.callNotFound();
            return articlePage(req, reply, found.kind, found.slug, {
              errors: errorsFrom(problems, req.t),
              values: {
                [field]: body,
                anonymous: text(b.anonymous),
                showBackground: text(b.showBackground),
              },
              status: 400,
            });
          }
          const r = await articles.comment(userOf(req), p.data.id, {
            body,
            parentId,
            anonymous: text(b.anonymous) === 'yes',
            showBackground: text(b.showBackground) === 'yes',
          });
          if (!r) return reply.callNotFound();
          const path = `/${kindPath(r.article.kind)}/${r.article.slug}`;
          return reply.redirect(
            r.held
              ? `${path}?commented=held#comments`
              : `${path}?commented=yes&c=${r.comment.id}#comment-${r.comment.id}`,
            303,
          );
        } catch (err) {
          return refused(req, reply, err);
        }
      },
    );
    app.post(
      '/articles/comments/:id/like',
      { config: { access: 'member', ...form } },
      async (req, reply) => {
        const p = idParam.safeParse(req.params);
        if (!p.success) return reply.callNotFound();
        try {
          const r = await articles.likeComment(userOf(req), p.data.id, likes(req));
          if (!r) return reply.callNotFound();
          return reply.redirect(
            `/${kindPath(r.article.kind)}/${r.article.slug}#comment-${r.comment.id}`,
            303,
          );
        } catch (err) {
          return refused(req, reply, err);
        }
      },
    );
    app.post(
      '/articles/comments/:id/delete',
      { config: { access: 'member', ...form } },
      async (req, reply) => {
        const p = idParam.safeParse(req.params);
        if (!p.success) return reply.callNotFound();
        try {
          const r = await articles.deleteComment(userOf(req), p.data.id);
          if (!r) return reply.callNotFound();
          return reply.redirect(`/${kindPath(r.article.kind)}/${r.article.slug}#comments`, 303);
        } catch (err) {
          return refused(req, reply, err);
        }
      },
    );
    const reportPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      extra: {
        errors?: FormErrors;
        values?: Record<string, unknown>;
        status?: number;
        done?: boolean;
      } = {},
    ) => {
      const p = idParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      try {
        const found = await articles.commentForReport(userOf(req), p.data.id);
        if (!found) return reply.callNotFound();
        return reply.render(
          `${V}/report.njk`,
          {
            title: req.t(extra.done ? 'articles.report.doneTitle' : 'articles.report.title'),
            noindex: true,
            comment: found.comment,
            article: found.article,
            back: `/${kindPath(found.article.kind)}/${found.article.slug}#comment-${found.comment.id}`,
            done: extra.done,
            errors: extra.errors,
            values: extra.values ?? {},
          },
          extra.status ?? 200,
        );
      } catch (err) {
        return refused(req, reply, err);
      }
    };
    app.get('/articles/comments/:id/report', { config: { access: 'member' } }, (req, reply) =>
      reportPage(req, reply),
    );
    app.post(
      '/articles/comments/:id/report',
      { config: { access: 'member', ...form } },
      async (req, reply) => {
        const p = idParam.safeParse(req.params);
        if (!p.success) return reply.callNotFound();
        const reason = text((req.body as Record<string, unknown> | undefined)?.reason) ?? '';
        if (!reason || reason.length > 1000)
          return reportPage(req, reply, {
            errors: errorsFrom(
              [
                {
                  field: 'reason',
                  key: reason ? 'articles.errors.tooLong' : 'articles.errors.reportReason',
                  vars: { max: 1000 },
                },
              ],
              req.t,
            ),
            values: { reason },
            status: 400,
          });
        try {
          const r = await articles.report(userOf(req), p.data.id, reason);
          if (!r) return reply.callNotFound();
          return reportPage(req, reply, { done: true });
        } catch (err) {
          return refused(req, reply, err);
        }
      },
    );

    // Members propose a practice story
    const formPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      view: string,
      extra: {
        errors?: FormErrors | undefined;
        values?: Record<string, unknown>;
        status?: number;
        [k: string]: unknown;
      },
    ) => {
      const [topics, series] = await Promise.all([articles.topics(), articles.allSeries()]);
      const values = extra.values ?? {};
      const chosen = list(values.topics);
      return reply.render(
        view,
        {
          noindex: true,
          ...extra,
          values,
          topicItems: topics.map((t) => ({
            value: t.slug,
            text: nameIn(req.locale, t),
            checked: chosen.includes(t.slug),
          })),
          seriesItems: [
            { value: '', text: req.t('articles.edit.noSeries') },
            ...series.map((s) => ({
              value: s.slug,
              text: nameIn(req.locale, s),
              selected: values.series === s.slug,
            })),
          ],
        },
        extra.status ?? 200,
      );
    };
    app.get('/stories/propose', { config: { access: 'member' } }, (req, reply) =>
      formPage(req, reply, `${V}/propose.njk`, {
        title: req.t('articles.propose.title'),
        values: { language: 'en', commentsOpen: 'yes' },
      }),
    );
    app.post('/stories/propose', { config: { access: 'member', ...form } }, async (req, reply) => {
      const b = (req.body ?? {}) as Record<string, unknown>;
      const places = await articles.authorities();
      const { input, problems } = readArticleForm(b, 'story', places);
      const again = (ps: Problem[]) =>
        formPage(req, reply, `${V}/propose.njk`, {
          title: req.t('articles.propose.title'),
          errors: errorsFrom(ps, req.t),
          values: echo(b),
          status: 400,
        });
      if (problems.length) return again(problems);
      try {
        const r = await articles.propose(userOf(req), { ...input, commentsOpen: true });
        if (!r.ok) return again(r.problems);
        return reply.redirect('/stories/propose/done', 303);
      } catch (err) {
        return refused(req, reply, err);
      }
    });
    app.get('/stories/propose/done', { config: { access: 'member' } }, (req, reply) =>
      reply.render(`${V}/proposed.njk`, {
        title: req.t('articles.propose.doneTitle'),
        noindex: true,
      }),
    );

    // Editors
    const adminQuery = z.object({
      status: z.enum(ARTICLE_STATUSES).optional().catch(undefined),
      kind: z.enum(ARTICLE_KINDS).optional().catch(undefined),
      page: z.coerce.number().int().min(1).max(1000).catch(1),
    });
    app.get('/admin/articles', { config: { access: 'editor' } }, async (req, reply) => {
      const q = adminQuery.parse(req.query ?? {});
      const r = await articles.list4Editors(req.user, q.status, q.kind, q.page, 30);
      const pages = Math.max(1, Math.ceil(r.total / 30));
      const params = new URLSearchParams();
      if (q.status) params.set('status', q.status);
      if (q.kind) params.set('kind', q.kind);
      return reply.render(`${V}/admin-list.njk`, {
        title: req.t('articles.admin.title'),
        noindex: true,
        query: q,
        rows: r.rows.map((a) => ({
          ...a,
          statusName: req.t(`articles.statuses.${a.status}`),
          kindName: req.t(`articles.kinds.${a.kind}`),
          date: a.publishAt ? formatDate(a.publishAt, req.locale) : '',
        })),
        tabs: [undefined, ...ARTICLE_STATUSES].map((s) => ({
          href: s ? `/admin/articles?status=${s}` : '/admin/articles',
          text: s ? req.t(`articles.statuses.${s}`) : req.t('articles.admin.all'),
          count: s ? (r.counts[s] ?? 0) : Object.values(r.counts).reduce((x, y) => x + y, 0),
          current: q.status === s,
        })),
        pagination: pageLinks('/admin/articles', params, q.page, pages),
      });
    });

    const editPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      article: ArticleRow | undefined,
      kind: ArticleKind,
      extra: {
        errors?: FormErrors | undefined;
        values?: Record<string, unknown>;
        status?: number;
        submitter?: string | undefined;
      } = {},
    ) => {
      const [places, series] = await Promise.all([articles.authorities(), articles.allSeries()]);
      return formPage(req, reply, `${V}/edit.njk`, {
        title: article
          ? req.t('articles.edit.title', { title: article.title })
          : req.t(`articles.edit.new.${kind}`),
        article: article && {
          ...article,
          statusName: req.t(`articles.statuses.${article.status}`),
          href: `/${kindPath(article.kind)}/${article.slug}`,
          when: article.publishAt
            ? `${formatDate(article.publishAt, req.locale)} ${londonParts(article.publishAt).hour.toString().padStart(2, '0')}:${londonParts(article.publishAt).minute.toString().padStart(2, '0')}`
            : undefined,
        },
        kind,
        action: article ? `/admin/articles/${article.id}` : `/admin/articles/new?kind=${kind}`,
        submitter: extra.submitter,
        errors: extra.errors,
        values:
          extra.values ??
          (article ? valuesOf(article, places, series) : { language: 'en', commentsOpen: 'yes' }),
        status: extra.status,
      });
    };
    const kindQuery = z.object({ kind: z.enum(ARTICLE_KINDS).catch('news') });
    app.get('/admin/articles/new', { config: { access: 'editor' } }, (req, reply) =>
      editPage(req, reply, undefined, kindQuery.parse(req.query ?? {}).kind),
    );
    const saveAction = (v: unknown): 'publish' | 'schedule' | 'draft' | 'save' =>
      v === 'publish' || v === 'schedule' || v === 'draft' ? v : 'save';
    async function saveArticle(
      req: FastifyRequest,
      reply: FastifyReply,
      id: string | undefined,
      kind: ArticleKind,
    ) {
      const b = (req.body ?? {}) as Record<string, unknown>;
      const before = id ? await articles.forEditing(req.user, id) : undefined;
      if (id && !before) return reply.callNotFound();
      const k = before?.article.kind ?? kind;
      const places = await articles.authorities();
      const { input, problems, publishAt } = readArticleForm(b, k, places);
      let action = saveAction(b.action);
      if (!id && action === 'save') action = 'draft';
      const again = (ps: Problem[]) =>
        editPage(req, reply, before?.article, k, {
          errors: errorsFrom(ps, req.t),
          values: echo(b),
          status: 400,
          submitter: before?.submitter,
        });
      if (problems.length) return again(problems);
      const r = await articles.save(req.user, id, input, action, publishAt);
      if (!r) return reply.callNotFound();
      if (!r.ok) return again(r.problems);
      return reply.redirect(`/admin/articles/${r.article.id}?saved=1`, 303);
    }
    app.post('/admin/articles/new', { config: { access: 'editor' } }, (req, reply) =>
      saveArticle(req, reply, undefined, kindQuery.parse(req.query ?? {}).kind),
    );
    app.get('/admin/articles/:id', { config: { access: 'editor' } }, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      const found = p.success ? await articles.forEditing(req.user, p.data.id) : undefined;
      if (!found) return reply.callNotFound();
      return editPage(req, reply, found.article, found.article.kind, {
        submitter: found.submitter,
      });
    });
    app.post('/admin/articles/:id', { config: { access: 'editor' } }, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      return saveArticle(req, reply, p.data.id, 'news');
    });
    app.post('/admin/articles/:id/status', { config: { access: 'editor' } }, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      const b = (req.body ?? {}) as Record<string, unknown>;
      const action = z
        .enum(['publish', 'archive', 'unarchive', 'draft', 'decline', 'schedule'])
        .safeParse(b.action);
      const found = await articles.forEditing(req.user, p.data.id);
      if (!found) return reply.callNotFound();
      const publishAt = dateTimeField(b, 'publishAt');
      const problems: Problem[] = [];
      if (!action.success) problems.push({ field: 'action', key: 'articles.errors.action' });
      if (publishAt.problem) problems.push({ field: 'publishAt', key: 'articles.errors.date' });
      const reason = text(b.reason);
      const r =
        problems.length || !action.success
          ? ({ ok: false, problems } as const)
          : await articles.setStatus(req.user, p.data.id, action.data, {
              ...(reason ? { reason: reason.slice(0, 2000) } : {}),
              ...(publishAt.value ? { publishAt: publishAt.value } : {}),
            });
      if (!r) return reply.callNotFound();
      if (!r.ok) {
        const [places, series] = await Promise.all([articles.authorities(), articles.allSeries()]);
        return editPage(req, reply, found.article, found.article.kind, {
          errors: errorsFrom(r.problems, req.t),
          values: { ...valuesOf(found.article, places, series), ...echo(b) },
          status: 400,
          submitter: found.submitter,
        });
      }
      return reply.redirect(`/admin/articles/${p.data.id}?saved=1`, 303);
    });

    // Moderators: held and reported comments
    app.get('/admin/articles/comments', { config: { access: 'staff' } }, async (req, reply) => {
      try {
        const rows = await articles.queue(req.user);
        return queuePage(req, reply, rows);
      } catch (err) {
        return refused(req, reply, err);
      }
    });
    const queuePage = (
      req: FastifyRequest,
      reply: FastifyReply,
      rows: Awaited<ReturnType<ArticlesService['queue']>>,
      extra: { errors?: FormErrors; status?: number } = {},
    ) =>
      reply.render(
        `${V}/queue.njk`,
        {
          title: req.t('articles.queue.title'),
          noindex: true,
          errors: extra.errors,
          rows: rows.map((r) => ({
            ...r,
            href: `/${kindPath(r.articleKind)}/${r.articleSlug}#comment-${r.id}`,
            date: formatDate(r.createdAt, req.locale),
            heldName: r.heldReason ? req.t(`articles.holds.${r.heldReason}`) : undefined,
            name: r.authorName ?? req.t('articles.comments.formerMember'),
          })),
        },
        extra.status ?? 200,
      );
    app.post(
      '/admin/articles/comments/:id',
      { config: { access: 'staff' } },
      async (req, reply) => {
        const p = idParam.safeParse(req.params);
        if (!p.success) return reply.callNotFound();
        const b = (req.body ?? {}) as Record<string, unknown>;
        const action = z.enum(['approve', 'hide', 'restore', 'dismiss', 'ban']).safeParse(b.action);
        const reason = (text(b.reason) ?? '').slice(0, 1000);
        try {
          if (!action.success) {
            const rows = await articles.queue(req.user);
            return queuePage(req, reply, rows, {
              errors: errorsFrom(
                [{ field: `action-${p.data.id}`, key: 'articles.errors.action' }],
                req.t,
              ),
              status: 400,
            });
          }
          const r = await articles.moderate(req.user, p.data.id, action.data, reason);
          if (!r) return reply.callNotFound();
          if (!r.ok) {
            const rows = await articles.queue(req.user);
            return queuePage(req, reply, rows, {
              errors: errorsFrom(r.problems, req.t),
              status: 400,
            });
          }
          return reply.redirect('/admin/articles/comments?done=1', 303);
        } catch (err) {
          if (
            err instanceof Error &&
            'statusCode' in err &&
            err.statusCode === 403 &&
            !(err instanceof ArticleRefusal)
          )
            throw err;
          return refused(req, reply, err);
        }
      },
    );

    // Admins: moderation settings
    const settingsPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      extra: { errors?: FormErrors; values?: Record<string, unknown>; status?: number } = {},
    ) => {
      const s = await articles.settings();
      return reply.render(
        `${V}/settings.njk`,
        {
          title: req.t('articles.settings.title'),
          noindex: true,
          errors: extra.errors,
          saved: (req.query as { saved?: string } | undefined)?.saved === '1',
          values: extra.values ?? {
            heldFirst: String(s.heldFirst),
            maxLinks: String(s.maxLinks),
            words: s.words.join('\n'),
          },
        },
        extra.status ?? 200,
      );
    };
    app.get('/admin/articles/settings', { config: { access: 'admin' } }, (req, reply) =>
      settingsPage(req, reply),
    );
    app.post('/admin/articles/settings', { config: { access: 'admin' } }, async (req, reply) => {
      const b = (req.body ?? {}) as Record<string, unknown>;
      const problems: Problem[] = [];
      const num = (field: string, max: number) => {
        const v = text(b[field]) ?? '';
        if (!/^\d{1,2}$/.test(v) || Number(v) > max) {
          problems.push({ field, key: 'articles.errors.number', vars: { max } });
          return 0;
        }
        return Number(v);
      };
      const heldFirst = num('heldFirst', 20);
      const maxLinks = num('maxLinks', 20);
      const words = lines(b.words)
        .slice(0, 500)
        .map((w) => w.slice(0, 80));
      if (problems.length)
        return settingsPage(req, reply, {
          errors: errorsFrom(problems, req.t),
          values: echo(b),
          status: 400,
        });
      await articles.saveSettings(req.user, { heldFirst, maxLinks, words });
      return reply.redirect('/admin/articles/settings?saved=1', 303);
    });
  };
}

/** What was typed, to show a form again: text and lists of text only. */
function echo(b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(b))
    if (
      k !== '_csrf' &&
      (typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string')))
    )
      out[k] = v;
  return out;
}

export type { ArticleStatus };
