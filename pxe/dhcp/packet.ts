/**
 * BOOTP/DHCP message codec (RFC 2131 2 layout, RFC 2132 options, RFC 3396 long options,
 * option 52 overload). Pure: bytes in, typed packet out, and back.
 */
import { DhcpDecodeError, DhcpEncodeError } from './errors.js';
import { FLAG_BROADCAST, HEADER_SIZE, MAGIC_COOKIE, MAX_PACKET_SIZE, MIN_PACKET_SIZE, MessageType, Op, Opt } from './constants.js';
import { DhcpOptions, decodeOption, ipFrom, writeIp, writeOption } from './options.js';

export interface DhcpPacket {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** The 16-byte chaddr field as sent (only the first hlen bytes are the address). */
  chaddr: Buffer;
  sname: string;
  file: string;
  options: DhcpOptions;
  /** Option 52 of the decoded packet (1 file, 2 sname, 3 both), 0 when not overloaded. encode() never overloads. */
  overload: number;
}

/** A zeroed packet, handy for building requests and replies. */
export function emptyPacket(op: number = Op.Request): DhcpPacket {
  return {
    op, htype: 1, hlen: 6, hops: 0, xid: 0, secs: 0, flags: 0,
    ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0',
    chaddr: Buffer.alloc(16), sname: '', file: '', options: new DhcpOptions(), overload: 0,
  };
}

