/**
 * The golden host's mounts, read from /proc/self/mountinfo, and the rsync excludes they call for.
 * The seed copies `/` with `rsync -aH` and a fixed exclude list; plain `--one-file-system` would
 * be wrong on RHEL, whose default layout puts /boot (the kernels) on its own partition. So every
 * mount below the source that is not a local disk filesystem is excluded instead: network
 * filesystems (an NFS home or data mount would be copied whole into every image), autofs, pseudo
 * and memory filesystems, container overlays, and the EFI system partition (vfat at /boot/efi:
 * the golden host's boot loader, no use to a node that boots over the network). Local disk
 * filesystems (/boot, /var, /usr on their own partitions) are part of the root and are copied.
 */
import { posix } from 'node:path';
import { SEED_EXCLUDES } from './rsync.js';

export interface Mount {
  target: string;
  fstype: string;
  source: string;
}

/** Filesystems that hold a golden host's own files on a local disk. */
export const LOCAL_DISK_FS = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'jfs', 'reiserfs', 'f2fs', 'zfs', 'bcachefs']);

/** mountinfo escapes space, tab, newline and backslash as \ooo (proc(5)). */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** proc(5) mountinfo: `id parent major:minor root target options [optional...] - fstype source super`. */
export function parseMountinfo(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(' ');
    const dash = f.indexOf('-');
    if (f.length < 7 || dash < 6 || dash + 2 >= f.length) continue;
    out.push({ target: unescape(f[4]!), fstype: f[dash + 1]!, source: unescape(f[dash + 2]!) });
  }
  return out;
}

/** The mounts below sourcePath that must not be copied, with why (for the pull log). */
export function foreignMounts(mounts: readonly Mount[], sourcePath: string): { mount: Mount; rel: string; why: string }[] {
  const src = posix.normalize(sourcePath).replace(/\/$/, '') || '/';
  const out: { mount: Mount; rel: string; why: string }[] = [];
  const seen = new Set<string>();
  for (const m of mounts) {
    const t = posix.normalize(m.target);
    if (t === src || !(src === '/' ? t.startsWith('/') : t.startsWith(`${src}/`))) continue;
    const rel = src === '/' ? t : t.slice(src.length);
    // Already excluded by the seed's list: nothing below it is copied.
    if (SEED_EXCLUDES.some((d) => rel === d || rel.startsWith(`${d}/`))) continue;
    let why: string | null = null;
    if (m.fstype === 'vfat' && (rel === '/boot/efi' || rel === '/efi')) why = 'EFI system partition';
    else if (!LOCAL_DISK_FS.has(m.fstype)) why = `${m.fstype} mount`;
    if (why === null || seen.has(rel)) continue;
    seen.add(rel);
    out.push({ mount: m, rel, why });
  }
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/** rsync's pattern characters, taken literally. */
function literal(p: string): string {
  return p.replace(/[*?[\\]/g, (c) => `\\${c}`);
}

/** `/dir/*` like the seed's excludes: the mount point arrives empty (a directory for the node to mount on). */
export function mountExcludes(mounts: readonly Mount[], sourcePath: string): string[] {
  return foreignMounts(mounts, sourcePath).filter((f) => !/[\n\r]/.test(f.rel)).map((f) => `${literal(f.rel)}/*`);
}
