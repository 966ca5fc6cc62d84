/**
 * Per-node iPXE scripts. Debian's iPXE is a 2019 build (docs/lab.md, trap 9): HTTP only, so the
 * base URL must be http://. The kernel and initrd URLs end in "vmlinuz" and "initrd.img", which
 * iPXE takes as the image names, so `initrd=initrd.img` on the command line finds the initrd under
 * UEFI (trap 11).
 */
import { kernelCmdline, type CmdlineOptions } from './cmdline.js';
import type { BootDecision } from './decision.js';

export interface IpxeOptions {
  /** e.g. "http://10.0.0.1:8080" (no trailing slash needed). */
  baseUrl: string;
  /** Address of the NFS server in root= (usually netroot itself). */
  nfsServer: string;
  cmdline?: Omit<CmdlineOptions, 'initrdName'>;
}

export const KERNEL_NAME = 'vmlinuz';
export const INITRD_NAME = 'initrd.img';

/** Text safe on an iPXE echo line: no ${...} expansion, no operators. */
export function ipxeText(s: string): string {
  return s.replace(/[^A-Za-z0-9 .,:/()_@+=-]/g, '_');
}

export function bootBase(baseUrl: string): string {
  if (!/^http:\/\/[^\s/$]+(\/[^\s$]*)?$/.test(baseUrl)) {
    throw new RangeError(`baseUrl: must be an http:// URL (Debian's iPXE has no HTTPS): ${JSON.stringify(baseUrl)}`);
  }
  return baseUrl.replace(/\/+$/, '');
}

/** URL of a node's file under /boot (MAC in normal form). */
export function bootUrl(baseUrl: string, mac: string, file: string): string {
  return `${bootBase(baseUrl)}/boot/${mac}/${file}`;
}

/**
 * URL of a file of one image version for a node: /boot/<mac>/<version>/vmlinuz. The version is
 * fixed when the script is made and carried in every URL of that boot (one boot = one version).
 */
export function versionFileUrl(baseUrl: string, mac: string, version: string, file: string): string {
  return bootUrl(baseUrl, mac, `${encodeURIComponent(version)}/${file}`);
}

/** The script for a node that boots, or the short "why not" script (prints and exits). */
export function renderIpxeScript(d: BootDecision, opts: IpxeOptions): string {
  if (!d.boot) return renderIpxeRefusal(d.message);
  const { node, image } = d;
  const cmdline = kernelCmdline(d, opts.nfsServer, { ...opts.cmdline, initrdName: INITRD_NAME, reportTo: opts.cmdline?.reportTo ?? reportHost(opts.baseUrl) });
  return [
    '#!ipxe',
    `# netroot: ${ipxeText(node.fqdn)} (${node.mac}) image ${ipxeText(image.name)} version ${ipxeText(image.version)}`,
    `echo netroot: booting ${ipxeText(node.fqdn)} with ${ipxeText(image.name)}/${ipxeText(image.version)}`,
    `kernel ${versionFileUrl(opts.baseUrl, node.mac, image.version, KERNEL_NAME)} ${cmdline} || goto failed`,
    `initrd ${versionFileUrl(opts.baseUrl, node.mac, image.version, INITRD_NAME)} || goto failed`,
    'boot || goto failed',
    ':failed',
    `echo netroot: boot of ${ipxeText(node.fqdn)} failed`,
    'exit 1',
    '',
  ].join('\n');
}

/** host:port of an http:// base URL: where the node reports "booted" (netroot.server=). */
export function reportHost(baseUrl: string): string {
  const u = new URL(bootBase(baseUrl));
  return `${u.hostname}:${u.port || '80'}`;
}

/** Unknown, disabled or image-less MAC: say why and leave iPXE (the firmware tries its next device). */
export function renderIpxeRefusal(message: string): string {
  return ['#!ipxe', `echo netroot: ${ipxeText(message)}`, 'echo netroot: not booting from the network', 'exit 1', ''].join('\n');
}
