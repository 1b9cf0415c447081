import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import rangeParser from 'range-parser';
import { z } from 'zod';
import { formatDate } from '../../platform/dates.ts';
import { userOf } from '../../platform/auth.ts';
import { atomFeed } from '../../platform/feeds.ts';
import { echoValues, errorsFrom, type FormErrors, text } from '../../platform/forms.ts';
import type { Locale } from '../../platform/i18n/index.ts';
import type { Storage } from '../../platform/storage.ts';
import { registerUploads } from '../../platform/uploads.ts';
import { fileHeaders, humanSize } from '../../platform/files.ts';
import { withFields } from '../../platform/objects.ts';
import { ALLOWED, MAX_UPLOAD_BYTES } from './files.ts';
import type {
  ResourceFileRow,
  ResourceRow,
  SearchFilters,
  SortOrder,
  TopicRow,
} from './repository.ts';
import {
  AUDIENCES,
  type FileKind,
  LANGUAGES,
  LENGTH_BANDS,
  RESOURCE_STATUSES,
  RESOURCE_TYPES,
  type ResourceStatus,
} from './schema.ts';
import {
  type Problem,
  type ResourceInput,
  type ResourcesService,
  type Upload,
  videoEmbed,
} from './service.ts';

/** HTTP only: read the query or form, call the resources service, render. */

const V = 'resources/views';
const PAGE_SIZE = 20;
const slugParam = z.object({ slug: z.string().regex(/^[a-z0-9-]{1,120}$/) });
const idParam = z.object({ id: z.uuid() });
const fileParams = slugParam.extend({ fileId: z.uuid() });

const many = <T extends string>(allowed: readonly T[]) =>
  z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((v) => [...new Set(v === undefined ? [] : Array.isArray(v) ? v : [v])])
    .transform((v) =>
      v.filter((x): x is T => (allowed as readonly string[]).includes(x)).slice(0, 20),
    );

const searchQuery = z.object({
  q: z
    .string()
    .optional()
    .transform((v) => v?.trim().slice(0, 200) || undefined)
    .catch(undefined),
  type: many(RESOURCE_TYPES).catch([]),
  topic: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((v) =>
      [...new Set(v === undefined ? [] : Array.isArray(v) ? v : [v])]
        .filter((x) => /^[a-z0-9-]{1,80}$/.test(x))
        .slice(0, 20),
    )
    .catch([]),
  audience: many(AUDIENCES).catch([]),
  length: many(LENGTH_BANDS).catch([]),
  parents: z.enum(['yes']).optional().catch(undefined),
  language: many(LANGUAGES).catch([]),
  sort: z.enum(['relevant', 'newest', 'shortest']).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(500).catch(1),
});
type SearchQuery = z.infer<typeof searchQuery>;

/** A query string for these search settings, e.g. to change one of them. */
function queryString(q: SearchQuery, change: Partial<SearchQuery> = {}): string {
  const merged = { ...q, ...change };
  const params = new URLSearchParams();
  if (merged.q) params.set('q', merged.q);
  for (const k of ['type', 'topic', 'audience', 'length', 'language'] as const)
    for (const v of merged[k]) params.append(k, v);
  if (merged.parents) params.set('parents', 'yes');
  if (merged.sort) params.set('sort', merged.sort);
  if (merged.page > 1) params.set('page', String(merged.page));
  const s = params.toString();
  return s ? `?${s}` : '';
}

const SCHEMA_TYPES: Record<string, string> = {
  video: 'VideoObject',
  slides: 'PresentationDigitalDocument',
  paper: 'ScholarlyArticle',
  briefing: 'Report',
  evidence_review: 'ScholarlyArticle',
  guide: 'TextDigitalDocument',
  podcast: 'PodcastEpisode',
  tool: 'DigitalDocument',
  report: 'Report',
};
/** How long it takes, in words: "8 minute read", "20 minute video". */
export const lengthKind = (type: string): 'watch' | 'listen' | 'read' =>
  type === 'video' ? 'watch' : type === 'podcast' ? 'listen' : 'read';

const topicName = (topics: TopicRow[], slug: string, locale: Locale): string => {
  const t = topics.find((x) => x.slug === slug);
  return t ? (locale === 'cy' && t.nameCy ? t.nameCy : t.name) : slug;
};

