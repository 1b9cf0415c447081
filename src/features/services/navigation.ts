import type { NavEntry } from '../../platform/navigation.ts';

/** The service map's place in the header (registered in app.ts). */
export const servicesNavigation: NavEntry[] = [
  { area: 'main', key: 'common.nav.services', href: '/services', order: 10 },
];
