#!/usr/bin/env node
/**
 * The command line: `supporting-parents <command> [options]`
 * (also `npm run cli -- <command>`). Every command answers --help; a bad
 * argument prints one clear line and exits 2.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { type Database, openDatabase } from './db/client.ts';
import { DataDirLockedError } from './db/lock.ts';
import { migrate } from './db/migrate.ts';
import { demoSeeded, runSeeders } from './platform/seed.ts';

class UsageError extends Error {}

interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Commands that read a file take it as --file F or as the one positional argument. */
  takesFile?: boolean;
  run(values: Record<string, string | boolean | undefined>, config: Config): Promise<number | void>;
}

async function open(config: Config): Promise<Database> {
  return openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
}

async function withApp<T>(config: Config, fn: (app: FastifyInstance) => Promise<T>): Promise<T> {
  const database = await open(config);
  try {
    await migrate(database);
    const app = await buildApp({ config: { ...config, runJobs: false }, database, logger: false });
    try {
      return await fn(app);
    } finally {
      await app.close();
    }
  } finally {
    await database.close();
  }
}

const SCALES = ['small', 'large'] as const;
const ROLE_NAMES = ['member', 'moderator', 'editor', 'admin'] as const;

const commands: Record<string, Command> = {
  serve: {
    summary:
      'Migrate, seed demo content on a new embedded database, and serve the site (the default).',
    usage: 'serve',
    options: {},
    async run(_v, config) {
      await serve(config);
    },
  },
  migrate: {
    summary: 'Apply the committed SQL migrations that have not been applied yet.',
    usage: 'migrate',
    options: {},
    async run(_v, config) {
      const database = await open(config);
      try {
        const applied = await migrate(database);
        console.log(
          applied.length
            ? `Applied ${applied.length} migration(s): ${applied.join(', ')}`
            : 'Database is up to date',
        );
      } finally {
        await database.close();
      }
    },
  },
  seed: {
    summary: 'Load the demo content (idempotent: running it twice changes nothing).',
    usage: 'seed [--demo] [--scale small|large]',
    options: { demo: { type: 'boolean' }, scale: { type: 'string' } },
    async run(v, config) {
      const scale = v.scale as string | undefined;
      if (scale !== undefined && !(SCALES as readonly string[]).includes(scale)) {
        throw new UsageError(`--scale must be one of: ${SCALES.join(', ')}`);
      }
      await withApp(config, async (app) => {
        const p = app.platform;
        const ran = await runSeeders(p.seeders, {
          db: p.database.db,
          database: p.database,
          log: app.log,
          scale: (scale as 'small' | 'large' | undefined) ?? 'demo',
        });
        console.log(`Seeded demo content${ran.length ? `: ${ran.join(', ')}` : ''}`);
      });
    },
  },
};

commands['import:authorities'] = {
  summary:
    'Load a newer list of children’s services authorities (CSV as in reference/local-authorities/). Nothing is loaded unless every row is valid; authorities not in the list are retired.',
  usage: 'import:authorities FILE.csv [--date YYYY-MM-DD] [--force]',
  options: { file: { type: 'string' }, date: { type: 'string' }, force: { type: 'boolean' } },
  takesFile: true,
  async run(v, config) {
    const file = String(v.file ?? '');
    if (!file) throw new UsageError('give the file to read');
    if (!existsSync(file)) throw new UsageError(`${file} does not exist`);
    const date = String(v.date ?? /(\d{4}-\d{2}-\d{2})\.csv$/.exec(file)?.[1] ?? '');
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date))
      throw new UsageError(
        '--date YYYY-MM-DD is required unless the file is named like 2025-04-01.csv',
      );
    return withApp(config, async (app) => {
      const result = await app.services.services.importAuthorities(
        readFileSync(file, 'utf8'),
        date,
        v.force === true,
      );
      if (!result.ok) {
        for (const p of result.problems) console.error(`Row ${p.row}, ${p.field}: ${p.message}`);
        console.error(`Nothing was loaded: ${result.problems.length} problem(s).`);
        return 1;
      }
      console.log(
        `Loaded ${result.loaded} authorities effective ${date}${result.retired.length ? `; retired ${result.retired.join(', ')}` : ''}`,
      );
      return 0;
    });
  },
};

