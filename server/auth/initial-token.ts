/**
 * The first admin token goes to a file only root (or netroot's user) can read, never to stdout:
 * under systemd stdout is the journal, which keeps it and which more people read than the data
 * directory. Written atomically (temp file 0600, then rename), so the file is never seen half
 * written or with a looser mode.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const INITIAL_TOKEN_FILE = 'initial-admin-token';

/** Writes the secret to <dataDir>/initial-admin-token (mode 0600); returns the file's path. */
export function writeInitialToken(dataDir: string, secret: string): string {
  const file = join(dataDir, INITIAL_TOKEN_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  try {
    writeFileSync(tmp, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  return file;
}
