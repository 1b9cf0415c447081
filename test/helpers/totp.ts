import type { FastifyInstance } from 'fastify';
import * as OTPAuth from 'otpauth';
import type { CurrentUser } from '../../src/platform/auth.ts';

/**
 * An authenticator app for tests. Each code is accepted once (the app
 * remembers the last 30-second step used), so for accounts set up through
 * enableTwoFactor this hands out the next step's code, and after that the
 * account's recovery codes, as a person with a phone and a printout would.
 */
interface Device {
  lastStep: number;
  recovery: string[];
}
const devices = new Map<string, Device>();

const clean = (secret: string) => secret.replace(/\s+/g, '');
const codeAt = (secret: string, step: number) =>
  new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(clean(secret)) }).generate({
    timestamp: step * 30_000,
  });

/** A code the app will accept now. */
export function totpCode(secret: string): string {
  const now = Math.floor(Date.now() / 30_000);
  const device = devices.get(clean(secret));
  if (!device) return codeAt(secret, now);
  const step = Math.max(device.lastStep + 1, now);
  if (step <= now + 1) {
    device.lastStep = step;
    return codeAt(secret, step);
  }
  const code = device.recovery.shift();
  if (!code) throw new Error('out of codes for this test account');
  return code;
}

/** Turn on two-step sign-in for an account, as its owner would; returns the secret. */
export async function enableTwoFactor(app: FastifyInstance, email: string): Promise<string> {
  const [row] = await app.platform.database.query<{
    id: string;
    role: CurrentUser['role'];
    display_name: string;
    totp_enabled_at: Date | null;
  }>('SELECT id, role, display_name, totp_enabled_at FROM users WHERE email = $1', [email]);
  if (!row) throw new Error(`no account ${email}`);
  if (row.totp_enabled_at) throw new Error(`${email} already has two-step sign-in`);
  const actor: CurrentUser = {
    id: row.id,
    role: row.role,
    displayName: row.display_name,
    approved: true,
    totpEnabled: false,
  };
  const { secret } = await app.services.accounts.startTwoFactorSetup(actor);
  const now = Math.floor(Date.now() / 30_000);
  const codes = await app.services.accounts.confirmTwoFactor(actor, codeAt(secret, now));
  if (!codes) throw new Error('could not turn on two-step sign-in');
  devices.set(clean(secret), { lastStep: now, recovery: codes });
  return clean(secret);
}

/** After the account made new recovery codes (the old ones stop working). */
export function replaceRecoveryCodes(secret: string, html: string): void {
  const device = devices.get(clean(secret));
  if (device)
    device.recovery = [...html.matchAll(/<code>([a-z0-9]{5}-[a-z0-9]{5})<\/code>/g)].map(
      (m) => m[1]!,
    );
}
