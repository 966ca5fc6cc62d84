/**
 * The DHCP decision loop body: one decoded request in, the replies to send out. No sockets here
 * (server.ts owns them), so every RFC 2131 4.3 rule is testable with plain packets.
 */
import type { Logger } from 'pino';
import type { BootDirectory, BootTarget } from '../boot/types.js';
import { BootEventKind, type Discovery, type EventSink } from '../boot/events.js';
import { inSubnet } from '../net/ipv4.js';
import { MessageType, Op, Opt, messageTypeName } from './constants.js';
import { packetMac, messageType, type DhcpPacket } from './packet.js';
import { subnetOf, type ResolvedOptions, type ResolvedSubnet } from './config.js';
import { chooseBootFile, clientFirmware, type ClientFirmware } from './policy.js';
import { replyDestination, replyTo, setBootFile, setIpxeNoProxyWait, type Destination } from './reply.js';
import type { LeaseStore, PoolRange } from './leases.js';
import { bump, emptyCounters, type DhcpCounters } from './counters.js';
import { reservationProblem, type AddressProblem } from './addresses.js';
import { hostNameOptions } from './hostname.js';

/** Where and how a packet arrived. */
export interface Arrival {
  ifname: string;
  /** IPv4 addresses of the receiving interface. */
  ifAddresses: string[];
  src: { address: string; port: number };
  /** The local port it arrived on: the server port, or the proxy port (4011). */
  localPort: number;
}

export interface Outgoing {
  packet: DhcpPacket;
  to: Destination;
}

export interface HandlerDeps {
  directory: BootDirectory;
  events?: EventSink;
  /**
   * Unknown MACs seen. It may return false for a sighting it did not record (a limit on what
   * unauthenticated clients can make netroot store); that MAC's exchanges then stay off the
   * timeline too. A DiscoverySink that returns nothing records everything.
   */
  discoveries?: (d: Discovery) => boolean | void;
  leases?: LeaseStore;
  logger?: Logger;
  now?: () => number;
}

/** An address decided for a client: a reservation or a pool lease. */
interface Assignment {
  ip: string;
  target: BootTarget | null;
  pool: PoolRange | null;
}

/** One request while it is decided: what every step of the answer needs, in one place. */
interface Exchange {
  req: DhcpPacket;
  mac: string;
  fw: ClientFirmware;
  at: Arrival;
  serverId: string;
  /**
   * Whether this exchange goes on the client's timeline: always for a registered MAC; for an
   * unknown one only when the discovered list took it (see DhcpHandler.discovered).
   */
  record: boolean;
}

/** A client's offer is held this long before the address may go to someone else. */
const OFFER_HOLD_SEC = 60;
/** RFC 2131 4.3.3 leaves the hold of a declined address to the server. */
const DECLINE_HOLD_SEC = 600;
/** How long netroot's own address, found inside the pool, is held out of it before it is checked again. */
const OWN_ADDRESS_HOLD_SEC = 86_400;
/** One discovery report per unknown MAC per this interval: a booting client retries every few seconds. */
const DISCOVERY_INTERVAL_MS = 30_000;
/** A refused reservation is put on the node's timeline again after this long (it retries for as long as it is powered). */
const REFUSAL_EVENT_INTERVAL_MS = 600_000;

const ZERO = '0.0.0.0';

export class DhcpHandler {
  readonly counters: DhcpCounters = emptyCounters();
  /** xids of our own rival probes: never answered by us. */
  readonly ownXids = new Set<number>();
  /** Per unknown MAC: when it was last reported, and whether the discovered list took it. */
  private readonly lastDiscovery = new Map<string, { at: number; recorded: boolean }>();
  /** Per MAC: the refused address and reason last reported, and when it went on the timeline. */
  private readonly refusals = new Map<string, { key: string; at: number }>();
  private readonly now: () => number;

  constructor(
    private readonly opts: ResolvedOptions,
    private readonly deps: HandlerDeps,
  ) {
    this.now = deps.now ?? Date.now;
  }

