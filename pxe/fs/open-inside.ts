/**
 * Opening a boot file safely: only a regular file inside the allowed root (an image version's
 * tree), reached without a symlink anywhere below the root. A link planted in an image version
 * (boot/initramfs.img -> /etc/shadow, or boot -> /etc) is refused. The file is checked by its
 * real path, opened with O_NOFOLLOW, and the opened descriptor itself is checked (its path, its
 * type), so a link swapped in between the check and the open is never followed. HTTP boot
 * (send-file.ts) and TFTP boot files (boot/tftp-files.ts) both open through here.
 */
import { constants as fsc, type Stats } from 'node:fs';
import { open, readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';

export type Opened = { kind: 'file'; fh: FileHandle; st: Stats } | { kind: 'missing' } | { kind: 'refused'; reason: string };

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code;

/**
 * Opens path for reading if it is a regular file inside root with no symlink below root (root
 * itself may be a link: it comes from the configuration, not from an image). The caller closes
 * the handle.
 */
export async function openInside(root: string, path: string): Promise<Opened> {
  const rel = relative(resolve(root), resolve(path));
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return { kind: 'refused', reason: `not inside ${root}` };
  let expected: string;
  let real: string;
  try {
    expected = join(await realpath(root), rel);
    real = await realpath(path);
  } catch (e) {
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return { kind: 'missing' };
    if (errno(e) === 'ELOOP') return { kind: 'refused', reason: 'symlink loop' };
    throw e;
  }
  // Without links, the real path is the root's real path plus the same names.
  if (real !== expected) return { kind: 'refused', reason: `reached through a symlink (leads to ${real})` };
  let fh: FileHandle;
  try {
    // O_NOFOLLOW: the last name has not become a link since; O_NONBLOCK: a FIFO put there does
    // not hang the open (it is refused below as not a regular file).
    fh = await open(expected, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  } catch (e) {
    if (errno(e) === 'ELOOP') return { kind: 'refused', reason: 'a symlink' };
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return { kind: 'missing' };
    throw e;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new Refusal('not a regular file');
    // A directory above the file swapped for a link between realpath and open: the descriptor's
    // own path (Linux /proc) or identity says which file was really opened.
    const opened = await readlink(`/proc/self/fd/${fh.fd}`).catch(() => null);
    if (opened !== null ? opened !== expected : !sameFile(st, await stat(expected))) throw new Refusal(`changed while opened (now ${opened ?? 'another file'})`);
    return { kind: 'file', fh, st };
  } catch (e) {
    await fh.close();
    if (e instanceof Refusal) return { kind: 'refused', reason: e.message };
    throw e;
  }
}

class Refusal extends Error {}

const sameFile = (a: Stats, b: Stats) => a.dev === b.dev && a.ino === b.ino;

