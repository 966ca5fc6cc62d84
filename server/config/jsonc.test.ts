import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stripJsonComments } from './jsonc.js';

test('comments go, strings stay', () => {
  const text = '{\n  // a comment\n  "a": "http://x//y", /* block\n comment */ "b": "q\\"//not",\n  "c": 1 // end\n}';
  assert.deepEqual(JSON.parse(stripJsonComments(text)), { a: 'http://x//y', b: 'q"//not', c: 1 });
  assert.equal(stripJsonComments(text).split('\n').length, text.split('\n').length);
});
