/** IPv4 helpers: dotted quads <-> 32-bit unsigned numbers, CIDR subnets. Pure. */

const QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(s: string): boolean {
  return QUAD.test(s);
}

export function ipToInt(ip: string): number {
  if (!QUAD.test(ip)) throw new RangeError(`ipv4: not a dotted quad: ${JSON.stringify(ip)}`);
  const p = ip.split('.').map(Number);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Subnet {
  /** network address, e.g. "10.0.0.0" */
  network: string;
  prefix: number;
  /** dotted mask, e.g. "255.255.255.0" */
  mask: string;
  broadcast: string;
}

export function prefixToMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses "10.0.0.0/24"; host bits must be zero. */
export function parseCidr(cidr: string): Subnet {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr.trim());
  if (!m || !isIPv4(m[1]!) || Number(m[2]) > 32) throw new RangeError(`cidr: not an IPv4 CIDR: ${JSON.stringify(cidr)}`);
  const prefix = Number(m[2]);
  const mask = prefixToMask(prefix);
  const addr = ipToInt(m[1]!);
  if ((addr & ~mask) >>> 0 !== 0) throw new RangeError(`cidr: host bits set in ${cidr}`);
  return {
    network: intToIp(addr),
    prefix,
    mask: intToIp(mask),
    broadcast: intToIp((addr | ~mask) >>> 0),
  };
}

export function inSubnet(ip: string, subnet: Subnet): boolean {
  const mask = prefixToMask(subnet.prefix);
  return ((ipToInt(ip) & mask) >>> 0) === ipToInt(subnet.network);
}
