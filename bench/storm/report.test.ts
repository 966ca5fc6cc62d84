import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeResult } from './nodes.js';
import { caseMedians, failureReasons, maskNumbers, groupCases, lastNodeMs, median, percentile, renderMarkdown, stageFigures, type StormSummary } from './report.js';

const node = (over: Partial<NodeResult>): NodeResult => ({
  mac: 'm', known: true, ip: '10.60.16.1', outcome: 'booted', failed: null, t: {}, retransmits: { dhcp: 0, tftp: 0, ipxeDhcp: 0 }, tftpDuplicates: 0, ...over,
});

test('nearest-rank percentiles and medians', () => {
  const v = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.equal(percentile(v, 0.5), 50);
  assert.equal(percentile(v, 0.99), 99);
  assert.equal(percentile([7], 0.99), 7);
  assert.equal(percentile([], 0.5), null);
  assert.equal(median([3, null, 1, 2]), 2);
  assert.equal(median([4, 1]), 2.5);
  assert.equal(median([null]), null);
});

test('stage figures, the last node, failures by stage and reason', () => {
  const nodes = [
    node({ t: { dhcp: [0, 10], tftp: [10, 110], script: [110, 115], kernel: [115, 200], initrd: [200, 900] } }),
    node({ known: false, outcome: 'refused', t: { dhcp: [0, 20], tftp: [20, 220], script: [220, 950] } }),
    node({ outcome: 'failed', failed: { stage: 'tftp', reason: 'timeout at block 12' }, t: { dhcp: [0, 30] } }),
    node({ outcome: 'failed', failed: { stage: 'tftp', reason: 'timeout at block 700' }, t: { dhcp: [0, 40] } }),
  ];
  assert.equal(maskNumbers('sha256 0e5ab1f3c0de: not the file'), 'sha256 <hex>: not the file');
  assert.equal(maskNumbers('address 10.60.32.7 given to 02:5e:00:00:00:04 and 02:5e:00:00:00:09'), 'address <ip> given to <mac> and <mac>');
  const f = stageFigures(nodes);
  assert.deepEqual([f.dhcp.n, f.dhcp.p50Ms, f.dhcp.p99Ms, f.dhcp.failed], [4, 20, 40, 0]);
  assert.deepEqual([f.tftp.n, f.tftp.maxMs, f.tftp.failed], [2, 200, 2]);
  assert.equal(f.kernel.n, 1);
  assert.equal(lastNodeMs(nodes), 950, 'the refused node finished last; failed ones do not count');
  assert.deepEqual(failureReasons(nodes), [{ reason: 'tftp: timeout at block #', count: 2 }]);
});

test('cases: medians over rounds, a failed round gives no finish time, netroot / reference ratio', () => {
  const storm = (server: 'netroot' | 'reference', round: number, last: number, failed = 0): StormSummary => ({
    server, nodes: 10, unknown: 0, run: 'registered', round, position: 1, loadStart: [0.5, 0.4, 0.3], loadEnd: [1.5, 0.6, 0.4],
    lastNodeMs: last, booted: 10 - failed, refused: 0, failed, stages: stageFigures([node({ t: { dhcp: [0, last / 10] } })]),
    failureReasons: [], retransmits: { dhcp: 0, tftp: 0, ipxeDhcp: 0, tftpDuplicateData: 0 }, serverCpuSec: 1, serverProcesses: [],
    serverPeakRssMiB: 100, serverHwmMiB: 100, clientCpuSec: 2, clientMaxRssMiB: 50, clientLoopDelayMs: { p99: 20, max: 40 }, udpRcvbufErrors: { server: 0, client: 0 }, notes: [],
  });
  const all = [storm('netroot', 1, 1000), storm('reference', 1, 2000), storm('netroot', 2, 3000, 1), storm('reference', 2, 2000), storm('netroot', 3, 1400), storm('reference', 3, 1800)];
  const cases = groupCases(all);
  assert.equal(cases.length, 2);
  const m = caseMedians(cases[0]!);
  assert.equal(m.lastNodeMs, 1200, 'median of 1000 and 1400; the round with a failed node is left out');
  assert.deepEqual(m.failedPerRound, [0, 1, 0]);
  const md = renderMarkdown(all);
  assert.match(md, /\| 10 \| registered \| netroot \| 1\.20 s \| 0 \/ 1 \/ 0 \|.*\| 0\.60x \|/);
  assert.match(md, /\| 10 \| registered \| dnsmasq \+ nginx \| 2\.00 s \|/);
});
