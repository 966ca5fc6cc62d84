/**
 * File operations inside a root tree that is not ours (a copy of a golden host). The root is full
 * of absolute symlinks (etc/machine-id -> /run/..., lib -> usr/lib) that point at the SERVER's
 * files if followed naively, so every path is resolved chroot-style: symlinks in parent
 * components are followed with `/` meaning the root, never the host. Writes replace the final
 * component by rename (a new inode), which also matters for versions: files of a new version are
 * hard links into the previous one (rsync --link-dest), and writing in place would change both.
 */
import { lstat, readlink, readdir, rename, rm, writeFile, mkdir, chmod, chown, readFile, symlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, posix } from 'node:path';

const MAX_LINKS = 40;

function splitRel(rel: string): string[] {
  return rel.split('/').filter((p) => p !== '' && p !== '.');
}

/**
 * Resolves `rel` (a path inside the root, leading slash optional) to a host path whose parent
 * directories contain no symlink leading outside the root. The final component is followed only
 * when followFinal is set.
 */
export async function resolveInRoot(root: string, rel: string, followFinal = false): Promise<string> {
  const pending = splitRel(rel);
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    if (pending.length === 0 && !followFinal) {
      done.push(part);
      break;
    }
    const here = join(root, ...done, part);
    let st;
    try {
      st = await lstat(here);
    } catch {
      done.push(part, ...pending.filter((p) => p !== '..'));
      break;
    }
    if (st.isSymbolicLink()) {
      if (++links > MAX_LINKS) throw new Error(`${rel}: too many symlinks inside the root`);
      const target = await readlink(here);
      if (target.startsWith('/')) done.length = 0;
      pending.unshift(...splitRel(target));
    } else {
      done.push(part);
    }
  }
  return join(root, ...done);
}

export type Kind = 'file' | 'dir' | 'link' | 'other' | 'missing';

export async function kindIn(root: string, rel: string): Promise<Kind> {
  try {
    const st = await lstat(await resolveInRoot(root, rel));
    if (st.isSymbolicLink()) return 'link';
    if (st.isDirectory()) return 'dir';
    if (st.isFile()) return 'file';
    return 'other';
  } catch {
    return 'missing';
  }
}

export async function readIn(root: string, rel: string): Promise<string | null> {
  const p = await resolveInRoot(root, rel);
  try {
    const st = await lstat(p);
    if (!st.isFile()) return null;
    return await readFile(p, 'utf8');
  } catch {
    return null;
  }
}

/** Writes a file by temp + rename (never in place, never through a symlink); owned by us unless owner is given. */
export async function writeIn(root: string, rel: string, content: string, mode = 0o644, owner?: { uid: number; gid: number }): Promise<void> {
  const p = await resolveInRoot(root, rel);
  await mkdir(posix.dirname(p), { recursive: true });
  const tmp = `${p}.netroot-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, content, { mode });
  if (owner) await chown(tmp, owner.uid, owner.gid);
  await chmod(tmp, mode); // after chown, which clears set-id bits
  await rename(tmp, p);
}

/** Removes a file, symlink or tree; true when something was removed. */
export async function removeIn(root: string, rel: string): Promise<boolean> {
  const p = await resolveInRoot(root, rel);
  try {
    await lstat(p);
  } catch {
    return false;
  }
  await rm(p, { recursive: true, force: true });
  return true;
}

/** Names in a directory of the root ([] when it is missing or not a directory). */
export async function listIn(root: string, rel: string): Promise<string[]> {
  const p = await resolveInRoot(root, rel);
  try {
    const st = await lstat(p);
    if (!st.isDirectory()) return [];
    return (await readdir(p)).sort();
  } catch {
    return [];
  }
}

export async function mkdirIn(root: string, rel: string, mode = 0o755): Promise<void> {
  const p = await resolveInRoot(root, rel);
  // mode passes through the umask; set it exactly on the leaf we created (e.g. /tmp 1777).
  if ((await mkdir(p, { recursive: true, mode })) !== undefined) await chmod(p, mode);
}

/** Creates a symlink inside the root (target stored as given), replacing whatever is there. */
export async function symlinkIn(root: string, rel: string, target: string): Promise<void> {
  const p = await resolveInRoot(root, rel);
  await mkdir(posix.dirname(p), { recursive: true });
  const tmp = `${p}.netroot-${randomBytes(4).toString('hex')}`;
  await symlink(target, tmp);
  await rename(tmp, p);
}
