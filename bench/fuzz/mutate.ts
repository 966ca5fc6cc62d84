/**
 * Datagrams for the fuzz campaign: random bytes, and mutations of packets captured from real
 * clients (test/fixtures/dhcp/*.bin, test/fixtures/tftp/*.bin). Pure and seeded: a seed gives the
 * same sequence of datagrams, so a finding can be replayed. Only the datagrams aimed at live TFTP
 * transfer ports depend on what the server answered (see liveDatagram).
 */

/** Seeded generator (mulberry32): fast, and good enough to pick mutations. */
export interface Rng {
  u32(): number;
  /** [0, 1) */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  chance(p: number): boolean;
  pick<T>(a: readonly T[]): T;
  /** Fills buf with random bytes. */
  fill(buf: Buffer): Buffer;
  bytes(n: number): Buffer;
}

export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const u32 = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
  const next = () => u32() / 0x100000000;
  const int = (n: number) => Math.floor(next() * n);
  const fill = (buf: Buffer) => {
    let i = 0;
    for (; i + 4 <= buf.length; i += 4) buf.writeUInt32LE(u32(), i);
    for (; i < buf.length; i++) buf[i] = u32() & 0xff;
    return buf;
  };
  return { u32, next, int, chance: (p) => next() < p, pick: (arr) => arr[int(arr.length)]!, fill, bytes: (n) => fill(Buffer.allocUnsafe(n)) };
}

/** Where a datagram goes; the sender turns this into an address and port. */
export type Target = 'dhcp-broadcast' | 'dhcp-unicast' | 'tftp-request' | 'tftp-live';

export interface Datagram {
  /** "dhcp.<mutation>" or "tftp.<mutation>": the report counts datagrams by it. */
  kind: string;
  target: Target;
  /** Empty for tftp-live: the sender builds it with liveDatagram() once it knows a live port. */
  buf: Buffer;
}

export interface Seeds {
  /** Captured DHCP requests (BOOTP header, cookie, options). */
  dhcp: Buffer[];
  /** Captured TFTP read requests. */
  tftp: Buffer[];
  /** Names the server really serves (boot loaders, generated pxelinux files): RRQs of these start transfers. */
  files: string[];
  /** The server's address: forged requests name it, its network and broadcast addresses. */
  server: string;
}

// DHCP layout (RFC 2131 2): op htype hlen hops, xid, secs flags, ciaddr yiaddr siaddr giaddr,
// chaddr(16) sname(64) file(128), then the magic cookie and options.
const XID = 4;
const FLAGS = 10;
const CIADDR = 12;
const GIADDR = 24;
const CHADDR = 28;
const SNAME = 44;
const FILE = 108;
const COOKIE = 236;
const OPTIONS = 240;

const INTERESTING = [0x00, 0x01, 0x02, 0x7f, 0x80, 0xfe, 0xff, 0x35, 0x34, 0x52];
/** Options netroot reads: corrupting these reaches the most code. */
const KNOWN_OPTIONS = [12, 43, 50, 51, 52, 53, 54, 55, 57, 60, 61, 77, 81, 82, 93, 94, 97, 175, 255, 0];

interface Span {
  at: number;
  code: number;
  len: number;
}

/** The options of a captured request, as far as they parse (fixtures are well formed). */
export function optionSpans(b: Buffer): Span[] {
  const out: Span[] = [];
  let i = OPTIONS;
  while (i < b.length) {
    const code = b[i]!;
    if (code === 255) break;
    if (code === 0) {
      i++;
      continue;
    }
    if (i + 1 >= b.length) break;
    const len = b[i + 1]!;
    out.push({ at: i, code, len });
    i += 2 + len;
  }
  return out;
}

/** Index of the End option (or the buffer's length when there is none). */
function endAt(b: Buffer): number {
  const s = optionSpans(b);
  const last = s.at(-1);
  const after = last ? last.at + 2 + last.len : OPTIONS;
  return after < b.length && b[after] === 255 ? after : Math.min(after, b.length);
}

/** Inserts bytes before the End option. */
function insertOptions(b: Buffer, extra: Buffer): Buffer {
  const e = endAt(b);
  return Buffer.concat([b.subarray(0, e), extra, Buffer.from([255])]);
}

