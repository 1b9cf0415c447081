/**
 * A web-address slug from a title: ASCII letters and digits joined by single
 * hyphens, accents dropped, at most 80 characters; `fallback` when nothing is left.
 */
export function slugify(title: string, fallback = 'page'): string {
  return (
    title
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/&/g, ' and ')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80)
      .replace(/-+$/g, '') || fallback
  );
}

/** What a typed slug must look like. */
export const SLUG_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/;
