import { test } from 'node:test';
import assert from 'node:assert/strict';
import { heapSample, markdown, memoryVerdict, parseMetrics, serviceCounters, tallyClients, verdict, type CampaignReport, type ClientResult } from './report.js';
import type { ProcSample } from './proc.js';

const LIMITS = { sinceWarmMiB: 64, lastHalfMiB: 16 };

/** One sample a second for `seconds`, RSS from f(t in s) MiB. */
const series = (seconds: number, f: (s: number) => number): ProcSample[] =>
  Array.from({ length: seconds + 1 }, (_, s) => ({ t: s * 1000, rssKiB: Math.round(f(s) * 1024), cpuSeconds: s / 10, threads: 11, fds: 30 }));

test('memory: warm-up growth and GC peaks are flat; steady growth is not', () => {
  // Flood from 10 s to 110 s; warm-up rises to 150 MiB, then noise and a single 60 MiB peak.
  const flat = memoryVerdict(series(120, (s) => (s < 15 ? 100 + s * 3 : 150 + (s % 3)) + (s === 81 ? 60 : 0)), 10_000, 110_000, LIMITS);
  assert.equal(flat.flat, true, JSON.stringify(flat));
  assert.equal(flat.startMiB, 130);
  assert.equal(flat.peakMiB, 210);
  assert.ok(flat.growthSinceWarmMiB <= 2);
  // 0.5 MiB a second: +50 MiB over the flood (within 64), but +24 over its second half.
  const leak = memoryVerdict(series(120, (s) => 100 + s * 0.5), 10_000, 110_000, LIMITS);
  assert.equal(leak.flat, false);
  assert.ok(leak.growthLastHalfMiB >= 23 && leak.growthLastHalfMiB <= 25, JSON.stringify(leak));
  assert.ok(leak.growthSinceWarmMiB < 64);
  assert.match(leak.rule, /\+ 64 MiB.*\+ 16 MiB/);
  // A large one-off rise after warm-up that then stays: not a leak by (b), too much by (a).
  const step = memoryVerdict(series(120, (s) => (s < 40 ? 100 : 180)), 10_000, 110_000, LIMITS);
  assert.deepEqual([step.growthLastHalfMiB, step.growthSinceWarmMiB, step.flat], [0, 80, false]);
});

test('memory: a short flood takes its warm-up from its first half', () => {
  const v = memoryVerdict(series(20, (s) => (s < 8 ? 100 : 120)), 5000, 11_000, LIMITS);
  assert.equal(v.warmMiB, 100);
  assert.equal(v.endMiB, 120);
  assert.equal(v.flat, true);
});

test('memory: a gap in the samples takes the nearest one', () => {
  const gap = series(40, (s) => 100 + s).filter((s) => s.t < 18_000 || s.t > 24_000);
  const v = memoryVerdict(gap, 5000, 35_000, LIMITS);
  assert.equal(v.midMiB, 100 + 17);
  assert.ok(Number.isFinite(v.growthLastHalfMiB));
});

test('metrics: labels, escapes, and the counters the report uses', () => {
  const text = [
    '# HELP netroot_transfers_total x',
    'netroot_transfers_total{protocol="tftp",kind="refused",result="2"} 350',
    'netroot_transfers_total{protocol="tftp",kind="tftp.file",result="ok"} 4',
    'netroot_discovered_macs 222',
    'netroot_recorder_dropped_total{reason="events-per-mac"} 17',
    'netroot_process_nodejs_heap_size_used_bytes 52428800',
    'x_total{a="q\\"uote"} 1',
  ].join('\n');
  assert.deepEqual(parseMetrics(text).at(-1), { name: 'x_total', labels: { a: 'q"uote' }, value: 1 });
  const c = serviceCounters(text, { received: { DISCOVER: 3 }, sent: {}, ignored: { 'pool-full': 1 }, dropped: { truncated: 9 } });
  assert.deepEqual(c.tftpRefused, { 2: 350 });
  assert.deepEqual(c.transfers, { 'tftp/tftp.file/ok': 4 });
  assert.equal(c.discoveredMacs, 222);
  assert.deepEqual(c.recorderDropped, { 'events-per-mac': 17 });
  assert.equal(c.heapUsedMiB, 50);
  assert.deepEqual(c.dhcp.dropped, { truncated: 9 });
  assert.deepEqual(heapSample(`${text}\nnetroot_process_nodejs_heap_size_total_bytes 104857600\nnetroot_process_nodejs_external_memory_bytes 1048576\n`, 7), { t: 7, heapUsedMiB: 50, heapTotalMiB: 100, externalMiB: 1 });
  assert.equal(heapSample('', 7), null);
});

