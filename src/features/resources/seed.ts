import { renderMarkdown } from '../../platform/rich-text.ts';
import type { Seeder } from '../../platform/seed.ts';
import type { Storage } from '../../platform/storage.ts';
import type { NewResource, ResourcesRepository } from './repository.ts';
import { type Audience, RESOURCE_TYPES, type ResourceType } from './schema.ts';

/**
 * Demo resources: invented titles, authors and organisations (all marked as
 * demo), small PDFs and a captions file made here, two arranged topic pages.
 * `--scale large` adds 100,000 generated resources for the benchmark.
 */

const TOPICS: [slug: string, name: string, nameCy: string][] = [
  [
    'maintaining-links',
    'Maintaining links between parents and children',
    'Cynnal cysylltiadau rhwng rhieni a phlant',
  ],
  ['reproductive-health', 'Reproductive and sexual health', 'Iechyd atgenhedlol a rhywiol'],
  ['pre-birth', 'Pre-birth assessment and support', 'Asesu a chymorth cyn geni'],
  ['trauma-informed', 'Trauma-informed practice', 'Ymarfer wedi’i lywio gan drawma'],
  ['family-court', 'Family court proceedings', 'Achosion y llys teulu'],
  ['fathers', 'Working with fathers', 'Gweithio gyda thadau'],
  ['lived-experience', 'Lived experience and peer support', 'Profiad bywyd a chymorth cymheiriaid'],
  ['commissioning', 'Commissioning and service design', 'Comisiynu a dylunio gwasanaethau'],
];

const ORGS = [
  'Demo Family Justice Research Centre',
  'Example Parents’ Panel (demo)',
  'Demo Recurrent Care Practice Network',
  'Example Children’s Services (demo)',
  'Demo Wales Practice Forum',
];

interface DemoResource {
  slug: string;
  title: string;
  summary: string;
  body?: string;
  type: ResourceType;
  topics: string[];
  audiences: Audience[];
  minutes?: number;
  date: string;
  org: number;
  authors?: string;
  byParents?: boolean;
  language?: 'en' | 'cy';
  link?: string;
  pdf?: boolean;
  captions?: boolean;
}

