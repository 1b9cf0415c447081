import type MarkdownIt from 'markdown-it';
import type SanitizeHtml from 'sanitize-html';
import { lazy } from './lazy.ts';

/** sanitize-html (and its HTML and CSS parsers), loaded when first used, not at start-up. */
const sanitizeHtml = lazy<typeof SanitizeHtml>('sanitize-html');

/**
 * Rich text: people write Markdown (a subset: paragraphs, headings, lists,
 * links, emphasis, quotes, code), markdown-it turns it into HTML with raw HTML
 * switched off, and sanitize-html then keeps only an allow-list of elements
 * and attributes, whatever reached it. GOV.UK classes are added on the way,
 * so the stored HTML needs no styling of its own.
 */

/** markdown-it, loaded and set up with the first text rendered (not at start-up). */
const markdownIt = lazy<typeof MarkdownIt>('markdown-it');
let md: InstanceType<typeof MarkdownIt> | undefined;

/**
 * Markdown to HTML with raw HTML switched off, not yet sanitised: what every
 * renderer here starts from (the newsletter's email too), then sanitises.
 */
export function markdownToHtml(source: string): string {
  md ??= new (markdownIt())({ html: false, linkify: true, typographer: false, breaks: false });
  return md.render(source);
}

const CLASSES: Record<string, string> = {
  p: 'govuk-body',
  h2: 'govuk-heading-m',
  h3: 'govuk-heading-s',
  h4: 'govuk-heading-s',
  ul: 'govuk-list govuk-list--bullet',
  ol: 'govuk-list govuk-list--number',
  a: 'govuk-link',
  blockquote: 'app-quote',
  hr: 'govuk-section-break govuk-section-break--m govuk-section-break--visible',
};

const RENAME: Record<string, string> = { h1: 'h2', h5: 'h4', h6: 'h4' };

export interface RichTextOptions {
  /** User-generated content: links get rel="nofollow ugc noopener". */
  ugc?: boolean;
}

export function sanitise(html: string, opts: RichTextOptions = {}): string {
  return sanitizeHtml()(html, {
    allowedTags: [
      'p',
      'h2',
      'h3',
      'h4',
      'ul',
      'ol',
      'li',
      'a',
      'strong',
      'em',
      'blockquote',
      'code',
      'pre',
      'hr',
      'br',
    ],
    allowedAttributes: { a: ['href', 'class', 'rel'], '*': ['class'] },
    allowedClasses: Object.fromEntries(Object.entries(CLASSES).map(([t, c]) => [t, c.split(' ')])),
    allowedSchemes: ['https', 'http', 'mailto'],
    allowedSchemesAppliedToAttributes: ['href'],
    allowProtocolRelative: false,
    disallowedTagsMode: 'discard',
    transformTags: {
      '*': (original, attribs) => {
        // Headings start at h2: the page owns its h1.
        const tagName = RENAME[original] ?? original;
        const cls = CLASSES[tagName];
        const out: Record<string, string> = {};
        if (cls) out.class = cls;
        if (tagName === 'a') {
          if (attribs.href) out.href = attribs.href;
          if (opts.ugc) out.rel = 'nofollow ugc noopener';
        }
        return { tagName, attribs: out };
      },
    },
  });
}

/** Markdown to safe HTML. */
export function renderMarkdown(source: string, opts: RichTextOptions = {}): string {
  return sanitise(markdownToHtml(source), opts);
}

/** Plain text of Markdown, e.g. for a search index or a summary. */
export function plainText(source: string): string {
  return sanitizeHtml()(markdownToHtml(source), { allowedTags: [], allowedAttributes: {} })
    .replace(/\s+/g, ' ')
    .trim();
}
