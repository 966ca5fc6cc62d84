import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { negotiate } from './options.js';

const limits = { maxBlksize: 65464, maxWindowsize: 64 };
const o = (name: string, value: string) => ({ name, value });

test('OVMF request: tsize answered with the size, blksize and windowsize echoed', () => {
  const n = negotiate([o('tsize', '0'), o('blksize', '1468'), o('windowsize', '4')], 1_048_576, limits);
  assert.equal(n.blksize, 1468);
  assert.equal(n.windowsize, 4);
  assert.deepEqual(n.oack, [o('tsize', '1048576'), o('blksize', '1468'), o('windowsize', '4')]);
});

test('names are case-insensitive and echoed as spelled', () => {
  const n = negotiate([o('BlkSize', '1432'), o('TSIZE', '0')], 10, limits);
  assert.deepEqual(n.oack, [o('BlkSize', '1432'), o('TSIZE', '10')]);
});

test('out-of-range values: blksize < 8 ignored, > max clamped; timeout 0/256 ignored; windowsize clamped', () => {
  let n = negotiate([o('blksize', '7'), o('timeout', '0'), o('windowsize', '0')], 1, limits);
  assert.equal(n.blksize, 512);
  assert.equal(n.windowsize, 1);
  assert.deepEqual(n.oack, []);
  assert.equal(n.ignored.length, 3);
  n = negotiate([o('blksize', '99999'), o('timeout', '256'), o('windowsize', '65535')], 1, { maxBlksize: 1468, maxWindowsize: 16 });
  assert.deepEqual(n.oack, [o('blksize', '1468'), o('windowsize', '16')]);
  n = negotiate([o('timeout', '3')], 1, limits);
  assert.equal(n.timeoutMs, 3000);
});

test('non-decimal values, unknown and duplicate options are ignored, never an error', () => {
  const n = negotiate([o('blksize', '+512'), o('blksize', '1024'), o('multicast', ''), o('tsize', 'x'), o('windowsize', ' 4')], 5, limits);
  assert.deepEqual(n.oack, []);
  assert.deepEqual(n.ignored.map((i) => i.name), ['blksize', 'blksize', 'multicast', 'tsize', 'windowsize']);
});

test('tsize left out when the size is unknown (netascii stream)', () => {
  assert.deepEqual(negotiate([o('tsize', '0')], null, limits).oack, []);
});

test('property: any option list yields blksize in 8..max and windowsize in 1..max', () => {
  fc.assert(
    fc.property(fc.array(fc.record({ name: fc.constantFrom('blksize', 'windowsize', 'timeout', 'tsize', 'x'), value: fc.oneof(fc.string(), fc.nat().map(String)) })), (opts) => {
      const n = negotiate(opts, 100, limits);
      assert.ok(n.blksize >= 8 && n.blksize <= 65464);
      assert.ok(n.windowsize >= 1 && n.windowsize <= 64);
    }),
  );
});
