/**
 * A bench's result: every measurement (one per case, round and server), the rounds with their
 * order and load averages, how each server was started (netroot's config file in full), rendered
 * as a markdown report and written with its JSON beside it. Rendering is pure.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, release } from 'node:os';
import { dirname } from 'node:path';
import { fmtLoad, median, type RoundInfo } from './rounds.js';

export interface Sample {
  case: string;
  server: string;
  round: number;
  /** The headline figure, higher is better (MiB/s, ACK/s). */
  value: number;
  /** Downloads or exchanges that were verified / attempted; failures are listed. */
  ok: number;
  total: number;
  failures: string[];
  /** CPU seconds the server's process tree used during the measurement. */
  cpuSec: number;
  /** CPU seconds per the bench's unit of work (GB served, 1,000 replies); null when nothing was served. */
  cpuPerUnit: number | null;
  /** Peak resident memory of the server's tree during the measurement. */
  rssMaxMiB: number;
  /** Further figures shown as medians (seconds, lost, p99 ...). */
  extra: Record<string, number>;
}

export interface ServerSetup {
  server: string;
  /** Command line, then any config file in full. */
  how: string;
}

export interface BenchResult {
  bench: string;
  command: string;
  startedAt: string;
  finishedAt: string;
  host: { cpus: number; kernel: string; node: string };
  /** Unit of `value` and of `cpuPerUnit`. */
  unit: string;
  cpuUnit: string;
  setup: ServerSetup[];
  notes: string[];
  rounds: RoundInfo[];
  samples: Sample[];
}

export function newResult(bench: string, unit: string, cpuUnit: string): BenchResult {
  return {
    bench,
    command: `node ${process.argv.slice(1).map((a) => a.replace(/^.*\/dist\//, 'dist/')).join(' ')}`,
    startedAt: new Date().toISOString(),
    finishedAt: '',
    host: { cpus: cpus().length, kernel: release(), node: process.version },
    unit,
    cpuUnit,
    setup: [],
    notes: [],
    rounds: [],
    samples: [],
  };
}

const num = (v: number) => (Number.isNaN(v) ? '-' : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;

/** Servers in first-seen order, cases in first-seen order. */
function keys(samples: Sample[], k: 'case' | 'server'): string[] {
  return [...new Set(samples.map((s) => s[k]))];
}

export function summaryTable(r: BenchResult): string {
  const extras = [...new Set(r.samples.flatMap((s) => Object.keys(s.extra)))];
  const head = ['case', 'server', `${r.unit} (median)`, 'each round', 'verified / total', `${r.cpuUnit} (median)`, 'RSS max MiB', ...extras.map((e) => `${e} (median)`), 'netroot / this'];
  const lines = [row(head), row(head.map(() => '---'))];
  for (const c of keys(r.samples, 'case')) {
    const of = (server: string) => r.samples.filter((s) => s.case === c && s.server === server).sort((a, b) => a.round - b.round);
    const ours = median(of('netroot').map((s) => s.value));
    for (const server of keys(r.samples, 'server')) {
      const xs = of(server);
      if (xs.length === 0) continue;
      const m = median(xs.map((s) => s.value));
      const ok = xs.reduce((a, s) => a + s.ok, 0);
      const total = xs.reduce((a, s) => a + s.total, 0);
      const cpu = xs.map((s) => s.cpuPerUnit).filter((v): v is number => v !== null);
      lines.push(row([
        c,
        server,
        num(m),
        xs.map((s) => num(s.value)).join(', '),
        `${ok} / ${total}${ok < total ? ' **FAILURES**' : ''}`,
        cpu.length ? num(median(cpu)) : '-',
        num(Math.max(...xs.map((s) => s.rssMaxMiB))),
        ...extras.map((e) => num(median(xs.filter((s) => e in s.extra).map((s) => s.extra[e]!)))),
        server === 'netroot' || !(ours > 0 && m > 0) ? '' : `${(ours / m).toFixed(2)}x`,
      ]));
    }
  }
  return lines.join('\n');
}

export function roundsTable(r: BenchResult): string {
  const servers = keys(r.samples, 'server');
  const head = ['case', 'round', 'order', 'load at start (1/5/15 min)', 'load at end', ...servers.map((s) => `${s}: ${r.unit} (verified/total)`)];
  const lines = [row(head), row(head.map(() => '---'))];
  for (const info of r.rounds) {
    const cell = (server: string) => {
      const s = r.samples.find((x) => x.case === info.case && x.round === info.round && x.server === server);
      return s ? `${num(s.value)} (${s.ok}/${s.total})` : '-';
    };
    lines.push(row([info.case, String(info.round), info.order.join(' > '), fmtLoad(info.loadStart), fmtLoad(info.loadEnd), ...servers.map(cell)]));
  }
  return lines.join('\n');
}

export function renderMarkdown(r: BenchResult): string {
  const failures = r.samples.filter((s) => s.failures.length).map((s) => `- ${s.case}, ${s.server}, round ${s.round}: ${s.failures.join('; ')}`);
  const loads = r.rounds.flatMap((x) => [x.loadStart[0]!, x.loadEnd[0]!]);
  const first = r.rounds[0]?.loadStart[0] ?? NaN;
  const quiet = first < 1;
  const later = r.rounds.filter((x) => x.loadStart[0]! >= 1).length;
  return [
    `# ${r.bench}: ${r.startedAt} to ${r.finishedAt}`,
    '',
    `\`${r.command}\` on ${r.host.cpus} CPUs, Linux ${r.host.kernel}, Node ${r.host.node}. ` +
      `1-minute load average ${num(Math.min(...loads))}-${num(Math.max(...loads))} over the rounds: ` +
      (quiet
        ? `the run started at ${num(first)}: a quiet machine${later ? ` (${later} later round(s) started at 1.0 or above, partly the bench's own load: see each round)` : ', and every round started below 1.0'}.`
        : `the run started at ${num(first)}: **not a quiet machine**, figures for development only.`),
    '',
    '## Medians over rounds',
    '',
    summaryTable(r),
    '',
    '## Each round',
    '',
    roundsTable(r),
    '',
    ...(failures.length ? ['## Failures', '', ...failures, ''] : ['No failed download or exchange.', '']),
    ...(r.notes.length ? ['## Notes', '', ...r.notes.map((n) => `- ${n}`), ''] : []),
    '## How each server ran',
    '',
    ...r.setup.flatMap((s) => [`### ${s.server}`, '', '```', s.how.trimEnd(), '```', '']),
  ].join('\n');
}

/** Writes `<base>.json` and `<base>.md`; returns the markdown. */
export async function writeResult(r: BenchResult, base: string): Promise<string> {
  r.finishedAt = new Date().toISOString();
  const md = renderMarkdown(r);
  await mkdir(dirname(base), { recursive: true });
  await writeFile(`${base}.json`, `${JSON.stringify(r, null, 1)}\n`);
  await writeFile(`${base}.md`, md);
  return md;
}
