import type { FastifyRequest } from 'fastify';
import { accessAllows } from './auth.ts';
import type { Access } from './routes.ts';

/**
 * The site's navigation, as the features register it (in app.ts): the
 * platform names no feature's page. `main` is the header's list of
 * sections, `account` the signed-in person's links (or signing in) after
 * them, `footer` the links at the foot of every page. An entry is shown
 * only to people its `access` lets in (the route's own level, so a link
 * never leads to a refusal); `visitors` entries only to people not signed in.
 */

export type NavArea = 'main' | 'account' | 'footer';

export interface NavEntry {
  area: NavArea;
  /** The label's translation key. */
  key: string;
  href: string;
  /** Smaller first; entries with the same order keep the order they were added in. */
  order: number;
  /** Who sees the link (public when unset). */
  access?: Access;
  /** Only for visitors (e.g. "Sign in"). */
  visitors?: true;
}

/** A link as the layout gets it, with the number a feature set for it (`req.navCounts`). */
export interface NavLink {
  href: string;
  key: string;
  count?: number | undefined;
}

/**
 * A piece of a page that a feature puts in one of the layout's slots: its
 * template (a feature's view), included with the page's context. `footer`
 * is at the foot of every page, `header` in every page's header (e.g. the site search box),
 * `account` on the signed-in person's account page.
 */
export type PanelSlot = 'header' | 'footer' | 'account';

export interface Panel {
  slot: PanelSlot;
  template: string;
  order: number;
  access?: Access;
}

export interface Navigation {
  add(...entries: NavEntry[]): void;
  addPanel(...panels: Panel[]): void;
  /** The templates of a slot this request's person may see, in order. */
  panels(slot: PanelSlot, req: FastifyRequest): string[];
  /** Whether some feature registered a link to `href` (e.g. the home page's cards). */
  has(href: string): boolean;
  /** The links of an area this request's person may follow, in order. */
  visible(area: NavArea, req: FastifyRequest): NavLink[];
}

export function createNavigation(): Navigation {
  const entries: NavEntry[] = [];
  const panels: Panel[] = [];
  return {
    add(...more) {
      entries.push(...more);
      entries.sort((a, b) => a.order - b.order);
    },
    addPanel(...more) {
      panels.push(...more);
      panels.sort((a, b) => a.order - b.order);
    },
    panels: (slot, req) =>
      panels
        .filter((p) => p.slot === slot && accessAllows(p.access ?? 'public', req.user))
        .map((p) => p.template),
    has: (href) => entries.some((e) => e.href === href),
    visible(area, req) {
      return entries
        .filter(
          (e) =>
            e.area === area &&
            (e.visitors ? !req.user : accessAllows(e.access ?? 'public', req.user)),
        )
        .map((e) => ({ href: e.href, key: e.key, count: req.navCounts?.[e.href] }));
    },
  };
}
