import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import * as tar from 'tar';
import { seedDemo } from '../../test/helpers/app.ts';
import { seededCopy, templateUrl, testDatabase } from '../../test/helpers/database.ts';
import { type LocalS3, startS3 } from '../../test/helpers/s3.ts';
import { type Database, openDatabase } from '../db/client.ts';
import { BackupArchiveError, backup, restore, RestoreRefusedError } from './backup.ts';
import { createLocalStorage, openStorage, type Storage } from './storage.ts';

/**
 * backup → restore gives back every row and every file: on the embedded
 * database, on PostgreSQL (the runner's PostgreSQL leg), and from the
 * embedded database to PostgreSQL; stored files on disk and on S3. A changed
 * archive and a target that holds data are refused, and change nothing.
 */

const pgUrl = process.env.DATABASE_URL;
const dir = (name: string) => mkdtempSync(join(tmpdir(), `sp-${name}-`));

/** Each table's row count and a digest of its rows (in one order, times in UTC); the sequences. */
async function fingerprint(database: Database) {
  return database.transaction(async (tx) => {
    await tx.execute(sql.raw(`SET LOCAL TimeZone = 'UTC'`));
    const rows = <T>(r: unknown) => (r as { rows: T[] }).rows;
    const tables = rows<{ t: string }>(
      await tx.execute(
        sql.raw(
          `SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations' ORDER BY 1`,
        ),
      ),
    );
    const out: Record<string, string> = {};
    for (const { t } of tables) {
      const [r] = rows<{ n: number; h: string }>(
        await tx.execute(
          sql.raw(
            `SELECT count(*)::int AS n, md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) AS h FROM public."${t}" x`,
          ),
        ),
      );
      out[t] = `${r!.n} rows ${r!.h}`;
    }
    for (const s of rows<{ name: string; v: string | null }>(
      await tx.execute(
        sql.raw(
          `SELECT sequencename AS name, last_value::text AS v FROM pg_sequences WHERE schemaname = 'public'`,
        ),
      ),
    ))
      out[`sequence ${s.name}`] = String(s.v);
    return out;
  });
}

async function fileHashes(storage: Storage): Promise<Record<string, string>> {
  const keys: string[] = [];
  for await (const k of storage.list()) keys.push(k);
  const out: Record<string, string> = {};
  for (const k of keys.sort())
    out[k] = createHash('sha256')
      .update(await buffer(storage.read(k)))
      .digest('hex');
  return out;
}

const totalRows = (f: Record<string, string>) =>
  Object.entries(f)
    .filter(([k]) => !k.startsWith('sequence '))
    .reduce((n, [, v]) => n + Number(v.split(' ')[0]), 0);

interface Site {
  database: Database;
  storage: Storage;
  close(): Promise<void>;
}

