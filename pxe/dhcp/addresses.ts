/**
 * Which IPv4 addresses a registered node may be given. One rule for every place that meets a
 * reservation: the API (create, update, import), a config reload, the start-up report, and the
 * DHCP handler at reply time (whatever the store holds, such an address never goes into a reply).
 * Pure: the subnets and netroot's own addresses come in as arguments.
 *
 * With no subnet configured (DHCP off) only the generic unicast checks apply: netroot gives no
 * address and knows no network to hold one against. With subnets, an address must lie in one of
 * them and be neither its network nor its broadcast address (RFC 919/922; not for /31 and /32,
 * which RFC 3021 gives no such addresses), nor the subnet's router, nor netroot's own address.
 * In full mode it must also lie outside the subnet's dynamic pool (those go to unregistered
 * clients: one address would belong to two hosts). In proxy mode the site's DHCP server gives the
 * addresses and netroot's pools are not served, so pools do not count, but the subnets still
 * describe the node networks (boot server address, NFS exports), so the rest applies.
 */
import { inSubnet, ipToInt, isIPv4, type Subnet } from '../net/ipv4.js';

/** Stable reason codes (metrics, events); the message says it for people. */
export type AddressProblemCode = 'not-unicast' | 'no-subnet' | 'network' | 'broadcast' | 'own-address' | 'router' | 'pool';

export interface AddressProblem {
  code: AddressProblemCode;
  /** E.g. "10.91.0.255 is the broadcast address of 10.91.0.0/24". */
  message: string;
}

/** What the rule needs of a configured subnet (a ResolvedSubnet has it all). */
export interface ReservationSubnet {
  cidr: string;
  net: Subnet;
  router: string | null;
  serverAddress: string | null;
  pool: { start: string; end: string } | null;
}

export interface ReservationRules {
  subnets: readonly ReservationSubnet[];
  /** netroot's addresses besides the subnets' serverAddress: boot.serverAddress, the DHCP interfaces' own. */
  own: readonly string[];
  /** Full mode: netroot hands out the pools, so a pool address is never a reservation. */
  poolsServed: boolean;
}

/** Addresses no host can hold, whatever the network: the same rule as the API's field check. */
export function unicastProblem(ip: string): AddressProblem | null {
  if (!isIPv4(ip)) return { code: 'not-unicast', message: `${JSON.stringify(ip)} is not an IPv4 address (dotted quad)` };
  const first = Number(ip.slice(0, ip.indexOf('.')));
  // 0/8 is "this network" (RFC 1122 3.2.1.3), 127/8 loopback, 224/4 multicast, 240/4 reserved and broadcast.
  if (first === 0 || first === 127 || first >= 224) {
    return { code: 'not-unicast', message: `${ip} is not a unicast host address (not 0.x.x.x, loopback, multicast or broadcast)` };
  }
  return null;
}

export function reservationProblem(ip: string, rules: ReservationRules): AddressProblem | null {
  const generic = unicastProblem(ip);
  if (generic || rules.subnets.length === 0) return generic;
  const s = rules.subnets.find((x) => inSubnet(ip, x.net));
  if (!s) {
    return { code: 'no-subnet', message: `${ip} is in no configured subnet (dhcp.subnets: ${rules.subnets.map((x) => x.cidr).join(', ')})` };
  }
  if (s.net.prefix < 31) {
    if (ip === s.net.network) return { code: 'network', message: `${ip} is the network address of ${s.cidr}` };
    if (ip === s.net.broadcast) return { code: 'broadcast', message: `${ip} is the broadcast address of ${s.cidr}` };
  }
  if (ip === s.serverAddress || rules.own.includes(ip)) return { code: 'own-address', message: `${ip} is netroot's own address on ${s.cidr}` };
  if (ip === s.router) return { code: 'router', message: `${ip} is the router of ${s.cidr}` };
  if (rules.poolsServed && s.pool) {
    const n = ipToInt(ip);
    if (n >= ipToInt(s.pool.start) && n <= ipToInt(s.pool.end)) {
      return { code: 'pool', message: `${ip} is inside the dynamic pool ${s.pool.start}-${s.pool.end} of ${s.cidr}, kept for unregistered clients` };
    }
  }
  return null;
}
