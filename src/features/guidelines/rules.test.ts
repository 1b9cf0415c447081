import assert from 'node:assert/strict';
import { test } from 'node:test';
import { combined, compareVersions, disagree, rag, ratingProblem, sortActions } from './rules.ts';

const r = (
  rating: 'fully' | 'partly' | 'not' | 'na',
  state: 'confirmed' | 'to_confirm' = 'confirmed',
) => ({
  rating,
  state,
});

test('the overall rating is the lowest confirmed one, not applicable aside', () => {
  assert.equal(combined([]), 'none');
  assert.equal(combined([r('fully', 'to_confirm')]), 'none');
  assert.equal(combined([r('fully'), r('partly')]), 'partly');
  assert.equal(combined([r('fully'), r('not'), r('na')]), 'not');
  assert.equal(combined([r('na'), r('na')]), 'na');
  assert.equal(combined([r('na'), r('fully')]), 'fully');
});

test('agencies disagree when their confirmed ratings differ', () => {
  assert.equal(disagree([r('fully'), r('fully'), r('na')]), false);
  assert.equal(disagree([r('fully'), r('partly')]), true);
  assert.equal(disagree([r('fully'), r('not', 'to_confirm')]), false);
});

test('RAG from dates and status; overdue first', () => {
  const today = '2026-06-01';
  assert.equal(rag({ status: 'delivered', dueOn: '2020-01-01' }, today), 'green');
  assert.equal(rag({ status: 'blocked', dueOn: '2030-01-01' }, today), 'red');
  assert.equal(rag({ status: 'in_progress', dueOn: '2026-05-31' }, today), 'red');
  assert.equal(rag({ status: 'in_progress', dueOn: '2026-06-20' }, today), 'amber');
  assert.equal(rag({ status: 'not_started', dueOn: '2026-08-01' }, today), 'amber');
  assert.equal(rag({ status: 'in_progress', dueOn: '2026-08-01' }, today), 'green');
  assert.equal(rag({ status: 'not_started', dueOn: '2027-01-01' }, today), 'green');
  const sorted = sortActions(
    [
      { title: 'b', status: 'not_started' as const, dueOn: '2026-07-01' },
      { title: 'late', status: 'in_progress' as const, dueOn: '2026-05-01' },
      { title: 'done', status: 'delivered' as const, dueOn: '2026-04-01' },
      { title: 'a', status: 'not_started' as const, dueOn: '2026-07-01' },
    ],
    today,
  );
  assert.deepEqual(
    sorted.map((a) => a.title),
    ['late', 'done', 'a', 'b'],
  );
});

test('versions compared statement by statement', () => {
  const s = (ref: string, text: string, agencies = ['health']) => ({
    ref,
    text,
    level: 'strategic' as const,
    agencies,
    lenses: [] as string[],
  });
  const rows = compareVersions(
    [s('1', 'a'), s('2', 'b'), s('3', 'c'), s('4', 'd', ['health', 'legal'])],
    [s('1', 'a'), s('2', 'B'), s('5', 'e'), s('4', 'd', ['legal', 'health'])],
  );
  assert.deepEqual(
    rows.map((x) => [x.ref, x.change]),
    [
      ['1', 'unchanged'],
      ['2', 'changed'],
      ['5', 'new'],
      ['4', 'unchanged'],
      ['3', 'removed'],
    ],
  );
});

test('not applicable needs a reason that is more than spaces', () => {
  assert.deepEqual(ratingProblem({ rating: 'na' }), {
    field: 'naReason',
    key: 'guidelines.errors.naReason',
  });
  assert.ok(ratingProblem({ rating: 'na', naReason: '  ' }));
  assert.equal(ratingProblem({ rating: 'na', naReason: 'Not ours' }), undefined);
  assert.equal(ratingProblem({ rating: 'fully' }), undefined);
});
