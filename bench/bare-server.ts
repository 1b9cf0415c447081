/**
 * The baselines for `npm run bench`: a bare Fastify 5 server (no plugins)
 * with two pages.
 *
 * - `GET /` answers with the very bytes and headers of a page of ours,
 *   captured by bench/run.ts just before the run and passed in the file named
 *   by `$REPLAY` (JSON: status, headers, body in base64). That is the limit for
 *   that page on this machine: what serving those bytes costs with no work
 *   behind them. Without `$REPLAY` it answers the one-line page.
 * - `GET /hello` renders a one-line precompiled Nunjucks template, the old
 *   baseline, printed for reference.
 *
 * Listens on $PORT at 127.0.0.1, prints "listening" when ready and closes on
 * SIGTERM.
 */
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import nunjucks from 'nunjucks';

const port = Number(process.env.PORT ?? 3001);
const env = new nunjucks.Environment(null, { autoescape: true });
// Compiled once, up front; rendered per request.
const template = new nunjucks.Template('<p>Hello {{ name }}</p>', env, 'bare.njk', true);

interface Replay {
  status: number;
  headers: Record<string, string>;
  body: string;
}

// Headers the HTTP layer writes itself for every response.
const OWN_HEADERS = new Set([
  'date',
  'connection',
  'keep-alive',
  'content-length',
  'transfer-encoding',
]);

const replay = process.env.REPLAY
  ? (JSON.parse(readFileSync(process.env.REPLAY, 'utf8')) as Replay)
  : undefined;
const replayBody = replay ? Buffer.from(replay.body, 'base64') : undefined;
const replayHeaders = replay
  ? Object.fromEntries(Object.entries(replay.headers).filter(([k]) => !OWN_HEADERS.has(k)))
  : {};

const app = Fastify({ logger: false });

app.get('/hello', async (_req, reply) => {
  return reply.type('text/html; charset=utf-8').send(template.render({ name: 'world' }));
});

app.get('/', async (_req, reply) => {
  if (!replay || !replayBody) {
    return reply.type('text/html; charset=utf-8').send(template.render({ name: 'world' }));
  }
  return reply.code(replay.status).headers(replayHeaders).send(replayBody);
});

process.once('SIGTERM', () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});

await app.listen({ port, host: '127.0.0.1' });
console.log('listening');
