import type { NavEntry } from '../../platform/navigation.ts';

/** The repository's place in the header (registered in app.ts). */
export const resourcesNavigation: NavEntry[] = [
  { area: 'main', key: 'common.nav.resources', href: '/resources', order: 20 },
];
