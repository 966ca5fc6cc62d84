/**
 * SSH host keys per image policy. `state` (the default): the image carries empty placeholders
 * (the golden host's private keys never reach the images tree, which NFS exports), statetab bind
 * mounts each key file from the node's state directory, and netroot-hostkeys.service generates
 * them there on the node's first boot. `keep`, an explicit choice: every node shares the golden
 * host's keys, so any node (or anyone who reads the image) can impersonate every other.
 */
import { kindIn, listIn, readIn, writeIn } from './rootfs.js';
import type { HostKeyPolicy } from '../types.js';

const KEY_RE = /^ssh_host_(\w+)_key(\.pub)?$/;

export interface HostKeyResult {
  changed: string[];
  /** Paths the policy adds to statetab. */
  statetab: string[];
}

export async function applyHostKeyPolicy(root: string, policy: HostKeyPolicy): Promise<HostKeyResult> {
  if (policy === 'keep') return { changed: [], statetab: [] };
  const names = (await listIn(root, '/etc/ssh')).filter((n) => KEY_RE.test(n));
  const changed: string[] = [];
  const statetab: string[] = [];
  for (const n of names) {
    const rel = `/etc/ssh/${n}`;
    statetab.push(rel);
    // Placeholder: a bind mount needs a target on the read-only root. Written by rename, so a
    // key hard-linked into an earlier version (rsync --link-dest) stays there untouched.
    if ((await kindIn(root, rel)) === 'file' && (await readIn(root, rel)) === '') continue;
    await writeIn(root, rel, '', n.endsWith('.pub') ? 0o644 : 0o600);
    changed.push(rel);
  }
  return { changed, statetab };
}
