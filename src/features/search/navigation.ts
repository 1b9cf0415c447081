import type { Panel } from '../../platform/navigation.ts';

/** The search box in every page's header (registered in app.ts). */
export const searchPanels: Panel[] = [
  { slot: 'header', template: 'search/views/_header-search.njk', order: 1 },
];
