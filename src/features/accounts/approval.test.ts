import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../../../test/helpers/app.ts';
import { linkFromMail } from '../../../test/helpers/mail.ts';
import { accessAllows } from '../../platform/auth.ts';
import { accessTo } from '../community/service.ts';
import { isApproved } from './approval.ts';
import { createAccountsRepository } from './repository.ts';
import { type AccountsService, createAccountsService, ROLES } from './service.ts';

/**
 * Nothing secret leaves accounts, proved by the compiler: no value any
 * function of the service returns (however deep, in arrays, maps or
 * promises) has a field named like a password hash or a two-step secret.
 */
type Secret = 'passwordHash' | 'totpSecret' | 'totpLastStep';
type Leaks<T> = T extends string | number | boolean | bigint | symbol | Date | null | undefined
  ? never
  : T extends Promise<infer U>
    ? Leaks<U>
    : T extends Map<unknown, infer V>
      ? Leaks<V>
      : T extends readonly (infer U)[]
        ? Leaks<U>
        : T extends (...args: never[]) => infer R
          ? Leaks<R>
          : T extends object
            ? Extract<keyof T, Secret> | { [K in keyof T]-?: Leaks<T[K]> }[keyof T]
            : never;
const noSecretLeaves: [Leaks<AccountsService>] extends [never] ? true : false = true;

const PASSWORD = 'maple lantern river 42';

describe('accounts: one definition of approved, no secrets out, a clock', () => {
  let t: TestApp;
  before(async () => {
    t = await testApp();
  });
  after(async () => t.close());

  test('the exported service returns no hash or secret (checked by the type checker)', () => {
    assert.equal(noSecretLeaves, true);
  });

  test('approved agrees everywhere: session, read model, SQL, route access, community', async () => {
    const accounts = t.app.services.accounts;
    const space = {
      visibility: 'members',
      publicRead: false,
    } as Parameters<typeof accessTo>[0];
    for (const role of ROLES) {
      for (const approved of [false, true]) {
        const email = `${role}-${approved ? 'yes' : 'no'}@example.org`;
        const name = `Ada ${role} ${approved ? 'yes' : 'no'}`;
        const { user } = await accounts.createUserDirect({
          email,
          role,
          displayName: name,
          password: PASSWORD,
          approved,
        });
        const rule = isApproved(user);
        assert.equal(rule, approved || role !== 'member', `${role}, approved ${approved}`);
        const signedIn = await accounts.signInWithPassword(email, PASSWORD);
        assert.ok(signedIn.ok);
        const session = await accounts.loadSession(signedIn.token);
        const current = session!.user;
        const who = `${role}${approved ? '' : ' not approved by a moderator'}`;
        assert.equal(accessAllows('member', current), rule, `route access, ${who}`);
        assert.equal(current.approved, rule, `the session, ${who}`);
        assert.equal((await accounts.person(user.id))?.approved, rule, `person(), ${who}`);
        const named = await accounts.approvedNamedIn(`hello @${name}`);
        assert.equal(
          named.some((p) => p.id === user.id),
          rule,
          `the SQL (mentions), ${who}`,
        );
        assert.equal(accessTo(space, current, undefined).post, rule, `community, ${who}`);
        assert.equal(
          Boolean(await accounts.approvedMemberByEmail(email)),
          rule,
          `approvedMemberByEmail, ${who}`,
        );
      }
    }
  });

  test('a sign-in link expires after 15 minutes (the clock is injected)', async () => {
    let now = new Date('2030-01-01T10:00:00Z');
    const p = t.app.platform;
    const accounts = createAccountsService({
      repo: createAccountsRepository(p.database.db),
      mailer: p.mailer,
      jobs: p.jobs,
      i18n: p.i18n,
      baseUrl: p.config.baseUrl,
      secret: p.config.sessionSecret,
      log: t.app.log,
      transaction: (work) => p.database.transaction(work),
      now: () => now,
    });
    await accounts.createUserDirect({
      email: 'clock@example.org',
      role: 'member',
      displayName: 'C',
    });
    await accounts.requestSignInLink('clock@example.org');
    const link = await linkFromMail(t.app, 'clock@example.org', '/account/sign-in/link/');
    const token = link.split('/').pop()!;
    now = new Date('2030-01-01T10:14:00Z');
    assert.equal(await accounts.tokenIsValid(token, 'signin'), true, 'valid at 14 minutes');
    now = new Date('2030-01-01T10:16:00Z');
    assert.equal(await accounts.tokenIsValid(token, 'signin'), false, 'expired at 16 minutes');
    const result = await accounts.signInWithLink(token);
    assert.equal(result.ok, false, 'an expired link signs no one in');
  });
});
