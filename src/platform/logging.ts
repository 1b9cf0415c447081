import { randomUUID } from 'node:crypto';
import {
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  LogController,
  type RawRequestDefaultExpression,
} from 'fastify';

/**
 * pino (Fastify's logger) with a request id on every line. No personal data:
 * no bodies, no cookies or authorisation headers, no query strings (they can
 * hold a postcode or an email), and token-like path segments are masked.
 */

const TOKEN_SEGMENT = /\/[A-Za-z0-9_-]{20,}(?=\/|$)/g;

export function safeUrl(url: string): string {
  return url.split('?')[0]!.replace(TOKEN_SEGMENT, '/:token');
}

export function loggerOptions(
  level: string,
): Exclude<FastifyServerOptions['logger'], boolean | undefined> {
  return {
    level,
    redact: {
      paths: [
        'req.headers.cookie',
        'req.headers.authorization',
        'res.headers["set-cookie"]',
        '*.password',
        '*.email',
      ],
      censor: '[redacted]',
    },
    serializers: {
      req(req: { method: string; url: string; id: string }) {
        return { method: req.method, url: safeUrl(req.url), id: req.id };
      },
      res(res: { statusCode: number }) {
        return { statusCode: res.statusCode };
      },
    },
  };
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Trust a well-formed X-Request-Id from the proxy in front, else make one. */
export function genReqId(req: RawRequestDefaultExpression): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * Fastify's request logging without the two lines every request writes
 * (`incoming request`, `request completed`) and the one for each unknown
 * URL: a busy production server's log is then its events, errors and
 * refusals (LOG_REQUESTS=true brings the per-request lines back). A request
 * that ends in an error or a 5xx status is still logged, at `error`.
 */
export class ErrorsOnlyRequestLog extends LogController {
  override incomingRequest(): void {}

  override routeNotFound(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (error) super.requestCompleted(error, request, reply);
    else if (reply.statusCode >= 500)
      reply.log.error({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

type Logger = FastifyServerOptions['loggerInstance'] & {
  child(bindings: Record<string, unknown>, opts?: object): Logger;
};
type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * A request's logger, made only when the request logs something. pino's
 * child() serialises its bindings (the request id) straight away: with
 * request lines off, most requests never log, and making a child for each
 * cost more than a percent of a cached page's time.
 */
class LazyChildLogger {
  #real: Logger | undefined;
  constructor(
    private readonly parent: Logger,
    private readonly childBindings: Record<string, unknown>,
    private readonly opts: object,
  ) {}
  get #logger(): Logger {
    return (this.#real ??= this.parent.child(this.childBindings, this.opts));
  }
  get level(): string {
    return this.#real?.level ?? this.parent.level;
  }
  set level(level: string) {
    this.#logger.level = level;
  }
  #call(level: Level, args: unknown[]): void {
    (this.#logger[level] as (...a: unknown[]) => void)(...args);
  }
  fatal(...args: unknown[]) {
    this.#call('fatal', args);
  }
  error(...args: unknown[]) {
    this.#call('error', args);
  }
  warn(...args: unknown[]) {
    this.#call('warn', args);
  }
  info(...args: unknown[]) {
    this.#call('info', args);
  }
  debug(...args: unknown[]) {
    this.#call('debug', args);
  }
  trace(...args: unknown[]) {
    this.#call('trace', args);
  }
  silent(...args: unknown[]) {
    this.#call('silent', args);
  }
  child(bindings: Record<string, unknown>, opts?: object): Logger {
    return this.#logger.child(bindings, opts);
  }
}

/** Fastify's `childLoggerFactory`: request loggers made on first use. */
export const lazyChildLoggerFactory: NonNullable<FastifyServerOptions['childLoggerFactory']> = (
  logger,
  bindings,
  opts,
) =>
  new LazyChildLogger(logger as unknown as Logger, bindings, opts) as unknown as ReturnType<
    NonNullable<FastifyServerOptions['childLoggerFactory']>
  >;
