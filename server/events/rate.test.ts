import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from './rate.js';

test('a bucket allows its burst, then its rate; keys are independent', () => {
  let t = 0;
  const r = new RateLimiter({ capacity: 3, perSecond: 2, maxKeys: 10, now: () => t });
  assert.deepEqual([1, 2, 3, 4].map(() => r.allow('a')), [true, true, true, false]);
  assert.equal(r.allow('b'), true, 'another key has its own bucket');
  t = 500;
  assert.deepEqual([r.allow('a'), r.allow('a')], [true, false], 'one token back after 0.5 s at 2/s');
  t = 10_000;
  assert.deepEqual([1, 2, 3, 4].map(() => r.allow('a')), [true, true, true, false], 'refills to the burst, never past it');
  assert.equal(r.refused, 3);
});

test('the table of buckets is bounded: the least recently used key goes', () => {
  const r = new RateLimiter({ capacity: 1, perSecond: 0.001, maxKeys: 2, now: () => 0 });
  r.allow('a');
  r.allow('b');
  r.allow('a'); // refused, and a is now the most recent
  r.allow('c'); // evicts b
  assert.equal(r.size, 2);
  assert.equal(r.allow('a'), false, 'a was kept');
  assert.equal(r.allow('b'), true, 'b was forgotten: a fresh bucket');
});
