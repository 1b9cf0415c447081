import { createHash, randomBytes } from 'node:crypto';
import type { Seeder } from '../../platform/seed.ts';
import type { EventsRepository, NewEvent } from './repository.ts';

/** Demo events, dated from the day of seeding so that upcoming ones stay upcoming. */

const DAY = 24 * 3600_000;
/** A day `days` from now at hh:mm London time (BST or GMT handled by building from UTC and correcting). */
function at(days: number, hh: number, mm = 0): Date {
  const d = new Date(Date.now() + days * DAY);
  const ymd = d.toISOString().slice(0, 10);
  const guess = new Date(
    `${ymd}T${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}:00Z`,
  );
  const londonHour = Number(
    new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/London',
      hour: 'numeric',
      hour12: false,
    }).format(guess),
  );
  return new Date(guess.getTime() - (londonHour - hh) * 3600_000);
}

const ORGANISER = {
  organiserName: 'Supporting Parents events team (demo)',
  organiserEmail: 'events@example.org',
};

interface DemoEvent {
  event: Omit<NewEvent, 'id'>;
  agenda: { time: string; title: string; speakers?: string }[];
  speakers: { name: string; role?: string; bio?: string }[];
  taken?: number;
}

function demoEvents(): DemoEvent[] {
  return [
    {
      event: {
        slug: 'demo-seminar-recurrent-care-proceedings',
        title: 'Online seminar and panel: what helps after a child is removed (demo)',
        summary:
          'An online seminar on new findings about mothers and fathers in recurrent care proceedings, followed by a panel with practitioners and a parent with lived experience.',
        body: 'This demonstration seminar brings together findings from recent studies of parents who return to the family court, and what local services have learned from working with them.\n\nThe panel will answer questions sent in advance and from the chat. The session will be recorded and the recording added to the resource repository.',
        startsAt: at(21, 13),
        endsAt: at(21, 14, 30),
        mode: 'online',
        joiningLink: 'https://meet.example.org/demo-seminar-join',
        audience: 'Practitioners, managers, researchers and parents',
        capacity: 300,
        maxPerBooking: 4,
        status: 'published',
        isDemo: true,
        ...ORGANISER,
      },
      agenda: [
        { time: '1pm', title: 'Welcome and introductions', speakers: 'Chair (demo)' },
        {
          time: '1:10pm',
          title: 'What the evidence tells us about recurrent care proceedings',
          speakers: 'Demo researcher',
        },
        {
          time: '1:40pm',
          title: 'Panel: what helps, and what gets in the way',
          speakers: 'Practitioners and a parent with lived experience (demo)',
        },
        { time: '2:20pm', title: 'Questions and close' },
      ],
      speakers: [
        {
          name: 'Dr A. Example (demo)',
          role: 'Researcher',
          bio: 'Studies family justice and the support offered to parents after proceedings. A demonstration speaker.',
        },
        {
          name: 'Sam Example (demo)',
          role: 'Practice lead, a local service',
          bio: 'Leads a team working with parents after removal. A demonstration speaker.',
        },
        {
          name: 'A parent with lived experience (demo)',
          role: 'Panel member',
          bio: 'Shares what made a difference. A demonstration speaker.',
        },
      ],
    },
    {
      event: {
        slug: 'demo-birmingham-launch-born-into-care',
        title:
          'Launch in Birmingham: practice guidelines for when babies are removed at birth (demo)',
        summary:
          'An in-person launch with workshops and a panel on decision-making at birth. Nearly full.',
        body: 'A demonstration launch event with three workshops in the afternoon: pre-birth assessment, hospital practice, and keeping links between parents and babies.\n\nLunch is provided. Tell us about dietary and access needs when you book.',
        startsAt: at(45, 10),
        endsAt: at(45, 16),
        mode: 'in_person',
        venueName: 'Demo Conference Centre',
        venueAddress: '1 Example Street, Birmingham (demo address)',
        audience: 'Midwives, social workers, managers and parents',
        capacity: 60,
        maxPerBooking: 6,
        status: 'published',
        isDemo: true,
        ...ORGANISER,
      },
      agenda: [
        { time: '10am', title: 'Arrival and coffee' },
        { time: '10:30am', title: 'Launch of the guidelines', speakers: 'Demo speakers' },
        {
          time: '11:30am',
          title: 'Panel: making decisions at birth',
          speakers: 'A judge, a midwife, a social worker and a parent (demo)',
        },
        { time: '12:30pm', title: 'Lunch' },
        { time: '1:30pm', title: 'Workshops (choose one on the day)' },
        { time: '3:30pm', title: 'What happens next, and close' },
      ],
      speakers: [{ name: 'Demo Chair', role: 'Chair of the panel' }],
      taken: 57,
    },
    {
      event: {
        slug: 'demo-webinar-farewell-contact',
        title: 'Webinar: farewell contact and keeping links (demo, past event)',
        summary:
          'A past webinar on farewell contact sessions and keeping links between parents and children. The recording and slides are available.',
        body: 'This demonstration webinar took place earlier this year.',
        startsAt: at(-60, 11),
        endsAt: at(-60, 12),
        mode: 'online',
        audience: 'Practitioners',
        capacity: 200,
        status: 'published',
        recordingUrl: '/resources/farewell-contact-sessions-video',
        slidesUrl: '/resources/farewell-contact-webinar-slides',
        isDemo: true,
        ...ORGANISER,
      },
      agenda: [],
      speakers: [],
    },
    {
      event: {
        slug: 'demo-wales-learning-set',
        title: 'Learning set for services in Wales (demo)',
        summary:
          'A quarterly learning set for teams in Wales working with parents after removal. English and Welsh spoken.',
        body: 'A small, practical session to share cases (anonymised) and ideas. Set ym mhob iaith: speak English or Welsh.',
        startsAt: at(30, 10),
        endsAt: at(30, 12),
        mode: 'hybrid',
        venueName: 'Demo hub',
        venueAddress: 'Example Road, Cardiff (demo address)',
        joiningLink: 'https://meet.example.org/demo-wales-learning-set',
        audience: 'Services in Wales',
        capacity: 25,
        maxPerBooking: 3,
        status: 'published',
        isDemo: true,
        ...ORGANISER,
      },
      agenda: [
        { time: '10am', title: 'Round the room' },
        { time: '10:30am', title: 'Case discussion' },
        { time: '11:30am', title: 'Plans for the next quarter' },
      ],
      speakers: [],
    },
  ];
}

