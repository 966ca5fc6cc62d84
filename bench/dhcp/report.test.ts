import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toSample } from './report.js';
import type { PhaseStats } from './perfdhcp.js';

const phase = (sent: number, received: number, p50Ms: number, p99Ms: number): PhaseStats => ({ sent, received, drops: sent - received, orphans: 0, rejected: 0, avgMs: 1, maxMs: 9, p50Ms, p99Ms });

test('toSample: ACK/s, lost exchanges listed as failures, CPU per 1,000 replies', () => {
  const s = toSample({
    case: 'pool at 1,000/s', server: 'netroot', round: 2, seconds: 10,
    result: { rate: 990, offer: phase(10_000, 9_990, 1, 5), ack: phase(9_990, 9_980, 2, 8), malformed: 0 },
    cpuSec: 3.994, ownCpuSec: 3.9, rssMaxMiB: 150, kernelDrops: { server: 10, perfdhcp: 0 }, serverErrors: 1,
  });
  assert.equal(s.value, 998);
  assert.deepEqual([s.ok, s.total], [9_980, 10_000]);
  assert.deepEqual(s.failures, ['10 DISCOVERs without OFFER', '10 REQUESTs without ACK', "1 error lines in the server's log"]);
  assert.equal(s.extra.lost, 20);
  assert.ok(Math.abs(s.cpuPerUnit! - 0.2) < 1e-9);
  assert.equal(s.extra['p99 ACK ms'], 8);
});
