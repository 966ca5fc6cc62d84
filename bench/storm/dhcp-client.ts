/**
 * Many simulated DHCP clients on one socket: DISCOVER, OFFER, REQUEST, ACK with netroot's own codec
 * (pxe/dhcp), sent from 0.0.0.0:68 with the broadcast flag (as PXE ROMs and iPXE send them, having
 * no address yet) on one interface, replies told apart by xid and chaddr.
 *
 * Two kinds of client, as a PXE boot has two DHCP exchanges:
 * - firmware (UEFI PXE): arch 7, vendor class "PXEClient:Arch:00007:UNDI:003016", retransmits at
 *   4, 8, 16, 32 s (PXE 2.1 spec; EDK2's PxeBcDxe), then gives up;
 * - iPXE (the loader, once running): the same plus user class "iPXE" and option 175, retransmits
 *   at 1, 2, 4, 8, 10 s (iPXE's DHCP_DISC/REQ start 1 s, end 10 s), then gives up.
 */
import { randomBytes } from 'node:crypto';
import { sockopt } from '../../pxe/native/index.js';
import { openIfSocket, closeIfSocket, type IfSocket } from '../../pxe/dhcp/transport.js';
import { FLAG_BROADCAST, MessageType, Opt } from '../../pxe/dhcp/constants.js';
import { decode, emptyPacket, encode, type DhcpPacket } from '../../pxe/dhcp/packet.js';

export type DhcpClientKind = 'firmware' | 'ipxe';

const SCHEDULE_S: Record<DhcpClientKind, number[]> = { firmware: [4, 8, 16, 32], ipxe: [1, 2, 4, 8, 10] };

export interface Lease {
  yiaddr: string;
  siaddr: string;
  serverId: string;
  /** Boot file: the file field, or option 67 (without trailing NULs) when the file field is empty. */
  file: string;
  hostname: string | null;
  /** DISCOVERs and REQUESTs sent again after a timeout. */
  retransmits: number;
  naks: number;
}

export class DhcpError extends Error {}

interface Pending {
  mac: string;
  kind: DhcpClientKind;
  xid: number;
  phase: 'offer' | 'ack';
  packet: Buffer;
  /** Index into the retransmit schedule and when the current wait ends (ms). */
  step: number;
  deadline: number;
  started: number;
  retransmits: number;
  naks: number;
  offer: DhcpPacket | null;
  resolve(l: Lease): void;
  reject(e: Error): void;
}

const macBytes = (mac: string) => Buffer.from(mac.replace(/:/g, ''), 'hex');
const UUID_PREFIX = '5e5e5e5e-0000-4000-8000-';

export class DhcpClients {
  private readonly pending = new Map<number, Pending>();
  private readonly timer: NodeJS.Timeout;
  /** Replies that matched no exchange (late duplicates, other xids) and replies that failed to decode. */
  stray = 0;
  undecodable = 0;

  private constructor(
    private readonly s: IfSocket,
    private readonly now: () => number,
  ) {
    s.socket.on('message', (buf) => this.onMessage(buf));
    this.timer = setInterval(() => this.tick(), 50);
  }

