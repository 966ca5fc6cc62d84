/**
 * The fuzz campaign's verdict and report: memory (is it flat), client results by phase, the
 * service's own counters from /metrics, and the markdown table bench/README.md quotes. Pure.
 */
import type { ProcSample } from './proc.js';

export type ClientKind = 'dhcp' | 'tftp' | 'http';
export type Phase = 'before' | 'during' | 'after';

export interface ClientResult {
  kind: ClientKind;
  phase: Phase;
  round: number;
  ok: boolean;
  ms: number;
  /** What was wrong (or what was got, when ok). */
  detail: string;
}

export const CLIENT_TOOLS: Record<ClientKind, string> = { dhcp: 'udhcpc', tftp: 'tftp-hpa', http: 'curl' };

export function tallyClients(results: ClientResult[]): Record<Phase, Record<ClientKind, { ok: number; failed: number }>> {
  const t = {} as Record<Phase, Record<ClientKind, { ok: number; failed: number }>>;
  for (const p of ['before', 'during', 'after'] as Phase[]) {
    t[p] = { dhcp: { ok: 0, failed: 0 }, tftp: { ok: 0, failed: 0 }, http: { ok: 0, failed: 0 } };
  }
  for (const r of results) t[r.phase][r.kind][r.ok ? 'ok' : 'failed']++;
  return t;
}

