/**
 * SSH host keys per image policy. `keep`: every node shares the golden host's keys (simple; nodes
 * are interchangeable to ssh clients). `state`: the image carries empty placeholders, statetab
 * bind mounts each key file from the node's state directory, and the first boot generates them
 * there (RHEL's sshd-keygen does so for empty files; netroot's portable unit does the same).
 */
import { listIn, writeIn } from './rootfs.js';
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
    // Placeholder: a bind mount needs a target on the read-only root.
    await writeIn(root, rel, '', n.endsWith('.pub') ? 0o644 : 0o600);
    changed.push(rel);
    statetab.push(rel);
  }
  return { changed, statetab };
}