commands['import:services'] = {
  summary:
    'Import services from a CSV (the columns of /services.csv) or ORUK 3.0 JSON service records (as export:services --format json writes). Everything is checked first; nothing is imported unless all is valid.',
  usage: 'import:services FILE.csv|FILE.json (or --file F)',
  options: { file: { type: 'string' } },
  takesFile: true,
  async run(v, config) {
    const file = String(v.file ?? '');
    if (!file) throw new UsageError('give the file to read');
    if (!existsSync(file)) throw new UsageError(`${file} does not exist`);
    return withApp(config, async (app) => {
      const result = await app.services.services.importServices(readFileSync(file, 'utf8'));
      if (!result.ok) {
        const unit = result.unit === 'record' ? 'Record' : 'Row';
        for (const p of result.problems)
          console.error(`${p.row ? `${unit} ${p.row}, ` : ''}${p.field}: ${p.message}`);
        console.error(`Nothing was imported: ${result.problems.length} problem(s).`);
        return 1;
      }
      console.log(`Imported: ${result.created} new, ${result.updated} updated.`);
      return 0;
    });
  },
};

commands['import:boundaries'] = {
  summary:
    'Load ONS boundary polygons (GeoJSON in WGS84, matched by GSS code) to draw the overview as a choropleth; without them it shows dots.',
  usage: 'import:boundaries FILE.geojson (or --file FILE.geojson)',
  options: { file: { type: 'string' } },
  takesFile: true,
  async run(v, config) {
    const file = String(v.file ?? '');
    if (!file) throw new UsageError('give the GeoJSON file');
    if (!existsSync(file)) throw new UsageError(`${file} does not exist`);
    return withApp(config, async (app) => {
      const result = await app.services.services.importBoundaries(readFileSync(file, 'utf8'));
      if (!result.ok) {
        for (const p of result.problems)
          console.error(`${p.feature ? `Feature ${p.feature}, ` : ''}${p.field}: ${p.message}`);
        console.error(`Nothing was loaded: ${result.problems.length} problem(s).`);
        return 1;
      }
      console.log(`Loaded ${result.loaded} boundaries.`);
      if (result.unmatched.length)
        console.log(`Not current authorities, left out: ${result.unmatched.join(', ')}`);
      if (result.missing.length)
        console.log(`No boundary in the file (shown as dots): ${result.missing.join(', ')}`);
      return 0;
    });
  },
};

commands['export:services'] = {
  summary: 'Print every service as CSV (the columns of /services.csv) or as ORUK 3.0 JSON.',
  usage: 'export:services [--format csv|json]',
  options: { format: { type: 'string' } },
  async run(v, config) {
    const format = String(v.format ?? 'csv');
    if (format !== 'csv' && format !== 'json') throw new UsageError('--format must be csv or json');
    await withApp(config, async (app) => {
      if (format === 'csv') {
        process.stdout.write(await app.services.services.exportCsv());
        return;
      }
      const list = await app.services.oruk.services({}, { page: 1, perPage: 1_000_000 });
      const full = await Promise.all(list.contents.map((s) => app.services.oruk.service(s.id)));
      process.stdout.write(`${JSON.stringify(full, null, 2)}\n`);
    });
  },
};

