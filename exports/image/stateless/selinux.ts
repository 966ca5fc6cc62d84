/**
 * SELinux on an NFS root, per image: `permissive` (the default), `disabled` or `enforcing`.
 *
 * What a node's mounts are labelled: an NFS mount without security labels gets the policy's
 * default for NFS, nfs_t, for every file (Red Hat, RHEL 7 SELinux User's and Administrator's
 * Guide 4.9.1 "Context Mounts": "By default, NFS mounts on the client side are labeled with a
 * default context defined by policy for NFS volumes. In common policies, this default context uses
 * the nfs_t type"). netroot's exports carry no labels (kernel nfsd without `security_label`,
 * Ganesha alike), so on a node the whole root (every binary, every configuration file) and the
 * state mount are nfs_t: no domain transitions happen and confined services are denied their own
 * files. Enforcing does not boot usefully, and nothing smaller fixes that:
 * - `context=`/`fscontext=` give one label to every file of a mount: no use for a root, and RHEL's
 *   readonly-root mounts the state with fixed options (`mount -t nfs ... -o rw,nolock`, no
 *   STATE_OPTIONS: fedora-sysv/initscripts usr/libexec/readonly-root);
 * - the NFS booleans do not cover a root: use_nfs_home_dirs lets user domains use nfs_t home
 *   directories; nfs_export_all_ro/rw are the NFS server's (nfsd_selinux(8)).
 * Red Hat's way to an enforcing diskless client is labeled NFS (NFSv4.2 security labels exported
 * by the server); CentOS Stream 9 kernel MR 2865 (BZ 2218207) fixed labels of an NFS root "mounted
 * before SELinux loads (for example, root FS in diskless clients)". A site that serves its roots
 * that way can choose `enforcing`; netroot's own exports cannot.
 *
 * readonly-root itself runs `restorecon -R` on every path it binds when SELinux is on (its
 * selinux_fixup), so permissive keeps the labels of the RAM copies right and logs what enforcing
 * would refuse. `disabled` writes SELINUX=disabled and the boot adds selinux=0 to the kernel
 * command line (server/boot/directory.ts): since RHEL 9 the kernel cannot disable SELinux at run
 * time (kernel-ark MR 685, CONFIG_SECURITY_SELINUX_DISABLE off "inherited in RHEL-9"), and the
 * configuration file alone only leaves it without a policy.
 */
import { kindIn, readIn, writeIn } from './rootfs.js';
import type { SelinuxMode } from '../types.js';

export const SELINUX_CONFIG = '/etc/selinux/config';

/** SELINUX= of a config file's text (null when absent). */
export function selinuxMode(text: string): string | null {
  let mode: string | null = null;
  for (const line of text.split('\n')) {
    const m = /^\s*SELINUX\s*=\s*"?([A-Za-z]+)"?\s*(?:#.*)?$/.exec(line);
    if (m) mode = m[1]!.toLowerCase();
  }
  return mode;
}

/** The config with its SELINUX= line(s) set to mode; every other line kept. */
export function setSelinuxMode(text: string, mode: SelinuxMode): string {
  let done = false;
  const lines = text.split('\n').map((line) => {
    if (!/^\s*SELINUX\s*=/.test(line)) return line;
    if (done) return null;
    done = true;
    return `SELINUX=${mode}`;
  }).filter((l): l is string => l !== null);
  if (!done) {
    if (lines.length && lines[lines.length - 1] === '') lines.splice(lines.length - 1, 0, `SELINUX=${mode}`);
    else lines.push(`SELINUX=${mode}`);
  }
  return lines.join('\n');
}

export interface SelinuxResult {
  changed: string[];
  /** What the golden host's copy said (null: no SELinux configuration in this root). */
  golden: string | null;
  /** One line for the pull log, or null when the root has no SELinux. */
  note: string | null;
}

/** Sets the image's mode in its /etc/selinux/config; a root without one (Debian) is left alone. */
export async function applySelinux(root: string, mode: SelinuxMode): Promise<SelinuxResult> {
  if ((await kindIn(root, SELINUX_CONFIG)) !== 'file') return { changed: [], golden: null, note: null };
  const text = (await readIn(root, SELINUX_CONFIG)) ?? '';
  const golden = selinuxMode(text);
  const next = setSelinuxMode(text, mode);
  const changed = next === text ? [] : [SELINUX_CONFIG];
  if (changed.length) await writeIn(root, SELINUX_CONFIG, next, 0o644);
  const why = 'netroot\'s NFS exports carry no SELinux labels: the root and the state mount are nfs_t on the node';
  let note: string;
  if (mode === 'enforcing') note = `selinux: enforcing (golden host: ${golden ?? 'unset'}); ${why}, so confined services will be denied their files unless the root is served as labeled NFS`;
  else if (golden === 'enforcing') note = `selinux: the golden host is enforcing; the image boots ${mode} because ${why}`;
  else note = `selinux: ${mode} (golden host: ${golden ?? 'unset'})`;
  return { changed, golden, note };
}
