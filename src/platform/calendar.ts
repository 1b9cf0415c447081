/**
 * iCalendar (RFC 5545) files for events, generated with the `ics` package.
 *
 * `ics` writes the structure (VCALENDAR/VEVENT, escaping of SUMMARY,
 * DESCRIPTION and LOCATION, UTC date-times). Around it we:
 *  - clean text first: line breaks become \n, other control characters
 *    (which iCalendar TEXT cannot carry) are dropped, and lone UTF-16
 *    surrogates become U+FFFD;
 *  - escape the values `ics` passes through unescaped (UID and X-WR-CALNAME
 *    are TEXT, so commas, semicolons and backslashes need escaping) and
 *    encode the organizer's name as an RFC 6868 parameter value (`ics` would
 *    write `\"`, which RFC 5545 does not allow, and lets a newline through);
 *  - re-fold every line at 75 octets, as RFC 5545 §3.1 says: `ics` folds at
 *    75 characters, which is up to 300 octets for non-ASCII text.
 * Instants are always written in UTC (`DTSTART:20260325T180000Z`), so the
 * file does not depend on the server's time zone or on GMT/BST.
 */
import type * as Ics from 'ics';
import type { EventAttributes } from 'ics';
import { lazy } from './lazy.ts';

/** ics, loaded with the first calendar file (not at start-up). */
const ics = lazy<typeof Ics>('ics');

export interface CalendarEvent {
  /** Stable, e.g. `${eventId}@supporting-parents`. */
  uid: string;
  title: string;
  /** Plain text. */
  description: string;
  start: Date;
  end: Date;
  location?: string;
  /** Absolute http(s) URL of the event's page. */
  url: string;
  status?: 'CONFIRMED' | 'TENTATIVE' | 'CANCELLED';
  organizer?: { name: string; email: string };
  /** Bump when the event changes, so calendars update their copy. */
  sequence?: number;
  /** The method belongs to the whole file: pass it to icsFor's options. */
  method?: never;
}

export interface IcsOptions {
  /** PUBLISH (the default) for downloads and feeds; REQUEST/CANCEL are iTIP messages. */
  method?: 'PUBLISH' | 'REQUEST' | 'CANCEL';
  calendarName?: string;
}

export const PRODUCT_ID = '-//Supporting Parents//Events//EN';

// C0 controls other than TAB and LF, and DEL (after CR/CRLF became LF).
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u0008\u000B-\u001F\u007F]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** What iCalendar TEXT can carry: LF line breaks, TAB, no other control characters. */
export function cleanCalendarText(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD').replace(/\r\n?/g, '\n').replace(CONTROL_CHARS, '');
}

/** RFC 5545 §3.3.11 escaping of a TEXT value. */
function escapeText(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(/\n/g, '\\n')
    .replace(/;/g, '\\;')
    .replace(/,/g, '\\,');
}

/** RFC 6868 encoding of a parameter value (`ics` adds the surrounding quotes). */
function encodeParam(value: string): string {
  return cleanCalendarText(value).replace(/\^/g, '^^').replace(/\n/g, '^n').replace(/"/g, "^'");
}

function absoluteUrl(url: string, what: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`Calendar event ${what} must be an absolute URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new Error(`Calendar event ${what} must be an http(s) URL: ${JSON.stringify(url)}`);
  }
  return parsed.href;
}

function instant(date: Date, what: string, uid: string): number {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new Error(`Calendar event ${uid} has an invalid ${what} date`);
  return ms;
}

const EMAIL = /^[^\s"<>()\\,;:@]+@[^\s"<>()\\,;:@]+$/;

function toAttributes(event: CalendarEvent, method: IcsOptions['method']): EventAttributes {
  const uid = cleanCalendarText(event.uid);
  if (!uid.trim()) throw new Error('Calendar event uid must not be empty');
  const start = instant(event.start, 'start', uid);
  const end = instant(event.end, 'end', uid);
  if (end < start) throw new Error(`Calendar event ${uid} ends before it starts`);
  if (event.sequence !== undefined && !(Number.isInteger(event.sequence) && event.sequence >= 0)) {
    throw new Error(`Calendar event ${uid} sequence must be a non-negative integer`);
  }
  if (method && method !== 'PUBLISH' && !event.organizer) {
    throw new Error(`Calendar event ${uid} needs an organizer for METHOD:${method} (RFC 5546)`);
  }
  let status = event.status;
  if (method === 'CANCEL') {
    if (status && status !== 'CANCELLED') {
      throw new Error(`Calendar event ${uid} is in a CANCEL message but has status ${status}`);
    }
    status = 'CANCELLED';
  }
  let organizer: EventAttributes['organizer'];
  if (event.organizer) {
    if (!EMAIL.test(event.organizer.email)) {
      throw new Error(
        `Calendar event ${uid} organizer email is not valid: ${JSON.stringify(event.organizer.email)}`,
      );
    }
    organizer = { name: encodeParam(event.organizer.name), email: event.organizer.email };
  }
  return {
    uid: escapeText(uid),
    title: cleanCalendarText(event.title),
    description: cleanCalendarText(event.description),
    ...(event.location !== undefined ? { location: cleanCalendarText(event.location) } : {}),
    url: absoluteUrl(event.url, 'url'),
    start,
    startInputType: 'utc',
    startOutputType: 'utc',
    end,
    endInputType: 'utc',
    endOutputType: 'utc',
    ...(status ? { status } : {}),
    ...(organizer ? { organizer } : {}),
    ...(event.sequence !== undefined ? { sequence: event.sequence } : {}),
  };
}

/** Undo any folding, then fold each content line at 75 octets (RFC 5545 §3.1). */
function refold(ics: string): string {
  const lines: string[] = [];
  for (const raw of ics.split('\r\n')) {
    if ((raw.startsWith(' ') || raw.startsWith('\t')) && lines.length) {
      lines[lines.length - 1] += raw.slice(1);
    } else if (raw) {
      lines.push(raw);
    }
  }
  return lines.map((line) => foldLine(line) + '\r\n').join('');
}

function foldLine(line: string): string {
  const parts: string[] = [];
  let current = '';
  let octets = 0;
  let limit = 75; // continuation lines start with a space, leaving 74
  for (const char of line) {
    // by code point, so a UTF-8 sequence is never split
    const size = Buffer.byteLength(char, 'utf8');
    if (octets + size > limit) {
      parts.push(current);
      current = '';
      octets = 0;
      limit = 74;
    }
    current += char;
    octets += size;
  }
  parts.push(current);
  return parts.join('\r\n ');
}

/** An iCalendar file (CRLF line ends, folded and escaped) holding the given events. */
export function icsFor(events: CalendarEvent[], opts: IcsOptions = {}): string {
  const method = opts.method ?? 'PUBLISH';
  const attributes = events.map((e) => toAttributes(e, method));
  const { error, value } = ics().createEvents(attributes, {
    productId: PRODUCT_ID,
    method,
    ...(opts.calendarName !== undefined
      ? { calName: escapeText(cleanCalendarText(opts.calendarName)) }
      : {}),
  });
  if (error || value === null) {
    throw new Error(
      `Could not build the iCalendar file: ${error?.message ?? 'the ics library returned nothing'}`,
      { cause: error },
    );
  }
  return refold(value);
}