/** Hand-written demo resources, including those the topic pages arrange. */
const FEATURED: DemoResource[] = [
  {
    slug: 'keeping-in-touch-key-messages',
    title: 'Keeping in touch after removal: key messages for practitioners',
    summary:
      'A short briefing on what research says about good quality contact between parents and children who live apart from them.',
    body: 'This briefing draws together what practitioners told us and what studies have found.\n\n## Key messages\n\n* Contact that is planned with parents goes better for children.\n* Parents need practical help: travel, timing, what to bring.\n* Letterbox contact works best when someone helps parents write.\n\nIt is **demonstration content** for the Supporting Parents platform.',
    type: 'briefing',
    topics: ['maintaining-links'],
    audiences: ['practitioners', 'managers'],
    minutes: 8,
    date: '2024-03-12',
    org: 0,
    authors: 'A. Example; B. Sample',
    pdf: true,
  },
  {
    slug: 'contact-evidence-review',
    title: 'Contact and wellbeing of separated children: an evidence review',
    summary:
      'A review of studies on contact between children in care or adopted and their birth parents, and what it means for wellbeing.',
    type: 'evidence_review',
    topics: ['maintaining-links', 'family-court'],
    audiences: ['researchers', 'practitioners', 'legal'],
    minutes: 45,
    date: '2023-11-02',
    org: 0,
    authors: 'C. Demo',
    pdf: true,
  },
  {
    slug: 'digital-contact-rapid-review',
    title: 'Video calls and messages: a rapid review of digital contact',
    summary:
      'What is known about digital contact between children and birth relatives, and how agencies can support it safely.',
    type: 'evidence_review',
    topics: ['maintaining-links'],
    audiences: ['practitioners', 'researchers'],
    minutes: 30,
    date: '2023-06-20',
    org: 0,
    authors: 'D. Placeholder',
    pdf: true,
  },
  {
    slug: 'farewell-contact-sessions-video',
    title: 'Supporting mothers through farewell contact sessions',
    summary:
      'Two practitioners describe how they prepare mothers for a last contact session before adoption, and support them after it.',
    type: 'video',
    topics: ['maintaining-links', 'trauma-informed'],
    audiences: ['practitioners'],
    minutes: 20,
    date: '2024-01-18',
    org: 4,
    link: 'https://www.youtube.com/watch?v=demoVideo01',
    captions: true,
  },
  {
    // The slides of the demo past event "Webinar: farewell contact" (events' seed links here).
    slug: 'farewell-contact-webinar-slides',
    title: 'Farewell contact and keeping links: webinar slides',
    summary:
      'The slides from a demonstration webinar on farewell contact sessions and keeping links between parents and children.',
    type: 'slides',
    topics: ['maintaining-links'],
    audiences: ['practitioners'],
    minutes: 10,
    date: '2024-03-12',
    org: 4,
    pdf: true,
  },
  {
    slug: 'letterbox-contact-parents-guide',
    title: 'Writing letterbox letters: a guide made with parents',
    summary:
      'Parents who have written letterbox letters share what helped them, with prompts to start a letter.',
    type: 'guide',
    topics: ['maintaining-links', 'lived-experience'],
    audiences: ['parents', 'practitioners'],
    minutes: 10,
    date: '2024-05-07',
    org: 1,
    byParents: true,
    pdf: true,
  },
  {
    slug: 'contraception-conversations',
    title: 'Talking about contraception without judgement',
    summary:
      'How to offer contraception and sexual health support as a choice, not a condition, in work with parents after proceedings.',
    type: 'briefing',
    topics: ['reproductive-health', 'trauma-informed'],
    audiences: ['practitioners'],
    minutes: 12,
    date: '2024-02-28',
    org: 2,
    pdf: true,
  },
  {
    slug: 'reproductive-health-pathways',
    title: 'Reproductive health pathways for parents after care proceedings',
    summary:
      'A report on how local areas link parents with sexual and reproductive health services, with examples of referral pathways.',
    type: 'report',
    topics: ['reproductive-health', 'commissioning'],
    audiences: ['managers', 'practitioners'],
    minutes: 35,
    date: '2023-09-14',
    org: 3,
    pdf: true,
  },
  {
    slug: 'reproductive-health-slides',
    title: 'Reproductive and sexual health: seminar slides',
    summary:
      'Slides from an online seminar on sexual and reproductive health support for women who have had children removed.',
    type: 'slides',
    topics: ['reproductive-health'],
    audiences: ['practitioners'],
    minutes: 15,
    date: '2024-04-10',
    org: 2,
    pdf: true,
  },
  {
    slug: 'parents-voices-podcast',
    title: 'Parents’ voices: life after proceedings',
    summary:
      'Parents talk about what helped them after their children were removed, and what they wish professionals knew.',
    type: 'podcast',
    topics: ['lived-experience', 'reproductive-health'],
    audiences: ['practitioners', 'parents'],
    minutes: 24,
    date: '2024-06-03',
    org: 1,
    byParents: true,
    link: 'https://www.example.org/demo/podcast/parents-voices',
  },
  {
    slug: 'canllaw-cyswllt-rhieni',
    title: 'Cadw mewn cysylltiad: canllaw i rieni',
    summary: 'Canllaw byr i rieni am gadw mewn cysylltiad â’u plant sy’n byw gyda theulu arall.',
    type: 'guide',
    topics: ['maintaining-links'],
    audiences: ['parents'],
    minutes: 6,
    date: '2024-07-01',
    org: 4,
    language: 'cy',
    byParents: true,
    pdf: true,
  },
];

