/**
 * What the boot side (DHCP, TFTP, HTTP boot) needs to know about a node and its image. The server
 * builds these from its store; pxe/ code only reads them (it never imports the store).
 */

export type BootMode = 'ipxe' | 'pxelinux';

/** A registered node as the boot side sees it. MAC normalised (lowercase, colons), FQDN lowercase. */
export interface BootNode {
  mac: string;
  fqdn: string;
  /** Reserved IPv4 address. */
  ipv4: string;
  bootMode: BootMode;
  enabled: boolean;
  /** Extra kernel arguments of the node (win over the image's). */
  kernelArgs: string;
  /** Image name, or null when the node has none yet. */
  image: string | null;
  /** Where it keeps its state: 'nfs' = its state directory on netroot (exported to ipv4 only). */
  stateMode?: 'nfs' | 'local';
}

/** The image version a node boots: files on the server and the NFS root it mounts. */
export interface BootImage {
  name: string;
  version: string;
  /** Absolute paths on the netroot server. */
  kernelPath: string;
  initrdPath: string;
  /** Exported path of the read-only root, e.g. /var/lib/netroot/images/centos/3/root */
  rootPath: string;
  /** Image-wide kernel arguments. */
  kernelArgs: string;
}

/** Everything decided for one node at boot time. */
export interface BootTarget {
  node: BootNode;
  /**
   * null when the node's image has no published version yet, or (a version was asked for) when
   * that version is not a ready version of the node's image (removed, failed, another image's).
   */
  image: BootImage | null;
  /** The version asked for, when one was (for the refusal message). */
  requestedVersion?: string;
}

/**
 * The one question every boot front end asks: what does this MAC boot? null = stay silent.
 *
 * One boot = one version. The boot script (or pxelinux config) is made from `lookup(mac)`: the
 * node's pinned or its image's active version at that moment. Every later fetch of that boot
 * names the version it was given, and `lookup(mac, version)` resolves exactly that version (any
 * ready version of the node's image), so a publish or rollback in the middle of a boot cannot
 * hand one node a kernel, an initramfs and a root from different versions.
 */
export interface BootDirectory {
  lookup(mac: string, version?: string): Promise<BootTarget | null>;
}
