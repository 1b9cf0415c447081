import { defineConfig } from 'drizzle-kit';

// `npx drizzle-kit generate --name <what>` writes the next SQL migration from
// the schema files; the SQL is committed and run by src/db/migrate.ts.
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/platform/**/*schema.ts', './src/features/*/schema.ts'],
  out: './src/db/migrations',
});
