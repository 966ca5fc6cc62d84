/**
 * The DHCP server: one device-bound socket per configured interface (and per proxy port in proxy
 * mode); receive, decode, ask the handler, send. Each packet is handled in its own try/catch, so a
 * bad packet is counted and dropped and never stops the loop.
 */
import type { Logger } from 'pino';
import { DhcpDecodeError } from './errors.js';
import { decode, encode } from './packet.js';
import { resolveOptions, type DhcpServerOptions, type ResolvedOptions } from './config.js';
import { DhcpHandler, type HandlerDeps, type Outgoing } from './handler.js';
import { bump, snapshot, type DhcpCounters } from './counters.js';
import { cachedInterfaceAddresses, closeIfSocket, interfaceAddresses, openIfSocket, sendNow, type IfSocket } from './transport.js';
import { probeInterface, type Rival } from './rivals.js';
import { sockopt } from '../native/index.js';

export type DhcpServerDeps = HandlerDeps & { logger?: Logger };

export class RivalDhcpError extends Error {
  override readonly name = 'RivalDhcpError';
  constructor(readonly rivals: Rival[]) {
    super(`dhcp: refusing to serve: other DHCP servers answer: ${rivals.map((r) => `${r.serverId} on ${r.ifname}`).join(', ')}`);
  }
}

export class DhcpServer {
  readonly options: ResolvedOptions;
  private readonly handler: DhcpHandler;
  private sockets: IfSocket[] = [];
  private inFlight = 0;
  private readonly addresses = cachedInterfaceAddresses();
  private lastRivals: Rival[] = [];
  private running = false;

  constructor(options: DhcpServerOptions, private readonly deps: DhcpServerDeps) {
    this.options = resolveOptions(options);
    if (this.options.subnets.some((s) => s.pool) && !deps.leases) throw new Error('dhcp: a subnet has a pool but no LeaseStore was given');
    this.handler = new DhcpHandler(this.options, deps);
  }

  /** A copy of the counters (received/sent by type, ignored/dropped by reason). */
  get counters(): DhcpCounters {
    return snapshot(this.handler.counters);
  }

  /** Rivals found by the last detectRivals(). */
  get rivals(): Rival[] {
    return [...this.lastRivals];
  }

  /**
   * Opens the sockets. In full mode, first probes for rival servers (unless detectRivalsAtStart is
   * false) and, with rivals: 'refuse', throws RivalDhcpError when one answers.
   */
  async start(): Promise<void> {
    if (this.running) return;
    const o = this.options;
    if (o.detectRivalsAtStart) {
      const rivals = await this.detectRivals();
      if (rivals.length && o.mode === 'full') {
        this.deps.logger?.warn({ rivals }, 'dhcp: ANOTHER DHCP SERVER ANSWERS ON OUR INTERFACES');
        if (o.rivals === 'refuse') throw new RivalDhcpError(rivals);
      }
    }
    const ports = o.mode === 'proxy' ? [o.ports.server, o.ports.proxy] : [o.ports.server];
    try {
      for (const ifname of o.interfaces) {
        for (const port of ports) {
          const s = await openIfSocket(ifname, port);
          this.sockets.push(s);
          if (o.recvBufferBytes > 0) {
            const got = sockopt().setRecvBuffer(s.fd, o.recvBufferBytes);
            if (got < o.recvBufferBytes) this.deps.logger?.warn({ ifname, wanted: o.recvBufferBytes, got }, 'dhcp: receive buffer smaller than configured (no CAP_NET_ADMIN; raise net.core.rmem_max)');
          }
          s.socket.on('message', (buf, rinfo) => void this.onMessage(s, buf, rinfo));
          s.socket.on('error', (err) => this.deps.logger?.error({ err, ifname }, 'dhcp: socket error'));
        }
      }
    } catch (e) {
      await this.stop();
      throw e;
    }
    this.running = true;
    this.deps.logger?.info({ mode: o.mode, interfaces: o.interfaces }, 'dhcp: serving');
  }

  async stop(): Promise<void> {
    const s = this.sockets;
    this.sockets = [];
    this.running = false;
    await Promise.all(s.map(closeIfSocket));
  }

  /** Sends a DISCOVER of our own on each interface and reports every other server that answers. */
  async detectRivals(timeoutMs = this.options.rivalProbeMs): Promise<Rival[]> {
    const ours = new Set<string>(this.options.subnets.flatMap((s) => (s.serverAddress ? [s.serverAddress] : [])));
    for (const i of this.options.interfaces) for (const a of interfaceAddresses(i)) ours.add(a);
    const results = await Promise.all(
      this.options.interfaces.map((ifname) =>
        probeInterface({
          ifname, ports: this.options.ports, timeoutMs, ours,
          onXid: (x) => this.handler.ownXids.add(x),
        }).catch((err: unknown) => {
          this.deps.logger?.error({ err, ifname }, 'dhcp: rival probe failed');
          return [] as Rival[];
        }),
      ),
    );
    this.lastRivals = results.flat();
    return this.rivals;
  }

  private async onMessage(s: IfSocket, buf: Buffer, rinfo: { address: string; port: number }): Promise<void> {
    const c = this.handler.counters;
    // Back-pressure: a flood is dropped here rather than queueing directory lookups without bound.
    if (this.inFlight >= this.options.maxInFlight) {
      bump(c.dropped, 'busy');
      return;
    }
    this.inFlight++;
    try {
      let req;
      try {
        req = decode(buf);
      } catch (e) {
        if (e instanceof DhcpDecodeError) {
          bump(c.dropped, e.code);
          this.deps.logger?.debug({ from: rinfo.address, ifname: s.ifname, err: e.message }, 'dhcp: malformed packet dropped');
          return;
        }
        throw e;
      }
      const out = await this.handler.handle(req, { ifname: s.ifname, ifAddresses: this.addresses(s.ifname), src: rinfo, localPort: s.port });
      for (const o of out) this.send(s, o);
    } catch (e) {
      bump(c.dropped, 'handler-error');
      this.deps.logger?.error({ err: e, ifname: s.ifname }, 'dhcp: packet handling failed');
    } finally {
      this.inFlight--;
    }
  }

  private send(s: IfSocket, o: Outgoing): void {
    if (o.to.arp) {
      try {
        sockopt().setArp(s.fd, s.ifname, o.to.arp.ip, o.to.arp.mac);
      } catch (e) {
        // Without the ARP entry a unicast cannot reach an unconfigured client: broadcast instead (RFC 2131 4.1 allows it).
        this.deps.logger?.debug({ err: (e as Error).message }, 'dhcp: ARP entry refused, broadcasting');
        o = { ...o, to: { address: '255.255.255.255', port: o.to.port, arp: null } };
      }
    }
    // Replies to the proxy port's clients leave from the socket they came in on (4011 -> client port).
    // Not awaited: the packet's turn ends here, and a failure is counted when dgram reports it.
    sendNow(s, encode(o.packet), o.to.port, o.to.address, this.sendFailed);
  }

  private readonly sendFailed = (err: Error): void => {
    bump(this.handler.counters.dropped, 'send-error');
    const e = err as Error & { address?: string; port?: number };
    this.deps.logger?.warn({ err: e.message, to: { address: e.address, port: e.port } }, 'dhcp: send failed');
  };
}
