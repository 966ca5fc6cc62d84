/**
 * What a pull reads from the golden host before copying it, in one SSH round trip: whether autofs
 * runs (the seed: "make sure you do not have autofs working (or you will have an infinite mounting
 * loop)"; `netroot golden check` reports it, and a pull refuses to start while it runs), its
 * mounts (per-mount excludes, mounts.ts) and its loaded modules (the seed's `xs=$(lsmod ...)`,
 * the default initramfs drivers, exports/image/drivers.ts).
 */
import type { GoldenSession } from './session.js';
import { parseMountinfo, type Mount } from './mounts.js';

export interface GoldenFacts {
  /** The autofs unit is active or an automount daemon runs. */
  autofs: boolean;
  mounts: Mount[];
  /** Names as /proc/modules gives them (the kernel's: underscores). */
  loadedModules: string[];
}

export const FACTS_SCRIPT = [
  'echo @@autofs; systemctl is-active autofs 2>/dev/null; pidof automount >/dev/null 2>&1 && echo active',
  'echo @@mountinfo; cat /proc/self/mountinfo 2>/dev/null',
  'echo @@modules; cut -d" " -f1 /proc/modules 2>/dev/null',
  'exit 0',
].join('\n');

export function parseFacts(out: string): GoldenFacts {
  const parts = new Map<string, string>();
  let cur = '';
  for (const line of out.split('\n')) {
    const m = /^@@(\w+)$/.exec(line);
    if (m) { cur = m[1]!; parts.set(cur, ''); continue; }
    if (cur) parts.set(cur, `${parts.get(cur)!}${line}\n`);
  }
  const lines = (k: string) => (parts.get(k) ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
  return {
    autofs: lines('autofs').includes('active'),
    mounts: parseMountinfo(parts.get('mountinfo') ?? ''),
    loadedModules: lines('modules').filter((m) => /^[\w-]+$/.test(m)),
  };
}

export async function readFacts(session: GoldenSession, signal?: AbortSignal): Promise<GoldenFacts> {
  return parseFacts((await session.execShell(FACTS_SCRIPT, { timeoutMs: 60_000, signal })).stdout);
}

/** The refusal a pull gives while autofs runs, in words for the admin. */
export function autofsProblem(host: string): string {
  return `autofs is running on ${host}: copying its root would walk into automounted filesystems (the seed: "infinite mounting loop"); stop and disable autofs there, then pull again`;
}
