import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql } from 'drizzle-orm';
import * as tar from 'tar';
import { z } from 'zod';
import type { Database, Tx } from '../db/client.ts';
import { migrate, readMigrations } from '../db/migrate.ts';
import { isValidKey, type Storage } from './storage.ts';

/**
 * `backup FILE` and `restore FILE`: one .tar.gz holding
 *
 *   manifest.json      format version, when, from which drivers, the
 *                      migrations applied, each table's row count and
 *                      checksum, the sequences, every stored file's size and
 *                      sha256
 *   db/<table>.jsonl   every row, one JSON object a line, read in one
 *                      REPEATABLE READ transaction (a consistent snapshot)
 *   files/<key>        every stored file (disk or S3)
 *
 * The rows are written and read by PostgreSQL itself (row_to_json and
 * json_populate_recordset), so every type comes back as it was, and an
 * archive from the embedded database loads into PostgreSQL and back.
 * A restore checks every checksum before it changes anything, refuses a
 * database or file store that holds anything unless forced, loads every
 * table in one transaction, and sets the sequences where they were.
 */

export const BACKUP_FORMAT = 'supporting-parents-backup';
export const BACKUP_VERSION = 1;

const manifestSchema = z.object({
  format: z.literal(BACKUP_FORMAT),
  version: z.literal(BACKUP_VERSION),
  created: z.string(),
  driver: z.enum(['pglite', 'pg']),
  storage: z.enum(['disk', 's3']),
  migrations: z.array(z.string()),
  tables: z.array(
    z.object({
      name: z.string().regex(/^[a-z_][a-z0-9_]*$/),
      columns: z.array(z.string().regex(/^[a-z_][a-z0-9_]*$/)),
      rows: z.number().int().min(0),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
  ),
  sequences: z.array(
    z.object({
      name: z.string(),
      value: z
        .string()
        .regex(/^-?\d+$/)
        .nullable(),
    }),
  ),
  files: z.array(
    z.object({
      key: z.string().refine(isValidKey, 'not a storage key'),
      size: z.number().int().min(0),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
  ),
});
export type Manifest = z.infer<typeof manifestSchema>;

/** The archive is not a backup, or does not match its manifest: nothing was changed. */
export class BackupArchiveError extends Error {}
/** The target holds data and --force was not given: nothing was changed. */
export class RestoreRefusedError extends Error {}

/** The migrations' own bookkeeping, recorded in the manifest rather than dumped. */
const MIGRATIONS_TABLE = 'schema_migrations';
/** Rows sent to the database in one statement on restore. */
const BATCH_ROWS = 500;
const BATCH_CHARS = 4_000_000;
/** Rows read at a time from a table's cursor on backup. */
const FETCH_ROWS = 1000;

const rowsOf = <T>(res: unknown): T[] => (res as { rows: T[] }).rows;
const q = async <T>(tx: Tx, text: string): Promise<T[]> =>
  rowsOf<T>(await tx.execute(sql.raw(text)));
const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

async function tablesOf(tx: Tx): Promise<string[]> {
  return (
    await q<{ t: string }>(
      tx,
      `SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' AND tablename <> '${MIGRATIONS_TABLE}' ORDER BY tablename`,
    )
  ).map((r) => r.t);
}

/** The columns a row is written with: all but generated ones, which the database computes again. */
async function columnsOf(tx: Tx, table: string): Promise<string[]> {
  return (
    await q<{ c: string }>(
      tx,
      `SELECT attname AS c FROM pg_attribute
       WHERE attrelid = 'public.${ident(table)}'::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
       ORDER BY attnum`,
    )
  ).map((r) => r.c);
}

async function hasMigrationsTable(database: Database): Promise<boolean> {
  const [row] = await database.query<{ ok: boolean }>(
    `SELECT to_regclass('public.${MIGRATIONS_TABLE}') IS NOT NULL AS ok`,
  );
  return Boolean(row?.ok);
}

const sha256File = async (path: string): Promise<string> => {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
};

export interface BackupResult {
  manifest: Manifest;
  bytes: number;
}

/**
 * Write a backup of `database` and `storage` to `file` (a .tar.gz; written
 * beside it first and renamed, so a failed backup leaves no partial archive).
 */
export async function backup(
  database: Database,
  storage: Storage,
  file: string,
  { workDir = tmpdir() }: { workDir?: string } = {},
): Promise<BackupResult> {
  if (!(await hasMigrationsTable(database)))
    throw new BackupArchiveError('The database has no tables yet: there is nothing to back up.');
  const stage = await mkdtemp(join(workDir, 'sp-backup-'));
  try {
    await mkdir(join(stage, 'db'));
    await mkdir(join(stage, 'files'));
    const dumped = await database.transaction(async (tx) => {
      // One snapshot for every table (the first statement of the transaction).
      await tx.execute(sql.raw('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY'));
      await tx.execute(sql.raw(`SET LOCAL TimeZone = 'UTC'`));
      const migrations = (
        await q<{ tag: string }>(tx, `SELECT tag FROM ${MIGRATIONS_TABLE} ORDER BY tag`)
      ).map((r) => r.tag);
      const tables: Manifest['tables'] = [];
      for (const name of await tablesOf(tx)) {
        const columns = await columnsOf(tx, name);
        const path = join(stage, 'db', `${name}.jsonl`);
        const out = createWriteStream(path);
        const hash = createHash('sha256');
        let rows = 0;
        try {
          await tx.execute(
            sql.raw(
              `DECLARE sp_backup NO SCROLL CURSOR FOR SELECT row_to_json(r)::text AS j FROM (SELECT ${columns.map(ident).join(', ')} FROM public.${ident(name)}) r`,
            ),
          );
          for (;;) {
            const batch = await q<{ j: string }>(tx, `FETCH ${FETCH_ROWS} FROM sp_backup`);
            if (batch.length === 0) break;
            const text = `${batch.map((r) => r.j).join('\n')}\n`;
            rows += batch.length;
            hash.update(text);
            if (!out.write(text))
              await new Promise<void>((resolve) => out.once('drain', () => resolve()));
          }
          await tx.execute(sql.raw('CLOSE sp_backup'));
        } finally {
          await new Promise<void>((resolve, reject) =>
            out.end((err?: Error | null) => (err ? reject(err) : resolve())),
          );
        }
        tables.push({ name, columns, rows, sha256: hash.digest('hex') });
      }
      const sequences = await q<{ name: string; value: string | null }>(
        tx,
        `SELECT sequencename AS name, last_value::text AS value FROM pg_sequences WHERE schemaname = 'public' ORDER BY sequencename`,
      );
      return { migrations, tables, sequences };
    });

    // Every stored file. One removed since the snapshot was read is left
    // out; one added since is kept (a file without its row is harmless).
    const keys: string[] = [];
    for await (const key of storage.list()) keys.push(key);
    keys.sort();
    const files: Manifest['files'] = [];
    for (const key of keys) {
      const path = join(stage, 'files', key);
      await mkdir(dirname(path), { recursive: true });
      const hash = createHash('sha256');
      let size = 0;
      try {
        await pipeline(
          storage.read(key),
          new Transform({
            transform(chunk: Buffer, _enc, cb) {
              hash.update(chunk);
              size += chunk.length;
              cb(null, chunk);
            },
          }),
          createWriteStream(path),
        );
      } catch (err) {
        if (!(await storage.exists(key))) {
          await rm(path, { force: true });
          continue;
        }
        throw err;
      }
      files.push({ key, size, sha256: hash.digest('hex') });
    }

    const manifest: Manifest = {
      format: BACKUP_FORMAT,
      version: BACKUP_VERSION,
      created: new Date().toISOString(),
      driver: database.kind,
      storage: storage.kind,
      migrations: dumped.migrations,
      tables: dumped.tables,
      sequences: dumped.sequences,
      files,
    };
    await writeFile(join(stage, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const partial = join(dirname(file), `.${basename(file)}.${process.pid}.part`);
    try {
      // Readable by its owner only: it holds every account's data.
      await writeFile(partial, '', { mode: 0o600 });
      await tar.c({ gzip: true, file: partial, cwd: stage, portable: true }, [
        'manifest.json',
        'db',
        'files',
      ]);
      await rename(partial, file);
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
    return { manifest, bytes: (await stat(file)).size };
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

/**
 * The manifest of an archive, read without unpacking the rest (undefined if
 * it has none): to choose how to open the target before restoring.
 */
export async function readManifest(file: string): Promise<Manifest | undefined> {
  const chunks: Buffer[] = [];
  try {
    await tar.t({
      file,
      onReadEntry: (entry) => {
        if (entry.path === 'manifest.json') entry.on('data', (c: Buffer) => chunks.push(c));
        else entry.resume();
      },
    });
    return manifestSchema.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
  } catch {
    return undefined;
  }
}

/** True when the archive was made at this version's migrations, no more, no fewer. */
export function atCurrentMigrations(manifest: Manifest): boolean {
  const known = readMigrations().map((m) => m.tag);
  return (
    known.length === manifest.migrations.length &&
    known.every((t) => manifest.migrations.includes(t))
  );
}

/** Read and check an archive: its manifest, and every table and file against their checksums. */
async function unpack(file: string, stage: string): Promise<Manifest> {
  try {
    await tar.x({
      file,
      cwd: stage,
      strict: true,
      // Plain files and folders only: no links, devices or absolute paths.
      filter: (_path, entry) =>
        'type' in entry && (entry.type === 'File' || entry.type === 'Directory'),
    });
  } catch (err) {
    throw new BackupArchiveError(
      `${file} is not a readable backup archive (${(err as Error).message})`,
    );
  }
  let manifest: Manifest;
  try {
    manifest = manifestSchema.parse(
      JSON.parse(await readFile(join(stage, 'manifest.json'), 'utf8')),
    );
  } catch {
    throw new BackupArchiveError(
      `${file} has no valid manifest.json: it is not a backup of this site (or of a newer version)`,
    );
  }
  const problems: string[] = [];
  for (const t of manifest.tables) {
    const path = join(stage, 'db', `${t.name}.jsonl`);
    if (!existsSync(path)) problems.push(`db/${t.name}.jsonl is missing`);
    else if ((await sha256File(path)) !== t.sha256)
      problems.push(`db/${t.name}.jsonl does not match its checksum`);
  }
  for (const f of manifest.files) {
    const path = join(stage, 'files', f.key);
    if (!existsSync(path)) problems.push(`files/${f.key} is missing`);
    else if ((await stat(path)).size !== f.size || (await sha256File(path)) !== f.sha256)
      problems.push(`files/${f.key} does not match its checksum`);
  }
  if (problems.length)
    throw new BackupArchiveError(
      `${file} is damaged or was changed; nothing was restored: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` and ${problems.length - 5} more` : ''}`,
    );
  return manifest;
}

export interface RestoreResult {
  manifest: Manifest;
  rows: number;
  /** Stored files removed because they were not in the archive (with force). */
  removedFiles: number;
}

/**
 * Replace the database's rows and the stored files with an archive's.
 * `database` may be new (no migrations yet): it is brought to the archive's
 * migrations, loaded, then migrated to this version's. Nothing is changed
 * when the archive is damaged, or when the database or storage hold
 * anything and `force` is not set.
 */
export async function restore(
  database: Database,
  storage: Storage,
  file: string,
  { force = false, workDir = tmpdir() }: { force?: boolean; workDir?: string } = {},
): Promise<RestoreResult> {
  const stage = await mkdtemp(join(workDir, 'sp-restore-'));
  try {
    const manifest = await unpack(file, stage);

    // The schema the rows were written in: this version's migrations up to the archive's.
    const known = readMigrations();
    const knownTags = new Set(known.map((m) => m.tag));
    const unknown = manifest.migrations.filter((t) => !knownTags.has(t));
    if (unknown.length)
      throw new BackupArchiveError(
        `The archive was made by a newer version of the site (migrations ${unknown.join(', ')}): restore it with that version.`,
      );
    const applied = (await hasMigrationsTable(database))
      ? (await database.query<{ tag: string }>(`SELECT tag FROM ${MIGRATIONS_TABLE}`)).map(
          (r) => r.tag,
        )
      : [];
    const wanted = new Set(manifest.migrations);
    const beyond = applied.filter((t) => !wanted.has(t));
    if (beyond.length)
      throw new RestoreRefusedError(
        `The database has migrations the archive does not (${beyond.join(', ')}): restore into a new, empty database, or with the version that made the archive.`,
      );

    // Anything there already?
    const held: string[] = [];
    if (applied.length) {
      for (const t of await database.transaction((tx) => tablesOf(tx))) {
        const [row] = await database.query<{ any: boolean }>(
          `SELECT EXISTS (SELECT 1 FROM public.${ident(t)}) AS any`,
        );
        if (row?.any) held.push(t);
      }
    }
    let storedCount = 0;
    for await (const _key of storage.list()) {
      storedCount++;
      if (!force) break;
    }
    if ((held.length || storedCount) && !force) {
      const what = [
        held.length
          ? `the database has rows (in ${held.slice(0, 3).join(', ')}${held.length > 3 ? ` and ${held.length - 3} more tables` : ''})`
          : '',
        storedCount ? `the file store (${storage.description}) holds files` : '',
      ]
        .filter(Boolean)
        .join(' and ');
      throw new RestoreRefusedError(
        `Nothing was restored: ${what}. A restore replaces everything; run it again with --force to do so.`,
      );
    }

    await migrate(
      database,
      known.filter((m) => wanted.has(m.tag)),
    );

    // The files first: a file without its row is harmless, a row without its file is not.
    for (const f of manifest.files)
      await storage.put(f.key, createReadStream(join(stage, 'files', f.key)));

    let rows = 0;
    await database.transaction(async (tx) => {
      await tx.execute(sql.raw(`SET LOCAL TimeZone = 'UTC'`));
      const tables = await tablesOf(tx);
      const present = new Set(tables);
      for (const t of manifest.tables)
        if (!present.has(t.name))
          throw new BackupArchiveError(`The archive has a table ${t.name} this database lacks`);
      // Foreign keys are dropped while the tables load in any order, and added
      // again after, which checks every reference.
      const keys = await q<{ tbl: string; name: string; def: string }>(
        tx,
        `SELECT c.relname AS tbl, k.conname AS name, pg_get_constraintdef(k.oid) AS def
         FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
         WHERE k.contype = 'f' AND k.connamespace = 'public'::regnamespace
         ORDER BY c.relname, k.conname`,
      );
      for (const k of keys)
        await tx.execute(
          sql.raw(`ALTER TABLE public.${ident(k.tbl)} DROP CONSTRAINT ${ident(k.name)}`),
        );
      if (tables.length)
        await tx.execute(
          sql.raw(
            `TRUNCATE ${tables.map((t) => `public.${ident(t)}`).join(', ')} RESTART IDENTITY`,
          ),
        );
      for (const t of manifest.tables) {
        if (t.rows === 0) continue;
        const cols = t.columns.map(ident).join(', ');
        const insert = async (batch: string[]) => {
          await tx.execute(
            sql`INSERT INTO ${sql.raw(`public.${ident(t.name)}`)} (${sql.raw(cols)}) SELECT ${sql.raw(cols)} FROM json_populate_recordset(null::${sql.raw(`public.${ident(t.name)}`)}, ${`[${batch.join(',')}]`}::json)`,
          );
        };
        let batch: string[] = [];
        let chars = 0;
        const lines = createInterface({
          input: createReadStream(join(stage, 'db', `${t.name}.jsonl`)),
          crlfDelay: Infinity,
        });
        for await (const line of lines) {
          if (!line) continue;
          batch.push(line);
          chars += line.length;
          if (batch.length >= BATCH_ROWS || chars >= BATCH_CHARS) {
            await insert(batch);
            batch = [];
            chars = 0;
          }
        }
        if (batch.length) await insert(batch);
        const [count] = await q<{ n: number }>(
          tx,
          `SELECT count(*)::int AS n FROM public.${ident(t.name)}`,
        );
        if (count?.n !== t.rows)
          throw new BackupArchiveError(
            `${t.name}: ${count?.n} rows loaded, the manifest says ${t.rows}`,
          );
        rows += t.rows;
      }
      for (const k of keys)
        await tx.execute(
          sql.raw(`ALTER TABLE public.${ident(k.tbl)} ADD CONSTRAINT ${ident(k.name)} ${k.def}`),
        );
      for (const s of manifest.sequences) {
        if (s.value === null) continue;
        await tx.execute(
          sql`SELECT setval(${`public.${ident(s.name)}`}::regclass, ${s.value}::bigint, true)`,
        );
      }
    });

    // With force: the files that were there and are not in the archive go.
    let removedFiles = 0;
    if (force && storedCount) {
      const keep = new Set(manifest.files.map((f) => f.key));
      const stale: string[] = [];
      for await (const key of storage.list()) if (!keep.has(key)) stale.push(key);
      for (const key of stale) await storage.delete(key);
      removedFiles = stale.length;
    }
    // An archive from an older version: the rest of this version's migrations.
    await migrate(database);
    return { manifest, rows, removedFiles };
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}
