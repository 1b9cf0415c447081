import type { NavEntry } from '../../platform/navigation.ts';

/** The events' place in the header (registered in app.ts). */
export const eventsNavigation: NavEntry[] = [
  { area: 'main', key: 'common.nav.events', href: '/events', order: 40 },
];
