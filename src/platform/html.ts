import nunjucks from 'nunjucks';

/** Nunjucks's own HTML escaping (what autoescape uses), for HTML built in code; its typings leave it out. */
export const escapeHtml = (nunjucks as unknown as { lib: { escape(text: string): string } }).lib
  .escape;
