import type Juice from 'juice';
import { lazy } from '../../platform/lazy.ts';
import nunjucks from 'nunjucks';
import type SanitizeHtml from 'sanitize-html';
import type { Translate } from '../../platform/i18n/index.ts';
import { markdownToHtml } from '../../platform/rich-text.ts';

/** juice (and the HTML parser under it), loaded with the first email rendered, not at start-up. */
const juice = lazy<typeof Juice>('juice');
const sanitizeHtml = lazy<typeof SanitizeHtml>('sanitize-html');

/**
 * An issue as email: HTML laid out with tables, its styles inlined by juice
 * (Outlook and Gmail ignore or strip <style>), and a plain-text part. No
 * tracking pixel, no redirected links: every link goes where it says.
 */

/** Issue Markdown to safe HTML: our rich text plus images (https only, with their alt text). */
export function issueHtml(markdown: string): string {
  return sanitizeHtml()(markdownToHtml(markdown), {
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
      'img',
    ],
    allowedAttributes: { a: ['href'], img: ['src', 'alt'] },
    allowedSchemes: ['https', 'mailto'],
    allowedSchemesByTag: { img: ['https'] },
    allowProtocolRelative: false,
    transformTags: { h1: 'h2', h5: 'h4', h6: 'h4' },
  });
}

/** Markdown as plain text for the text part: links written out after their words. */
export function issueText(markdown: string): string {
  return markdown
    .replace(/!\[([^\]]*)\]\(([^)\s]+)[^)]*\)/g, '[$1]')
    .replace(/\[([^\]]+)\]\(([^)\s]+)[^)]*\)/g, '$1 ($2)')
    .replace(/^#{1,6}\s*/gm, '')
    .replace(/(\*\*|__)(.*?)\1/g, '$2')
    .trim();
}

export interface EmailItem {
  title: string;
  url: string;
  summary?: string | null;
}

export interface EmailSection {
  heading: string;
  items: EmailItem[];
}

export interface EmailParts {
  t: Translate;
  lang: 'en' | 'cy';
  subject: string;
  /** Safe HTML (from issueHtml) and its text. */
  bodyHtml: string;
  bodyText: string;
  sections?: EmailSection[];
  preferencesUrl: string;
  unsubscribeUrl: string;
  webUrl?: string | undefined;
}

const CSS = `
body { margin: 0; padding: 0; background: #f3f2f1; }
.wrap { width: 100%; background: #f3f2f1; }
.box { width: 600px; max-width: 600px; background: #ffffff; }
.head { background: #0b5c5a; color: #ffffff; font-family: Arial, sans-serif; font-size: 20px; font-weight: bold; padding: 16px 24px; }
.content { font-family: Arial, sans-serif; font-size: 16px; line-height: 1.5; color: #0b0c0c; padding: 24px; }
.content h2 { font-size: 22px; margin: 24px 0 8px; }
.content h3, .content h4 { font-size: 18px; margin: 20px 0 8px; }
.content p { margin: 0 0 16px; }
.content a { color: #1d70b8; text-decoration: underline; }
.content img { max-width: 100%; height: auto; border: 0; }
.item { margin: 0 0 12px; }
.foot { font-family: Arial, sans-serif; font-size: 14px; line-height: 1.5; color: #505a5f; padding: 16px 24px; border-top: 1px solid #b1b4b6; }
.foot a { color: #1d70b8; }
`;

const env = new nunjucks.Environment(undefined, { autoescape: true });
const TEMPLATE = `<!DOCTYPE html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ subject }}</title><style>${CSS}</style></head>
<body><table role="presentation" class="wrap" width="100%" cellpadding="0" cellspacing="0" border="0"><tr><td align="center">
<table role="presentation" class="box" width="600" cellpadding="0" cellspacing="0" border="0">
<tr><td class="head">{{ t("common.siteName") }}</td></tr>
<tr><td class="content">
{% if webUrl %}<p><a href="{{ webUrl }}">{{ t("newsletter.email.viewOnline") }}</a></p>{% endif %}
{{ bodyHtml | safe }}
{% for section in sections %}
<h2>{{ section.heading }}</h2>
{% for item in section.items %}<p class="item"><a href="{{ item.url }}">{{ item.title }}</a>{% if item.summary %}<br>{{ item.summary }}{% endif %}</p>{% endfor %}
{% endfor %}
</td></tr>
<tr><td class="foot">
<p>{{ t("newsletter.email.why") }}</p>
<p><a href="{{ preferencesUrl }}">{{ t("newsletter.email.preferences") }}</a> · <a href="{{ unsubscribeUrl }}">{{ t("newsletter.email.unsubscribe") }}</a></p>
</td></tr>
</table></td></tr></table></body></html>`;

export function renderEmail(p: EmailParts): { html: string; text: string } {
  const html = juice()(env.renderString(TEMPLATE, { ...p }), {
    removeStyleTags: true,
    preserveMediaQueries: false,
    applyWidthAttributes: true,
    applyAttributesTableElements: true,
  });
  const lines: string[] = [];
  if (p.webUrl) lines.push(`${p.t('newsletter.email.viewOnline')}: ${p.webUrl}`, '');
  if (p.bodyText) lines.push(p.bodyText, '');
  for (const s of p.sections ?? []) {
    lines.push(s.heading.toUpperCase(), '');
    for (const i of s.items) {
      lines.push(`- ${i.title}`, `  ${i.url}`);
      if (i.summary) lines.push(`  ${i.summary}`);
    }
    lines.push('');
  }
  lines.push(
    '--',
    p.t('newsletter.email.why'),
    `${p.t('newsletter.email.preferences')}: ${p.preferencesUrl}`,
    `${p.t('newsletter.email.unsubscribe')}: ${p.unsubscribeUrl}`,
  );
  return { html, text: `${lines.join('\n')}\n` };
}
