import { test } from 'node:test';
import assert from 'node:assert/strict';
import { median, orderOf, shuffled } from './rounds.js';

test('median of odd and even counts; NaN for none', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

test('orderOf rotates, so each server goes first in turn', () => {
  const base = ['a', 'b', 'c'];
  assert.deepEqual([0, 1, 2, 3].map((r) => orderOf(base, r)[0]), ['a', 'b', 'c', 'a']);
  assert.deepEqual(orderOf(['a', 'b'], 1), ['b', 'a']);
});

test('shuffled keeps every item once and leaves the input alone', () => {
  const xs = [1, 2, 3, 4, 5];
  let seed = 7;
  const r = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const s = shuffled(xs, r);
  assert.deepEqual([...s].sort(), xs);
  assert.deepEqual(xs, [1, 2, 3, 4, 5]);
});
