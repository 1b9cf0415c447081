/**
 * News and practice stories at scale on PostgreSQL: 10,000 published news
 * items and one article with 500 comments (250 comments, 250 replies), then
 * the latency of `/news` pages (with and without filters), article pages and
 * the 500-comment page, with the page cache bypassed (every request carries a
 * session cookie). Target: p95 < 50 ms.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node --import tsx bench/articles.ts
 *   … bench/articles.ts --duration 10 --connections 10
 *   … bench/articles.ts --peer ghost --ghost-dir /tmp/sp-ghost   # opt-in, never in CI
 *
 * `--peer ghost`: also serves a post of the same length from Ghost (5.130.4,
 * the last for Node 20), in production mode on SQLite, one process, and
 * measures it and our article page one after the other, printing req/s and
 * p95 side by side. Ghost is installed outside this repository, as Ghost's own
 * installer does (its package refers to files inside itself, so it cannot be
 * a dependency): `npm pack ghost@5.130.4`, unpack it into --ghost-dir, add
 * `"allowScripts": { "sqlite3": true }` to its package.json and delete its
 * `devDependencies` (one is a GitHub tarball, which npm would fetch even with
 * --omit=dev), then `npm install --omit=dev --legacy-peer-deps` there
 * (sqlite3 builds against Node's headers; set `npm_config_nodedir` if they
 * are not in /usr/include/node). Ghost runs from its own folder, with both its
 * bundled themes, and without the emailed code of a new device's sign-in.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { renderBody } from '../src/features/articles/service.ts';
import { freePorts, liveChildren, serveNodeFlags, startProcess, stopProcess } from './lib.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TOPICS = ['maintaining-links', 'pre-birth', 'trauma-informed', 'family-court', 'fathers'];

/** About 1,200 words of invented text in Markdown: the article both servers serve. */
function longBody(): string {
  const sentence =
    'Practitioners and parents met every week to plan the next steps together, and each plan was written in plain words that everyone could read.';
  const parts: string[] = [];
  for (let s = 1; s <= 6; s++) {
    parts.push(`## Part ${s} of the story (demo)`);
    for (let p = 0; p < 4; p++) parts.push(Array.from({ length: 2 }, () => sentence).join(' '));
    parts.push('- One named worker\n- A written plan\n- Time after every hearing');
  }
  return parts.join('\n\n');
}

