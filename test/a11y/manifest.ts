import type { FastifyInstance } from 'fastify';
import type { Database } from '../../src/db/client.ts';
import { makeUnsubscribeToken } from '../../src/features/community/notifications.ts';
import { linkFromMail } from '../helpers/mail.ts';

/**
 * Every HTML page the app serves (each GET route whose config does not say
 * `a11y: false`), with sample URLs taken from the demo content and the role
 * to visit it as. The accessibility suite visits each one in English and in
 * Welsh; a test fails when a route is missing here, so a new page cannot
 * escape the check.
 */
export type VisitAs = 'visitor' | 'member' | 'moderator' | 'editor' | 'admin';

export interface SampleContext {
  app: FastifyInstance;
  database: Database;
}

export interface PageSample {
  /** Concrete URLs for the route; a function may read the demo content or make a link. */
  paths: string[] | ((ctx: SampleContext) => Promise<string[]>);
  as?: VisitAs;
  /** The status the page is expected to answer with (default 200). */
  status?: number;
}

const userId = async ({ database }: SampleContext, email: string): Promise<string> => {
  const [row] = await database.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [
    email,
  ]);
  return row!.id;
};
const threadIn = async ({ database }: SampleContext, space: string): Promise<string> => {
  const [row] = await database.query<{ id: string }>(
    `SELECT t.id FROM threads t JOIN community_spaces s ON s.id = t.space_id
     WHERE s.slug = $1 ORDER BY t.created_at LIMIT 1`,
    [space],
  );
  return row!.id;
};
const postIn = async (ctx: SampleContext, space: string): Promise<string> => {
  const [row] = await ctx.database.query<{ id: string }>(
    `SELECT id FROM posts WHERE thread_id = $1 ORDER BY number LIMIT 1`,
    [await threadIn(ctx, space)],
  );
  return row!.id;
};
const demoSlug = async ({ database }: SampleContext): Promise<string> => {
  const [row] = await database.query<{ slug: string }>(
    'SELECT slug FROM services WHERE is_demo ORDER BY slug LIMIT 1',
  );
  return row!.slug;
};
/** The first demo action plan (its lead is member@example.org). */
const demoPlan = async ({ database }: SampleContext): Promise<string> => {
  const [row] = await database.query<{ id: string }>(
    'SELECT id FROM plans WHERE is_demo ORDER BY title LIMIT 1',
  );
  return row!.id;
};
/** A sign-up waiting for confirmation (its confirmation email is in the outbox); its id. */
const newsletterReader = async (ctx: SampleContext): Promise<string> => {
  const find = () =>
    ctx.database.query<{ id: string }>(
      `SELECT id FROM newsletter_subscribers WHERE email = 'a11y.reader@example.org'`,
    );
  if (!(await find()).length)
    await ctx.app.services.newsletter.signUp(
      {
        email: 'a11y.reader@example.org',
        topics: ['resources', 'events'],
        frequency: 'each',
        locale: 'en',
      },
      'page',
      undefined,
    );
  return (await find())[0]!.id;
};
/** A draft newsletter, as an editor writes one. */
const newsletterDraft = async (ctx: SampleContext): Promise<string> => {
  const [row] = await ctx.database.query<{ id: string }>(
    `INSERT INTO newsletter_issues (subject, body, topics, locale)
     VALUES ('Demo draft (demo)', 'A **demo** draft.', '{resources}', 'en') RETURNING id`,
  );
  return row!.id;
};
const actor = async (ctx: SampleContext, email: string) => ({
  id: await userId(ctx, email),
  role: 'member' as const,
  displayName: email,
  approved: true,
  totpEnabled: false,
});

