import type { NavEntry } from '../../platform/navigation.ts';

/** News (and, from its page, the practice stories) in the header (registered in app.ts). */
export const articlesNavigation: NavEntry[] = [
  { area: 'main', key: 'common.nav.news', href: '/news', order: 60 },
];
