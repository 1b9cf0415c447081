import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { sendErrorPage } from './errors.ts';
import type { Access } from './routes.ts';

/**
 * Who is asking, and may they. The accounts feature supplies `loadSession`
 * (sessions live in its tables); this module reads the session cookie on
 * every request and enforces each route's declared `access` before anything
 * else runs. Services check again for the rules that depend on the data.
 */

export const SESSION_COOKIE = 'sp_session';

/** Thrown by a service when the actor may not do this (shown as a 403 page). */
export class AccessDenied extends Error {
  statusCode = 403;
}
export const STAFF_ROLES = ['moderator', 'editor', 'admin'] as const;
export type UserRole = 'member' | 'moderator' | 'editor' | 'admin';

/** An entry for the audit log: the accounts service's `audit`, as other features are given it. */
export type AuditLog = (
  event: string,
  opts: { actorId?: string | null; subjectId?: string | null; detail?: Record<string, unknown> },
) => Promise<void>;

export interface CurrentUser {
  id: string;
  displayName: string;
  role: UserRole;
  /** Approved for the community (staff always are). */
  approved: boolean;
  totpEnabled: boolean;
}

export interface SessionInfo {
  id: string;
  stage: 'full' | 'mfa';
  user: CurrentUser;
}

declare module 'fastify' {
  interface FastifyRequest {
    session: SessionInfo | undefined;
    /** The signed-in person (a full session), or undefined for a visitor. */
    user: CurrentUser | undefined;
  }
}

/**
 * The signed-in person, on a route whose `access` needs one (any level but
 * `public`): the auth hook has refused everyone else before the handler
 * runs, so this never throws there. Typed, so handlers need no `req.user!`.
 */
export function userOf(req: FastifyRequest): CurrentUser {
  if (!req.user) throw new AccessDenied('Signed in only');
  return req.user;
}

export function isStaff(user: CurrentUser | undefined): boolean {
  return Boolean(user && (STAFF_ROLES as readonly string[]).includes(user.role));
}

/** Whether `user` may use a route with this access level (2FA aside). */
export function accessAllows(access: Access, user: CurrentUser | undefined): boolean {
  if (access === 'public') return true;
  if (!user) return false;
  switch (access) {
    case 'signedIn':
      return true;
    case 'member':
      return user.approved || isStaff(user);
    case 'staff':
      return isStaff(user);
    case 'moderator':
      return user.role === 'moderator' || user.role === 'admin';
    case 'editor':
      return user.role === 'editor' || user.role === 'admin';
    case 'admin':
      return user.role === 'admin';
  }
}

/** Levels that need two-factor sign-in to be set up first. */
const NEEDS_2FA: ReadonlySet<Access> = new Set(['staff', 'moderator', 'editor', 'admin']);

/**
 * A local path to come back to; anything else becomes `fallback`. Characters
 * outside ASCII are percent-encoded (a Location header takes no others: `/。x`
 * used to fail the sign-in with a 500); a lone surrogate or a control
 * character makes it `fallback`.
 */
export function safeNext(next: unknown, fallback: string): string {
  if (typeof next !== 'string' || !/^\/(?!\/)[^\\\s\p{Cc}]*$/u.test(next)) return fallback;
  try {
    return next.replace(/[^\x21-\x7e]+/g, (chars) => encodeURIComponent(chars));
  } catch {
    return fallback; // a lone surrogate
  }
}

export interface AuthOptions {
  loadSession(token: string): Promise<SessionInfo | undefined>;
  /** Where a visitor is sent to sign in (`?next=` the page they asked for). */
  signInPath: string;
  /** Where staff are sent to set up two-step sign-in first. */
  twoFactorSetupPath: string;
}

export const authPlugin = fp<AuthOptions>(
  async (app, opts) => {
    app.decorateRequest('session', undefined);
    app.decorateRequest('user', undefined);
    /** Sends the answer when this person may not have the route; else goes on. */
    const admit = (req: FastifyRequest, reply: FastifyReply, next: () => void) => {
      const access = req.routeOptions.config?.access ?? 'public';
      if (!accessAllows(access, req.user)) {
        if (!req.user && req.method === 'GET')
          return void reply.redirect(`${opts.signInPath}?next=${encodeURIComponent(req.url)}`, 303);
        return void sendErrorPage(req, reply, 'forbidden', req.user ? 403 : 401);
      }
      if (NEEDS_2FA.has(access) && !req.user?.totpEnabled) {
        return void reply.redirect(
          `${opts.twoFactorSetupPath}?next=${encodeURIComponent(req.url)}`,
          303,
        );
      }
      next();
    };
    // Callback style: a visitor with no session costs no promise.
    app.addHook('onRequest', (req, reply, next) => {
      const token = req.cookies[SESSION_COOKIE];
      if (!token) return admit(req, reply, next);
      opts.loadSession(token).then((session) => {
        req.session = session;
        if (session?.stage === 'full') req.user = session.user;
        admit(req, reply, next);
      }, next);
    });
    app.addViewContext((req) => ({ user: req.user }));
  },
  { name: 'auth', dependencies: ['views'] },
);
