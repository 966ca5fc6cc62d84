/**
 * Crash-safe replacement of a whole file: write a temp file in the same directory, fsync it,
 * rename it over the target (atomic within one filesystem), fsync the directory so the rename
 * itself is durable. A kill -9 at any point leaves the complete old or the complete new file.
 *
 * Temp names start with `.` and end in `.tmp`, never `.exports`/`.conf`: exportfs reads every
 * `*.exports` file in /etc/exports.d, so a leftover temp must not look like one.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

function tempPrefix(path: string): string {
  return `.${basename(path)}.`;
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function writeFileAtomic(path: string, content: string | Buffer, mode = 0o644): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `${tempPrefix(path)}${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  try {
    try {
      await fh.writeFile(content);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fsyncDir(dir);
}

/** Puts a file back as it was: `null` means it did not exist, so it is removed. */
export async function restoreFile(path: string, previous: string | null, mode = 0o644): Promise<void> {
  if (previous !== null) return writeFileAtomic(path, previous, mode);
  try {
    await unlink(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await fsyncDir(dirname(path));
}

export async function readFileOrNull(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Removes temp files a crashed writer left beside `path`; returns their names. */
export async function removeStaleTemps(path: string): Promise<string[]> {
  const prefix = tempPrefix(path);
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return [];
  }
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  };
  // Only temps of dead writers: a live one may be mid-write.
  const stale = names.filter((n) => {
    if (!n.startsWith(prefix) || !n.endsWith('.tmp')) return false;
    const pid = Number(n.slice(prefix.length).split('.')[0]);
    return !Number.isInteger(pid) || pid <= 0 || !alive(pid);
  });
  for (const n of stale) await unlink(join(dirname(path), n)).catch(() => undefined);
  return stale;
}
