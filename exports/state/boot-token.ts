/**
 * The per-boot report token in the node's own state directory: `state/<fqdn>/.netroot-boot-token`
 * (0600). The state directory is exported read-write to the node's address alone, so the node,
 * and only it, can read the token and send it with its "booted" report when the report cannot be
 * told by its address.
 *
 * The node is root in that directory (no_root_squash) and may plant a symlink or a directory
 * under the token's name to make netroot write elsewhere. So: the node's directory itself must be
 * a plain directory (the node cannot replace it: its parent is not exported); the token goes to a
 * fresh temporary name opened with O_CREAT|O_EXCL|O_NOFOLLOW (a planted link makes that fail,
 * never followed); rename() then replaces the final name's directory entry without following it.
 */
import { constants } from 'node:fs';
import { lstat, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { validateExportPath, validateFqdn } from '../nfs/validate.js';
import { StateDirError } from './errors.js';

export const BOOT_TOKEN_FILE = '.netroot-boot-token';

/** Writes the token; false when the node has no state directory (nothing to write into). */
export async function writeBootToken(stateDir: string, fqdn: string, token: string, owner?: { uid: number; gid: number }): Promise<boolean> {
  if (!/^[A-Za-z0-9_-]{16,128}$/.test(token)) throw new StateDirError('STATE_INPUT', 'token', 'a boot token is 16-128 URL-safe characters');
  const dir = join(validateExportPath(stateDir, 'stateDir'), validateFqdn(fqdn, 'fqdn'));
  const st = await lstat(dir).catch(() => null);
  if (!st) return false;
  if (st.isSymbolicLink() || !st.isDirectory()) throw new StateDirError('STATE_UNSAFE', 'fqdn', `${dir} is not a plain directory`);
  const tmp = join(dir, `${BOOT_TOKEN_FILE}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    await fh.writeFile(`${token}\n`);
    if (owner) await fh.chown(owner.uid, owner.gid);
    await fh.chmod(0o600);
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, join(dir, BOOT_TOKEN_FILE));
  } catch (e) {
    // EISDIR/ENOTEMPTY: the node put a directory there; its report then goes by address only.
    await unlink(tmp).catch(() => undefined);
    throw new StateDirError('STATE_UNSAFE', 'fqdn', `cannot place ${BOOT_TOKEN_FILE} in ${dir}: ${(e as Error).message}`);
  }
  return true;
}
