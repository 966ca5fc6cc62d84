/**
 * rpm's SQLite database (EL9 and later: `rpmdb.sqlite`) made readable on a read-only NFS root.
 *
 * rpm keeps that database in WAL mode and leaves `rpmdb.sqlite-shm` and `-wal` beside it. A
 * WAL database can be read on read-only media only through an existing, usable -shm file
 * (sqlite.org/wal.html, "Read-Only Databases"); rpm's maintainer on rpm-software-management/rpm
 * issue 2219: the -shm "is required for read-only WAL mode to work at all", while after
 * `PRAGMA journal_mode=DELETE` the database "can still be opened by rpm, regular users and all"
 * (rpm re-enables WAL only when it opens the database read-write, which a read-only root never
 * allows). WAL also needs shared memory among all its readers, which SQLite does not support
 * over a network filesystem. Without the -shm (go-rpmdb issue 56) `rpm -qa` fails with "attempt
 * to write a readonly database". So a pull switches the image's copy to the rollback journal:
 * the WAL's committed frames are checkpointed into the file and -wal and -shm are removed.
 *
 * The file is converted as a copy and renamed into place: a new version's files are hard links
 * into the previous version's (rsync --link-dest), which must not change. The golden host's own
 * database is never touched.
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { chmod, chown, copyFile, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { kindIn, removeIn, resolveInRoot } from './rootfs.js';

/** Where rpm keeps its database: EL's path, and Fedora's since rpm 4.17 (EL10). */
export const RPMDB_DIRS = ['/var/lib/rpm', '/usr/lib/sysimage/rpm'];

const MAGIC = 'SQLite format 3\0';

/**
 * True for a SQLite database in WAL mode: header bytes 18 and 19 (file format write and read
 * versions) are 2 for WAL, 1 for the rollback journal (sqlite.org/fileformat2.html, 1.3.3).
 */
export async function isWalDatabase(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(20);
    const { bytesRead } = await fh.read(b, 0, 20, 0);
    return bytesRead === 20 && b.toString('latin1', 0, 16) === MAGIC && (b[18] === 2 || b[19] === 2);
  } finally {
    await fh.close();
  }
}

/** Cleanup step: the root's rpmdb.sqlite in rollback-journal mode, -wal and -shm gone. */
export async function rpmdbToRollbackJournal(root: string): Promise<string[]> {
  const changed: string[] = [];
  const done = new Set<string>();
  for (const dir of RPMDB_DIRS) {
    const rel = `${dir}/rpmdb.sqlite`;
    if ((await kindIn(root, rel)) !== 'file') continue;
    const real = await resolveInRoot(root, rel);
    if (done.has(real)) continue; // /var/lib/rpm -> ../../usr/lib/sysimage/rpm
    done.add(real);
    if (await isWalDatabase(real)) {
      await convertCopy(real, (await kindIn(root, `${rel}-wal`)) === 'file');
      changed.push(rel);
    }
    for (const s of ['-wal', '-shm']) if (await removeIn(root, `${rel}${s}`)) changed.push(`${rel}${s}`);
  }
  return changed;
}

async function convertCopy(real: string, withWal: boolean): Promise<void> {
  const tmp = join(dirname(real), `.netroot-rpmdb-${randomBytes(6).toString('hex')}.sqlite`);
  try {
    const st = await stat(real);
    await copyFile(real, tmp);
    // The WAL's frames are committed transactions not yet in the main file: they come along.
    if (withWal) await copyFile(`${real}-wal`, `${tmp}-wal`);
    const db = new Database(tmp, { fileMustExist: true });
    try {
      // The file comes from the golden host: nothing in its schema runs here.
      db.pragma('trusted_schema = OFF');
      const mode = db.pragma('journal_mode = DELETE', { simple: true });
      if (mode !== 'delete') throw new Error(`journal_mode stayed ${String(mode)}`);
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new Error(`quick_check: ${String(check)}`);
    } finally {
      db.close();
    }
    await chown(tmp, st.uid, st.gid);
    await chmod(tmp, st.mode & 0o7777);
    await rename(tmp, real);
  } catch (e) {
    throw new Error(`rpm database ${real}: cannot switch it to the rollback journal: ${(e as Error).message}`);
  } finally {
    for (const s of ['', '-wal', '-shm', '-journal']) await rm(`${tmp}${s}`, { force: true });
  }
}