async function bulk(url: string, body: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const html = renderBody(body);
    await client.query(
      `INSERT INTO articles (kind, slug, title, standfirst, body, body_html, status, publish_at,
         authors, topics, regions, is_demo, updated_at)
       SELECT 'news', 'bench-news-' || g, 'Generated news item ' || g || ' (demo)',
         'A generated item for the benchmark, number ' || g || '.', $1, $2, 'published',
         now() - g * interval '1 hour', '[{"name":"Bench Author","role":"Demo"}]'::jsonb,
         ARRAY[($3::text[])[1 + g % 5]], ARRAY[CASE WHEN g % 2 = 0 THEN 'Wales' ELSE 'North West' END],
         true, now() - g * interval '1 hour'
       FROM generate_series(1, 10000) AS g`,
      [body, html, TOPICS],
    );
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO articles (kind, slug, title, standfirst, body, body_html, status, publish_at, authors, is_demo)
       VALUES ('news', 'bench-500-comments', 'An article with 500 comments (demo)', 'For the benchmark.',
         $1, $2, 'published', now() - interval '1 day', '[]'::jsonb, true) RETURNING id`,
      [body, html],
    );
    const article = rows[0]!.id;
    const { rows: people } = await client.query<{ id: string }>(
      `SELECT id FROM users WHERE email IN ('member@example.org', 'parent@example.org', 'editor@example.org')`,
    );
    await client.query(
      `INSERT INTO article_comments (article_id, author_id, body, body_html, created_at, background)
       SELECT $1, ($2::uuid[])[1 + g % 3], 'Generated comment ' || g || '.',
         '<p class="govuk-body">Generated comment ' || g || '.</p>', now() - (600 - g) * interval '1 minute',
         CASE WHEN g % 4 = 0 THEN 'practitioner' END
       FROM generate_series(1, 250) AS g`,
      [article, people.map((p) => p.id)],
    );
    await client.query(
      `INSERT INTO article_comments (article_id, parent_id, author_id, body, body_html, created_at)
       SELECT $1, c.id, ($2::uuid[])[1 + (row_number() OVER ()) % 3], 'A generated reply.',
         '<p class="govuk-body">A generated reply.</p>', c.created_at + interval '30 seconds'
       FROM article_comments c WHERE c.article_id = $1`,
      [article, people.map((p) => p.id)],
    );
    await client.query(
      `UPDATE articles SET comment_count = (SELECT count(*) FROM article_comments WHERE article_id = $1) WHERE id = $1`,
      [article],
    );
    // As autovacuum would soon after such a load: without it the visibility map is empty and
    // every list reads the table instead of its index alone.
    await client.query('VACUUM ANALYZE articles');
    await client.query('VACUUM ANALYZE article_comments');
  } finally {
    await client.end();
  }
}

const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;

async function measure(
  base: string,
  name: string,
  paths: string[],
  duration: number,
  connections: number,
  headers: Record<string, string>,
) {
  let i = 0;
  const times: number[] = [];
  let bad = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: base,
        connections,
        duration,
        headers,
        requests: [{ setupRequest: (req) => ({ ...req, path: paths[i++ % paths.length]! }) }],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', (_c, status, _b, ms) => {
      times.push(ms);
      if (status < 200 || status > 299) bad++;
    });
  });
  times.sort((a, b) => a - b);
  return {
    name,
    rps: result.requests.mean,
    p50: pct(times, 50),
    p95: pct(times, 95),
    p99: pct(times, 99),
    bad: bad + result.errors,
  };
}
type Row = Awaited<ReturnType<typeof measure>>;

function print(rows: Row[]) {
  console.log(
    'scenario                                   req/s   p50 ms   p95 ms   p99 ms  non-2xx',
  );
  for (const r of rows)
    console.log(
      `${r.name.padEnd(40)} ${r.rps.toFixed(0).padStart(7)} ${r.p50.toFixed(1).padStart(8)} ${r.p95.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)} ${String(r.bad).padStart(8)}`,
    );
}

async function adminQuery(url: string, text: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** Where Ghost's index.js is: the folder itself, or its node_modules/ghost. */
const ghostRoot = (dir: string) =>
  existsSync(join(dir, 'index.js')) ? dir : join(dir, 'node_modules', 'ghost');

/** Ghost in production mode on SQLite: set up its owner, publish the same article, return its path. */
async function startGhost(ghostDir: string, body: string) {
  const [port] = await freePorts(1);
  const base = `http://127.0.0.1:${port}`;
  const content = mkdtempSync(join(tmpdir(), 'sp-bench-ghost-'));
  for (const d of ['data', 'images', 'logs', 'settings', 'themes', 'adapters', 'files', 'media'])
    spawnSync('mkdir', ['-p', join(content, d)]);
  const ghost = ghostRoot(ghostDir);
  // Its bundled themes: 5.130 starts on "source" (with only casper, every page is a 500).
  for (const theme of readdirSync(join(ghost, 'content', 'themes')))
    spawnSync('cp', ['-r', join(ghost, 'content', 'themes', theme), join(content, 'themes')]);
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    url: base,
    server__host: '127.0.0.1',
    server__port: String(port),
    database__client: 'sqlite3',
    database__connection__filename: join(content, 'data', 'ghost.db'),
    database__useNullAsDefault: 'true',
    paths__contentPath: content,
    logging__level: 'error',
    logging__transports: '["stdout"]',
    mail__transport: 'stub',
    // No emailed code for the owner's first sign-in: the bench signs in once, from here.
    security__staffDeviceVerification: 'false',
  };
  const started = await startProcess(
    process.execPath,
    [join(ghost, 'index.js')],
    env,
    `${base}/ghost/api/admin/site/`,
    // Ghost finds its own package.json (its version) from the folder it runs in.
    ghost,
  );
  const origin = { Origin: base, 'content-type': 'application/json' };
  const setup = await fetch(`${base}/ghost/api/admin/authentication/setup/`, {
    method: 'POST',
    headers: origin,
    body: JSON.stringify({
      setup: [
        {
          name: 'Bench Owner',
          email: 'ghost-owner@example.org',
          password: 'Zq8-vLr2-pWm9-xTe4-demo',
          blogTitle: 'Bench (demo)',
        },
      ],
    }),
  });
  if (!setup.ok) throw new Error(`Ghost setup failed: ${setup.status} ${await setup.text()}`);
  const session = await fetch(`${base}/ghost/api/admin/session/`, {
    method: 'POST',
    headers: origin,
    body: JSON.stringify({
      username: 'ghost-owner@example.org',
      password: 'Zq8-vLr2-pWm9-xTe4-demo',
    }),
  });
  const cookie = session.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const post = await fetch(`${base}/ghost/api/admin/posts/?source=html`, {
    method: 'POST',
    headers: { ...origin, cookie },
    body: JSON.stringify({
      posts: [
        {
          title: 'A practice story of the same length (demo)',
          slug: 'bench-story',
          html: renderBody(body),
          status: 'published',
        },
      ],
    }),
  });
  if (!post.ok) throw new Error(`Ghost post failed: ${post.status} ${await post.text()}`);
  return { base, path: '/bench-story/', child: started.child, content };
}

