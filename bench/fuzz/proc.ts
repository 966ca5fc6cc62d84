/**
 * What /proc says about a process and its network namespace: resident memory (VmRSS), CPU time,
 * and the UDP counters of the namespace the process lives in (/proc/<pid>/net/snmp is the
 * process's own namespace, read from outside without entering it).
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on Linux builds that matter here). */
const HZ = 100;

/** VmRSS in KiB from /proc/<pid>/status text. */
export function parseRssKiB(status: string): number | null {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return m ? Number(m[1]) : null;
}

/** utime + stime in seconds from /proc/<pid>/stat text (fields 14 and 15, after the comm in parentheses). */
export function parseCpuSeconds(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): utime is field 14, stime field 15.
  return (Number(rest[11]) + Number(rest[12])) / HZ;
}

/** The Udp: counters of /proc/net/snmp text. */
export function parseUdp(snmp: string): Record<string, number> {
  const lines = snmp.split('\n').filter((l) => l.startsWith('Udp: '));
  if (lines.length < 2) return {};
  const names = lines[0]!.slice(5).trim().split(/\s+/);
  const values = lines[1]!.slice(5).trim().split(/\s+/).map(Number);
  return Object.fromEntries(names.map((n, i) => [n, values[i]!]));
}

/**
 * Datagrams the kernel dropped per local UDP port, from /proc/net/udp text (the `drops` column:
 * each socket's count since it was opened; a port's sockets are summed).
 */
export function parseUdpDrops(udp: string): Record<number, number> {
  const out: Record<number, number> = {};
  for (const line of udp.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13) continue;
    const port = parseInt(f[1]!.split(':')[1]!, 16);
    out[port] = (out[port] ?? 0) + Number(f.at(-1));
  }
  return out;
}

export interface ProcSample {
  /** ms since the campaign started. */
  t: number;
  rssKiB: number;
  cpuSeconds: number;
  threads: number;
  /** Open file descriptors (sockets included). */
  fds: number;
}

export function sample(pid: number, t: number): ProcSample | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = parseRssKiB(status);
    if (rss === null) return null;
    const threads = Number(/^Threads:\s+(\d+)$/m.exec(status)?.[1] ?? 0);
    return { t, rssKiB: rss, cpuSeconds: parseCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8')), threads, fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return null; // gone
  }
}

export function udpCounters(pid: number): Record<string, number> {
  try {
    return parseUdp(readFileSync(`/proc/${pid}/net/snmp`, 'utf8'));
  } catch {
    return {};
  }
}

export function udpDrops(pid: number): Record<number, number> {
  try {
    return parseUdpDrops(readFileSync(`/proc/${pid}/net/udp`, 'utf8'));
  } catch {
    return {};
  }
}

export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * The process whose command line matches `re`: pid itself, or one of its descendants
 * (`ip netns exec` execs its command in place today, but a wrapper that forks would not).
 */
export function findProcess(pid: number, re: RegExp): number | null {
  if (re.test(cmdline(pid).join(' '))) return pid;
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      /* exited meanwhile */
    }
  }
  const queue = [...(children.get(pid) ?? [])];
  while (queue.length) {
    const p = queue.shift()!;
    if (re.test(cmdline(p).join(' '))) return p;
    queue.push(...(children.get(p) ?? []));
  }
  return null;
}

export function loadAverage(): number[] {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
}
