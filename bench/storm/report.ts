/**
 * From the nodes' results to the figures the storm reports: per storm (one server, one round) the
 * time until the last node has everything, p50/p99 of each stage, failures per stage; across
 * rounds, medians; and the markdown tables. Pure.
 */
import { STAGES, type NodeResult, type Stage } from './nodes.js';

export type ServerKind = 'netroot' | 'reference';
export const SERVER_LABEL: Record<ServerKind, string> = { netroot: 'netroot', reference: 'dnsmasq + nginx' };
export const STAGE_LABEL: Record<Stage, string> = {
  dhcp: 'DHCP (firmware)', tftp: 'TFTP loader', 'ipxe-dhcp': 'DHCP (iPXE)', script: 'script', kernel: 'kernel', initrd: 'initramfs',
};

export interface StageFigures {
  /** Nodes that finished the stage. */
  n: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  failed: number;
}

export interface StormSummary {
  server: ServerKind;
  nodes: number;
  unknown: number;
  run: string;
  round: number;
  /** 1 = this server went first in its round. */
  position: number;
  loadStart: number[];
  loadEnd: number[];
  /** Until the last node that got everything it should (known: initramfs; unknown: refusal script) had it. */
  lastNodeMs: number | null;
  booted: number;
  refused: number;
  failed: number;
  stages: Record<Stage, StageFigures>;
  /** Distinct failure reasons (stage: reason, numbers masked) with counts, most frequent first. */
  failureReasons: { reason: string; count: number }[];
  retransmits: { dhcp: number; tftp: number; ipxeDhcp: number; tftpDuplicateData: number };
  serverCpuSec: number;
  serverProcesses: { comm: string; cpuSec: number }[];
  serverPeakRssMiB: number;
  serverHwmMiB: number;
  clientCpuSec: number;
  clientMaxRssMiB: number;
  /** The client process's event-loop delay, p99 and max (ms). */
  clientLoopDelayMs: { p99: number; max: number };
  udpRcvbufErrors: { server: number; client: number };
  /**
   * The server namespace's TCP counters over the storm (the HTTP bodies flow from it): segments
   * sent again, retransmission timeouts (each one a stall of at least 200 ms for its connection,
   * doubling when repeated), and connections the listener dropped (accept queue full); and how
   * often TCP entered memory pressure (net.ipv4.tcp_mem) in either namespace. Absent in reports
   * written before they were counted.
   */
  tcp?: { retransSegs: number; timeouts: number; listenDrops: number; memoryPressures: number };
  notes: string[];
}