/** The demo content (the runner's seeded copy when there is one), plus a binary file. */
async function seededSite(): Promise<Site> {
  const dataDir = dir('backup-src');
  const copy = seededCopy();
  let database: Database;
  if (copy) {
    cpSync(copy.dataDir, dataDir, { recursive: true });
    database = await testDatabase('seeded');
  } else {
    database = await testDatabase('migrated');
    await seedDemo(database, dataDir);
  }
  const storage = createLocalStorage(join(dataDir, 'uploads'));
  await storage.put('extra/random.bin', randomBytes(70_000));
  return {
    database,
    storage,
    async close() {
      await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A new embedded database (not even migrated) and an empty file store on disk. */
async function emptyPglite(storage?: Storage): Promise<Site> {
  const dataDir = dir('backup-dst');
  const database = await openDatabase({});
  const s = storage ?? createLocalStorage(join(dataDir, 'uploads'));
  return {
    database,
    storage: s,
    async close() {
      await database.close();
      await s.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A new database of its own on the PostgreSQL server (not migrated), dropped by close(). */
async function emptyPg(): Promise<Site> {
  const name = `sp_restore_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = await openDatabase({ databaseUrl: pgUrl!, poolSize: 1 });
  await admin.query(`CREATE DATABASE ${name}`).finally(() => admin.close());
  const database = await openDatabase({ databaseUrl: templateUrl(pgUrl!, name), poolSize: 3 });
  const dataDir = dir('backup-dst');
  const storage = createLocalStorage(join(dataDir, 'uploads'));
  return {
    database,
    storage,
    async close() {
      await database.close();
      const a = await openDatabase({ databaseUrl: pgUrl!, poolSize: 1 });
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => a.close());
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let source: Site;
let sourcePrint: Record<string, string>;
let sourceFiles: Record<string, string>;
let archive: string;
let s3: LocalS3;
const work = dir('backup-work');

before(async () => {
  s3 = await startS3();
  source = await seededSite();
  sourcePrint = await fingerprint(source.database);
  sourceFiles = await fileHashes(source.storage);
  archive = join(work, 'site.tar.gz');
  const made = await backup(source.database, source.storage, archive);
  assert.equal(made.manifest.driver, pgUrl ? 'pg' : 'pglite');
  assert.equal(made.manifest.files.length, Object.keys(sourceFiles).length);
  assert.equal(statSync(archive).mode & 0o777, 0o600, 'readable by its owner only');
});
after(async () => {
  await source?.close();
  await s3?.close();
  rmSync(work, { recursive: true, force: true });
});

test('the demo content has rows in many tables and several files (what the round trips compare)', () => {
  assert.ok(totalRows(sourcePrint) > 500, `${totalRows(sourcePrint)} rows`);
  assert.ok(Object.values(sourcePrint).filter((v) => !v.startsWith('0 rows')).length > 20);
  assert.ok(Object.keys(sourceFiles).length >= 3, `${Object.keys(sourceFiles).length} files`);
});

test('round trip onto a new embedded database with files on S3: every row, sequence and file equal', async () => {
  const target = await emptyPglite(await openStorage({ dataDir: '', storageUrl: s3.url() }));
  try {
    const result = await restore(target.database, target.storage, archive);
    assert.equal(result.rows, totalRows(sourcePrint));
    assert.deepEqual(await fingerprint(target.database), sourcePrint);
    assert.deepEqual(await fileHashes(target.storage), sourceFiles);

    // And back out of S3: the second archive holds the same files.
    const again = join(work, 'from-s3.tar.gz');
    const made = await backup(target.database, target.storage, again);
    assert.equal(made.manifest.storage, 's3');
    assert.equal(made.manifest.driver, 'pglite');
    const back = await emptyPglite();
    try {
      await restore(back.database, back.storage, again);
      assert.deepEqual(await fingerprint(back.database), sourcePrint);
      assert.deepEqual(await fileHashes(back.storage), sourceFiles);
    } finally {
      await back.close();
    }
  } finally {
    await target.close();
  }
});

test('a changed archive is refused before anything is changed', async () => {
  const unpacked = dir('backup-tamper');
  try {
    await tar.x({ file: archive, cwd: unpacked });
    const manifest = JSON.parse(readFileSync(join(unpacked, 'manifest.json'), 'utf8')) as {
      tables: { name: string; rows: number }[];
    };
    const table = manifest.tables.find((t) => t.rows > 0)!.name;
    const path = join(unpacked, 'db', `${table}.jsonl`);
    const text = readFileSync(path, 'utf8');
    writeFileSync(
      path,
      text.replace(/"[a-z]/, (m) => `"${m[1]!.toUpperCase()}`),
    );
    const changedRow = join(work, 'changed-row.tar.gz');
    await tar.c({ gzip: true, file: changedRow, cwd: unpacked }, ['manifest.json', 'db', 'files']);
    writeFileSync(join(unpacked, 'files', 'extra', 'random.bin'), randomBytes(70_000));
    writeFileSync(path, text);
    const changedFile = join(work, 'changed-file.tar.gz');
    await tar.c({ gzip: true, file: changedFile, cwd: unpacked }, ['manifest.json', 'db', 'files']);
    const notArchive = join(work, 'not-an-archive.tar.gz');
    writeFileSync(notArchive, 'hello');

    const target = await emptyPglite();
    try {
      await assert.rejects(
        restore(target.database, target.storage, changedRow),
        (e: Error) =>
          e instanceof BackupArchiveError &&
          e.message.includes(`db/${table}.jsonl does not match its checksum`),
      );
      await assert.rejects(
        restore(target.database, target.storage, changedFile),
        (e: Error) =>
          e instanceof BackupArchiveError &&
          e.message.includes('files/extra/random.bin does not match its checksum'),
      );
      await assert.rejects(
        restore(target.database, target.storage, notArchive),
        /not a readable backup archive/,
      );
      assert.deepEqual(await fileHashes(target.storage), {}, 'no file was written');
      const [t] = await target.database.query<{ n: string | null }>(
        `SELECT to_regclass('public.schema_migrations')::text AS n`,
      );
      assert.equal(t?.n, null, 'the database was not touched');
    } finally {
      await target.close();
    }
  } finally {
    rmSync(unpacked, { recursive: true, force: true });
  }
});

test('a target that holds data is refused without force, and replaced with it', async () => {
  const target = await emptyPglite();
  try {
    await target.storage.put('old/file.txt', Buffer.from('old'));
    await assert.rejects(
      restore(target.database, target.storage, archive),
      (e: Error) =>
        e instanceof RestoreRefusedError &&
        /the file store .* holds files/.test(e.message) &&
        /--force/.test(e.message),
    );
    await target.storage.delete('old/file.txt');
    await restore(target.database, target.storage, archive);
    await target.storage.put('old/file.txt', Buffer.from('old'));
    await assert.rejects(
      restore(target.database, target.storage, archive),
      (e: Error) =>
        e instanceof RestoreRefusedError && /the database has rows \(in /.test(e.message),
    );
    // Something changed after the first restore: with force it is as the archive says again.
    await target.database.query(`DELETE FROM audit_log`);
    const forced = await restore(target.database, target.storage, archive, { force: true });
    assert.equal(forced.removedFiles, 1, 'the file not in the archive went');
    assert.deepEqual(await fingerprint(target.database), sourcePrint);
    assert.deepEqual(await fileHashes(target.storage), sourceFiles);
  } finally {
    await target.close();
  }
});

describe('on PostgreSQL', { skip: pgUrl ? false : 'no DATABASE_URL (the PostgreSQL leg)' }, () => {
  test('round trip onto a new PostgreSQL database', async () => {
    const target = await emptyPg();
    try {
      await restore(target.database, target.storage, archive);
      assert.deepEqual(await fingerprint(target.database), sourcePrint);
      assert.deepEqual(await fileHashes(target.storage), sourceFiles);
    } finally {
      await target.close();
    }
  });

  test('from the embedded database to PostgreSQL (a site moving to a server)', async () => {
    // The embedded site: this archive restored into a new embedded database.
    const embedded = await emptyPglite();
    const target = await emptyPg();
    try {
      await restore(embedded.database, embedded.storage, archive);
      const fromPglite = join(work, 'from-pglite.tar.gz');
      const made = await backup(embedded.database, embedded.storage, fromPglite);
      assert.equal(made.manifest.driver, 'pglite');
      await restore(target.database, target.storage, fromPglite);
      assert.deepEqual(await fingerprint(target.database), sourcePrint);
      assert.deepEqual(await fileHashes(target.storage), sourceFiles);
    } finally {
      await embedded.close();
      await target.close();
    }
  });
});