function report(clients: ClientResult[], over: { alive?: boolean; flat?: boolean; errorLines?: number } = {}): Omit<CampaignReport, 'pass' | 'reasons'> {
  const memory = memoryVerdict(series(30, () => 100), 5000, 25_000, LIMITS);
  return {
    startedAt: '', finishedAt: '', command: 'x', seed: 1, lab: {}, config: {},
    sender: { requested: 10, requestedRate: 5, sent: 10, durationSec: 2, achievedRate: 5, byProtocol: { dhcp: 5, tftp: 5 }, byTarget: {}, byKind: {}, sendErrors: {}, replies: { dhcp: 0, tftp: {} }, tftpLivePorts: 0, tftpLiveSent: 0, tftpDataBytes: 0, queueWaits: 0, cpuSeconds: 1 },
    kernelUdp: { InDatagrams: 10, RcvbufErrors: 0 },
    socketDrops: { dhcp: 0, tftp: 0 },
    service: {
      pid: 1, alive: over.alive ?? true, crashes: over.alive === false ? 1 : 0, exitCode: 0, memory: { ...memory, flat: over.flat ?? true },
      cpuSeconds: 1, cpuAvgPct: 10, cpuPeakPct: 20, errorLines: over.errorLines ?? 0, errorExamples: over.errorLines ? ['{"level":50}'] : [], warnLines: {},
      counters: serviceCounters('', {}),
    },
    clients: { tally: tallyClients(clients), failures: clients.filter((c) => !c.ok) },
    loadAverage: { start: [1, 1, 1], end: [2, 2, 2] }, samples: [], heap: [],
  };
}

const served = (phase: ClientResult['phase'], ok = true): ClientResult[] =>
  (['dhcp', 'tftp', 'http'] as const).map((kind) => ({ kind, phase, round: 1, ok, ms: 5, detail: '' }));

test('verdict: passes when nothing failed; names each failed condition', () => {
  const good = [...served('during'), ...served('during', false), ...served('after')];
  assert.deepEqual(verdict(report(good)), { pass: true, reasons: [] });
  const bad = verdict(report([...served('during', false), ...served('after'), ...served('after', false)], { alive: false, flat: false, errorLines: 2 }));
  assert.equal(bad.pass, false);
  assert.equal(bad.reasons.length, 1 + 3 + 3 + 1 + 1, bad.reasons.join('\n'));
  assert.match(bad.reasons.join('\n'), /service died.*\n.*udhcpc was never served during the flood/);
  assert.match(bad.reasons.join('\n'), /tftp-hpa failed 1 time\(s\) after the flood/);
});

test('markdown: one row per measure, the verdict last', () => {
  const r = report([...served('during'), ...served('after')]);
  const md = markdown({ ...r, ...verdict(r) });
  assert.match(md, /^\| measure \| result \|\n\|---\|---\|\n/);
  assert.match(md, /\| clients after the flood \(ok\/tried\) \| udhcpc 1\/1, tftp-hpa 1\/1, curl 1\/1 \|/);
  assert.match(md, /\| verdict \| PASS \|$/);
});
