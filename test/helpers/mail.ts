import type { FastifyInstance } from 'fastify';
import { listOutbox } from '../../src/platform/mail.ts';

export interface SentMail {
  to: string;
  subject: string;
  text: string;
  raw: string;
}

/** Runs the queued jobs, then reads the .eml files the app wrote. */
export async function sentMail(app: FastifyInstance): Promise<SentMail[]> {
  await app.platform.jobs.runDue(500);
  const outbox = app.platform.mailer.outbox!;
  return (await listOutbox(outbox)).map(({ raw }) => {
    const [head, ...rest] = raw.split('\n\n');
    const header = (name: string) =>
      new RegExp(`^${name}: (.*)$`, 'mi').exec(head ?? '')?.[1]?.trim() ?? '';
    let text = rest.join('\n\n');
    if (/quoted-printable/i.test(raw)) {
      text = text
        .replace(/=\r?\n/g, '')
        .replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
    }
    return { to: header('To'), subject: header('Subject'), text, raw };
  });
}

/** The newest mail to `to` whose subject matches, and the first link in it under `path`. */
export async function linkFromMail(
  app: FastifyInstance,
  to: string,
  path: string,
): Promise<string> {
  const mails = (await sentMail(app)).filter((m) => m.to === to);
  for (const m of mails) {
    const found = new RegExp(
      `https?://[^\\s]+(${path.replace(/\//g, '\\/')}[A-Za-z0-9_\\-/]+)`,
    ).exec(m.text);
    if (found) return found[1]!;
  }
  throw new Error(
    `no mail to ${to} with a link to ${path}; have: ${mails.map((m) => m.subject).join(', ')}`,
  );
}
