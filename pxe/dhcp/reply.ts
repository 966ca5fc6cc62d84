/**
 * Building replies (RFC 2131 4.3.1 table 3) and choosing where they go (RFC 2131 4.1). Pure.
 */
import { FLAG_BROADCAST, IpxeOpt, MessageType, Op, Opt } from './constants.js';
import { emptyPacket, type DhcpPacket } from './packet.js';

export interface Destination {
  address: string;
  port: number;
  /** Unicast to a client without an address yet: the sender must add this ARP entry first. */
  arp: { ip: string; mac: string } | null;
}

/** A reply skeleton: xid, flags, giaddr, chaddr copied from the request; op BOOTREPLY. */
export function replyTo(req: DhcpPacket, type: MessageType, serverId: string): DhcpPacket {
  const r = emptyPacket(Op.Reply);
  r.htype = req.htype;
  r.hlen = req.hlen;
  r.xid = req.xid;
  r.flags = req.flags;
  r.giaddr = req.giaddr;
  r.chaddr = Buffer.from(req.chaddr);
  r.options.set(Opt.MessageType, type).set(Opt.ServerIdentifier, serverId);
  // RFC 3046 2.2: the relay agent information option is echoed unchanged.
  const relayInfo = req.options.get(Opt.RelayAgentInfo);
  if (relayInfo) r.options.set(Opt.RelayAgentInfo, relayInfo);
  return r;
}

/** iPXE's 175.176 = 1: no ProxyDHCP wait (docs/lab.md, trap 5). */
export function setIpxeNoProxyWait(r: DhcpPacket): void {
  r.options.set(Opt.IpxeEncap, [{ code: IpxeOpt.NoPxeDhcp, data: Buffer.from([1]) }]);
}

/** Puts the boot file in the file field, and in option 67 when the client asked for it or it does not fit. */
export function setBootFile(r: DhcpPacket, req: DhcpPacket, file: string): void {
  const fits = Buffer.byteLength(file, 'latin1') < 128;
  if (fits) r.file = file;
  if (!fits || req.options.get(Opt.ParameterRequestList)?.includes(Opt.BootFileName)) r.options.set(Opt.BootFileName, file);
}

/** RFC 2131 4.1: where a reply to `req` goes. */
export function replyDestination(req: DhcpPacket, reply: DhcpPacket, mac: string | null, ports: { server: number; client: number }): Destination {
  const type = reply.options.get(Opt.MessageType);
  const zero = '0.0.0.0';
  const bcast: Destination = { address: '255.255.255.255', port: ports.client, arp: null };
  if (req.giaddr !== zero) {
    // Relayed: back to the relay's server port; a NAK tells the relay to broadcast it.
    if (type === MessageType.Nak) reply.flags |= FLAG_BROADCAST;
    return { address: req.giaddr, port: ports.server, arp: null };
  }
  // "In all cases, when 'giaddr' is zero, the server broadcasts any DHCPNAK messages to 0xffffffff."
  if (type === MessageType.Nak) return bcast;
  if (req.ciaddr !== zero) return { address: req.ciaddr, port: ports.client, arp: null };
  if (req.flags & FLAG_BROADCAST) return bcast;
  if (reply.yiaddr !== zero && mac) return { address: reply.yiaddr, port: ports.client, arp: { ip: reply.yiaddr, mac } };
  return bcast;
}
