/** DHCP server options: one typed object, checked once (errors name the field), defaults filled in. */
import { inSubnet, ipToInt, isIPv4, parseCidr, type Subnet } from '../net/ipv4.js';
import { Arch } from './constants.js';

export interface DhcpPoolConfig {
  /** First and last address handed to unregistered clients (must not overlap reservations). */
  start: string;
  end: string;
}

export interface DhcpSubnetConfig {
  cidr: string;
  router?: string;
  dns?: string[];
  /** Domain (option 15) when the node's FQDN has none. */
  domain?: string;
  /** Default 3600. */
  leaseTimeSec?: number;
  /** netroot's address as this subnet reaches it (server id, siaddr, root path); default: the receiving interface's address. */
  serverAddress?: string;
  /** Dynamic pool for unregistered clients; off when absent. Needs a LeaseStore. */
  pool?: DhcpPoolConfig;
}

export type DhcpMode = 'full' | 'proxy';
/** What to do when another DHCP server answers on our interfaces: log only, or refuse to start (full mode). */
export type RivalPolicy = 'warn' | 'refuse';

export interface DhcpServerOptions {
  mode: DhcpMode;
  /** Interface names to serve on (never all interfaces implicitly). */
  interfaces: string[];
  subnets: DhcpSubnetConfig[];
  /** Boot file by RFC 4578 arch; merged over DEFAULT_BOOT_FILES. */
  bootFiles?: Record<number, string>;
  /** Loader for nodes in pxelinux mode, by arch; default {0: 'pxelinux.0'}. Other arches fall back to iPXE. */
  pxelinuxFiles?: Record<number, string>;
  /**
   * Base URL of netroot's HTTP boot routes, e.g. http://10.51.0.1:8080 or http://{server}:8080
   * ({server} = the address the reply comes from); iPXE gets `${httpBase}/boot/${mac}.ipxe`.
   */
  httpBase: string;
  /** Proxy mode: answer every PXE client, not only registered ones. Default false. */
  proxyAnswerAll?: boolean;
  /** Default 'warn'. */
  rivals?: RivalPolicy;
  /**
   * netroot's own addresses besides the subnets' serverAddress and the receiving interface's
   * (e.g. the configured boot server address): never given to a node, whatever the store says.
   */
  ownAddresses?: string[];
  /** Probe for rivals at start(). Default true. */
  detectRivalsAtStart?: boolean;
  /** How long a rival probe listens; default 5000 (dnsmasq pings an address ~3 s before offering it). */
  rivalProbeMs?: number;
  /** Ports, overridable for tests. Defaults 67, 68, 4011. */
  ports?: { server?: number; client?: number; proxy?: number };
  /** At most this many packets handled at once; more are dropped ('busy'). Default 512. */
  maxInFlight?: number;
  /**
   * Receive buffer per socket (bytes; the kernel reports twice this). A boot storm arrives in
   * bursts, and the kernel's default (~208 KiB, ~100 DHCP packets) overflows during a GC pause or
   * a batch of event writes. Default 2 MiB; 0 keeps the kernel's default.
   */
  recvBufferBytes?: number;
}

export const DEFAULT_BOOT_FILES: Record<number, string> = {
  [Arch.BiosX86]: 'undionly.kpxe',
  [Arch.EfiBc]: 'ipxe.efi',
  [Arch.EfiX64]: 'ipxe.efi',
  [Arch.EfiArm64]: 'ipxe-arm64.efi',
};

export interface ResolvedSubnet extends Required<Omit<DhcpSubnetConfig, 'serverAddress' | 'pool' | 'router' | 'domain'>> {
  net: Subnet;
  router: string | null;
  domain: string | null;
  serverAddress: string | null;
  pool: DhcpPoolConfig | null;
}

export interface ResolvedOptions {
  mode: DhcpMode;
  interfaces: string[];
  subnets: ResolvedSubnet[];
  ownAddresses: string[];
  bootFiles: Record<number, string>;
  pxelinuxFiles: Record<number, string>;
  httpBase: string;
  proxyAnswerAll: boolean;
  rivals: RivalPolicy;
  detectRivalsAtStart: boolean;
  rivalProbeMs: number;
  ports: { server: number; client: number; proxy: number };
  maxInFlight: number;
  recvBufferBytes: number;
}

export class DhcpConfigError extends Error {
  override readonly name = 'DhcpConfigError';
  constructor(readonly field: string, message: string) {
    super(`dhcp.${field}: ${message}`);
  }
}

function ip(v: unknown, field: string): string {
  if (typeof v !== 'string' || !isIPv4(v)) throw new DhcpConfigError(field, `not an IPv4 address: ${JSON.stringify(v)}`);
  return v;
}

function port(v: number | undefined, def: number, field: string): number {
  const p = v ?? def;
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new DhcpConfigError(field, `not a port: ${p}`);
  return p;
}

