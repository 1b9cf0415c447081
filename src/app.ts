import { join } from 'node:path';
import compress from '@fastify/compress';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { ROOT_DIR, SRC_DIR } from './root.ts';
import type { Database } from './db/client.ts';
import { homeRoutes } from './features/home/routes.ts';
import { pagesRoutes } from './features/pages/routes.ts';
import { accountsRoutes } from './features/accounts/routes.ts';
import { adminRoutes } from './features/admin/routes.ts';
import { createEventsRepository } from './features/events/repository.ts';
import { eventsAdminRoutes } from './features/events/admin-routes.ts';
import { eventsRoutes, organiserRoutes } from './features/events/routes.ts';
import { eventsSeeder } from './features/events/seed.ts';
import {
  createEventsService,
  type EventsService,
  OFFER_JOB,
  PURGE_JOB,
  REMINDER_JOB,
} from './features/events/service.ts';
import { createResourcesRepository } from './features/resources/repository.ts';
import { resourcesRoutes } from './features/resources/routes.ts';
import { resourcesSeeder } from './features/resources/seed.ts';
import { createResourcesService, type ResourcesService } from './features/resources/service.ts';
import { createCommunityRepository } from './features/community/repository.ts';
import { createCommunityAdmin } from './features/community/admin.ts';
import { createCommunityAdminRepository } from './features/community/admin-repository.ts';
import { communityAdminRoutes } from './features/community/admin-routes.ts';
import { communityRoutes } from './features/community/routes.ts';
import { createMentions } from './features/community/mentions.ts';
import { createMentionsRepository } from './features/community/mentions-repository.ts';
import { mentionsRoutes } from './features/community/mentions-routes.ts';
import {
  type CommunityNotifications,
  createNotifications,
  DIGEST_JOB,
} from './features/community/notifications.ts';
import { createNotificationsRepository } from './features/community/notifications-repository.ts';
import { notificationsRoutes } from './features/community/notifications-routes.ts';
import { communitySeeder, demoNotificationsSeeder } from './features/community/seed.ts';
import { type CommunityService, createCommunityService } from './features/community/service.ts';
import { createArticlesRepository } from './features/articles/repository.ts';
import { articlesNavigation } from './features/articles/navigation.ts';
import { articlesRoutes } from './features/articles/routes.ts';
import { articlesSeeder } from './features/articles/seed.ts';
import {
  type ArticlesService,
  createArticlesService,
  PUBLISH_JOB as ARTICLES_PUBLISH_JOB,
} from './features/articles/service.ts';
import { createMembersRepository } from './features/members/repository.ts';
import { guidelinesNavigation } from './features/guidelines/navigation.ts';
import { createPlansService, type PlansService } from './features/guidelines/plans.ts';
import { createGuidelinesRepository } from './features/guidelines/repository.ts';
import { guidelinesRoutes } from './features/guidelines/routes.ts';
import { guidelinesSeeder } from './features/guidelines/seed.ts';
import { createGuidelinesService, type GuidelinesService } from './features/guidelines/service.ts';
import { newsletterAdminRoutes } from './features/newsletter/admin-routes.ts';
import { newsletterNavigation, newsletterPanels } from './features/newsletter/navigation.ts';
import { createNewsletterRepository } from './features/newsletter/repository.ts';
import { newsletterRoutes } from './features/newsletter/routes.ts';
import { newsletterSeeder } from './features/newsletter/seed.ts';
import {
  createNewsletterService,
  DIGEST_JOB as NEWSLETTER_DIGEST_JOB,
  type NewsletterService,
  PURGE_JOB as NEWSLETTER_PURGE_JOB,
} from './features/newsletter/service.ts';
import { searchPanels } from './features/search/navigation.ts';
import { createSearchRepository } from './features/search/repository.ts';
import { searchRoutes } from './features/search/routes.ts';
import { searchSeeder } from './features/search/seed.ts';
import {
  createSearchService,
  type SearchService,
  SWEEP_JOB as SEARCH_SWEEP_JOB,
  SYNC_JOB as SEARCH_SYNC_JOB,
} from './features/search/service.ts';
import { membersRoutes } from './features/members/routes.ts';
import { membersSeeder } from './features/members/seed.ts';
import { createMembersService } from './features/members/service.ts';
import { orukRoutes } from './features/services/api-routes.ts';
import {
  createServiceChanges,
  PURGE_SUGGESTIONS_JOB,
  type ServiceChanges,
  VERIFY_REMINDER_JOB,
} from './features/services/changes.ts';
import { serviceChangesRoutes } from './features/services/changes-routes.ts';
import { createDirectory } from './features/services/directory.ts';
import { createOrukApi, type OrukApi } from './features/services/oruk-api.ts';
import { createServicesRepository } from './features/services/repository.ts';
import { servicesRoutes } from './features/services/routes.ts';
import { servicesSeeder } from './features/services/seed.ts';
import { createServicesService, type ServicesService } from './features/services/service.ts';
import { createAccountsRepository } from './features/accounts/repository.ts';
import { accountsSeeder } from './features/accounts/seed.ts';
import { type AccountsService, createAccountsService } from './features/accounts/service.ts';
import {
  accountsNavigation,
  SIGN_IN_PATH,
  TWO_FACTOR_SETUP_PATH,
} from './features/accounts/navigation.ts';
import { adminNavigation } from './features/admin/navigation.ts';
import { communityNavigation } from './features/community/navigation.ts';
import { eventsNavigation } from './features/events/navigation.ts';
import { pagesNavigation } from './features/pages/navigation.ts';
import { resourcesNavigation } from './features/resources/navigation.ts';
import { servicesNavigation } from './features/services/navigation.ts';
import { admissionPlugin } from './platform/admission.ts';
import { secretsOf } from './platform/signing.ts';
import { inputPlugin } from './platform/input.ts';
import { accessAllows, authPlugin, SESSION_COOKIE } from './platform/auth.ts';
import { createNavigation, type Navigation } from './platform/navigation.ts';
import { csrfPlugin } from './platform/csrf.ts';
import { errorsPlugin } from './platform/errors.ts';
import { healthPlugin, sharedWhileRunning } from './platform/health.ts';
import { pageCachePlugin } from './platform/page-cache.ts';
import {
  createI18n,
  discoverLocaleDirs,
  type I18n,
  loadLocaleDirs,
} from './platform/i18n/index.ts';
import { i18nPlugin } from './platform/i18n/plugin.ts';
import { createGeocoder } from './platform/geocoder.ts';
import { createJobQueue, type JobQueue } from './platform/jobs/index.ts';
import {
  ErrorsOnlyRequestLog,
  genReqId,
  lazyChildLoggerFactory,
  loggerOptions,
} from './platform/logging.ts';
import { createMailer, MAIL_JOB, type Mailer } from './platform/mail.ts';
import { createLimits, rateLimitPlugin } from './platform/rate-limit.ts';
import { lazySchemaCompilers } from './platform/schema-compilers.ts';
import { type RouteTable, routeTablePlugin } from './platform/routes.ts';
import type { SearchChanged } from './platform/search.ts';
import type { Seeder } from './platform/seed.ts';
import { securityPlugin } from './platform/security.ts';
import { staticPlugin } from './platform/static.ts';
import { openStorage, type Storage } from './platform/storage.ts';
import { createViewEnvironment, loadAssetManifest, viewsPlugin } from './platform/views/index.ts';

