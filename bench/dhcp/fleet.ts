/**
 * The benchmark's fleet: 10,000 reserved MACs and addresses in one relayed subnet, rendered for
 * each server under test (netroot's nodes, Kea's host reservations, perfdhcp's MAC list). Pure.
 *
 * A /18 because 10,000 reservations do not fit in a /20: the relay (perfdhcp) sits on
 * 10.51.192.0/18 and the reservations start at 10.51.200.0.
 */
import { intToIp, ipToInt } from '../../pxe/net/ipv4.js';
import type { DhcpServerOptions } from '../../pxe/dhcp/index.js';

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

/** netroot's options for a server at `server` on `ifname`; replies carry the same fields as Kea's. */
export function netrootOptions(ifname: string, server: string): DhcpServerOptions {
  return {
    mode: 'full',
    interfaces: [ifname],
    subnets: [{ cidr: SUBNET, router: server, dns: [server], domain: DOMAIN, leaseTimeSec: 3600 }],
    httpBase: 'http://{server}:8080',
    detectRivalsAtStart: false,
  };
}

/**
 * kea-dhcp4 with the same reservations (hostname, boot file, next-server, root path) and a
 * memfile lease database persisted to `leaseFile`, as Kea ships it. Multi-threading stays at
 * Kea 2.2's default (off).
 */
export function keaConfig(nodes: FleetNode[], ifname: string, server: string, leaseFile: string): unknown {
  return {
    Dhcp4: {
      'interfaces-config': { interfaces: [ifname], 'dhcp-socket-type': 'udp' },
      'lease-database': { type: 'memfile', persist: true, name: leaseFile, 'lfc-interval': 0 },
      'valid-lifetime': 3600,
      subnet4: [{
        id: 1,
        subnet: SUBNET,
        'next-server': server,
        'boot-file-name': 'undionly.kpxe',
        'option-data': [
          { name: 'routers', data: server },
          { name: 'domain-name-servers', data: server },
          { name: 'domain-name', data: DOMAIN },
          { name: 'root-path', data: `${server}:${ROOT_PATH}` },
        ],
        reservations: nodes.map((n) => ({ 'hw-address': n.mac, 'ip-address': n.ipv4, hostname: n.fqdn.slice(0, n.fqdn.indexOf('.')) })),
      }],
      loggers: [{ name: 'kea-dhcp4', output_options: [{ output: 'stdout' }], severity: 'WARN' }],
    },
  };
}
