import { escapeHtml } from './html.ts';
import type { Translate } from './i18n/index.ts';

/**
 * Links for the GOV.UK pagination component: previous, next and numbered
 * pages (first, last and two either side of the current one, with
 * ellipses), each keeping the rest of the query.
 */
export interface PageLinks {
  pages: number;
  page: number;
  previous?: { href: string } | undefined;
  next?: { href: string } | undefined;
  items: ({ number: number; href: string; current: boolean } | { ellipsis: true })[];
}

export function pageLinks(
  path: string,
  query: URLSearchParams,
  page: number,
  pages: number,
  /**
   * For a list that is one part of its page (an article's comments, a plan's actions): the
   * query parameter of its page number (default `page`), and the fragment each link lands on.
   */
  opts: { param?: string; fragment?: string } = {},
) {
  const param = opts.param ?? 'page';
  const fragment = opts.fragment ? `#${opts.fragment}` : '';
  const href = (p: number) => {
    const q = new URLSearchParams(query);
    q.delete(param);
    if (p > 1) q.set(param, String(p));
    const s = q.toString();
    return `${s ? `${path}?${s}` : path}${fragment}`;
  };
  const items: PageLinks['items'] = [];
  for (let p = 1; p <= pages; p++) {
    if (p === 1 || p === pages || Math.abs(p - page) <= 2)
      items.push({ number: p, href: href(p), current: p === page });
    else if (!('ellipsis' in (items.at(-1) ?? {}))) items.push({ ellipsis: true });
  }
  return {
    pages,
    page,
    previous: page > 1 ? { href: href(page - 1) } : undefined,
    next: page < pages ? { href: href(page + 1) } : undefined,
    items,
  } satisfies PageLinks;
}

/**
 * A page's links with their words in the page's language: "Previous page",
 * "Next page" and each number's "Page 3" for screen readers. Templates call
 * it as `pageLabels(pagination)` (the layout context binds the translator).
 */
export function labelPages(
  p: (Omit<PageLinks, 'items' | 'page'> & Partial<Pick<PageLinks, 'items'>>) | undefined,
  t: Translate,
) {
  if (!p) return undefined;
  const hidden = (text: string) =>
    `<span class="govuk-visually-hidden"> ${escapeHtml(text)}</span>`;
  return {
    ...p,
    previous: p.previous && {
      href: p.previous.href,
      html: `${escapeHtml(t('common.pagination.previous'))}${hidden(t('common.pagination.pageWord'))}`,
    },
    next: p.next && {
      href: p.next.href,
      html: `${escapeHtml(t('common.pagination.next'))}${hidden(t('common.pagination.pageWord'))}`,
    },
    items: p.items?.map((item) =>
      'ellipsis' in item
        ? item
        : { ...item, visuallyHiddenText: t('common.pagination.page', { number: item.number }) },
    ),
  };
}
