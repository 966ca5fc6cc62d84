/**
 * Serves files under one directory. Containment is checked twice: by name (no `..` segment, no
 * control characters, bounded length; a leading '/' is taken as the root, as tftp-hpa's -s does)
 * and by the real path after symlinks (a symlink pointing out of the root is refused). Only
 * regular files are served: devices and FIFOs are refused (reading /dev/zero would never end).
 */
import { createReadStream, openSync, constants as fsc } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { FileCache } from './cache.js';
import { accessViolation, type FileHandler, type TftpFile } from './files.js';

export interface StaticRootOptions {
  root: string;
  /** Small hot files from memory; omit to always stream from disk. */
  cache?: FileCache;
  /** Longest file name accepted. Default 255. */
  maxNameLength?: number;
}

/**
 * Splits a requested name into safe path segments, or throws a TftpError (access violation)
 * naming why. Backslashes count as separators (some PXE loaders send DOS-style names).
 */
export function safeSegments(name: string, maxNameLength = 255): string[] {
  if (name.length > maxNameLength) throw accessViolation(`file name longer than ${maxNameLength} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) throw accessViolation('control character or NUL in file name');
  const segs: string[] = [];
  for (const s of name.split(/[/\\]+/)) {
    if (s === '' || s === '.') continue;
    if (s === '..') throw accessViolation('".." in file name');
    segs.push(s);
  }
  if (segs.length === 0) throw accessViolation('empty file name');
  return segs;
}

export async function createStaticRoot(opts: StaticRootOptions): Promise<FileHandler> {
  const root = await realpath(opts.root).catch((e: Error) => {
    throw new Error(`tftp.root: ${opts.root}: ${e.message}`);
  });
  const rootSt = await stat(root);
  if (!rootSt.isDirectory()) throw new Error(`tftp.root: ${opts.root}: not a directory`);
  const prefix = root.endsWith(sep) ? root : root + sep;
  return async (name) => {
    const segs = safeSegments(name, opts.maxNameLength);
    let real: string;
    try {
      real = await realpath(join(root, ...segs));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return null;
      throw e;
    }
    if (!real.startsWith(prefix)) throw accessViolation('file is outside the TFTP root');
    const st = await stat(real);
    if (st.isDirectory()) return null;
    if (!st.isFile()) throw accessViolation('not a regular file');
    const data = opts.cache ? await opts.cache.get(real, st) : null;
    if (data) return { size: data.length, data } satisfies TftpFile;
    // O_NOFOLLOW: the checked real path must not have become a symlink since.
    const openFd = () => openSync(real, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    return {
      size: st.size,
      open: () => createReadStream(real, { fd: openFd(), highWaterMark: 1 << 20 }),
      openFd,
    } satisfies TftpFile;
  };
}
