import fp from 'fastify-plugin';

/**
 * Text people send is made safe to store and show before any handler sees
 * it: NUL characters are dropped (PostgreSQL refuses them in text, and a
 * search for `%00` was a 500) and lone surrogates become U+FFFD (they cannot
 * be encoded as UTF-8). Applies to the query string and to parsed bodies
 * (forms, JSON), in place, strings at any depth.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function cleanText(value: string): string {
  const noNul = value.includes('\u0000') ? value.replaceAll('\u0000', '') : value;
  return noNul.replace(LONE_SURROGATE, '\uFFFD');
}

function clean(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return cleanText(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = clean(value[i], depth + 1);
    return value;
  }
  if (Buffer.isBuffer(value)) return value;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) record[key] = clean(record[key], depth + 1);
  return value;
}

export const inputPlugin = fp(
  async (app) => {
    app.addHook('preValidation', (req, _reply, done) => {
      if (req.query && typeof req.query === 'object') clean(req.query);
      if (req.body && typeof req.body === 'object') clean(req.body);
      done();
    });
  },
  { name: 'input' },
);