  /** Opens 0.0.0.0:68 on ifname with a receive buffer for a burst of N broadcast replies. */
  static async open(ifname: string, now: () => number = () => performance.now()): Promise<DhcpClients> {
    const s = await openIfSocket(ifname, 68);
    sockopt().setRecvBuffer(s.fd, 16 << 20);
    return new DhcpClients(s, now);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const p of this.pending.values()) p.reject(new DhcpError('client closed'));
    this.pending.clear();
    await closeIfSocket(this.s);
  }

  /** One DORA exchange for mac; resolves with the ACKed lease or rejects saying what was missing. */
  exchange(mac: string, kind: DhcpClientKind): Promise<Lease> {
    return new Promise((resolve, reject) => {
      let xid = randomBytes(4).readUInt32BE(0);
      while (this.pending.has(xid)) xid = (xid + 1) >>> 0;
      const p: Pending = {
        mac, kind, xid, phase: 'offer', packet: Buffer.alloc(0), step: 0, deadline: 0, started: this.now(), retransmits: 0, naks: 0, offer: null, resolve, reject,
      };
      p.packet = encode(this.request(p, MessageType.Discover, null));
      this.pending.set(xid, p);
      this.send(p);
    });
  }

  private request(p: Pending, type: number, offer: DhcpPacket | null): DhcpPacket {
    const d = emptyPacket();
    d.xid = p.xid;
    d.flags = FLAG_BROADCAST;
    d.secs = Math.min(65535, Math.floor((this.now() - p.started) / 1000));
    macBytes(p.mac).copy(d.chaddr);
    const ipxe = p.kind === 'ipxe';
    d.options
      .set(Opt.MessageType, type)
      .set(Opt.MaxMessageSize, 1472)
      .set(Opt.ParameterRequestList, ipxe ? [1, 3, 6, 7, 12, 15, 17, 26, 43, 60, 66, 67, 119, 128, 129, 130, 131, 132, 133, 134, 135, 175, 203] : [1, 2, 3, 4, 5, 6, 12, 13, 15, 17, 18, 22, 23, 28, 40, 41, 42, 43, 50, 51, 54, 58, 59, 60, 66, 67, 97, 128, 129, 130, 131, 132, 133, 134, 135])
      .set(Opt.ClientArch, [7])
      .set(Opt.ClientNdi, { type: 1, major: 3, minor: 16 })
      .set(Opt.ClientUuid, { type: 0, uuid: `${UUID_PREFIX}${p.mac.replace(/:/g, '')}` })
      .set(Opt.VendorClassId, ipxe ? 'PXEClient:Arch:00007:UNDI:003010' : 'PXEClient:Arch:00007:UNDI:003016');
    if (ipxe) {
      d.options.set(Opt.UserClass, 'iPXE').set(Opt.IpxeEncap, [
        { code: 19, data: Buffer.from([1]) }, // http
        { code: 23, data: Buffer.from([1]) }, // pxe
        { code: 24, data: Buffer.from([1]) }, // efi
      ]);
    }
    if (offer) {
      d.options.set(Opt.ServerIdentifier, offer.options.get(Opt.ServerIdentifier) ?? offer.siaddr).set(Opt.RequestedIpAddress, offer.yiaddr);
    }
    return d;
  }

  private send(p: Pending): void {
    const waitS = SCHEDULE_S[p.kind][p.step]!;
    p.deadline = this.now() + waitS * 1000;
    this.s.socket.send(p.packet, 67, '255.255.255.255', (err) => {
      if (err) this.fail(p, `send: ${err.message}`);
    });
  }

  private fail(p: Pending, why: string): void {
    if (this.pending.get(p.xid) !== p) return;
    this.pending.delete(p.xid);
    p.reject(new DhcpError(why));
  }

  private tick(): void {
    const t = this.now();
    for (const p of this.pending.values()) {
      if (t < p.deadline) continue;
      p.step++;
      if (p.step >= SCHEDULE_S[p.kind].length) {
        this.fail(p, p.phase === 'offer' ? `no OFFER after ${p.retransmits + 1} DISCOVERs` : `no ACK after ${p.retransmits + 1} REQUESTs`);
        continue;
      }
      p.retransmits++;
      this.send(p);
    }
  }

  private onMessage(buf: Buffer): void {
    let r: DhcpPacket;
    try {
      r = decode(buf);
    } catch {
      this.undecodable++;
      return;
    }
    const p = this.pending.get(r.xid);
    if (!p || r.op !== 2 || !r.chaddr.subarray(0, 6).equals(macBytes(p.mac))) {
      this.stray++;
      return;
    }
    const type = r.options.get(Opt.MessageType);
    if (p.phase === 'offer' && type === MessageType.Offer) {
      p.offer = r;
      p.phase = 'ack';
      p.step = 0;
      p.packet = encode(this.request(p, MessageType.Request, r));
      this.send(p);
    } else if (p.phase === 'ack' && type === MessageType.Ack) {
      this.pending.delete(p.xid);
      // Firmware reads option 67 as a C string: dnsmasq sends it with its NUL.
      const file = r.file || (r.options.get(Opt.BootFileName) ?? '').replace(/\0+$/, '');
      p.resolve({
        yiaddr: r.yiaddr,
        siaddr: r.siaddr,
        serverId: r.options.get(Opt.ServerIdentifier) ?? '',
        file,
        hostname: r.options.get(Opt.HostName) ?? null,
        retransmits: p.retransmits,
        naks: p.naks,
      });
    } else if (p.phase === 'ack' && type === MessageType.Nak) {
      // RFC 2131 3.1.5: back to INIT; give up after three NAKs in a row.
      p.naks++;
      if (p.naks >= 3) return this.fail(p, `NAK x${p.naks}: ${r.options.get(Opt.Message) ?? ''}`);
      p.phase = 'offer';
      p.step = 0;
      p.offer = null;
      p.packet = encode(this.request(p, MessageType.Discover, null));
      this.send(p);
    } else {
      this.stray++;
    }
  }
}