export const PUBLIC_DIR = join(ROOT_DIR, 'dist', 'public');

/** What the platform gives every feature, and what the CLI and tests reach. */
export interface Platform {
  config: Config;
  database: Database;
  jobs: JobQueue;
  mailer: Mailer;
  storage: Storage;
  i18n: I18n;
  routes: RouteTable;
  seeders: Seeder[];
  navigation: Navigation;
}

/** The features' services, for the CLI and tests (routes get theirs passed in). */
export interface Services {
  accounts: AccountsService;
  events: EventsService;
  resources: ResourcesService;
  services: ServicesService;
  serviceChanges: ServiceChanges;
  oruk: OrukApi;
  community: CommunityService;
  notifications: CommunityNotifications;
  guidelines: GuidelinesService;
  plans: PlansService;
  newsletter: NewsletterService;
  articles: ArticlesService;
  search: SearchService;
}

declare module 'fastify' {
  interface FastifyInstance {
    platform: Platform;
    services: Services;
  }
}

export interface BuildOptions {
  config: Config;
  database: Database;
  /** false: no logging (CLI). A stream: log there instead of stdout (tests read the logs). */
  logger?: false | { stream: NodeJS.WritableStream };
  /**
   * Settles when the database's migrations have run (`serve` runs them while
   * the application is built): the first query here waits for it, and a
   * failed migration fails the build.
   */
  migrated?: Promise<unknown>;
}

