import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { type Algorithm, hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { lazy } from '../../platform/lazy.ts';
import type { dictionary as Dictionary } from '@zxcvbn-ts/language-common';
import type * as OTPAuthLib from 'otpauth';
import type { FastifyBaseLogger } from 'fastify';
import {
  AccessDenied,
  type CurrentUser,
  type SessionInfo,
  type UserRole,
} from '../../platform/auth.ts';
import type { I18n, Locale } from '../../platform/i18n/index.ts';
import type { JobQueue } from '../../platform/jobs/index.ts';
import type { Mailer } from '../../platform/mail.ts';
import { createLimits, emailKey, type Limits, TooMany } from '../../platform/rate-limit.ts';
import { secretsOf } from '../../platform/signing.ts';
import type { Database, Tx } from '../../db/client.ts';
import { isApproved } from './approval.ts';
import type {
  AccountsQueries,
  AccountsRepository,
  AuditFilter,
  PersonRow,
  UserFilter,
  UserRow,
} from './repository.ts';
import {
  MEMBER_KINDS,
  type MemberKind,
  ROLES,
  type Role,
  STATUSES,
  type TokenPurpose,
  type UserStatus,
} from './schema.ts';

export { isApproved };
export { MEMBER_KINDS, ROLES, STATUSES };
export type { MemberKind, Role, UserStatus };

/** otpauth, loaded with the first two-factor code made or checked, not at start-up. */
const otpauth = lazy<typeof OTPAuthLib>('otpauth');

/**
 * The rules of accounts: registration, verification, signing in (password,
 * email link, two-factor), sessions, password and email changes, approval,
 * roles and suspension, the audit log, data export and deletion. No request
 * or reply here: routes parse and render; this decides.
 */

export { AccessDenied };

/** A limit on attempts was reached (429, with when to try again). */
export { TooMany as TooManyAttempts };

/** Another feature's personal data about a member, for export and deletion. */
export interface PersonalDataProvider {
  name: string;
  export(userId: string): Promise<unknown>;
  /** Erase or detach. With removeContributions false, keep content under "former member". */
  erase(userId: string, removeContributions: boolean): Promise<void>;
}

export const SESSION_IDLE_SECONDS = 2 * 3600;
export const SESSION_ABSOLUTE_SECONDS = 7 * 24 * 3600;
const MFA_STAGE_SECONDS = 10 * 60;
const TOKEN_LIFETIME: Record<TokenPurpose, number> = {
  verify: 24 * 3600,
  signin: 15 * 60,
  reset: 3600,
  'email-change': 24 * 3600,
  delete: 3600,
};
export const SIGN_IN_FAILURES_PER_MINUTE = 5;
/**
 * Password and two-step code checks per account, counted before the check:
 * 5 a minute, 10 in 15 minutes, 20 an hour, 50 a day. Each longer window
 * counts only the attempts the shorter ones let through, so the wait grows
 * (a minute, a quarter of an hour, an hour, the day) and 50 guesses a day is
 * the most anyone gets. A successful sign-in starts the count again.
 */
export const CHECK_WINDOWS = [
  { points: SIGN_IN_FAILURES_PER_MINUTE, seconds: 60 },
  { points: 10, seconds: 15 * 60 },
  { points: 20, seconds: 3600 },
  { points: 50, seconds: 24 * 3600 },
] as const;
/** Sign-ups per email address. */
export const SIGN_UPS_PER_ADDRESS_PER_HOUR = 5;
/** Emails of one kind (sign-in link, reset, …) to one address. */
export const EMAILS_PER_ADDRESS_PER_HOUR = 3;

/**
 * The argon2id cost of every password hash (OWASP's: 19 MiB, 2 passes). An
 * address with no account is checked against a hash made with the same
 * cost, so both take as long; a stored hash with another cost is replaced at
 * the next successful sign-in.
 */
export const ARGON2 = {
  algorithm: 2 as Algorithm, // Argon2id (a const enum, not importable as a value here)
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
} as const;
/** The cost part of an encoded hash: `m=19456,t=2,p=1`. */
export const argonCost = (encoded: string): string | undefined =>
  /^\$argon2id\$v=\d+\$(m=\d+,t=\d+,p=\d+)\$/.exec(encoded)?.[1];
const CURRENT_COST = `m=${ARGON2.memoryCost},t=${ARGON2.timeCost},p=${ARGON2.parallelism}`;
const UNVERIFIED_DAYS = 30;
export const AUTO_APPROVE_KEY = 'accounts.autoApproveDomains';
export const DEFAULT_AUTO_APPROVE = ['*.gov.uk', '*.nhs.uk', '*.nhs.net'];

/** The breached-password list (a 70 ms load), read with the first password checked, not at start-up. */
const commonPasswords = (() => {
  const load = lazy<{ dictionary: typeof Dictionary }>('@zxcvbn-ts/language-common');
  let set: Set<string> | undefined;
  return () =>
    (set ??= new Set(
      ((load().dictionary as Record<string, string[]>)['passwords-common'] ?? []).map((p) =>
        p.toLowerCase(),
      ),
    ));
})();

export type PasswordProblem = 'tooShort' | 'tooLong' | 'common' | 'likeAccount';

/** At least 10 characters, not on the list of breached passwords, not the email or name; no composition rules. */
export function passwordProblem(
  password: string,
  about: { email?: string; displayName?: string } = {},
): PasswordProblem | undefined {
  if (password.length < 10) return 'tooShort';
  if (password.length > 256) return 'tooLong';
  const lower = password.toLowerCase();
  if (commonPasswords().has(lower)) return 'common';
  const email = about.email?.toLowerCase();
  if (email && (lower === email || lower === email.split('@')[0])) return 'likeAccount';
  if (about.displayName && lower === about.displayName.toLowerCase()) return 'likeAccount';
  return undefined;
}

/** Whether an email's domain matches one of the patterns (`*.nhs.net`, `example.org`). */
export function domainMatches(email: string, patterns: string[]): boolean {
  const domain = email.split('@')[1]?.toLowerCase() ?? '';
  return patterns.some((raw) => {
    const p = raw.trim().toLowerCase();
    if (!p) return false;
    if (p.startsWith('*.')) return domain === p.slice(2) || domain.endsWith(p.slice(1));
    return domain === p;
  });
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const newToken = (): string => randomBytes(32).toString('base64url');

export interface RegisterInput {
  email: string;
  displayName: string;
  kind: MemberKind;
  organisation?: string | undefined;
  region?: string | undefined;
  password: string;
  locale: Locale;
}

/** What never leaves accounts: the password's hash and the two-step sign-in secret. */
type SecretField = 'passwordHash' | 'totpSecret' | 'totpLastStep';
/** An account as its owner and the admin pages see it: everything but the secrets. */
export type Account = Omit<UserRow, SecretField>;

/** An account in the admin area: the address is null for those who may see only its domain. */
export type StaffView = Account & { emailDomain: string | null };

/** Drops the secrets from a row (at run time too, so they are never rendered or logged). */
function account(row: UserRow): Account;
function account(row: UserRow | undefined): Account | undefined;
function account(row: UserRow | undefined): Account | undefined {
  if (!row) return undefined;
  const { passwordHash: _p, totpSecret: _s, totpLastStep: _l, ...rest } = row;
  return rest;
}

/**
 * A person as other features see them: a name to show, what kind of member
 * and role, and whether approved (the one rule, `isApproved`) and active.
 * No email address, no hash, no secret.
 */
export interface Person {
  id: string;
  displayName: string;
  kind: MemberKind;
  role: Role;
  approved: boolean;
  /** Not suspended, not deleted. */
  active: boolean;
}
/** A person with what the member directory shows of them. */
export interface Profile extends Person {
  organisation: string | null;
  region: string | null;
}
/** A person to write to, for the features that must email someone: `contact`/`contacts`. */
export interface Contact extends Person {
  email: string;
  locale: Locale;
}

const person = (r: PersonRow): Person => ({
  id: r.id,
  displayName: r.displayName,
  kind: r.kind,
  role: r.role,
  approved: isApproved(r),
  active: r.status === 'active',
});

export type SignInResult =
  | { ok: true; token: string; stage: 'full' | 'mfa'; user: Account }
  | { ok: false; reason: 'invalid' | 'unverified' | 'suspended'; statusReason?: string | null };

export interface AccountsDeps {
  repo: AccountsRepository;
  /** The platform's unit of work (`database.transaction`). */
  transaction: Database['transaction'];
  mailer: Mailer;
  jobs: JobQueue;
  i18n: I18n;
  baseUrl: string;
  secret: string;
  /** The session secret `secret` replaced (SESSION_SECRET_PREVIOUS), while it is rotated out. */
  previousSecret?: string | undefined;
  log: FastifyBaseLogger;
  /** Attempt counters (the platform's); a private in-memory set by default. */
  limits?: Limits;
  /** argon2 (tests watch what is verified); @node-rs/argon2 by default. */
  argon2?: {
    hash(password: string, options: typeof ARGON2): Promise<string>;
    verify(hash: string, password: string): Promise<boolean>;
  };
  /** The clock (tests move it); the real time by default. */
  now?: () => Date;
}

export function createAccountsService(deps: AccountsDeps) {
  const { repo, mailer, i18n, baseUrl, log } = deps;
  const now = deps.now ?? (() => new Date());
  /**
   * Where a step runs: on the database, or inside a unit of work — its
   * queries and the emails it queues commit together (a token and the email
   * carrying it, a change and the notice of it).
   */
  interface Work {
    r: AccountsQueries;
    tx?: Tx;
  }
  const direct: Work = { r: repo };
  const inUnit = <T>(work: (w: Work) => Promise<T>): Promise<T> =>
    deps.transaction((tx) => work({ r: repo.in(tx), tx }));
  const providers: PersonalDataProvider[] = [];
  // Two-step secrets are sealed with a key from the session secret; while a
  // rotated-out secret is still given (SESSION_SECRET_PREVIOUS), its key opens
  // what it sealed, and the secret is sealed again with the current key on
  // its next use.
  const totpKeys = secretsOf(deps.secret, deps.previousSecret).map((secret) =>
    createHmac('sha256', secret).update('totp-secret-encryption').digest(),
  );
  const totpKey = totpKeys[0]!;
  const argon2 = deps.argon2 ?? { hash: argon2Hash, verify: argon2Verify };
  const argonHash = (password: string) => argon2.hash(password, ARGON2);
  const argonVerify = (hash: string, password: string) =>
    argon2.verify(hash, password).catch(() => false);
  // A real hash, made at start-up with the cost of every other, to check
  // against when there is no account (or no password): both take as long.
  const dummyHash = argonHash(randomBytes(18).toString('base64url'));
  dummyHash.catch(() => undefined);
  const limits = deps.limits ?? createLimits({ secret: deps.secret });
  const signInLimit = limits.define('signin', CHECK_WINDOWS);
  const twoFactorLimit = limits.define('two-factor', CHECK_WINDOWS);
  const passwordLimit = limits.define('password-check', CHECK_WINDOWS);
  const signUpLimit = limits.define('signup', [
    { points: SIGN_UPS_PER_ADDRESS_PER_HOUR, seconds: 3600 },
  ]);
  const emailLimit = limits.define('account-email', [
    { points: EMAILS_PER_ADDRESS_PER_HOUR, seconds: 3600 },
  ]);
  /** Checks a password against a stored hash, or against the dummy when there is none. */
  const passwordMatches = async (hash: string | null | undefined, password: string) =>
    hash ? argonVerify(hash, password) : (await argonVerify(await dummyHash, password)) && false;

  function encrypt(plain: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', totpKey, iv);
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return [iv, c.getAuthTag(), body].map((b) => b.toString('base64url')).join('.');
  }
  /** The secret, and whether it was sealed with a rotated-out key (to seal again). */
  function unseal(sealed: string): { plain: string; stale: boolean } {
    const [iv, tag, body] = sealed.split('.').map((p) => Buffer.from(p, 'base64url')) as [
      Buffer,
      Buffer,
      Buffer,
    ];
    for (const [i, key] of totpKeys.entries()) {
      try {
        const d = createDecipheriv('aes-256-gcm', key, iv);
        d.setAuthTag(tag);
        return { plain: Buffer.concat([d.update(body), d.final()]).toString('utf8'), stale: i > 0 };
      } catch {
        // Not this key (the tag does not match): the next one.
      }
    }
    throw new Error('A two-step secret sealed with a key no longer given (SESSION_SECRET)');
  }
  const decrypt = (sealed: string): string => unseal(sealed).plain;

  async function audit(
    event: string,
    opts: {
      actorId?: string | null;
      subjectId?: string | null;
      detail?: Record<string, unknown>;
    } = {},
    w: Work = direct,
  ) {
    await w.r.insertAudit({
      event,
      actorId: opts.actorId ?? null,
      subjectId: opts.subjectId ?? null,
      detail: opts.detail ?? {},
    });
  }

  async function email(
    user: { email: string | null; locale: Locale },
    key: string,
    vars: Record<string, string>,
    to: string | undefined,
    w: Work,
  ) {
    const address = to ?? user.email;
    if (!address) return;
    const t = i18n.translator(user.locale);
    await mailer.send(
      {
        to: address,
        subject: t(`accounts.emails.${key}.subject`, vars),
        text: `${t(`accounts.emails.${key}.body`, vars)}\n\n${t('accounts.emails.footer', vars)}\n`,
      },
      { tx: w.tx },
    );
  }

  async function issueToken(
    userId: string,
    purpose: TokenPurpose,
    data: Record<string, unknown>,
    w: Work,
  ): Promise<string> {
    if (purpose !== 'email-change') await w.r.expireTokens(userId, purpose);
    const token = newToken();
    await w.r.insertToken({
      tokenHash: sha256(token),
      userId,
      purpose,
      data,
      expiresAt: new Date(now().getTime() + TOKEN_LIFETIME[purpose] * 1000),
    });
    return token;
  }

  /** At most a few emails of a kind an hour to one address, whoever asks: silently no more. */
  async function mayEmail(address: string, purpose: string): Promise<boolean> {
    return (await emailLimit.take(`${purpose}:${emailKey(address)}`)).ok;
  }

  function currentUser(u: UserRow): CurrentUser {
    return {
      id: u.id,
      displayName: u.displayName,
      role: u.role,
      approved: isApproved(u),
      totpEnabled: Boolean(u.totpEnabledAt),
    };
  }

  async function createSession(user: UserRow, stage: 'full' | 'mfa'): Promise<string> {
    const token = newToken();
    await repo.insertSession({
      id: sha256(token),
      userId: user.id,
      stage,
      expiresAt: new Date(
        now().getTime() + (stage === 'mfa' ? MFA_STAGE_SECONDS : SESSION_ABSOLUTE_SECONDS) * 1000,
      ),
    });
    return token;
  }

  async function completeSignIn(user: UserRow, method: string): Promise<SignInResult> {
    if (user.status !== 'active')
      return { ok: false, reason: 'suspended', statusReason: user.statusReason };
    if (user.totpEnabledAt) {
      return {
        ok: true,
        token: await createSession(user, 'mfa'),
        stage: 'mfa',
        user: account(user),
      };
    }
    await repo.updateUser(user.id, { lastSignInAt: now() });
    await audit('signin.success', { actorId: user.id, subjectId: user.id, detail: { method } });
    return {
      ok: true,
      token: await createSession(user, 'full'),
      stage: 'full',
      user: account(user),
    };
  }

  function totpFor(secret: string, label: string): OTPAuthLib.TOTP {
    const OTPAuth = otpauth();
    return new OTPAuth.TOTP({
      issuer: 'Supporting Parents',
      label,
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
      secret: OTPAuth.Secret.fromBase32(secret),
    });
  }

  /** A valid code, used once: its 30-second step must be newer than the last one accepted. */
  async function checkTotp(user: UserRow, code: string): Promise<boolean> {
    if (!user.totpSecret) return false;
    const clean = code.replace(/\s+/g, '');
    if (!/^\d{6}$/.test(clean)) return false;
    const at = now().getTime();
    let opened: { plain: string; stale: boolean };
    try {
      opened = unseal(user.totpSecret);
    } catch {
      // Sealed under a session secret no longer given: no code can match
      // (a recovery code still signs in, and two-step sign-in is set up again).
      deps.log.warn({ userId: user.id }, 'two-step secret sealed with a key no longer given');
      return false;
    }
    const { plain, stale } = opened;
    const delta = totpFor(plain, 'x').validate({ token: clean, window: 1, timestamp: at });
    if (delta === null) return false;
    const step = Math.floor(at / 30_000) + delta;
    const claimed = await repo.claimTotpStep(user.id, step);
    if (claimed && stale) await repo.updateUser(user.id, { totpSecret: encrypt(plain) });
    return claimed;
  }

  /** An account as a member of staff may see it: the address only for admins, its domain for all. */
  const forStaff = (actor: CurrentUser, a: Account): StaffView => ({
    ...a,
    email: actor.role === 'admin' ? a.email : null,
    emailDomain: a.email ? (a.email.split('@')[1] ?? null) : null,
  });

  const normaliseCode = (code: string): string => code.toLowerCase().replace(/[^a-z0-9]/g, '');

  function requireRole(
    actor: CurrentUser | undefined,
    roles: readonly UserRole[],
  ): asserts actor is CurrentUser {
    if (!actor || !roles.includes(actor.role)) throw new AccessDenied('Not allowed');
  }

  const service = {
    addDataProvider(p: PersonalDataProvider) {
      providers.push(p);
    },
    audit,
    passwordProblem,

    /** Sessions: the platform's auth module calls this for every request with a cookie. */
    async loadSession(token: string): Promise<SessionInfo | undefined> {
      if (token.length > 100) return undefined;
      const id = sha256(token);
      const found = await repo.sessionWithUser(id);
      if (!found) return undefined;
      const { session, user } = found;
      const idleFor = (now().getTime() - session.lastSeenAt.getTime()) / 1000;
      if (idleFor > SESSION_IDLE_SECONDS || user.status !== 'active') {
        await repo.deleteSession(id);
        return undefined;
      }
      if (idleFor > 60) await repo.touchSession(id);
      return { id, stage: session.stage, user: currentUser(user) };
    },
    async signOut(sessionId: string) {
      await repo.deleteSession(sessionId);
    },
    async signOutEverywhere(actor: CurrentUser) {
      await repo.deleteUserSessions(actor.id);
      await audit('signout.everywhere', { actorId: actor.id, subjectId: actor.id });
    },

    /**
     * A new account, or a note to the owner of an existing one (the page says
     * the same either way). At most a few sign-ups an hour per address,
     * counted whether or not it has an account: TooManyAttempts when over.
     */
    async register(input: RegisterInput): Promise<void> {
      await signUpLimit.consume(emailKey(input.email));
      const existing = await repo.userByEmail(input.email);
      if (existing) {
        // Say nothing different on the page; tell the owner of the address instead.
        if (existing.status !== 'deleted' && (await mayEmail(input.email, 'register')))
          await inUnit(async (w) => {
            await email(
              existing,
              'alreadyRegistered',
              {
                signIn: `${baseUrl}/account/sign-in`,
                reset: `${baseUrl}/account/password/forgot`,
              },
              undefined,
              w,
            );
          });
        return;
      }
      const passwordHash = await argonHash(input.password);
      try {
        // The account, its audit entry, the token and the email carrying it: one unit of work.
        await inUnit(async (w) => {
          const user = await w.r.insertUser({
            email: input.email,
            displayName: input.displayName,
            kind: input.kind,
            organisation: input.organisation || null,
            region: input.region || null,
            passwordHash,
            locale: input.locale,
            termsAcceptedAt: now(),
          });
          await audit(
            'account.registered',
            { actorId: user.id, subjectId: user.id, detail: { kind: input.kind } },
            w,
          );
          const token = await issueToken(user.id, 'verify', {}, w);
          await email(user, 'verify', { link: `${baseUrl}/account/verify/${token}` }, undefined, w);
        });
      } catch (err) {
        // Two registrations for one address at once: the other one won (and this one wrote nothing).
        if (
          (err as { code?: string; cause?: { code?: string } }).code === '23505' ||
          (err as { cause?: { code?: string } }).cause?.code === '23505'
        )
          return;
        throw err;
      }
    },

    /** Whether a link's token is valid now (to show its confirmation page), without using it. */
    async tokenIsValid(token: string, purpose: TokenPurpose): Promise<boolean> {
      return token.length <= 100 && Boolean(await repo.validToken(sha256(token), purpose, now()));
    },

    async verifyEmail(token: string): Promise<Account | undefined> {
      const row = await repo.consumeToken(sha256(token), 'verify', now());
      if (!row) return undefined;
      const user = await repo.userById(row.userId);
      if (!user || !user.email) return undefined;
      const patterns = (await repo.setting<string[]>(AUTO_APPROVE_KEY)) ?? DEFAULT_AUTO_APPROVE;
      const approve = !user.approvedAt && domainMatches(user.email, patterns);
      const updated = await repo.updateUser(user.id, {
        emailVerifiedAt: user.emailVerifiedAt ?? now(),
        ...(approve ? { approvedAt: now() } : {}),
      });
      await audit('account.verified', { actorId: user.id, subjectId: user.id });
      if (approve)
        await audit('account.approved', { subjectId: user.id, detail: { automatic: true } });
      return account(updated);
    },

    /**
     * The attempt is counted for the account (its address, whether or not it
     * exists) before the password is checked, atomically: however many
     * guesses arrive at once, at most the limit are checked. TooMany when
     * over. Unknown addresses cost the same argon2 work as known ones.
     */
    async signInWithPassword(emailAddress: string, password: string): Promise<SignInResult> {
      const key = emailKey(emailAddress);
      const limit = await signInLimit.take(key);
      if (!limit.ok) {
        await audit('signin.throttled', { detail: { method: 'password' } });
        throw new TooMany(limit.retryAfterSeconds, 'signin');
      }
      const user = await repo.userByEmail(emailAddress);
      const ok = await passwordMatches(user?.passwordHash, password);
      if (!user || !ok) {
        await audit('signin.failure', {
          subjectId: user?.id ?? null,
          detail: { method: 'password' },
        });
        return { ok: false, reason: 'invalid' };
      }
      await signInLimit.reset(key);
      if (argonCost(user.passwordHash!) !== CURRENT_COST) {
        // Made with another cost: replaced now that the password is known.
        await repo.updateUser(user.id, { passwordHash: await argonHash(password) });
      }
      if (!user.emailVerifiedAt) return { ok: false, reason: 'unverified' };
      return completeSignIn(user, 'password');
    },

    /** Always looks the same to the asker; sends a link only to a verified, active account. */
    async requestSignInLink(emailAddress: string): Promise<void> {
      const user = await repo.userByEmail(emailAddress);
      if (!user || user.status !== 'active' || !user.email) return;
      if (!(await mayEmail(user.email, 'signin'))) return;
      await inUnit(async (w) => {
        const token = await issueToken(user.id, 'signin', {}, w);
        await email(
          user,
          'signInLink',
          { link: `${baseUrl}/account/sign-in/link/${token}` },
          undefined,
          w,
        );
      });
    },

    async signInWithLink(token: string): Promise<SignInResult> {
      const row = await repo.consumeToken(sha256(token), 'signin', now());
      const user = row && (await repo.userById(row.userId));
      if (!user) return { ok: false, reason: 'invalid' };
      if (!user.emailVerifiedAt) await repo.updateUser(user.id, { emailVerifiedAt: now() });
      return completeSignIn(user, 'email-link');
    },

    /** The second step: a TOTP code or an unused recovery code. Rotates the session on success. */
    async completeTwoFactor(
      sessionId: string,
      code: string,
    ): Promise<{ ok: true; token: string } | { ok: false }> {
      const found = await repo.sessionWithUser(sessionId);
      if (!found || found.session.stage !== 'mfa') return { ok: false };
      const { user } = found;
      // Counted before the code is checked, per account (see signInWithPassword).
      const limit = await twoFactorLimit.take(user.id);
      if (!limit.ok) {
        await audit('signin.throttled', { subjectId: user.id, detail: { method: 'two-factor' } });
        throw new TooMany(limit.retryAfterSeconds, 'two-factor');
      }
      let method = 'totp';
      let ok = await checkTotp(user, code);
      if (!ok && normaliseCode(code).length === 10) {
        ok = await repo.useRecoveryCode(user.id, sha256(normaliseCode(code)));
        method = 'recovery-code';
      }
      if (!ok) {
        await audit('signin.failure', { subjectId: user.id, detail: { method: 'two-factor' } });
        return { ok: false };
      }
      await twoFactorLimit.reset(user.id);
      await repo.deleteSession(sessionId);
      await repo.updateUser(user.id, { lastSignInAt: now() });
      await audit('signin.success', { actorId: user.id, subjectId: user.id, detail: { method } });
      return { ok: true, token: await createSession(user, 'full') };
    },

    async requestPasswordReset(emailAddress: string): Promise<void> {
      const user = await repo.userByEmail(emailAddress);
      if (!user || user.status === 'deleted' || !user.email) return;
      if (!(await mayEmail(user.email, 'reset'))) return;
      await inUnit(async (w) => {
        const token = await issueToken(user.id, 'reset', {}, w);
        await email(
          user,
          'reset',
          { link: `${baseUrl}/account/password/reset/${token}` },
          undefined,
          w,
        );
      });
    },

    async resetPassword(token: string, password: string): Promise<Account | undefined> {
      if (!(await repo.validToken(sha256(token), 'reset', now()))) return undefined;
      const passwordHash = await argonHash(password); // not while holding the unit of work
      return inUnit(async (w) => {
        const row = await w.r.consumeToken(sha256(token), 'reset', now());
        const user = row && (await w.r.userById(row.userId));
        if (!user) return undefined;
        await w.r.updateUser(user.id, {
          passwordHash,
          emailVerifiedAt: user.emailVerifiedAt ?? now(),
        });
        await w.r.deleteUserSessions(user.id);
        await audit('password.reset', { actorId: user.id, subjectId: user.id }, w);
        await email(
          user,
          'passwordChanged',
          { reset: `${baseUrl}/account/password/forgot` },
          undefined,
          w,
        );
        return account(user);
      });
    },

    /** An active, approved member by email address (for naming them to a role in another feature). */
    async approvedMemberByEmail(
      emailAddress: string,
    ): Promise<{ id: string; displayName: string } | undefined> {
      const user = await repo.userByEmail(emailAddress.trim());
      if (!user || user.status !== 'active' || !isApproved(user)) return undefined;
      return { id: user.id, displayName: user.displayName };
    },
    /** The whole account but its secrets: for its owner's pages (accounts' own routes). */
    async account(id: string): Promise<Account | undefined> {
      return account(await repo.userById(id));
    },

    // What other features may know of people (see Person and Contact).
    async person(id: string): Promise<Person | undefined> {
      const [row] = await repo.people([id]);
      return row && person(row);
    },
    /** Several people in one query (a page's authors): by id, missing ids left out. */
    async people(ids: readonly string[]): Promise<Map<string, Person>> {
      return new Map((await repo.people(ids)).map((r) => [r.id, person(r)]));
    },
    /** People with what the member directory shows (organisation, region). */
    async profiles(ids: readonly string[]): Promise<Map<string, Profile>> {
      return new Map(
        (await repo.profiles(ids)).map((r) => [
          r.id,
          { ...person(r), organisation: r.organisation, region: r.region },
        ]),
      );
    },
    /** An active person's email address and language, for a feature that must write to them. */
    async contact(id: string): Promise<Contact | undefined> {
      return (await service.contacts([id])).get(id);
    },
    async contacts(ids: readonly string[]): Promise<Map<string, Contact>> {
      return new Map(
        (await repo.contacts(ids)).map((r) => [
          r.id,
          { ...person(r), email: r.email!, locale: r.locale },
        ]),
      );
    },
    /** Approved, active people whose name follows an "@" in `text` (mentions; at most 200). */
    async approvedNamedIn(text: string): Promise<Person[]> {
      return (await repo.approvedNamedIn(text)).map(person);
    },
    /**
     * Approved, active people (not `excludeId`) whose name or a word of it
     * starts with `q`: those starting with it first, then alphabetical.
     */
    async searchApproved(f: {
      q: string;
      excludeId: string;
      limit: number;
      offset: number;
    }): Promise<Person[]> {
      return (await repo.searchApproved(f)).map(person);
    },

    /**
     * The signed-in person's password (to change it, their address, or to
     * delete the account): counted per account before the check, with the
     * sign-in's windows; TooMany when over.
     */
    async checkPassword(userId: string, password: string): Promise<boolean> {
      await passwordLimit.consume(userId);
      const user = await repo.userById(userId);
      const ok = await passwordMatches(user?.passwordHash, password);
      if (ok) await passwordLimit.reset(userId);
      return ok;
    },

    /** Change of password: other sessions end; this one is replaced by a new one. */
    async changePassword(actor: CurrentUser, password: string): Promise<string> {
      const user = (await repo.userById(actor.id))!;
      const passwordHash = await argonHash(password);
      await inUnit(async (w) => {
        await w.r.updateUser(actor.id, { passwordHash });
        await w.r.deleteUserSessions(actor.id);
        await audit('password.changed', { actorId: actor.id, subjectId: actor.id }, w);
        await email(
          user,
          'passwordChanged',
          { reset: `${baseUrl}/account/password/forgot` },
          undefined,
          w,
        );
      });
      return createSession(user, 'full');
    },

    async updateProfile(
      actor: CurrentUser,
      patch: {
        displayName: string;
        organisation?: string | undefined;
        region?: string | undefined;
        locale?: Locale;
      },
    ) {
      await repo.updateUser(actor.id, {
        displayName: patch.displayName,
        organisation: patch.organisation || null,
        region: patch.region || null,
        ...(patch.locale ? { locale: patch.locale } : {}),
      });
    },

    /** Sends a confirmation link to the new address and a notice to the old one. */
    async requestEmailChange(actor: CurrentUser, newEmail: string): Promise<'sent' | 'same'> {
      const user = (await repo.userById(actor.id))!;
      if (user.email?.toLowerCase() === newEmail.toLowerCase()) return 'same';
      const taken = await repo.userByEmail(newEmail);
      await inUnit(async (w) => {
        if (!taken) {
          const token = await issueToken(user.id, 'email-change', { email: newEmail }, w);
          await email(
            user,
            'emailChangeConfirm',
            { link: `${baseUrl}/account/email/confirm/${token}` },
            newEmail,
            w,
          );
        }
        // The old address hears either way; the asker learns nothing about the new one.
        await email(
          user,
          'emailChangeNotice',
          { signIn: `${baseUrl}/account/sign-in` },
          undefined,
          w,
        );
        await audit('email.change-requested', { actorId: user.id, subjectId: user.id }, w);
      });
      return 'sent';
    },

    async confirmEmailChange(token: string): Promise<'changed' | 'invalid' | 'taken'> {
      const row = await repo.consumeToken(sha256(token), 'email-change', now());
      if (!row) return 'invalid';
      const next = String((row.data as { email?: string }).email ?? '');
      if (!next || !(await repo.changeEmail(row.userId, next))) return 'taken';
      await repo.deleteUserSessions(row.userId);
      await audit('email.changed', { actorId: row.userId, subjectId: row.userId });
      return 'changed';
    },

    // Two-factor
    async startTwoFactorSetup(
      actor: CurrentUser,
    ): Promise<{ secret: string; uri: string; qrSvg: string }> {
      const user = (await repo.userById(actor.id))!;
      let secret: string;
      if (user.totpSecret && !user.totpEnabledAt) {
        secret = decrypt(user.totpSecret); // keep the pending secret across reloads
      } else {
        secret = new (otpauth().Secret)({ size: 20 }).base32;
        await repo.updateUser(actor.id, {
          totpSecret: encrypt(secret),
          totpEnabledAt: null,
          totpLastStep: null,
        });
      }
      const uri = totpFor(secret, user.displayName).toString();
      // qrcode is loaded with the first two-step set-up, not at start-up.
      const { default: QRCode } = await import('qrcode');
      const qrSvg = await QRCode.toString(uri, {
        type: 'svg',
        margin: 2,
        errorCorrectionLevel: 'M',
      });
      return { secret: secret.replace(/(.{4})/g, '$1 ').trim(), uri, qrSvg };
    },

    /**
     * After a rotation of the session secret: every two-step secret sealed
     * with the rotated-out key sealed again with the current one, so that
     * SESSION_SECRET_PREVIOUS can go. `left`: sealed with neither (those
     * people set two-step sign-in up again).
     */
    async resealTwoStepSecrets(): Promise<{ resealed: number; current: number; left: number }> {
      const counts = { resealed: 0, current: 0, left: 0 };
      for (const row of await repo.sealedTotpSecrets()) {
        let opened: { plain: string; stale: boolean };
        try {
          opened = unseal(row.totpSecret);
        } catch {
          counts.left++;
          continue;
        }
        if (!opened.stale) {
          counts.current++;
          continue;
        }
        await repo.updateUser(row.id, { totpSecret: encrypt(opened.plain) });
        counts.resealed++;
      }
      if (counts.resealed) await audit('2fa.resealed', { detail: { ...counts } });
      return counts;
    },

    /** Checks the first code and turns 2FA on; returns the recovery codes, shown once. */
    async confirmTwoFactor(actor: CurrentUser, code: string): Promise<string[] | undefined> {
      const user = (await repo.userById(actor.id))!;
      if (!user.totpSecret || user.totpEnabledAt || !(await checkTotp(user, code)))
        return undefined;
      await repo.updateUser(actor.id, { totpEnabledAt: now() });
      await audit('2fa.enabled', { actorId: actor.id, subjectId: actor.id });
      return service.newRecoveryCodes(actor);
    },

    async newRecoveryCodes(actor: CurrentUser): Promise<string[]> {
      const codes = Array.from({ length: 10 }, () => {
        const raw = randomBytes(8)
          .toString('base64url')
          .toLowerCase()
          .replace(/[^a-z0-9]/g, '')
          .padEnd(10, '7')
          .slice(0, 10);
        return `${raw.slice(0, 5)}-${raw.slice(5)}`;
      });
      await repo.replaceRecoveryCodes(
        actor.id,
        codes.map((c) => sha256(normaliseCode(c))),
      );
      await audit('2fa.recovery-codes', { actorId: actor.id, subjectId: actor.id });
      return codes;
    },

    async unusedRecoveryCodes(userId: string): Promise<number> {
      return repo.unusedRecoveryCodes(userId);
    },

    async disableTwoFactor(actor: CurrentUser): Promise<'disabled' | 'required'> {
      if (actor.role !== 'member') return 'required';
      await repo.updateUser(actor.id, {
        totpSecret: null,
        totpEnabledAt: null,
        totpLastStep: null,
      });
      await repo.replaceRecoveryCodes(actor.id, []);
      await audit('2fa.disabled', { actorId: actor.id, subjectId: actor.id });
      return 'disabled';
    },

    // Your data
    async exportData(actor: CurrentUser): Promise<Record<string, unknown>> {
      const user = (await repo.userById(actor.id))!;
      const data: Record<string, unknown> = {
        exportedAt: now().toISOString(),
        account: {
          id: user.id,
          email: user.email,
          emailVerifiedAt: user.emailVerifiedAt,
          displayName: user.displayName,
          kind: user.kind,
          organisation: user.organisation,
          region: user.region,
          language: user.locale,
          role: user.role,
          status: user.status,
          approvedAt: user.approvedAt,
          twoFactorEnabled: Boolean(user.totpEnabledAt),
          termsAcceptedAt: user.termsAcceptedAt,
          lastSignInAt: user.lastSignInAt,
          createdAt: user.createdAt,
        },
        sessions: (await repo.userSessions(user.id)).map((s) => ({
          createdAt: s.createdAt,
          lastSeenAt: s.lastSeenAt,
          expiresAt: s.expiresAt,
        })),
        securityEvents: (await repo.auditAbout(user.id)).map((a) => ({
          at: a.at,
          event: a.event,
          detail: a.detail,
        })),
      };
      for (const p of providers) data[p.name] = await p.export(user.id);
      await audit('account.exported', { actorId: user.id, subjectId: user.id });
      return data;
    },

    async requestDeletionLink(actor: CurrentUser, removeContributions: boolean): Promise<void> {
      const user = (await repo.userById(actor.id))!;
      await inUnit(async (w) => {
        const token = await issueToken(user.id, 'delete', { removeContributions }, w);
        await email(
          user,
          'deleteConfirm',
          { link: `${baseUrl}/account/delete/confirm/${token}` },
          undefined,
          w,
        );
      });
    },

    async deleteWithToken(token: string): Promise<boolean> {
      const row = await repo.consumeToken(sha256(token), 'delete', now());
      if (!row) return false;
      await service.deleteAccount(
        row.userId,
        Boolean((row.data as { removeContributions?: boolean }).removeContributions),
      );
      return true;
    },

    /** Erases personal data everywhere; contributions stay as "former member" unless asked otherwise. */
    async deleteAccount(userId: string, removeContributions: boolean): Promise<void> {
      const user = await repo.userById(userId);
      if (!user || user.status === 'deleted') return;
      // Each feature erases in its own unit of work (and queues what that causes).
      for (const p of providers) await p.erase(userId, removeContributions);
      await inUnit(async (w) => {
        await email(user, 'deleted', {}, undefined, w);
        await w.r.eraseUser(userId);
        await audit(
          'account.deleted',
          { actorId: userId, subjectId: userId, detail: { removeContributions } },
          w,
        );
      });
    },

    async purgeUnverified(): Promise<number> {
      const ids = await repo.deleteUnverifiedBefore(
        new Date(now().getTime() - UNVERIFIED_DAYS * 24 * 3600 * 1000),
      );
      if (ids.length) {
        await audit('account.purged-unverified', { detail: { count: ids.length } });
        log.info({ count: ids.length }, 'deleted unverified accounts');
      }
      await repo.deleteStaleSessions(new Date(now().getTime() - SESSION_IDLE_SECONDS * 1000));
      await repo.deleteOldTokens(new Date(now().getTime() - 24 * 3600 * 1000));
      await repo.pruneAttempts(new Date(now().getTime() - 24 * 3600 * 1000));
      return ids.length;
    },

    // Administration (moderators approve and suspend; admins also change roles and settings)
    /**
     * Members for the admin area, each role seeing what its work needs:
     * admins the whole account; moderators (who approve, suspend and resend
     * verification) the email's domain only — enough to judge a work
     * address — and a search that matches a whole address or a domain.
     */
    async listUsers(actor: CurrentUser | undefined, filter: UserFilter) {
      requireRole(actor, ['moderator', 'admin']);
      const found = await repo.searchUsers({
        ...filter,
        emailMatch: actor.role === 'admin' ? 'any' : 'whole-or-domain',
      });
      return { ...found, rows: found.rows.map((r) => forStaff(actor, account(r))) };
    },
    /** The ids of the people who moderate the community: active moderators and admins. */
    moderatorIds(): Promise<string[]> {
      return repo.idsWithRoles(['moderator', 'admin']);
    },
    async countPendingApproval(actor: CurrentUser | undefined): Promise<number> {
      requireRole(actor, ['moderator', 'editor', 'admin']);
      return repo.countPendingApproval();
    },
    async userForAdmin(actor: CurrentUser | undefined, id: string) {
      requireRole(actor, ['moderator', 'admin']);
      const row = await repo.userById(id);
      return row && forStaff(actor, account(row));
    },
    async approve(actor: CurrentUser | undefined, id: string): Promise<void> {
      requireRole(actor, ['moderator', 'admin']);
      const user = await repo.userById(id);
      if (!user || user.approvedAt || user.status === 'deleted') return;
      await inUnit(async (w) => {
        await w.r.updateUser(id, { approvedAt: now(), approvedBy: actor.id });
        await audit('account.approved', { actorId: actor.id, subjectId: id }, w);
        await email(user, 'approved', { link: `${baseUrl}/community` }, undefined, w);
      });
    },
    /** A role change signs the member out everywhere, so the new rights start with a new session. */
    async changeRole(
      actor: CurrentUser | undefined,
      id: string,
      role: Role,
    ): Promise<'changed' | 'self' | 'unchanged'> {
      requireRole(actor, ['admin']);
      if (actor.id === id) return 'self';
      const user = await repo.userById(id);
      if (!user || user.role === role || user.status === 'deleted') return 'unchanged';
      await repo.updateUser(id, {
        role,
        ...(role !== 'member' && !user.approvedAt
          ? { approvedAt: now(), approvedBy: actor.id }
          : {}),
      });
      await repo.deleteUserSessions(id);
      await audit('account.role-changed', {
        actorId: actor.id,
        subjectId: id,
        detail: { from: user.role, to: role },
      });
      return 'changed';
    },
    async setStatus(
      actor: CurrentUser | undefined,
      id: string,
      status: Exclude<UserStatus, 'deleted'>,
      reason: string,
    ): Promise<'changed' | 'self' | 'unchanged'> {
      requireRole(actor, ['moderator', 'admin']);
      if (actor.id === id) return 'self';
      const user = await repo.userById(id);
      if (!user || user.status === 'deleted' || user.status === status) return 'unchanged';
      if (user.role === 'admin' && actor.role !== 'admin')
        throw new AccessDenied('Only admins can suspend admins');
      await inUnit(async (w) => {
        await w.r.updateUser(id, { status, statusReason: reason });
        if (status === 'suspended') await w.r.deleteUserSessions(id);
        await audit(
          status === 'suspended' ? 'account.suspended' : 'account.restored',
          { actorId: actor.id, subjectId: id, detail: { reason } },
          w,
        );
        await email(
          user,
          status === 'suspended' ? 'suspended' : 'restored',
          { reason },
          undefined,
          w,
        );
      });
      return 'changed';
    },
    async resendVerification(actor: CurrentUser | undefined, id: string): Promise<boolean> {
      requireRole(actor, ['moderator', 'admin']);
      const user = await repo.userById(id);
      if (!user || user.emailVerifiedAt || user.status !== 'active') return false;
      await inUnit(async (w) => {
        const token = await issueToken(user.id, 'verify', {}, w);
        await email(user, 'verify', { link: `${baseUrl}/account/verify/${token}` }, undefined, w);
        await audit('account.verification-resent', { actorId: actor.id, subjectId: id }, w);
      });
      return true;
    },
    async searchAudit(actor: CurrentUser | undefined, filter: AuditFilter) {
      requireRole(actor, ['admin']);
      return repo.searchAudit(filter);
    },
    async auditEvents(actor: CurrentUser | undefined): Promise<string[]> {
      requireRole(actor, ['admin']);
      return repo.auditEvents();
    },
    /** A site setting, for other features (no one's data: e.g. how many first posts are held). */
    setting<T>(key: string): Promise<T | undefined> {
      return repo.setting<T>(key);
    },
    /** Change a feature's site setting: the caller's service decides who may (and audits). */
    putSetting(key: string, value: unknown): Promise<void> {
      return repo.putSetting(key, value);
    },
    async autoApproveDomains(actor: CurrentUser | undefined): Promise<string[]> {
      requireRole(actor, ['admin']);
      return (await repo.setting<string[]>(AUTO_APPROVE_KEY)) ?? DEFAULT_AUTO_APPROVE;
    },
    async setAutoApproveDomains(actor: CurrentUser | undefined, patterns: string[]): Promise<void> {
      requireRole(actor, ['admin']);
      await repo.putSetting(AUTO_APPROVE_KEY, patterns);
      await audit('settings.auto-approve-domains', { actorId: actor.id, detail: { patterns } });
    },

    /** The CLI's user:create and the demo seed: a verified, approved account with a role. */
    async createUserDirect(input: {
      email: string;
      role: Role;
      displayName: string;
      password?: string | undefined;
      kind?: MemberKind;
      approved?: boolean;
    }): Promise<{ user: Account; created: boolean }> {
      const existing = await repo.userByEmail(input.email);
      if (existing) return { user: account(existing), created: false };
      const user = await repo.insertUser({
        email: input.email,
        displayName: input.displayName,
        kind: input.kind ?? 'practitioner',
        role: input.role,
        passwordHash: input.password ? await argonHash(input.password) : null,
        emailVerifiedAt: now(),
        approvedAt: input.approved === false ? null : now(),
        termsAcceptedAt: now(),
      });
      await audit('account.created-by-operator', {
        subjectId: user.id,
        detail: { role: input.role },
      });
      return { user: account(user), created: true };
    },
  };

  deps.jobs.register('accounts.purge', async () => {
    await service.purgeUnverified();
  });
  return service;
}

export type AccountsService = ReturnType<typeof createAccountsService>;
