/**
 * Rounds, order and the figures a round reports: the server order changes every round (a shuffled
 * order, rotated by the round number, so each server goes first in turn), the load average is read
 * at the start and end of each round, and the medians are taken over rounds. Pure but for load().
 */
import { loadavg } from 'node:os';

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Fisher-Yates with the given random source (0 <= r() < 1). */
export function shuffled<T>(xs: readonly T[], r: () => number = Math.random): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** The order of round `round` (0-based): `base` rotated left by `round`. */
export function orderOf<T>(base: readonly T[], round: number): T[] {
  const n = base.length;
  return base.map((_, i) => base[(i + round) % n]!);
}

/** The 1, 5 and 15 minute load averages, rounded to two decimals. */
export function load(): number[] {
  return loadavg().map((x) => Math.round(x * 100) / 100);
}

export const fmtLoad = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');

/**
 * Runs `rounds` rounds of `each` over the servers in the round's order and returns what each round
 * saw. Before a round it waits up to `settleSec` for the 1-minute load to fall below 1.0; the
 * order is printed with the load before the round starts.
 */
export async function runRounds<S extends { name: string }>(
  label: string,
  servers: readonly S[],
  rounds: number,
  each: (s: S, round: number) => Promise<void>,
  o: { settleSec?: number; log?: (s: string) => void } = {},
): Promise<RoundInfo[]> {
  const log = o.log ?? ((s: string) => void process.stderr.write(`${s}\n`));
  const base = shuffled(servers);
  const out: RoundInfo[] = [];
  for (let r = 0; r < rounds; r++) {
    // The bench's own load (100 curl processes, 500 clients) lingers in the 1-minute average.
    for (let waited = 0; waited < (o.settleSec ?? 0) && load()[0]! >= 1; waited += 5) await new Promise((res) => setTimeout(res, 5000));
    const order = orderOf(base, r);
    const info: RoundInfo = { case: label, round: r + 1, order: order.map((s) => s.name), loadStart: load(), loadEnd: [] };
    log(`bench: ${label}, round ${r + 1}/${rounds}, order ${info.order.join(' > ')}, load ${fmtLoad(info.loadStart)}`);
    for (const s of order) await each(s, r + 1);
    info.loadEnd = load();
    log(`bench: ${label}, round ${r + 1} done, load ${fmtLoad(info.loadEnd)}`);
    out.push(info);
  }
  return out;
}

export interface RoundInfo {
  case: string;
  round: number;
  order: string[];
  loadStart: number[];
  loadEnd: number[];
}
