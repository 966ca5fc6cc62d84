/**
 * After a crash: versions a dead process left `building`. A pull only runs inside the service
 * (one service per data dir, as for jobs), so at start every `building` version is an orphan: no
 * process will ever finish it. Each becomes `failed`, and its partial tree is removed (or kept
 * with keepFailed, as a failed pull does) so that it neither fills the images export nor blocks
 * retention and DELETE for good.
 *
 * What the dead service started may outlive it for a moment: an rsync still writing into the
 * tree (it dies at its next write to the closed pipe) or a dracut chrooted into it, whose
 * /proc, /sys, /dev binds stay mounted there. Those processes are stopped and those mounts
 * unmounted first; a tree that still has mounts is kept, never deleted through them.
 */
import { readFileSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { runCommand, type Runner } from '../runner.js';
import { versionPaths } from './names.js';
import type { VersionStore } from './store.js';
import { mountsUnder, removeVersionTree } from './tree.js';

export interface RecoverOptions {
  imagesDir: string;
  /** Keep the partial trees for inspection (images.keepFailed). */
  keepFailed: boolean;
  runner?: Runner;
  /** How long orphaned processes get after SIGTERM before SIGKILL (default 5 s). */
  graceMs?: number;
}

export interface RecoveredVersion {
  image: string;
  version: string;
  kept: boolean;
  error: string;
  /** PIDs of orphaned pull processes that were stopped. */
  stopped: number[];
}

export const INTERRUPTED = 'interrupted: the netroot service died during the pull (found still building at the next start)';

/** Processes working in dir: it is their root (chroot) or named in their argv (rsync's destination). */
export async function processesIn(dir: string): Promise<number[]> {
  const out: number[] = [];
  const inside = (p: string) => p === dir || p.startsWith(`${dir}/`);
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    const root = await readlink(`/proc/${pid}/root`).catch(() => '/');
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (inside(root) || argv.some((a) => a.includes(`${dir}/`) || a.endsWith(dir))) out.push(pid);
  }
  return out;
}

/** Running (a zombie, exited and waiting for its reaper, counts as gone). */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

async function stopAll(pids: number[], graceMs: number): Promise<void> {
  for (const p of pids) try { process.kill(p, 'SIGTERM'); } catch { /* gone */ }
  const until = Date.now() + graceMs;
  while (pids.some(alive) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  for (const p of pids.filter(alive)) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
}

async function clearTree(o: RecoverOptions, image: string, version: string, stopped: number[]): Promise<string | null> {
  const { dir } = versionPaths(o.imagesDir, image, version);
  const runner = o.runner ?? runCommand;
  const pids = await processesIn(dir);
  if (pids.length) {
    await stopAll(pids, o.graceMs ?? 5000);
    stopped.push(...pids);
  }
  // Deepest first; a busy mount is detached lazily (its users were just stopped).
  for (const m of (await mountsUnder(dir)).sort((a, b) => b.length - a.length)) {
    await runner(['umount', m], { timeoutMs: 30_000 }).catch(() => runner(['umount', '-l', m], { timeoutMs: 30_000 }).catch(() => undefined));
  }
  try {
    await removeVersionTree(o.imagesDir, image, version);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Marks every `building` version of these images failed and clears its tree; returns what it did. */
export async function failInterruptedPulls(store: VersionStore, images: readonly string[], o: RecoverOptions): Promise<RecoveredVersion[]> {
  const out: RecoveredVersion[] = [];
  for (const image of images) {
    for (const v of await store.list(image)) {
      if (v.state !== 'building') continue;
      const stopped: number[] = [];
      let kept = o.keepFailed;
      let error = `${INTERRUPTED}; ${kept ? 'partial tree kept (images.keepFailed)' : 'partial tree removed'}`;
      if (!kept) {
        const problem = await clearTree(o, image, v.version, stopped);
        if (problem) {
          kept = true;
          error = `${INTERRUPTED}; partial tree kept: ${problem}`;
        }
      } else {
        // Kept for inspection, but nothing may go on writing into it.
        const pids = await processesIn(versionPaths(o.imagesDir, image, v.version).dir);
        if (pids.length) {
          await stopAll(pids, o.graceMs ?? 5000);
          stopped.push(...pids);
        }
      }
      await store.update(image, v.version, { state: 'failed', error, kept });
      out.push({ image, version: v.version, kept, error, stopped });
    }
  }
  return out;
}
