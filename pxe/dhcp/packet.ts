/**
 * BOOTP/DHCP message codec (RFC 2131 2 layout, RFC 2132 options, RFC 3396 long options,
 * option 52 overload). Pure: bytes in, typed packet out, and back.
 */
import { DhcpDecodeError, DhcpEncodeError } from './errors.js';
import { FLAG_BROADCAST, HEADER_SIZE, MAGIC_COOKIE, MAX_PACKET_SIZE, MIN_PACKET_SIZE, MessageType, Op, Opt } from './constants.js';
import { DhcpOptions, decodeOption, encodeOption, ipBytes, ipFrom } from './options.js';

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
  return [...p.chaddr.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export function messageType(p: DhcpPacket): number | null {
  return p.options.get(Opt.MessageType) ?? null;
}

export function isBroadcast(p: DhcpPacket): boolean {
  return (p.flags & FLAG_BROADCAST) !== 0;
}

function cString(buf: Buffer): string {
  const nul = buf.indexOf(0);
  return buf.subarray(0, nul < 0 ? buf.length : nul).toString('latin1');
}

/** Walks one option area, appending each option's data to `raw` (RFC 3396: repeated codes concatenate). */
function scanOptions(buf: Buffer, area: string, raw: Map<number, Buffer[]>, allowOverload: boolean): void {
  let i = 0;
  while (i < buf.length) {
    const code = buf[i]!;
    if (code === Opt.Pad) { i++; continue; }
    if (code === Opt.End) return;
    if (i + 1 >= buf.length) throw new DhcpDecodeError('truncated', `${area} option ${code}`, 'no length byte');
    const len = buf[i + 1]!;
    if (i + 2 + len > buf.length) throw new DhcpDecodeError('truncated', `${area} option ${code}`, `length ${len} runs past the end`);
    // An overloaded field naming option 52 again would make decoders loop (RFC 2131 4.1 allows it only in the options field).
    if (code === Opt.Overload && !allowOverload) throw new DhcpDecodeError('bad-overload', `${area} option 52`, 'overload inside an overloaded field');
    const list = raw.get(code) ?? [];
    list.push(buf.subarray(i + 2, i + 2 + len));
    raw.set(code, list);
    i += 2 + len;
  }
  // No END: tolerated (some embedded clients omit it when the field is full).
}

export function decode(buf: Buffer): DhcpPacket {
  if (buf.length > MAX_PACKET_SIZE) throw new DhcpDecodeError('oversized', 'packet', `${buf.length} bytes, more than ${MAX_PACKET_SIZE}`);
  if (buf.length < HEADER_SIZE + 4) throw new DhcpDecodeError('truncated', 'packet', `${buf.length} bytes, need at least ${HEADER_SIZE + 4}`);
  const op = buf[0]!;
  if (op !== Op.Request && op !== Op.Reply) throw new DhcpDecodeError('bad-op', 'op', `must be 1 or 2, got ${op}`);
  const hlen = buf[2]!;
  if (hlen > 16) throw new DhcpDecodeError('bad-header', 'hlen', `${hlen} is more than 16`);
  if (buf.readUInt32BE(HEADER_SIZE) !== MAGIC_COOKIE) throw new DhcpDecodeError('bad-magic', 'magic cookie', `0x${buf.readUInt32BE(HEADER_SIZE).toString(16)}`);

  const snameField = buf.subarray(44, 108);
  const fileField = buf.subarray(108, 236);
  const raw = new Map<number, Buffer[]>();
  scanOptions(buf.subarray(HEADER_SIZE + 4), 'options', raw, true);
  let overload = 0;
  const ov = raw.get(Opt.Overload);
  if (ov) {
    const data = Buffer.concat(ov);
    if (data.length !== 1 || data[0]! < 1 || data[0]! > 3) throw new DhcpDecodeError('bad-overload', 'option 52 Overload', `must be one byte 1..3`);
    overload = data[0]!;
    raw.delete(Opt.Overload);
    // RFC 2131 4.1: the file field is read before sname.
    if (overload & 1) scanOptions(fileField, 'file', raw, false);
    if (overload & 2) scanOptions(snameField, 'sname', raw, false);
  }
  const options = new DhcpOptions();
  for (const [code, parts] of raw) options.set(code, decodeOption(code, Buffer.concat(parts)) as never);

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
    sname: overload & 2 ? '' : cString(snameField),
    file: overload & 1 ? '' : cString(fileField),
    options,
    overload,
  };
}

function field(buf: Buffer, off: number, size: number, s: string, name: string): void {
  const b = Buffer.from(s, 'latin1');
  // RFC 2131 calls these null-terminated, but a full field without NUL is accepted by decode(), so encode allows it too.
  if (b.length > size) throw new DhcpEncodeError(name, `longer than ${size} bytes`);
  b.copy(buf, off);
}

export function encode(p: DhcpPacket): Buffer {
  const head = Buffer.alloc(HEADER_SIZE + 4);
  head[0] = p.op;
  head[1] = p.htype;
  head[2] = p.hlen;
  head[3] = p.hops;
  head.writeUInt32BE(p.xid >>> 0, 4);
  head.writeUInt16BE(p.secs, 8);
  head.writeUInt16BE(p.flags, 10);
  ipBytes(p.ciaddr, 'ciaddr').copy(head, 12);
  ipBytes(p.yiaddr, 'yiaddr').copy(head, 16);
  ipBytes(p.siaddr, 'siaddr').copy(head, 20);
  ipBytes(p.giaddr, 'giaddr').copy(head, 24);
  if (p.chaddr.length > 16) throw new DhcpEncodeError('chaddr', 'longer than 16 bytes');
  p.chaddr.copy(head, 28);
  field(head, 44, 64, p.sname, 'sname');
  field(head, 108, 128, p.file, 'file');
  head.writeUInt32BE(MAGIC_COOKIE, HEADER_SIZE);

  const parts: Buffer[] = [head];
  for (const [code, value] of p.options.entries()) {
    if (code === Opt.Overload) continue; // never written: encode keeps all options in the options field
    const data = encodeOption(code, value);
    // RFC 3396: data longer than 255 bytes is split into consecutive instances of the same code.
    for (let off = 0; off < data.length || off === 0; off += 255) {
      const chunk = data.subarray(off, off + 255);
      parts.push(Buffer.from([code, chunk.length]), chunk);
      if (data.length === 0) break;
    }
  }
  parts.push(Buffer.from([Opt.End]));
  let out = Buffer.concat(parts);
  if (out.length < MIN_PACKET_SIZE) out = Buffer.concat([out, Buffer.alloc(MIN_PACKET_SIZE - out.length)]);
  return out;
}

export { MessageType };
