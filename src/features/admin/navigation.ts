import type { NavEntry } from '../../platform/navigation.ts';

/** The admin area, for staff, beside the account links (registered in app.ts). */
export const adminNavigation: NavEntry[] = [
  { area: 'account', key: 'common.nav.admin', href: '/admin', order: 10, access: 'staff' },
];
