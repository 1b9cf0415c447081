#!/usr/bin/env node
/**
 * The command line: `supporting-parents <command> [options]`
 * (also `npm run cli -- <command>`). Every command answers --help; a bad
 * argument prints one clear line and exits 2.
 *
 * This module imports only Node's own modules: `--help`, a command's
 * `--help` and usage errors load no application and no database driver. A
 * command loads what it needs when it runs (`await import()`).
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import nodeModule from 'node:module';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig, parseEnv } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import type { Database } from './db/client.ts';

/** Where a run of the command line reads its settings and writes its output. */
export interface CliIo {
  /** The settings. Default: process.env, over what a `.env` file in the working folder sets. */
  env?: Record<string, string | undefined>;
  /** Standard output: text exactly as written (lines end in \n). Default: process.stdout. */
  out?: (text: string) => void;
  /** Standard error, likewise. Default: process.stderr. */
  err?: (text: string) => void;
  /**
   * `serve` stops (like on SIGTERM) when this is aborted, and then main()
   * resolves. Without it, `serve` stops on SIGTERM or SIGINT.
   */
  signal?: AbortSignal;
}

class UsageError extends Error {}

/** What a command gets: its output, and the settings and app loaded only when asked for. */
interface Run {
  /** One line to standard output. */
  say(line: string): void;
  /** One line to standard error. */
  warn(line: string): void;
  /** Text to standard output as it is. */
  write(text: string): void;
  config(): Promise<Config>;
  /** The database, migrated, and the app over it (no job worker, no logs), closed afterwards. */
  withApp<T>(fn: (app: FastifyInstance) => Promise<T>): Promise<T>;
  io: Required<Pick<CliIo, 'out' | 'err'>> &
    Pick<CliIo, 'signal'> & {
      /** The server's log lines go to io.out (when the caller gave one) rather than stdout. */
      logToOut: boolean;
    };
}

interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Commands that read a file take it as --file F or as the one positional argument. */
  takesFile?: boolean;
  run(values: Record<string, string | boolean | undefined>, run: Run): Promise<number | void>;
}

/** The migrated, empty embedded database the build makes (scripts/build.mjs), from src/ or dist/. */
const DB_TEMPLATE = fileURLToPath(new URL('../dist/db-template.tar', import.meta.url));

/**
 * The database; `serve` (and `restore`) start a new embedded one from the
 * build's template, others migrate.
 */
async function openFor(
  config: Config,
  {
    fromTemplate = false,
    worker = fromTemplate,
    openInBackground = false,
  }: { fromTemplate?: boolean; worker?: boolean; openInBackground?: boolean } = {},
): Promise<Database> {
  const { openDatabase } = await import('./db/client.ts');
  // The embedded database is PostgreSQL compiled to WebAssembly. V8 compiles
  // it once quickly (Liftoff) and then again, in the background, with its
  // optimising compiler; keeping the first only saves 40–60 MB of the
  // server's memory at no measured cost in requests a second (README,
  // Performance). Before the module is compiled: the flag is read then.
  if (!config.databaseUrl) setFlagsFromString('--liftoff-only');
  return openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    ...(fromTemplate ? { template: DB_TEMPLATE } : {}),
    // `serve` runs the embedded database in a thread of its own (db/pglite-thread.ts).
    ...(worker ? { worker: true } : {}),
    ...(openInBackground ? { openInBackground: true } : {}),
  });
}

/**
 * A command on a DATA_DIR with no database yet starts it from the build's
 * migrated template, as `serve` does, rather than running initdb and every
 * migration (seconds); in the calling thread, as one-off commands do.
 * (`migrate` itself does not: it shows the migrations it applies.)
 */
const NEW_FROM_TEMPLATE = { fromTemplate: true, worker: false } as const;

const SCALES = ['small', 'large'] as const;
const ROLE_NAMES = ['member', 'moderator', 'editor', 'admin'] as const;

function fileArgument(v: Record<string, string | boolean | undefined>, missing: string): string {
  const file = String(v.file ?? '');
  if (!file) throw new UsageError(missing);
  if (!existsSync(file)) throw new UsageError(`${file} does not exist`);
  return file;
}

