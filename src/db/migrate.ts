import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SRC_DIR } from '../root.ts';
import type { Database } from './client.ts';

export const MIGRATIONS_DIR = join(SRC_DIR, 'db', 'migrations');

interface Journal {
  entries: { idx: number; tag: string }[];
}

/** An arbitrary constant: the advisory lock every instance takes while migrating. */
const MIGRATION_LOCK = 727_310_001;

export interface Migration {
  tag: string;
  statements: string[];
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const journal = JSON.parse(readFileSync(join(dir, 'meta', '_journal.json'), 'utf8')) as Journal;
  return [...journal.entries]
    .sort((a, b) => a.idx - b.idx)
    .map(({ tag }) => ({
      tag,
      statements: readFileSync(join(dir, `${tag}.sql`), 'utf8')
        .split('--> statement-breakpoint')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    }));
}

/**
 * Apply the committed SQL migrations not yet applied, each in its own
 * transaction, under an advisory lock so that several instances starting at
 * once apply each migration exactly once. Returns the tags applied.
 */
export async function migrate(
  database: Database,
  migrations = readMigrations(),
): Promise<string[]> {
  return database.withLock(MIGRATION_LOCK, async () => {
    await database.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (tag text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set(
      (await database.query<{ tag: string }>('SELECT tag FROM schema_migrations')).map(
        (r) => r.tag,
      ),
    );
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.tag)) continue;
      const body = m.statements.map((s) => (s.endsWith(';') ? s : `${s};`)).join('\n');
      const tag = m.tag.replace(/'/g, "''");
      await database.exec(
        `BEGIN;\n${body}\nINSERT INTO schema_migrations (tag) VALUES ('${tag}');\nCOMMIT;`,
      );
      applied.push(m.tag);
    }
    return applied;
  });
}
