import type { FastifyInstance } from 'fastify';
import { cookiesOf, csrfFor } from './app.ts';

export interface FilePart {
  name: string;
  filename: string;
  content: Buffer;
  type?: string;
}

/**
 * POST a multipart form the way a browser would (CSRF token and cookies from
 * the form page). The body is built by the platform's own FormData, so the
 * encoding is a real one.
 */
export async function submitMultipart(
  app: FastifyInstance,
  formPage: string,
  action: string,
  fields: Record<string, string | string[]>,
  files: FilePart[],
  cookie = '',
) {
  const { token, cookie: jar } = await csrfFor(app, formPage, cookie);
  const form = new FormData();
  form.append('_csrf', token);
  for (const [k, v] of Object.entries(fields))
    for (const one of Array.isArray(v) ? v : [v]) form.append(k, one);
  for (const f of files)
    form.append(
      f.name,
      new Blob([new Uint8Array(f.content)], { type: f.type ?? 'application/octet-stream' }),
      f.filename,
    );
  const request = new Request('http://localhost/', { method: 'POST', body: form });
  const payload = Buffer.from(await request.arrayBuffer());
  const res = await app.inject({
    method: 'POST',
    url: action,
    headers: { cookie: jar, 'content-type': request.headers.get('content-type')! },
    payload,
  });
  return { res, cookie: cookiesOf(res, jar) };
}
