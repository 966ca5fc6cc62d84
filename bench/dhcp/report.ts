/** The benchmark's results as a markdown table: one row per offered rate, servers side by side. Pure. */
import type { PerfdhcpResult } from './perfdhcp.js';

export interface Case {
  server: string;
  /** Offered exchanges/s; null = unlimited. */
  rate: number | null;
  seconds: number;
  result: PerfdhcpResult;
  /** Server CPU use during the case, in cores (1 = one core busy). */
  serverCpu: number;
  /** Server CPU seconds (user + system) during the case. */
  cpuSec?: number;
  /** Datagrams the kernel dropped for a full socket receive buffer (/proc/net/snmp RcvbufErrors), per namespace. */
  kernelDrops?: { server: number; perfdhcp: number };
  /** Highest 1-minute load average sampled during the case. */
  load1: number;
}

export interface Summary {
  ackPerSec: number;
  /** Exchanges that did not complete: DISCOVERs without OFFER plus REQUESTs without ACK. */
  lost: number;
  p99OfferMs: number;
  p99AckMs: number;
  /** Server CPU per reply perfdhcp received (OFFER or ACK), in µs: the cost, whatever the load. */
  cpuUsPerReply: number | null;
}

export function summarize(c: Case): Summary {
  const r = c.result;
  return {
    ackPerSec: r.ack.received / c.seconds,
    lost: r.offer.sent - r.offer.received + (r.ack.sent - r.ack.received),
    p99OfferMs: r.offer.p99Ms,
    p99AckMs: r.ack.p99Ms,
    cpuUsPerReply: c.cpuSec === undefined ? null : (1e6 * c.cpuSec) / Math.max(1, r.offer.received + r.ack.received),
  };
}

/** The case with the median ACK/s (the lower middle one for an even count). */
export function median(cases: Case[]): Case | undefined {
  const sorted = [...cases].sort((a, b) => a.result.ack.received / a.seconds - b.result.ack.received / b.seconds);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

const ms = (v: number) => (Number.isNaN(v) ? '-' : v < 10 ? v.toFixed(2) : v.toFixed(0));

export function renderTable(cases: Case[], servers: string[]): string {
  const rates = [...new Set(cases.map((c) => c.rate))];
  const head = ['offered/s', ...servers.map((s) => `${s}: ACK/s, lost, p99 OFFER/ACK ms, CPU (per reply)`), 'load avg (1 min, range)'];
  const rows = rates.map((rate) => {
    const cells = servers.map((s) => {
      const c = median(cases.filter((x) => x.server === s && x.rate === rate));
      if (!c) return '-';
      const m = summarize(c);
      return `${m.ackPerSec.toFixed(0)}, ${m.lost}, ${ms(m.p99OfferMs)} / ${ms(m.p99AckMs)}, ${(100 * c.serverCpu).toFixed(0)} %${m.cpuUsPerReply === null ? '' : ` (${m.cpuUsPerReply.toFixed(0)} µs/reply)`}`;
    });
    const loads = cases.filter((x) => x.rate === rate).map((x) => x.load1);
    return [rate === null ? 'unlimited' : rate.toLocaleString('en-US'), ...cells, `${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`];
  });
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}
