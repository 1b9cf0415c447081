import type { Seeder } from '../../platform/seed.ts';
import { renderMarkdown } from '../../platform/rich-text.ts';
import type { ArticlesRepository, NewArticle } from './repository.ts';
import type { ArticleAuthor } from './schema.ts';
import { type ArticlesService, renderBody } from './service.ts';

/**
 * Demo news and practice stories, all invented and marked as demo: a news
 * item on the national overview, a "Practice week" post linking four stories
 * in different regions of England and Wales (a "Seeding change" series),
 * one story featuring a parent (consent recorded, review date set), a
 * scheduled item, a member's proposal waiting for an editor, and comments:
 * a thread with replies, one held for a moderator and one reported.
 */

interface DemoPeople {
  idByEmail(email: string): Promise<string | undefined>;
}

const DEMO_NOTE =
  '*This is demonstration content: the people, services and events in it are invented.*';

const team: ArticleAuthor[] = [{ name: 'Demo Editorial Team', role: 'Supporting Parents (demo)' }];

interface DemoStory {
  slug: string;
  title: string;
  standfirst: string;
  body: string;
  authority: string;
  daysAgo: number;
  topics: string[];
  parent?: boolean;
  language?: 'en' | 'cy';
  /** Statements of the demo guideline the story shows (kept only if the guideline has them). */
  statements: string[];
}

/** The demo guideline (loaded by the guidelines feature's demo content). */
const GUIDELINE = 'demo-born-into-care-illustrative';

const STORIES: DemoStory[] = [
  {
    slug: 'pre-birth-work-in-county-durham-demo',
    statements: [`${GUIDELINE}/1.1`, `${GUIDELINE}/1.2`, `${GUIDELINE}/2.1`],
    title: 'Starting early: pre-birth work in County Durham (demo)',
    standfirst:
      'An invented pre-birth team shows how meeting parents months before a birth changes what happens on the day.',
    authority: 'County Durham',
    daysAgo: 12,
    topics: ['pre-birth', 'trauma-informed'],
    body: `The demo pre-birth team meets expectant parents as early as the twentieth week of pregnancy, when there is still time to plan together.

## What they do differently

- One named worker from the first meeting to the first review after the birth.
- A written birth plan that the parent helped to write, shared with the midwives.
- Time set aside after every court hearing to talk through what was said.

> "The plan was mine as much as theirs." — an invented quote from a demo parent

![A hand-drawn timeline on a whiteboard, from twenty weeks to birth](/articles/images/timeline.svg "The team's planning timeline (demo picture)")

${DEMO_NOTE}`,
  },
  {
    slug: 'bringing-children-home-in-coventry-demo',
    statements: [`${GUIDELINE}/3.3`],
    title: 'Bringing children home: reunification in Coventry (demo)',
    standfirst:
      'A demo reunification team describes the small, steady steps that help children return to live with their families.',
    authority: 'Coventry',
    daysAgo: 11,
    topics: ['maintaining-links'],
    parent: true,
    body: `Returning home is rarely a single day. In this invented example, the team plans visits that grow longer week by week, with the parent choosing where and when.

## A parent's view

A demo parent, who agreed to be part of this story, describes the first overnight stay as "the night I finally slept".

## What helped

1. Contact that kept to the same day and time each week.
2. A worker who explained every letter from the court in plain words.
3. Peer support from another parent who had been through it.

${DEMO_NOTE}`,
  },
  {
    slug: 'fewer-babies-into-care-in-newport-demo',
    statements: [`${GUIDELINE}/1.1`],
    title: 'Working together to keep babies safely at home in Newport (demo)',
    standfirst:
      'An invented partnership between a charity and a council in South Wales shows what joint working before birth can do.',
    authority: 'Newport',
    daysAgo: 10,
    topics: ['pre-birth', 'commissioning'],
    body: `In this demonstration story a charity and a council share one referral route, one set of meetings and one plan with each family.

## Shared ways of working

- Joint visits in the last three months of pregnancy.
- Welsh-language support offered from the first contact.
- A monthly case review that includes the parent's own advocate.

${DEMO_NOTE}`,
  },
  {
    slug: 'inside-a-family-drug-and-alcohol-court-manchester-demo',
    statements: [`${GUIDELINE}/2.5`],
    title: 'Inside a family drug and alcohol court in Manchester (demo)',
    standfirst:
      'Observing an invented FDAC hearing: judges, parents and a specialist team working side by side.',
    authority: 'Manchester',
    daysAgo: 9,
    topics: ['family-court', 'lived-experience'],
    body: `The same judge sees the family every fortnight. In this demo account the hearings are short, direct and hopeful, and the parent speaks for themselves.

## What observers noticed

- Parents and professionals spoke to each other as equals.
- Good news was said out loud in court, not only the problems.
- The specialist team met the parent straight after each hearing.

${DEMO_NOTE}`,
  },
];

