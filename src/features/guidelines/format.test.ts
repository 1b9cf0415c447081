import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { main } from '../../main.ts';
import { parseGuidelineYaml, toGuidelineYaml } from './format.ts';
import { DEMO_GUIDELINE_FILE, DEMO_GUIDELINE_SLUG } from './seed.ts';

const demo = readFileSync(DEMO_GUIDELINE_FILE, 'utf8');

test('the demo guideline is valid: three stages, fifteen statements, marked illustrative', () => {
  const parsed = parseGuidelineYaml(demo);
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.problems));
  assert.equal(parsed.data.stages.length, 3);
  assert.equal(
    parsed.data.stages.reduce((n, s) => n + s.statements.length, 0),
    15,
  );
  assert.equal(parsed.data.illustrative, true);
  assert.match(parsed.data.summary, /illustrative/i);
});

test('every problem in a file is named by its path, with a message', () => {
  const bad = `
slug: Not A Slug
title: A guideline
summary: s
publisher: p
colour: blue
version:
  number: one
  label: Draft
  status: finished
  issued_on: 2026-13-01
  licence: OGL
stages:
  - key: first
    title: First
    for_parents: Plain words.
    statements:
      - ref: "1.1"
        text: A statement.
        level: strategic
        agencies: [social_care]
      - ref: "1.1"
        text: Another.
        level: frontline
        agencies: [health]
  - key: second
    title: Second
    for_parents: Plain words.
    statements:
      - ref: "2.1"
        text: Fine.
        level: strategic
        agencies: [courts]
      - ref: 2.2
        text: ""
        level: middle
        agencies: [police]
        lenses: [fathers, age]
        examples:
          - kind: story
            text: x
`;
  const parsed = parseGuidelineYaml(bad);
  assert.equal(parsed.ok, false);
  const problems = parsed.ok ? [] : parsed.problems;
  const paths = problems.map((p) => p.path);
  for (const expected of [
    'slug',
    '(file)', // the unknown field "colour"
    'version.number',
    'version.status',
    'version.issued_on',
    'stages[0].statements[1].ref', // repeats 1.1
    'stages[1].statements[1].ref', // not text
    'stages[1].statements[1].text',
    'stages[1].statements[1].level',
    'stages[1].statements[1].agencies[0]',
    'stages[1].statements[1].lenses[1]',
    'stages[1].statements[1].examples[0].kind',
  ])
    assert.ok(paths.includes(expected), `${expected} in ${JSON.stringify(problems, null, 1)}`);
  for (const p of problems) assert.ok(p.message.length > 3, JSON.stringify(p));
  assert.match(
    problems.find((p) => p.path === 'stages[1].statements[1].level')!.message,
    /strategic, frontline/,
  );
});

test('broken YAML is reported with its line', () => {
  const parsed = parseGuidelineYaml('slug: a\ntitle: [unclosed\n');
  assert.equal(parsed.ok, false);
  assert.match(parsed.ok ? '' : parsed.problems[0]!.path, /^line \d+/);
});

test('the canonical text reads back to the same data and the same text', () => {
  const first = parseGuidelineYaml(demo);
  assert.ok(first.ok);
  const text = toGuidelineYaml(first.data);
  const again = parseGuidelineYaml(text);
  assert.ok(again.ok);
  assert.deepEqual(again.data, first.data);
  assert.equal(toGuidelineYaml(again.data), text);
});

test('CLI: an invalid file stores nothing; export → import → export is byte-identical', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-guideline-'));
  const env = { DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'warn', NODE_ENV: 'development' };
  const cli = async (args: string[]) => {
    let stdout = '';
    let stderr = '';
    const status = await main(args, {
      env,
      out: (s) => (stdout += s),
      err: (s) => (stderr += s),
    });
    return { status, stdout, stderr };
  };
  try {
    // One bad level among fifteen statements: every problem named, nothing stored.
    const invalid = join(dir, 'invalid.yaml');
    writeFileSync(invalid, demo.replace('level: frontline', 'level: sideways'));
    const refused = await cli(['import:guideline', invalid]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /stages\[0\]\.statements\[2\]\.level: must be one of/);
    assert.match(refused.stderr, /Nothing was stored: 1 problem/);
    const none = await cli(['export:guideline', DEMO_GUIDELINE_SLUG]);
    assert.equal(none.status, 1, 'nothing was stored');

    const file = join(dir, 'guideline.yaml');
    writeFileSync(file, demo);
    const loaded = await cli(['import:guideline', file]);
    assert.equal(loaded.status, 0, loaded.stderr);
    assert.match(loaded.stdout, /Loaded demo-born-into-care-illustrative version 1: 15 statements/);
    const first = await cli(['export:guideline', DEMO_GUIDELINE_SLUG]);
    assert.equal(first.status, 0, first.stderr);
    const exported = join(dir, 'exported.yaml');
    writeFileSync(exported, first.stdout);
    const reloaded = await cli(['import:guideline', exported]);
    assert.equal(reloaded.status, 0, reloaded.stderr);
    assert.match(reloaded.stdout, /Replaced/);
    const second = await cli(['export:guideline', DEMO_GUIDELINE_SLUG, '--version', '1']);
    assert.equal(second.stdout, first.stdout, 'byte-identical');
    const canonical = parseGuidelineYaml(demo);
    assert.ok(canonical.ok);
    assert.equal(first.stdout, toGuidelineYaml(canonical.data), 'the canonical text of the file');

    const usage = await cli(['export:guideline']);
    assert.equal(usage.status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
