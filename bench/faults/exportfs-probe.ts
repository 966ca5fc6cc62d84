/**
 * The exportfs the service runs in the campaign: the sandbox's real exportfs (no machine file
 * touched), behind a small sh wrapper that waits a random time before and after it (so a kill
 * lands inside an apply, not only between two) and logs each stage with its PID. The log tells
 * where an apply was when the service was killed.
 */
import { readFileSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type ExportfsStage = 'delay before exportfs' | 'exportfs running' | 'after exportfs, before read-back';

const LABEL: Record<string, ExportfsStage> = {
  start: 'delay before exportfs',
  exportfs: 'exportfs running',
  ran: 'after exportfs, before read-back',
};

export interface ExportfsProbe {
  /** The executable for nfs.kernel.exportfs. */
  path: string;
  /** Stage of each run in flight now (normally at most one); synchronous, to be read just before a kill. */
  inFlight(): ExportfsStage[];
  /** Runs started so far. */
  runs(): number;
}

/**
 * sandboxExportfs: the sandbox's wrapper (createExportfsSandbox().exportfsWrapper); maxDelayMs:
 * upper bound of each random wait (0: none).
 */
export async function createExportfsProbe(dir: string, sandboxExportfs: string, maxDelayMs: number): Promise<ExportfsProbe> {
  const path = join(dir, 'exportfs-probe');
  const log = join(dir, 'exportfs-probe.log');
  await writeFile(log, '');
  // Paths come from mkdtemp (no quote in them); the delay is drawn from /dev/urandom per run.
  await writeFile(path, [
    '#!/bin/sh',
    `log='${log}'`,
    'stage() { echo "$$ $1" >> "$log"; }',
    `pause() { n=$(od -An -N2 -tu2 /dev/urandom | tr -d ' '); ms=$((n % ${maxDelayMs + 1})); [ "$ms" -gt 0 ] && sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"; return 0; }`,
    'stage start',
    'pause',
    'stage exportfs',
    `'${sandboxExportfs}' "$@"`,
    'rc=$?',
    'stage ran',
    'pause',
    'stage done',
    'exit $rc',
    '',
  ].join('\n'));
  await chmod(path, 0o755);
  const lines = () => readFileSync(log, 'utf8').split('\n').map((l) => l.split(' ')).filter((x) => x.length === 2);
  const stages = () => {
    // A PID the kernel hands out again starts over with 'start'.
    const last = new Map<string, string>();
    for (const [pid, stage] of lines()) last.set(pid!, stage!);
    return last;
  };
  return {
    path,
    inFlight() {
      return [...stages().values()].filter((s) => s !== 'done').map((s) => LABEL[s]!);
    },
    runs() {
      return lines().filter(([, stage]) => stage === 'start').length;
    },
  };
}
