import type { Seeder } from '../../platform/seed.ts';
import { renderMarkdown } from '../../platform/rich-text.ts';
import type { NotificationsRepository } from './notifications-repository.ts';
import type { CommunityRepository } from './repository.ts';

/**
 * Demo community: four spaces (two themed, one regional, one private
 * parents' group), 30 invented threads with replies, all marked demo. The
 * people are the demo accounts; nothing here is about real people.
 */

const SPACES = [
  {
    slug: 'reproductive-and-sexual-health',
    name: 'Reproductive and sexual health (demo)',
    nameCy: 'Iechyd atgenhedlol a rhywiol (enghraifft)',
    description:
      'Sharing practice on contraception, pregnancy and sexual health support with parents after a removal.',
    descriptionCy:
      'Rhannu arfer ar atal cenhedlu, beichiogrwydd a chymorth iechyd rhywiol gyda rhieni ar ôl i blentyn gael ei dynnu.',
    kind: 'themed' as const,
  },
  {
    slug: 'contact-and-keeping-links',
    name: 'Contact and keeping links (demo)',
    nameCy: 'Cyswllt a chadw cysylltiadau (enghraifft)',
    description:
      'Letterbox contact, farewell contact, life story work: what helps parents and children keep links.',
    descriptionCy:
      'Cyswllt blwch llythyrau, cyswllt ffarwelio, gwaith stori bywyd: beth sy’n helpu rhieni a phlant i gadw cysylltiadau.',
    kind: 'themed' as const,
    publicRead: true,
  },
  {
    slug: 'wales-network',
    name: 'Wales network (demo)',
    nameCy: 'Rhwydwaith Cymru (enghraifft)',
    description: 'For practitioners and services across Wales. Post in Welsh or English.',
    descriptionCy:
      'Ar gyfer ymarferwyr a gwasanaethau ledled Cymru. Postiwch yn Gymraeg neu’n Saesneg.',
    kind: 'regional' as const,
  },
  {
    slug: 'parents-panel',
    name: 'Parents’ panel (demo)',
    nameCy: 'Panel rhieni (enghraifft)',
    description:
      'A private group for parents with lived experience who advise the platform. Members may post as “A parent”.',
    descriptionCy:
      'Grŵp preifat i rieni â phrofiad bywyd sy’n cynghori’r platfform. Gall aelodau bostio fel “Rhiant”.',
    kind: 'group' as const,
    visibility: 'group' as const,
    allowAnonymous: true,
  },
];

const TOPICS: Record<string, string[]> = {
  'reproductive-and-sexual-health': [
    'Long-acting contraception: how do you raise it without pressure?',
    'Working with GP practices on quick appointments',
    'Supporting a parent through an early pregnancy test',
    'Sexual health clinics that come to the group',
    'Consent and choice: our team’s guidance (draft)',
    'Training for new practitioners on reproductive health',
    'Pregnancy after a removal: pre-birth assessments',
    'What parents told us about our leaflets',
  ],
  'contact-and-keeping-links': [
    'Letterbox contact: helping parents write the first letter',
    'Farewell contact: what went well for you?',
    'Life story books and the parent’s voice',
    'Keeping links when a child is adopted far away',
    'Photographs and memory boxes',
    'Contact centres that feel less like an office',
    'Supporting fathers with letterbox contact',
    'When a letter goes unanswered',
  ],
  'wales-network': [
    'Cyfarfod rhwydwaith nesaf / Next network meeting',
    'Services across the valleys: who is doing what?',
    'Welsh-language resources for parents',
    'Funding bids in Wales this year',
    'Rural outreach: travel costs and time',
    'Cydweithio â byrddau iechyd / Working with health boards',
    'Learning from the Reflect model',
  ],
  'parents-panel': [
    'What should the site say on its first page?',
    'Words that hurt, words that help',
    'Reviewing the new leaflet',
    'Feeling ready to talk about it',
    'What helped me most in the first year',
    'Questions for the next advisory meeting',
    'How we want to be asked for feedback',
  ],
};

const REPLIES = [
  'Thanks for starting this. In our team we found that asking **what matters to the parent first** changed the conversation.',
  'We tried something similar last year. It worked best when the same worker stayed with the parent throughout.',
  'Agree with the above. One thing to add: give people time, and say more than once that it is their choice.',
  'Has anyone got a short guide they could share? Happy to send ours (it is on the resources page).',
  'This is really useful, thank you. We will bring it to our next team meeting.',
];

