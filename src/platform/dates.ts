import { TZDate } from '@date-fns/tz';
import type { Locale } from './i18n/index.ts';

/**
 * Dates and times in the GOV.UK style, in Europe/London whatever the
 * server's zone: "Wednesday 25 March 2026", "6pm", "6:30pm" ("6yh" in Welsh). Intl (with
 * Node's full ICU) supplies the Welsh names.
 */
const ZONE = 'Europe/London';
const dayFormats = new Map<Locale, Intl.DateTimeFormat>();
const partsFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: ZONE,
  hour: 'numeric',
  minute: '2-digit',
  hour12: false,
});

/**
 * Europe/London has been a whole number of hours from UTC since the end of 1847
 * (GMT, summer time, the war years' double summer time), so every instant of one
 * UTC hour falls on the same London day, and every instant of one UTC minute
 * shows the same London time. Intl is the slow part of a page with many dates
 * (a comment thread's, a list's), so answers are kept by hour and by minute: a
 * bounded number, the lot dropped when full.
 */
const KEPT_SINCE = Date.UTC(1848, 0, 1);
const KEPT_MAX = 10_000;
const keptDays = new Map<string, string>();
const keptTimes = new Map<string, string>();
function kept(
  cache: Map<string, string>,
  date: Date,
  unitMs: number,
  locale: Locale,
  make: (date: Date, locale: Locale) => string,
): string {
  const t = date.getTime();
  if (!(t >= KEPT_SINCE)) return make(date, locale); // and an invalid date fails as Intl says
  const key = `${locale}${Math.floor(t / unitMs)}`;
  let text = cache.get(key);
  if (text === undefined) {
    if (cache.size >= KEPT_MAX) cache.clear();
    text = make(date, locale);
    cache.set(key, text);
  }
  return text;
}

function dayOf(date: Date, locale: Locale): string {
  let f = dayFormats.get(locale);
  if (!f) {
    f = new Intl.DateTimeFormat(locale === 'cy' ? 'cy-GB' : 'en-GB', {
      timeZone: ZONE,
      weekday: 'long',
      day: 'numeric',
      month: 'long',
      year: 'numeric',
    });
    dayFormats.set(locale, f);
  }
  return f.format(date).replace(',', '');
}

export function formatDate(date: Date, locale: Locale): string {
  return kept(keptDays, date, 3_600_000, locale, dayOf);
}

function timeOf(date: Date, locale: Locale): string {
  const parts = Object.fromEntries(partsFormat.formatToParts(date).map((p) => [p.type, p.value]));
  const h24 = Number(parts.hour) % 24;
  const minutes = parts.minute ?? '00';
  if (h24 === 12 && minutes === '00') return locale === 'cy' ? 'canol dydd' : 'midday';
  if (h24 === 0 && minutes === '00') return locale === 'cy' ? 'canol nos' : 'midnight';
  const h12 = h24 % 12 === 0 ? 12 : h24 % 12;
  // Welsh: "yb" (y bore) and "yh" (yr hwyr), "10yb", "6:30yh".
  const suffix = locale === 'cy' ? (h24 < 12 ? 'yb' : 'yh') : h24 < 12 ? 'am' : 'pm';
  return `${h12}${minutes === '00' ? '' : `:${minutes}`}${suffix}`;
}

export function formatTime(date: Date, locale: Locale): string {
  return kept(keptTimes, date, 60_000, locale, timeOf);
}

/** "Wednesday 25 March 2026, 6pm to 7:30pm" (the end's date too when it differs). */
export function formatRange(start: Date, end: Date, locale: Locale): string {
  const to = locale === 'cy' ? 'tan' : 'to';
  const sameDay = formatDate(start, locale) === formatDate(end, locale);
  return sameDay
    ? `${formatDate(start, locale)}, ${formatTime(start, locale)} ${to} ${formatTime(end, locale)}`
    : `${formatDate(start, locale)}, ${formatTime(start, locale)} ${to} ${formatDate(end, locale)}, ${formatTime(end, locale)}`;
}

/**
 * A wall-clock time in London as an instant (the zone rules come from
 * @date-fns/tz), or undefined when the date does not exist (31 June) or the
 * time falls in the hour skipped when the clocks go forward.
 */
export function londonInstant(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
): Date | undefined {
  if (![year, month, day, hour, minute].every(Number.isInteger)) return undefined;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return undefined;
  if (hour < 0 || minute < 0 || year < 2000 || year > 2100) return undefined;
  const d = new TZDate(year, month - 1, day, hour, minute, ZONE);
  const back = londonParts(new Date(d.getTime()));
  const same =
    back.year === year &&
    back.month === month &&
    back.day === day &&
    back.hour === hour &&
    back.minute === minute;
  return same ? new Date(d.getTime()) : undefined;
}

/** The London wall-clock parts of an instant (for forms). */
export function londonParts(date: Date): {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
} {
  const d = new TZDate(date.getTime(), ZONE);
  return {
    year: d.getFullYear(),
    month: d.getMonth() + 1,
    day: d.getDate(),
    hour: d.getHours(),
    minute: d.getMinutes(),
  };
}
