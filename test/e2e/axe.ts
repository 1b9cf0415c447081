import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { BrowserContext, Page } from 'playwright-core';

/**
 * axe-core, run straight in the page. @axe-core/playwright's analyze()
 * evaluates axe's ~580 KB script in the page, runs it frame by frame, then
 * opens a new blank page (a new renderer process) to put the results
 * together, evaluating the script there again: about three times the cost
 * of axe itself. Here the script is added once per browser context (every
 * document it loads, frames too, starts with axe in it) and `axe.run` is
 * called in the page, with the same rules (the WCAG tags), asking only for
 * violations.
 */
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'];

const axeSource = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

/** Every page of `context` from now on has axe loaded before its own scripts. */
export async function withAxe(context: BrowserContext): Promise<BrowserContext> {
  await context.addInitScript({ content: axeSource });
  return context;
}

export interface Violation {
  id: string;
  help: string;
  /** CSS selectors of the first offending elements. */
  targets: string[];
}

/** The page's violations of WCAG 2.0, 2.1 and 2.2 A and AA rules (the page's context has withAxe). */
export async function axeViolations(page: Page, tags = WCAG_TAGS): Promise<Violation[]> {
  return page.evaluate(async (values) => {
    // axe's own types are not loaded in this (browser-side) function.
    const axe = (
      window as unknown as {
        axe?: {
          run(
            context: Document,
            options: object,
          ): Promise<{
            violations: { id: string; help: string; nodes: { target: unknown[] }[] }[];
          }>;
        };
      }
    ).axe;
    if (!axe) throw new Error('axe is not loaded in this page: its context needs withAxe()');
    const result = await axe.run(document, {
      runOnly: { type: 'tag', values },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({
      id: v.id,
      help: v.help,
      targets: v.nodes.slice(0, 3).map((n) => n.target.map(String).join(' ')),
    }));
  }, tags);
}
