import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed values (links in emails, tokens) under the session secret, with the
 * secret it replaced still accepted while it is rotated out
 * (SESSION_SECRET_PREVIOUS): what was signed before the rotation keeps
 * working, and everything new is signed with the current one.
 *
 *   const { sign, verify } = signer(secrets, 'newsletter', 32);
 *
 * A signature is HMAC-SHA256 of `<purpose>:<payload>`, base64url, cut to
 * `length` characters when given.
 */
export function signer(secrets: readonly string[], purpose: string, length?: number) {
  if (!secrets.length) throw new Error('signer: no secret');
  const macs = secrets.map(
    (secret) => (payload: string) =>
      createHmac('sha256', secret)
        .update(`${purpose}:${payload}`)
        .digest('base64url')
        .slice(0, length),
  );
  const same = (a: string, b: string) => {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
  };
  return {
    sign: (payload: string): string => macs[0]!(payload),
    verify: (payload: string, signature: string): boolean =>
      macs.some((mac) => same(mac(payload), signature)),
  };
}

/** The secrets in force: the current one first, then the one it replaced, if any. */
export const secretsOf = (current: string, previous?: string | undefined): string[] =>
  previous ? [current, previous] : [current];