  private ignore(reason: string, detail?: Record<string, unknown>): Outgoing[] {
    bump(this.counters.ignored, reason);
    // A storm of unknown MACs is ignored packet by packet: nothing is built for a level that is off.
    if (this.deps.logger?.isLevelEnabled('debug')) this.deps.logger.debug({ reason, ...detail }, 'dhcp: not answered');
    return [];
  }

  private event(x: Exchange, kind: BootEventKind, detail: Record<string, unknown>): void {
    if (!x.record) return;
    try {
      this.deps.events?.({ mac: x.mac, kind, detail });
    } catch {
      // EventSink must not throw; if one does, the packet is still answered.
    }
  }

  /**
   * Reports an unknown MAC (once per DISCOVERY_INTERVAL_MS) and says whether its exchanges go on
   * a timeline: only when the discovered list took it. The sink refuses past its per-source limit
   * (a flood of random MACs from one relay or segment); the timeline events of a MAC it refused
   * would be rows no discovered entry owns, so nothing prunes them with it: a boot storm of
   * unknown MACs wrote three of them per exchange, without bound, for clients nobody can see.
   */
  private discovered(mac: string, fw: ClientFirmware, req: DhcpPacket): boolean {
    const t = this.now();
    const last = this.lastDiscovery.get(mac);
    if (last !== undefined && t - last.at < DISCOVERY_INTERVAL_MS) return last.recorded;
    if (this.lastDiscovery.size > 10_000) this.lastDiscovery.clear();
    this.counters.discovered++;
    let recorded = true;
    try {
      recorded = this.deps.discoveries?.({
        mac, arch: fw.arch, vendorClass: fw.vendorClass, userClass: fw.userClass, uuid: fw.uuid,
        relay: req.giaddr === ZERO ? null : req.giaddr, via: 'dhcp',
      }) !== false;
    } catch {
      // DiscoverySink must not throw.
    }
    this.lastDiscovery.set(mac, { at: t, recorded });
    return recorded;
  }

  /** A registered node whose address must not be given: silent; logged once, counted, on its timeline. */
  private refuse(x: Exchange, ip: string, problem: AddressProblem): Outgoing[] {
    bump(this.counters.ignored, 'bad-reservation');
    const key = `${ip} ${problem.code}`;
    const t = this.now();
    const last = this.refusals.get(x.mac);
    if (last?.key !== key) {
      this.deps.logger?.warn({ mac: x.mac, ip, reason: problem.code }, `dhcp: not answering ${x.mac}: its registered address ${problem.message}`);
    }
    if (last?.key !== key || t - last.at >= REFUSAL_EVENT_INTERVAL_MS) {
      if (this.refusals.size > 10_000) this.refusals.clear();
      this.refusals.set(x.mac, { key, at: t });
      this.event(x, BootEventKind.DhcpRefused, { ip, reason: problem.code, message: problem.message, ifname: x.at.ifname });
    }
    return [];
  }

