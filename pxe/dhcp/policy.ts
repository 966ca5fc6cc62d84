/**
 * Boot-file policy: which loader a client gets, from its firmware (RFC 4578 option 93), whether it
 * is already iPXE (user class 77 "iPXE") and the node's boot mode. Pure.
 */
import type { BootMode } from '../boot/types.js';
import { Arch, Opt } from './constants.js';
import type { DhcpPacket } from './packet.js';

export interface ClientFirmware {
  /** First RFC 4578 arch; null when option 93 is absent (legacy BIOS PXE and plain DHCP clients). */
  arch: number | null;
  /** iPXE identifies itself with user class "iPXE" (or by sending its option 175). */
  ipxe: boolean;
  /** Option 60 starts with "PXEClient" (PXE 2.1). */
  pxe: boolean;
  vendorClass: string | null;
  userClass: string | null;
  uuid: string | null;
}

/**
 * RFC 3004 user class is a list of length-prefixed strings, but iPXE sends the bare string "iPXE".
 * Returns the classes either way.
 */
export function userClasses(raw: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < raw.length) {
    const len = raw.charCodeAt(i);
    if (len === 0 || i + 1 + len > raw.length) return [raw];
    out.push(raw.slice(i + 1, i + 1 + len));
    i += 1 + len;
  }
  return out;
}

export function clientFirmware(p: DhcpPacket): ClientFirmware {
  const arches = p.options.get(Opt.ClientArch);
  const vendorClass = p.options.get(Opt.VendorClassId) ?? null;
  const userClass = p.options.get(Opt.UserClass) ?? null;
  const uuid = p.options.get(Opt.ClientUuid);
  return {
    arch: arches?.[0] ?? null,
    ipxe: (userClass !== null && userClasses(userClass).includes('iPXE')) || p.options.has(Opt.IpxeEncap),
    pxe: vendorClass?.startsWith('PXEClient') ?? false,
    vendorClass,
    userClass,
    uuid: uuid ? uuid.uuid : null,
  };
}

export interface BootFilePolicy {
  bootFiles: Record<number, string>;
  pxelinuxFiles: Record<number, string>;
  httpBase: string;
}

/** The boot file for this client, or null when none fits its architecture (then no file is sent). */
export function chooseBootFile(fw: ClientFirmware, mac: string, bootMode: BootMode | null, policy: BootFilePolicy, serverId: string): string | null {
  // A client without option 93 is treated as legacy BIOS (RFC 4578 2.1: the option is optional for x86 BIOS).
  const arch = fw.arch ?? Arch.BiosX86;
  if (bootMode === 'pxelinux' && policy.pxelinuxFiles[arch] !== undefined) return policy.pxelinuxFiles[arch]!;
  // Already iPXE: hand it its script over HTTP, else it would chainload undionly.kpxe forever.
  if (fw.ipxe) return `${policy.httpBase.replace('{server}', serverId)}/boot/${mac}.ipxe`;
  return policy.bootFiles[arch] ?? null;
}
