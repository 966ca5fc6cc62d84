/**
 * The benchmark's two fleets, rendered for each server under test. Pure.
 *  - reserved: 10,000 registered MACs with their addresses (netroot's nodes, Kea's host
 *    reservations, perfdhcp's MAC list), in 10.51.192.0/18 (10,000 do not fit in a /20); the
 *    server is 10.51.192.1, perfdhcp relays from 10.51.192.2, reservations start at 10.51.200.0.
 *  - pool: no registered MAC, a pool of 65,000 addresses in 10.52.0.0/16 (4,000 new clients/s
 *    for 10 s plus the warm-up fit); server 10.52.0.1, relay 10.52.0.2.
 */
import { intToIp, ipToInt } from '../../pxe/net/ipv4.js';

export type FleetKind = 'reserved' | 'pool';

export const SUBNET = '10.51.192.0/18';
export const FIRST_IP = '10.51.200.0';
/** Locally administered (bit 1 of the first octet), so never a real vendor's MAC. */
const MAC_BASE = 0x020c51000000;
export const DOMAIN = 'bench.example';
export const ROOT_PATH = '/var/lib/netroot/images/bench/1/root';

export interface FleetNode {
  mac: string;
  ipv4: string;
  fqdn: string;
}

export function macAt(i: number): string {
  return (MAC_BASE + i).toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
}

export function fleet(count: number): FleetNode[] {
  const first = ipToInt(FIRST_IP);
  return Array.from({ length: count }, (_, i) => ({ mac: macAt(i), ipv4: intToIp(first + i), fqdn: `n${i}.${DOMAIN}` }));
}

/** perfdhcp -M: one MAC a line; it picks one at random for each new exchange. */
export function macList(nodes: FleetNode[]): string {
  return nodes.map((n) => n.mac).join('\n') + '\n';
}

export const POOL_SUBNET = '10.52.0.0/16';
export const POOL = { start: '10.52.1.0', end: '10.52.254.255' };

/** Server and relay (perfdhcp) addresses and the prefix length of the fleet's subnet. */
export function addresses(kind: FleetKind): { server: string; relay: string; prefix: number; cidr: string } {
  return kind === 'reserved'
    ? { server: '10.51.192.1', relay: '10.51.192.2', prefix: 18, cidr: SUBNET }
    : { server: '10.52.0.1', relay: '10.52.0.2', prefix: 16, cidr: POOL_SUBNET };
}

/**
 * netroot's config file for the bench: DHCP on `ifname` with the fleet's subnet (and pool), the
 * reply fields Kea's config gives, TFTP and NFS off. `recvBufferBytes` 0 = the kernel default,
 * as Kea has.
 */
export function netrootConfig(kind: FleetKind, o: { ifname: string; dataDir: string; recvBufferBytes: number }): Record<string, unknown> {
  const { server, cidr } = addresses(kind);
  return {
    dataDir: o.dataDir,
    http: { listen: '127.0.0.1', port: 18081 },
    boot: { httpBase: `http://{server}:8080` },
    tftp: { enabled: false },
    dhcp: {
      interfaces: [o.ifname],
      mode: 'full',
      subnets: [{ cidr, router: server, dns: [server], domain: DOMAIN, leaseTimeSec: 3600, ...(kind === 'pool' ? { pool: POOL } : {}) }],
      detectRivalsAtStart: false,
      recvBufferBytes: o.recvBufferBytes,
    },
    nfs: { backend: 'none' },
  };
}

/**
 * kea-dhcp4 with the same reservations (hostname, boot file, next-server, root path) and a
 * memfile lease database persisted to `leaseFile`, as Kea ships it. Multi-threading stays at
 * Kea 2.2's default (off).
 */
export function keaConfig(nodes: FleetNode[], ifname: string, server: string, leaseFile: string): unknown {
  return keaWith(ifname, server, leaseFile, {
    subnet: SUBNET,
    reservations: nodes.map((n) => ({ 'hw-address': n.mac, 'ip-address': n.ipv4, hostname: n.fqdn.slice(0, n.fqdn.indexOf('.')) })),
  });
}

/** kea-dhcp4 with the pool and no reservation, lease file persisted as above. */
export function keaPoolConfig(ifname: string, server: string, leaseFile: string): unknown {
  return keaWith(ifname, server, leaseFile, { subnet: POOL_SUBNET, pools: [{ pool: `${POOL.start} - ${POOL.end}` }] });
}

function keaWith(ifname: string, server: string, leaseFile: string, subnet: Record<string, unknown>): unknown {
  return {
    Dhcp4: {
      'interfaces-config': { interfaces: [ifname], 'dhcp-socket-type': 'udp' },
      'lease-database': { type: 'memfile', persist: true, name: leaseFile, 'lfc-interval': 0 },
      'valid-lifetime': 3600,
      subnet4: [{
        id: 1,
        ...subnet,
        'next-server': server,
        'boot-file-name': 'undionly.kpxe',
        'option-data': [
          { name: 'routers', data: server },
          { name: 'domain-name-servers', data: server },
          { name: 'domain-name', data: DOMAIN },
          { name: 'root-path', data: `${server}:${ROOT_PATH}` },
        ],
      }],
      loggers: [{ name: 'kea-dhcp4', output_options: [{ output: 'stdout' }], severity: 'WARN' }],
    },
  };
}
