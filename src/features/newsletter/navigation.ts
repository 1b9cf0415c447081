import type { NavEntry, Panel } from '../../platform/navigation.ts';

/** The newsletter's links and panels (registered in app.ts). */
export const newsletterNavigation: NavEntry[] = [
  { area: 'footer', key: 'newsletter.nav.footer', href: '/newsletter', order: 5 },
  { area: 'footer', key: 'newsletter.nav.archive', href: '/newsletter/archive', order: 6 },
];

export const newsletterPanels: Panel[] = [
  // The short sign-up form at the foot of every page.
  { slot: 'footer', template: 'newsletter/views/_footer-form.njk', order: 10 },
  // One-step sign-up on the account page (the address is already verified).
  {
    slot: 'account',
    template: 'newsletter/views/_account-panel.njk',
    order: 10,
    access: 'signedIn',
  },
];
