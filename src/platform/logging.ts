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
