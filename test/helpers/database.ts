import { randomBytes } from 'node:crypto';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { readTarball } from '../../src/db/tarball.ts';

/**
 * The runner's PostgreSQL template databases, one pair per run (named by its
 * pid), so two runs on one server never drop each other's: migrated, and
 * migrated with the demo content.
 */
export const TEMPLATE_DB = `sp_test_template_${process.pid}`;
export const SEEDED_DB = `sp_test_seeded_${process.pid}`;

/** The same server as `url`, another database. */
export function templateUrl(url: string, name = TEMPLATE_DB): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * Where a test database starts: `migrated` (empty tables), or `seeded` (the
 * demo content as well; only when the runner prepared it, see seededCopy).
 */
export type Start = 'migrated' | 'seeded';

/**
 * The runner's seeded copy, when it made one: the snapshot or template with
 * the demo content, and the DATA_DIR its seeders wrote files into (demo
 * uploads), for each test to start with a copy of.
 */
export function seededCopy(): { dataDir: string } | undefined {
  const dataDir = process.env.TEST_SEEDED_DATA_DIR;
  const db = process.env.DATABASE_URL
    ? process.env.TEST_PG_SEEDED
    : process.env.TEST_DB_SEEDED_SNAPSHOT;
  return dataDir && db ? { dataDir } : undefined;
}

/**
 * A database of its own for one test: a PGlite clone of a snapshot the
 * runner made, or on PostgreSQL a new database copied from the runner's
 * template. Without the runner (one file run directly) it migrates a new one.
 * `close()` removes it.
 */
export async function testDatabase(from: Start = 'migrated'): Promise<Database> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const template = from === 'seeded' ? process.env.TEST_PG_SEEDED : process.env.TEST_PG_TEMPLATE;
    if (from === 'seeded' && !template) throw new Error('no seeded template (TEST_PG_SEEDED)');
    const name = `sp_test_${process.pid}_${randomBytes(3).toString('hex')}`;
    const admin = await openDatabase({ databaseUrl: url, poolSize: 1 });
    try {
      await admin.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
    } finally {
      await admin.close();
    }
    const db = await openDatabase({ databaseUrl: templateUrl(url, name), poolSize: 5 });
    if (!template) await migrate(db);
    const close = db.close.bind(db);
    db.close = async () => {
      await close();
      const a = await openDatabase({ databaseUrl: url, poolSize: 1 });
      try {
        await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.close();
      }
    };
    return db;
  }
  const snapshot =
    from === 'seeded' ? process.env.TEST_DB_SEEDED_SNAPSHOT : process.env.TEST_DB_SNAPSHOT;
  if (from === 'seeded' && !snapshot)
    throw new Error('no seeded snapshot (TEST_DB_SEEDED_SNAPSHOT)');
  if (snapshot) {
    return openDatabase({ snapshot: readTarball(snapshot) });
  }
  const db = await openDatabase({});
  await migrate(db);
  return db;
}
