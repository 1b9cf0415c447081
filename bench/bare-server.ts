/**
 * The baseline for `npm run bench`: a bare Fastify 5 server (no plugins)
 * rendering a one-line Nunjucks template on GET /. Our app's numbers are
 * compared against this. Listens on $PORT at 127.0.0.1, prints "listening"
 * when ready and closes on SIGTERM.
 */
import Fastify from 'fastify';
import nunjucks from 'nunjucks';

const port = Number(process.env.PORT ?? 3001);
const env = new nunjucks.Environment(null, { autoescape: true });
// Compiled once, up front; rendered per request.
const template = new nunjucks.Template('<p>Hello {{ name }}</p>', env, 'bare.njk', true);

const app = Fastify({ logger: false });

app.get('/', async (_req, reply) => {
  return reply.type('text/html; charset=utf-8').send(template.render({ name: 'world' }));
});

process.once('SIGTERM', () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});

await app.listen({ port, host: '127.0.0.1' });
console.log('listening');
