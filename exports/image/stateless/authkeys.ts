/**
 * netroot's own SSH key out of the image. The golden host authorises netroot's public key (root's
 * authorized_keys) so that it can pull; copied into the image, that line would make netroot's key
 * root on every node. Every authorized_keys file sshd would read is found (each user's home from
 * the root's /etc/passwd, every AuthorizedKeysFile pattern in its sshd_config, plus OpenSSH's
 * defaults) and the lines carrying the key are dropped; other keys stay.
 */
import { posix } from 'node:path';
import { lstat } from 'node:fs/promises';
import { listIn, readIn, resolveInRoot, writeIn } from './rootfs.js';

/** OpenSSH's default AuthorizedKeysFile. */
export const DEFAULT_AUTHORIZED_KEYS = ['.ssh/authorized_keys', '.ssh/authorized_keys2'];

export interface PasswdEntry {
  name: string;
  uid: number;
  home: string;
}

/** passwd(5) lines with an absolute home; others (NIS `+` lines, comments, garbage) are skipped. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 7 || !/^\d+$/.test(f[2]!) || !f[5]!.startsWith('/')) continue;
    out.push({ name: f[0]!, uid: Number(f[2]), home: f[5]! });
  }
  return out;
}

/** Every AuthorizedKeysFile value in sshd_config text (all of them, Match blocks included). */
export function parseAuthorizedKeysFile(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*AuthorizedKeysFile(?:\s*=\s*|\s+)(.*)$/i.exec(line);
    if (!m) continue;
    for (const w of m[1]!.replace(/\s+#.*$/, '').split(/\s+/)) {
      const v = w.replace(/^"(.*)"$/, '$1');
      if (v && v.toLowerCase() !== 'none') out.push(v);
    }
  }
  return out;
}

/** sshd_config(5) TOKENS for AuthorizedKeysFile; a relative result is taken from the user's home. */
export function expandAuthorizedKeysFile(pattern: string, user: PasswdEntry): string | null {
  let bad = false;
  const p = pattern.replace(/%(.)/g, (_, c: string) => {
    switch (c) {
      case '%': return '%';
      case 'h': return user.home;
      case 'u': return user.name;
      case 'U': return String(user.uid);
      default: bad = true; return '';
    }
  });
  if (bad) return null;
  return posix.normalize(p.startsWith('/') ? p : posix.join(user.home, p));
}

/** The base64 blob of an OpenSSH public key line (`type AAAA... comment`). */
export function keyBlob(publicKey: string): string {
  const b = publicKey.trim().split(/\s+/)[1];
  if (!b || !/^AAAA[A-Za-z0-9+/]+=*$/.test(b)) throw new Error(`netroot key: ${JSON.stringify(publicKey.slice(0, 40))} is not an OpenSSH public key`);
  return b;
}

/**
 * Drops every line that carries one of the blobs, whatever its options (`from="..." ssh-ed25519
 * AAAA... netroot`) or comment. A blob is matched as a whole word: a key with options quoting
 * spaces still has its blob as one word, and no other key's blob can equal it.
 */
export function dropKeys(text: string, blobs: ReadonlySet<string>): { text: string; dropped: number } {
  let dropped = 0;
  const kept = text.split('\n').filter((line) => {
    const hit = !line.trimStart().startsWith('#') && line.split(/\s+/).some((w) => blobs.has(w));
    if (hit) dropped++;
    return !hit;
  });
  return { text: kept.join('\n'), dropped };
}

/** Root-relative paths of the authorized_keys files sshd in this root could read. */
export async function authorizedKeysFiles(root: string): Promise<string[]> {
  const users = parsePasswd((await readIn(root, '/etc/passwd')) ?? '');
  if (!users.some((u) => u.uid === 0)) users.push({ name: 'root', uid: 0, home: '/root' });
  const conf = [await readIn(root, '/etc/ssh/sshd_config')];
  for (const n of await listIn(root, '/etc/ssh/sshd_config.d')) if (n.endsWith('.conf')) conf.push(await readIn(root, `/etc/ssh/sshd_config.d/${n}`));
  const patterns = [...new Set([...DEFAULT_AUTHORIZED_KEYS, ...conf.flatMap((t) => parseAuthorizedKeysFile(t ?? ''))])];
  const out = new Set<string>();
  for (const u of users) for (const p of patterns) {
    const path = expandAuthorizedKeysFile(p, u);
    if (path && path !== '/') out.add(path);
  }
  return [...out].sort();
}

/**
 * Removes the given public keys from every authorized_keys file of the root; returns the files
 * changed. A file that is a symlink inside the root is edited where it points; owner and mode stay
 * (sshd's StrictModes checks them).
 */
export async function removeAuthorizedKeys(root: string, publicKeys: readonly string[]): Promise<string[]> {
  if (publicKeys.length === 0) return [];
  const blobs = new Set(publicKeys.map(keyBlob));
  const changed: string[] = [];
  for (const rel of await authorizedKeysFiles(root)) {
    const real = await resolveInRoot(root, rel, true);
    const st = await lstat(real).catch(() => null);
    if (!st?.isFile()) continue;
    const realRel = `/${posix.relative(root, real)}`;
    if (changed.includes(realRel)) continue;
    const text = await readIn(root, realRel);
    if (text === null) continue;
    const r = dropKeys(text, blobs);
    if (r.dropped === 0) continue;
    await writeIn(root, realRel, r.text, st.mode & 0o7777, { uid: st.uid, gid: st.gid });
    changed.push(realRel);
  }
  return changed;
}
