/** IPv4 helpers: dotted quads <-> 32-bit unsigned numbers, CIDR subnets. Pure. */

const QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * The dotted quad's value, or -1 when s is not one: four parts of 0-255 without leading zeros,
 * exactly what QUAD accepts. By hand, because the DHCP server parses several addresses per packet
 * and the regex plus split were a visible part of its CPU time.
 */
function quad(s: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + part;
      dots++;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1; // a leading zero
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else {
      return -1;
    }
  }
  return digits === 0 || dots !== 3 ? -1 : value * 256 + part;
}

export function isIPv4(s: string): boolean {
  return typeof s === 'string' ? quad(s) >= 0 : QUAD.test(s);
}

export function ipToInt(ip: string): number {
  const n = typeof ip === 'string' ? quad(ip) : -1;
  if (n < 0) throw new RangeError(`ipv4: not a dotted quad: ${JSON.stringify(ip)}`);
  return n;
}

export function intToIp(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
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
