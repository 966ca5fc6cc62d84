/**
 * pxelinux.cfg/01-<mac> for nodes in pxelinux mode. Paths are relative to pxelinux.0's directory
 * and use the MAC with dashes: pxelinux 6 reads "word:" as a URL scheme, so no colons.
 */
import { pxelinuxName } from '../net/mac.js';
import { kernelCmdline, type CmdlineOptions } from './cmdline.js';
import type { BootDecision } from './decision.js';
import { INITRD_NAME, KERNEL_NAME } from './ipxe.js';

export interface PxelinuxOptions {
  nfsServer: string;
  cmdline?: Omit<CmdlineOptions, 'initrdName'>;
}

/**
 * TFTP path of a node's kernel or initrd for pxelinux: boot/01-aa-bb-cc-dd-ee-ff/<version>/vmlinuz.
 * The version is fixed when the config is made (one boot = one version), as in iPXE's URLs.
 */
export function pxelinuxFilePath(mac: string, version: string, file: string): string {
  return `boot/${pxelinuxName(mac)}/${version}/${file}`;
}

/** The config file name pxelinux asks for first. */
export function pxelinuxConfigPath(mac: string): string {
  return `pxelinux.cfg/${pxelinuxName(mac)}`;
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9 .,:/()_@+=-]/g, '_');

/** Boot from the local disk instead, after saying why. */
export function renderPxelinuxRefusal(message: string): string {
  return ['DEFAULT local', 'PROMPT 0', 'TIMEOUT 0', `SAY netroot: ${safe(message)}`, 'LABEL local', '  LOCALBOOT 0', ''].join('\n');
}

export function renderPxelinuxConfig(d: BootDecision, opts: PxelinuxOptions): string {
  if (!d.boot) return renderPxelinuxRefusal(d.message);
  const { node, image } = d;
  // pxelinux passes initrd= itself for the INITRD line.
  const cmdline = kernelCmdline(d, opts.nfsServer, { ...opts.cmdline, initrdName: null });
  return [
    `# netroot: ${safe(node.fqdn)} (${node.mac}) image ${safe(image.name)} version ${safe(image.version)}`,
    'DEFAULT netroot',
    'PROMPT 0',
    'TIMEOUT 0',
    'LABEL netroot',
    `  KERNEL ${pxelinuxFilePath(node.mac, image.version, KERNEL_NAME)}`,
    `  INITRD ${pxelinuxFilePath(node.mac, image.version, INITRD_NAME)}`,
    `  APPEND ${cmdline}`,
    '',
  ].join('\n');
}
