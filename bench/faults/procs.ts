/**
 * Processes as /proc shows them, for the fault campaign: the descendants of the service at the
 * moment it is killed (its exportfs, rsync or ssh children live on, re-parented), and waiting for
 * them to end. A process is named by PID and start time, so a reused PID is never mistaken for it.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface Proc {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot): with the PID, one process for good. */
  start: number;
  cmd: string;
}

function stat(pid: number): { ppid: number; start: number; zombie: boolean } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces and parentheses itself.
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(rest[1]), start: Number(rest[19]), zombie: rest[0] === 'Z' };
  } catch {
    return null;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/** Every live process below pid (children, grandchildren...), not pid itself. Reads only the
 * tree's own /proc/<pid>/task/<tid>/children files: quick enough to run just before a kill. */
export function descendants(pid: number): Proc[] {
  const out: Proc[] = [];
  const todo = [pid];
  while (todo.length) {
    const p = todo.shift()!;
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      let kids: number[] = [];
      try {
        kids = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      } catch {
        continue;
      }
      for (const k of kids) {
        const s = stat(k);
        if (!s || s.zombie) continue;
        out.push({ pid: k, start: s.start, cmd: cmdline(k).slice(0, 200) });
        todo.push(k);
      }
    }
  }
  return out;
}

/** Still running (a zombie waiting for its reaper counts as ended). */
export function alive(p: Proc): boolean {
  const s = stat(p.pid);
  return s !== null && !s.zombie && s.start === p.start;
}

/** Processes whose command line names one of these paths (the campaign's own temp dirs). */
export function processesNaming(paths: string[]): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const cmd = cmdline(Number(name));
    const s = stat(Number(name));
    if (!s || s.zombie || !paths.some((p) => cmd.includes(p))) continue;
    out.push({ pid: Number(name), start: s.start, cmd: cmd.slice(0, 200) });
  }
  return out;
}

/** Waits until none of procs runs, up to timeoutMs; returns those still running. */
export async function waitGone(procs: Proc[], timeoutMs: number): Promise<Proc[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const left = procs.filter(alive);
    if (!left.length || Date.now() >= until) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** SIGKILL by PID, only if it is still the same process. */
export function killProc(p: Proc): void {
  if (!alive(p)) return;
  try {
    process.kill(p.pid, 'SIGKILL');
  } catch {
    /* ended meanwhile */
  }
}