export function articlesSeeder(
  repo: ArticlesRepository,
  articles: ArticlesService,
  people: DemoPeople,
): Seeder {
  return {
    name: 'articles',
    async seed() {
      const places = await articles.authorities();
      const gss = (name: string) => places.find((p) => p.name === name)?.gssCode;
      const region = (code: string | undefined) =>
        places.find((p) => p.gssCode === code)?.regionName;
      const series = await repo.upsertSeries({
        slug: 'seeding-change',
        name: 'Seeding change (demo)',
        nameCy: 'Hau newid (enghraifft)',
        description:
          'Invented stories of inspiring practice with parents, collected on visits across England and Wales. Demonstration content.',
        descriptionCy:
          'Straeon dychmygol am ymarfer ysbrydoledig gyda rhieni, a gasglwyd ar ymweliadau ledled Cymru a Lloegr. Cynnwys enghreifftiol.',
        isDemo: true,
      });
      const editor = await people.idByEmail('editor@example.org');
      const now = Date.now();
      const day = 86400_000;

      async function put(values: Omit<NewArticle, 'bodyHtml'>) {
        const existing = await repo.bySlug(values.kind, values.slug);
        if (existing) return existing;
        return repo.insert({
          ...values,
          bodyHtml: renderBody(values.body ?? ''),
          isDemo: true,
          updatedAt: values.publishAt ?? new Date(),
        });
      }

      const stories = [];
      for (const s of STORIES) {
        const code = gss(s.authority);
        const services = code ? await articles.servicesIn(code) : [];
        stories.push(
          await put({
            kind: 'story',
            slug: s.slug,
            title: s.title,
            standfirst: s.standfirst,
            body: s.body,
            language: s.language ?? 'en',
            status: 'published',
            publishAt: new Date(now - s.daysAgo * day),
            authors: team,
            topics: s.topics,
            seriesId: series.id,
            authorities: code ? [code] : [],
            regions: code && region(code) ? [region(code)!] : [],
            services: services.slice(0, 2),
            statements: await articles.knownStatements(s.statements),
            featuresParent: !!s.parent,
            consentRecordedOn: s.parent
              ? new Date(now - 40 * day).toISOString().slice(0, 10)
              : null,
            consentReviewOn: s.parent ? new Date(now + 325 * day).toISOString().slice(0, 10) : null,
            createdBy: editor ?? null,
          }),
        );
      }

      const links = stories.map((s) => `- [${s.title}](/stories/${s.slug})`).join('\n');
      await put({
        kind: 'news',
        slug: 'practice-week-demo',
        title: 'Practice week: four visits, four stories (demo)',
        standfirst:
          'Our invented practice week took the team from County Durham to Newport. Here is what we saw, in four stories for the Seeding change series.',
        body: `Every year the (demo) team spends a week away from desks, meeting practitioners and parents where the work happens. This year we visited four places in England and Wales.

## The stories

${links}

## What we are taking away

Conversations matter more than reports. Each visit left us with questions to follow up, and with new people to learn from.

${DEMO_NOTE}`,
        language: 'en',
        status: 'published',
        publishAt: new Date(now - 8 * day),
        authors: [
          { name: 'Demo Director', role: 'Director, Demo Family Justice Observatory' },
          { name: 'Demo Communications Lead', role: 'Communications (demo)' },
        ],
        topics: ['commissioning'],
        seriesId: series.id,
        leadImageUrl: '/articles/images/visits.svg',
        leadImageAlt: 'A simple outline map of England and Wales with four places marked in red',
        leadImageCaption: 'The four places the team visited (demo picture)',
        authorities: stories.flatMap((s) => s.authorities),
        regions: [...new Set(stories.flatMap((s) => s.regions))],
        services: [],
        statements: [],
        createdBy: editor ?? null,
      });
      const overview = await put({
        kind: 'news',
        slug: 'national-overview-of-services-launched-demo',
        title: 'A live national overview of services for parents (demo)',
        standfirst:
          'For the first time, every children’s services authority in England and Wales is shown with the specialist services that cover it.',
        body: `The [national overview](/services/coverage) lists all 175 authorities, shows where a service exists and where there is a gap, and can be downloaded as a spreadsheet.

## Why it matters

Commissioners, practitioners and researchers asked for one shared picture. The numbers on the page are live: when a service updates its entry, the overview changes.

## How to help

If your service is missing, [suggest it](/services/suggest). Moderators check every suggestion.

${DEMO_NOTE}`,
        language: 'en',
        status: 'published',
        publishAt: new Date(now - 3 * day),
        authors: team,
        topics: ['commissioning'],
        authorities: [],
        regions: [],
        services: [],
        statements: [],
        createdBy: editor ?? null,
      });
      await put({
        kind: 'news',
        slug: 'coming-soon-guidelines-webinar-demo',
        title: 'Coming soon: a webinar on the draft guidelines (demo)',
        standfirst: 'Scheduled to appear next week: an invented webinar announcement.',
        body: `Details of the (demo) webinar will follow.\n\n${DEMO_NOTE}`,
        language: 'en',
        status: 'scheduled',
        publishAt: new Date(now + 7 * day),
        authors: team,
        topics: [],
        authorities: [],
        regions: [],
        services: [],
        statements: [],
        createdBy: editor ?? null,
      });
      const member = await people.idByEmail('member@example.org');
      const parent = await people.idByEmail('parent@example.org');
      const moderator = await people.idByEmail('moderator@example.org');
      await put({
        kind: 'story',
        slug: 'peer-mentors-in-cardiff-demo',
        title: 'Peer mentors in Cardiff (demo proposal)',
        standfirst: 'A member’s proposed story, waiting for an editor.',
        body: `An invented peer mentoring group meets weekly.\n\n${DEMO_NOTE}`,
        language: 'en',
        status: 'submitted',
        authors: [{ name: 'Demo Practitioner', role: 'Practitioner (demo)' }],
        topics: ['lived-experience'],
        authorities: gss('Cardiff') ? [gss('Cardiff')!] : [],
        regions: ['Wales'],
        services: [],
        statements: [],
        submittedBy: member ?? null,
      });

      // Comments on the overview news item (only once).
      if (overview.commentCount > 0 || !member || !parent || !moderator) return;
      const existing = await repo.comments(overview.id, undefined, true);
      if (existing.length) return;
      const at = (h: number) => new Date(now - 3 * day + h * 3600_000);
      const add = async (
        authorId: string,
        body: string,
        h: number,
        extra: {
          parentId?: string;
          anonymous?: boolean;
          background?: 'parent' | 'practitioner' | 'researcher';
          status?: 'visible' | 'held';
          heldReason?: 'first' | 'links';
        } = {},
      ) =>
        repo.insertComment({
          articleId: overview.id,
          authorId,
          body,
          bodyHtml: renderMarkdown(body, { ugc: true }),
          parentId: extra.parentId ?? null,
          anonymous: extra.anonymous ?? false,
          background: extra.background ?? null,
          status: extra.status ?? 'visible',
          heldReason: extra.heldReason ?? null,
          createdAt: at(h),
        });
      const first = await add(
        member,
        'Really useful. How can I share the overview with colleagues who do not have an account? (demo comment)',
        2,
        { background: 'practitioner' },
      );
      await add(
        editor ?? moderator,
        'Anyone can open the overview: no account is needed. The link at the top of this article works for everyone. (demo reply)',
        3,
        { parentId: first.id },
      );
      const second = await add(
        parent,
        'Seeing the gaps on a map makes it real. Our area has nothing yet. (demo comment)',
        5,
        { anonymous: true, background: 'parent' },
      );
      await add(
        member,
        'Thank you for saying this. Are you a parent with experience, a professional, or both? We are gathering views for a local plan. (demo reply)',
        6,
        { parentId: second.id, background: 'practitioner' },
      );
      await add(
        member,
        'I tried to book the launch webinar but the form kept timing out. Is there another way? (demo comment)',
        9,
      );
      const promo = await add(
        parent,
        'Visit www.example.org/demo-offer for cheap training courses!!! (demo: a promotional comment that was reported)',
        12,
      );
      await repo.report(promo.id, member, 'Advertising, not about the article (demo report)');
      await add(
        parent,
        'I would like to add our local group to the map, who do I talk to? (demo comment waiting for a moderator)',
        20,
        { status: 'held', heldReason: 'first' },
      );
    },
  };
}
