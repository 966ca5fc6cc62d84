/**
 * Kernel command line for a node: netroot's own arguments first (NFS root, read-only, network),
 * then the image's, then the node's (node wins on a duplicate key). netroot's own keys are
 * reserved: image or node args that set them are refused with a clear error, so no node can
 * point its root elsewhere with a second `root=`.
 */
import { isIP } from 'node:net';
import { pxelinuxName } from '../net/mac.js';
import type { BootImage, BootNode } from './types.js';

export interface CmdlineOptions {
  /** dracut root syntax: `nfs:` (version negotiated) or `nfs4:`. Default 'nfs'. */
  nfs?: 'nfs' | 'nfs4';
  /** NFS mount options appended to root= after a colon (dracut), e.g. "vers=4.2". */
  nfsOptions?: string;
  /**
   * 'dhcp': ip=dhcp. 'bootif': ip=dhcp plus BOOTIF=01-<mac>, so dracut configures the interface
   * the node booted from (pxelinux's IPAPPEND 2 form). Default 'dhcp'.
   */
  ip?: 'dhcp' | 'bootif';
  /** `initrd=<name>` first: the EFI stub needs it to find the initrd under UEFI (docs/lab.md, trap 11). */
  initrdName?: string | null;
  /** Longest command line accepted (x86 COMMAND_LINE_SIZE is 2048). Default 2048. */
  maxLength?: number;
  /** host:port the node reports "booted" to (netroot.server=); the image's booted.conf otherwise. */
  reportTo?: string;
}

export class KernelArgsError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'KernelArgsError';
  }
}

/**
 * Keys netroot sets on every command line; image or node args may not give them. Linux treats
 * '-' and '_' in parameter names alike. The netroot.* keys tell the node who it is and what it
 * booted, read by the image's units (portable readonly-root, booted report):
 *   netroot.fqdn     the registered FQDN: the state directory's name, whatever DHCP said
 *   netroot.image    image name and version of this boot (one boot = one version), reported
 *   netroot.version  back with "booted" so netroot knows which version the node runs
 *   netroot.server   host:port of netroot's HTTP server, where the report goes
 */
export const RESERVED_KERNEL_KEYS = [
  'root', 'nfsroot', 'netroot', 'ip', 'BOOTIF', 'initrd', 'rd.neednet', 'ro', 'rw',
  'netroot.fqdn', 'netroot.image', 'netroot.version', 'netroot.server',
] as const;
const RESERVED = new Set(RESERVED_KERNEL_KEYS.map(keyOf));

function keyOf(token: string): string {
  const eq = token.indexOf('=');
  return (eq < 0 ? token : token.slice(0, eq)).replace(/-/g, '_');
}

/**
 * Splits and checks one source of arguments. Refused: quotes, backslashes, '$' (iPXE expands
 * ${...} in script lines), '|' and '&' (iPXE's || and && operators), control and non-ASCII
 * characters, and reserved keys.
 */
export function parseKernelArgs(field: string, args: string): string[] {
  const tokens = args.split(/[ \t]+/).filter((t) => t.length > 0);
  for (const t of tokens) {
    // eslint-disable-next-line no-control-regex
    if (/[^\x21-\x7e]/.test(t)) throw new KernelArgsError(field, `argument ${JSON.stringify(t)}: control or non-ASCII character`);
    if (/["'\\$|&]/.test(t)) throw new KernelArgsError(field, `argument ${JSON.stringify(t)}: quotes, \\, $, | and & are not allowed`);
    const key = t.split('=')[0]!;
    if (!/^[A-Za-z0-9_.\-/]+$/.test(key)) throw new KernelArgsError(field, `argument ${JSON.stringify(t)}: bad parameter name`);
    if (RESERVED.has(keyOf(t))) throw new KernelArgsError(field, `argument ${JSON.stringify(t)}: ${key} is set by netroot and cannot be given here`);
  }
  return tokens;
}

/** Image args, minus the keys the node sets, then the node's args (node wins). */
export function mergeArgs(imageArgs: string[], nodeArgs: string[]): string[] {
  const nodeKeys = new Set(nodeArgs.map(keyOf));
  return [...imageArgs.filter((t) => !nodeKeys.has(keyOf(t))), ...nodeArgs];
}

function checkServer(server: string): void {
  if (isIP(server) === 0 && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(server)) {
    throw new KernelArgsError('server', `not an IP address or host name: ${JSON.stringify(server)}`);
  }
}

export function kernelCmdline(target: { node: BootNode; image: BootImage }, server: string, opts: CmdlineOptions = {}): string {
  checkServer(server);
  const { node, image } = target;
  if (!image.rootPath.startsWith('/') || /[\s:,"'\\$|&]/.test(image.rootPath)) {
    throw new KernelArgsError('image.rootPath', `must be an absolute path without blanks, ':' or ',': ${JSON.stringify(image.rootPath)}`);
  }
  const nfsOptions = opts.nfsOptions ?? '';
  if (/[\s:"'\\$|&]/.test(nfsOptions)) throw new KernelArgsError('nfsOptions', `bad characters in ${JSON.stringify(nfsOptions)}`);
  const own: string[] = [];
  if (opts.initrdName) {
    if (!/^[A-Za-z0-9._-]+$/.test(opts.initrdName)) throw new KernelArgsError('initrdName', `bad name ${JSON.stringify(opts.initrdName)}`);
    own.push(`initrd=${opts.initrdName}`);
  }
  own.push(`root=${opts.nfs ?? 'nfs'}:${server}:${image.rootPath}${nfsOptions ? `:${nfsOptions}` : ''}`, 'ro', 'ip=dhcp');
  if (opts.ip === 'bootif') own.push(`BOOTIF=${pxelinuxName(node.mac)}`);
  own.push('rd.neednet=1');
  if (!/^[a-z0-9.-]+$/.test(node.fqdn)) throw new KernelArgsError('node.fqdn', `not a host name: ${JSON.stringify(node.fqdn)}`);
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(image.name) || !/^[a-z0-9][a-z0-9._-]*$/.test(image.version)) {
    throw new KernelArgsError('image', `image or version name not plain: ${JSON.stringify(`${image.name}/${image.version}`)}`);
  }
  own.push(`netroot.fqdn=${node.fqdn}`, `netroot.image=${image.name}`, `netroot.version=${image.version}`);
  if (opts.reportTo !== undefined) {
    if (!/^[A-Za-z0-9.[\]:-]+:\d{1,5}$/.test(opts.reportTo)) throw new KernelArgsError('reportTo', `not host:port: ${JSON.stringify(opts.reportTo)}`);
    own.push(`netroot.server=${opts.reportTo}`);
  }
  const merged = mergeArgs(parseKernelArgs('image.kernelArgs', image.kernelArgs), parseKernelArgs('node.kernelArgs', node.kernelArgs));
  const line = [...own, ...merged].join(' ');
  const max = opts.maxLength ?? 2048;
  if (line.length > max) throw new KernelArgsError('kernelArgs', `command line is ${line.length} characters, more than ${max}`);
  return line;
}
