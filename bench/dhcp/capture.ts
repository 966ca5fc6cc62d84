/**
 * The server's own answer time, seen on its interface: tcpdump in the server's namespace records
 * when each DISCOVER and REQUEST arrived and when its OFFER or ACK left, so the delay measured
 * excludes the load generator (perfdhcp timestamps in its own loop, after its own sending and
 * scheduling). The parser is pure; `tcpdumpArgv` is what the bench runs.
 */
import { HEADER_SIZE, MAGIC_COOKIE, MessageType, Opt } from '../../pxe/dhcp/constants.js';
import { percentile } from './perfdhcp.js';

/**
 * tcpdump writing nanosecond timestamps of the DHCP packets on `ifname` to `file`, in SCHED_IDLE:
 * the kernel stamps each packet as it passes, so tcpdump can read them late, and at normal
 * priority its wake-ups took CPU time from the server under test (Kea's p99 rose from 0.2 to 1-5 ms).
 */
export function tcpdumpArgv(ifname: string, file: string): string[] {
  // -s 400: the BOOTP header and the first options (53 comes first from both servers and from
  // perfdhcp); -B: a 16 MiB ring, room for seconds of packets while tcpdump waits for a CPU.
  return ['chrt', '--idle', '0', 'tcpdump', '-i', ifname, '-n', '-s', '400', '-B', '16384', '--time-stamp-precision=nano', '-w', file, 'udp port 67'];
}

/** tcpdump's closing report, e.g. "3 packets dropped by kernel"; null when it printed none. */
export function tcpdumpDrops(stderr: string): number | null {
  const m = /(\d+) packets? dropped by kernel/.exec(stderr);
  return m ? Number(m[1]) : null;
}

export interface WireDelays {
  /** DISCOVER in to OFFER out, ms, sorted; likewise REQUEST in to ACK or NAK out. */
  offer: number[];
  ack: number[];
  /**
   * Stalls: runs of overlapping exchanges (request in to reply out) that each took over
   * STALL_MS, i.e. times the server left packets waiting; a GC pause or a preemption makes one.
   */
  stalls: number;
  /** Requests seen with no reply in the capture. */
  unanswered: number;
  /** Frames that were not IPv4/UDP DHCP with a message type (skipped). */
  skipped: number;
}

/** An exchange slower than this (ms) is part of a stall. */
export const STALL_MS = 0.3;

const { Discover: DISCOVER, Offer: OFFER, Request: REQUEST, Ack: ACK, Nak: NAK } = MessageType;

/**
 * DHCP message type (option 53) of the BOOTP payload at `off`, or 0. Not the codec's decode():
 * tcpdump keeps only the first 400 bytes of a frame, and decode() rightly refuses an option cut
 * off at the end; option 53 comes first from both servers and from perfdhcp.
 */
function messageType(b: Buffer, off: number, end: number): number {
  if (end - off < HEADER_SIZE + 4 || b.readUInt32BE(off + HEADER_SIZE) !== MAGIC_COOKIE) return 0;
  let i = off + HEADER_SIZE + 4;
  while (i < end) {
    const code = b[i]!;
    if (code === 255) return 0;
    if (code === 0) {
      i++;
      continue;
    }
    if (i + 1 >= end) return 0;
    const len = b[i + 1]!;
    if (code === Opt.MessageType) return len === 1 && i + 2 < end ? b[i + 2]! : 0;
    i += 2 + len;
  }
  return 0;
}

/**
 * Pairs requests and replies of a pcap file (Ethernet, micro- or nanosecond timestamps, either
 * byte order) by message type and transaction id; a retransmitted request counts from its first copy.
 */
export function wireDelays(pcap: Buffer): WireDelays {
  if (pcap.length < 24) throw new Error('pcap: shorter than its header');
  const magicLE = pcap.readUInt32LE(0);
  const magicBE = pcap.readUInt32BE(0);
  const known = (m: number) => m === 0xa1b2c3d4 || m === 0xa1b23c4d;
  if (!known(magicLE) && !known(magicBE)) throw new Error('pcap: not a pcap file (bad magic)');
  const le = known(magicLE);
  const magic = le ? magicLE : magicBE;
  const u32 = (o: number) => (le ? pcap.readUInt32LE(o) : pcap.readUInt32BE(o));
  const fracToMs = magic === 0xa1b23c4d ? 1e-6 : 1e-3;
  const linktype = u32(20);
  if (linktype !== 1) throw new Error(`pcap: link type ${linktype}, expected Ethernet (1)`);

  const arrived = new Map<number, number>(); // (type << 32 | xid) as a float key -> ms
  const out: WireDelays = { offer: [], ack: [], stalls: 0, unanswered: 0, skipped: 0 };
  const slow: [number, number][] = [];
  let sec0: number | null = null;
  let off = 24;
  while (off + 16 <= pcap.length) {
    const sec = u32(off);
    const frac = u32(off + 4);
    const incl = u32(off + 8);
    const data = off + 16;
    const end = data + incl;
    if (end > pcap.length) break; // cut short by a kill: the last record is partial
    off = end;
    sec0 ??= sec;
    const t = (sec - sec0) * 1000 + frac * fracToMs;
    let ip = data + 14;
    let ethertype = ip <= end ? pcap.readUInt16BE(data + 12) : 0;
    if (ethertype === 0x8100 && ip + 4 <= end) {
      ethertype = pcap.readUInt16BE(data + 16);
      ip += 4;
    }
    if (ethertype !== 0x0800 || ip + 20 > end || pcap[ip]! >> 4 !== 4 || pcap[ip + 9] !== 17) {
      out.skipped++;
      continue;
    }
    const udp = ip + (pcap[ip]! & 0x0f) * 4;
    const bootp = udp + 8;
    const type = bootp + 8 <= end ? messageType(pcap, bootp, end) : 0;
    if (type === 0) {
      out.skipped++;
      continue;
    }
    const xid = pcap.readUInt32BE(bootp + 4);
    if (type === DISCOVER || type === REQUEST) {
      const key = type * 2 ** 32 + xid;
      if (!arrived.has(key)) arrived.set(key, t);
      continue;
    }
    const asked = type === OFFER ? DISCOVER : type === ACK || type === NAK ? REQUEST : 0;
    if (asked === 0) continue;
    const key = asked * 2 ** 32 + xid;
    const t0 = arrived.get(key);
    if (t0 === undefined) continue;
    arrived.delete(key);
    (asked === DISCOVER ? out.offer : out.ack).push(t - t0);
    if (t - t0 > STALL_MS) slow.push([t0, t]);
  }
  out.unanswered = arrived.size;
  slow.sort((a, b) => a[0] - b[0]);
  let until = -Infinity;
  for (const [from, to] of slow) {
    if (from > until) out.stalls++;
    until = Math.max(until, to);
  }
  out.offer.sort((a, b) => a - b);
  out.ack.sort((a, b) => a - b);
  return out;
}

export interface WireSummary {
  'wire p50 OFFER ms': number;
  'wire p99 OFFER ms': number;
  'wire p99 ACK ms': number;
  'wire stalls': number;
  'wire pairs': number;
  'capture drops': number;
}

export function summarize(d: WireDelays, drops: number | null): WireSummary {
  return {
    'wire p50 OFFER ms': percentile(d.offer, 50),
    'wire p99 OFFER ms': percentile(d.offer, 99),
    'wire p99 ACK ms': percentile(d.ack, 99),
    'wire stalls': d.stalls,
    'wire pairs': d.offer.length + d.ack.length,
    // Unknown (tcpdump said nothing) is reported as -1, not as 0.
    'capture drops': drops ?? -1,
  };
}
