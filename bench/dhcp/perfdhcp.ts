/**
 * perfdhcp (Kea 2.2) as the load generator: argv for one timed run and a parser for its final
 * report. perfdhcp prints min/avg/max delays only; with `-x t` it also prints the send and receive
 * time of every successful exchange, from which the percentiles here are computed. Pure.
 */

export interface PerfdhcpRun {
  ifname: string;
  server: string;
  /** One MAC a line (registered clients); null = random MACs among `clients` (new clients). */
  macFile: string | null;
  /** Exchanges (DISCOVERs) started per second; null = as fast as perfdhcp can (no -r). */
  rate: number | null;
  /** Seconds of sending (-p). */
  seconds: number;
  /** Distinct clients (-R); with -M the MACs come from the list. */
  clients: number;
}

/** perfdhcp sends from IFNAME as a relay (giaddr = its address) to the server's unicast address. */
export function perfdhcpArgv(r: PerfdhcpRun): string[] {
  return [
    'perfdhcp', '-4', '-l', r.ifname,
    ...(r.rate === null ? [] : ['-r', String(r.rate)]),
    '-R', String(r.clients), ...(r.macFile === null ? [] : ['-M', r.macFile]),
    '-p', String(r.seconds), '-t', '1',
    // Wait 1 s after the period for replies still in flight, so they count as received, not dropped.
    '-W', '1000000',
    '-x', 't',
    r.server,
  ];
}

export interface PhaseStats {
  sent: number;
  received: number;
  drops: number;
  orphans: number;
  rejected: number;
  avgMs: number;
  maxMs: number;
  /** From the per-exchange timestamps (successful exchanges only). */
  p50Ms: number;
  p99Ms: number;
}

export interface PerfdhcpResult {
  /** perfdhcp's own "Rate: N 4-way exchanges/second". */
  rate: number;
  offer: PhaseStats;
  ack: PhaseStats;
  malformed: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function num(block: string, label: string, phase: string): number {
  const m = new RegExp(`^${label}: ([\\d.]+)`, 'm').exec(block);
  if (!m) throw new Error(`perfdhcp output: no "${label}" for ${phase}`);
  return Number(m[1]);
}

function between(text: string, start: string, end: RegExp): string {
  const i = text.indexOf(start);
  if (i < 0) return '';
  const rest = text.slice(i + start.length);
  const j = rest.search(end);
  return j < 0 ? rest : rest.slice(0, j);
}

function delays(block: string): number[] {
  const d: number[] = [];
  for (const m of block.matchAll(/^sent \/ received: ([\d.]+) \/ ([\d.]+)$/gm)) d.push((Number(m[2]) - Number(m[1])) * 1000);
  return d.sort((a, b) => a - b);
}

function phase(text: string, name: string): PhaseStats {
  const block = between(text, `***Statistics for: ${name}***`, /^\*\*\*/m);
  if (!block) throw new Error(`perfdhcp output: no statistics for ${name}`);
  const d = delays(between(text, `***Timestamps for packets: ${name}***`, /^\*\*\*/m));
  return {
    sent: num(block, 'sent packets', name),
    received: num(block, 'received packets', name),
    drops: num(block, 'drops', name),
    orphans: num(block, 'orphans', name),
    rejected: num(block, 'rejected leases', name),
    avgMs: num(block, 'avg delay', name),
    maxMs: num(block, 'max delay', name),
    p50Ms: percentile(d, 50),
    p99Ms: percentile(d, 99),
  };
}

export function parsePerfdhcp(text: string): PerfdhcpResult {
  const rate = /^Rate: ([\d.]+) 4-way exchanges\/second/m.exec(text);
  if (!rate) throw new Error('perfdhcp output: no "Rate:" line');
  return {
    rate: Number(rate[1]),
    offer: phase(text, 'DISCOVER-OFFER'),
    ack: phase(text, 'REQUEST-ACK'),
    malformed: Number(/^Malformed packets: (\d+)/m.exec(text)?.[1] ?? 0),
  };
}
