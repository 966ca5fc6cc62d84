import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogLimiter } from './log-limit.js';

test('log lines per second are capped; the held-back count rides on the next line', () => {
  let t = 0;
  const l = new LogLimiter(2, () => t);
  assert.deepEqual([l.take(), l.take(), l.take(), l.take()], [{}, {}, null, null]);
  t = 1000;
  assert.deepEqual(l.take(), { suppressedLines: 2 });
  assert.deepEqual(l.take(), {});
  assert.equal(l.take(), null);
});