function randomLength(r: Rng): number {
  const x = r.next();
  if (x < 0.35) return r.int(300);
  if (x < 0.8) return 300 + r.int(1201);
  if (x < 0.95) return 1500 + r.int(500);
  return 2000 + r.int(7000); // past the MTU: IP fragments, and past the codec's 8192 limit
}

function ipv4Bytes(s: string): Buffer {
  return Buffer.from(s.split('.').map(Number));
}

/** Addresses a forged request names: the server, its network's edges, a pool-sized range, anything. */
function forgedAddress(r: Rng, server: string): Buffer {
  const net = ipv4Bytes(server);
  const x = r.int(6);
  if (x === 0) return net;
  if (x === 1) return Buffer.from([net[0]!, net[1]!, net[2]!, r.pick([0, 255, 10, 11, 12, 13])]);
  if (x === 2) return Buffer.from([net[0]!, net[1]!, net[2]!, r.int(256)]);
  if (x === 3) return Buffer.from([255, 255, 255, 255]);
  if (x === 4) return Buffer.alloc(4);
  return r.bytes(4);
}

type Mutator = (r: Rng, s: Seeds) => Buffer;

/** Flips bit `i` of b (bit 0 = lowest bit of byte 0). */
function flip(b: Buffer, i: number): void {
  b[i >> 3] = b[i >> 3]! ^ (1 << (i & 7));
}

const dhcpSeed = (r: Rng, s: Seeds) => Buffer.from(r.pick(s.dhcp));

export const DHCP_MUTATORS: Record<string, Mutator> = {
  random: (r) => r.bytes(randomLength(r)),
  'random-options': (r, s) => Buffer.concat([dhcpSeed(r, s).subarray(0, OPTIONS), r.bytes(r.int(1300))]),
  bitflip: (r, s) => {
    const b = dhcpSeed(r, s);
    for (let n = 1 + r.int(16); n > 0; n--) {
      const i = r.int(b.length * 8);
      flip(b, i);
    }
    return b;
  },
  bytes: (r, s) => {
    const b = dhcpSeed(r, s);
    for (let n = 1 + r.int(8); n > 0; n--) b[r.int(b.length)] = r.chance(0.5) ? r.pick(INTERESTING) : r.int(256);
    return b;
  },
  truncate: (r, s) => {
    const b = dhcpSeed(r, s);
    // Half the cuts fall around the end of the header and cookie, where length checks live.
    return b.subarray(0, r.chance(0.5) ? 220 + r.int(30) : r.int(b.length));
  },
  extend: (r, s) => {
    const b = dhcpSeed(r, s);
    const tail = r.bytes(1 + r.int(1500));
    return r.chance(0.5) ? Buffer.concat([b, tail]) : Buffer.concat([b.subarray(0, endAt(b)), tail]);
  },
  'option-length': (r, s) => {
    const b = dhcpSeed(r, s);
    const spans = optionSpans(b);
    const o = spans.length ? r.pick(spans) : { at: OPTIONS, code: 53, len: 1 };
    if (o.at + 1 < b.length) b[o.at + 1] = r.pick([0, 1, 2, 3, 4, 5, 16, 17, 254, 255, (o.len + 1) & 0xff, (o.len - 1) & 0xff, r.int(256)]);
    return b;
  },
  'duplicate-option': (r, s) => {
    const b = dhcpSeed(r, s);
    const spans = optionSpans(b);
    if (!spans.length) return b;
    const o = r.pick(spans);
    const one = b.subarray(o.at, o.at + 2 + o.len);
    const copies: Buffer[] = [];
    for (let n = 1 + r.int(r.chance(0.2) ? 200 : 8); n > 0; n--) {
      // Same option again: verbatim, or with other contents (a second message type, say).
      copies.push(r.chance(0.5) ? one : Buffer.concat([Buffer.from([o.code, o.len]), r.bytes(o.len)]));
    }
    return insertOptions(b, Buffer.concat(copies));
  },
  'overlong-option': (r, s) => {
    const b = dhcpSeed(r, s);
    const extra: Buffer[] = [];
    for (let n = 1 + r.int(6); n > 0; n--) extra.push(Buffer.from([r.chance(0.7) ? r.pick(KNOWN_OPTIONS) : r.int(256), 255]), r.bytes(255));
    return insertOptions(b, Buffer.concat(extra));
  },
  'bad-cookie': (r, s) => {
    const b = dhcpSeed(r, s);
    if (r.chance(0.5)) b.writeUInt32BE(r.u32(), COOKIE);
    else flip(b, (COOKIE + r.int(4)) * 8 + r.int(8));
    return b;
  },
  'header-fields': (r, s) => {
    const b = dhcpSeed(r, s);
    // op, htype, hlen, hops: random op codes and hardware address lengths past chaddr's 16 bytes.
    const f = r.int(4);
    b[f] = f === 2 ? r.pick([0, 1, 5, 6, 7, 16, 17, 255]) : r.chance(0.5) ? r.pick(INTERESTING) : r.int(256);
    return b;
  },
  'message-type': (r, s) => {
    const b = dhcpSeed(r, s);
    const mt = optionSpans(b).find((o) => o.code === 53);
    if (!mt) return b;
    const x = r.int(3);
    if (x === 0) b[mt.at + 2] = r.int(256);
    else if (x === 1) b[mt.at] = 0; // no message type: a BOOTP request
    else b[mt.at + 1] = 0; // present but empty
    return b;
  },
  overload: (r, s) => {
    // RFC 2131 4.1 option 52: options continue in file and sname; fill them with garbage options.
    const b = insertOptions(dhcpSeed(r, s), Buffer.from([52, 1, 1 + r.int(3)]));
    r.fill(b.subarray(SNAME, COOKIE));
    if (r.chance(0.5)) b[FILE + r.int(128)] = 255;
    return b;
  },
  forged: (r, s) => {
    // A well-formed request from a random MAC: a DISCOVER or REQUEST to the pool, a DECLINE or
    // RELEASE of someone's address, an INFORM, through a made-up relay or none.
    const b = dhcpSeed(r, s);
    b.writeUInt32BE(r.u32(), XID);
    const mac = r.bytes(6);
    mac[0] = (mac[0]! & 0xfe) | 0x02;
    mac.copy(b, CHADDR);
    b.writeUInt16BE(r.chance(0.5) ? 0x8000 : 0, FLAGS);
    if (r.chance(0.2)) forgedAddress(r, s.server).copy(b, GIADDR);
    if (r.chance(0.2)) forgedAddress(r, s.server).copy(b, CIADDR);
    for (const o of optionSpans(b)) {
      if (o.code === 53 && o.len === 1) b[o.at + 2] = r.pick([1, 1, 1, 3, 3, 4, 7, 8]);
      if ((o.code === 50 || o.code === 54) && o.len === 4) forgedAddress(r, s.server).copy(b, o.at + 2);
      if (o.code === 61 && o.len === 7) mac.copy(b, o.at + 3);
    }
    return b;
  },
};