const TYPES: readonly ResourceType[] = RESOURCE_TYPES;
const SUBJECTS = [
  [
    'Pre-birth assessment',
    'pre-birth',
    'what good pre-birth assessment looks like when a parent has lost children before',
  ],
  [
    'Fathers and recurrent proceedings',
    'fathers',
    'including fathers in support after children are removed',
  ],
  [
    'Trauma and grief',
    'trauma-informed',
    'responding to grief and trauma after the removal of a child',
  ],
  [
    'Court and legal advice',
    'family-court',
    'helping parents understand and take part in family court proceedings',
  ],
  [
    'Peer mentoring',
    'lived-experience',
    'peer mentors with lived experience working alongside practitioners',
  ],
  [
    'Designing a local service',
    'commissioning',
    'setting up and funding a service for parents in a local area',
  ],
] as const;
const FORMS: Record<ResourceType, string> = {
  video: 'a recorded talk',
  slides: 'seminar slides',
  paper: 'a research paper',
  briefing: 'a practice briefing',
  evidence_review: 'an evidence review',
  guide: 'a practical guide',
  podcast: 'a podcast episode',
  tool: 'a planning tool',
  report: 'an evaluation report',
};
const AUDIENCE_SETS: Audience[][] = [
  ['practitioners'],
  ['practitioners', 'managers'],
  ['researchers'],
  ['legal', 'practitioners'],
  ['parents', 'practitioners'],
];

/** 30 more, generated from subjects and types so every facet has something in it. */
function generated(): DemoResource[] {
  const out: DemoResource[] = [];
  for (let i = 0; i < 30; i++) {
    const [subject, topic, about] = SUBJECTS[i % SUBJECTS.length]!;
    const type = TYPES[(i * 4 + 1) % TYPES.length]!;
    const minutes =
      type === 'video' || type === 'podcast'
        ? 15 + ((i * 7) % 50)
        : type === 'tool'
          ? undefined
          : 5 + ((i * 11) % 80);
    out.push({
      slug: `demo-${topic}-${type.replace('_', '-')}-${i + 1}`,
      title: `${subject}: ${FORMS[type]} (${i + 1})`,
      summary: `Demonstration ${FORMS[type]} on ${about}.`,
      body: `This is demonstration content. It stands in for ${FORMS[type]} on ${about}.`,
      type,
      topics: i % 3 === 0 ? [topic, 'maintaining-links'] : [topic],
      audiences: AUDIENCE_SETS[i % AUDIENCE_SETS.length]!,
      ...(minutes ? { minutes } : {}),
      date: `${2019 + (i % 6)}-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 27) + 1).padStart(2, '0')}`,
      org: i % ORGS.length,
      byParents: i % 7 === 2,
      ...(i % 10 === 4 ? { language: 'cy' as const } : {}),
      ...(type === 'video'
        ? { link: `https://vimeo.com/${100000 + i}` }
        : i % 2
          ? { link: `https://www.example.org/demo/resources/${i + 1}` }
          : { pdf: true }),
    });
  }
  return out;
}

async function demoPdf(title: string): Promise<Buffer> {
  const { PDFDocument, StandardFonts } = await import('pdf-lib'); // only when seeding
  const doc = await PDFDocument.create();
  doc.setTitle(title);
  doc.setCreator('Supporting Parents demo content');
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const page = doc.addPage([595, 842]);
  const ascii = title.replace(/[’‘]/g, "'").replace(/[^\x20-\x7e]/g, '');
  page.drawText(ascii.slice(0, 70), { x: 50, y: 780, size: 16, font });
  page.drawText('Demonstration content for the Supporting Parents platform.', {
    x: 50,
    y: 750,
    size: 11,
    font,
  });
  page.drawText('It is not a real publication.', { x: 50, y: 734, size: 11, font });
  return Buffer.from(await doc.save({ useObjectStreams: false }));
}

const CAPTIONS = `WEBVTT

00:00:00.000 --> 00:00:05.000
This is a demonstration captions file.

00:00:05.000 --> 00:00:10.000
The video it belongs to is not real.
`;