async function main() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '10' },
      peer: { type: 'string' },
      'ghost-dir': { type: 'string', default: '/tmp/sp-ghost/ghost' },
      keep: { type: 'boolean', default: false },
      // With --peer: only the comparison, not the scale scenarios.
      'peer-only': { type: 'boolean', default: false },
    },
  });
  const url = process.env.DATABASE_URL;
  if (!url?.startsWith('postgres')) {
    console.error('bench/articles.ts needs DATABASE_URL (PostgreSQL).');
    process.exit(2);
  }
  if (values.peer && values.peer !== 'ghost') {
    console.error('--peer takes "ghost".');
    process.exit(2);
  }
  const ghostDir = values['ghost-dir']!;
  if (values.peer && !existsSync(join(ghostRoot(ghostDir), 'index.js'))) {
    console.error(`Ghost is not installed in ${ghostDir} (see the comment at the top).`);
    process.exit(2);
  }
  const name = `sp_bench_articles_${process.pid}`;
  const benchUrl = new URL(url);
  benchUrl.pathname = `/${name}`;
  const tmp = mkdtempSync(join(tmpdir(), 'sp-bench-articles-'));
  await adminQuery(url, `CREATE DATABASE ${name}`);
  const duration = Number(values.duration);
  const connections = Number(values.connections);
  const body = longBody();
  let ghost: Awaited<ReturnType<typeof startGhost>> | undefined;
  try {
    const env = {
      ...process.env,
      DATABASE_URL: benchUrl.toString(),
      DATA_DIR: tmp,
      LOG_LEVEL: 'warn',
    };
    const seeded = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/main.ts'), 'seed', '--demo'],
      { env, stdio: 'inherit' },
    );
    if (seeded.status !== 0) throw new Error('seed --demo failed');
    const t0 = Date.now();
    await bulk(benchUrl.toString(), body);
    console.log(
      `10,000 articles and 500 comments written in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    const [port] = await freePorts(1);
    const base = `http://127.0.0.1:${port}`;
    const server = await startProcess(
      process.execPath,
      // The built server with the Dockerfile's flags (bench/lib.ts).
      [...serveNodeFlags(), join(ROOT, 'dist/main.js'), 'serve'],
      {
        ...env,
        PORT: String(port),
        HOST: '127.0.0.1',
        NODE_ENV: 'production',
        SESSION_SECRET: 'bench-secret-bench-secret-bench-secret-123',
        BASE_URL: base,
      },
      `${base}/readyz`,
    );
    try {
      const bypass = { cookie: 'sp_session=bench-not-a-session' };
      const scenarios: [string, string[]][] = [
        ['/news, pages 1–500', Array.from({ length: 100 }, (_v, i) => `/news?page=${1 + i * 5}`)],
        [
          '/news with topic and region filters',
          Array.from(
            { length: 50 },
            (_v, i) => `/news?topic=${TOPICS[i % 5]}&region=Wales&page=${1 + (i % 20)}`,
          ),
        ],
        [
          'news article pages',
          Array.from({ length: 200 }, (_v, i) => `/news/bench-news-${1 + ((i * 47) % 10_000)}`),
        ],
        [
          'article with 500 comments',
          ['/news/bench-500-comments', '/news/bench-500-comments?order=newest'],
        ],
        ['/news/feed.atom', ['/news/feed.atom']],
      ];
      const rows: Row[] = [];
      for (const [label, paths] of values['peer-only'] ? [] : scenarios) {
        for (const p of new Set(paths))
          await fetch(`${base}${p}`, { headers: bypass }).then((r) => r.arrayBuffer());
        await measure(base, label, paths, 1, connections, bypass);
        rows.push(await measure(base, label, paths, duration, connections, bypass));
      }
      if (rows.length) {
        console.log(`\n${connections} connections, ${duration} s each, page cache bypassed\n`);
        print(rows);
        console.log(
          `\nworst p95: ${Math.max(...rows.map((r) => r.p95)).toFixed(1)} ms (target < 50 ms)`,
        );
      }
      if (rows.some((r) => r.bad > 0)) process.exitCode = 1;

      if (values.peer === 'ghost') {
        ghost = await startGhost(ghostDir, body);
        const peer: Row[] = [];
        const ours = '/news/bench-news-1';
        await measure(base, 'warm', [ours], 1, connections, {});
        peer.push(
          await measure(
            base,
            'ours: article (visitor, page cache)',
            [ours],
            duration,
            connections,
            {},
          ),
        );
        peer.push(
          await measure(
            base,
            'ours: article (cache bypassed)',
            [ours],
            duration,
            connections,
            bypass,
          ),
        );
        await measure(ghost.base, 'warm', [ghost.path], 1, connections, {});
        peer.push(
          await measure(
            ghost.base,
            'Ghost 5.130.4: same post',
            [ghost.path],
            duration,
            connections,
            {},
          ),
        );
        console.log(
          `\nAgainst a peer, one process each, ${connections} connections, ${duration} s each\n`,
        );
        print(peer);
        const ratio = peer[0]!.rps / peer[2]!.rps;
        const ratioBypass = peer[1]!.rps / peer[2]!.rps;
        console.log(
          `\nours/Ghost req/s: ${ratio.toFixed(2)} (visitor), ${ratioBypass.toFixed(2)} (cache bypassed); goal >= 2`,
        );
      }
    } finally {
      await stopProcess(server.child);
    }
  } finally {
    if (ghost) {
      await stopProcess(ghost.child);
      rmSync(ghost.content, { recursive: true, force: true });
    }
    for (const c of liveChildren()) await stopProcess(c);
    if (values.keep) console.log(`kept database ${name}`);
    else await adminQuery(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