export function eventsSeeder(repo: EventsRepository): Seeder {
  return {
    name: 'events',
    async seed({ database }) {
      for (const demo of demoEvents()) {
        const existing = await repo.eventBySlug(demo.event.slug);
        if (existing) continue; // idempotent: seeded once, then the data is the site's
        await database.transaction(async (tx) => {
          const r = repo.in(tx);
          const event = await r.upsertEvent(demo.event);
          await r.replaceProgramme(event.id, demo.agenda, demo.speakers);
          // Demo places: confirmed bookings written straight in (no emails).
          const taken = demo.taken ?? 0;
          for (let b = 0, left = taken; left > 0; b++, left -= 6) {
            const n = Math.min(6, left);
            await r.insertBooking(
              event.id,
              {
                tokenHash: createHash('sha256').update(randomBytes(16)).digest('hex'),
                bookerName: `Demo booker ${b + 1}`,
                bookerEmail: `demo-booker-${b + 1}@example.org`,
                locale: 'en',
              },
              Array.from({ length: n }, (_v, i) => ({
                name: `Demo attendee ${b * 6 + i + 1}`,
                status: 'confirmed' as const,
              })),
            );
          }
          if (taken > 0) await r.setPlacesTaken(event.id, taken);
        });
      }
    },
  };
}
