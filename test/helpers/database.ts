import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';

/** One template per test run, so two runs on one server never drop each other's. */
export const TEMPLATE_DB = `sp_test_template_${process.pid}`;

/** The same server as `url`, another database. */
export function templateUrl(url: string, name = TEMPLATE_DB): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * A migrated database of its own for one test file: a PGlite clone of the
 * snapshot the runner made, or on PostgreSQL a new database copied from the
 * runner's template. `close()` removes it.
 */
export async function testDatabase(): Promise<Database> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const name = `sp_test_${process.pid}_${randomBytes(3).toString('hex')}`;
    const admin = await openDatabase({ databaseUrl: url, poolSize: 1 });
    const template = process.env.TEST_PG_TEMPLATE;
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
  const snapshot = process.env.TEST_DB_SNAPSHOT;
  if (snapshot) {
    return openDatabase({ snapshot: new Blob([readFileSync(snapshot)]) });
  }
  const db = await openDatabase({});
  await migrate(db);
  return db;
}
