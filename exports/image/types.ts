/** What an image is and what a version of it is, as the pipeline sees them (the server stores them). */

/** Where a node keeps its persistent state (seed: "Disks"). */
export type StateMode =
  /** Diskless: CLIENTSTATE=<server>:<stateExport>, one <fqdn> directory per node inside. */
  | { kind: 'diskless'; server: string; stateExport: string }
  /** Local disk: two labelled partitions (seed defaults stateless-rw / stateless-state). */
  | { kind: 'local'; rwLabel: string; stateLabel: string };

/** SSH host keys: `state` (default) = per node, in its state dir; `keep` = the golden host's set, shared by every node. */
export type HostKeyPolicy = 'keep' | 'state';

/** rwtab line types (RHEL readonly-root): empty dir, dir tree without files, full copy. */
export type RwtabType = 'dirs' | 'files' | 'empty';
export interface RwtabEntry {
  type: RwtabType;
  path: string;
}

/** SELinux mode of the image (stateless/selinux.ts): on netroot's unlabeled NFS, enforcing cannot work. */
export type SelinuxMode = 'permissive' | 'disabled' | 'enforcing';

/** Where dracut runs: on the golden host over SSH (the seed's way) or in the new root (chroot). */
export type InitramfsWhere = 'golden' | 'chroot';

export interface ImageSettings {
  /** Image name (validated by validateImageName). */
  name: string;
  /** Golden host name (a registered host). */
  host: string;
  /** rsync excludes beyond the seed's, e.g. "/var/cache/dnf/*". */
  excludes: string[];
  rwtab: RwtabEntry[];
  statetab: string[];
  kernelArgs: string;
  /** Kernel modules added to the initramfs (dracut --add-drivers). */
  drivers: string[];
  state: StateMode;
  hostKeys: HostKeyPolicy;
  /** Default 'permissive'; applied only to roots with /etc/selinux/config. */
  selinux?: SelinuxMode;
  initramfs: InitramfsWhere;
  /** Kernel version to boot; default: the newest one with both /lib/modules/<v> and /boot/vmlinuz-<v>. */
  kernel?: string;
}

export type VersionState = 'building' | 'ready' | 'failed';

export interface VersionRecord {
  image: string;
  version: string;
  state: VersionState;
  createdAt: string;
  /** Kernel version the initramfs was built for (when known). */
  kernel?: string;
  error?: string;
  /** True when the failed version's partial tree was kept for inspection. */
  kept?: boolean;
}
