import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import { z } from 'zod';
import type { Tx } from '../db/client.ts';
import type { JobQueue } from './jobs/index.ts';
import { lazy } from './lazy.ts';

/** nodemailer, loaded with the first message delivered, not at start-up. */
const nodemailer = lazy<typeof Nodemailer>('nodemailer');

/**
 * Mail goes through the job queue, so a crash loses no message; sent with the
 * unit of work's `{ tx }`, a message is queued in the transaction of the
 * change it tells about, so it goes exactly when that change commits. With SMTP_URL
 * it is sent by nodemailer over SMTP; without it each message is written as an
 * `.eml` file in $DATA_DIR/mail/ (listed in the admin area).
 */

const attachmentSchema = z.object({
  filename: z.string(),
  content: z.string(),
  contentType: z.string(),
});

export const mailMessageSchema = z.object({
  to: z.string().min(3),
  subject: z.string().min(1),
  text: z.string(),
  html: z.string().optional(),
  attachments: z.array(attachmentSchema).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  /** A fixed Message-ID (`<id@host>`): a message sent again is the same message (and the same .eml file). */
  messageId: z.string().max(200).optional(),
});

export type MailMessage = z.infer<typeof mailMessageSchema>;

export interface Mailer {
  /** Queue a message for delivery; with `{ tx }`, inside that unit of work. */
  send(message: MailMessage, opts?: { tx?: Tx | undefined }): Promise<void>;
  /** Deliver now (the job handler); nothing goes to a suppressed address. */
  deliver(message: MailMessage): Promise<'sent' | 'suppressed'>;
  /**
   * The suppression list every message is checked against when it is
   * delivered (a feature registers it in app.ts): an address it names
   * receives nothing from any part of the site.
   */
  suppressWith(isSuppressed: (address: string) => Promise<boolean>): void;
  /** Where .eml files go when there is no SMTP server. */
  outbox: string | undefined;
  /** Deliveries that failed in this process since it started (each is retried by the queue): /metrics. */
  readonly failures: number;
}

export const MAIL_JOB = 'mail.send';

export function createMailer(opts: {
  smtpUrl: string | undefined;
  from: string;
  dataDir: string;
  jobs: JobQueue;
  log?: { warn(obj: object, msg: string): void };
}): Mailer {
  const outbox = opts.smtpUrl ? undefined : join(opts.dataDir, 'mail');
  // Made with the first message delivered (SMTP_URL was checked with the settings).
  let made: Transporter | undefined;
  const transport = (): Transporter => {
    if (made) return made;
    made = opts.smtpUrl
      ? nodemailer().createTransport(opts.smtpUrl)
      : nodemailer().createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
    // A pooled SMTP connection that fails between messages is reported as an
    // event; unheard, it would stop the process. The message it concerned (if
    // any) failed its job and is retried by the queue.
    made.on('error', (err: Error) => opts.log?.warn({ err: err.message }, 'SMTP transport error'));
    return made;
  };
  let isSuppressed: (address: string) => Promise<boolean> = async () => false;
  let failures = 0;
  const mailer: Mailer = {
    outbox,
    get failures() {
      return failures;
    },
    suppressWith(check) {
      isSuppressed = check;
    },
    async send(message, sendOpts = {}) {
      await opts.jobs.enqueue(MAIL_JOB, mailMessageSchema.parse(message), { tx: sendOpts.tx });
    },
    async deliver(message) {
      if (await isSuppressed(addressOf(message.to))) return 'suppressed';
      const info = await transport().sendMail({ from: opts.from, ...message });
      if (outbox) {
        await mkdir(outbox, { recursive: true });
        // A message with a fixed Message-ID keeps its file: sent again, it replaces itself.
        const name = message.messageId
          ? `msg-${message.messageId.replace(/[^A-Za-z0-9.@-]/g, '_')}.eml`
          : `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}.eml`;
        await writeFile(join(outbox, name), (info as { message: Buffer }).message, { mode: 0o600 });
      }
      return 'sent';
    },
  };
  opts.jobs.register(MAIL_JOB, async (payload) => {
    try {
      await mailer.deliver(mailMessageSchema.parse(payload));
    } catch (err) {
      failures++;
      throw err;
    }
  });
  return mailer;
}

/** The address in `Name <address>` or a bare address, lower-cased. */
export function addressOf(to: string): string {
  const m = /<([^>]+)>\s*$/.exec(to);
  return (m ? m[1]! : to).trim().toLowerCase();
}

export interface StoredMail {
  file: string;
  raw: string;
}

/** The .eml files in the outbox, newest first (for the admin mail viewer and tests). */
export async function listOutbox(outbox: string): Promise<StoredMail[]> {
  let files: string[];
  try {
    files = (await readdir(outbox)).filter((f) => f.endsWith('.eml'));
  } catch {
    return [];
  }
  files.sort().reverse();
  return Promise.all(
    files.map(async (file) => ({ file, raw: await readFile(join(outbox, file), 'utf8') })),
  );
}
