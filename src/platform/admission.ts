import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Admission: at most `concurrency` requests are worked on at once; the rest
 * wait in one queue and are let in strictly in the order they arrived (first
 * come, first served), so under a rush no request starves while later ones
 * are answered. When `queue` requests are already waiting, a new one is
 * answered at once with 503 and `Retry-After` instead of a wait of seconds;
 * so is one that has waited `maxWaitMs`.
 *
 * Health checks (route config `admission: false`) and the static files
 * (`exempt` prefixes) never wait: a load balancer must see the process
 * alive, and a page's styles must not be refused after its HTML was served.
 */
declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: never queued or refused by admission (health checks). */
    admission?: false;
  }
}

export interface AdmissionOptions {
  /** Requests worked on at once. */
  concurrency: number;
  /** Requests that may wait; one more is refused with 503. */
  queue: number;
  /** The longest a request waits before it is refused with 503. */
  maxWaitMs: number;
  /** URL prefixes never queued (static files). */
  exempt?: string[];
  /** Seconds in the Retry-After of a refusal. */
  retryAfter?: number;
}

export interface AdmissionState {
  /** Requests being worked on now. */
  readonly active: number;
  /** Requests waiting their turn. */
  readonly waiting: number;
  /** Requests refused with 503 since start. */
  readonly refused: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    admission: AdmissionState;
  }
}

interface Waiter {
  admit(): void;
  timer: NodeJS.Timeout;
  /** Gave up (waited too long): skipped when its turn comes. */
  gone: boolean;
}

const ADMITTED = Symbol('admitted');

export const admissionPlugin = fp<AdmissionOptions>(
  async (app, opts) => {
    let active = 0;
    let refused = 0;
    /** A queue as an array with a moving head: O(1) at both ends. */
    let waiting: Waiter[] = [];
    let head = 0;
    let queued = 0;
    const exempt = opts.exempt ?? [];
    const retryAfter = String(opts.retryAfter ?? 2);

    const release = () => {
      active--;
      while (head < waiting.length) {
        const next = waiting[head++]!;
        if (next.gone) continue;
        queued--;
        clearTimeout(next.timer);
        active++;
        next.admit();
        break;
      }
      if (head > 1024 && head * 2 > waiting.length) {
        // Drop the served part now and then (the array only grows at the end).
        waiting = waiting.slice(head);
        head = 0;
      }
    };

    const refuse = (reply: FastifyReply) => {
      refused++;
      return reply
        .code(503)
        .header('retry-after', retryAfter)
        .header('cache-control', 'no-store')
        .type('text/plain; charset=utf-8')
        .send(
          'The site is very busy just now. Please try again in a moment. / Mae’r wefan yn brysur iawn ar hyn o bryd. Rhowch gynnig arall arni mewn munud.',
        );
    };

    app.decorate('admission', {
      get active() {
        return active;
      },
      get waiting() {
        return queued;
      },
      get refused() {
        return refused;
      },
    });

    // Callback-style hooks: an admitted request (nearly all of them) costs no
    // promise, and with AsyncLocalStorage on every promise is traced.
    const admit = (req: FastifyRequest) =>
      ((req as unknown as Record<symbol, boolean>)[ADMITTED] = true);
    /** Gives an admitted request's place on (once). */
    const leave = (req: FastifyRequest) => {
      const r = req as unknown as Record<symbol, boolean>;
      if (!r[ADMITTED]) return;
      r[ADMITTED] = false;
      release();
    };
    app.addHook('onRequest', (req: FastifyRequest, reply: FastifyReply, next: () => void) => {
      if (req.routeOptions.config?.admission === false) return next();
      if (exempt.some((prefix) => req.url.startsWith(prefix))) return next();
      if (active < opts.concurrency && queued === 0) {
        active++;
        admit(req);
        return next();
      }
      if (queued >= opts.queue) return void refuse(reply);
      const waiter: Waiter = {
        admit: () => {
          admit(req);
          // The visitor left while waiting: give the place straight on.
          if (req.raw.socket?.destroyed) {
            leave(req);
            return void reply.code(499).send();
          }
          next();
        },
        gone: false,
        timer: setTimeout(() => {
          waiter.gone = true;
          queued--;
          refuse(reply);
        }, opts.maxWaitMs),
      };
      waiter.timer.unref();
      waiting.push(waiter);
      queued++;
    });

    app.addHook('onResponse', (req, _reply, next) => {
      leave(req);
      next();
    });
    app.addHook('onRequestAbort', (req, next) => {
      leave(req);
      next();
    });
  },
  { name: 'admission' },
);
