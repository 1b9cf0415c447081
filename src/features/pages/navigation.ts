import type { NavEntry } from '../../platform/navigation.ts';

/** The fixed pages every footer links to (registered in app.ts). */
export const pagesNavigation: NavEntry[] = (
  ['privacy', 'accessibility', 'cookies', 'contact'] as const
).map((page, i) => ({
  area: 'footer',
  key: `common.footer.${page}`,
  href: `/${page}`,
  order: 10 * (i + 1),
}));
