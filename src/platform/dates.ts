import type { Locale } from './i18n/index.ts';

/**
 * Dates and times in the GOV.UK style, in Europe/London whatever the
 * server's zone: "Wednesday 25 March 2026", "6pm", "6:30pm". Intl (with
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

export function formatDate(date: Date, locale: Locale): string {
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

export function formatTime(date: Date, locale: Locale): string {
  const parts = Object.fromEntries(partsFormat.formatToParts(date).map((p) => [p.type, p.value]));
  const h24 = Number(parts.hour) % 24;
  const minutes = parts.minute ?? '00';
  if (h24 === 12 && minutes === '00') return locale === 'cy' ? 'canol dydd' : 'midday';
  if (h24 === 0 && minutes === '00') return locale === 'cy' ? 'canol nos' : 'midnight';
  const h12 = h24 % 12 === 0 ? 12 : h24 % 12;
  const suffix = h24 < 12 ? 'am' : 'pm';
  return `${h12}${minutes === '00' ? '' : `:${minutes}`}${suffix}`;
}

/** "Wednesday 25 March 2026, 6pm to 7:30pm" (the end's date too when it differs). */
export function formatRange(start: Date, end: Date, locale: Locale): string {
  const to = locale === 'cy' ? 'tan' : 'to';
  const sameDay = formatDate(start, locale) === formatDate(end, locale);
  return sameDay
    ? `${formatDate(start, locale)}, ${formatTime(start, locale)} ${to} ${formatTime(end, locale)}`
    : `${formatDate(start, locale)}, ${formatTime(start, locale)} ${to} ${formatDate(end, locale)}, ${formatTime(end, locale)}`;
}