commands['user:create'] = {
  summary:
    'Create a verified, approved account with a role (prints a one-time sign-in link if no password).',
  usage: 'user:create --email E --role R [--password P] [--name N]',
  options: {
    email: { type: 'string' },
    role: { type: 'string' },
    password: { type: 'string' },
    name: { type: 'string' },
  },
  async run(v, config) {
    const email = String(v.email ?? '').trim();
    const role = String(v.role ?? '');
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email))
      throw new UsageError('--email must be an email address');
    if (!(ROLE_NAMES as readonly string[]).includes(role))
      throw new UsageError(`--role must be one of: ${ROLE_NAMES.join(', ')}`);
    const password = v.password as string | undefined;
    await withApp(config, async (app) => {
      const accounts = app.services.accounts;
      if (password !== undefined) {
        const problem = accounts.passwordProblem(password, { email });
        if (problem)
          throw new UsageError(
            `--password is not acceptable (${problem}): use at least 10 characters, not a common password`,
          );
      }
      const name = (v.name as string | undefined)?.trim() || email.split('@')[0]!;
      const { user, created } = await accounts.createUserDirect({
        email,
        role: role as (typeof ROLE_NAMES)[number],
        displayName: name,
        password,
      });
      if (!created)
        throw new UsageError(`An account with that email address already exists (${user.role})`);
      console.log(
        `Created ${role} ${email}${password ? '' : ' (no password: they can sign in with an email link or reset their password)'}`,
      );
    });
  },
};

function help(): string {
  const lines = ['Usage: supporting-parents <command> [options]', '', 'Commands:'];
  for (const c of Object.values(commands)) lines.push(`  ${c.usage.padEnd(36)} ${c.summary}`);
  lines.push(
    '',
    'Run `supporting-parents <command> --help` for one command. Settings come from the environment (see .env.example).',
  );
  return lines.join('\n');
}

async function serve(config: Config): Promise<void> {
  const started = Date.now();
  const database = await open(config);
  let app: FastifyInstance | undefined;
  try {
    await migrate(database);
    app = await buildApp({ config, database });
    if (database.kind === 'pglite' && !(await demoSeeded(database))) {
      app.log.info('new embedded database: seeding demo content');
      const p = app.platform;
      await runSeeders(p.seeders, { db: p.database.db, database, log: app.log, scale: 'demo' });
    }
    await app.listen({ port: config.port, host: config.host });
    app.log.info({ ms: Date.now() - started }, `Supporting Parents is ready at ${config.baseUrl}`);
  } catch (err) {
    await app?.close().catch(() => undefined);
    await database.close().catch(() => undefined);
    throw err;
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      process.exit(1);
    }
    stopping = true;
    app!.log.info({ signal }, 'shutting down: finishing requests in flight');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    app!
      .close()
      .then(() => database.close())
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        console.error(err);
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    console.log(help());
    return 0;
  }
  const name = first === undefined || first.startsWith('-') ? 'serve' : first;
  const args = first === undefined || first.startsWith('-') ? argv : rest;
  const command = commands[name];
  if (!command) {
    console.error(`Unknown command "${name}". Run with --help to see the commands.`);
    return 2;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    const parsed = parseArgs({
      args,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: Boolean(command.takesFile),
    });
    values = parsed.values as Record<string, string | boolean | undefined>;
    if (parsed.positionals.length > 1 || (parsed.positionals.length && values.file))
      throw new Error('give one file, either as --file F or on its own');
    if (parsed.positionals.length) values.file = parsed.positionals[0];
  } catch (err) {
    console.error(`${(err as Error).message.split('\n')[0]} (usage: ${command.usage})`);
    return 2;
  }
  if (values.help) {
    console.log(`Usage: supporting-parents ${command.usage}\n\n${command.summary}`);
    return 0;
  }
  try {
    if (existsSync('.env')) process.loadEnvFile('.env');
    const config = loadConfig();
    return (await command.run(values, config)) ?? 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${err.message} (usage: ${command.usage})`);
      return 2;
    }
    if (err instanceof ConfigError || err instanceof DataDirLockedError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }
}

const isEntry =
  process.argv[1] !== undefined && /(main\.ts|supporting-parents(\.mjs)?)$/.test(process.argv[1]);
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => {
      // `serve` keeps running on its open server; other commands end when their work is done.
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
