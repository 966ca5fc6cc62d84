/**
 * Confirms a Ganesha export reload from its log. Ganesha 4.3 (Debian 12) reloads exports on SIGHUP
 * ("SIGHUP_HANDLER: Received SIGHUP.... initiating export list reload", then "reread_exports ...
 * Reread exports complete") and logs config problems at CRIT/MAJ: a bad block
 * ("Could not create export", "Path for export update N ... doesn't match") just after the
 * completion line (config_errs_to_log), a syntax error before it. A syntax error drops every
 * export, so any such line counts as a failed reload. Needs the log at EVENT level or lower
 * (Debian's default, -N NIV_EVENT).
 */
import { open, stat } from 'node:fs/promises';

export const RELOAD_DONE = /reread_exports :CONFIG :EVENT :Reread exports complete/;
const PROBLEM = / :(CRIT|MAJ|FATAL) :/;

export async function logSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

export async function readFrom(path: string, offset: number): Promise<string> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = (await fh.stat()).size;
    // A rotated or truncated log starts over.
    const from = size < offset ? 0 : offset;
    const buf = Buffer.alloc(size - from);
    await fh.read(buf, 0, buf.length, from);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

export interface ReloadOutcome {
  confirmed: boolean;
  problems: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits for the completion line after `offset`, then `settleMs` more for trailing error lines. */
export async function waitForReload(path: string, offset: number, timeoutMs: number, settleMs: number): Promise<ReloadOutcome> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  for (;;) {
    text = await readFrom(path, offset);
    if (RELOAD_DONE.test(text)) break;
    if (Date.now() > deadline) return { confirmed: false, problems: problemsIn(text) };
    await sleep(100);
  }
  await sleep(settleMs);
  text = await readFrom(path, offset);
  return { confirmed: true, problems: problemsIn(text) };
}

export function problemsIn(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => PROBLEM.test(l))
    .map((l) => l.replace(/^.*?\] /, '').trim());
}
