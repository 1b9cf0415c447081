import type { FastifyInstance } from 'fastify';
import { cookiesOf, csrfFor } from './app.ts';
import { totpCode } from './totp.ts';

/** POST a form the way a browser would: with the page's CSRF token and cookies. */
export async function submit(
  app: FastifyInstance,
  formPage: string,
  action: string,
  fields: Record<string, string>,
  cookie = '',
  remoteAddress?: string,
) {
  const { token, cookie: jar } = await csrfFor(app, formPage, cookie);
  const res = await app.inject({
    method: 'POST',
    url: action,
    ...(remoteAddress ? { remoteAddress } : {}),
    headers: { cookie: jar, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ ...fields, _csrf: token }).toString(),
  });
  return { res, cookie: cookiesOf(res, jar) };
}

/**
 * Sign in with a password (and the two-step code when `totpSecret` is
 * given); returns the cookie jar of the signed-in browser.
 */
export async function signIn(
  app: FastifyInstance,
  email: string,
  password: string,
  totpSecret?: string,
  remoteAddress?: string,
): Promise<string> {
  const { res, cookie } = await submit(
    app,
    '/account/sign-in',
    '/account/sign-in',
    { email, password },
    '',
    remoteAddress,
  );
  if (res.statusCode !== 303) throw new Error(`sign-in failed for ${email}: ${res.statusCode}`);
  if (!String(res.headers.location).startsWith('/account/sign-in/two-factor')) return cookie;
  if (!totpSecret) throw new Error(`${email} needs a two-step code`);
  const second = await submit(
    app,
    '/account/sign-in/two-factor',
    '/account/sign-in/two-factor',
    { code: totpCode(totpSecret) },
    cookie,
    remoteAddress,
  );
  if (second.res.statusCode !== 303)
    throw new Error(`two-step sign-in failed for ${email}: ${second.res.statusCode}`);
  return second.cookie;
}