/** Client MAC (normal form) when the hardware is Ethernet (htype 1, hlen 6), else null. */
export function packetMac(p: DhcpPacket): string | null {
  if (p.htype !== 1 || p.hlen !== 6) return null;
  const c = p.chaddr;
  return `${HEX[c[0]!]}:${HEX[c[1]!]}:${HEX[c[2]!]}:${HEX[c[3]!]}:${HEX[c[4]!]}:${HEX[c[5]!]}`;
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

export function messageType(p: DhcpPacket): number | null {
  return p.options.get(Opt.MessageType) ?? null;
}

export function isBroadcast(p: DhcpPacket): boolean {
  return (p.flags & FLAG_BROADCAST) !== 0;
}

function cString(buf: Buffer): string {
  if (buf[0] === 0) return '';
  const nul = buf.indexOf(0);
  return buf.subarray(0, nul < 0 ? buf.length : nul).toString('latin1');
}

/**
 * Where each option's data lies in the packet: [start, end) pairs, one per instance, in order
 * (RFC 3396: repeated codes concatenate). Offsets, not Buffers: an option that occurs once (all of
 * them, in practice) is decoded straight from the packet.
 */
type Spans = Map<number, number[]>;

/** Walks one option area, buf[from, to), noting each option's data span. */
function scanOptions(buf: Buffer, from: number, to: number, area: string, spans: Spans, allowOverload: boolean): void {
  let i = from;
  while (i < to) {
    const code = buf[i]!;
    if (code === Opt.Pad) { i++; continue; }
    if (code === Opt.End) return;
    if (i + 1 >= to) throw new DhcpDecodeError('truncated', `${area} option ${code}`, 'no length byte');
    const len = buf[i + 1]!;
    if (i + 2 + len > to) throw new DhcpDecodeError('truncated', `${area} option ${code}`, `length ${len} runs past the end`);
    // An overloaded field naming option 52 again would make decoders loop (RFC 2131 4.1 allows it only in the options field).
    if (code === Opt.Overload && !allowOverload) throw new DhcpDecodeError('bad-overload', `${area} option 52`, 'overload inside an overloaded field');
    const list = spans.get(code);
    if (list) list.push(i + 2, i + 2 + len);
    else spans.set(code, [i + 2, i + 2 + len]);
    i += 2 + len;
  }
  // No END: tolerated (some embedded clients omit it when the field is full).
}

/** An option's data: a view into the packet when it occurs once, else its parts joined. */
function spanData(buf: Buffer, span: number[]): Buffer {
  if (span.length === 2) return buf.subarray(span[0]!, span[1]!);
  const parts: Buffer[] = [];
  for (let i = 0; i < span.length; i += 2) parts.push(buf.subarray(span[i]!, span[i + 1]!));
  return Buffer.concat(parts);
}

export function decode(buf: Buffer): DhcpPacket {
  if (buf.length > MAX_PACKET_SIZE) throw new DhcpDecodeError('oversized', 'packet', `${buf.length} bytes, more than ${MAX_PACKET_SIZE}`);
  if (buf.length < HEADER_SIZE + 4) throw new DhcpDecodeError('truncated', 'packet', `${buf.length} bytes, need at least ${HEADER_SIZE + 4}`);
  const op = buf[0]!;
  if (op !== Op.Request && op !== Op.Reply) throw new DhcpDecodeError('bad-op', 'op', `must be 1 or 2, got ${op}`);
  const hlen = buf[2]!;
  if (hlen > 16) throw new DhcpDecodeError('bad-header', 'hlen', `${hlen} is more than 16`);
  if (buf.readUInt32BE(HEADER_SIZE) !== MAGIC_COOKIE) throw new DhcpDecodeError('bad-magic', 'magic cookie', `0x${buf.readUInt32BE(HEADER_SIZE).toString(16)}`);

  const spans: Spans = new Map();
  scanOptions(buf, HEADER_SIZE + 4, buf.length, 'options', spans, true);
  let overload = 0;
  const ov = spans.get(Opt.Overload);
  if (ov) {
    const data = spanData(buf, ov);
    if (data.length !== 1 || data[0]! < 1 || data[0]! > 3) throw new DhcpDecodeError('bad-overload', 'option 52 Overload', `must be one byte 1..3`);
    overload = data[0]!;
    spans.delete(Opt.Overload);
    // RFC 2131 4.1: the file field is read before sname.
    if (overload & 1) scanOptions(buf, 108, 236, 'file', spans, false);
    if (overload & 2) scanOptions(buf, 44, 108, 'sname', spans, false);
  }
  const options = new DhcpOptions();
  // decodeOption copies what it keeps (raw and sub-option bytes): views into buf are safe here.
  for (const [code, span] of spans) options.set(code, decodeOption(code, spanData(buf, span)) as never);

  return {
    op,
    htype: buf[1]!,
    hlen,
    hops: buf[3]!,
    xid: buf.readUInt32BE(4),
    secs: buf.readUInt16BE(8),
    flags: buf.readUInt16BE(10),
    ciaddr: ipFrom(buf, 12),
    yiaddr: ipFrom(buf, 16),
    siaddr: ipFrom(buf, 20),
    giaddr: ipFrom(buf, 24),
    chaddr: Buffer.from(buf.subarray(28, 44)),
    sname: overload & 2 ? '' : cString(buf.subarray(44, 108)),
    file: overload & 1 ? '' : cString(buf.subarray(108, 236)),
    options,
    overload,
  };
}

function field(buf: Buffer, off: number, size: number, s: string, name: string): void {
  // latin1: one byte per UTF-16 unit. RFC 2131 calls these null-terminated, but a full field
  // without NUL is accepted by decode(), so encode allows it too.
  if (s.length > size) throw new DhcpEncodeError(name, `longer than ${size} bytes`);
  if (s.length) buf.write(s, off, s.length, 'latin1');
}

/** The largest UDP payload over IPv4: no packet can be longer. */
const MAX_ENCODED = 65_507;
/**
 * Where a packet is put together before its bytes are copied out: one Buffer written in place,
 * where a reply used to be some thirty small Buffers concatenated (most of the codec's time).
 * encode is synchronous, so one is enough.
 */
const work = Buffer.allocUnsafe(MAX_ENCODED);
/** The part of `work` options may fill: the last byte is kept for END. */
const body = work.subarray(0, MAX_ENCODED - 1);

export function encode(p: DhcpPacket): Buffer {
  const b = work;
  b.fill(0, 0, HEADER_SIZE + 4);
  b[0] = p.op;
  b[1] = p.htype;
  b[2] = p.hlen;
  b[3] = p.hops;
  b.writeUInt32BE(p.xid >>> 0, 4);
  b.writeUInt16BE(p.secs, 8);
  b.writeUInt16BE(p.flags, 10);
  writeIp(b, 12, p.ciaddr, 'ciaddr');
  writeIp(b, 16, p.yiaddr, 'yiaddr');
  writeIp(b, 20, p.siaddr, 'siaddr');
  writeIp(b, 24, p.giaddr, 'giaddr');
  if (p.chaddr.length > 16) throw new DhcpEncodeError('chaddr', 'longer than 16 bytes');
  p.chaddr.copy(b, 28);
  field(b, 44, 64, p.sname, 'sname');
  field(b, 108, 128, p.file, 'file');
  b.writeUInt32BE(MAGIC_COOKIE, HEADER_SIZE);

  // Room is kept for the END byte.
  let at = HEADER_SIZE + 4;
  p.options.forEach((value, code) => {
    if (code === Opt.Overload) return; // never written: encode keeps all options in the options field
    if (at + 2 > body.length) throw new DhcpEncodeError(`option ${code}`, `does not fit in ${MAX_ENCODED} bytes`);
    const n = writeOption(body, at + 2, code, value);
    if (n <= 255) {
      b[at] = code;
      b[at + 1] = n;
      at += 2 + n;
      return;
    }
    // RFC 3396: data longer than 255 bytes is split into consecutive instances of the same code.
    const data = Buffer.from(b.subarray(at + 2, at + 2 + n));
    if (at + n + 2 * Math.ceil(n / 255) > body.length) throw new DhcpEncodeError(`option ${code}`, `does not fit in ${MAX_ENCODED} bytes`);
    for (let off = 0; off < n; off += 255) {
      const len = Math.min(255, n - off);
      b[at] = code;
      b[at + 1] = len;
      data.copy(b, at + 2, off, off + len);
      at += 2 + len;
    }
  });
  b[at++] = Opt.End;
  // RFC 1542 2.1 (MIN_PACKET_SIZE): a short packet is padded with zeros.
  const size = Math.max(at, MIN_PACKET_SIZE);
  b.fill(0, at, size);
  const out = Buffer.allocUnsafe(size);
  b.copy(out, 0, 0, size);
  return out;
}

export { MessageType };
