import type { NavEntry } from '../../platform/navigation.ts';

export const SIGN_IN_PATH = '/account/sign-in';
export const TWO_FACTOR_SETUP_PATH = '/account/two-factor/setup';

/** Your account and signing out, or signing in (registered in app.ts). */
export const accountsNavigation: NavEntry[] = [
  { area: 'account', key: 'common.nav.account', href: '/account', order: 30, access: 'signedIn' },
  {
    area: 'account',
    key: 'common.nav.signOut',
    href: '/account/sign-out',
    order: 40,
    access: 'signedIn',
  },
  { area: 'account', key: 'common.nav.signIn', href: SIGN_IN_PATH, order: 50, visitors: true },
];