export function resolveOptions(o: DhcpServerOptions): ResolvedOptions {
  if (o.mode !== 'full' && o.mode !== 'proxy') throw new DhcpConfigError('mode', `must be "full" or "proxy", got ${JSON.stringify(o.mode)}`);
  if (!Array.isArray(o.interfaces) || o.interfaces.length === 0) throw new DhcpConfigError('interfaces', 'name at least one interface');
  o.interfaces.forEach((n, i) => {
    if (typeof n !== 'string' || !/^[\w.:@-]{1,15}$/.test(n)) throw new DhcpConfigError(`interfaces[${i}]`, `not an interface name: ${JSON.stringify(n)}`);
  });
  if (!Array.isArray(o.subnets) || (o.mode === 'full' && o.subnets.length === 0)) throw new DhcpConfigError('subnets', 'full mode needs at least one subnet');
  const subnets = resolveSubnets(o.subnets);
  const ownAddresses = (o.ownAddresses ?? []).map((a, i) => ip(a, `ownAddresses[${i}]`));
  let httpBase: string;
  try {
    // "{server}" stands for the address this reply comes from (the server identifier), so one
    // setting serves every subnet: http://{server}:8080
    new URL(o.httpBase.replace('{server}', '192.0.2.1'));
    httpBase = o.httpBase.replace(/\/+$/, '');
  } catch {
    throw new DhcpConfigError('httpBase', `not a URL: ${JSON.stringify(o.httpBase)}`);
  }
  const rivals = o.rivals ?? 'warn';
  if (rivals !== 'warn' && rivals !== 'refuse') throw new DhcpConfigError('rivals', `must be "warn" or "refuse"`);
  return {
    mode: o.mode,
    interfaces: [...o.interfaces],
    subnets,
    ownAddresses,
    bootFiles: { ...DEFAULT_BOOT_FILES, ...(o.bootFiles ?? {}) },
    pxelinuxFiles: o.pxelinuxFiles ?? { [Arch.BiosX86]: 'pxelinux.0' },
    httpBase,
    proxyAnswerAll: o.proxyAnswerAll ?? false,
    rivals,
    detectRivalsAtStart: o.detectRivalsAtStart ?? true,
    rivalProbeMs: o.rivalProbeMs ?? 5000,
    ports: { server: port(o.ports?.server, 67, 'ports.server'), client: port(o.ports?.client, 68, 'ports.client'), proxy: port(o.ports?.proxy, 4011, 'ports.proxy') },
    maxInFlight: o.maxInFlight ?? 512,
    recvBufferBytes: recvBuffer(o.recvBufferBytes),
  };
}

/** The subnets checked and resolved (errors name dhcp.subnets[i].field); also for callers that do not run a server. */
export function resolveSubnets(subnets: DhcpSubnetConfig[]): ResolvedSubnet[] {
  return subnets.map((s, i): ResolvedSubnet => {
    const f = `subnets[${i}]`;
    let net: Subnet;
    try {
      net = parseCidr(s.cidr);
    } catch (e) {
      throw new DhcpConfigError(`${f}.cidr`, (e as Error).message);
    }
    const lease = s.leaseTimeSec ?? 3600;
    if (!Number.isInteger(lease) || lease < 60) throw new DhcpConfigError(`${f}.leaseTimeSec`, `must be an integer >= 60, got ${lease}`);
    let pool: DhcpPoolConfig | null = null;
    if (s.pool) {
      const start = ip(s.pool.start, `${f}.pool.start`);
      const end = ip(s.pool.end, `${f}.pool.end`);
      if (!inSubnet(start, net) || !inSubnet(end, net) || ipToInt(start) > ipToInt(end)) throw new DhcpConfigError(`${f}.pool`, `${start}-${end} is not a range inside ${s.cidr}`);
      pool = { start, end };
    }
    const router = s.router === undefined ? null : ip(s.router, `${f}.router`);
    const serverAddress = s.serverAddress === undefined ? null : ip(s.serverAddress, `${f}.serverAddress`);
    if (pool) {
      // The pool's addresses go to any client: never one that is taken by the network itself.
      const taken: [string, string | null][] = [['router', router], ['serverAddress', serverAddress]];
      if (net.prefix < 31) taken.push(['network address', net.network], ['broadcast address', net.broadcast]);
      const [lo, hi] = [ipToInt(pool.start), ipToInt(pool.end)];
      for (const [what, a] of taken) {
        if (a !== null && ipToInt(a) >= lo && ipToInt(a) <= hi) throw new DhcpConfigError(`${f}.pool`, `${pool.start}-${pool.end} includes the ${what} ${a}`);
      }
    }
    return {
      cidr: s.cidr,
      net,
      router,
      dns: (s.dns ?? []).map((d, j) => ip(d, `${f}.dns[${j}]`)),
      domain: s.domain ?? null,
      leaseTimeSec: lease,
      serverAddress,
      pool,
    };
  });
}

function recvBuffer(v: number | undefined): number {
  if (v === undefined) return 2 * 1024 * 1024;
  if (!Number.isInteger(v) || (v !== 0 && (v < 65_536 || v > 256 * 1024 * 1024))) {
    throw new DhcpConfigError('recvBufferBytes', `must be 0 (kernel default) or 65536..268435456 bytes, got ${v}`);
  }
  return v;
}

/** The configured subnet containing ip, if any. */
export function subnetOf(subnets: ResolvedSubnet[], ipAddr: string): ResolvedSubnet | null {
  return subnets.find((s) => inSubnet(ipAddr, s.net)) ?? null;
}
