/**
 * Sorcerer's Apprentice (RFC 1123 4.2.3.2) under the adaptive retransmission timeout: a client
 * that sends every ACK twice never gets a DATA packet for a duplicate ACK. Without loss it gets
 * exactly one DATA per block; when it loses DATA, every extra DATA it receives is one the server
 * counted as a timer expiry (lock-step: one block per expiry), never an answer to an ACK.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Op } from '../../../pxe/tftp/constants.js';
import { RawClient } from './raw-client.js';
import type { TransferRecord } from '../../../pxe/tftp/server.js';
import { startHarness, sha256, type Harness } from './harness.js';

let calm: Harness;
let adaptive: Harness;
before(async () => {
  // Floor and first timeout of 1 s: no timer can expire while the client answers at once, so every
  // DATA beyond one per block could only answer a duplicate ACK.
  calm = await startHarness({ timeoutMs: 1000, minTimeoutMs: 1000, maxTimeoutMs: 2000 });
  // The defaults: the timeout follows the measured round trip down to its floor.
  adaptive = await startHarness({});
});
after(async () => {
  await calm?.close();
  await adaptive?.close();
});

interface Fetched {
  data: Buffer;
  /** DATA packets that arrived, duplicates included. */
  received: number;
  blocks: number;
  record: TransferRecord;
}

/**
 * Reads `file`, sending every ACK twice. `lose(block)` says whether to drop the first arrival of
 * a block (simulated loss: the server must time out and resend it). A DATA that repeats the
 * previous block is acknowledged again, twice, as tftp-hpa and PXE ROMs do.
 */
async function fetchDoubled(h: Harness, file: string, opts: { windowsize?: number; lose?: (block: number) => boolean } = {}): Promise<Fetched> {
  const c = await RawClient.open();
  const win = opts.windowsize ?? 1;
  try {
    const options = win > 1 ? [{ name: 'windowsize', value: String(win) }] : [];
    c.send({ op: Op.Rrq, filename: file, mode: 'octet', options }, h.port);
    const parts: Buffer[] = [];
    const lost = new Set<number>();
    let expect = 1;
    let received = 0;
    let inWindow = 0;
    const ack = (block: number, tid: number) => {
      c.send({ op: Op.Ack, block: block & 0xffff }, tid);
      c.send({ op: Op.Ack, block: block & 0xffff }, tid);
    };
    for (;;) {
      const r = await c.recv(10_000);
      if (!r) throw new Error(`${file}: nothing for 10 s at block ${expect}`);
      const tid = r.from.port;
      if (r.pkt.op === Op.Oack) {
        ack(0, tid);
        continue;
      }
      if (r.pkt.op !== Op.Data) throw new Error(`${file}: unexpected ${JSON.stringify(r.pkt)}`);
      received++;
      const block = r.pkt.block;
      if (block !== (expect & 0xffff)) {
        // A block again (our ACK crossed a retransmission) or out of order: say where we are.
        if (win === 1 && block === ((expect - 1) & 0xffff)) ack(expect - 1, tid);
        continue;
      }
      if (opts.lose?.(expect) && !lost.has(expect)) {
        lost.add(expect);
        continue;
      }
      parts.push(Buffer.from(r.pkt.data));
      const last = r.pkt.data.length < 512;
      if (++inWindow === win || last) {
        ack(expect, tid);
        inWindow = 0;
      }
      expect++;
      if (last) break;
    }
    const blocks = expect - 1;
    // The server's record follows the final ACK.
    let record: TransferRecord | undefined;
    for (let i = 0; i < 100 && !record; i++) {
      record = h.records.find((x) => x.client.port === c.port);
      if (!record) await new Promise((res) => setTimeout(res, 50));
    }
    assert.ok(record, `no record for ${file}`);
    // Late packets (none are expected) would show here.
    received += (await c.drain(100)).filter((g) => g.pkt.op === Op.Data).length;
    return { data: Buffer.concat(parts), received, blocks, record };
  } finally {
    c.close();
  }
}

test('lock-step, every ACK twice, no loss: exactly one DATA per block', async () => {
  const f = await fetchDoubled(calm, '256k.bin');
  assert.equal(sha256(f.data), calm.sha['256k.bin']);
  assert.equal(f.blocks, 513);
  assert.equal(f.received, f.blocks, 'DATA packets received');
  assert.equal(f.record.dataPackets, f.blocks, 'DATA packets the server counted');
  assert.equal(f.record.retransmits, 0);
  assert.ok(f.record.ignoredAcks >= f.blocks - 1, `duplicate ACKs ignored: ${f.record.ignoredAcks}`);
});

test('windowsize 8, every ACK twice, no loss: exactly one DATA per block', async () => {
  const f = await fetchDoubled(calm, '256k.bin', { windowsize: 8 });
  assert.equal(sha256(f.data), calm.sha['256k.bin']);
  assert.equal(f.received, f.blocks);
  assert.equal(f.record.dataPackets, f.blocks);
  assert.equal(f.record.retransmits, 0);
});

test('adaptive timeout, every ACK twice, every 10th block lost once: extra DATA only from timer expiries', async () => {
  const f = await fetchDoubled(adaptive, '256k.bin', { lose: (b) => b % 10 === 0 });
  assert.equal(sha256(f.data), adaptive.sha['256k.bin']);
  assert.equal(f.record.result, 'ok');
  // Each loss needs at least one expiry; each expiry sends exactly one block in lock-step.
  assert.ok(f.record.retransmits >= 51, `retransmits ${f.record.retransmits} for 51 losses`);
  assert.equal(f.received, f.blocks + f.record.retransmits, JSON.stringify(f.record));
  assert.equal(f.record.dataPackets, f.received);
});