function jsonLd(
  r: ResourceRow,
  files: ResourceFileRow[],
  topics: TopicRow[],
  baseUrl: string,
): string {
  const url = `${baseUrl}/resources/${r.slug}`;
  const data: Record<string, unknown> = {
    '@context': 'https://schema.org',
    '@type': SCHEMA_TYPES[r.type] ?? 'CreativeWork',
    name: r.title,
    headline: r.title,
    description: r.summary,
    url,
    inLanguage: r.language === 'cy' ? 'cy' : 'en-GB',
    isAccessibleForFree: true,
    keywords: r.topics.map((s) => topicName(topics, s, 'en')).join(', '),
    audience: r.audiences.map((a) => ({ '@type': 'Audience', audienceType: a })),
    ...(r.publishedOn ? { datePublished: r.publishedOn } : {}),
    ...(r.authors
      ? {
          author: r.authors
            .split(/;|,(?![^()]*\))/)
            .map((n) => ({ '@type': 'Person', name: n.trim() }))
            .filter((p) => p.name),
        }
      : {}),
    ...(r.organisation ? { publisher: { '@type': 'Organization', name: r.organisation } } : {}),
    ...(r.licence ? { license: r.licence } : {}),
    ...(r.lengthMinutes ? { timeRequired: `PT${r.lengthMinutes}M` } : {}),
  };
  const main = files.find((f) => f.kind === 'main');
  if (r.type === 'video' || r.type === 'podcast') {
    if (r.lengthMinutes) data.duration = `PT${r.lengthMinutes}M`;
    if (main) data.contentUrl = `${url}/files/${main.id}`;
    else if (r.externalUrl) data.contentUrl = r.externalUrl;
    if (r.type === 'video')
      data.uploadDate = r.publishedOn ?? r.createdAt.toISOString().slice(0, 10);
  } else if (main)
    data.encoding = {
      '@type': 'MediaObject',
      contentUrl: `${url}/files/${main.id}`,
      encodingFormat: main.contentType,
    };
  return JSON.stringify(data).replace(/</g, '\\u003c');
}

/** "How to cite": authors (year) title. [type]. Organisation. Available at: url (accessed date). */
function citation(r: ResourceRow, baseUrl: string, typeName: string, locale: Locale): string {
  const year = r.publishedOn ? r.publishedOn.slice(0, 4) : 'n.d.';
  const who = r.authors || r.organisation || 'Supporting Parents';
  const org = r.organisation && r.authors ? ` ${r.organisation}.` : '';
  const accessed = formatDate(new Date(), locale);
  return `${who} (${year}) ${r.title} [${typeName}].${org} ${locale === 'cy' ? 'Ar gael yn' : 'Available at'}: ${baseUrl}/resources/${r.slug} (${locale === 'cy' ? 'cyrchwyd' : 'accessed'} ${accessed}).`;
}

const TOO_LONG = 'resources.errors.tooLong';
/** Trimmed text, '' when missing. */
const textOr = (max: number, required?: string) =>
  z.preprocess(
    (v) => text(v) ?? '',
    required ? z.string().min(1, required).max(max, TOO_LONG) : z.string().max(max, TOO_LONG),
  );