const TFTP_NAMES = [
  '../../../../etc/shadow', '/etc/passwd', '..', '.', '/', '//', 'a/../../etc/passwd', '..\\..\\windows\\win.ini',
  '%2e%2e/%2e%2e/etc/passwd', 'pxelinux.cfg/../../netroot.db', 'pxelinux.cfg/01-../../../etc', 'boot/../../../etc/shadow',
  'netroot.db', 'images/../netroot.db', 'state/', 'pxelinux.cfg/', 'pxelinux.cfg/01-', 'pxelinux.cfg/01-zz-zz-zz-zz-zz-zz',
  'boot/01-52-54-00-00-00-01/1/vmlinuz', 'boot/x/y/z/initrd.img', 'undionly.kpxe/..', 'undionly.kpxe\u0000.txt', 'UNDIONLY.KPXE',
  '', ' ', '\u00ff\u00fe', 'a'.repeat(255), 'b'.repeat(1000), 'x/'.repeat(300),
];
const TFTP_OPTION_NAMES = ['blksize', 'tsize', 'timeout', 'windowsize', 'BLKSIZE', 'WindowSize', 'multicast', 'rollover', 'utimeout', '', 'x'.repeat(200)];
const TFTP_OPTION_VALUES = ['0', '1', '7', '8', '9', '512', '1432', '1468', '65464', '65465', '65535', '65536', '4294967296', '99999999999999999999999', '-1', '+8', '0x200', '1e3', '8.5', ' 512', '', 'abc', '255', '256', '1000000'];

function cstr(s: string): Buffer {
  return Buffer.concat([Buffer.from(s, 'latin1'), Buffer.from([0])]);
}

