import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { type TestApp, testApp } from '../helpers/app.ts';

// Admission (src/platform/admission.ts): two requests at once, two waiting,
// the rest refused at once with 503 and Retry-After; the waiting ones are let
// in in the order they came; health checks never wait.

let t: TestApp;
/** Requests to /__test/slow park here until the test lets them go. */
const parked: { n: number; go(): void }[] = [];
const entered: number[] = [];

before(async () => {
  t = await testApp({
    config: { admission: { concurrency: 2, queue: 2, maxWaitMs: 400 } },
    before(app) {
      app.get<{ Querystring: { n: string } }>(
        '/__test/slow',
        { config: { access: 'public', a11y: false } },
        async (req) => {
          const n = Number(req.query.n);
          entered.push(n);
          await new Promise<void>((go) => parked.push({ n, go }));
          return { n };
        },
      );
    },
  });
});
after(async () => t.close());

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), 'the condition was reached');
};

test('a full house: two worked on, two wait, the next is refused at once with Retry-After', async () => {
  entered.length = 0;
  const answers: Promise<LightMyRequestResponse>[] = [];
  for (const n of [1, 2]) answers.push(t.app.inject(`/__test/slow?n=${n}`));
  await until(() => entered.length === 2);
  for (const n of [3, 4]) answers.push(t.app.inject(`/__test/slow?n=${n}`));
  await until(() => t.app.admission.waiting === 2);

  const refused = await t.app.inject('/__test/slow?n=5');
  assert.equal(refused.statusCode, 503);
  assert.equal(refused.headers['retry-after'], '2');
  assert.equal(refused.headers['cache-control'], 'no-store');
  assert.match(refused.body, /very busy/);
  assert.deepEqual(entered, [1, 2], 'the refused request did no work');

  const health = await t.app.inject('/healthz');
  assert.equal(health.statusCode, 200, 'health checks never wait');

  // Let the first two go: the waiting two come in, in the order they came.
  parked.splice(0, 2).forEach((p) => p.go());
  await until(() => entered.length === 4);
  assert.deepEqual(entered, [1, 2, 3, 4]);
  parked.splice(0).forEach((p) => p.go());
  const statuses = (await Promise.all(answers)).map((r) => r.statusCode);
  assert.deepEqual(statuses, [200, 200, 200, 200]);
  assert.equal(t.app.admission.active, 0);
  assert.equal(t.app.admission.waiting, 0);
});

test('a request that waits longer than the limit is refused, and its place is not lost', async () => {
  entered.length = 0;
  const first = [t.app.inject('/__test/slow?n=1'), t.app.inject('/__test/slow?n=2')];
  await until(() => entered.length === 2);
  const waited = await t.app.inject('/__test/slow?n=3'); // maxWaitMs 400 passes
  assert.equal(waited.statusCode, 503);
  assert.equal(t.app.admission.waiting, 0);
  assert.deepEqual(entered, [1, 2]);
  parked.splice(0).forEach((p) => p.go());
  await Promise.all(first);
  // The slots came back: a new request goes straight in.
  const next = t.app.inject('/__test/slow?n=4');
  await until(() => entered.length === 3);
  parked.splice(0).forEach((p) => p.go());
  assert.equal((await next).statusCode, 200);
  assert.ok(t.app.admission.refused >= 2);
});

test('a page that fails still gives its place back', async () => {
  const before = t.app.admission.active;
  const missing = await t.app.inject('/no-such-page');
  assert.equal(missing.statusCode, 404);
  assert.equal(t.app.admission.active, before);
});
