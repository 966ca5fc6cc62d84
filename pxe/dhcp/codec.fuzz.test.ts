/**
 * Fuzz: >= 100,000 random and mutated packets at the codec. decode() either returns a packet or
 * throws a DhcpDecodeError (nothing else), and whatever it returns re-encodes and decodes the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { decode, encode } from './packet.js';
import { dumpPacket } from './dump.js';
import { DhcpDecodeError } from './errors.js';

const FIXTURES = join(process.cwd(), 'test/fixtures/dhcp');
const seeds = readdirSync(FIXTURES).filter((f) => f.endsWith('.bin')).map((f) => readFileSync(join(FIXTURES, f)));

function check(bytes: Buffer): void {
  let p;
  try {
    p = decode(bytes);
  } catch (e) {
    if (e instanceof DhcpDecodeError) return;
    throw e;
  }
  const again = decode(encode(p));
  // The overload marker is informational: encode() puts every option into the options field.
  again.overload = p.overload;
  assert.equal(dumpPacket(again), dumpPacket(p));
}

/** A fixture with a few byte edits, a cut, or a splice: mostly well-formed headers, broken options. */
const mutated = fc
  .record({
    seed: fc.integer({ min: 0, max: seeds.length - 1 }),
    edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
    cut: fc.option(fc.nat(), { nil: undefined }),
    splice: fc.option(fc.tuple(fc.nat(), fc.uint8Array({ maxLength: 40 })), { nil: undefined }),
  })
  .map(({ seed, edits, cut, splice }) => {
    let b = Buffer.from(seeds[seed]!);
    for (const [at, v] of edits) b[at % b.length] = v;
    if (splice) {
      const at = splice[0] % (b.length + 1);
      b = Buffer.concat([b.subarray(0, at), Buffer.from(splice[1]), b.subarray(at)]);
    }
    if (cut !== undefined) b = b.subarray(0, cut % (b.length + 1));
    return b;
  });

/** Random bytes behind a valid header and cookie, so the option parser is exercised hard. */
const randomOptions = fc.uint8Array({ maxLength: 700 }).map((u) => {
  const b = Buffer.from(seeds[0]!.subarray(0, 240));
  return Buffer.concat([b, Buffer.from(u)]);
});

test('codec fuzz: 40,000 mutated captures', () => {
  fc.assert(fc.property(mutated, (b) => check(b)), { numRuns: 40_000 });
});

test('codec fuzz: 40,000 random option areas', () => {
  fc.assert(fc.property(randomOptions, (b) => check(b)), { numRuns: 40_000 });
});

test('codec fuzz: 20,000 random packets', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1500 }), (u) => check(Buffer.from(u))),
    { numRuns: 20_000 },
  );
});