function request(op: number, file: string, mode: string, options: [string, string][]): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(op);
  return Buffer.concat([head, cstr(file), cstr(mode), ...options.flatMap(([k, v]) => [cstr(k), cstr(v)])]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n & 0xffff);
  return b;
}

/** DATA, ACK, ERROR or OACK with random contents: stray packets where only requests belong. */
export function stray(r: Rng): Buffer {
  switch (r.int(4)) {
    case 0:
      return Buffer.concat([u16(3), u16(r.int(65536)), r.bytes(r.int(r.chance(0.1) ? 1500 : 600))]);
    case 1:
      return Buffer.concat([u16(4), u16(r.int(65536)), r.chance(0.2) ? r.bytes(r.int(20)) : Buffer.alloc(0)]);
    case 2:
      return Buffer.concat([u16(5), u16(r.int(65536)), r.chance(0.8) ? cstr('fuzz') : r.bytes(r.int(40))]);
    default:
      return Buffer.concat([u16(6), cstr(r.pick(TFTP_OPTION_NAMES)), cstr(r.pick(TFTP_OPTION_VALUES))]);
  }
}

function absurdOptions(r: Rng, max: number): [string, string][] {
  const opts: [string, string][] = [];
  for (let n = r.int(max); n > 0; n--) opts.push([r.pick(TFTP_OPTION_NAMES), r.pick(TFTP_OPTION_VALUES)]);
  return opts;
}

const tftpSeed = (r: Rng, s: Seeds) => Buffer.from(r.pick(s.tftp));

export const TFTP_MUTATORS: Record<string, Mutator> = {
  random: (r) => r.bytes(randomLength(r)),
  mutated: (r, s) => {
    const b = tftpSeed(r, s);
    switch (r.int(4)) {
      case 0:
        for (let n = 1 + r.int(8); n > 0; n--) {
          const i = r.int(b.length * 8);
          flip(b, i);
        }
        return b;
      case 1:
        for (let n = 1 + r.int(6); n > 0; n--) b[r.int(b.length)] = r.chance(0.5) ? r.pick(INTERESTING) : r.int(256);
        return b;
      case 2:
        return b.subarray(0, r.int(b.length));
      default:
        return Buffer.concat([b, r.bytes(1 + r.int(600))]);
    }
  },
  'absurd-options': (r, s) => {
    const b = request(1, r.pick(s.files), 'octet', absurdOptions(r, r.chance(0.2) ? 200 : 12));
    // Sometimes without the last NUL (an unterminated option value).
    return r.chance(0.2) ? b.subarray(0, b.length - 1) : b;
  },
  traversal: (r) => request(1, r.pick(TFTP_NAMES), r.pick(['octet', 'netascii']), r.chance(0.5) ? [['blksize', '1468'], ['tsize', '0']] : []),
  wrq: (r, s) => request(2, r.chance(0.5) ? r.pick(s.files) : r.pick(TFTP_NAMES), 'octet', absurdOptions(r, 4)),
  'bad-mode': (r, s) => request(1, r.pick(s.files), r.pick(['mail', 'MAIL', 'binary', '', 'octet\u0001', 'x'.repeat(100), 'NetAscii', 'OCTET']), absurdOptions(r, 3)),
  stray: (r) => stray(r),
  'op-code': (r) => Buffer.concat([u16(r.chance(0.5) ? r.pick([0, 7, 8, 255, 256, 0x8001, 0xffff]) : r.int(65536)), r.bytes(r.int(100))]),
  'real-rrq': (r, s) => {
    // A request a client could make: these start transfers, whose ports get the live datagrams.
    const opts: [string, string][] = [];
    if (r.chance(0.7)) opts.push(['blksize', r.pick(['512', '1432', '1468', '8', '65464'])]);
    if (r.chance(0.5)) opts.push(['tsize', '0']);
    if (r.chance(0.4)) opts.push(['windowsize', r.pick(['1', '4', '16', '64'])]);
    if (r.chance(0.3)) opts.push(['timeout', r.pick(['1', '2', '255'])]);
    return request(1, r.pick(s.files), r.chance(0.9) ? 'octet' : 'netascii', opts);
  },
};