  async handle(req: DhcpPacket, at: Arrival): Promise<Outgoing[]> {
    if (req.op !== Op.Request) return this.ignore('not-request');
    const type = messageType(req);
    if (type === null) return this.ignore('no-message-type'); // plain BOOTP is not served
    // Unknown types share one counter so garbage cannot grow the metric's label set.
    bump(this.counters.received, type >= MessageType.Discover && type <= MessageType.Inform ? messageTypeName(type) : 'OTHER');
    const mac = packetMac(req);
    if (!mac) return this.ignore('not-ethernet');
    if (this.ownXids.has(req.xid)) return this.ignore('own-probe');

    const subnet = req.giaddr !== ZERO ? subnetOf(this.opts.subnets, req.giaddr) : (at.ifAddresses.map((a) => subnetOf(this.opts.subnets, a)).find((s) => s) ?? null);
    const serverId = subnet?.serverAddress ?? at.ifAddresses.find((a) => subnet && inSubnet(a, subnet.net)) ?? at.ifAddresses[0];
    if (!serverId) return this.ignore('no-server-address', { ifname: at.ifname });
    const x: Exchange = { req, mac, fw: clientFirmware(req), at, serverId, record: true };

    if (this.opts.mode === 'proxy') return this.proxy(x, type);
    if (at.localPort !== this.opts.ports.server) return this.ignore('wrong-port');
    if (!subnet) return this.ignore('no-subnet', { giaddr: req.giaddr, ifname: at.ifname });

    const target = await this.deps.directory.lookup(mac);
    let assign: Assignment | null = null;
    const own = [...this.opts.ownAddresses, serverId, ...at.ifAddresses];
    if (target && target.node.enabled) {
      // Whatever the store holds (an older version's rows, a restored backup, a config edited
      // while netroot was stopped), an address a node must never get is not put in a reply.
      const problem = reservationProblem(target.node.ipv4, { subnets: this.opts.subnets, own, poolsServed: true });
      if (problem) return this.refuse(x, target.node.ipv4, problem);
      if (!inSubnet(target.node.ipv4, subnet.net)) return this.ignore('reservation-wrong-subnet', { mac, ip: target.node.ipv4, subnet: subnet.cidr });
      assign = { ip: target.node.ipv4, target, pool: null };
    } else {
      if (target) return this.ignore('disabled', { mac });
      x.record = this.discovered(mac, x.fw, req);
      if (!subnet.pool || !this.deps.leases) return this.ignore('unknown-mac', { mac });
    }
    const pool: PoolRange | null = subnet.pool ? { cidr: subnet.cidr, ...subnet.pool } : null;

    switch (type) {
      case MessageType.Discover: {
        if (!assign) {
          let requested = req.options.get(Opt.RequestedIpAddress) ?? null;
          let ip: string | null = null;
          for (let tries = 0; tries < 8 && !ip; tries++) {
            ip = await this.deps.leases!.offer(mac, pool!, requested, OFFER_HOLD_SEC, this.now());
            if (!ip) return this.ignore('pool-full', { mac, pool: subnet.cidr });
            if (!this.poolAddressProblem(ip, subnet, own)) break;
            // The configuration keeps the router and the configured server address out of the
            // pool; an interface's own address can only be seen here. Held as declined, so it
            // is not picked again, and the next free address is taken.
            this.deps.logger?.warn({ ip, pool: subnet.cidr }, "dhcp: the pool includes netroot's own address; it is held out of the pool");
            await this.deps.leases!.decline(mac, ip, OWN_ADDRESS_HOLD_SEC, this.now());
            requested = null;
            ip = null;
          }
          if (!ip) return this.ignore('pool-full', { mac, pool: subnet.cidr });
          assign = { ip, target: null, pool };
        }
        this.event(x, BootEventKind.DhcpDiscover, { arch: x.fw.arch, vendorClass: x.fw.vendorClass, userClass: x.fw.userClass, ifname: at.ifname, relay: req.giaddr === ZERO ? null : req.giaddr });
        return this.answer(x, MessageType.Offer, assign.ip, assign.target, subnet, true);
      }
      case MessageType.Request:
        return this.request(x, subnet, assign, pool, own);
      case MessageType.Decline: {
        const sid = req.options.get(Opt.ServerIdentifier);
        if (sid && sid !== serverId) return this.ignore('other-server');
        const ip = req.options.get(Opt.RequestedIpAddress) ?? null;
        this.deps.logger?.warn({ mac, ip, reserved: assign?.ip ?? null }, 'dhcp: client declined its address (in use by another host?)');
        if (!assign && ip) await this.deps.leases!.decline(mac, ip, DECLINE_HOLD_SEC, this.now());
        this.event(x, BootEventKind.DhcpDecline, { ip });
        return [];
      }
      case MessageType.Release: {
        const sid = req.options.get(Opt.ServerIdentifier);
        if (sid && sid !== serverId) return this.ignore('other-server');
        if (!assign && req.ciaddr !== ZERO) await this.deps.leases!.release(mac, req.ciaddr);
        this.event(x, BootEventKind.DhcpRelease, { ip: req.ciaddr });
        return [];
      }
      case MessageType.Inform: {
        // RFC 2131 4.3.5: configuration only; no lease, no yiaddr, unicast to ciaddr.
        const ip = assign?.ip ?? req.ciaddr;
        this.event(x, BootEventKind.DhcpInform, { ip: req.ciaddr });
        return this.answer(x, MessageType.Ack, ip, assign?.target ?? null, subnet, false);
      }
      default:
        return this.ignore('unexpected-type', { type });
    }
  }

