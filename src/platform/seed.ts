import type { FastifyBaseLogger } from 'fastify';
import type { Database, Db } from '../db/client.ts';

/**
 * Demo content. Each feature contributes a seeder; `seed --demo` runs them
 * all in order. Every seeder must be idempotent (upsert by a natural key), so
 * running the command twice changes nothing, and must mark its content as
 * demo and use only example.org addresses and 01632 960xxx numbers.
 */
export interface SeedContext {
  db: Db;
  database: Database;
  log: FastifyBaseLogger;
  scale: 'demo' | 'small' | 'large';
}

export interface Seeder {
  name: string;
  seed(ctx: SeedContext): Promise<void>;
}

export const DEMO_SEEDED_KEY = 'demo_seeded_at';

export async function runSeeders(seeders: Seeder[], ctx: SeedContext): Promise<string[]> {
  const ran: string[] = [];
  for (const s of seeders) {
    await s.seed(ctx);
    ran.push(s.name);
  }
  await ctx.database.query(
    `INSERT INTO site_settings (key, value) VALUES ($1, to_jsonb(now()))
     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
    [DEMO_SEEDED_KEY],
  );
  return ran;
}

export async function demoSeeded(database: Database): Promise<boolean> {
  const rows = await database.query('SELECT 1 FROM site_settings WHERE key = $1', [
    DEMO_SEEDED_KEY,
  ]);
  return rows.length > 0;
}
