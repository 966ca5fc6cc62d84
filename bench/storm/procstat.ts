/**
 * CPU and memory of a server and its children (nginx workers), from /proc: utime + stime of
 * /proc/<pid>/stat (every thread of the process, so netroot's TFTP worker threads count), VmRSS
 * and VmHWM of /proc/<pid>/status.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on Linux). */
const HZ = 100;

function statFields(pid: number): string[] | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** The live processes among roots and all their descendants. */
export function processTree(roots: number[]): number[] {
  const parent = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const f = statFields(Number(e));
    if (f) parent.set(Number(e), Number(f[1]));
  }
  const out = roots.filter((r) => parent.has(r));
  for (let i = 0; i < out.length; i++) for (const [pid, ppid] of parent) if (ppid === out[i]) out.push(pid);
  return out;
}

/** CPU seconds (user + system) a process has used so far; 0 if it is gone. */
export function cpuSeconds(pid: number): number {
  const f = statFields(pid);
  return f ? (Number(f[11]) + Number(f[12])) / HZ : 0;
}

function statusKiB(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export interface TreeUsage {
  /** Per process: pid, command, CPU seconds. */
  processes: { pid: number; comm: string; cpuSec: number }[];
  cpuSec: number;
}

export function treeCpu(pids: number[]): TreeUsage {
  const processes = pids.map((pid) => {
    let comm = '?';
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      /* gone */
    }
    return { pid, comm, cpuSec: cpuSeconds(pid) };
  });
  return { processes, cpuSec: processes.reduce((a, p) => a + p.cpuSec, 0) };
}

/**
 * Samples the summed VmRSS of a process tree while a storm runs (the tree is re-read each time,
 * so a worker started late counts), and the peak.
 */
export class RssSampler {
  private timer: NodeJS.Timeout | null = null;
  peakKiB = 0;
  constructor(
    private readonly roots: number[],
    private readonly everyMs = 250,
  ) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
  }

  private sample(): void {
    const kib = processTree(this.roots).reduce((a, p) => a + statusKiB(p, 'VmRSS'), 0);
    if (kib > this.peakKiB) this.peakKiB = kib;
  }

  /** Stops; returns the sampled peak and the tree's summed VmHWM (each process's own peak). */
  stop(): { peakRssKiB: number; hwmKiB: number } {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    return { peakRssKiB: this.peakKiB, hwmKiB: processTree(this.roots).reduce((a, p) => a + statusKiB(p, 'VmHWM'), 0) };
  }
}