/** How often each mutation is picked (relative weights within its protocol). */
const DHCP_WEIGHTS: Record<string, number> = {
  random: 14, 'random-options': 8, bitflip: 8, bytes: 8, truncate: 6, extend: 6, 'option-length': 8, 'duplicate-option': 6,
  'overlong-option': 6, 'bad-cookie': 5, 'header-fields': 6, 'message-type': 6, overload: 4, forged: 9,
};
const TFTP_WEIGHTS: Record<string, number> = {
  random: 15, mutated: 15, 'absurd-options': 12, traversal: 12, wrq: 4, 'bad-mode': 4, stray: 10, 'op-code': 5, 'real-rrq': 8, live: 15,
};

function weighted(w: Record<string, number>): (r: Rng) => string {
  const names = Object.keys(w);
  const total = names.reduce((t, n) => t + w[n]!, 0);
  return (r) => {
    let x = r.next() * total;
    for (const n of names) {
      x -= w[n]!;
      if (x < 0) return n;
    }
    return names.at(-1)!;
  };
}

export interface Generator {
  next(): Datagram;
}

/**
 * Half DHCP (half of it broadcast on the link, half unicast to the server), half TFTP (or one of
 * them alone). A
 * "tftp.live" datagram comes back with an empty buffer and target tftp-live: the sender builds it
 * for a transfer port it has seen, or sends a stray packet to port 69 when it knows none.
 */
export function createGenerator(seeds: Seeds, r: Rng, protocols: readonly ('dhcp' | 'tftp')[] = ['dhcp', 'tftp']): Generator {
  if (!seeds.dhcp.length || !seeds.tftp.length || !seeds.files.length) throw new Error('fuzz seeds: need DHCP and TFTP captures and at least one served file name');
  const dhcpKind = weighted(DHCP_WEIGHTS);
  const tftpKind = weighted(TFTP_WEIGHTS);
  return {
    next() {
      const dhcp = protocols.length === 2 ? r.chance(0.5) : protocols[0] === 'dhcp';
      if (dhcp) {
        const k = dhcpKind(r);
        return { kind: `dhcp.${k}`, target: r.chance(0.5) ? 'dhcp-broadcast' : 'dhcp-unicast', buf: DHCP_MUTATORS[k]!(r, seeds) };
      }
      const k = tftpKind(r);
      if (k === 'live') return { kind: 'tftp.live', target: 'tftp-live', buf: Buffer.alloc(0) };
      return { kind: `tftp.${k}`, target: 'tftp-request', buf: TFTP_MUTATORS[k]!(r, seeds) };
    },
  };
}

export const DHCP_KINDS = Object.keys(DHCP_WEIGHTS).map((k) => `dhcp.${k}`);
export const TFTP_KINDS = Object.keys(TFTP_WEIGHTS).map((k) => `tftp.${k}`);

/** What the sender knows about a transfer the server started for it. */
export interface LiveTransfer {
  /** Last DATA block number received (0 after an OACK). */
  lastBlock: number;
}

/**
 * A datagram for a live transfer port: the ACK the transfer waits for (it moves on), an ACK of
 * another block, DATA, an ERROR (the transfer ends), garbage, or a request; `otherSocket` says
 * to send it from another port than the transfer's peer (RFC 1350 section 4: an unknown TID).
 */
export function liveDatagram(r: Rng, t: LiveTransfer): { kind: string; buf: Buffer; otherSocket: boolean } {
  const otherSocket = r.chance(0.15);
  const x = r.int(10);
  if (x < 4) return { kind: 'tftp.live.ack', buf: Buffer.concat([u16(4), u16(t.lastBlock)]), otherSocket };
  if (x < 6) return { kind: 'tftp.live.ack-other', buf: Buffer.concat([u16(4), u16(r.chance(0.5) ? t.lastBlock + 1 + r.int(3) : r.int(65536))]), otherSocket };
  if (x === 6) return { kind: 'tftp.live.error', buf: Buffer.concat([u16(5), u16(r.int(9)), cstr('fuzz')]), otherSocket };
  if (x === 7) return { kind: 'tftp.live.data', buf: Buffer.concat([u16(3), u16(r.int(65536)), r.bytes(r.int(600))]), otherSocket };
  if (x === 8) return { kind: 'tftp.live.random', buf: r.bytes(r.int(700)), otherSocket };
  return { kind: 'tftp.live.request', buf: request(1, 'undionly.kpxe', 'octet', absurdOptions(r, 3)), otherSocket };
}