  /** Why a pool address must not go to a client (network, broadcast, router, netroot's own), or null. */
  private poolAddressProblem(ip: string, subnet: ResolvedSubnet, own: string[]): string | null {
    return reservationProblem(ip, { subnets: [subnet], own, poolsServed: false })?.message ?? null;
  }

  /** RFC 2131 4.3.2: REQUEST in SELECTING, INIT-REBOOT, RENEWING or REBINDING state. */
  private async request(x: Exchange, subnet: ResolvedSubnet, assign: Assignment | null, pool: PoolRange | null, own: string[]): Promise<Outgoing[]> {
    const { req, mac } = x;
    const sid = req.options.get(Opt.ServerIdentifier);
    const requested = req.options.get(Opt.RequestedIpAddress) ?? null;
    let wanted: string;
    let state: string;
    if (sid !== undefined) {
      // SELECTING: the client chose one server; the others must stay silent.
      if (sid !== x.serverId) return this.ignore('other-server', { mac, serverId: sid });
      state = 'selecting';
      wanted = requested ?? req.ciaddr;
    } else if (requested !== null) {
      state = 'init-reboot';
      wanted = requested;
      // "If the requested IP address is incorrect, or is on the wrong network", NAK.
      if (!inSubnet(requested, subnet.net)) return this.nak(x, state, `${requested} is not on ${subnet.cidr}`);
    } else if (req.ciaddr !== ZERO) {
      state = req.giaddr === ZERO && x.at.src.address !== '255.255.255.255' ? 'renewing' : 'rebinding';
      wanted = req.ciaddr;
    } else {
      return this.ignore('request-without-address', { mac });
    }
    if (assign) {
      if (wanted !== assign.ip) return this.nak(x, state, `${wanted} is not the reserved ${assign.ip}`);
    } else {
      const problem = this.poolAddressProblem(wanted, subnet, own);
      if (problem) return this.nak(x, state, problem);
      const ok = await this.deps.leases!.bind(mac, wanted, pool!, subnet.leaseTimeSec, this.now());
      if (!ok) return this.nak(x, state, `${wanted} is not available`);
      assign = { ip: wanted, target: null, pool };
    }
    return this.answer(x, MessageType.Ack, assign.ip, assign.target, subnet, true, state);
  }

  private nak(x: Exchange, state: string, why: string): Outgoing[] {
    const r = replyTo(x.req, MessageType.Nak, x.serverId);
    r.options.set(Opt.Message, why);
    bump(this.counters.sent, 'NAK');
    this.event(x, BootEventKind.DhcpNak, { state, reason: why, ifname: x.at.ifname });
    this.deps.logger?.info({ mac: x.mac, state, reason: why }, 'dhcp: NAK');
    return [{ packet: r, to: replyDestination(x.req, r, x.mac, this.opts.ports) }];
  }