/** Nearest-rank percentile (q in 0..1) of unsorted values; null for none. */
export function percentile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export function median(values: (number | null)[]): number | null {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return null;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function stageFigures(nodes: NodeResult[]): Record<Stage, StageFigures> {
  const out = {} as Record<Stage, StageFigures>;
  for (const s of STAGES) {
    const d = nodes.flatMap((n) => (n.t[s] ? [n.t[s]![1] - n.t[s]![0]] : []));
    out[s] = { n: d.length, p50Ms: percentile(d, 0.5), p99Ms: percentile(d, 0.99), maxMs: d.length ? Math.max(...d) : null, failed: nodes.filter((n) => n.failed?.stage === s).length };
  }
  return out;
}

/** The time the last successful node finished (null when none did). */
export function lastNodeMs(nodes: NodeResult[]): number | null {
  let last: number | null = null;
  for (const n of nodes) {
    if (n.outcome === 'failed') continue;
    const end = Math.max(...Object.values(n.t).map((t) => t![1]));
    if (last === null || end > last) last = end;
  }
  return last;
}

/** Numbers, hashes and addresses masked, so one reason counts once whatever block or node it names. */
export function maskNumbers(s: string): string {
  return s
    .replace(/\b\d{1,3}(\.\d{1,3}){3}\b/g, '<ip>')
    .replace(/\b[0-9a-f]{2}(:[0-9a-f]{2}){5}\b/g, '<mac>')
    .replace(/\b[0-9a-f]{8,}\b/g, '<hex>')
    .replace(/(?<![A-Za-z0-9])\d+(\.\d+)?/g, '#');
}

export function failureReasons(nodes: NodeResult[]): { reason: string; count: number }[] {
  const m = new Map<string, number>();
  for (const n of nodes) {
    if (!n.failed) continue;
    const k = `${n.failed.stage}: ${maskNumbers(n.failed.reason)}`;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return [...m].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count);
}

const sec = (ms: number | null, digits = 2) => (ms === null ? '-' : (ms / 1000).toFixed(digits));
const msOrS = (ms: number | null) => (ms === null ? '-' : ms < 1000 ? `${ms.toFixed(ms < 10 ? 1 : 0)} ms` : `${(ms / 1000).toFixed(2)} s`);
const loads = (l: number[]) => l.map((x) => x.toFixed(2)).join('/');

/** "7.8 (dnsmasq 4.3, nginx 3.5)": CPU seconds, split by command when there are several. */
function cpuSplit(s: StormSummary): string {
  const by = new Map<string, number>();
  for (const p of s.serverProcesses) by.set(p.comm, (by.get(p.comm) ?? 0) + p.cpuSec);
  const total = s.serverCpuSec.toFixed(1);
  return by.size > 1 ? `${total} (${[...by].map(([c, v]) => `${c} ${v.toFixed(1)}`).join(', ')})` : total;
}

/** The storms of one server in one case (nodes, run), rounds in order. */
export interface CaseRounds {
  nodes: number;
  run: string;
  unknown: number;
  server: ServerKind;
  rounds: StormSummary[];
}

export function groupCases(all: StormSummary[]): CaseRounds[] {
  const out: CaseRounds[] = [];
  for (const s of all) {
    let c = out.find((x) => x.nodes === s.nodes && x.run === s.run && x.server === s.server);
    if (!c) out.push((c = { nodes: s.nodes, run: s.run, unknown: s.unknown, server: s.server, rounds: [] }));
    c.rounds.push(s);
  }
  for (const c of out) c.rounds.sort((a, b) => a.round - b.round);
  return out;
}

export interface CaseMedians {
  lastNodeMs: number | null;
  stages: Record<Stage, { p50Ms: number | null; p99Ms: number | null; failedPerRound: number[] }>;
  failedPerRound: number[];
  serverCpuSec: number | null;
  serverPeakRssMiB: number | null;
  clientCpuSec: number | null;
}

export function caseMedians(c: CaseRounds): CaseMedians {
  const stages = {} as CaseMedians['stages'];
  for (const s of STAGES) {
    stages[s] = {
      p50Ms: median(c.rounds.map((r) => r.stages[s].p50Ms)),
      p99Ms: median(c.rounds.map((r) => r.stages[s].p99Ms)),
      failedPerRound: c.rounds.map((r) => r.stages[s].failed),
    };
  }
  return {
    // A round with failed nodes did not serve the whole fleet: its time is not a finish time.
    lastNodeMs: median(c.rounds.map((r) => (r.failed === 0 ? r.lastNodeMs : null))),
    stages,
    failedPerRound: c.rounds.map((r) => r.failed),
    serverCpuSec: median(c.rounds.map((r) => r.serverCpuSec)),
    serverPeakRssMiB: median(c.rounds.map((r) => r.serverPeakRssMiB)),
    clientCpuSec: median(c.rounds.map((r) => r.clientCpuSec)),
  };
}

/** The report's tables: overview (with netroot / reference), stages, and every round. */
export function renderMarkdown(all: StormSummary[]): string {
  const cases = groupCases(all);
  const out: string[] = [];
  out.push('| nodes | run | server | last node has everything (median) | failed nodes per round | server CPU s | server peak RSS MiB | client CPU s | netroot / reference time |');
  out.push('|---|---|---|---|---|---|---|---|---|');
  for (const c of cases) {
    const m = caseMedians(c);
    let ratio = '';
    if (c.server === 'netroot') {
      const ref = cases.find((x) => x.nodes === c.nodes && x.run === c.run && x.server === 'reference');
      const rm = ref ? caseMedians(ref).lastNodeMs : null;
      ratio = m.lastNodeMs !== null && rm !== null ? `${(m.lastNodeMs / rm).toFixed(2)}x` : 'n/a (failed rounds)';
    }
    out.push(`| ${c.nodes} | ${c.run} | ${SERVER_LABEL[c.server]} | ${sec(m.lastNodeMs)} s | ${m.failedPerRound.join(' / ')} | ${m.serverCpuSec?.toFixed(1) ?? '-'} | ${m.serverPeakRssMiB?.toFixed(0) ?? '-'} | ${m.clientCpuSec?.toFixed(1) ?? '-'} | ${ratio} |`);
  }
  out.push('');
  out.push(`| nodes | run | server | ${STAGES.map((s) => `${STAGE_LABEL[s]} p50 / p99`).join(' | ')} | failures by stage (per round) |`);
  out.push(`|---|---|---|${STAGES.map(() => '---|').join('')}---|`);
  for (const c of cases) {
    const m = caseMedians(c);
    const fails = STAGES.filter((s) => m.stages[s].failedPerRound.some((x) => x > 0)).map((s) => `${STAGE_LABEL[s]} ${m.stages[s].failedPerRound.join('/')}`);
    out.push(`| ${c.nodes} | ${c.run} | ${SERVER_LABEL[c.server]} | ${STAGES.map((s) => `${msOrS(m.stages[s].p50Ms)} / ${msOrS(m.stages[s].p99Ms)}`).join(' | ')} | ${fails.join('; ') || 'none'} |`);
  }
  out.push('');
  out.push('Every round (load average 1/5/15 min at the start and the end of each storm):');
  out.push('');
  out.push('| nodes | run | round | server (position) | last node | booted / refused / failed | retransmits DHCP / TFTP / iPXE DHCP, duplicate DATA | server CPU s | peak RSS (sum of VmHWM) MiB | UDP buffer drops server / client | server TCP retransmitted segments / timeouts / listen drops, TCP memory pressure | client CPU s, loop delay p99 / max | load start | load end |');
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const s of all) {
    const r = s.retransmits;
    out.push(`| ${s.nodes} | ${s.run} | ${s.round} | ${SERVER_LABEL[s.server]} (${s.position}) | ${sec(s.lastNodeMs)} s | ${s.booted} / ${s.refused} / ${s.failed} | ${r.dhcp} / ${r.tftp} / ${r.ipxeDhcp}, ${r.tftpDuplicateData} | ${cpuSplit(s)} | ${s.serverPeakRssMiB.toFixed(0)} (${s.serverHwmMiB.toFixed(0)}) | ${s.udpRcvbufErrors.server} / ${s.udpRcvbufErrors.client} | ${s.tcp ? `${s.tcp.retransSegs} / ${s.tcp.timeouts} / ${s.tcp.listenDrops}, ${s.tcp.memoryPressures}` : 'n/a'} | ${s.clientCpuSec.toFixed(1)}, ${s.clientLoopDelayMs.p99.toFixed(0)} / ${s.clientLoopDelayMs.max.toFixed(0)} ms | ${loads(s.loadStart)} | ${loads(s.loadEnd)} |`);
  }
  const reasons = all.filter((s) => s.failureReasons.length);
  if (reasons.length) {
    out.push('');
    out.push('Failures:');
    out.push('');
    for (const s of reasons) {
      out.push(`- ${s.nodes} nodes, ${s.run}, round ${s.round}, ${SERVER_LABEL[s.server]}: ${s.failureReasons.slice(0, 6).map((f) => `${f.count} x ${f.reason}`).join('; ')}`);
    }
  }
  const notes = all.filter((s) => s.notes.length);
  if (notes.length) {
    out.push('');
    out.push('Server notes:');
    out.push('');
    for (const s of notes) out.push(`- ${s.nodes} nodes, ${s.run}, round ${s.round}, ${SERVER_LABEL[s.server]}: ${s.notes.join('; ')}`);
  }
  return out.join('\n') + '\n';
}