/**
 * The one place where things are wired: platform plugins first, then the
 * features. Read this to see the whole application.
 */
export async function buildApp({
  config,
  database,
  logger,
  migrated,
}: BuildOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      logger === false
        ? false
        : { ...loggerOptions(config.logLevel), ...(logger ? { stream: logger.stream } : {}) },
    genReqId,
    ...(config.logRequests
      ? {}
      : { logController: new ErrorsOnlyRequestLog(), childLoggerFactory: lazyChildLoggerFactory }),
    // TRUST_PROXY: a number of hops is "the nearest n addresses are proxies".
    trustProxy:
      typeof config.trustProxy === 'number'
        ? (_addr: string, hop: number) => hop < (config.trustProxy as number)
        : config.trustProxy,
    return503OnClosing: true,
    schemaController: { compilersFactory: lazySchemaCompilers() },
    bodyLimit: 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  });

  // Platform services: plain objects, created once and passed down.
  const jobs = createJobQueue(database, app.log);
  const limits = createLimits({
    redisUrl: config.redisUrl,
    secret: config.sessionSecret,
    log: app.log,
  });
  app.addHook('onClose', async () => limits.close());
  const mailer = createMailer({
    smtpUrl: config.smtpUrl,
    from: config.mailFrom,
    dataDir: config.dataDir,
    jobs,
    log: app.log,
  });
  const storage = await openStorage(config);
  const i18n = createI18n(loadLocaleDirs(discoverLocaleDirs(SRC_DIR)));
  const routes: RouteTable = { routes: [] };
  const seeders: Seeder[] = [];
  // The header's and footer's links: each feature's own, so they lead only to pages that exist.
  const navigation = createNavigation();
  navigation.add(
    ...servicesNavigation,
    ...resourcesNavigation,
    ...communityNavigation,
    ...eventsNavigation,
    ...guidelinesNavigation,
    ...adminNavigation,
    ...accountsNavigation,
    ...pagesNavigation,
    ...newsletterNavigation,
    ...articlesNavigation,
  );
  navigation.addPanel(...searchPanels, ...newsletterPanels);
  // Feature services.
  // A service's unit of work: one transaction for a change and the jobs (emails) it causes.
  const transaction: Database['transaction'] = (work) => database.transaction(work);
  // The site search first: every feature tells it what changed (`searchChanged`), and
  // gives it a source of its things (added below, once the features exist).
  const searchRepo = createSearchRepository(database.db);
  const search = createSearchService({
    repo: searchRepo,
    jobs,
    log: app.log,
    places: {
      // `services` is made below; a search only runs once the app is.
      authorities: async () =>
        (await services.currentAuthorities()).map((a) => ({
          gssCode: a.gssCode,
          name: a.name,
          nameCy: a.nameCy,
          regionName: a.regionName,
          regionCode: a.regionCode,
        })),
      near: async (where) => {
        const found = await services.search({ near: where, models: [], offers: [], serves: [] });
        if (!('near' in found) || !found.near) return undefined;
        return {
          label: found.near,
          href: `/services?${new URLSearchParams({ near: where }).toString()}`,
          services: found.rows.slice(0, 3).map((r) => ({
            title: r.name,
            href: `/services/${r.slug}`,
            miles: r.miles,
          })),
        };
      },
    },
  });
  const searchChanged: SearchChanged = (source, ids) => search.changed(source, ids);
  const accounts = createAccountsService({
    repo: createAccountsRepository(database.db),
    transaction,
    mailer,
    jobs,
    i18n,
    baseUrl: config.baseUrl,
    secret: config.sessionSecret,
    previousSecret: config.previousSessionSecret,
    log: app.log,
    limits,
  });
  seeders.push(accountsSeeder(accounts));
  const eventsRepo = createEventsRepository(database.db);
  const events = createEventsService({
    searchChanged,
    repo: eventsRepo,
    limits,
    transaction,
    mailer,
    jobs,
    i18n,
    baseUrl: config.baseUrl,
    people: {
      memberByEmail: (email) => accounts.approvedMemberByEmail(email),
      displayName: async (id) => (await accounts.person(id))?.displayName,
      audit: accounts.audit,
    },
  });
  seeders.push(eventsSeeder(eventsRepo));
  accounts.addDataProvider(events.personalData);
  const resourcesRepo = createResourcesRepository(database.db);
  const resources = createResourcesService({
    searchChanged,
    searchMatches: (text, viewer) => search.matching(viewer, 'resources', ['resource'], text),
    repo: resourcesRepo,
    transaction,
    storage,
    mailer,
    i18n,
    baseUrl: config.baseUrl,
    people: {
      person: (id) => accounts.person(id),
      contact: (id) => accounts.contact(id),
      audit: accounts.audit,
    },
  });
  seeders.push(resourcesSeeder(resourcesRepo, storage));
  accounts.addDataProvider(resources.personalData);
  const servicesRepo = createServicesRepository(database.db);
  const geocoder = createGeocoder({
    baseUrl: config.geocoderUrl,
    cache: servicesRepo.postcodeCache,
  });
  const directory = createDirectory(servicesRepo);
  const services = createServicesService({
    searchChanged,
    searchMatches: (text, viewer) => search.matching(viewer, 'services', ['service'], text),
    repo: servicesRepo,
    directory,
    geocoder,
    baseUrl: config.baseUrl,
  });
  const oruk = createOrukApi({ repo: servicesRepo, directory, geocoder, baseUrl: config.baseUrl });
  const serviceChanges = createServiceChanges({
    searchChanged,
    repo: servicesRepo,
    transaction,
    directory,
    geocoder,
    mailer,
    jobs,
    i18n,
    baseUrl: config.baseUrl,
    people: {
      user: (id) => accounts.contact(id),
      memberByEmail: (email) => accounts.approvedMemberByEmail(email),
      audit: accounts.audit,
    },
  });
  accounts.addDataProvider(serviceChanges.personalData);
  const communityRepo = createCommunityRepository(database.db);
  const notificationsRepo = createNotificationsRepository(database.db);
  const notifications = createNotifications({
    repo: notificationsRepo,
    transaction,
    community: communityRepo,
    mailer,
    jobs,
    i18n,
    baseUrl: config.baseUrl,
    secret: config.sessionSecret,
    previousSecret: config.previousSessionSecret,
    log: app.log,
    people: {
      contacts: (ids) => accounts.contacts(ids),
      approvedNamedIn: (text) => accounts.approvedNamedIn(text),
      moderatorIds: () => accounts.moderatorIds(),
    },
  });
  const community = createCommunityService({
    searchChanged,
    searchMatches: (text, viewer) => search.matching(viewer, 'community', ['thread'], text),
    events: notifications,
    repo: communityRepo,
    storage,
    people: {
      person: (id) => accounts.person(id),
      people: (ids) => accounts.people(ids),
      setting: (key) => accounts.setting(key),
      audit: accounts.audit,
    },
  });
  const demoPeople = {
    idByEmail: async (email: string) => (await accounts.approvedMemberByEmail(email))?.id,
    people: (ids: readonly string[]) => accounts.people(ids),
  };
  seeders.push(
    communitySeeder(communityRepo, demoPeople),
    demoNotificationsSeeder(communityRepo, notificationsRepo, demoPeople),
  );
  accounts.addDataProvider(community.personalData);
  const communityAdmin = createCommunityAdmin({
    searchChanged,
    repo: createCommunityAdminRepository(database.db),
    people: {
      contact: (id) => accounts.contact(id),
      memberByEmail: (email) => accounts.approvedMemberByEmail(email),
      setting: (key) => accounts.setting(key),
      putSetting: (key, value) => accounts.putSetting(key, value),
      audit: accounts.audit,
    },
  });
  accounts.addDataProvider(notifications.personalData);
  const membersRepo = createMembersRepository(database.db);
  const members = createMembersService({
    repo: membersRepo,
    people: { profiles: (ids) => accounts.profiles(ids) },
  });
  const mentions = createMentions({
    repo: createMentionsRepository(database.db),
    community,
    people: { searchApproved: (f) => accounts.searchApproved(f) },
    members: { listedAmong: (ids) => members.listedAmong(ids) },
  });
  seeders.push(
    membersSeeder(membersRepo, {
      idByEmail: async (email) => (await accounts.approvedMemberByEmail(email))?.id,
    }),
  );
  accounts.addDataProvider(members.personalData);
  seeders.push(servicesSeeder(servicesRepo, services));
  const guidelinesRepo = createGuidelinesRepository(database.db);
  const guidelines = createGuidelinesService({
    searchChanged,
    repo: guidelinesRepo,
    transaction,
    audit: accounts.audit,
    links: {
      service: async (slug) => {
        const s = await services.service(slug);
        return s && { href: `/services/${slug}`, title: s.service.name };
      },
      resource: async (slug) => {
        const r = await resources.view(slug, undefined);
        return r && { href: `/resources/${slug}`, title: r.resource.title };
      },
      // Articles are made after guidelines (they ask it about statements): called later, on a page.
      story: async (slug) => {
        const s = await articles.publicStory(slug);
        return s && { href: `/stories/${slug}`, title: s.title };
      },
    },
  });
  const plans = createPlansService({
    repo: guidelinesRepo,
    guidelines,
    transaction,
    mailer,
    i18n,
    baseUrl: config.baseUrl,
    audit: accounts.audit,
    authorities: async () => services.currentAuthorities(),
    people: {
      names: async (ids) =>
        new Map([...(await accounts.people(ids))].map(([id, p]) => [id, p.displayName])),
    },
  });
  accounts.addDataProvider(plans.personalData);
  seeders.push(
    guidelinesSeeder({
      repo: guidelinesRepo,
      guidelines,
      plans,
      demoServiceSlugs: async () =>
        (await services.search({ models: [], offers: [], serves: [] })).rows.map((r) => r.slug),
      member: async (email) => {
        const m = await accounts.approvedMemberByEmail(email);
        return m && { ...m, role: 'member', approved: true, totpEnabled: false };
      },
    }),
  );
  const newsletterRepo = createNewsletterRepository(database.db);
  const newsletter = createNewsletterService({
    repo: newsletterRepo,
    transaction,
    mailer,
    jobs,
    i18n,
    baseUrl: config.baseUrl,
    secret: config.sessionSecret,
    previousSecret: config.previousSessionSecret,
    perMinute: config.newsletterPerMinute,
    claimant: () => database.claimant(),
    log: app.log,
    people: { contact: (id) => accounts.contact(id) },
    storage,
    // What digests are made of: each feature's newly published things.
    sources: [
      {
        topic: 'resources',
        publishedBetween: async (from, until) =>
          (await resources.latest(200))
            .filter(
              (r) => r.firstPublishedAt && r.firstPublishedAt > from && r.firstPublishedAt <= until,
            )
            .map((r) => ({
              title: r.title,
              url: `${config.baseUrl}/resources/${r.slug}`,
              summary: r.summary,
              publishedAt: r.firstPublishedAt!,
            })),
      },
      {
        topic: 'events',
        // By when they were published; not cancelled, postponed or over (events.publishedBetween).
        publishedBetween: async (from, until) =>
          (await events.publishedBetween(from, until)).map((e) => ({
            title: e.title,
            url: `${config.baseUrl}/events/${e.slug}`,
            summary: e.summary,
            publishedAt: e.publishedAt,
          })),
      },
      {
        topic: 'services',
        // New on the map: services that went live in the window (services.newOnMap).
        publishedBetween: async (from, until) =>
          (await services.newOnMap(from, until)).map((s) => ({
            title: s.name,
            url: `${config.baseUrl}/services/${s.slug}`,
            summary: s.summary,
            publishedAt: s.wentLive,
          })),
      },
      {
        topic: 'news',
        // `articles` is made below; a digest is only ever made once the app is running.
        publishedBetween: (from, until) => articles.publishedBetween(from, until),
      },
      {
        topic: 'guidelines',
        publishedBetween: async (from, until) =>
          (await guidelines.versionsBetween(from, until)).map((v) => ({
            title: v.title,
            url: `${config.baseUrl}${v.path}`,
            summary: v.summary,
            publishedAt: v.publishedAt,
          })),
      },
    ],
  });
  // One suppression list for every email the site sends.
  mailer.suppressWith((address) => newsletter.isSuppressed(address));
  accounts.addDataProvider(newsletter.personalData);
  seeders.push(newsletterSeeder(newsletterRepo));
  const articlesRepo = createArticlesRepository(database.db);
  const articles = createArticlesService({
    searchChanged,
    repo: articlesRepo,
    transaction,
    mailer,
    jobs,
    i18n,
    baseUrl: config.baseUrl,
    topics: () => resources.allTopics(),
    places: {
      authorities: () => services.currentAuthorities(),
      service: async (slug) => {
        const found = await services.service(slug);
        return (
          found && {
            slug: found.service.slug,
            name: found.service.name,
            nameCy: found.service.nameCy,
          }
        );
      },
      servicesIn: async (gss) =>
        (await services.search({ la: gss, models: [], offers: [], serves: [] })).rows.map(
          (r) => r.slug,
        ),
    },
    people: {
      person: (id) => accounts.person(id),
      people: (ids) => accounts.people(ids),
      contacts: (ids) => accounts.contacts(ids),
      setting: (key) => accounts.setting(key),
      putSetting: (key, value) => accounts.putSetting(key, value),
      audit: accounts.audit,
    },
    // Comments are told through the community's notifications (page, email choices, digest).
    notify: (notices) => notifications.elsewhere(notices),
    // A story's guideline statements: those in each guideline's current version, and their pages.
    guidelineStatements: (keys) => guidelines.statementSummaries(keys),
  });
  seeders.push(articlesSeeder(articlesRepo, articles, demoPeople));
  // What the site search finds: each feature's own things, described and checked by it.
  for (const source of [
    services.searchSource(),
    resources.searchSource(),
    events.searchSource(),
    articles.searchSource(),
    guidelines.searchSource(),
    community.searchSource(),
  ])
    search.addSource(source);
  // Last of all: the index made from what the other seeders wrote.
  seeders.push(searchSeeder(searchRepo, search));
  accounts.addDataProvider(articles.personalData);

  app.decorate('platform', {
    config,
    database,
    jobs,
    mailer,
    storage,
    i18n,
    routes,
    seeders,
    navigation,
  });
  app.decorate('services', {
    accounts,
    events,
    resources,
    services,
    serviceChanges,
    oruk,
    community,
    notifications,
    guidelines,
    plans,
    newsletter,
    articles,
    search,
  });

  // Platform plugins.
  // First of all hooks: a request waits its turn before anything is done for it.
  await app.register(admissionPlugin, { ...config.admission, exempt: ['/assets/'] });
  await app.register(routeTablePlugin, { table: routes });
  await app.register(securityPlugin, { production: config.production, tileUrl: config.tileUrl });
  await app.register(formbody);
  await app.register(inputPlugin);
  await app.register(viewsPlugin, {
    env: createViewEnvironment({
      srcDir: SRC_DIR,
      rootDir: ROOT_DIR,
      watch: config.env === 'development',
      extraPaths: config.env === 'test' ? [join(ROOT_DIR, 'test', 'fixtures', 'views')] : [],
    }),
    assets: loadAssetManifest(PUBLIC_DIR),
    navigation,
  });
  await app.register(csrfPlugin, {
    secrets: secretsOf(config.sessionSecret, config.previousSessionSecret),
    secure: config.production,
  });
  await app.register(i18nPlugin, { i18n, secure: config.production });
  await app.register(rateLimitPlugin, { limits });
  await app.register(pageCachePlugin, { bypass: (req) => Boolean(req.cookies[SESSION_COOKIE]) });
  await app.register(compress, { global: true, threshold: 1024, encodings: ['br', 'gzip'] });
  await app.register(errorsPlugin);
  await app.register(authPlugin, {
    loadSession: (token) => accounts.loadSession(token),
    signInPath: SIGN_IN_PATH,
    twoFactorSetupPath: TWO_FACTOR_SETUP_PATH,
  });
  await app.register(staticPlugin, { publicDir: PUBLIC_DIR, rootDir: ROOT_DIR });
  // The gauges of one scrape read one query's answer.
  const jobStats = sharedWhileRunning(() => jobs.stats());
  await app.register(healthPlugin, {
    ping: () => database.ping(),
    metricsToken: config.metricsToken,
    metricsElsewhere: config.metricsPort !== undefined,
    only: !config.roles.web,
    production: config.production,
    gauges: [
      {
        name: 'sp_requests_active',
        help: 'Requests being worked on',
        read: () => app.admission.active,
      },
      {
        name: 'sp_requests_waiting',
        help: 'Requests waiting their turn',
        read: () => app.admission.waiting,
      },
      {
        name: 'sp_requests_refused_total',
        help: 'Requests refused with 503 (queue full or waited too long)',
        type: 'counter',
        read: () => app.admission.refused,
      },
      {
        name: 'sp_jobs_pending',
        help: 'Jobs waiting to run',
        read: async () => (await jobStats()).pending,
      },
      { name: 'sp_jobs_due', help: 'Jobs due now', read: async () => (await jobStats()).due },
      {
        name: 'sp_jobs_oldest_due_seconds',
        help: 'How long the oldest due job has waited',
        read: async () => (await jobStats()).oldestDueSeconds,
      },
      {
        name: 'sp_jobs_failed',
        help: 'Jobs that failed for good (mail among them)',
        read: async () => (await jobStats()).failed,
      },
      {
        name: 'sp_mail_failed',
        help: 'Emails that failed for good (every attempt), kept a week',
        read: async () => (await jobStats()).failedByName[MAIL_JOB] ?? 0,
      },
      {
        name: 'sp_mail_retrying',
        help: 'Emails whose delivery failed and that wait to be tried again',
        read: async () => (await jobStats()).retryingByName[MAIL_JOB] ?? 0,
      },
      {
        name: 'sp_mail_send_failures_total',
        help: 'Failed delivery attempts in this process since it started',
        type: 'counter',
        read: () => mailer.failures,
      },
      {
        name: 'sp_db_pool_connections',
        help: 'Database connections open (PGlite: one)',
        read: () => database.poolStats().total,
      },
      {
        name: 'sp_db_pool_idle',
        help: 'Database connections open and idle',
        read: () => database.poolStats().idle,
      },
      {
        name: 'sp_db_pool_max',
        help: 'The most database connections this instance opens',
        read: () => database.poolStats().max,
      },
      {
        name: 'sp_db_pool_waiting',
        help: 'Queries waiting for a database connection',
        read: () => database.poolStats().waiting,
      },
    ],
  });

  // Features.
  await app.register(
    homeRoutes(navigation, {
      latestNews: async () =>
        (await articles.latest({ kind: 'news' }, 3)).map((a) => ({
          title: a.title,
          href: `/news/${a.slug}`,
          standfirst: a.standfirst,
          date: a.publishAt,
          language: a.language,
        })),
    }),
  );
  await app.register(accountsRoutes(accounts, { secure: config.production }));
  await app.register(
    adminRoutes(accounts, {
      outbox: mailer.outbox,
      // The dashboard's queues, each counted by the feature that owns it, for those who may open it.
      queues: async (u) => ({
        ...(await community.queueCounts(u)),
        ...(accessAllows('moderator', u)
          ? { suggestions: (await serviceChanges.queue(u, 'pending')).counts.pending ?? 0 }
          : {}),
        ...(accessAllows('editor', u)
          ? { submissions: (await resources.list(u, 'submitted', 1, 1)).counts.submitted ?? 0 }
          : {}),
      }),
    }),
  );
  await app.register(eventsRoutes(events, { baseUrl: config.baseUrl }));
  await app.register(organiserRoutes(events));
  await app.register(eventsAdminRoutes(events));
  await app.register(
    servicesRoutes(services, serviceChanges, {
      baseUrl: config.baseUrl,
      tileUrl: config.tileUrl,
      tileAttribution: config.tileAttribution,
      stories: {
        forService: async (slug) =>
          (await articles.storiesForService(slug)).map((a) => ({
            title: a.title,
            href: `/stories/${a.slug}`,
          })),
        countsByAuthority: () => articles.storyCountsByAuthority(),
      },
    }),
  );
  await app.register(serviceChangesRoutes(serviceChanges, services));
  await app.register(orukRoutes(oruk));
  await app.register(
    resourcesRoutes(resources, { baseUrl: config.baseUrl, dataDir: config.dataDir, storage }),
  );
  await app.register(notificationsRoutes(notifications));
  await app.register(membersRoutes(members));
  await app.register(mentionsRoutes(mentions));
  await app.register(communityRoutes(community, { dataDir: config.dataDir, storage }));
  await app.register(communityAdminRoutes(communityAdmin, (u) => community.queueCounts(u)));
  await app.register(
    guidelinesRoutes(guidelines, plans, {
      stories: {
        forStatement: async (slug, ref) =>
          (await articles.storiesForStatement(slug, ref)).map((a) => ({
            title: a.title,
            href: `/stories/${a.slug}`,
            language: a.language,
          })),
      },
    }),
  );
  await app.register(
    newsletterRoutes(newsletter, {
      baseUrl: config.baseUrl,
      webhookSecret: config.mailWebhookSecret,
    }),
  );
  await app.register(newsletterAdminRoutes(newsletter, { dataDir: config.dataDir }));
  await app.register(articlesRoutes(articles, { baseUrl: config.baseUrl }));
  await app.register(searchRoutes(search));
  await app.register(pagesRoutes());

  // Building the application asks nothing of the database until here.
  await migrated;
  await jobs.schedule('jobs.cleanup', 24 * 3600);
  await jobs.schedule('accounts.purge', 24 * 3600);
  await jobs.schedule(OFFER_JOB, 5 * 60);
  await jobs.schedule(REMINDER_JOB, 3600);
  await jobs.schedule(PURGE_JOB, 24 * 3600);
  await jobs.schedule(VERIFY_REMINDER_JOB, 24 * 3600);
  await jobs.schedule(PURGE_SUGGESTIONS_JOB, 24 * 3600);
  await jobs.schedule(DIGEST_JOB, 24 * 3600);
  await jobs.schedule(NEWSLETTER_PURGE_JOB, 24 * 3600);
  // Daily: the monthly digest is made on the first day of a month with something new.
  await jobs.schedule(NEWSLETTER_DIGEST_JOB, 24 * 3600);
  await jobs.schedule(ARTICLES_PUBLISH_JOB, 60);
  await jobs.schedule(SEARCH_SYNC_JOB, 60);
  await jobs.schedule(SEARCH_SWEEP_JOB, 24 * 3600);
  if (config.runJobs && database.soleUser) {
    // Only this process can open this database (the embedded one): what a
    // job or a send had claimed before it opened, a process that has died
    // claimed (a crash, kill -9). Free now, not after their five-minute leases.
    const released = {
      jobs: await jobs.releaseClaims(),
      recipients: await newsletter.releaseClaims(),
    };
    if (released.jobs || released.recipients)
      app.log.warn(released, 'taken back what a stopped process had claimed');
  }
  if (config.runJobs) jobs.start();
  app.addHook('onClose', async () => jobs.stop());
  app.addHook('onClose', async () => storage.close());
  return app;
}
