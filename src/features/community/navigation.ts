import type { NavEntry } from '../../platform/navigation.ts';

/** The notifications page: its unread count is set on `req.navCounts` under this path. */
export const NOTIFICATIONS_PATH = '/community/notifications';

/** The community in the header; notifications beside the account links, for approved members. */
export const communityNavigation: NavEntry[] = [
  { area: 'main', key: 'common.nav.community', href: '/community', order: 30 },
  {
    area: 'account',
    key: 'common.nav.notifications',
    href: NOTIFICATIONS_PATH,
    order: 20,
    access: 'member',
  },
];
