import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT_DIR } from '../../src/root.ts';

// semver is in the tree already (fastify, sharp); a devDependency of ours for this test.
const semver = createRequire(import.meta.url)('semver') as {
  satisfies(version: string, range: string): boolean;
};

/** The Node versions we support: the oldest 20 we allow and the first of each later LTS line. */
const SUPPORTED = ['20.19.0', '22.0.0', '24.0.0'];

interface LockedPackage {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  engines?: { node?: string } | string[];
}

test('package.json admits the Node versions we support', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT_DIR, 'package.json'), 'utf8')) as {
    engines: { node: string };
  };
  for (const v of SUPPORTED) assert.ok(semver.satisfies(v, pkg.engines.node), v);
});

test('every package installed for production runs on Node 20.19, 22 and 24 (engines.node)', () => {
  const lock = JSON.parse(readFileSync(join(ROOT_DIR, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockedPackage>;
  };
  const refused: string[] = [];
  let checked = 0;
  for (const [path, p] of Object.entries(lock.packages)) {
    if (!path || p.dev) continue;
    // An optional package for another platform (sharp's prebuilt binaries) is not installed here.
    if (p.optional && !existsSync(join(ROOT_DIR, path))) continue;
    const range = Array.isArray(p.engines)
      ? p.engines.find((e) => e.startsWith('node '))?.slice('node '.length)
      : p.engines?.node;
    if (!range) continue;
    checked++;
    const excluded = SUPPORTED.filter((v) => !semver.satisfies(v, range));
    if (excluded.length)
      refused.push(
        `${path.replace(/^.*node_modules\//, '')}@${p.version}: node ${range} excludes ${excluded.join(', ')}`,
      );
  }
  assert.ok(checked > 10, `checked ${checked} packages' engines`);
  assert.deepEqual(refused, [], 'pin the package to a version that admits them, or use overrides');
});