  private answer(x: Exchange, type: MessageType, ip: string, target: BootTarget | null, subnet: ResolvedSubnet, lease: boolean, state?: string): Outgoing[] {
    const { req, mac, fw, serverId } = x;
    const r = replyTo(req, type, serverId);
    if (lease) {
      r.yiaddr = ip;
      const t = subnet.leaseTimeSec;
      r.options.set(Opt.LeaseTime, t).set(Opt.RenewalTime, Math.floor(t / 2)).set(Opt.RebindingTime, Math.floor((t * 7) / 8));
    } else {
      r.ciaddr = req.ciaddr;
    }
    if (type === MessageType.Ack && req.ciaddr !== ZERO) r.ciaddr = req.ciaddr;
    r.siaddr = serverId;
    r.options.set(Opt.SubnetMask, subnet.net.mask);
    if (subnet.router) r.options.set(Opt.Router, [subnet.router]);
    if (subnet.dns.length) r.options.set(Opt.DomainNameServer, subnet.dns);
    const node = target?.node;
    if (node) {
      const names = hostNameOptions(node.fqdn, subnet.domain);
      r.options.set(Opt.HostName, names.hostName);
      if (names.domain) r.options.set(Opt.DomainName, names.domain);
    } else if (subnet.domain) {
      r.options.set(Opt.DomainName, subnet.domain);
    }
    if (target?.image) r.options.set(Opt.RootPath, `${serverId}:${target.image.rootPath}`);
    const file = chooseBootFile(fw, mac, node?.bootMode ?? null, this.opts, serverId);
    if (file) setBootFile(r, req, file);
    // No option 60 here: "PXEClient" in an offer that carries an address tells a PXE ROM to find
    // a boot server (port 4011, PXE 2.1 2.2.1); OVMF then fails with PXE-E16. A plain DHCP offer
    // with siaddr and file is what every ROM boots from. Only proxy replies say "PXEClient".
    if (fw.ipxe) setIpxeNoProxyWait(r);
    const name = type === MessageType.Offer ? 'OFFER' : 'ACK';
    bump(this.counters.sent, name);
    this.event(x, type === MessageType.Offer ? BootEventKind.DhcpOffer : BootEventKind.DhcpAck, {
      ip, file, ifname: x.at.ifname, relay: req.giaddr === ZERO ? null : req.giaddr, ...(state ? { state } : {}), ...(lease ? {} : { inform: true }),
    });
    return [{ packet: r, to: replyDestination(req, r, mac, this.opts.ports) }];
  }

  /** Proxy mode: boot information only (no yiaddr) to PXE clients, on the server port and on 4011. */
  private async proxy(x: Exchange, type: number): Promise<Outgoing[]> {
    const { req, mac, fw, serverId, at } = x;
    if (!fw.pxe) return this.ignore('not-pxe');
    const on4011 = at.localPort === this.opts.ports.proxy;
    // Port 67: answer DISCOVER with a ProxyDHCP OFFER. Port 4011: answer the boot server REQUEST (PXE 2.1 2.2.3).
    if (on4011 ? type !== MessageType.Request && type !== MessageType.Inform : type !== MessageType.Discover) return this.ignore('proxy-ignores-type');
    const target = await this.deps.directory.lookup(mac);
    const registered = target !== null && target.node.enabled;
    if (!registered) {
      if (!target) x.record = this.discovered(mac, fw, req);
      if (!this.opts.proxyAnswerAll || target) return this.ignore(target ? 'disabled' : 'unknown-mac', { mac });
    }
    const r = replyTo(req, on4011 ? MessageType.Ack : MessageType.Offer, serverId);
    r.siaddr = serverId;
    if (on4011) r.ciaddr = req.ciaddr;
    r.options.set(Opt.VendorClassId, 'PXEClient');
    // PXE 2.1 option 43 sub-option 6 = 8: skip boot server discovery, boot the file named here.
    r.options.set(Opt.VendorSpecific, Buffer.from([6, 1, 8, 255]));
    const uuid = req.options.get(Opt.ClientUuid);
    if (uuid) r.options.set(Opt.ClientUuid, uuid);
    const file = chooseBootFile(fw, mac, target?.node.bootMode ?? null, this.opts, serverId);
    if (file) setBootFile(r, req, file);
    if (target?.image) r.options.set(Opt.RootPath, `${serverId}:${target.image.rootPath}`);
    const name = on4011 ? 'ACK' : 'OFFER';
    bump(this.counters.sent, name);
    this.event(x, on4011 ? BootEventKind.DhcpAck : BootEventKind.DhcpOffer, { proxy: true, file, ifname: at.ifname });
    // The 4011 reply goes back where the request came from; the port-67 offer follows RFC 2131 4.1.
    const to: Destination = on4011 ? { address: at.src.address, port: at.src.port, arp: null } : replyDestination(req, r, mac, this.opts.ports);
    return [{ packet: r, to }];
  }
}
