/**
 * netroot's data directory holds secrets (token hashes in the database, the SSH private key, the
 * first admin token): it is created 0750 and the database files are 0600. A directory or database
 * file left looser by an older netroot (0755, 0644) is narrowed at start, with a warning; one that
 * belongs to another user is only reported. (NFS: the default exports are no_root_squash; with
 * root_squash over NFSv4 the squashed user must be let through this directory by its group.)
 */
import { chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';

export const DATA_DIR_MODE = 0o750;
export const SECRET_FILE_MODE = 0o600;

const octal = (m: number) => `0${(m & 0o7777).toString(8)}`;

/** The data directory exists, nobody outside its group can enter it, its database files are 0600. */
export function prepareDataDir(dir: string, log: Logger): void {
  const st = statSync(dir, { throwIfNoEntry: false });
  if (!st) {
    mkdirSync(dirname(dir), { recursive: true });
    mkdirSync(dir, { mode: DATA_DIR_MODE });
    chmodSync(dir, DATA_DIR_MODE); // the umask may have taken more away than asked; never less
  } else if (!st.isDirectory()) {
    throw new Error(`dataDir: ${dir} is not a directory`);
  } else if (st.mode & 0o027) {
    narrow(dir, st.mode, (st.mode & 0o7777) & ~0o027, st.uid, log);
  }
  for (const name of readdirSync(dir)) {
    // netroot.db, its -wal and -shm, and copies a restore kept beside it.
    if (!name.startsWith('netroot.db')) continue;
    const f = join(dir, name);
    const fst = statSync(f, { throwIfNoEntry: false });
    if (fst?.isFile() && fst.mode & 0o077) narrow(f, fst.mode, SECRET_FILE_MODE, fst.uid, log);
  }
}

function narrow(path: string, mode: number, to: number, owner: number, log: Logger): void {
  if (process.getuid && owner !== process.getuid()) {
    log.warn({ path, mode: octal(mode) }, `${path} is open to other users (mode ${octal(mode)}) and belongs to another user: make it ${octal(to)}`);
    return;
  }
  chmodSync(path, to);
  log.warn({ path, was: octal(mode), now: octal(to) }, `narrowed ${path} from mode ${octal(mode)} to ${octal(to)}: it holds secrets`);
}
