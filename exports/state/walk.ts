/** Filesystem walks that never follow symlinks: a node has root write access (no_root_squash) to its
 * own state dir and could plant a link to anywhere on the server. */
import { lstat, mkdir, readdir, chown, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { StateDirError } from './errors.js';

export interface Usage {
  /** Apparent size of all regular files, symlinks and directories (hard links counted once). */
  bytes: number;
  /** Space allocated on disk (st_blocks * 512), like du. */
  allocatedBytes: number;
  files: number;
}

export async function usageOf(dir: string): Promise<Usage> {
  const seen = new Set<string>();
  const out: Usage = { bytes: 0, allocatedBytes: 0, files: 0 };
  const stack = [dir];
  while (stack.length) {
    const p = stack.pop()!;
    let st;
    try {
      st = await lstat(p, { bigint: false });
    } catch {
      continue; // removed while walking
    }
    const key = `${st.dev}:${st.ino}`;
    if (st.nlink > 1 && seen.has(key)) continue;
    seen.add(key);
    out.bytes += st.size;
    out.allocatedBytes += st.blocks * 512;
    out.files++;
    if (st.isDirectory()) {
      const names = await readdir(p).catch(() => [] as string[]);
      for (const n of names) stack.push(join(p, n));
    }
  }
  return out;
}

/**
 * mkdir -p of `rel` (components already validated) below `base`, refusing to pass through a
 * symlink or a non-directory. Returns whether the last component was created.
 */
export async function mkdirBelow(base: string, rel: string[], mode: number, uid?: number, gid?: number, field = 'statetabPaths'): Promise<boolean> {
  let p = base;
  let created = false;
  for (const part of rel) {
    p = join(p, part);
    let st;
    try {
      st = await lstat(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (st && (st.isSymbolicLink() || !st.isDirectory())) {
      throw new StateDirError('STATE_UNSAFE', field, `${p} exists and is not a plain directory`);
    }
    if (!st) {
      await mkdir(p, { mode });
      await chmod(p, mode); // mkdir's mode is filtered by the umask
      if (uid !== undefined && gid !== undefined) await chown(p, uid, gid);
      created = true;
    } else created = false;
  }
  return created;
}

/**
 * The directories of a tree that holds nothing but directories, deepest first (ready for rmdir),
 * or null as soon as anything else (a file, a symlink) is found. Symlinks are not followed.
 */
export async function emptyDirsBottomUp(dir: string): Promise<string[] | null> {
  const st = await lstat(dir);
  if (!st.isDirectory()) return null;
  const out: string[] = [];
  for (const n of await readdir(dir)) {
    const below = await emptyDirsBottomUp(join(dir, n));
    if (!below) return null;
    out.push(...below);
  }
  out.push(dir);
  return out;
}
