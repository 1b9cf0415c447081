import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { testDatabase } from '../../test/helpers/database.ts';
import type { Database } from '../db/client.ts';
import { createJobQueue } from './jobs/index.ts';
import { createMailer, listOutbox } from './mail.ts';

let db: Database;
before(async () => {
  db = await testDatabase();
});
after(async () => db.close());

test('mail is queued, survives until delivered, and lands as an .eml file without SMTP_URL', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sp-mail-'));
  const jobs = createJobQueue(db, pino({ level: 'silent' }));
  const mailer = createMailer({
    smtpUrl: undefined,
    from: 'Supporting Parents <no-reply@example.org>',
    dataDir,
    jobs,
  });
  await mailer.send({
    to: 'parent@example.org',
    subject: 'Confirm your email address',
    text: 'Follow the link to confirm.',
    attachments: [
      {
        filename: 'event.ics',
        content: 'BEGIN:VCALENDAR\r\nEND:VCALENDAR',
        contentType: 'text/calendar',
      },
    ],
  });
  assert.deepEqual(await listOutbox(mailer.outbox!), [], 'nothing is sent until the job runs');
  const queued = await db.query<{ name: string }>(`SELECT name FROM jobs WHERE status = 'pending'`);
  assert.deepEqual(
    queued.map((q) => q.name),
    ['mail.send'],
    'the message is in the database, so a crash loses nothing',
  );

  // A new process (a restart after a crash) delivers what the old one queued.
  const restarted = createJobQueue(db, pino({ level: 'silent' }));
  createMailer({
    smtpUrl: undefined,
    from: 'Supporting Parents <no-reply@example.org>',
    dataDir,
    jobs: restarted,
  });
  assert.equal(await restarted.runDue(), 1);
  const mails = await listOutbox(join(dataDir, 'mail'));
  assert.equal(mails.length, 1);
  const raw = mails[0]!.raw;
  assert.match(raw, /^To: parent@example\.org$/m);
  assert.match(raw, /^Subject: Confirm your email address$/m);
  assert.match(raw, /^From: Supporting Parents <no-reply@example\.org>$/m);
  assert.match(raw, /filename=event\.ics/);
});

test('a message that fails validation is refused before it is queued', async () => {
  const jobs = createJobQueue(db, pino({ level: 'silent' }));
  const mailer = createMailer({
    smtpUrl: undefined,
    from: 'x@example.org',
    dataDir: mkdtempSync(join(tmpdir(), 'sp-mail-')),
    jobs,
  });
  await assert.rejects(mailer.send({ to: '', subject: '', text: '' }));
});
