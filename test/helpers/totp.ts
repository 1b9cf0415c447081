import type { FastifyInstance } from 'fastify';
import * as OTPAuth from 'otpauth';
import type { CurrentUser } from '../../src/platform/auth.ts';

/** The current code of an authenticator app holding `secret`. */
export function totpCode(secret: string): string {
  return new OTPAuth.TOTP({
    secret: OTPAuth.Secret.fromBase32(secret.replace(/\s+/g, '')),
  }).generate();
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
  const codes = await app.services.accounts.confirmTwoFactor(actor, totpCode(secret));
  if (!codes) throw new Error('could not turn on two-step sign-in');
  return secret.replace(/\s+/g, '');
}
