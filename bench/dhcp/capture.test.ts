import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summarize, tcpdumpDrops, wireDelays } from './capture.js';

/** An Ethernet/IPv4/UDP frame carrying a BOOTP message of `type` (option 53) and `xid`. */
function frame(type: number, xid: number, opts: { vlan?: boolean; pad?: boolean } = {}): Buffer {
  const bootp = Buffer.alloc(240 + (opts.pad ? 2 : 0) + 4);
  bootp[0] = type === 1 || type === 3 ? 1 : 2;
  bootp.writeUInt32BE(xid, 4);
  bootp.writeUInt32BE(0x63825363, 236);
  let i = 240;
  if (opts.pad) {
    bootp[i++] = 0;
    bootp[i++] = 0;
  }
  bootp[i++] = 53;
  bootp[i++] = 1;
  bootp[i++] = type;
  bootp[i] = 255;
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(67, 0);
  udp.writeUInt16BE(67, 2);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip[9] = 17;
  const eth = Buffer.alloc(opts.vlan ? 18 : 14);
  if (opts.vlan) {
    eth.writeUInt16BE(0x8100, 12);
    eth.writeUInt16BE(0x0800, 16);
  } else eth.writeUInt16BE(0x0800, 12);
  return Buffer.concat([eth, ip, udp, bootp]);
}

/** A pcap file (little-endian, nanosecond magic unless micro) of [ms since start, frame]. */
function pcap(records: [number, Buffer][], micro = false): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(micro ? 0xa1b2c3d4 : 0xa1b23c4d, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(1, 20);
  const parts: Buffer[] = [head];
  for (const [ms, f] of records) {
    const r = Buffer.alloc(16);
    const sec = 1_800_000_000 + Math.floor(ms / 1000);
    const rest = ms - Math.floor(ms / 1000) * 1000;
    r.writeUInt32LE(sec, 0);
    r.writeUInt32LE(Math.round(micro ? rest * 1e3 : rest * 1e6), 4);
    r.writeUInt32LE(f.length, 8);
    r.writeUInt32LE(f.length, 12);
    parts.push(r, f);
  }
  return Buffer.concat(parts);
}

const near = (a: number[], b: number[]) => assert.deepEqual(a.map((x) => Math.round(x * 1000) / 1000), b);

test('wireDelays: pairs DISCOVER/OFFER and REQUEST/ACK by xid, across a second boundary', () => {
  const d = wireDelays(pcap([
    [999.9, frame(1, 7)],
    [999.95, frame(1, 8, { vlan: true })],
    [1000.15, frame(2, 8)], // out of order: 8 answered first
    [1000.4, frame(2, 7, { pad: true })],
    [1001, frame(3, 7)],
    [1001, frame(3, 7)], // a retransmission counts from the first copy
    [1001.25, frame(5, 7)],
    [1002, frame(3, 9)],
    [1002.5, frame(6, 9)], // a NAK answers a REQUEST too
    [1003, frame(1, 10)], // never answered
    [1003.1, frame(2, 11)], // an answer to nothing seen
  ]));
  near(d.offer, [0.2, 0.5]);
  near(d.ack, [0.25, 0.5]);
  // Over 0.3 ms: xid 7's OFFER (999.9-1000.4) and xid 9's NAK (1002-1002.5), apart: two stalls.
  assert.equal(d.stalls, 2);
  assert.equal(d.unanswered, 1);
  assert.equal(d.skipped, 0);
});

test('wireDelays: microsecond files, other frames skipped, a cut-off last record ignored', () => {
  const arp = Buffer.alloc(42);
  arp.writeUInt16BE(0x0806, 12);
  const notDhcp = frame(1, 1);
  notDhcp.writeUInt32BE(0, 14 + 28 + 236); // no magic cookie
  const whole = pcap([[0, frame(1, 1)], [1, arp], [2, notDhcp], [3.5, frame(2, 1)], [4, frame(1, 2)]], true);
  const d = wireDelays(whole.subarray(0, whole.length - 10));
  near(d.offer, [3.5]);
  assert.equal(d.skipped, 2);
  assert.equal(d.unanswered, 0);
});

test('wireDelays: slow exchanges that overlap make one stall', () => {
  const d = wireDelays(pcap([
    [0, frame(1, 1)],
    [0.1, frame(1, 2)],
    [0.5, frame(2, 1)], // 0.5 ms
    [0.6, frame(2, 2)], // 0.5 ms, overlapping the first: the same stall
    [1, frame(1, 3)],
    [1.1, frame(2, 3)], // fast
    [2, frame(3, 4)],
    [2.4, frame(5, 4)], // 0.4 ms, apart: a second stall
  ]));
  assert.equal(d.stalls, 2);
});

test('wireDelays: refuses what is not an Ethernet pcap', () => {
  assert.throws(() => wireDelays(Buffer.alloc(10)), /shorter/);
  assert.throws(() => wireDelays(Buffer.alloc(24)), /bad magic/);
  const raw = pcap([]);
  raw.writeUInt32LE(101, 20);
  assert.throws(() => wireDelays(raw), /link type 101/);
});

test('summarize and tcpdumpDrops', () => {
  assert.equal(tcpdumpDrops('40 packets captured\n40 packets received by filter\n3 packets dropped by kernel\n'), 3);
  assert.equal(tcpdumpDrops('killed'), null);
  const s = summarize({ offer: [0.1, 0.2, 0.3], ack: [0.4], stalls: 1, unanswered: 0, skipped: 0 }, null);
  assert.equal(s['wire stalls'], 1);
  assert.equal(s['wire p99 OFFER ms'], 0.3);
  assert.equal(s['wire p99 ACK ms'], 0.4);
  assert.equal(s['wire pairs'], 4);
  assert.equal(s['capture drops'], -1);
});
