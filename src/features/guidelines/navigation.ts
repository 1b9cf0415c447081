import type { NavEntry } from '../../platform/navigation.ts';

/** The guidelines' place in the header, and the signed-in member's action plans (registered in app.ts). */
export const guidelinesNavigation: NavEntry[] = [
  { area: 'main', key: 'common.nav.guidelines', href: '/guidelines', order: 50 },
  { area: 'account', key: 'guidelines.nav.plans', href: '/plans', order: 25, access: 'member' },
];
