/**
 * CPU time and memory of a server, read from /proc. A server is its whole process tree: tftpd-hpa
 * forks a process per transfer and nginx runs workers. Memory is summed over every live process
 * below the server's pid. CPU comes from the server's CPU group (cpugroup.ts), since a child that
 * its parent does not wait for never reaches the parent's cutime/cstime; the server's own
 * /proc/<pid>/stat utime + stime (threads included: netroot's TFTP workers, Kea's) is kept beside it.
 */
import { readdir, readFile } from 'node:fs/promises';

/** Clock ticks per second and page size of Linux on x86_64 and arm64 (getconf CLK_TCK / PAGESIZE). */
export const CLK_TCK = 100;
export const PAGE_BYTES = 4096;

export interface ProcStat {
  pid: number;
  ppid: number;
  /** Ticks: user, system, and the same of reaped children. */
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
  /** Resident pages. */
  rss: number;
}

/** One /proc/<pid>/stat line. The command name (field 2) may hold spaces and parentheses. Pure. */
export function parseStat(text: string): ProcStat {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error('/proc stat: no ")" after the command name');
  const pid = Number(text.slice(0, text.indexOf(' ')));
  // Fields after the name, numbered from 3 (state) as in proc(5).
  const f = text.slice(close + 2).trim().split(' ');
  const at = (n: number) => Number(f[n - 3]);
  return { pid, ppid: at(4), utime: at(14), stime: at(15), cutime: at(16), cstime: at(17), rss: at(24) };
}

/** The processes of `root`'s tree (root first) among `all`. Pure. */
export function treeOf(root: number, all: ProcStat[]): ProcStat[] {
  const byParent = new Map<number, ProcStat[]>();
  for (const p of all) (byParent.get(p.ppid) ?? byParent.set(p.ppid, []).get(p.ppid)!).push(p);
  const top = all.find((p) => p.pid === root);
  if (!top) return [];
  const out = [top];
  for (let i = 0; i < out.length; i++) out.push(...(byParent.get(out[i]!.pid) ?? []));
  return out;
}

export interface TreeUsage {
  /** CPU seconds used so far by the tree (live processes and reaped children). */
  cpuSec: number;
  /** Resident memory summed over the tree (pages shared between forks count in each). */
  rssBytes: number;
  /** Resident memory of the root process alone. */
  rootRssBytes: number;
  processes: number;
}

export function usageOf(tree: ProcStat[]): TreeUsage {
  let ticks = 0;
  let rss = 0;
  for (const p of tree) {
    ticks += p.utime + p.stime + p.cutime + p.cstime;
    rss += p.rss;
  }
  return { cpuSec: ticks / CLK_TCK, rssBytes: rss * PAGE_BYTES, rootRssBytes: (tree[0]?.rss ?? 0) * PAGE_BYTES, processes: tree.length };
}

async function readAll(): Promise<ProcStat[]> {
  const out: ProcStat[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      out.push(parseStat(await readFile(`/proc/${name}/stat`, 'utf8')));
    } catch {
      // The process ended between readdir and read.
    }
  }
  return out;
}

/** What the process tree rooted at `pid` has used so far; throws when pid is gone. */
export async function treeUsage(pid: number): Promise<TreeUsage> {
  const tree = treeOf(pid, await readAll());
  if (tree.length === 0) throw new Error(`process ${pid} is gone`);
  return usageOf(tree);
}

export interface Metered {
  /** CPU seconds of everything in the server's CPU group (all processes, exited ones included). */
  cpuSec: number;
  /** CPU seconds of the server's own process (/proc/<pid>/stat utime + stime, its threads included). */
  ownCpuSec: number;
  /** Highest tree RSS seen while metering (sampled every `everyMs`), in MiB. */
  rssMaxMiB: number;
  /** The root process's own RSS at the end, in MiB. */
  rootRssMiB: number;
}

/** Ticks of the process itself, without children. */
async function ownTicks(pid: number): Promise<number> {
  const p = parseStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  return p.utime + p.stime;
}

/** Meters a server from now until stop(): CPU seconds used meanwhile and peak RSS of its tree. */
export async function meter(pid: number, group: { usageSec(): Promise<number> }, everyMs = 500): Promise<{ stop(): Promise<Metered> }> {
  const first = await treeUsage(pid);
  const [cpu0, own0] = [await group.usageSec(), await ownTicks(pid)];
  let peak = first.rssBytes;
  let sampling = false;
  const timer = setInterval(() => {
    if (sampling) return;
    sampling = true;
    treeUsage(pid)
      .then((u) => void (peak = Math.max(peak, u.rssBytes)))
      .catch(() => undefined)
      .finally(() => void (sampling = false));
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      const last = await treeUsage(pid);
      peak = Math.max(peak, last.rssBytes);
      return {
        cpuSec: (await group.usageSec()) - cpu0,
        ownCpuSec: ((await ownTicks(pid)) - own0) / CLK_TCK,
        rssMaxMiB: peak / 2 ** 20,
        rootRssMiB: last.rootRssBytes / 2 ** 20,
      };
    },
  };
}