const commands: Record<string, Command> = {
  serve: {
    summary:
      'Migrate, seed demo content on a new embedded database, and serve the site (the default).',
    usage: 'serve',
    options: {},
    async run(_v, run) {
      await serve(await run.config(), run.io);
    },
  },
  migrate: {
    summary: 'Apply the committed SQL migrations that have not been applied yet.',
    usage: 'migrate',
    options: {},
    async run(_v, run) {
      const database = await openFor(await run.config());
      try {
        const { migrate } = await import('./db/migrate.ts');
        const applied = await migrate(database);
        run.say(
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
    async run(v, run) {
      const scale = v.scale as string | undefined;
      if (scale !== undefined && !(SCALES as readonly string[]).includes(scale)) {
        throw new UsageError(`--scale must be one of: ${SCALES.join(', ')}`);
      }
      await run.withApp(async (app) => {
        const { runSeeders } = await import('./platform/seed.ts');
        const p = app.platform;
        const ran = await runSeeders(p.seeders, {
          db: p.database.db,
          database: p.database,
          log: app.log,
          scale: (scale as 'small' | 'large' | undefined) ?? 'demo',
        });
        run.say(`Seeded demo content${ran.length ? `: ${ran.join(', ')}` : ''}`);
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
  async run(v, run) {
    const file = fileArgument(v, 'give the file to read');
    const date = String(v.date ?? /(\d{4}-\d{2}-\d{2})\.csv$/.exec(file)?.[1] ?? '');
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date))
      throw new UsageError(
        '--date YYYY-MM-DD is required unless the file is named like 2025-04-01.csv',
      );
    return run.withApp(async (app) => {
      const result = await app.services.services.importAuthorities(
        readFileSync(file, 'utf8'),
        date,
        v.force === true,
      );
      if (!result.ok) {
        for (const p of result.problems) run.warn(`Row ${p.row}, ${p.field}: ${p.message}`);
        run.warn(`Nothing was loaded: ${result.problems.length} problem(s).`);
        return 1;
      }
      run.say(
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
  async run(v, run) {
    const file = fileArgument(v, 'give the file to read');
    return run.withApp(async (app) => {
      const result = await app.services.services.importServices(readFileSync(file, 'utf8'));
      if (!result.ok) {
        const unit = result.unit === 'record' ? 'Record' : 'Row';
        for (const p of result.problems)
          run.warn(`${p.row ? `${unit} ${p.row}, ` : ''}${p.field}: ${p.message}`);
        run.warn(`Nothing was imported: ${result.problems.length} problem(s).`);
        return 1;
      }
      run.say(`Imported: ${result.created} new, ${result.updated} updated.`);
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
  async run(v, run) {
    const file = fileArgument(v, 'give the GeoJSON file');
    return run.withApp(async (app) => {
      const result = await app.services.services.importBoundaries(readFileSync(file, 'utf8'));
      if (!result.ok) {
        for (const p of result.problems)
          run.warn(`${p.feature ? `Feature ${p.feature}, ` : ''}${p.field}: ${p.message}`);
        run.warn(`Nothing was loaded: ${result.problems.length} problem(s).`);
        return 1;
      }
      run.say(`Loaded ${result.loaded} boundaries.`);
      if (result.unmatched.length)
        run.say(`Not current authorities, left out: ${result.unmatched.join(', ')}`);
      if (result.missing.length)
        run.say(`No boundary in the file (shown as dots): ${result.missing.join(', ')}`);
      return 0;
    });
  },
};

commands['export:services'] = {
  summary: 'Print every service as CSV (the columns of /services.csv) or as ORUK 3.0 JSON.',
  usage: 'export:services [--format csv|json]',
  options: { format: { type: 'string' } },
  async run(v, run) {
    const format = String(v.format ?? 'csv');
    if (format !== 'csv' && format !== 'json') throw new UsageError('--format must be csv or json');
    await run.withApp(async (app) => {
      if (format === 'csv') {
        run.write(await app.services.services.exportCsv());
        return;
      }
      const list = await app.services.oruk.services({}, { page: 1, perPage: 1_000_000 });
      const full = await Promise.all(list.contents.map((s) => app.services.oruk.service(s.id)));
      run.write(`${JSON.stringify(full, null, 2)}\n`);
    });
  },
};

commands['import:guideline'] = {
  summary:
    'Load one version of a guideline from a YAML file (the format is in src/features/guidelines/README.md). Every problem is named with its path, e.g. stages[1].statements[3].level; nothing is stored unless all is valid. The same version number again replaces that version.',
  usage: 'import:guideline FILE.yaml (or --file FILE.yaml)',
  options: { file: { type: 'string' } },
  takesFile: true,
  async run(v, run) {
    const file = fileArgument(v, 'give the YAML file');
    return run.withApp(async (app) => {
      const result = await app.services.guidelines.importYaml(readFileSync(file, 'utf8'));
      if (!result.ok) {
        for (const p of result.problems) run.warn(`${p.path}: ${p.message}`);
        run.warn(`Nothing was stored: ${result.problems.length} problem(s).`);
        return 1;
      }
      run.say(
        `${result.created ? 'Loaded' : 'Replaced'} ${result.slug} version ${result.version}: ${result.statements} statements.`,
      );
      return 0;
    });
  },
};

commands['export:guideline'] = {
  summary:
    'Print a guideline version as YAML, the format import:guideline reads (the latest version unless --version N).',
  usage: 'export:guideline SLUG [--version N]',
  options: { version: { type: 'string' } },
  takesFile: true,
  async run(v, run) {
    const slug = String(v.file ?? '');
    if (!/^[a-z0-9-]{1,120}$/.test(slug)) throw new UsageError("give the guideline's slug");
    const version = v.version === undefined ? undefined : Number(v.version);
    if (version !== undefined && !(Number.isInteger(version) && version > 0))
      throw new UsageError('--version must be a whole number');
    return run.withApp(async (app) => {
      const yaml = await app.services.guidelines.exportYaml(slug, version);
      if (yaml === undefined) {
        run.warn(`No guideline ${slug}${version ? ` version ${version}` : ''}.`);
        return 1;
      }
      run.write(yaml);
      return 0;
    });
  },
};

commands['search:rebuild'] = {
  summary:
    'Make the site search\'s index again from everything the features publish (what is gone is removed), and its "did you mean" word list. Safe while the site runs.',
  usage: 'search:rebuild',
  options: {},
  async run(_v, run) {
    return run.withApp(async (app) => {
      const started = Date.now();
      const done = await app.services.search.rebuild();
      const parts = Object.entries(done.indexed).map(([source, n]) => `${source} ${n}`);
      run.say(
        `Indexed ${parts.join(', ')}; removed ${done.removed}; ${done.words} words for "did you mean"; ${((Date.now() - started) / 1000).toFixed(1)} s.`,
      );
      return 0;
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
  async run(v, run) {
    const email = String(v.email ?? '').trim();
    const role = String(v.role ?? '');
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email))
      throw new UsageError('--email must be an email address');
    if (!(ROLE_NAMES as readonly string[]).includes(role))
      throw new UsageError(`--role must be one of: ${ROLE_NAMES.join(', ')}`);
    const password = v.password as string | undefined;
    await run.withApp(async (app) => {
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
      run.say(
        `Created ${role} ${email}${password ? '' : ' (no password: they can sign in with an email link or reset their password)'}`,
      );
    });
  },
};

commands['secrets:reseal'] = {
  summary:
    'After SESSION_SECRET changed (the old one as SESSION_SECRET_PREVIOUS): seal every two-step secret again with the new one, so the old one can go.',
  usage: 'secrets:reseal',
  options: {},
  async run(_v, run) {
    const config = await run.config();
    if (!config.previousSessionSecret)
      throw new UsageError(
        'SESSION_SECRET_PREVIOUS is not set: give the secret SESSION_SECRET replaced there',
      );
    return run.withApp(async (app) => {
      const done = await app.services.accounts.resealTwoStepSecrets();
      run.say(
        `Two-step secrets: ${done.resealed} sealed again with the current secret, ${done.current} already were${done.left ? `; ${done.left} sealed with neither secret (those people set two-step sign-in up again)` : ''}. SESSION_SECRET_PREVIOUS is still needed for links in emails sent before the change.`,
      );
      return done.left ? 1 : 0;
    });
  },
};

commands.backup = {
  summary:
    'Write one archive (.tar.gz) of the whole site: a consistent dump of the database, every stored file, and a manifest with checksums. On the embedded database, stop the server first.',
  usage: 'backup FILE.tar.gz [--force]',
  options: { file: { type: 'string' }, force: { type: 'boolean' } },
  takesFile: true,
  async run(v, run) {
    const file = String(v.file ?? '');
    if (!file) throw new UsageError('give the archive to write');
    if (existsSync(file) && v.force !== true)
      throw new UsageError(`${file} already exists (give --force to replace it)`);
    const config = await run.config();
    const [{ backup, BackupArchiveError }, { openStorage }] = await Promise.all([
      import('./platform/backup.ts'),
      import('./platform/storage.ts'),
    ]);
    const started = Date.now();
    const storage = await openStorage(config);
    try {
      const database = await openFor(config, NEW_FROM_TEMPLATE);
      try {
        const { manifest, bytes } = await backup(database, storage, file);
        const rows = manifest.tables.reduce((n, t) => n + t.rows, 0);
        run.say(
          `Backed up ${manifest.tables.length} tables (${rows} rows) and ${manifest.files.length} files to ${file} (${megabytes(bytes)}) in ${((Date.now() - started) / 1000).toFixed(1)} s.`,
        );
        return 0;
      } catch (e) {
        if (e instanceof BackupArchiveError) {
          run.warn(e.message);
          return 1;
        }
        throw e;
      } finally {
        await database.close();
      }
    } finally {
      await storage.close();
    }
  },
};

commands.restore = {
  summary:
    'Restore an archive written by backup: every checksum is checked first; a database or file store that holds anything is replaced only with --force. Works from the embedded database to PostgreSQL too. Stop the site first.',
  usage: 'restore FILE.tar.gz [--force]',
  options: { file: { type: 'string' }, force: { type: 'boolean' } },
  takesFile: true,
  async run(v, run) {
    const file = fileArgument(v, 'give the archive to restore');
    const config = await run.config();
    const [backupModule, { openStorage }] = await Promise.all([
      import('./platform/backup.ts'),
      import('./platform/storage.ts'),
    ]);
    const { restore, BackupArchiveError, RestoreRefusedError } = backupModule;
    // A new embedded database starts from the build's migrated template (seconds
    // and hundreds of megabytes less than initdb and every migration) when the
    // archive is at this version's migrations.
    const manifest = await backupModule.readManifest(file);
    const storage = await openStorage(config);
    try {
      const database = await openFor(config, {
        fromTemplate: manifest !== undefined && backupModule.atCurrentMigrations(manifest),
        worker: false,
      });
      try {
        const { manifest, rows, removedFiles } = await restore(database, storage, file, {
          force: v.force === true,
        });
        // `serve` adds the demo content to an embedded database without this
        // mark (a new one): never to a restored site, such as one from PostgreSQL.
        if (database.kind === 'pglite') {
          const seed = await import('./platform/seed.ts');
          if (!(await seed.demoSeeded(database)))
            await database.query(
              `INSERT INTO site_settings (key, value) VALUES ($1, to_jsonb('restored'::text)) ON CONFLICT (key) DO NOTHING`,
              [seed.DEMO_SEEDED_KEY],
            );
        }
        run.say(
          `Restored ${manifest.tables.length} tables (${rows} rows) and ${manifest.files.length} files from ${file} (made ${manifest.created} on ${manifest.driver === 'pg' ? 'PostgreSQL' : 'the embedded database'})${removedFiles ? `; removed ${removedFiles} files not in the archive` : ''}.`,
        );
        return 0;
      } catch (e) {
        if (e instanceof RestoreRefusedError) {
          run.warn(e.message);
          return 2;
        }
        if (e instanceof BackupArchiveError) {
          run.warn(e.message);
          return 1;
        }
        throw e;
      } finally {
        await database.close();
      }
    } finally {
      await storage.close();
    }
  },
};

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

function help(): string {
  const lines = ['Usage: supporting-parents <command> [options]', '', 'Commands:'];
  for (const c of Object.values(commands)) lines.push(`  ${c.usage.padEnd(36)} ${c.summary}`);
  lines.push(
    '',
    'Run `supporting-parents <command> --help` for one command. Settings come from the environment (see .env.example).',
  );
  return lines.join('\n');
}

/** A stream for pino that hands each log line to io.out (tests read the server's logs). */
function lineStream(out: (text: string) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      out(chunk.toString());
      cb();
    },
  });
}

/**
 * Migrate, seed a new embedded database, listen; resolves once the server has
 * stopped (on io.signal, or else SIGTERM/SIGINT) and everything is closed.
 */
async function serve(config: Config, io: Run['io']): Promise<void> {
  const started = Date.now();
  // Three things at once: the embedded database opens in its own thread (PGlite
  // compiles its WebAssembly on other threads too), the application's modules
  // load, and the migrations run as soon as the database is open. The
  // application is built meanwhile; its first query waits for the migrations
  // (buildApp's `migrated`). The thread is started first: loading the modules
  // beside its start held it back ~0.2 s. A restart answers ~0.3 s sooner.
  const database = await openFor(config, { fromTemplate: true, openInBackground: true });
  const migrations = import('./db/migrate.ts');
  const loading = Promise.all([import('./app.ts'), import('./platform/seed.ts')]);
  // On PostgreSQL, after the modules have loaded: loading them holds this thread for a second
  // or more (several on a busy machine), and a pool connection's 5 s timeout, a timer, could
  // fire before the server's answer that came in time was read (an instance failed to start
  // so). The embedded database has no such timeout, and opens in a thread of its own.
  const migrating = (database.kind === 'pg' ? loading.catch(() => undefined) : Promise.resolve())
    .then(() => migrations)
    .then(({ migrate }) => migrate(database));
  migrating.catch(() => undefined); // handled below
  let modules;
  try {
    modules = await loading;
  } catch (err) {
    await migrating.catch(() => undefined);
    await database.close().catch(() => undefined);
    throw err;
  }
  const [{ buildApp }, seed] = modules;
  let app: FastifyInstance | undefined;
  let metrics: { close(): Promise<void> } | undefined;
  try {
    app = await buildApp({
      config,
      database,
      migrated: migrating,
      ...(io.logToOut ? { logger: { stream: lineStream(io.out) } } : {}),
    });
    await migrating;
    if (database.kind === 'pglite' && !(await seed.demoSeeded(database))) {
      app.log.info('new embedded database: seeding demo content');
      const p = app.platform;
      await seed.runSeeders(p.seeders, {
        db: p.database.db,
        database,
        log: app.log,
        scale: 'demo',
      });
      // Seeding grew the database thread's WebAssembly memory (~100 MB it would keep for
      // ever): a fresh thread on the seeded data starts as small as on any restart.
      await database.renew?.();
    }
    await app.listen({ port: config.port, host: config.host });
    if (config.metricsPort !== undefined) {
      const { listenForMetrics } = await import('./platform/health.ts');
      metrics = await listenForMetrics(
        app,
        config.metricsPort,
        config.metricsHost,
        config.metricsToken,
      );
    }
    const roles = (['web', 'worker'] as const).filter((r) => config.roles[r]).join(',');
    app.log.info(
      { ms: Date.now() - started, roles },
      config.roles.web
        ? `Supporting Parents is ready at ${config.baseUrl}`
        : `Supporting Parents is running jobs (health checks on port ${config.port})`,
    );
  } catch (err) {
    await metrics?.close().catch(() => undefined);
    await app?.close().catch(() => undefined);
    await database.close().catch(() => undefined);
    throw err;
  }
  const server = app;

  const stopped = new Promise<string>((resolve) => {
    if (io.signal) {
      if (io.signal.aborted) resolve('abort');
      else io.signal.addEventListener('abort', () => resolve('abort'), { once: true });
      return;
    }
    let stopping = false;
    const onSignal = (signal: string): void => {
      if (stopping) process.exit(1); // a second Ctrl-C: stop now
      stopping = true;
      // If shutting down hangs, do not hang with it.
      setTimeout(() => process.exit(1), 10_000 + config.drainSeconds * 1000).unref();
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  const signal = await stopped;
  // Draining: /readyz answers 503 so the proxy stops sending new requests
  // here, while those it still sends are answered; then close.
  server.health.drain();
  if (config.drainSeconds > 0) {
    server.log.info({ signal, seconds: config.drainSeconds }, 'draining: /readyz now says 503');
    await new Promise((resolve) => setTimeout(resolve, config.drainSeconds * 1000));
  }
  server.log.info({ signal }, 'shutting down: finishing requests in flight');
  try {
    await server.close();
    await metrics?.close();
  } finally {
    await database.close();
  }
}

function settings(io: CliIo): Record<string, string | undefined> {
  if (io.env) return io.env;
  const file = existsSync('.env') ? parseEnv(readFileSync('.env', 'utf8')) : {};
  return { ...file, ...process.env };
}

/**
 * Runs one command line (argv without `node main.js`) and resolves with its
 * exit code: 0 done, 1 failed (a bad setting, a locked database, invalid
 * input data), 2 a bad argument. Everything it prints goes through io.
 */
export async function main(argv: string[], io: CliIo = {}): Promise<number> {
  const out = io.out ?? ((text: string) => void process.stdout.write(text));
  const err = io.err ?? ((text: string) => void process.stderr.write(text));
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    out(`${help()}\n`);
    return 0;
  }
  const name = first === undefined || first.startsWith('-') ? 'serve' : first;
  const args = first === undefined || first.startsWith('-') ? argv : rest;
  const command = commands[name];
  if (!command) {
    err(`Unknown command "${name}". Run with --help to see the commands.\n`);
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
  } catch (e) {
    err(`${(e as Error).message.split('\n')[0]} (usage: ${command.usage})\n`);
    return 2;
  }
  if (values.help) {
    out(`Usage: supporting-parents ${command.usage}\n\n${command.summary}\n`);
    return 0;
  }

  let config: Config | undefined;
  const run: Run = {
    say: (line) => out(`${line}\n`),
    warn: (line) => err(`${line}\n`),
    write: out,
    io: { out, err, signal: io.signal, logToOut: Boolean(io.out) },
    async config() {
      if (!config) {
        const { loadConfig } = await import('./config.ts');
        config = loadConfig(settings(io));
      }
      return config;
    },
    async withApp(fn) {
      const cfg = await run.config();
      const [{ buildApp }, { migrate }] = await Promise.all([
        import('./app.ts'),
        import('./db/migrate.ts'),
      ]);
      const database = await openFor(cfg, NEW_FROM_TEMPLATE);
      try {
        await migrate(database);
        const app = await buildApp({ config: { ...cfg, runJobs: false }, database, logger: false });
        try {
          return await fn(app);
        } finally {
          await app.close();
        }
      } finally {
        await database.close();
      }
    },
  };
  try {
    return (await command.run(values, run)) ?? 0;
  } catch (e) {
    if (e instanceof UsageError) {
      err(`${e.message} (usage: ${command.usage})\n`);
      return 2;
    }
    // Loaded already if they are what was thrown.
    const [{ ConfigError }, { DataDirLockedError }, { DatabaseOpenError }] = await Promise.all([
      import('./config.ts'),
      import('./db/lock.ts'),
      import('./db/open-error.ts'),
    ]);
    if (
      e instanceof ConfigError ||
      e instanceof DataDirLockedError ||
      e instanceof DatabaseOpenError
    ) {
      err(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

/** Runs main() as this process: its exit code becomes the process's. */
export function runAsProcess(argv: string[]): void {
  // Node 22.1 and later keep V8's compiled code for the modules loaded from
  // here on (dist/.compile-cache, cleared by each build), so a restart skips
  // most of the compiling. Node 20 has no such cache; under tsx it is not used.
  const cache = (nodeModule as { enableCompileCache?: (dir: string) => unknown })
    .enableCompileCache;
  if (cache && import.meta.url.endsWith('.js'))
    cache(fileURLToPath(new URL('./.compile-cache', import.meta.url)));
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}

// `node dist/main.js …` or `node --import tsx src/main.ts …` (the installed bin calls runAsProcess).
function isEntry(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}
if (isEntry()) runAsProcess(process.argv.slice(2));