/** Prometheus text format, enough of it for netroot's own /metrics. */
export function parseMetrics(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The service's own view of its memory (GET /metrics), sampled during the run: JS heap vs. native. */
export interface HeapSample {
  t: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
}

export function heapSample(metricsText: string, t: number): HeapSample | null {
  const v: Record<string, number> = {};
  for (const r of parseMetrics(metricsText)) if (r.name.startsWith('netroot_process_nodejs_') && Object.keys(r.labels).length === 0) v[r.name.slice(23)] = r.value;
  if (v.heap_size_used_bytes === undefined) return null;
  return { t, heapUsedMiB: mib(v.heap_size_used_bytes / 1024), heapTotalMiB: mib((v.heap_size_total_bytes ?? 0) / 1024), externalMiB: mib((v.external_memory_bytes ?? 0) / 1024) };
}

export interface ServiceCounters {
  dhcp: { received: Record<string, number>; sent: Record<string, number>; ignored: Record<string, number>; dropped: Record<string, number> };
  /** TFTP requests refused, by TFTP error code (1 not found, 2 access violation, 4 illegal operation, 8 option refused). */
  tftpRefused: Record<string, number>;
  /** Boot file transfers by protocol/kind/result (tftp.file: transfers that reached a file). */
  transfers: Record<string, number>;
  discoveredMacs: number | null;
  recorderDropped: Record<string, number>;
  securityEvents: Record<string, number>;
  heapUsedMiB: number | null;
  openFds: number | null;
}

/**
 * The service's counters: DHCP from GET /api/v1/dhcp/counters (received/sent by type, ignored and
 * dropped by reason, split as the server keeps them), the rest from GET /metrics.
 */
export function serviceCounters(metricsText: string, dhcpCounters: unknown): ServiceCounters {
  const d = (dhcpCounters ?? {}) as Partial<ServiceCounters['dhcp']>;
  const c: ServiceCounters = {
    dhcp: { received: d.received ?? {}, sent: d.sent ?? {}, ignored: d.ignored ?? {}, dropped: d.dropped ?? {} },
    tftpRefused: {}, transfers: {}, discoveredMacs: null, recorderDropped: {}, securityEvents: {}, heapUsedMiB: null, openFds: null,
  };
  for (const r of parseMetrics(metricsText)) {
    const l = r.labels;
    if (r.name === 'netroot_transfers_total') {
      if (l.kind === 'refused') c.tftpRefused[l.result ?? '?'] = r.value;
      else c.transfers[`${l.protocol}/${l.kind}/${l.result}`] = r.value;
    } else if (r.name === 'netroot_discovered_macs') c.discoveredMacs = r.value;
    else if (r.name === 'netroot_recorder_dropped_total') c.recorderDropped[l.reason ?? '?'] = r.value;
    else if (r.name === 'netroot_security_events_total') c.securityEvents[l.kind ?? '?'] = r.value;
    else if (r.name === 'netroot_process_nodejs_heap_size_used_bytes') c.heapUsedMiB = mib(r.value / 1024);
    else if (r.name === 'netroot_process_open_fds') c.openFds = r.value;
  }
  return c;
}

export function mib(kib: number): number {
  return Math.round((kib / 1024) * 10) / 10;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
}

/**
 * RSS (KiB) of the samples in [from, to], as the median (one sample can catch a GC peak); the
 * sample nearest to the window's middle when none fell inside (a starved sampler on a busy machine).
 */
function rssAround(samples: ProcSample[], from: number, to: number): number {
  const xs = samples.filter((s) => s.t >= from && s.t <= to).map((s) => s.rssKiB);
  if (xs.length) return median(xs);
  const mid = (from + to) / 2;
  let best: ProcSample | undefined;
  for (const s of samples) if (!best || Math.abs(s.t - mid) < Math.abs(best.t - mid)) best = s;
  return best?.rssKiB ?? NaN;
}

export interface MemoryLimits {
  /** RSS at the end of the run may exceed RSS after warm-up by this much (heap sizing, allocator arenas). */
  sinceWarmMiB: number;
  /** RSS may grow this much over the second half of the flood (a leak shows here). */
  lastHalfMiB: number;
}

export interface MemoryVerdict {
  startMiB: number;
  warmMiB: number;
  midMiB: number;
  floodEndMiB: number;
  peakMiB: number;
  endMiB: number;
  /** RSS at the end of the flood minus RSS at its middle. */
  growthLastHalfMiB: number;
  /** RSS at the end of the run (after the last client round) minus RSS after warm-up. */
  growthSinceWarmMiB: number;
  limits: MemoryLimits;
  flat: boolean;
  rule: string;
}

/**
 * "Flat", precisely: (a) the RSS at the end of the run is at most `limits.sinceWarmMiB` above the
 * RSS after warm-up (the first 10 % of the flood, at least 5 s, at most half of it), and (b) the
 * RSS at the end of the flood is at most `limits.lastHalfMiB` above the RSS at its middle. (b)
 * finds a leak (one of 64 bytes a datagram is 32 MiB over half of a million); (a) bounds what the
 * heap, the bounded tables (rate limiters, caches) and the allocator take on under load. Each
 * point is the median of the one-second samples of a 3 s window, so a single GC peak does not
 * decide. The campaign's defaults (64 and 32 MiB) are for its million datagrams: bench/README.md
 * has what a fixed and a leaking service measured.
 */
export function memoryVerdict(samples: ProcSample[], floodStart: number, floodEnd: number, limits: MemoryLimits): MemoryVerdict {
  const span = Math.max(1, floodEnd - floodStart);
  const warmAt = floodStart + Math.min(Math.max(5000, span * 0.1), span / 2);
  const midAt = floodStart + span / 2;
  const before = samples.filter((s) => s.t <= floodStart);
  const last = samples.at(-1)?.t ?? floodEnd;
  const v = {
    start: before.at(-1)?.rssKiB ?? samples[0]?.rssKiB ?? NaN,
    warm: rssAround(samples, warmAt - 3000, warmAt),
    mid: rssAround(samples, midAt - 1500, midAt + 1500),
    floodEnd: rssAround(samples, floodEnd - 3000, floodEnd),
    peak: Math.max(...samples.map((s) => s.rssKiB)),
    end: rssAround(samples, last - 3000, last),
  };
  const growthLastHalf = mib(v.floodEnd - v.mid);
  const growthSinceWarm = mib(v.end - v.warm);
  const flat = growthSinceWarm <= limits.sinceWarmMiB && growthLastHalf <= limits.lastHalfMiB;
  return {
    startMiB: mib(v.start), warmMiB: mib(v.warm), midMiB: mib(v.mid), floodEndMiB: mib(v.floodEnd), peakMiB: mib(v.peak), endMiB: mib(v.end),
    growthLastHalfMiB: growthLastHalf, growthSinceWarmMiB: growthSinceWarm, limits, flat,
    rule:
      `flat = RSS at the end of the run <= RSS after warm-up + ${limits.sinceWarmMiB} MiB, and RSS at the end of the flood <= RSS at its middle + ${limits.lastHalfMiB} MiB ` +
      '(each the median of the 1 s samples of a 3 s window; warm-up = the first 10 % of the flood, 5 s at least)',
  };
}

export interface CampaignReport {
  startedAt: string;
  finishedAt: string;
  command: string;
  seed: number;
  lab: Record<string, unknown>;
  config: unknown;
  sender: {
    requested: number;
    requestedRate: number;
    sent: number;
    durationSec: number;
    achievedRate: number;
    byProtocol: Record<string, number>;
    byTarget: Record<string, number>;
    byKind: Record<string, number>;
    sendErrors: Record<string, number>;
    replies: { dhcp: number; tftp: Record<string, number> };
    tftpLivePorts: number;
    tftpLiveSent: number;
    tftpDataBytes: number;
    queueWaits: number;
    cpuSeconds: number;
  };
  /** UDP counters of the server's namespace over the flood (RcvbufErrors: datagrams the kernel dropped for a full socket buffer). */
  kernelUdp: Record<string, number>;
  /** Of those, dropped at the service's DHCP (67) and TFTP request (69) sockets (/proc/net/udp). */
  socketDrops: { dhcp: number; tftp: number };
  service: {
    pid: number;
    alive: boolean;
    crashes: number;
    exitCode: number | null;
    memory: MemoryVerdict;
    cpuSeconds: number;
    cpuAvgPct: number;
    cpuPeakPct: number;
    errorLines: number;
    errorExamples: string[];
    warnLines: Record<string, number>;
    counters: ServiceCounters;
  };
  clients: {
    tally: Record<Phase, Record<ClientKind, { ok: number; failed: number }>>;
    failures: ClientResult[];
  };
  loadAverage: { start: number[]; end: number[] };
  samples: ProcSample[];
  heap: HeapSample[];
  pass: boolean;
  reasons: string[];
}

/** The pass conditions; each failed one is named in `reasons`. */
export function verdict(r: Omit<CampaignReport, 'pass' | 'reasons'>): { pass: boolean; reasons: string[] } {
  const reasons: string[] = [];
  if (!r.service.alive || r.service.crashes > 0) reasons.push(`the service died (exit code ${r.service.exitCode})`);
  const t = r.clients.tally;
  for (const k of ['dhcp', 'tftp', 'http'] as ClientKind[]) {
    if (t.during[k].ok === 0) reasons.push(`${CLIENT_TOOLS[k]} was never served during the flood (${t.during[k].failed} failed)`);
    if (t.after[k].failed > 0) reasons.push(`${CLIENT_TOOLS[k]} failed ${t.after[k].failed} time(s) after the flood`);
    if (t.after[k].ok === 0) reasons.push(`${CLIENT_TOOLS[k]} did not run after the flood`);
  }
  const m = r.service.memory;
  if (!m.flat) reasons.push(`memory not flat: ${signed(m.growthSinceWarmMiB)} MiB since warm-up, ${signed(m.growthLastHalfMiB)} MiB over the second half of the flood (${m.rule})`);
  if (r.service.errorLines > 0) reasons.push(`${r.service.errorLines} error lines in the service log, e.g. ${r.service.errorExamples[0] ?? ''}`);
  const handlerErrors = r.service.counters.dhcp.dropped['handler-error'] ?? 0;
  if (handlerErrors > 0) reasons.push(`${handlerErrors} DHCP packets dropped by a handler error`);
  return { pass: reasons.length === 0, reasons };
}

const n = (x: number) => x.toLocaleString('en-US');
const signed = (x: number) => (x >= 0 ? `+${x}` : `${x}`);
const table = (t: Record<string, number>) =>
  Object.entries(t)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${n(v)}`)
    .join(', ') || 'none';

function heapRow(h: HeapSample[]): string {
  const f = (x: HeapSample | undefined) => (x ? `${x.heapUsedMiB} / ${x.heapTotalMiB} (${x.externalMiB}) MiB` : '?');
  return `${f(h[0])} -> ${f(h.at(-1))}`;
}

export function markdown(r: CampaignReport): string {
  const s = r.sender;
  const m = r.service.memory;
  const t = r.clients.tally;
  const clients = (p: Phase) =>
    (['dhcp', 'tftp', 'http'] as ClientKind[]).map((k) => `${CLIENT_TOOLS[k]} ${t[p][k].ok}/${t[p][k].ok + t[p][k].failed}`).join(', ');
  const c = r.service.counters;
  const rows: [string, string][] = [
    ['datagrams sent', `${n(s.sent)} of ${n(s.requested)}: ${table(s.byProtocol)}; ${table(s.byTarget)}`],
    ['rate', `${n(s.achievedRate)}/s achieved (${n(s.requestedRate)}/s asked) over ${s.durationSec} s; the sender used ${s.cpuSeconds} s of CPU`],
    ['kernel UDP in the server namespace', `received ${n(r.kernelUdp.InDatagrams ?? 0)}, dropped for a full socket buffer ${n(r.kernelUdp.RcvbufErrors ?? 0)} (DHCP socket ${n(r.socketDrops.dhcp)}, TFTP request socket ${n(r.socketDrops.tftp)}), to no open port ${n(r.kernelUdp.NoPorts ?? 0)}`],
    ['crashes', `${r.service.crashes} (service ${r.service.alive ? 'alive' : 'DEAD'} at the end, exit code after SIGTERM ${r.service.exitCode ?? 'none'})`],
    ['service RSS', `start ${m.startMiB}, after warm-up ${m.warmMiB}, mid-flood ${m.midMiB}, peak ${m.peakMiB}, end of flood ${m.floodEndMiB}, end ${m.endMiB} MiB`],
    ['memory growth', `${signed(m.growthLastHalfMiB)} MiB over the second half of the flood (limit ${m.limits.lastHalfMiB}), ${signed(m.growthSinceWarmMiB)} MiB from warm-up to the end (limit ${m.limits.sinceWarmMiB}): ${m.flat ? 'flat' : 'NOT FLAT'}`],
    ['service JS heap (used / total, external), start -> end', heapRow(r.heap)],
    ['service threads, open fds, start -> end', `${r.samples[0]?.threads ?? '?'} -> ${r.samples.at(-1)?.threads ?? '?'}, ${r.samples[0]?.fds ?? '?'} -> ${r.samples.at(-1)?.fds ?? '?'}`],
    ['service CPU', `${r.service.cpuSeconds} s, ${r.service.cpuAvgPct} % of a core on average during the flood, ${r.service.cpuPeakPct} % peak`],
    ['clients during the flood (ok/tried)', clients('during')],
    ['clients after the flood (ok/tried)', clients('after')],
    ['DHCP received by type', table(c.dhcp.received)],
    ['DHCP sent by type', table(c.dhcp.sent)],
    ['DHCP ignored by reason', table(c.dhcp.ignored)],
    ['DHCP dropped by reason', table(c.dhcp.dropped)],
    ['TFTP refusals by error code', table(c.tftpRefused)],
    ['TFTP replies to the sender', `${table(s.replies.tftp)}; ${n(s.tftpLivePorts)} transfer ports opened, ${n(s.tftpLiveSent)} datagrams sent to them`],
    ['service log', `${r.service.errorLines} error lines; warnings: ${table(r.service.warnLines)}`],
    ['load average (1 min)', `${r.loadAverage.start[0]} at the start, ${r.loadAverage.end[0]} at the end (2 cores)`],
    ['verdict', r.pass ? 'PASS' : `FAIL: ${r.reasons.join('; ')}`],
  ];
  return ['| measure | result |', '|---|---|', ...rows.map(([a, b]) => `| ${a} | ${b.replace(/\|/g, '\\|')} |`)].join('\n');
}
