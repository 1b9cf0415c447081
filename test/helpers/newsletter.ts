import assert from 'node:assert/strict';
import { cookiesOf, csrfFor, type TestApp } from './app.ts';
import type { SentMail } from './mail.ts';
import { createNewsletterRepository } from '../../src/features/newsletter/repository.ts';
import {
  createNewsletterService,
  type NewsletterDeps,
} from '../../src/features/newsletter/service.ts';

/** Helpers for the newsletter's tests: forms posted as a browser would, links read from mail. */

export const BASE = 'https://sp.example.org';
let ipCount = 0;
/** A fresh address for each request, so the forms' rate limits are not what is tested. */
export const nextIp = () => `10.20.${Math.floor(++ipCount / 250)}.${ipCount % 250}`;

export async function post(
  t: TestApp,
  page: string,
  action: string,
  fields: Record<string, string | string[]>,
  opts: { cookie?: string; ip?: string } = {},
) {
  const { token, cookie: jar } = await csrfFor(t.app, page, opts.cookie ?? '');
  const body = new URLSearchParams({ _csrf: token });
  for (const [k, v] of Object.entries(fields))
    for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
  const res = await t.app.inject({
    method: 'POST',
    url: action,
    remoteAddress: opts.ip ?? nextIp(),
    headers: { cookie: jar, 'content-type': 'application/x-www-form-urlencoded' },
    payload: body.toString(),
  });
  return { res, cookie: cookiesOf(res, jar) };
}

export const signUp = (
  t: TestApp,
  email: string,
  extra: Record<string, string | string[]> = {},
  ip?: string,
) =>
  post(
    t,
    '/newsletter',
    '/newsletter',
    {
      email,
      topics: ['resources', 'events'],
      frequency: 'each',
      locale: 'en',
      ...extra,
    },
    ip ? { ip } : {},
  );

/** A page without what differs per request (the CSRF token, the CSP nonce). */
export const samePage = (html: string) =>
  html.replace(/name="_csrf" value="[^"]*"/g, '').replace(/nonce="[^"]*"/g, '');
/** The mail's headers, unfolded. */
export const headersOf = (raw: string) => raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');

/** The path of the first link in `mail` under `prefix` (links are absolute, on BASE). */
export function linkIn(mail: SentMail, prefix: string): string {
  const m = new RegExp(`${BASE.replace(/\./g, '\\.')}(${prefix}[A-Za-z0-9_.\\-/]+)`).exec(
    mail.text,
  );
  assert.ok(m, `no ${prefix} link in "${mail.subject}"`);
  return m[1]!;
}

/**
 * A newsletter service of the test's own over the test app's database, mail,
 * jobs and translations (1,000 a minute, people looked up by the accounts
 * service): a test gives what it wants different (a clock, digest sources, a slower rate).
 */
export const newsletterService = (t: TestApp, deps: Partial<NewsletterDeps> = {}) =>
  createNewsletterService({
    repo: createNewsletterRepository(t.database.db),
    transaction: (w) => t.database.transaction(w),
    mailer: t.app.platform.mailer,
    jobs: t.app.platform.jobs,
    i18n: t.app.platform.i18n,
    baseUrl: BASE,
    secret: 'test-secret-test-secret-test-secret',
    perMinute: 1000,
    log: t.app.log,
    people: { contact: (uid) => t.app.services.accounts.contact(uid) },
    ...deps,
  });