export function resourcesSeeder(repo: ResourcesRepository, storage: Storage): Seeder {
  return {
    name: 'resources',
    async seed({ scale }) {
      for (const [position, [slug, name, nameCy]] of TOPICS.entries())
        await repo.upsertTopic({ slug, name, nameCy, position, isDemo: true });
      for (const d of [...FEATURED, ...generated()]) {
        // The demo notice in the resource's own language.
        const body =
          d.body ??
          `${d.summary}\n\n${d.language === 'cy' ? 'Cynnwys enghreifftiol yw hwn.' : 'This is demonstration content.'}`;
        const values: NewResource = {
          slug: d.slug,
          title: d.title,
          summary: d.summary,
          body,
          bodyHtml: renderMarkdown(body),
          type: d.type,
          topics: d.topics,
          audiences: d.audiences,
          lengthMinutes: d.minutes ?? null,
          publishedOn: d.date,
          authors: d.authors ?? '',
          organisation: ORGS[d.org]!,
          licence: 'CC BY 4.0',
          byParents: d.byParents ?? false,
          language: d.language ?? 'en',
          externalUrl: d.link ?? null,
          status: 'published',
          isDemo: true,
          firstPublishedAt: new Date(`${d.date}T09:00:00Z`),
        };
        const row = await repo.upsert(values);
        const files = await repo.files(row.id);
        if (d.pdf && !files.some((f) => f.kind === 'main')) {
          const key = `resources/${row.id}/demo.pdf`;
          const { size } = await storage.put(key, await demoPdf(d.title));
          await repo.replaceDemoFile(row.id, {
            kind: 'main',
            storageKey: key,
            filename: `${d.slug}.pdf`,
            contentType: 'application/pdf',
            size,
          });
        }
        if (d.captions && !files.some((f) => f.kind === 'captions')) {
          const key = `resources/${row.id}/demo-captions.vtt`;
          const { size } = await storage.put(key, Buffer.from(CAPTIONS));
          await repo.replaceDemoFile(row.id, {
            kind: 'captions',
            storageKey: key,
            filename: `${d.slug}.vtt`,
            contentType: 'text/vtt',
            size,
          });
        }
      }
      const ids = new Map(
        (await repo.bySlugs(FEATURED.map((f) => f.slug))).map((r) => [r.slug, r.id]),
      );
      const links = await repo.topicBySlug('maintaining-links');
      if (links && !links.intro) {
        const intro =
          'People who work with parents after care proceedings find that helping parents keep good quality contact with their children is a central part of the work. Being a parent still matters to parents whose children live elsewhere.\n\nThis page brings together resources on contact, chosen by our editors. It is demonstration content.';
        await repo.saveTopicPage(links.id, { intro, introHtml: renderMarkdown(intro) }, [
          {
            heading: 'Start here',
            note: 'A short read before the longer reviews.',
            items: [
              {
                resourceId: ids.get('keeping-in-touch-key-messages')!,
                note: 'The key messages in eight minutes.',
              },
            ],
          },
          {
            heading: 'Evidence reviews',
            note: '',
            items: [
              {
                resourceId: ids.get('contact-evidence-review')!,
                note: 'What studies say about contact and children’s wellbeing.',
              },
              {
                resourceId: ids.get('digital-contact-rapid-review')!,
                note: 'Video calls and messages, and keeping them safe.',
              },
            ],
          },
          {
            heading: 'From practice',
            note: '',
            items: [
              {
                resourceId: ids.get('farewell-contact-sessions-video')!,
                note: 'How one service supports mothers through farewell contact.',
              },
              {
                resourceId: ids.get('letterbox-contact-parents-guide')!,
                note: 'Made with parents.',
              },
            ],
          },
        ]);
      }
      const health = await repo.topicBySlug('reproductive-health');
      if (health && !health.intro) {
        const intro =
          'Support with contraception and sexual and reproductive health, offered as a choice and alongside other help, is part of many services for parents. These resources are demonstration content.';
        await repo.saveTopicPage(health.id, { intro, introHtml: renderMarkdown(intro) }, [
          {
            heading: 'Practice',
            note: '',
            items: [
              { resourceId: ids.get('contraception-conversations')!, note: '' },
              { resourceId: ids.get('reproductive-health-slides')!, note: '' },
            ],
          },
          {
            heading: 'Services and pathways',
            note: '',
            items: [
              { resourceId: ids.get('reproductive-health-pathways')!, note: '' },
              { resourceId: ids.get('parents-voices-podcast')!, note: 'Parents on what helped.' },
            ],
          },
        ]);
      }
      if (scale === 'large')
        await repo.generateBulk(
          100_000,
          TOPICS.map((t) => t[0]),
        );
    },
  };
}
