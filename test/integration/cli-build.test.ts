import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { basename, join, sep } from 'node:path';
import { test } from 'node:test';
import { ROOT_DIR } from '../../src/root.ts';
import { DEMO_PASSWORD } from '../../src/features/accounts/seed.ts';
import { cli, cliEnv, freePort, tmp } from '../helpers/cli.ts';

/**
 * Signs a demo member in through the built server, as a browser does (the
 * form's CSRF token, its cookies, the password checked by argon2, a package
 * left out of the bundle), and opens a members' page with the session.
 */
async function signInThrough(base: string): Promise<void> {
  const form = await fetch(`${base}/account/sign-in`);
  assert.equal(form.status, 200);
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1];
  assert.ok(token, 'the sign-in form has a CSRF token');
  const jar = (res: Response) => res.headers.getSetCookie().map((c) => c.split(';')[0]);
  const cookies = jar(form);
  assert.ok(cookies.length, 'the sign-in form sets its cookie');
  const signIn = await fetch(`${base}/account/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: cookies.join('; '), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      email: 'member@example.org',
      password: DEMO_PASSWORD,
      _csrf: token,
    }),
  });
  assert.equal(signIn.status, 303, 'signed in');
  const session = [...cookies, ...jar(signIn)].join('; ');
  const members = await fetch(`${base}/community`, { headers: { cookie: session } });
  assert.equal(members.status, 200);
  assert.match(await members.text(), /Sign out|sign-out/, 'the page is for the signed-in member');
}

/**
 * The compiled build as a real process (`node dist/main.js`), apart from
 * cli.test.ts (the command line in-process) so that the runner can run the
 * two at once.
 */

test('the compiled build: --help and usage errors load nothing else; serve is ready, a second server on the same DATA_DIR refuses, SIGTERM stops cleanly', async (t) => {
  // `npm test` has built already; this only checks (a few milliseconds) unless src/ changed.
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], {
    cwd: ROOT_DIR,
    encoding: 'utf8',
  });
  assert.equal(build.status, 0, build.stderr);

  for (const args of [['--help'], ['seed', '--scale', 'huge']]) {
    const res = spawnSync(process.execPath, ['dist/main.js', ...args], {
      cwd: ROOT_DIR,
      env: { ...process.env, NODE_DEBUG: 'esm' },
      encoding: 'utf8',
    });
    if (args[0] === '--help') {
      assert.equal(res.status, 0);
      for (const c of ['serve', 'migrate', 'seed'])
        assert.match(res.stdout, new RegExp(`\\b${c}\\b`));
    } else assert.equal(res.status, 2);
    // Node's ESM debug log names each module it loads (Node 20's wording; skipped if it changes):
    // main.js and esbuild's few shared helpers, nothing of the app or the packages.
    const loaded = new Set(
      [...res.stderr.matchAll(/file:\/\/(\/\S+?\.m?js)\b/g)].map((m) => m[1]!),
    );
    if (loaded.has(join(ROOT_DIR, 'dist', 'main.js'))) {
      for (const file of loaded) {
        assert.ok(file.startsWith(join(ROOT_DIR, 'dist') + sep), `${args.join(' ')} loads ${file}`);
        if (basename(file) !== 'main.js')
          assert.ok(statSync(file).size < 10_000, `${args.join(' ')} loads ${file}`);
      }
    } else t.diagnostic('NODE_DEBUG=esm names no modules on this Node: not checked');
  }

  const dir = tmp();
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/main.js', 'serve'], {
    cwd: ROOT_DIR,
    env: { ...process.env, ...cliEnv(dir, { PORT: port, LOG_LEVEL: 'info' }), DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  let gone = '';
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code, signal) => {
      gone = ` (it exited: code ${code}, signal ${signal})`;
      resolve(code);
    }),
  );
  try {
    const deadline = Date.now() + 120_000; // a first start seeds; slow on a busy machine
    let ready = false;
    while (!ready && !gone && Date.now() < deadline) {
      try {
        ready = (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
      } catch {
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    assert.ok(ready, `the server became ready${gone}: ${out}`);
    const home = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(home.status, 200);
    assert.match(out, /seeding demo content/, 'a first start seeds the demo content');
    await signInThrough(`http://127.0.0.1:${port}`);

    const second = await cli(['serve'], dir, { PORT: await freePort() });
    assert.equal(second.status, 1);
    assert.match(second.stderr, /in use by another process/);
    assert.ok((await fetch(`http://127.0.0.1:${port}/readyz`)).ok, 'the first server is unharmed');
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, 'a graceful exit');
  assert.match(out, /shutting down/);
  assert.equal(existsSync(join(dir, 'db.lock')), false, 'the database lock is released');
});
