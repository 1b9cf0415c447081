import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT_DIR } from '../../root.ts';
import type { Seeder } from '../../platform/seed.ts';
import type { ServicesRepository } from './repository.ts';
import {
  SERVICE_MODELS,
  SERVICE_OFFERS,
  SERVICE_SERVES,
  type ServiceModel,
  type ServiceStatus,
} from './schema.ts';
import { fieldsOf } from './changes.ts';
import type { ServicesService } from './service.ts';
import { TERMS } from './terms.ts';

/**
 * Reference data (the shipped list of authorities, and the taxonomies) and
 * demo services. Demo services are invented, marked demo, and use only
 * example.org addresses and 01632 960xxx numbers.
 */

export const AUTHORITY_LIST = {
  file: join(ROOT_DIR, 'reference', 'local-authorities', '2025-04-01.csv'),
  date: '2025-04-01',
};

const STATUSES: ServiceStatus[] = [
  'active',
  'active',
  'active',
  'active',
  'in_development',
  'active',
  'paused',
  'active',
];

export function servicesSeeder(repo: ServicesRepository, service: ServicesService): Seeder {
  return {
    name: 'services',
    async seed({ scale }) {
      if ((await repo.authorityCount()) === 0) {
        const result = await service.importAuthorities(
          readFileSync(AUTHORITY_LIST.file, 'utf8'),
          AUTHORITY_LIST.date,
        );
        if (!result.ok)
          throw new Error(
            `The shipped authority list is invalid: ${JSON.stringify(result.problems[0])}`,
          );
      }
      for (const [taxonomy, terms] of Object.entries(TERMS))
        for (const [code, [name, nameCy]] of Object.entries(terms))
          await repo.upsertTerm({ taxonomy: `supporting-parents:${taxonomy}`, code, name, nameCy });

      const authorities = await repo.currentAuthorities();
      const orgs = await Promise.all(
        [
          'Demo Recurrent Care Trust',
          'Example Family Support (demo)',
          'Demo Children’s Services Partnership',
        ].map((name, i) =>
          repo.upsertOrganisation({
            name,
            description: 'An invented organisation for demonstration.',
            email: `org${i + 1}@example.org`,
            website: `https://www.example.org/demo-org-${i + 1}`,
            isDemo: true,
          }),
        ),
      );
      // 40 services: every fifth authority in list order gets one, some cover neighbours too.
      for (let i = 0; i < 40; i++) {
        const home = authorities[(i * 7 + 3) % authorities.length]!;
        const model = SERVICE_MODELS[i % SERVICE_MODELS.length] as ServiceModel;
        const areas = [home.gssCode];
        if (i % 4 === 0) {
          const neighbours = authorities.filter(
            (a) => a.regionName === home.regionName && a.gssCode !== home.gssCode,
          );
          for (const n of neighbours.slice(0, 1 + (i % 3))) areas.push(n.gssCode);
        }
        const offers = SERVICE_OFFERS.filter((_o, k) => (i + k) % 3 !== 0);
        const serves = SERVICE_SERVES.filter((_o, k) => k === 0 || (i + k) % 4 === 0);
        const welsh = home.nation === 'Wales';
        await repo.saveService(
          {
            slug: `demo-${model.replaceAll('_', '-')}-${home.name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${i + 1}`,
            organisationId: orgs[i % orgs.length]!,
            name: `${TERMS.model[model]![0]} – ${home.name} (demo)`,
            nameCy: welsh
              ? `${TERMS.model[model]![1]} – ${home.nameCy ?? home.name} (enghraifft)`
              : null,
            description: `An invented ${TERMS.model[model]![0].toLowerCase()} in ${home.name}, for demonstration. It works with ${serves.map((s) => TERMS.serves[s]![0].toLowerCase()).join(', ')}.`,
            descriptionCy: welsh
              ? `Gwasanaeth dychmygol yn ${home.nameCy ?? home.name}, i ddangos sut mae’r map yn gweithio.`
              : null,
            url: `https://www.example.org/demo-service-${i + 1}`,
            email: `service${i + 1}@example.org`,
            status: STATUSES[i % STATUSES.length]!,
            model,
            offers: [...offers],
            serves: [...serves],
            referralRoute:
              i % 2
                ? 'Referral by a social worker or health professional.'
                : 'Parents can refer themselves, or be referred by any professional.',
            funding: i % 3 ? 'Local authority' : 'Charitable grants',
            yearStarted: 2012 + (i % 12),
            lastVerified: new Date(Date.now() - (i % 5) * 120 * 86400_000)
              .toISOString()
              .slice(0, 10),
            isDemo: true,
          },
          areas,
          [
            {
              name: `${home.name} base (demo)`,
              address1: `${10 + i} Example Street`,
              city: home.name,
              postalCode: '',
              lat: home.lat + ((i % 5) - 2) * 0.01,
              lng: home.lng + ((i % 3) - 1) * 0.01,
            },
          ],
          [
            {
              name: 'Referrals team (demo)',
              title: 'Referrals',
              phone: `01632 960${String(100 + i).padStart(3, '0')}`,
              email: `referrals${i + 1}@example.org`,
            },
          ],
        );
      }
      // Two suggestions waiting for a moderator, so the review can be tried.
      if ((await repo.suggestions('pending')).rows.length === 0) {
        const first = await repo.serviceBySlug((await repo.exportRows())[0]!.service.slug);
        const fields = fieldsOf(first!);
        await repo.addSuggestion({
          serviceId: first!.service.id,
          proposed: {
            ...fields,
            referralRoute: `${fields.referralRoute} Parents can also refer themselves by phone.`,
            serves: [...new Set([...fields.serves, 'fathers'])].sort(),
          },
          note: 'Demo suggestion: the team now takes self-referrals and works with fathers.',
          status: 'pending',
        });
        await repo.addSuggestion({
          serviceId: null,
          proposed: {
            ...fields,
            name: 'Example Parents Together Project (demo)',
            nameCy: '',
            organisation: 'Example Parents Together (demo)',
            description:
              'An invented peer support group for parents after care proceedings, for demonstration.',
            descriptionCy: '',
            model: 'third_sector',
            offers: ['groupwork', 'peer_support'],
            url: 'https://www.example.org/parents-together',
            email: 'hello@example.org',
            phone: '01632 960999',
          },
          note: 'Demo suggestion of a new service.',
          status: 'pending',
        });
      }
      if (scale === 'large') await repo.generateBulk(10_000);
      service.invalidate();
    },
  };
}
