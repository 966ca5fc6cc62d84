/**
 * The storm's fleet and addressing, for every server under test alike. Pure.
 *
 * One /16 between the server namespace and the client namespace: the server at 10.60.0.1,
 * registered nodes from 10.60.16.1, the DHCP pool for unknown MACs in 10.60.32.0/20. The client
 * namespace holds no address on its link (its DHCP goes out from 0.0.0.0, as firmware's does);
 * both node ranges are local routes on its loopback ("AnyIP"), so each simulated node binds its
 * TFTP and HTTP sockets to the address its DHCP server gave it and the server sees one peer per
 * node, ARP included.
 */
import { intToIp, ipToInt } from '../../pxe/net/ipv4.js';

export const CIDR = '10.60.0.0/16';
export const SERVER = '10.60.0.1';
export const PREFIX = 16;
/** Local routes in the client namespace: registered addresses, then the pool. */
export const KNOWN_RANGE = '10.60.16.0/20';
export const POOL_RANGE = '10.60.32.0/20';
const KNOWN_FIRST = '10.60.16.1';
/** The pool dnsmasq and netroot hand out: larger than any run needs, so neither fills up. */
export const POOL = { start: '10.60.32.1', end: '10.60.47.254' } as const;
export const DOMAIN = 'storm.example';
export const HTTP_PORT = 8080;
/** Names of the files every node fetches (the same bytes on both sides). */
export const LOADER_NAME = 'storm-loader.efi';
export const IMAGE = 'storm';
export const VERSION = '1';
/** RFC 4578 arch the simulated firmware announces: 7, as x64 UEFI firmware (OVMF among them) sends. */
export const ARCH = 7;
/** At most 4,000 nodes: the registered range (/20) holds 4,094 addresses. */
export const MAX_NODES = 4000;

export interface StormNode {
  index: number;
  mac: string;
  /** Registered with the server (a reservation), or unknown (a pool address, if the pool is on). */
  known: boolean;
  /** The reserved address of a known node; null for an unknown one. */
  ipv4: string | null;
  fqdn: string;
}

/** Locally administered MACs (bit 1 of the first octet): never a real vendor's. */
export function macAt(i: number): string {
  return (0x025e00000000 + i).toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
}

/**
 * N nodes; `unknownShare` of them (0..1) unregistered, spread evenly through the fleet (every
 * fifth node at 20 %), so the unknown ones start interleaved with the others.
 */
export function stormFleet(n: number, unknownShare = 0): StormNode[] {
  if (!(Number.isInteger(n) && n >= 1 && n <= MAX_NODES)) throw new RangeError(`nodes: 1..${MAX_NODES}`);
  if (!(unknownShare >= 0 && unknownShare < 1)) throw new RangeError('unknown share: 0 <= x < 1');
  const first = ipToInt(KNOWN_FIRST);
  const nodes: StormNode[] = [];
  let known = 0;
  for (let i = 0; i < n; i++) {
    // Node i is unknown when the running count of unknown nodes falls behind the share.
    const isUnknown = Math.floor((i + 1) * unknownShare) > Math.floor(i * unknownShare);
    nodes.push({
      index: i,
      mac: macAt(i),
      known: !isUnknown,
      ipv4: isUnknown ? null : intToIp(first + known++),
      fqdn: `n${i}.${DOMAIN}`,
    });
  }
  return nodes;
}
