import { test } from 'node:test';
import assert from 'node:assert/strict';
import { etagOf, ifRangeAllows, noneMatch, parseRange } from './range.js';

test('Range: single ranges, suffixes, open ends, clamping', () => {
  assert.deepEqual(parseRange('bytes=0-99', 1000), { start: 0, end: 99 });
  assert.deepEqual(parseRange('bytes=900-', 1000), { start: 900, end: 999 });
  assert.deepEqual(parseRange('bytes=-100', 1000), { start: 900, end: 999 });
  assert.deepEqual(parseRange('bytes=-5000', 1000), { start: 0, end: 999 });
  assert.deepEqual(parseRange('bytes=990-5000', 1000), { start: 990, end: 999 });
  assert.deepEqual(parseRange('BYTES = 1 - 1', 1000), { start: 1, end: 1 });
});

test('Range: unsatisfiable, ignored (malformed, multi-range, reversed)', () => {
  assert.equal(parseRange('bytes=1000-', 1000), 'unsatisfiable');
  assert.equal(parseRange('bytes=-0', 1000), 'unsatisfiable');
  assert.equal(parseRange('bytes=0-1,5-6', 1000), null);
  assert.equal(parseRange('bytes=5-1', 1000), null);
  assert.equal(parseRange('items=0-1', 1000), null);
  assert.equal(parseRange('bytes=-', 1000), null);
  assert.equal(parseRange(undefined, 1000), null);
});

test('validators: ETag, If-None-Match (weak compare), If-Range (strong)', () => {
  const tag = etagOf({ ino: 255, size: 4096, mtimeMs: 1000.5 });
  assert.equal(tag, '"ff-1000-3e8"');
  assert.ok(noneMatch(`"x", W/${tag}`, tag));
  assert.ok(noneMatch('*', tag));
  assert.ok(!noneMatch('"other"', tag));
  assert.ok(ifRangeAllows(undefined, tag, 0));
  assert.ok(ifRangeAllows(tag, tag, 0));
  assert.ok(!ifRangeAllows(`W/${tag}`, tag, 0));
  assert.ok(ifRangeAllows(new Date(5000).toUTCString(), tag, 4000));
  assert.ok(!ifRangeAllows(new Date(1000).toUTCString(), tag, 4000));
});
