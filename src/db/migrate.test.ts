import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testDatabase } from '../../test/helpers/database.ts';
import { openDatabase } from './client.ts';
import { migrate, readMigrations } from './migrate.ts';

test('the committed migrations apply to a new database once, then nothing is left to apply', async () => {
  const db = process.env.DATABASE_URL ? await testDatabase() : await openDatabase({});
  try {
    if (db.kind === 'pglite') {
      const applied = await migrate(db);
      assert.deepEqual(
        applied,
        readMigrations().map((m) => m.tag),
      );
    }
    assert.deepEqual(await migrate(db), [], 'a second run applies nothing');
    const tables = await db.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
    );
    const names = tables.map((t) => t.table_name);
    for (const t of ['jobs', 'job_schedules', 'site_settings', 'schema_migrations'])
      assert.ok(names.includes(t), t);
    const ext = await db.query<{ extname: string }>('SELECT extname FROM pg_extension');
    for (const e of ['pg_trgm', 'citext', 'unaccent'])
      assert.ok(
        ext.some((x) => x.extname === e),
        e,
      );
  } finally {
    await db.close();
  }
});

test('a failing migration is rolled back whole and recorded as not applied', async () => {
  const db = await testDatabase();
  try {
    const broken = [
      {
        tag: '9999_broken',
        statements: ['CREATE TABLE half_done (id int)', 'SELECT * FROM no_such_table'],
      },
    ];
    await assert.rejects(migrate(db, broken));
    const left = await db.query(
      `SELECT 1 FROM information_schema.tables WHERE table_name = 'half_done'`,
    );
    assert.equal(left.length, 0, 'no half-written schema');
    const rec = await db.query(`SELECT 1 FROM schema_migrations WHERE tag = '9999_broken'`);
    assert.equal(rec.length, 0);
    assert.ok(await db.ping(), 'the connection is usable afterwards');
  } finally {
    await db.close();
  }
});

test(
  'several instances migrating at once apply each migration exactly once (PostgreSQL)',
  { skip: !process.env.DATABASE_URL && 'needs DATABASE_URL (PostgreSQL)' },
  async () => {
    const db = await testDatabase();
    try {
      const extra = [
        {
          tag: '9998_counted',
          statements: ['CREATE TABLE counted (id int)', 'INSERT INTO counted VALUES (1)'],
        },
      ];
      const results = await Promise.all([
        migrate(db, extra),
        migrate(db, extra),
        migrate(db, extra),
      ]);
      assert.equal(results.flat().length, 1);
      const rows = await db.query<{ n: string }>('SELECT count(*) AS n FROM counted');
      assert.equal(Number(rows[0]!.n), 1);
    } finally {
      await db.close();
    }
  },
);
