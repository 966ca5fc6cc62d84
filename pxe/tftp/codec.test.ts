import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import fc from 'fast-check';
import { decode, describe, encode, encodeData, TftpDecodeError, type TftpPacket } from './codec.js';
import { Op } from './constants.js';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/tftp/', import.meta.url));
const captures = readdirSync(fixtures).filter((f) => f.endsWith('.bin'));

test('captured RRQs decode to their golden dumps and round-trip', () => {
  assert.ok(captures.length >= 5, `expected the captured RRQs in ${fixtures}`);
  for (const f of captures) {
    const bin = readFileSync(join(fixtures, f));
    const p = decode(bin);
    const golden = readFileSync(join(fixtures, f.replace(/\.bin$/, '.txt')), 'utf8').trim();
    assert.equal(describe(p), golden, f);
    assert.deepEqual(encode(p), bin, `${f}: encode(decode(x)) != x`);
  }
});

test('OVMF RRQ carries windowsize 4 (RFC 7440)', () => {
  const p = decode(readFileSync(join(fixtures, 'uefi-firmware-pxe-03-tftp-rrq.bin')));
  assert.equal(p.op, Op.Rrq);
  if (p.op !== Op.Rrq) return;
  assert.deepEqual(p.options.find((o) => o.name === 'windowsize'), { name: 'windowsize', value: '4' });
});

test('each packet type round-trips', () => {
  const packets: TftpPacket[] = [
    { op: Op.Wrq, filename: 'a/b', mode: 'netascii', options: [] },
    { op: Op.Data, block: 65535, data: Buffer.from('hello') },
    { op: Op.Data, block: 0, data: Buffer.alloc(0) },
    { op: Op.Ack, block: 0 },
    { op: Op.Error, code: 5, message: 'Unknown transfer ID' },
    { op: Op.Oack, options: [{ name: 'blksize', value: '1468' }] },
  ];
  for (const p of packets) assert.deepEqual(decode(encode(p)), p);
  assert.equal(encodeData(65536, Buffer.alloc(0)).readUInt16BE(2), 0, 'block numbers roll over mod 2^16');
});

test('malformed packets are refused naming the field', () => {
  const cases: [Buffer, RegExp][] = [
    [Buffer.from([0]), /^opcode: packet too short/],
    [Buffer.from([0, 9]), /^opcode: unknown opcode 9/],
    [Buffer.from('\x00\x01file', 'latin1'), /^filename: not NUL-terminated/],
    [Buffer.from('\x00\x01\x00octet\x00', 'latin1'), /^filename: empty/],
    [Buffer.from('\x00\x01f\x00octet', 'latin1'), /^mode: not NUL-terminated/],
    [Buffer.from('\x00\x01f\x00octet\x00blksize\x00', 'latin1'), /^option blksize: value missing/],
    [Buffer.from('\x00\x01f\x00octet\x00blksize\x001468', 'latin1'), /^option blksize value: not NUL/],
    [Buffer.from('\x00\x01f\x00octet\x00\x00', 'latin1'), /^option 1 name: empty/],
    [Buffer.from([0, 1, 0xff, 0xfe, 0, 0x6f, 0]), /^filename: not valid UTF-8/],
    [Buffer.from([0, 4, 0]), /^block: ACK shorter/],
    [Buffer.from([0, 3, 0]), /^block: DATA shorter/],
    [Buffer.from([0, 5, 0]), /^error code: ERROR shorter/],
    [Buffer.concat([Buffer.from('\x00\x01f\x00octet\x00', 'latin1'), Buffer.alloc(600, 0x61), Buffer.from([0, 0x31, 0])]), /^request: .* more than 512/],
  ];
  for (const [buf, re] of cases) {
    assert.throws(() => decode(buf), (e: unknown) => e instanceof TftpDecodeError && re.test(e.message), `${buf.toString('hex')} -> ${re}`);
  }
  try {
    decode(Buffer.from('\x00\x02f\x00', 'latin1'));
  } catch (e) {
    assert.equal((e as TftpDecodeError).op, Op.Wrq, 'the opcode is kept so the server can answer');
  }
});

test('ERROR without the trailing NUL is tolerated', () => {
  assert.deepEqual(decode(Buffer.from('\x00\x05\x00\x01nope', 'latin1')), { op: Op.Error, code: 1, message: 'nope' });
});

test('fuzz: 100,000 random and mutated packets decode or throw TftpDecodeError; decoded ones re-encode stably', () => {
  const seeds = captures.map((f) => readFileSync(join(fixtures, f)));
  const mutated = fc
    .tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat({ max: 64 }))
    .map(([seed, flips, cut]) => {
      const b = Buffer.from(seed);
      for (const [i, v] of flips) b[i % b.length] = v;
      return b.subarray(0, Math.max(0, b.length - (cut % 8)));
    });
  const random = fc.uint8Array({ maxLength: 700 }).map((u) => Buffer.from(u));
  const opcodeLed = fc
    .tuple(fc.integer({ min: 0, max: 7 }), fc.uint8Array({ maxLength: 80 }))
    .map(([op, rest]) => Buffer.concat([Buffer.from([0, op]), Buffer.from(rest)]));
  fc.assert(
    fc.property(fc.oneof(mutated, random, opcodeLed), (buf) => {
      let p: TftpPacket;
      try {
        p = decode(buf);
      } catch (e) {
        if (!(e instanceof TftpDecodeError)) throw e;
        return;
      }
      const again = encode(p);
      assert.deepEqual(decode(again), p);
    }),
    { numRuns: 100_000 },
  );
});
