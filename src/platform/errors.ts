import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { waitText } from './rate-limit.ts';

/**
 * 404, 403, 429, 500 and friends as pages in the site's style (JSON under
 * /api/). A 500 never shows a stack trace: it logs one with the request id
 * and shows the id, so a report can be matched to the log.
 */

type Kind =
  | 'notFound'
  | 'forbidden'
  | 'csrf'
  | 'tooMany'
  | 'badRequest'
  | 'tooLarge'
  | 'server'
  | 'unavailable';

const PARAGRAPHS: Record<Kind, string[]> = {
  notFound: ['p1', 'p2'],
  forbidden: ['p1'],
  csrf: ['p1', 'p2'],
  tooMany: ['p1'],
  badRequest: ['p1'],
  tooLarge: ['p1'],
  server: ['p1'],
  unavailable: ['p1'],
};

export function kindOf(err: FastifyError): { kind: Kind; status: number } {
  const status = err.statusCode ?? 500;
  if (err.code?.startsWith('FST_CSRF')) return { kind: 'csrf', status: 403 };
  if (status === 429) return { kind: 'tooMany', status };
  if (status === 413) return { kind: 'tooLarge', status };
  if (status === 404) return { kind: 'notFound', status };
  if (status === 403 || status === 401) return { kind: 'forbidden', status };
  if (status === 503) return { kind: 'unavailable', status };
  if (status >= 400 && status < 500) return { kind: 'badRequest', status };
  return { kind: 'server', status: 500 };
}

export function sendErrorPage(
  req: FastifyRequest,
  reply: FastifyReply,
  kind: Kind,
  status: number,
  extra: Record<string, unknown> = {},
): FastifyReply {
  if (req.url.startsWith('/api/')) {
    return reply.code(status).send({ error: kind, status, requestId: req.id });
  }
  const t = req.t;
  if (!t) {
    // The failure came before the page machinery was ready for this request.
    return reply
      .code(status)
      .type('text/plain; charset=utf-8')
      .send(`Error ${status}. Reference: ${req.id}`);
  }
  try {
    return reply.render(
      'error.njk',
      {
        title: t(`common.errors.${kind}.title`),
        paragraphs: PARAGRAPHS[kind].map((p) => t(`common.errors.${kind}.${p}`)),
        showHome: kind !== 'csrf',
        showRequestId: kind === 'server' || kind === 'unavailable',
        noindex: true,
        ...extra,
      },
      status,
    );
  } catch (renderErr) {
    req.log.error({ err: renderErr }, 'error page failed to render');
    return reply
      .code(status)
      .type('text/plain; charset=utf-8')
      .send(`Error ${status}. Reference: ${req.id}`);
  }
}

export const errorsPlugin = fp(
  async (app) => {
    app.setNotFoundHandler(async (req, reply) => sendErrorPage(req, reply, 'notFound', 404));
    app.setErrorHandler(async (err: FastifyError, req, reply) => {
      const { kind, status } = kindOf(err);
      if (status >= 500) {
        req.log.error({ err }, 'request failed');
      } else {
        req.log.info({ code: err.code, status }, 'request refused');
      }
      const extra: Record<string, unknown> = {};
      if (kind === 'tooMany') {
        const given = (err as FastifyError & { retryAfterSeconds?: number }).retryAfterSeconds;
        if (given) reply.header('retry-after', String(given));
        const retry = Number(reply.getHeader('retry-after') ?? 60);
        extra.retryAfter = Math.max(1, Math.ceil(retry / 60));
        if (req.t) extra.retryWait = waitText(req.t, retry);
      }
      return sendErrorPage(req, reply, kind, status, extra);
    });
  },
  { name: 'errors' },
);