/** Checkboxes: one value or several; none is an empty list. */
const checked = (v: unknown): string[] =>
  v === undefined
    ? []
    : (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
const LENGTH = 'resources.errors.length';
const URL_PROBLEM = 'resources.errors.url';

/** A real date from the three boxes, not before 1950 nor more than a year ahead. */
function dateFrom(
  p: { d?: string | undefined; m?: string | undefined; y?: string | undefined },
  ctx: z.RefinementCtx,
): string | undefined {
  const { d, m, y } = p;
  if (!d && !m && !y) return undefined;
  const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  const ok =
    /^\d{4}$/.test(y ?? '') &&
    /^\d{1,2}$/.test(m ?? '') &&
    /^\d{1,2}$/.test(d ?? '') &&
    date.getUTCDate() === Number(d) &&
    date.getUTCMonth() === Number(m) - 1 &&
    Number(y) >= 1950 &&
    date.getTime() <= Date.now() + 366 * 86400_000;
  if (!ok) {
    ctx.addIssue({ code: 'custom', message: 'resources.errors.date' });
    return z.NEVER;
  }
  return date.toISOString().slice(0, 10);
}

/** The resource form (submit and edit): messages are translation keys. */
const resourceForm = z.preprocess(
  (body) => {
    const b = (body ?? {}) as Record<string, unknown>;
    // The date's three boxes become one field, so its message sits with the date.
    return {
      ...b,
      publishedOn: {
        d: text(b['publishedOn-day']),
        m: text(b['publishedOn-month']),
        y: text(b['publishedOn-year']),
      },
    };
  },
  z.object({
    title: textOr(200, 'resources.errors.title'),
    slug: z.preprocess(text, z.string().optional()),
    summary: textOr(600, 'resources.errors.summary'),
    body: z.preprocess(
      (v) => (typeof v === 'string' ? v.trim() : ''),
      z.string().max(50_000, TOO_LONG),
    ),
    type: z.preprocess(text, z.enum(RESOURCE_TYPES, 'resources.errors.type')),
    topics: z.preprocess(checked, z.array(z.string()).min(1, 'resources.errors.topics')),
    audiences: z.preprocess(
      (v) => checked(v).filter((a) => (AUDIENCES as readonly string[]).includes(a)),
      z.array(z.enum(AUDIENCES)).min(1, 'resources.errors.audiences'),
    ),
    lengthMinutes: z.preprocess(
      text,
      z
        .string()
        .regex(/^\d{1,4}$/, LENGTH)
        .transform(Number)
        .pipe(z.number().min(1, LENGTH).max(1440, LENGTH))
        .optional(),
    ),
    publishedOn: z
      .object({
        d: z.string().optional(),
        m: z.string().optional(),
        y: z.string().optional(),
      })
      .transform(dateFrom),
    externalUrl: z.preprocess(
      text,
      z
        .string()
        .max(500, URL_PROBLEM)
        .refine((v) => {
          const u = URL.canParse(v) ? new URL(v) : undefined;
          return !!u && (u.protocol === 'https:' || u.protocol === 'http:');
        }, URL_PROBLEM)
        .optional(),
    ),
    language: z.preprocess((v) => (text(v) === 'cy' ? 'cy' : 'en'), z.enum(['en', 'cy'])),
    authors: textOr(300),
    organisation: textOr(300),
    licence: textOr(300),
    byParents: z.preprocess((v) => text(v) === 'yes', z.boolean()),
  }),
);

/**
 * The form fields of a resource, parsed with zod (messages are translation
 * keys; a length limit passes its maximum on), for the page to be shown
 * again as typed when there are problems.
 */
function readResourceForm(
  body: Record<string, unknown>,
): { input: ResourceInput; problems: [] } | { input?: undefined; problems: Problem[] } {
  const parsed = resourceForm.safeParse(body);
  if (parsed.success) return { input: parsed.data, problems: [] };
  return {
    problems: parsed.error.issues.map((i) => ({
      field: String(i.path[0] ?? 'form'),
      key: i.message,
      ...(i.code === 'too_big' ? { vars: { max: Number(i.maximum) } } : {}),
    })),
  };
}

function valuesOf(r: ResourceRow): Record<string, unknown> {
  const [y, m, d] = (r.publishedOn ?? '').split('-');
  return {
    title: r.title,
    slug: r.slug,
    summary: r.summary,
    body: r.body,
    type: r.type,
    topics: r.topics,
    audiences: r.audiences,
    lengthMinutes: r.lengthMinutes ? String(r.lengthMinutes) : '',
    'publishedOn-day': d ? String(Number(d)) : '',
    'publishedOn-month': m ? String(Number(m)) : '',
    'publishedOn-year': y ?? '',
    authors: r.authors,
    organisation: r.organisation,
    licence: r.licence,
    byParents: r.byParents ? 'yes' : '',
    language: r.language,
    externalUrl: r.externalUrl ?? '',
  };
}

const FILE_FIELDS: Record<string, FileKind> = {
  file: 'main',
  captions: 'captions',
  transcript: 'transcript',
};

export interface ResourcesRouteOptions {
  baseUrl: string;
  dataDir: string;
  storage: Storage;
}

export function resourcesRoutes(
  resources: ResourcesService,
  opts: ResourcesRouteOptions,
): FastifyPluginAsync {
  return async (app) => {
    const pub = { access: 'public' as const };
    // Uploads stream to temporary files (never held in memory); the service
    // checks their bytes and stores the good ones. Temporary files always go.
    const uploadsIn = await registerUploads(app, {
      dataDir: opts.dataDir,
      fields: Object.keys(FILE_FIELDS),
      limits: { fileSize: MAX_UPLOAD_BYTES, files: 3, fields: 60, parts: 70, fieldSize: 100_000 },
    });
    const uploadsOf = (req: FastifyRequest): Upload[] =>
      uploadsIn(req).map((u) => ({ ...u, kind: FILE_FIELDS[u.field]! }));

    const typeName = (req: FastifyRequest, type: string) => req.t(`resources.types.${type}.one`);

    /** What a list shows of a resource. */
    const presentSummary = (
      req: FastifyRequest,
      topics: TopicRow[],
      r: {
        type: string;
        topics: string[];
        lengthMinutes: number | null;
        publishedOn: string | null;
      },
    ) => ({
      typeName: typeName(req, r.type),
      topicNames: r.topics.map((s) => topicName(topics, s, req.locale)),
      length: r.lengthMinutes
        ? req.t(`resources.length.${lengthKind(r.type)}`, { count: r.lengthMinutes })
        : undefined,
      date: r.publishedOn
        ? formatDate(new Date(`${r.publishedOn}T12:00:00Z`), req.locale)
        : undefined,
    });

    // Finding
    app.get('/resources', { config: { ...pub, pageCache: 10 } }, async (req, reply) => {
      const q = searchQuery.parse(req.query ?? {});
      const sort: SortOrder = q.sort ?? (q.q ? 'relevant' : 'newest');
      const filters: SearchFilters = {
        q: q.q,
        types: q.type,
        topics: q.topic,
        audiences: q.audience,
        lengths: q.length,
        byParents: q.parents === 'yes',
        languages: q.language,
      };
      const [topics, result] = await Promise.all([
        resources.allTopics(),
        resources.search(filters, sort, q.page, PAGE_SIZE),
      ]);
      const pages = Math.max(1, Math.ceil(result.total / PAGE_SIZE));
      const option = (
        facet: 'type' | 'topic' | 'audience' | 'length' | 'language',
        value: string,
        label: string,
      ) => ({
        value,
        text: `${label} (${result.facets[facet][value] ?? 0})`,
        checked: (q[facet] as string[]).includes(value),
      });
      const filtered =
        q.type.length +
          q.topic.length +
          q.audience.length +
          q.length.length +
          q.language.length +
          (q.parents ? 1 : 0) >
        0;
      const chosen = [
        ...q.type.map((v) => ({
          label: req.t(`resources.types.${v}.many`),
          href: queryString(q, { type: q.type.filter((x) => x !== v), page: 1 }),
        })),
        ...q.topic.map((v) => ({
          label: topicName(topics, v, req.locale),
          href: queryString(q, { topic: q.topic.filter((x) => x !== v), page: 1 }),
        })),
        ...q.audience.map((v) => ({
          label: req.t(`resources.audiences.${v}`),
          href: queryString(q, { audience: q.audience.filter((x) => x !== v), page: 1 }),
        })),
        ...q.length.map((v) => ({
          label: req.t(`resources.lengthBands.${v}`),
          href: queryString(q, { length: q.length.filter((x) => x !== v), page: 1 }),
        })),
        ...(q.parents
          ? [
              {
                label: req.t('resources.filters.byParents'),
                href: queryString(q, { parents: undefined, page: 1 }),
              },
            ]
          : []),
        ...q.language.map((v) => ({
          label: req.t(`resources.languages.${v}`),
          href: queryString(q, { language: q.language.filter((x) => x !== v), page: 1 }),
        })),
      ].map((c) => ({ ...c, href: `/resources${c.href}` }));
      return reply.render(`${V}/search.njk`, {
        title: q.q
          ? req.t('resources.search.titleFor', { q: q.q })
          : req.t('resources.search.title'),
        description: req.t('resources.search.intro'),
        query: q,
        sort,
        filtered,
        chosen,
        results: result.rows.map((r) => withFields(r, presentSummary(req, topics, r))),
        total: result.total,
        facets: {
          type: RESOURCE_TYPES.map((v) => option('type', v, req.t(`resources.types.${v}.many`))),
          topic: topics.map((t) =>
            option('topic', t.slug, req.locale === 'cy' && t.nameCy ? t.nameCy : t.name),
          ),
          audience: AUDIENCES.map((v) => option('audience', v, req.t(`resources.audiences.${v}`))),
          length: LENGTH_BANDS.map((v) => option('length', v, req.t(`resources.lengthBands.${v}`))),
          language: LANGUAGES.map((v) => option('language', v, req.t(`resources.languages.${v}`))),
          parents: { count: result.facets.parents.yes ?? 0, checked: !!q.parents },
        },
        browse: RESOURCE_TYPES.map((v) => ({
          type: v,
          count: result.facets.type[v] ?? 0,
          href: `/resources?type=${v}`,
        })).filter((b) => b.count > 0),
        sortLinks: (['relevant', 'newest', 'shortest'] as const)
          .filter((s) => s !== 'relevant' || q.q)
          .map((s) => ({
            sort: s,
            href: `/resources${queryString(q, { sort: s, page: 1 })}`,
            current: s === sort,
          })),
        pagination: {
          pages,
          page: q.page,
          previous:
            q.page > 1 ? { href: `/resources${queryString(q, { page: q.page - 1 })}` } : undefined,
          next:
            q.page < pages
              ? { href: `/resources${queryString(q, { page: q.page + 1 })}` }
              : undefined,
        },
        alternateLinks: [
          {
            type: 'application/atom+xml',
            href: '/resources/feed.atom',
            title: req.t('resources.feed.title'),
          },
        ],
      });
    });

    app.get('/resources/feed.atom', { config: { ...pub, a11y: false } }, async (req, reply) => {
      const rows = await resources.latest(50);
      const updated = rows.reduce((max, r) => (r.updatedAt > max ? r.updatedAt : max), new Date(0));
      const xml = atomFeed({
        id: `${opts.baseUrl}/resources`,
        title: req.t('resources.feed.title'),
        selfUrl: `${opts.baseUrl}/resources/feed.atom`,
        siteUrl: `${opts.baseUrl}/resources`,
        updated: rows.length ? updated : new Date(0),
        language: req.locale,
        entries: rows.map((r) => ({
          id: `${opts.baseUrl}/resources/${r.slug}`,
          title: r.title,
          url: `${opts.baseUrl}/resources/${r.slug}`,
          summary: `${typeName(req, r.type)}. ${r.summary}`,
          updated: r.updatedAt,
          published: r.firstPublishedAt ?? r.updatedAt,
          ...(r.authors ? { author: r.authors } : {}),
        })),
      });
      return reply
        .header('content-type', 'application/atom+xml; charset=utf-8')
        .header('cache-control', 'public, max-age=300')
        .send(xml);
    });

    // Contributions (members)
    const formPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      view: string,
      extra: {
        errors?: FormErrors;
        values?: Record<string, unknown>;
        status?: number;
        [k: string]: unknown;
      },
    ) => {
      const topics = await resources.allTopics();
      const values = extra.values ?? {};
      const chosen = (k: string) => {
        const v = values[k];
        return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
      };
      return reply.render(
        view,
        {
          noindex: true,
          ...extra,
          values,
          types: RESOURCE_TYPES.map((v) => ({
            value: v,
            text: req.t(`resources.types.${v}.one`),
            checked: values.type === v,
          })),
          topicItems: topics.map((t) => ({
            value: t.slug,
            text: req.locale === 'cy' && t.nameCy ? t.nameCy : t.name,
            checked: chosen('topics').includes(t.slug),
          })),
          audienceItems: AUDIENCES.map((v) => ({
            value: v,
            text: req.t(`resources.audiences.${v}`),
            checked: chosen('audiences').includes(v),
          })),
          accepted: ALLOWED.map((a) => `.${a.ext}`).join(','),
        },
        extra.status ?? 200,
      );
    };

    app.get('/resources/submit', { config: { access: 'member' } }, async (req, reply) =>
      formPage(req, reply, `${V}/submit.njk`, {
        title: req.t('resources.submit.title'),
        values: { language: 'en' },
      }),
    );
    app.post('/resources/submit', { config: { access: 'member' } }, async (req, reply) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const form = readResourceForm(body);
      const uploads = uploadsOf(req);
      const result = form.input
        ? await resources.submit(req.user, form.input, uploads)
        : { ok: false as const, problems: form.problems };
      if (!result.ok)
        return formPage(req, reply, `${V}/submit.njk`, {
          title: req.t('resources.submit.title'),
          errors: errorsFrom(result.problems, req.t),
          values: echoValues(body),
          filesDropped: uploads.length > 0,
          status: 400,
        });
      return reply.redirect('/resources/submit/done', 303);
    });
    app.get('/resources/submit/done', { config: { access: 'member' } }, async (req, reply) => {
      const mine = await resources.mySubmissions(userOf(req));
      return reply.render(`${V}/submitted.njk`, {
        title: req.t('resources.submitted.title'),
        noindex: true,
        mine: mine.map((r) => ({ ...r, statusName: req.t(`resources.statuses.${r.status}`) })),
      });
    });

    // A resource
    app.get('/resources/:slug', { config: { ...pub, pageCache: 10 } }, async (req, reply) => {
      const p = slugParam.safeParse(req.params);
      const found = p.success ? await resources.view(p.data.slug, req.user) : undefined;
      if (!found) return reply.callNotFound();
      const { resource: r, files, related } = found;
      if (r.status !== 'published') reply.pageCacheable = false;
      const topics = await resources.allTopics();
      const tName = typeName(req, r.type);
      const present = (f: ResourceFileRow) => ({
        ...f,
        href: `/resources/${r.slug}/files/${f.id}`,
        sizeText: humanSize(f.size),
        label: ALLOWED.find((a) => a.mime === f.contentType)?.label ?? f.contentType,
      });
      const main = files.filter((f) => f.kind === 'main').map(present);
      return reply.render(`${V}/resource.njk`, {
        title: r.title,
        description: r.summary,
        resource: withFields(r, presentSummary(req, topics, r)),
        topicLinks: r.topics.map((s) => ({ slug: s, name: topicName(topics, s, req.locale) })),
        audienceNames: r.audiences.map((a) => req.t(`resources.audiences.${a}`)),
        files: main,
        video: main.find((f) => f.contentType === 'video/mp4'),
        audio: main.find((f) => f.contentType === 'audio/mpeg'),
        captions: files.filter((f) => f.kind === 'captions').map(present),
        transcripts: files.filter((f) => f.kind === 'transcript').map(present),
        embed: videoEmbed(r.externalUrl),
        related: related.map((x) => withFields(x, presentSummary(req, topics, x))),
        citation: citation(r, opts.baseUrl, tName, req.locale),
        jsonLd: jsonLd(r, files, topics, opts.baseUrl),
        canEdit: found.canEdit,
        noindex: r.status !== 'published' && r.status !== 'archived',
      });
    });

    // Files, with HTTP Range for seeking in audio and video.
    app.get(
      '/resources/:slug/files/:fileId',
      { config: { ...pub, a11y: false }, compress: false },
      async (req, reply) => {
        const p = fileParams.safeParse(req.params);
        const found = p.success
          ? await resources.file(p.data.slug, p.data.fileId, req.user)
          : undefined;
        if (!found) return reply.callNotFound();
        const { file, resource } = found;
        const stat = await opts.storage.stat(file.storageKey);
        if (!stat) return reply.callNotFound();
        const inline = ALLOWED.find((a) => a.mime === file.contentType)?.inline ?? false;
        const etag = `"${file.id}-${stat.size}"`;
        reply
          .headers(fileHeaders({ filename: file.filename, mime: file.contentType, inline }))
          .header('accept-ranges', 'bytes')
          .header('etag', etag)
          .header('last-modified', stat.modified.toUTCString())
          .header(
            'cache-control',
            resource.status === 'published' || resource.status === 'archived'
              ? 'public, max-age=86400'
              : 'private, no-store',
          );
        if (req.headers['if-none-match'] === etag) return reply.code(304).send();
        const header = req.headers.range;
        const ifRange = req.headers['if-range'];
        if (header && (!ifRange || ifRange === etag)) {
          const ranges = rangeParser(stat.size, header, { combine: true });
          if (ranges === -1)
            return reply.code(416).header('content-range', `bytes */${stat.size}`).send();
          if (ranges !== -2 && ranges.type === 'bytes' && ranges.length === 1) {
            const { start, end } = ranges[0]!;
            return reply
              .code(206)
              .header('content-range', `bytes ${start}-${end}/${stat.size}`)
              .header('content-length', end - start + 1)
              .send(opts.storage.read(file.storageKey, { start, end }));
          }
        }
        return reply.header('content-length', stat.size).send(opts.storage.read(file.storageKey));
      },
    );

    // Topics
    app.get('/topics', { config: { ...pub, pageCache: 30 } }, async (req, reply) => {
      const topics = await resources.allTopics();
      const { facets } = await resources.search(
        { types: [], topics: [], audiences: [], lengths: [], byParents: false, languages: [] },
        'newest',
        1,
        1,
      );
      return reply.render(`${V}/topics.njk`, {
        title: req.t('resources.topics.title'),
        topics: topics.map((t) => ({
          ...t,
          label: req.locale === 'cy' && t.nameCy ? t.nameCy : t.name,
          count: facets.topic[t.slug] ?? 0,
        })),
      });
    });
    app.get('/topics/:slug', { config: { ...pub, pageCache: 10 } }, async (req, reply) => {
      const p = slugParam.safeParse(req.params);
      const found = p.success ? await resources.topicPage(p.data.slug, req.user) : undefined;
      if (!found) return reply.callNotFound();
      const topics = await resources.allTopics();
      const name =
        req.locale === 'cy' && found.topic.nameCy ? found.topic.nameCy : found.topic.name;
      return reply.render(`${V}/topic.njk`, {
        title: name,
        topic: found.topic,
        sections: found.sections.map((s) => ({
          ...s,
          items: s.items.map((i) => ({
            ...i,
            resource: withFields(i.resource, presentSummary(req, topics, i.resource)),
          })),
        })),
        latest: found.latest.map((r) => withFields(r, presentSummary(req, topics, r))),
        total: found.total,
        canEdit: req.user && (req.user.role === 'editor' || req.user.role === 'admin'),
      });
    });

    // Editors
    const editor = { access: 'editor' as const };
    const statusQuery = z.object({
      status: z.enum(RESOURCE_STATUSES).optional().catch(undefined),
      page: z.coerce.number().int().min(1).max(1000).catch(1),
    });
    app.get('/admin/resources', { config: editor }, async (req, reply) => {
      const q = statusQuery.parse(req.query ?? {});
      const status = q.status ?? 'submitted';
      const { rows, total, counts } = await resources.list(req.user, status, q.page, 50);
      const pages = Math.max(1, Math.ceil(total / 50));
      return reply.render(`${V}/admin-list.njk`, {
        title: req.t('resources.admin.title'),
        status,
        tabs: RESOURCE_STATUSES.map((s) => ({
          status: s,
          name: req.t(`resources.statuses.${s}`),
          count: counts[s] ?? 0,
          current: s === status,
        })),
        rows: rows.map((r) => ({
          ...r,
          typeName: typeName(req, r.type),
          updated: formatDate(r.updatedAt, req.locale),
        })),
        pagination: {
          pages,
          previous:
            q.page > 1
              ? { href: `/admin/resources?status=${status}&page=${q.page - 1}` }
              : undefined,
          next:
            q.page < pages
              ? { href: `/admin/resources?status=${status}&page=${q.page + 1}` }
              : undefined,
        },
        noindex: true,
      });
    });

    const notices = z.object({
      saved: z.literal('1').optional().catch(undefined),
      done: z
        .enum(['publish', 'decline', 'archive', 'restore', 'file-removed'])
        .optional()
        .catch(undefined),
    });
    const editPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      id: string | undefined,
      extra: {
        errors?: FormErrors;
        values?: Record<string, unknown>;
        status?: number;
        declineErrors?: FormErrors;
      } = {},
    ) => {
      const found = id ? await resources.forEditing(req.user, id) : undefined;
      if (id && !found) return reply.callNotFound();
      return formPage(req, reply, `${V}/edit.njk`, {
        title: found
          ? req.t('resources.edit.titleEdit', { title: found.resource.title })
          : req.t('resources.edit.titleNew'),
        resource: found?.resource,
        statusName: found ? req.t(`resources.statuses.${found.resource.status}`) : undefined,
        submitter: found?.submitter,
        files: (found?.files ?? []).map((f) => ({
          ...f,
          sizeText: humanSize(f.size),
          kindName: req.t(`resources.fileKinds.${f.kind}`),
        })),
        values: extra.values ?? (found ? valuesOf(found.resource) : { language: 'en' }),
        ...(extra.errors ? { errors: extra.errors } : {}),
        ...(extra.declineErrors ? { declineErrors: extra.declineErrors } : {}),
        ...(extra.status ? { status: extra.status } : {}),
        ...notices.parse(req.query ?? {}),
      });
    };
    const actions = ['draft', 'publish', 'preview'] as const;
    const saveFromForm = async (
      req: FastifyRequest,
      reply: FastifyReply,
      id: string | undefined,
    ) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const form = readResourceForm(body);
      const uploads = uploadsOf(req);
      const action = actions.find((a) => a === body.action) ?? 'draft';
      const status: ResourceStatus | undefined =
        action === 'publish' ? 'published' : id ? undefined : 'draft';
      const result = form.input
        ? await resources.editorSave(req.user, id, form.input, uploads, status)
        : { ok: false as const, problems: form.problems };
      if (!result) return reply.callNotFound();
      if (!result.ok)
        return editPage(req, reply, id, {
          errors: errorsFrom(result.problems, req.t),
          values: echoValues(body),
          status: 400,
        });
      if (action === 'preview') return reply.redirect(`/resources/${result.resource.slug}`, 303);
      return reply.redirect(`/admin/resources/${result.resource.id}?saved=1`, 303);
    };
    app.get('/admin/resources/new', { config: editor }, async (req, reply) =>
      editPage(req, reply, undefined),
    );
    app.post('/admin/resources/new', { config: editor }, async (req, reply) =>
      saveFromForm(req, reply, undefined),
    );
    app.get('/admin/resources/:id', { config: editor }, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      return editPage(req, reply, p.data.id);
    });
    app.post('/admin/resources/:id', { config: editor }, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      return saveFromForm(req, reply, p.data.id);
    });
    app.post('/admin/resources/:id/status', { config: editor }, async (req, reply) => {
      const p = idParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      const body = (req.body ?? {}) as Record<string, unknown>;
      const id = p.data.id;
      let done;
      switch (body.action) {
        case 'publish':
          done = await resources.publish(req.user, id);
          break;
        case 'archive':
        case 'restore':
          done = await resources.archive(req.user, id, body.action === 'archive');
          break;
        case 'decline': {
          const reason = text(body.reason);
          if (!reason || reason.length > 2000)
            return editPage(req, reply, id, {
              declineErrors: errorsFrom(
                [
                  {
                    field: 'reason',
                    key: reason ? 'resources.errors.tooLong' : 'resources.errors.reason',
                    vars: { max: 2000 },
                  },
                ],
                req.t,
              ),
              status: 400,
            });
          done = await resources.decline(req.user, id, reason);
          break;
        }
        default:
          return reply.code(400).callNotFound();
      }
      if (!done) return reply.callNotFound();
      return reply.redirect(`/admin/resources/${id}?done=${String(body.action)}`, 303);
    });
    app.post(
      '/admin/resources/:id/files/:fileId/delete',
      { config: editor },
      async (req, reply) => {
        const p = idParam.extend({ fileId: z.uuid() }).safeParse(req.params);
        if (!p.success) return reply.callNotFound();
        await resources.removeFile(req.user, p.data.id, p.data.fileId);
        return reply.redirect(`/admin/resources/${p.data.id}?done=file-removed`, 303);
      },
    );

    // Topic pages
    app.get('/admin/topics', { config: editor }, async (req, reply) => {
      const topics = await resources.allTopics();
      return reply.render(`${V}/admin-topics.njk`, {
        title: req.t('resources.adminTopics.title'),
        topics,
        noindex: true,
      });
    });
    const SECTION_ROWS = 6;
    const topicEditPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      slug: string,
      extra: { errors?: FormErrors; values?: Record<string, unknown>; status?: number } = {},
    ) => {
      const found = await resources.topicPage(slug, req.user);
      if (!found) return reply.callNotFound();
      const values =
        extra.values ??
        (() => {
          const v: Record<string, unknown> = { intro: found.topic.intro };
          found.sections.forEach((s, i) => {
            v[`section_${i}_heading`] = s.heading;
            v[`section_${i}_note`] = s.note;
            v[`section_${i}_items`] = s.items
              .map((it) => `${it.resource.slug}${it.note ? ` | ${it.note}` : ''}`)
              .join('\n');
          });
          return v;
        })();
      const count = Math.max(SECTION_ROWS, found.sections.length + 2);
      return reply.render(
        `${V}/admin-topic.njk`,
        {
          title: req.t('resources.adminTopics.editTitle', { name: found.topic.name }),
          topic: found.topic,
          values,
          sections: Array.from({ length: count }, (_v, i) => i),
          errors: extra.errors,
          noindex: true,
        },
        extra.status ?? 200,
      );
    };
    app.get('/admin/topics/:slug', { config: editor }, async (req, reply) => {
      const p = slugParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      return topicEditPage(req, reply, p.data.slug);
    });
    app.post('/admin/topics/:slug', { config: editor }, async (req, reply) => {
      const p = slugParam.safeParse(req.params);
      if (!p.success) return reply.callNotFound();
      const body = (req.body ?? {}) as Record<string, unknown>;
      const sections: { heading: string; note: string; items: string }[] = [];
      for (let i = 0; i < 30; i++) {
        const heading = text(body[`section_${i}_heading`]);
        const items =
          typeof body[`section_${i}_items`] === 'string'
            ? (body[`section_${i}_items`] as string)
            : '';
        if (body[`section_${i}_heading`] === undefined && body[`section_${i}_items`] === undefined)
          continue;
        sections.push({
          heading: (heading ?? '').slice(0, 200),
          note: (text(body[`section_${i}_note`]) ?? '').slice(0, 1000),
          items: items.slice(0, 10_000),
        });
      }
      const intro = typeof body.intro === 'string' ? body.intro.trim().slice(0, 20_000) : '';
      const result = await resources.saveTopicPage(req.user, p.data.slug, intro, sections);
      if (!result) return reply.callNotFound();
      if (!result.ok)
        return topicEditPage(req, reply, p.data.slug, {
          errors: errorsFrom(result.problems, req.t),
          values: echoValues(body),
          status: 400,
        });
      return reply.redirect(`/topics/${p.data.slug}`, 303);
    });
  };
}