export function communitySeeder(
  repo: CommunityRepository,
  people: { idByEmail(email: string): Promise<string | undefined> },
): Seeder {
  return {
    name: 'community',
    async seed({ scale }) {
      const ids = {
        member: await people.idByEmail('member@example.org'),
        parent: await people.idByEmail('parent@example.org'),
        moderator: await people.idByEmail('moderator@example.org'),
        editor: await people.idByEmail('editor@example.org'),
      };
      const authors = [ids.member, ids.moderator, ids.editor, ids.parent].filter((x): x is string =>
        Boolean(x),
      );
      for (const [i, s] of SPACES.entries()) {
        const existing = await repo.spaceBySlug(s.slug);
        const space = await repo.upsertSpace({ ...s, position: i, isDemo: true });
        if (s.slug === 'parents-panel') {
          if (ids.parent) await repo.setMembership(space.id, ids.parent, { status: 'member' });
          if (ids.moderator)
            await repo.setMembership(space.id, ids.moderator, {
              status: 'member',
              role: 'moderator',
            });
        }
        if (existing || !authors.length) continue; // threads once only
        // Only the group's members write in the parents' panel.
        const writers =
          s.slug === 'parents-panel'
            ? [ids.parent, ids.moderator].filter((x): x is string => Boolean(x))
            : authors;
        const now = Date.now();
        for (const [j, title] of (TOPICS[s.slug] ?? []).entries()) {
          const day = 86_400_000;
          const started = new Date(now - (60 - j * 7 - i) * day);
          const anonymous = s.slug === 'parents-panel' && j % 2 === 0;
          const author = anonymous ? ids.parent! : writers[(i + j) % writers.length]!;
          const body = `${title}\n\nThis is an invented thread for the demonstration. ${REPLIES[j % REPLIES.length]}`;
          const { thread } = await repo.createThread(
            {
              spaceId: space.id,
              title,
              authorId: author,
              anonymous,
              pinned: j === 0,
              isDemo: true,
              createdAt: started,
              lastPostAt: started,
            },
            {
              body,
              bodyHtml: renderMarkdown(body, { ugc: true }),
              status: 'visible',
              createdAt: started,
            },
          );
          for (let k = 0; k < 1 + ((i + j) % 4); k++) {
            const text = REPLIES[(j + k + 1) % REPLIES.length]!;
            const replyAnonymous = s.slug === 'parents-panel' && k % 2 === 1;
            await repo.reply({
              threadId: thread.id,
              authorId: replyAnonymous ? ids.parent! : writers[(j + k + 1) % writers.length]!,
              anonymous: replyAnonymous,
              body: text,
              bodyHtml: renderMarkdown(text, { ugc: true }),
              status: 'visible',
              createdAt: new Date(started.getTime() + (k + 1) * 3_600_000),
            });
          }
        }
      }
      if (scale === 'large' && authors.length) await repo.generateBulk(authors);
    },
  };
}

/**
 * Demo notifications: the demo member is told of the two newest replies in
 * demo threads they started (unread), so the notifications page and the
 * header's count have something to show. Once only.
 */
export function demoNotificationsSeeder(
  repo: CommunityRepository,
  notifications: NotificationsRepository,
  people: {
    idByEmail(email: string): Promise<string | undefined>;
    people(ids: readonly string[]): Promise<Map<string, { displayName: string }>>;
  },
): Seeder {
  return {
    name: 'community-notifications',
    async seed() {
      const member = await people.idByEmail('member@example.org');
      if (!member || (await notifications.hasAny(member))) return;
      const replies = await repo.demoRepliesTo(member, 2);
      const names = await people.people(replies.flatMap((r) => (r.actorId ? [r.actorId] : [])));
      await notifications.add(
        replies.map((r) => ({
          userId: member,
          kind: 'reply' as const,
          spaceId: r.spaceId,
          threadId: r.threadId,
          postId: r.postId,
          actorLabel: (r.actorId && names.get(r.actorId)?.displayName) ?? null,
          createdAt: r.at,
          // Already "emailed": a demo never sends mail for the past.
          emailedAt: r.at,
        })),
      );
    },
  };
}
