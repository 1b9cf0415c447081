import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { SESSION_COOKIE, safeNext as safePath, userOf } from '../../platform/auth.ts';
import { SIGN_IN_PATH } from './navigation.ts';
import { fieldError, type FormErrors, parseForm } from '../../platform/forms.ts';
import { TooMany, waitText } from '../../platform/rate-limit.ts';
import { MEMBER_KINDS } from './schema.ts';
import { type AccountsService, passwordProblem, SESSION_ABSOLUTE_SECONDS } from './service.ts';

/** A local path to come back to; anything else becomes the account page. */
const safeNext = (next: unknown) => safePath(next, '/account');

/** HTTP only: parse with zod, call the accounts service, render. */

const V = 'accounts/views';
const E = 'accounts.errors';

const emailField = z
  .string(E + '.emailRequired')
  .trim()
  .min(1, E + '.emailRequired')
  .max(254, E + '.emailInvalid')
  .pipe(z.email(E + '.emailInvalid'));
const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, E + '.tooLong')
    .optional()
    .transform((v) => v || undefined);
const password = z.string(E + '.passwordRequired').min(1, E + '.passwordRequired');
const tokenParam = z.object({ token: z.string().min(10).max(100) });
const nextQuery = z.object({ next: z.string().optional() });

const registerSchema = z.object({
  email: emailField,
  displayName: z
    .string(E + '.displayNameRequired')
    .trim()
    .min(1, E + '.displayNameRequired')
    .max(60, E + '.displayNameTooLong'),
  kind: z.enum(MEMBER_KINDS, E + '.kindRequired'),
  organisation: optionalText(120),
  region: optionalText(80),
  password,
  agree: z.literal('yes', E + '.agreeRequired'),
});

const signInSchema = z.object({ email: emailField, password, next: z.string().optional() });
const emailOnly = z.object({ email: emailField });
const codeSchema = z.object({
  code: z
    .string(E + '.codeRequired')
    .trim()
    .min(1, E + '.codeRequired')
    .max(20, E + '.codeInvalid'),
});
const newPasswordSchema = z.object({ password });
const changePasswordSchema = z.object({
  current: z.string(E + '.currentRequired').min(1, E + '.currentRequired'),
  password,
});
const changeEmailSchema = z.object({
  email: emailField,
  current: z.string(E + '.currentRequired').min(1, E + '.currentRequired'),
});
const profileSchema = z.object({
  displayName: registerSchema.shape.displayName,
  organisation: optionalText(120),
  region: optionalText(80),
  locale: z.enum(['en', 'cy'], E + '.localeRequired'),
});
const deleteSchema = z.object({
  method: z.enum(['password', 'email'], E + '.deleteMethodRequired'),
  current: z.string().optional(),
  removeContributions: z.enum(['yes']).optional(),
});

const SIGN_IN_LINK = { href: '/account/sign-in', key: 'common.nav.signIn' };
/** Where each message page leads next. */
const MESSAGE_LINKS: Record<string, { href: string; key: string }> = {
  'verified.approved': SIGN_IN_LINK,
  'verified.pending': SIGN_IN_LINK,
  passwordReset: SIGN_IN_LINK,
  emailChanged: SIGN_IN_LINK,
  linkInvalid: { href: '/account/sign-in', key: 'accounts.linkInvalid.link' },
  deleted: { href: '/', key: 'common.errors.home' },
  suspended: { href: '/contact', key: 'common.footer.contact' },
  emailTaken: { href: '/account', key: 'accounts.backToAccount' },
};

const pub = { access: 'public' as const };
const signedIn = { access: 'signedIn' as const };
/**
 * Ceilings per network address, generous: many people share one (NHS and
 * council networks). The limits that stop an attack are per account and per
 * email address, in the accounts service.
 */
const ceiling = (max: number, minutes: number) => ({
  rateLimit: { max, timeWindow: minutes * 60_000 },
});
/** Forms that check a password or a code: 120 a minute per address. */
const checks = ceiling(120, 1);
/** Forms that send an email: 100 in 15 minutes per address. */
const emails = ceiling(100, 15);
const limited = (c: ReturnType<typeof ceiling>) => ({ ...pub, ...c });

/**
 * A limit of the accounts service was reached: the form's error at `field`
 * saying how long to wait, and the response's Retry-After. Anything else is
 * thrown on.
 */
