/**
 * A temp directory at a fixed path, for tests whose screenshots show paths inside it. Claimed with
 * the test process's PID inside: a directory left by a run that died is cleared and taken; one a
 * live run holds (the same test running in another checkout at the same time) is left alone, and
 * this run gets a fresh directory instead, so neither run breaks the other (this run's pictures
 * then show another path: `fixed` says so).
 */
import { mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const OWNER = '.owner-pid';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function inUse(dir: string): boolean {
  let text: string;
  try {
    text = readFileSync(join(dir, OWNER), 'utf8');
  } catch {
    // No owner file: made by a test from before the claim (it keeps no PID). Recently changed
    // means it may still be running.
    try {
      return Date.now() - statSync(dir).mtimeMs < 30 * 60_000;
    } catch {
      return false;
    }
  }
  const pid = Number(text);
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid);
}

export function claimFixedDir(name: string): { dir: string; fixed: boolean } {
  const dir = join(tmpdir(), name);
  for (let attempt = 0; attempt < 2; attempt++) {
    // Made aside with the owner file in it, then renamed into place: another run never sees the
    // directory without its owner (a rename onto a directory with files in it fails).
    const aside = mkdtempSync(`${dir}.claim-`);
    writeFileSync(join(aside, OWNER), String(process.pid));
    try {
      renameSync(aside, dir);
      return { dir, fixed: true };
    } catch (e) {
      rmSync(aside, { recursive: true, force: true });
      if (!['EEXIST', 'ENOTEMPTY'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
    }
    if (inUse(dir)) break;
    rmSync(dir, { recursive: true, force: true });
  }
  return { dir: mkdtempSync(`${dir}-`), fixed: false };
}
