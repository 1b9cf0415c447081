import type { Seeder } from '../../platform/seed.ts';
import type { Role } from './schema.ts';
import type { AccountsService } from './service.ts';

/** The demo accounts' shared password (demo only: shown in the README). */
export const DEMO_PASSWORD = 'supporting-parents-demo';

export const DEMO_ACCOUNTS: {
  email: string;
  role: Role;
  displayName: string;
  kind: 'practitioner' | 'parent' | 'researcher';
  approved: boolean;
}[] = [
  {
    email: 'admin@example.org',
    role: 'admin',
    displayName: 'Demo Admin',
    kind: 'practitioner',
    approved: true,
  },
  {
    email: 'editor@example.org',
    role: 'editor',
    displayName: 'Demo Editor',
    kind: 'practitioner',
    approved: true,
  },
  {
    email: 'moderator@example.org',
    role: 'moderator',
    displayName: 'Demo Moderator',
    kind: 'practitioner',
    approved: true,
  },
  {
    email: 'member@example.org',
    role: 'member',
    displayName: 'Demo Practitioner',
    kind: 'practitioner',
    approved: true,
  },
  {
    email: 'parent@example.org',
    role: 'member',
    displayName: 'Demo Parent (pseudonym)',
    kind: 'parent',
    approved: true,
  },
  {
    email: 'pending@example.org',
    role: 'member',
    displayName: 'Demo Researcher',
    kind: 'researcher',
    approved: false,
  },
];

export function accountsSeeder(accounts: AccountsService): Seeder {
  return {
    name: 'accounts',
    async seed() {
      for (const a of DEMO_ACCOUNTS) {
        await accounts.createUserDirect({ ...a, password: DEMO_PASSWORD, approved: a.approved });
      }
    },
  };
}