function tooMany(
  req: FastifyRequest,
  reply: FastifyReply,
  err: unknown,
  field: string,
  key: string,
) {
  if (!(err instanceof TooMany)) throw err;
  reply.header('retry-after', String(err.retryAfterSeconds));
  return fieldError(field, `${E}.tooMany.${key}`, req.t, {
    wait: waitText(req.t, err.retryAfterSeconds),
  });
}

export function accountsRoutes(
  accounts: AccountsService,
  opts: { secure: boolean },
): FastifyPluginAsync {
  return async (app) => {
    const setSession = (reply: FastifyReply, token: string) =>
      reply.setCookie(SESSION_COOKIE, token, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: opts.secure,
        maxAge: SESSION_ABSOLUTE_SECONDS,
      });
    const clearSession = (reply: FastifyReply) => reply.clearCookie(SESSION_COOKIE, { path: '/' });
    const message = (
      reply: FastifyReply,
      req: FastifyRequest,
      key: string,
      status = 200,
      extra: Record<string, unknown> = {},
    ) =>
      reply.render(
        `${V}/message.njk`,
        {
          title: req.t(`accounts.${key}.title`),
          messageKey: key,
          link: MESSAGE_LINKS[key],
          noindex: true,
          ...extra,
        },
        status,
      );
    const passwordErrors = (
      req: FastifyRequest,
      pw: string,
      about: { email?: string; displayName?: string },
    ): FormErrors | undefined => {
      const problem = passwordProblem(pw, about);
      return problem ? fieldError('password', `${E}.password.${problem}`, req.t) : undefined;
    };
    /** A link from an email: GET shows a button (mail scanners follow links), POST acts. */
    const linkPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      purpose: Parameters<AccountsService['tokenIsValid']>[1],
      key: string,
    ) => {
      const p = tokenParam.safeParse(req.params);
      if (!p.success || !(await accounts.tokenIsValid(p.data.token, purpose)))
        return message(reply, req, 'linkInvalid', 404);
      return reply.render(`${V}/confirm-link.njk`, {
        title: req.t(`accounts.${key}.title`),
        key,
        action: req.url.split('?')[0],
        noindex: true,
      });
    };
    const afterSignIn = (
      req: FastifyRequest,
      reply: FastifyReply,
      result: Awaited<ReturnType<AccountsService['signInWithLink']>>,
      next?: string,
    ) => {
      if (!result.ok) return undefined;
      setSession(reply, result.token);
      if (result.stage === 'mfa')
        return reply.redirect(
          `/account/sign-in/two-factor?next=${encodeURIComponent(safeNext(next))}`,
          303,
        );
      return reply.redirect(safeNext(next), 303);
    };

    // Registration and verification
    app.get('/account/register', { config: pub }, async (req, reply) =>
      req.user
        ? reply.redirect('/account', 303)
        : reply.render(`${V}/register.njk`, {
            title: req.t('accounts.register.title'),
            values: {},
          }),
    );
    app.post('/account/register', { config: limited(emails) }, async (req, reply) => {
      const form = parseForm(registerSchema, req.body, req.t);
      const render = (errors: FormErrors, values: Record<string, unknown>, status = 400) =>
        reply.render(
          `${V}/register.njk`,
          { title: req.t('accounts.register.title'), errors, values },
          status,
        );
      if (!form.ok) return render(form.errors, form.values);
      const d = form.data;
      const pwErr = passwordErrors(req, d.password, d);
      if (pwErr) return render(pwErr, { ...d, password: undefined });
      try {
        await accounts.register({ ...d, locale: req.locale });
      } catch (err) {
        const errors = tooMany(req, reply, err, 'email', 'register');
        return render(errors, { ...d, password: undefined }, 429);
      }
      return reply.redirect('/account/check-email?for=register', 303);
    });
    app.get('/account/check-email', { config: pub }, async (req, reply) => {
      const kind = z
        .enum(['register', 'link', 'reset', 'email', 'delete'])
        .catch('register')
        .parse((req.query as { for?: string }).for);
      return message(reply, req, `checkEmail.${kind}`);
    });
    app.get('/account/verify/:token', { config: pub }, async (req, reply) =>
      linkPage(req, reply, 'verify', 'verify'),
    );
    app.post('/account/verify/:token', { config: pub }, async (req, reply) => {
      const p = tokenParam.safeParse(req.params);
      const user = p.success ? await accounts.verifyEmail(p.data.token) : undefined;
      if (!user) return message(reply, req, 'linkInvalid', 404);
      return message(reply, req, user.approvedAt ? 'verified.approved' : 'verified.pending');
    });

    // Signing in
    app.get('/account/sign-in', { config: pub }, async (req, reply) => {
      const { next } = nextQuery.parse(req.query);
      if (req.user) return reply.redirect(safeNext(next), 303);
      return reply.render(`${V}/sign-in.njk`, {
        title: req.t('accounts.signIn.title'),
        values: { next },
      });
    });
    app.post('/account/sign-in', { config: limited(checks) }, async (req, reply) => {
      const form = parseForm(signInSchema, req.body, req.t);
      const render = (errors: FormErrors, values: Record<string, unknown>, status = 400) =>
        reply.render(
          `${V}/sign-in.njk`,
          { title: req.t('accounts.signIn.title'), errors, values },
          status,
        );
      if (!form.ok) return render(form.errors, form.values);
      const values = { email: form.data.email, next: form.data.next };
      let result;
      try {
        result = await accounts.signInWithPassword(form.data.email, form.data.password);
      } catch (err) {
        return render(tooMany(req, reply, err, 'email', 'signIn'), values, 429);
      }
      if (!result.ok) {
        if (result.reason === 'suspended')
          return message(reply, req, 'suspended', 403, { reason: result.statusReason });
        return render(fieldError('email', `${E}.signIn.${result.reason}`, req.t), values);
      }
      return afterSignIn(req, reply, result, form.data.next);
    });
    app.get('/account/sign-in/email', { config: pub }, async (req, reply) =>
      reply.render(`${V}/sign-in-email.njk`, {
        title: req.t('accounts.signInEmail.title'),
        values: {},
      }),
    );
    app.post('/account/sign-in/email', { config: limited(emails) }, async (req, reply) => {
      const form = parseForm(emailOnly, req.body, req.t);
      if (!form.ok)
        return reply.render(
          `${V}/sign-in-email.njk`,
          { title: req.t('accounts.signInEmail.title'), errors: form.errors, values: form.values },
          400,
        );
      await accounts.requestSignInLink(form.data.email);
      return reply.redirect('/account/check-email?for=link', 303);
    });
    app.get('/account/sign-in/link/:token', { config: pub }, async (req, reply) =>
      linkPage(req, reply, 'signin', 'signInLink'),
    );
    app.post('/account/sign-in/link/:token', { config: pub }, async (req, reply) => {
      const p = tokenParam.safeParse(req.params);
      const result = p.success
        ? await accounts.signInWithLink(p.data.token)
        : ({ ok: false, reason: 'invalid' } as const);
      if (!result.ok) {
        if (result.reason === 'suspended')
          return message(reply, req, 'suspended', 403, { reason: result.statusReason });
        return message(reply, req, 'linkInvalid', 404);
      }
      return afterSignIn(req, reply, result);
    });
    app.get('/account/sign-in/two-factor', { config: pub }, async (req, reply) => {
      if (req.session?.stage !== 'mfa') return reply.redirect(SIGN_IN_PATH, 303);
      const { next } = nextQuery.parse(req.query);
      return reply.render(`${V}/two-factor-challenge.njk`, {
        title: req.t('accounts.twoFactorChallenge.title'),
        values: { next },
        noindex: true,
      });
    });
    app.post('/account/sign-in/two-factor', { config: limited(checks) }, async (req, reply) => {
      if (req.session?.stage !== 'mfa') return reply.redirect(SIGN_IN_PATH, 303);
      const next = (req.body as { next?: string } | undefined)?.next;
      const form = parseForm(codeSchema, req.body, req.t);
      const render = (errors: FormErrors, status = 400) =>
        reply.render(
          `${V}/two-factor-challenge.njk`,
          { title: req.t('accounts.twoFactorChallenge.title'), errors, values: { next } },
          status,
        );
      if (!form.ok) return render(form.errors);
      let result;
      try {
        result = await accounts.completeTwoFactor(req.session.id, form.data.code);
      } catch (err) {
        return render(tooMany(req, reply, err, 'code', 'code'), 429);
      }
      if (!result.ok) return render(fieldError('code', `${E}.codeWrong`, req.t));
      setSession(reply, result.token);
      return reply.redirect(safeNext(next), 303);
    });

    app.get('/account/sign-out', { config: pub }, async (req, reply) =>
      reply.render(`${V}/sign-out.njk`, {
        title: req.t(req.user ? 'accounts.signOut.title' : 'accounts.signedOut.title'),
        noindex: true,
      }),
    );
    app.post('/account/sign-out', { config: pub }, async (req, reply) => {
      if (req.session) await accounts.signOut(req.session.id);
      clearSession(reply);
      return reply.redirect('/account/sign-out', 303);
    });
    app.post('/account/sign-out-everywhere', { config: signedIn }, async (req, reply) => {
      await accounts.signOutEverywhere(userOf(req));
      clearSession(reply);
      return reply.redirect('/account/sign-out', 303);
    });

    // Passwords
    app.get('/account/password/forgot', { config: pub }, async (req, reply) =>
      reply.render(`${V}/forgot.njk`, { title: req.t('accounts.forgot.title'), values: {} }),
    );
    app.post('/account/password/forgot', { config: limited(emails) }, async (req, reply) => {
      const form = parseForm(emailOnly, req.body, req.t);
      if (!form.ok)
        return reply.render(
          `${V}/forgot.njk`,
          { title: req.t('accounts.forgot.title'), errors: form.errors, values: form.values },
          400,
        );
      await accounts.requestPasswordReset(form.data.email);
      return reply.redirect('/account/check-email?for=reset', 303);
    });
    app.get('/account/password/reset/:token', { config: pub }, async (req, reply) => {
      const p = tokenParam.safeParse(req.params);
      if (!p.success || !(await accounts.tokenIsValid(p.data.token, 'reset')))
        return message(reply, req, 'linkInvalid', 404);
      return reply.render(`${V}/reset.njk`, {
        title: req.t('accounts.reset.title'),
        action: req.url.split('?')[0],
        noindex: true,
      });
    });
    app.post('/account/password/reset/:token', { config: limited(emails) }, async (req, reply) => {
      const p = tokenParam.safeParse(req.params);
      if (!p.success) return message(reply, req, 'linkInvalid', 404);
      const render = (errors: FormErrors) =>
        reply.render(
          `${V}/reset.njk`,
          {
            title: req.t('accounts.reset.title'),
            errors,
            action: req.url.split('?')[0],
            noindex: true,
          },
          400,
        );
      const form = parseForm(newPasswordSchema, req.body, req.t);
      if (!form.ok) return render(form.errors);
      const pwErr = passwordErrors(req, form.data.password, {});
      if (pwErr) return render(pwErr);
      const user = await accounts.resetPassword(p.data.token, form.data.password);
      if (!user) return message(reply, req, 'linkInvalid', 404);
      clearSession(reply);
      return message(reply, req, 'passwordReset');
    });

    // Your account
    app.get('/account', { config: signedIn }, async (req, reply) => {
      const user = (await accounts.account(userOf(req).id))!;
      return reply.render(`${V}/account.njk`, {
        title: req.t('accounts.account.title'),
        account: user,
        recoveryCodesLeft: user.totpEnabledAt ? await accounts.unusedRecoveryCodes(user.id) : 0,
        noindex: true,
        notice: (req.query as { done?: string }).done,
      });
    });
    app.get('/account/profile', { config: signedIn }, async (req, reply) => {
      const user = (await accounts.account(userOf(req).id))!;
      return reply.render(`${V}/profile.njk`, {
        title: req.t('accounts.profile.title'),
        values: { ...user },
        noindex: true,
      });
    });
    app.post('/account/profile', { config: signedIn }, async (req, reply) => {
      const form = parseForm(profileSchema, req.body, req.t);
      if (!form.ok)
        return reply.render(
          `${V}/profile.njk`,
          {
            title: req.t('accounts.profile.title'),
            errors: form.errors,
            values: form.values,
            noindex: true,
          },
          400,
        );
      await accounts.updateProfile(userOf(req), form.data);
      return reply.redirect('/account?done=profile', 303);
    });
    app.get('/account/password', { config: signedIn }, async (req, reply) =>
      reply.render(`${V}/change-password.njk`, {
        title: req.t('accounts.changePassword.title'),
        noindex: true,
      }),
    );
    app.post('/account/password', { config: { ...signedIn, ...emails } }, async (req, reply) => {
      const render = (errors: FormErrors, status = 400) =>
        reply.render(
          `${V}/change-password.njk`,
          { title: req.t('accounts.changePassword.title'), errors, noindex: true },
          status,
        );
      const form = parseForm(changePasswordSchema, req.body, req.t);
      if (!form.ok) return render(form.errors);
      let right;
      try {
        right = await accounts.checkPassword(userOf(req).id, form.data.current);
      } catch (err) {
        return render(tooMany(req, reply, err, 'current', 'password'), 429);
      }
      if (!right) return render(fieldError('current', `${E}.currentWrong`, req.t));
      const user = (await accounts.account(userOf(req).id))!;
      const pwErr = passwordErrors(req, form.data.password, {
        email: user.email ?? '',
        displayName: user.displayName,
      });
      if (pwErr) return render(pwErr);
      setSession(reply, await accounts.changePassword(userOf(req), form.data.password));
      return reply.redirect('/account?done=password', 303);
    });
    app.get('/account/email', { config: signedIn }, async (req, reply) =>
      reply.render(`${V}/change-email.njk`, {
        title: req.t('accounts.changeEmail.title'),
        values: {},
        noindex: true,
      }),
    );
    app.post('/account/email', { config: { ...signedIn, ...emails } }, async (req, reply) => {
      const render = (errors: FormErrors, values: Record<string, unknown>, status = 400) =>
        reply.render(
          `${V}/change-email.njk`,
          { title: req.t('accounts.changeEmail.title'), errors, values, noindex: true },
          status,
        );
      const form = parseForm(changeEmailSchema, req.body, req.t);
      if (!form.ok) return render(form.errors, form.values);
      let right;
      try {
        right = await accounts.checkPassword(userOf(req).id, form.data.current);
      } catch (err) {
        const errors = tooMany(req, reply, err, 'current', 'password');
        return render(errors, { email: form.data.email }, 429);
      }
      if (!right) {
        return render(fieldError('current', `${E}.currentWrong`, req.t), {
          email: form.data.email,
        });
      }
      const result = await accounts.requestEmailChange(userOf(req), form.data.email);
      if (result === 'same')
        return render(fieldError('email', `${E}.emailSame`, req.t), { email: form.data.email });
      return reply.redirect('/account/check-email?for=email', 303);
    });
    app.get('/account/email/confirm/:token', { config: pub }, async (req, reply) =>
      linkPage(req, reply, 'email-change', 'emailConfirm'),
    );
    app.post('/account/email/confirm/:token', { config: pub }, async (req, reply) => {
      const p = tokenParam.safeParse(req.params);
      const result = p.success ? await accounts.confirmEmailChange(p.data.token) : 'invalid';
      if (result === 'invalid') return message(reply, req, 'linkInvalid', 404);
      if (result === 'taken') return message(reply, req, 'emailTaken', 409);
      clearSession(reply);
      return message(reply, req, 'emailChanged');
    });

    // Two-factor
    app.get('/account/two-factor', { config: signedIn }, async (req, reply) => {
      const user = (await accounts.account(userOf(req).id))!;
      return reply.render(`${V}/two-factor.njk`, {
        title: req.t('accounts.twoFactor.title'),
        enabled: Boolean(user.totpEnabledAt),
        required: userOf(req).role !== 'member',
        recoveryCodesLeft: await accounts.unusedRecoveryCodes(user.id),
        noindex: true,
      });
    });
    const setupPage = async (req: FastifyRequest, reply: FastifyReply, errors?: FormErrors) => {
      const setup = await accounts.startTwoFactorSetup(userOf(req));
      const { next } = nextQuery.parse(req.query);
      return reply.render(
        `${V}/two-factor-setup.njk`,
        {
          title: req.t('accounts.twoFactorSetup.title'),
          setup,
          errors,
          next: next ?? (req.body as { next?: string } | undefined)?.next,
          required: userOf(req).role !== 'member',
          noindex: true,
        },
        errors ? 400 : 200,
      );
    };
    app.get('/account/two-factor/setup', { config: signedIn }, async (req, reply) => {
      if (userOf(req).totpEnabled) return reply.redirect('/account/two-factor', 303);
      return setupPage(req, reply);
    });
    app.post(
      '/account/two-factor/setup',
      { config: { ...signedIn, ...emails } },
      async (req, reply) => {
        if (userOf(req).totpEnabled) return reply.redirect('/account/two-factor', 303);
        const form = parseForm(codeSchema, req.body, req.t);
        if (!form.ok) return setupPage(req, reply, form.errors);
        const codes = await accounts.confirmTwoFactor(userOf(req), form.data.code);
        if (!codes) return setupPage(req, reply, fieldError('code', `${E}.codeWrong`, req.t));
        const next = (req.body as { next?: string }).next;
        return reply.render(`${V}/recovery-codes.njk`, {
          title: req.t('accounts.recoveryCodes.title'),
          codes,
          next: safeNext(next),
          noindex: true,
        });
      },
    );
    app.post('/account/two-factor/recovery-codes', { config: signedIn }, async (req, reply) => {
      if (!userOf(req).totpEnabled) return reply.redirect('/account/two-factor', 303);
      const codes = await accounts.newRecoveryCodes(userOf(req));
      return reply.render(`${V}/recovery-codes.njk`, {
        title: req.t('accounts.recoveryCodes.title'),
        codes,
        next: '/account',
        noindex: true,
      });
    });
    app.post('/account/two-factor/disable', { config: signedIn }, async (req, reply) => {
      const result = await accounts.disableTwoFactor(userOf(req));
      return reply.redirect(
        result === 'disabled' ? '/account?done=2fa-off' : '/account/two-factor',
        303,
      );
    });

    // Your data
    app.post('/account/export', { config: signedIn }, async (req, reply) => {
      const data = await accounts.exportData(userOf(req));
      return reply
        .header('content-type', 'application/json; charset=utf-8')
        .header('content-disposition', 'attachment; filename="supporting-parents-my-data.json"')
        .header('cache-control', 'no-store')
        .send(JSON.stringify(data, null, 2));
    });
    app.get('/account/delete', { config: signedIn }, async (req, reply) =>
      reply.render(`${V}/delete.njk`, {
        title: req.t('accounts.delete.title'),
        values: {},
        noindex: true,
      }),
    );
    app.post('/account/delete', { config: { ...signedIn, ...emails } }, async (req, reply) => {
      const render = (errors: FormErrors, values: Record<string, unknown>, status = 400) =>
        reply.render(
          `${V}/delete.njk`,
          { title: req.t('accounts.delete.title'), errors, values, noindex: true },
          status,
        );
      const form = parseForm(deleteSchema, req.body, req.t);
      if (!form.ok) return render(form.errors, form.values);
      const remove = form.data.removeContributions === 'yes';
      if (form.data.method === 'email') {
        await accounts.requestDeletionLink(userOf(req), remove);
        return reply.redirect('/account/check-email?for=delete', 303);
      }
      let right: boolean;
      try {
        right = Boolean(
          form.data.current && (await accounts.checkPassword(userOf(req).id, form.data.current)),
        );
      } catch (err) {
        const errors = tooMany(req, reply, err, 'current', 'password');
        return render(errors, { method: 'password' }, 429);
      }
      if (!right) {
        return render(
          fieldError(
            'current',
            form.data.current ? `${E}.currentWrong` : `${E}.currentRequired`,
            req.t,
          ),
          {
            method: 'password',
            removeContributions: form.data.removeContributions,
          },
        );
      }
      await accounts.deleteAccount(userOf(req).id, remove);
      clearSession(reply);
      return message(reply, req, 'deleted');
    });
    app.get('/account/delete/confirm/:token', { config: pub }, async (req, reply) =>
      linkPage(req, reply, 'delete', 'deleteConfirm'),
    );
    app.post('/account/delete/confirm/:token', { config: pub }, async (req, reply) => {
      const p = tokenParam.safeParse(req.params);
      if (!p.success || !(await accounts.deleteWithToken(p.data.token)))
        return message(reply, req, 'linkInvalid', 404);
      clearSession(reply);
      return message(reply, req, 'deleted');
    });
  };
}