export const pages: Record<string, PageSample> = {
  '/': { paths: ['/'] },
  '/privacy': { paths: ['/privacy'] },
  '/accessibility': { paths: ['/accessibility'] },
  '/cookies': { paths: ['/cookies'] },
  '/contact': { paths: ['/contact'] },
  '/terms': { paths: ['/terms'] },
  '/code-of-conduct': { paths: ['/code-of-conduct'] },

  // Accounts
  '/account/register': { paths: ['/account/register'] },
  '/account/check-email': {
    paths: ['/account/check-email?for=register', '/account/check-email?for=reset'],
  },
  '/account/verify/:token': {
    paths: async ({ app }) => {
      await app.services.accounts.register({
        email: 'a11y-new@example.org',
        displayName: 'New',
        kind: 'other',
        password: 'a long enough passphrase',
        locale: 'en',
      });
      return [await linkFromMail(app, 'a11y-new@example.org', '/account/verify/')];
    },
  },
  '/account/sign-in': { paths: ['/account/sign-in'] },
  '/account/sign-in/email': { paths: ['/account/sign-in/email'] },
  '/account/sign-in/link/:token': {
    paths: async ({ app }) => {
      await app.services.accounts.requestSignInLink('parent@example.org');
      return [await linkFromMail(app, 'parent@example.org', '/account/sign-in/link/')];
    },
  },
  // Without a pending two-step sign-in this sends you to sign in; the browser suite checks the page itself.
  '/account/sign-in/two-factor': { paths: ['/account/sign-in/two-factor'] },
  '/account/sign-out': { paths: ['/account/sign-out'], as: 'member' },
  '/account/password/forgot': { paths: ['/account/password/forgot'] },
  '/account/password/reset/:token': {
    paths: async ({ app }) => {
      await app.services.accounts.requestPasswordReset('parent@example.org');
      return [await linkFromMail(app, 'parent@example.org', '/account/password/reset/')];
    },
  },
  '/account': { paths: ['/account'], as: 'member' },
  '/account/profile': { paths: ['/account/profile'], as: 'member' },
  '/account/password': { paths: ['/account/password'], as: 'member' },
  '/account/email': { paths: ['/account/email'], as: 'member' },
  '/account/email/confirm/:token': {
    paths: async (ctx) => {
      await ctx.app.services.accounts.requestEmailChange(
        await actor(ctx, 'parent@example.org'),
        'parent-new@example.org',
      );
      return [await linkFromMail(ctx.app, 'parent-new@example.org', '/account/email/confirm/')];
    },
  },
  '/account/two-factor': { paths: ['/account/two-factor'], as: 'member' },
  '/account/two-factor/setup': { paths: ['/account/two-factor/setup'], as: 'member' },
  '/account/delete': { paths: ['/account/delete'], as: 'member' },
  '/account/delete/confirm/:token': {
    paths: async (ctx) => {
      await ctx.app.services.accounts.requestDeletionLink(
        await actor(ctx, 'pending@example.org'),
        false,
      );
      return [await linkFromMail(ctx.app, 'pending@example.org', '/account/delete/confirm/')];
    },
  },

  // Events
  '/events': { paths: ['/events', '/events?when=past', '/events?mode=online'] },
  '/events/:slug': {
    paths: [
      '/events/demo-birmingham-launch-born-into-care',
      '/events/demo-webinar-farewell-contact',
    ],
  },
  '/events/:slug/book': {
    paths: [
      '/events/demo-birmingham-launch-born-into-care/book?places=2',
      '/events/demo-seminar-recurrent-care-proceedings/book',
    ],
  },
  '/bookings/:token': {
    paths: async ({ app }) => {
      const result = await app.services.events.book('demo-wales-learning-set', {
        bookerName: 'A11y Booker',
        bookerEmail: 'a11y-booker@example.org',
        attendees: [{ name: 'A11y One' }, { name: 'A11y Two' }],
        choice: 'all',
        locale: 'en',
      });
      if (!('token' in result)) throw new Error('could not make a sample booking');
      return [`/bookings/${result.token}`];
    },
  },
  '/bookings/:token/cancel': {
    paths: async ({ app }) => {
      const result = await app.services.events.book('demo-wales-learning-set', {
        bookerName: 'A11y Canceller',
        bookerEmail: 'a11y-cancel@example.org',
        attendees: [{ name: 'A11y Three' }, { name: 'A11y Four' }],
        choice: 'all',
        locale: 'en',
      });
      if (!('token' in result)) throw new Error('could not make a sample booking');
      return [`/bookings/${result.token}/cancel`];
    },
  },
  '/bookings/:token/attendees/:id/cancel': {
    paths: async ({ app }) => {
      const result = await app.services.events.book('demo-wales-learning-set', {
        bookerName: 'A11y Canceller',
        bookerEmail: 'a11y-cancel-one@example.org',
        attendees: [{ name: 'A11y Five' }],
        choice: 'all',
        locale: 'en',
      });
      if (!('token' in result)) throw new Error('could not make a sample booking');
      const booking = await app.services.events.booking(result.token);
      return [`/bookings/${result.token}/attendees/${booking!.people[0]!.id}/cancel`];
    },
  },

  '/events/:slug/attendees': {
    paths: ['/events/demo-birmingham-launch-born-into-care/attendees'],
    as: 'editor',
  },

  '/admin/events': { paths: ['/admin/events'], as: 'editor' },
  '/admin/events/new': { paths: ['/admin/events/new'], as: 'editor' },
  '/admin/events/:id/edit': {
    paths: async ({ database }) => {
      const [row] = await database.query<{ id: string }>(
        `SELECT id FROM events WHERE slug = 'demo-birmingham-launch-born-into-care'`,
      );
      return [`/admin/events/${row!.id}/edit`];
    },
    as: 'editor',
  },

  // Service map
  '/services': {
    paths: [
      '/services',
      '/services?serves=fathers&offer=contraception',
      '/services?q=nothing-matches-this',
    ],
  },
  '/services/coverage': { paths: ['/services/coverage'] },
  '/services/:slug': {
    paths: async ({ database }) => {
      const [row] = await database.query<{ slug: string }>(
        `SELECT slug FROM services WHERE name_cy IS NOT NULL ORDER BY slug LIMIT 1`,
      );
      return [`/services/${row!.slug}`];
    },
  },

  '/services/suggest': { paths: ['/services/suggest'] },
  '/services/:slug/suggest-change': {
    paths: async (ctx) => [`/services/${await demoSlug(ctx)}/suggest-change`],
  },
  '/services/suggestions/sent': {
    paths: ['/services/suggestions/sent?confirm=yes', '/services/suggestions/sent?confirm=no'],
  },
  '/services/suggestions/confirm/:token': {
    paths: async (ctx) => {
      const slug = await demoSlug(ctx);
      const current = await ctx.app.services.serviceChanges.current(slug);
      await ctx.app.services.serviceChanges.suggest({
        actor: undefined,
        slug,
        fields: { ...current!.fields, funding: 'Changed for the accessibility check' },
        note: '',
        email: 'visitor-a11y@example.org',
        locale: 'en',
      });
      return [
        await linkFromMail(ctx.app, 'visitor-a11y@example.org', '/services/suggestions/confirm/'),
      ];
    },
  },
  '/services/:slug/history': {
    paths: async (ctx) => [`/services/${await demoSlug(ctx)}/history`],
  },
  '/services/:slug/edit': {
    paths: async (ctx) => [`/services/${await demoSlug(ctx)}/edit`],
    as: 'moderator',
  },
  '/admin/services/suggestions': {
    paths: ['/admin/services/suggestions', '/admin/services/suggestions?status=approved'],
    as: 'moderator',
  },
  '/admin/services/suggestions/:id': {
    paths: async ({ database }) => {
      const rows = await database.query<{ id: string }>(
        `SELECT id FROM service_suggestions WHERE status = 'pending' ORDER BY service_id NULLS FIRST`,
      );
      return rows.map((r) => `/admin/services/suggestions/${r.id}`);
    },
    as: 'moderator',
  },
  '/admin/services/:slug/managers': {
    paths: async (ctx) => [`/admin/services/${await demoSlug(ctx)}/managers`],
    as: 'moderator',
  },

  // Community
  '/community': { paths: ['/community'], as: 'member' },
  '/community/search': { paths: ['/community/search?q=letter'], as: 'member' },
  '/community/:space': {
    paths: ['/community/wales-network', '/community/parents-panel'],
    as: 'moderator',
  },
  '/community/:space/new': { paths: ['/community/wales-network/new'], as: 'member' },
  '/community/:space/:id': {
    paths: async (ctx) => [`/community/wales-network/${await threadIn(ctx, 'wales-network')}`],
    as: 'moderator',
  },
  '/community/:space/members': { paths: ['/community/parents-panel/members'], as: 'moderator' },
  '/community/posts/:id/edit': {
    paths: async (ctx) => [`/community/posts/${await postIn(ctx, 'wales-network')}/edit`],
    as: 'moderator',
  },
  '/community/posts/:id/report': {
    paths: async (ctx) => [`/community/posts/${await postIn(ctx, 'wales-network')}/report`],
    as: 'member',
  },
  '/community/posts/:id/history': {
    paths: async (ctx) => [`/community/posts/${await postIn(ctx, 'wales-network')}/history`],
    as: 'moderator',
  },
  '/admin/moderation': { paths: ['/admin/moderation'], as: 'moderator' },
  '/admin/community': { paths: ['/admin/community'], as: 'admin' },
  '/admin/community/spaces/new': { paths: ['/admin/community/spaces/new'], as: 'admin' },
  '/admin/community/spaces/:slug': {
    paths: ['/admin/community/spaces/wales-network', '/admin/community/spaces/parents-panel'],
    as: 'admin',
  },
  '/community/people': {
    paths: ['/community/people', '/community/people?q=letterbox&kind=practitioner'],
    as: 'member',
  },
  '/community/people/profile': { paths: ['/community/people/profile'], as: 'member' },
  '/community/notifications': {
    paths: ['/community/notifications', '/community/notifications?kind=mention'],
    as: 'member',
  },
  '/community/notifications/settings': {
    paths: ['/community/notifications/settings'],
    as: 'member',
  },
  '/community/notifications/unsubscribe/:token': {
    paths: async (ctx) => [
      `/community/notifications/unsubscribe/${makeUnsubscribeToken(
        ctx.app.platform.config.sessionSecret,
        await userId(ctx, 'member@example.org'),
        'mention',
      )}`,
    ],
  },

  // Newsletter
  '/newsletter': { paths: ['/newsletter', '/newsletter?source=footer&email=demo%40example.org'] },
  '/newsletter/check-email': { paths: ['/newsletter/check-email'] },
  '/newsletter/confirm/:token': {
    paths: async (ctx) => {
      await newsletterReader(ctx);
      return [await linkFromMail(ctx.app, 'a11y.reader@example.org', '/newsletter/confirm/')];
    },
  },
  '/newsletter/manage': { paths: ['/newsletter/manage'] },
  '/newsletter/manage/sent': { paths: ['/newsletter/manage/sent'] },
  '/newsletter/preferences/:token': {
    paths: async (ctx) => [
      `/newsletter/preferences/${ctx.app.services.newsletter.manageToken(await newsletterReader(ctx))}`,
    ],
  },
  '/newsletter/unsubscribe/:token': {
    paths: async (ctx) => [
      `/newsletter/unsubscribe/${ctx.app.services.newsletter.unsubscribeToken(await newsletterReader(ctx))}`,
    ],
  },
  '/newsletter/archive': { paths: ['/newsletter/archive'] },
  '/newsletter/archive/:id': {
    paths: async ({ database }) =>
      (
        await database.query<{ id: string }>(
          `SELECT id FROM newsletter_issues WHERE state = 'sent' ORDER BY sent_at LIMIT 2`,
        )
      ).map((r) => `/newsletter/archive/${r.id}`),
  },
  '/admin/newsletter': { paths: ['/admin/newsletter'], as: 'editor' },
  '/admin/search': { paths: ['/admin/search'], as: 'editor' },
  '/admin/newsletter/issues/new': { paths: ['/admin/newsletter/issues/new'], as: 'editor' },
  '/admin/newsletter/issues/:id': {
    paths: async (ctx) => [`/admin/newsletter/issues/${await newsletterDraft(ctx)}`],
    as: 'editor',
  },
  '/admin/newsletter/issues/:id/edit': {
    paths: async (ctx) => [`/admin/newsletter/issues/${await newsletterDraft(ctx)}/edit`],
    as: 'editor',
  },
  '/admin/newsletter/subscribers': {
    paths: ['/admin/newsletter/subscribers', '/admin/newsletter/subscribers?state=pending'],
    as: 'editor',
  },
  '/admin/newsletter/import': { paths: ['/admin/newsletter/import'], as: 'editor' },
  '/admin/newsletter/suppressions': { paths: ['/admin/newsletter/suppressions'], as: 'editor' },

  // Resources
  '/resources': {
    paths: [
      '/resources',
      '/resources?q=contact&type=briefing&type=evidence_review&sort=newest',
      '/resources?topic=maintaining-links&parents=yes&language=cy',
      '/resources?q=nothing-will-match-this',
    ],
  },
  '/resources/:slug': {
    paths: [
      '/resources/keeping-in-touch-key-messages',
      '/resources/farewell-contact-sessions-video',
      '/resources/canllaw-cyswllt-rhieni',
      '/resources/parents-voices-podcast',
    ],
  },
  '/resources/submit': { paths: ['/resources/submit'], as: 'member' },
  '/resources/submit/done': { paths: ['/resources/submit/done'], as: 'member' },
  '/topics': { paths: ['/topics'] },
  '/topics/:slug': { paths: ['/topics/maintaining-links', '/topics/fathers'] },
  '/admin/resources': {
    paths: ['/admin/resources', '/admin/resources?status=published'],
    as: 'editor',
  },
  '/admin/resources/new': { paths: ['/admin/resources/new'], as: 'editor' },
  '/admin/resources/:id': {
    paths: async ({ database }) => {
      const [row] = await database.query<{ id: string }>(
        `SELECT id FROM resources WHERE slug = 'keeping-in-touch-key-messages'`,
      );
      return [`/admin/resources/${row!.id}`];
    },
    as: 'editor',
  },
  '/admin/topics': { paths: ['/admin/topics'], as: 'editor' },
  '/admin/topics/:slug': { paths: ['/admin/topics/maintaining-links'], as: 'editor' },

  // Guidelines and local action plans (the demo plans' lead is member@example.org)
  '/guidelines': { paths: ['/guidelines'] },
  '/guidelines/:slug': {
    paths: [
      '/guidelines/demo-born-into-care-illustrative',
      '/guidelines/demo-born-into-care-illustrative?level=frontline&lens=fathers',
    ],
  },
  '/guidelines/:slug/:ref': { paths: ['/guidelines/demo-born-into-care-illustrative/1.1'] },
  '/guidelines/:slug/:ref/edit': {
    paths: ['/guidelines/demo-born-into-care-illustrative/1.2/edit'],
    as: 'editor',
  },
  '/guidelines/:slug/parents/:stage': {
    paths: ['/guidelines/demo-born-into-care-illustrative/parents/pre-birth'],
  },
  '/guidelines/:slug/changes': { paths: ['/guidelines/demo-born-into-care-illustrative/changes'] },
  '/guidelines/:slug/progress': {
    paths: ['/guidelines/demo-born-into-care-illustrative/progress'],
  },
  '/guidelines/:slug/feedback': {
    paths: ['/guidelines/demo-born-into-care-illustrative/feedback'],
    as: 'editor',
  },
  '/plans': { paths: ['/plans'], as: 'member' },
  '/plans/invitations/:token': {
    paths: async (ctx) => {
      const id = await demoPlan(ctx);
      const lead = await actor(ctx, 'member@example.org');
      const token = await ctx.app.services.plans.invite({ ...lead, role: 'member' }, id, {
        email: 'a11y-invitee@example.org',
        role: 'contributor',
        locale: 'en',
      });
      return [`/plans/invitations/${token}`];
    },
    as: 'member',
  },
  '/plans/:id': { paths: async (ctx) => [`/plans/${await demoPlan(ctx)}`], as: 'member' },
  '/plans/:id/statements/:ref': {
    paths: async (ctx) => [`/plans/${await demoPlan(ctx)}/statements/1.1`],
    as: 'member',
  },
  '/plans/:id/actions/new': {
    paths: async (ctx) => [`/plans/${await demoPlan(ctx)}/actions/new`],
    as: 'member',
  },
  '/plans/:id/actions/:actionId': {
    paths: async (ctx) => {
      const id = await demoPlan(ctx);
      const [row] = await ctx.database.query<{ id: string }>(
        'SELECT id FROM plan_actions WHERE plan_id = $1 ORDER BY title LIMIT 1',
        [id],
      );
      return [`/plans/${id}/actions/${row!.id}`];
    },
    as: 'member',
  },
  '/plans/:id/members': {
    paths: async (ctx) => [`/plans/${await demoPlan(ctx)}/members`],
    as: 'member',
  },
  '/plans/:id/compare': {
    paths: async (ctx) => [`/plans/${await demoPlan(ctx)}/compare`],
    as: 'member',
  },
  '/plans/:id/progress': {
    paths: async (ctx) => [`/plans/${await demoPlan(ctx)}/progress`],
    as: 'member',
  },
  '/plans/:id/report': {
    paths: async (ctx) => [`/plans/${await demoPlan(ctx)}/report`],
    as: 'member',
  },
  // News and practice stories
  '/search': {
    paths: [
      '/search',
      '/search?q=contact',
      '/search?q=contact&kind=resource&date=year',
      '/search?q=LS1+4AP',
      '/search?q=zzqqxx',
    ],
  },
  '/news': { paths: ['/news', '/news?topic=commissioning&region=Wales'] },
  '/stories': {
    paths: [
      '/stories',
      '/stories?series=seeding-change&region=North%20East',
      '/stories?topic=nothing',
    ],
  },
  '/series/:slug': { paths: ['/series/seeding-change'] },
  '/news/:slug': {
    paths: ['/news/national-overview-of-services-launched-demo', '/news/practice-week-demo'],
    as: 'member',
  },
  '/stories/:slug': {
    paths: [
      '/stories/bringing-children-home-in-coventry-demo',
      '/stories/pre-birth-work-in-county-durham-demo',
    ],
  },
  '/articles/comments/:id/report': {
    paths: async ({ database }) => {
      const [row] = await database.query<{ id: string }>(
        `SELECT id FROM article_comments WHERE status = 'visible' AND body LIKE 'Seeing the gaps%'`,
      );
      return [`/articles/comments/${row!.id}/report`];
    },
    as: 'member',
  },
  '/stories/propose': { paths: ['/stories/propose'], as: 'member' },
  '/stories/propose/done': { paths: ['/stories/propose/done'], as: 'member' },
  '/admin/articles': {
    paths: ['/admin/articles', '/admin/articles?status=submitted'],
    as: 'editor',
  },
  '/admin/articles/new': {
    paths: ['/admin/articles/new?kind=news', '/admin/articles/new?kind=story'],
    as: 'editor',
  },
  '/admin/articles/:id': {
    paths: async ({ database }) => {
      const rows = await database.query<{ id: string }>(
        `SELECT id FROM articles WHERE slug IN ('practice-week-demo', 'peer-mentors-in-cardiff-demo') ORDER BY slug`,
      );
      return rows.map((r) => `/admin/articles/${r.id}`);
    },
    as: 'editor',
  },
  '/admin/articles/comments': { paths: ['/admin/articles/comments'], as: 'moderator' },
  '/admin/articles/settings': { paths: ['/admin/articles/settings'], as: 'admin' },

  // Admin
  '/admin': { paths: ['/admin'], as: 'admin' },
  '/admin/users': { paths: ['/admin/users', '/admin/users?approval=pending'], as: 'admin' },
  '/admin/users/:id': {
    paths: async (ctx) => [
      `/admin/users/${await userId(ctx, 'pending@example.org')}`,
      `/admin/users/${await userId(ctx, 'member@example.org')}`,
    ],
    as: 'admin',
  },
  '/admin/audit': { paths: ['/admin/audit'], as: 'admin' },
  '/admin/settings': { paths: ['/admin/settings'], as: 'admin' },
  '/admin/mail': { paths: ['/admin/mail'], as: 'admin' },
  '/admin/mail/:file': {
    paths: async ({ app }) => {
      const { listOutbox } = await import('../../src/platform/mail.ts');
      const [first] = await listOutbox(app.platform.mailer.outbox!);
      return [`/admin/mail/${first!.file}`];
    },
    as: 'admin',
  },
};

/** Pages that are not routes of their own but must be accessible too. */
export const extraPages: { path: string; status: number; as?: VisitAs }[] = [
  { path: '/this-page-does-not-exist', status: 404 },
  { path: '/account/password/reset/expired-or-unknown-token-0000', status: 404 },
  { path: '/bookings/not-a-real-booking-token-000000000', status: 404 },
  { path: '/admin', status: 403, as: 'member' },
  { path: '/plans/00000000-0000-4000-8000-000000000000', status: 404, as: 'member' },
];
