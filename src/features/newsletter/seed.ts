import type { Seeder } from '../../platform/seed.ts';
import type { NewsletterRepository } from './repository.ts';

/** Demo: two newsletters already sent, in the archive (marked as demo; no subscribers). */
export function newsletterSeeder(repo: NewsletterRepository): Seeder {
  const demo = [
    {
      subject: 'Demo newsletter: a spring round-up (demo)',
      locale: 'en' as const,
      topics: ['resources', 'events'],
      sentAt: new Date('2026-03-02T09:00:00Z'),
      body: [
        'This is **demonstration content**: no real newsletter was sent.',
        '',
        '## New in the repository',
        '',
        'A demo guide to letterbox contact, and a demo recording of the Wales learning set. [Browse the resources](/resources).',
        '',
        '## Coming up',
        '',
        'Demo events for practitioners in England and Wales. [See the events](/events).',
      ].join('\n'),
    },
    {
      subject: 'Cylchlythyr enghreifftiol: y gwanwyn (demo)',
      locale: 'cy' as const,
      topics: ['resources', 'news'],
      sentAt: new Date('2026-03-03T09:00:00Z'),
      body: [
        'Cynnwys **enghreifftiol** yw hwn: ni anfonwyd cylchlythyr go iawn.',
        '',
        '## Newydd yn yr ystorfa',
        '',
        'Canllaw enghreifftiol i gyswllt blwch llythyrau. [Pori’r adnoddau](/resources).',
      ].join('\n'),
    },
  ];
  return {
    name: 'newsletter',
    async seed() {
      const { rows } = await repo.archive(100, 0);
      for (const d of demo) {
        if (rows.some((r) => r.subject === d.subject)) continue;
        const issue = await repo.insertIssue({
          subject: d.subject,
          body: d.body,
          topics: d.topics,
          locale: d.locale,
        });
        await repo.updateIssue(issue.id, { state: 'sent', sentAt: d.sentAt });
      }
    },
  };
}
