/**
 * Kept parts of pages. A page's costly middle (a plan's table of 60 statements
 * by 4 agencies) is drawn from data that changes seldom and is read often. A
 * feature names such a part by a key that holds every version stamp the part
 * is drawn from (a plan's revision, its guideline's time of change, the day,
 * the reader's role; the language is added here); the part is drawn once for
 * that key and kept (platform/kept.ts), and used again while the key is the
 * same. `reply.part` (views/index.ts) does this.
 *
 * A kept part is shared by everyone whose request makes the same key, so it is
 * drawn without the person: its template sees only what the feature passes it
 * and the language (`t`, `lang`, `asset`, `pageLabels`), never the signed-in
 * person, the URL or a nonce. A form in it gets CSRF_PART_PLACEHOLDER for a
 * token, and the page it is put into replaces it with the reader's own token
 * (`render`).
 *
 * A part is kept as UTF-8 bytes, the pieces between its tokens. `reply.part`
 * gives the page a mark (a comment with a random name of this process) to put
 * where the part goes, and `render` sends the page's bytes with the part's in
 * place of the mark: a long part never becomes part of the page's string.
 */

/** Stands for the reader's CSRF token in a kept part; replaced when the page is sent. */
export const CSRF_PART_PLACEHOLDER = '__SP_CSRF_PART_PLACEHOLDER__';
