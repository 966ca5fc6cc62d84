/**
 * Rival DHCP detection: a DISCOVER of our own on an interface, from the client port, then every
 * OFFER that answers it within a time window. PXE options are included so proxyDHCP servers answer too.
 */
import { randomBytes } from 'node:crypto';
import { FLAG_BROADCAST, MessageType, Opt } from './constants.js';
import { decode, emptyPacket, encode, messageType } from './packet.js';
import { closeIfSocket, openIfSocket, sendTo } from './transport.js';

export interface Rival {
  ifname: string;
  /** Option 54 of the answer, or the UDP source when absent. */
  serverId: string;
  from: string;
  /** Address offered; '0.0.0.0' for a proxyDHCP server. */
  offered: string;
  proxy: boolean;
  bootFile: string | null;
}

export interface ProbeOptions {
  ifname: string;
  ports: { server: number; client: number };
  timeoutMs: number;
  /** Our own addresses: answers from them are not rivals. */
  ours: Set<string>;
  /** Called with the probe's xid before sending, so our own server can ignore it. */
  onXid?: (xid: number) => void;
}

export async function probeInterface(o: ProbeOptions): Promise<Rival[]> {
  const s = await openIfSocket(o.ifname, o.ports.client);
  const xid = randomBytes(4).readUInt32BE(0);
  o.onXid?.(xid);
  const mac = randomBytes(6);
  mac[0] = (mac[0]! & 0xfc) | 0x02; // locally administered, unicast: never a real NIC's address
  const found = new Map<string, Rival>();
  try {
    s.socket.on('message', (buf, rinfo) => {
      try {
        const p = decode(buf);
        if (p.xid !== xid || messageType(p) !== MessageType.Offer) return;
        const serverId = p.options.get(Opt.ServerIdentifier) ?? rinfo.address;
        if (o.ours.has(serverId) || o.ours.has(rinfo.address)) return;
        found.set(`${serverId}/${p.yiaddr}`, {
          ifname: o.ifname, serverId, from: rinfo.address, offered: p.yiaddr, proxy: p.yiaddr === '0.0.0.0',
          bootFile: p.file || (p.options.get(Opt.BootFileName) ?? null),
        });
      } catch {
        // Garbage on the client port is not a rival.
      }
    });
    const d = emptyPacket();
    d.xid = xid;
    d.flags = FLAG_BROADCAST;
    mac.copy(d.chaddr);
    d.options
      .set(Opt.MessageType, MessageType.Discover)
      .set(Opt.ParameterRequestList, [Opt.SubnetMask, Opt.Router, Opt.DomainNameServer, Opt.BootFileName, Opt.VendorClassId])
      .set(Opt.ClientArch, [0])
      .set(Opt.ClientNdi, { type: 1, major: 2, minor: 1 })
      .set(Opt.ClientUuid, { type: 0, uuid: randomBytes(16).toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-') })
      .set(Opt.VendorClassId, 'PXEClient:Arch:00000:UNDI:002001');
    const bytes = encode(d);
    await sendTo(s, bytes, o.ports.server, '255.255.255.255');
    // A second DISCOVER halfway through, as a client would retry: some servers miss the first (e.g. ARP probing).
    await new Promise((r) => setTimeout(r, o.timeoutMs / 2));
    await sendTo(s, bytes, o.ports.server, '255.255.255.255');
    await new Promise((r) => setTimeout(r, o.timeoutMs / 2));
  } finally {
    await closeIfSocket(s);
  }
  return [...found.values()];
}
