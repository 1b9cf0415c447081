import type { Database } from '../../src/db/client.ts';

/**
 * Every HTML page the app serves (each GET route whose config does not say
 * `a11y: false`), with sample URLs taken from the demo content and the role
 * to visit it as. The accessibility suite visits each one in English and in
 * Welsh; a test fails when a route is missing here, so a new page cannot
 * escape the check.
 */
export type VisitAs = 'visitor' | 'member' | 'moderator' | 'editor' | 'admin';

export interface PageSample {
  /** Concrete URLs for the route; a function may read the demo content. */
  paths: string[] | ((db: Database) => Promise<string[]>);
  as?: VisitAs;
  /** The status the page is expected to answer with (default 200). */
  status?: number;
}

export const pages: Record<string, PageSample> = {
  '/': { paths: ['/'] },
  '/privacy': { paths: ['/privacy'] },
  '/accessibility': { paths: ['/accessibility'] },
  '/cookies': { paths: ['/cookies'] },
  '/contact': { paths: ['/contact'] },
};

/** Pages that are not routes of their own but must be accessible too. */
export const extraPages: { path: string; status: number }[] = [
  { path: '/this-page-does-not-exist', status: 404 },
];
