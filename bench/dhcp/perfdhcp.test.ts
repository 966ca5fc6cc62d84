import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePerfdhcp, percentile, perfdhcpArgv } from './perfdhcp.js';

// Trimmed from a real perfdhcp 2.2.0 run against kea-dhcp4 (-x t), with a drop added to REQUEST-ACK.
const SAMPLE = `Running: perfdhcp -4 -l vb0 -r 100 -p 3 -t 1 -M macs.txt -x t 10.51.192.1
Scenario: basic.
Multi-thread mode enabled.
sent: 99/99; received: 99/99; drops: 0/0; rejected: 0/0
***Rate statistics***
Rate: 99.6523 4-way exchanges/second, expected rate: 100

***Malformed Packets***
Malformed packets: 0
***Statistics for: DISCOVER-OFFER***
sent packets: 4
received packets: 4
drops: 0
drops ratio: 0 %
orphans: 0
rejected leases: 0
non unique addresses: 0

min delay: 0.168 ms
avg delay: 1.279 ms
max delay: 26.854 ms
std deviation: 2.870 ms
collected packets: 0

***Statistics for: REQUEST-ACK***
sent packets: 4
received packets: 3
drops: 1
drops ratio: 25.000 %
orphans: 2
rejected leases: 0
non unique addresses: 0

min delay: 0.175 ms
avg delay: 0.901 ms
max delay: 11.790 ms
std deviation: 1.286 ms
collected packets: 0

***Timestamps for packets: DISCOVER-OFFER***
sent / received: 000000.000425 / 000000.015993
sent / received: 000000.020490 / 000000.020688
sent / received: 000000.031696 / 000000.032255
sent / received: 000000.040413 / 000000.040665
***Timestamps for packets: REQUEST-ACK***
sent / received: 000000.016000 / 000000.016500
sent / received: 000000.020700 / 000000.021700
sent / received: 000000.032300 / 000000.034300
`;

test('parsePerfdhcp reads rate, counts and per-phase percentiles from the timestamps', () => {
  const r = parsePerfdhcp(SAMPLE);
  assert.equal(r.rate, 99.6523);
  assert.equal(r.malformed, 0);
  assert.deepEqual([r.offer.sent, r.offer.received, r.offer.drops], [4, 4, 0]);
  assert.deepEqual([r.ack.sent, r.ack.received, r.ack.drops, r.ack.orphans], [4, 3, 1, 2]);
  assert.equal(r.ack.avgMs, 0.901);
  assert.ok(Math.abs(r.offer.p99Ms - 15.568) < 1e-6, String(r.offer.p99Ms));
  assert.ok(Math.abs(r.ack.p50Ms - 1.0) < 1e-6, String(r.ack.p50Ms));
  assert.ok(Math.abs(r.ack.p99Ms - 2.0) < 1e-6, String(r.ack.p99Ms));
});

test('parsePerfdhcp names what is missing', () => {
  assert.throws(() => parsePerfdhcp('ERROR: running perfdhcp'), /no "Rate:" line/);
  assert.throws(() => parsePerfdhcp(SAMPLE.replace('***Statistics for: REQUEST-ACK***', '')), /no statistics for REQUEST-ACK/);
});

test('percentile: nearest rank', () => {
  const v = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(v, 99), 99);
  assert.equal(percentile(v, 50), 50);
  assert.equal(percentile([7], 99), 7);
  assert.ok(Number.isNaN(percentile([], 99)));
});

test('perfdhcpArgv: no -r for unlimited; MAC list, period, exit wait and timestamps always', () => {
  const a = perfdhcpArgv({ ifname: 'vb0', server: '10.51.192.1', macFile: '/m', rate: null, seconds: 5, clients: 10 });
  assert.ok(!a.includes('-r'));
  assert.deepEqual(a.slice(-3), ['-x', 't', '10.51.192.1']);
  const b = perfdhcpArgv({ ifname: 'vb0', server: '10.51.192.1', macFile: '/m', rate: 2000, seconds: 5, clients: 10 });
  assert.equal(b[b.indexOf('-r') + 1], '2000');
  assert.equal(b[b.indexOf('-M') + 1], '/m');
  assert.equal(b[b.indexOf('-l') + 1], 'vb0');
  const c = perfdhcpArgv({ ifname: 'vb0', server: '10.52.0.1', macFile: null, rate: 1000, seconds: 5, clients: 1 << 24 });
  assert.ok(!c.includes('-M'));
  assert.equal(c[c.indexOf('-R') + 1], String(1 << 24));
});
