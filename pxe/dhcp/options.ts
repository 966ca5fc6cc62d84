/**
 * DHCP options as typed values. Each known option has one wire type; decoding checks its size and
 * throws a DhcpDecodeError naming the option ("option 97 ClientUuid: wrong size 5"). Unknown
 * options stay raw bytes so they can be logged and re-encoded unchanged. Text is latin1 so any
 * byte string survives a round trip.
 */
import { DhcpDecodeError, DhcpEncodeError } from './errors.js';
import { Opt, optionName } from './constants.js';

/** RFC 4578 2.2 */
export interface ClientNdi {
  type: number;
  major: number;
  minor: number;
}
/** RFC 4578 2.3: type 0 + 16 bytes, shown as 8-4-4-4-12 hex. */
export interface ClientUuid {
  type: number;
  uuid: string;
}
/** One sub-option of an encapsulated option (43, 82, 175). */
export interface SubOption {
  code: number;
  data: Buffer;
}

/** Value type of each known option; every other code is a Buffer. */
export interface OptionTypes {
  1: string;
  2: number;
  3: string[];
  4: string[];
  6: string[];
  12: string;
  13: number;
  15: string;
  16: string;
  17: string;
  18: string;
  19: number;
  26: number;
  28: string;
  40: string;
  41: string[];
  42: string[];
  44: string[];
  46: number;
  47: string;
  50: string;
  51: number;
  52: number;
  53: number;
  54: string;
  55: number[];
  56: string;
  57: number;
  58: number;
  59: number;
  60: string;
  66: string;
  67: string;
  77: string;
  82: SubOption[];
  93: number[];
  94: ClientNdi;
  97: ClientUuid;
  175: SubOption[];
}
export type OptionValueOf<C extends number> = C extends keyof OptionTypes ? OptionTypes[C] : Buffer;
export type OptionValue = OptionTypes[keyof OptionTypes] | Buffer;

type WireType = 'ip' | 'ips' | 'u8' | 'u16' | 'u32' | 'i32' | 'text' | 'u8list' | 'u16list' | 'ndi' | 'uuid' | 'encap';

const WIRE: Record<keyof OptionTypes, WireType> = {
  1: 'ip', 2: 'i32', 3: 'ips', 4: 'ips', 6: 'ips', 12: 'text', 13: 'u16', 15: 'text', 16: 'ip', 17: 'text',
  18: 'text', 19: 'u8', 26: 'u16', 28: 'ip', 40: 'text', 41: 'ips', 42: 'ips', 44: 'ips', 46: 'u8',
  47: 'text', 50: 'ip', 51: 'u32', 52: 'u8', 53: 'u8', 54: 'ip', 55: 'u8list', 56: 'text', 57: 'u16',
  58: 'u32', 59: 'u32', 60: 'text', 66: 'text', 67: 'text', 77: 'text', 82: 'encap', 93: 'u16list',
  94: 'ndi', 97: 'uuid', 175: 'encap',
};

export function wireType(code: number): WireType | 'raw' {
  return (WIRE as Record<number, WireType>)[code] ?? 'raw';
}

function label(code: number): string {
  return `option ${code} ${optionName(code)}`;
}

function bad(code: number, msg: string): DhcpDecodeError {
  return new DhcpDecodeError('bad-option', label(code), msg);
}

export function ipFrom(buf: Buffer, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

/**
 * Writes a dotted quad's 4 bytes at off; false when ip is not one. Lenient like the check it
 * replaces (one to three digits a part, each at most 255), and without a regex or an allocation:
 * it runs for every address of every reply.
 */
function ipAt(out: Buffer, off: number, ip: string): boolean {
  let part = 0;
  let digits = 0;
  let n = 0;
  for (let i = 0; i <= ip.length; i++) {
    const c = i < ip.length ? ip.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || n > 3) return false;
      out[off + n++] = part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + (c - 48);
      digits++;
      if (part > 255) return false;
    } else {
      return false;
    }
  }
  return n === 4;
}

/** Writes a dotted quad's 4 bytes at off (an encoder's header field or option). */
export function writeIp(out: Buffer, off: number, ip: string, field: string): void {
  if (typeof ip !== 'string' || !ipAt(out, off, ip)) throw new DhcpEncodeError(field, `not an IPv4 address: ${JSON.stringify(ip)}`);
}

/** Splits an encapsulated option's data into sub-options (RFC 2132 8.4 layout; PAD skipped, END stops). */
export function decodeSubOptions(data: Buffer, option: number): SubOption[] {
  const out: SubOption[] = [];
  let i = 0;
  while (i < data.length) {
    const code = data[i]!;
    if (code === 0) { i++; continue; }
    if (code === 255) break;
    if (i + 1 >= data.length) throw new DhcpDecodeError('bad-option', label(option), `sub-option ${code}: no length`);
    const len = data[i + 1]!;
    if (i + 2 + len > data.length) throw new DhcpDecodeError('bad-option', label(option), `sub-option ${code}: length ${len} runs past the end`);
    out.push({ code, data: Buffer.from(data.subarray(i + 2, i + 2 + len)) });
    i += 2 + len;
  }
  return out;
}

/** Decodes one option's (already concatenated, RFC 3396) data to its typed value. */
export function decodeOption(code: number, data: Buffer): OptionValue {
  const t = wireType(code);
  const n = data.length;
  const size = (ok: boolean) => {
    if (!ok) throw bad(code, `wrong size ${n}`);
  };
  switch (t) {
    case 'ip': size(n === 4); return ipFrom(data, 0);
    case 'ips': {
      size(n > 0 && n % 4 === 0);
      const out: string[] = [];
      for (let i = 0; i < n; i += 4) out.push(ipFrom(data, i));
      return out;
    }
    case 'u8': size(n === 1); return data[0]!;
    case 'u16': size(n === 2); return data.readUInt16BE(0);
    case 'u32': size(n === 4); return data.readUInt32BE(0);
    case 'i32': size(n === 4); return data.readInt32BE(0);
    case 'text': size(n > 0); return data.toString('latin1');
    case 'u8list': size(n > 0); return [...data];
    case 'u16list': {
      size(n > 0 && n % 2 === 0);
      const out: number[] = [];
      for (let i = 0; i < n; i += 2) out.push(data.readUInt16BE(i));
      return out;
    }
    case 'ndi': size(n === 3); return { type: data[0]!, major: data[1]!, minor: data[2]! };
    case 'uuid': {
      size(n === 17);
      const h = data.subarray(1).toString('hex');
      return { type: data[0]!, uuid: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}` };
    }
    case 'encap': return decodeSubOptions(data, code);
    case 'raw': return Buffer.from(data);
  }
}

/** writeOption's checks: plain functions, so writing an option allocates nothing. */
function encodeFail(code: number, what: string): never {
  throw new DhcpEncodeError(label(code), what);
}
function want(code: number, ok: boolean, what: string): void {
  if (!ok) encodeFail(code, `expected ${what}`);
}
function room(code: number, out: Buffer, end: number): void {
  if (end > out.length) encodeFail(code, `does not fit: the packet would be longer than ${out.length} bytes`);
}
function writeByte(code: number, out: Buffer, at: number, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) encodeFail(code, `not a byte: ${v}`);
  out[at] = v;
}
function writeWord(code: number, out: Buffer, at: number, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) encodeFail(code, `not a 16-bit value: ${v}`);
  out.writeUInt16BE(v, at);
}
function optionIp(code: number, out: Buffer, at: number, v: string): void {
  if (typeof v !== 'string' || !ipAt(out, at, v)) encodeFail(code, `not an IPv4 address: ${JSON.stringify(v)}`);
}

/**
 * Writes one typed value's option data (without code and length) into out at off and returns its
 * length; the encoder writes every option straight into the packet this way. Errors name the
 * option; its label is only built for one.
 */
export function writeOption(out: Buffer, off: number, code: number, value: OptionValue): number {
  const t = wireType(code);
  switch (t) {
    case 'ip':
      want(code, typeof value === 'string', 'an IPv4 string');
      room(code, out, off + 4);
      optionIp(code, out, off, value as string);
      return 4;
    case 'ips': {
      want(code, Array.isArray(value) && value.length > 0, 'IPv4 strings');
      const list = value as string[];
      room(code, out, off + 4 * list.length);
      for (let i = 0; i < list.length; i++) optionIp(code, out, off + 4 * i, list[i]!);
      return 4 * list.length;
    }
    case 'u8':
      want(code, typeof value === 'number', 'a number');
      room(code, out, off + 1);
      writeByte(code, out, off, value as number);
      return 1;
    case 'u16':
      want(code, typeof value === 'number', 'a number');
      room(code, out, off + 2);
      writeWord(code, out, off, value as number);
      return 2;
    case 'u32':
    case 'i32':
      want(code, typeof value === 'number' && Number.isInteger(value), 'an integer');
      room(code, out, off + 4);
      if (t === 'u32') out.writeUInt32BE(value as number, off);
      else out.writeInt32BE(value as number, off);
      return 4;
    case 'text': {
      want(code, typeof value === 'string' && value.length > 0, 'a non-empty string');
      const v = value as string;
      // latin1: one byte per UTF-16 unit, so the length is known before writing.
      room(code, out, off + v.length);
      return out.write(v, off, v.length, 'latin1');
    }
    case 'u8list': {
      want(code, Array.isArray(value) && value.length > 0, 'a list of bytes');
      const list = value as number[];
      room(code, out, off + list.length);
      for (let i = 0; i < list.length; i++) writeByte(code, out, off + i, list[i]!);
      return list.length;
    }
    case 'u16list': {
      want(code, Array.isArray(value) && value.length > 0, 'a list of numbers');
      const list = value as number[];
      room(code, out, off + 2 * list.length);
      for (let i = 0; i < list.length; i++) writeWord(code, out, off + 2 * i, list[i]!);
      return 2 * list.length;
    }
    case 'ndi': {
      const v = value as ClientNdi;
      room(code, out, off + 3);
      writeByte(code, out, off, v.type);
      writeByte(code, out, off + 1, v.major);
      writeByte(code, out, off + 2, v.minor);
      return 3;
    }
    case 'uuid': {
      const v = value as ClientUuid;
      const hex = v.uuid.replace(/-/g, '');
      want(code, /^[0-9a-f]{32}$/i.test(hex), 'a 16-byte UUID');
      room(code, out, off + 17);
      writeByte(code, out, off, v.type);
      out.write(hex, off + 1, 16, 'hex');
      return 17;
    }
    case 'encap': {
      want(code, Array.isArray(value), 'sub-options');
      let n = 0;
      for (const sub of value as SubOption[]) {
        if (sub.data.length > 255) encodeFail(code, `sub-option ${sub.code}: longer than 255 bytes`);
        room(code, out, off + n + 2 + sub.data.length);
        out[off + n] = sub.code;
        out[off + n + 1] = sub.data.length;
        sub.data.copy(out, off + n + 2);
        n += 2 + sub.data.length;
      }
      return n;
    }
    case 'raw': {
      want(code, Buffer.isBuffer(value), 'a Buffer');
      const v = value as Buffer;
      room(code, out, off + v.length);
      return v.copy(out, off);
    }
  }
}

const scratch = Buffer.allocUnsafe(65_536);

/** Encodes one typed value to its option data (without code and length). */
export function encodeOption(code: number, value: OptionValue): Buffer {
  const n = writeOption(scratch, 0, code, value);
  return Buffer.from(scratch.subarray(0, n));
}

/** Ordered options of one packet with typed access. */
export class DhcpOptions {
  private readonly map = new Map<number, OptionValue>();

  get<C extends number>(code: C): OptionValueOf<C> | undefined {
    return this.map.get(code) as OptionValueOf<C> | undefined;
  }
  set<C extends number>(code: C, value: OptionValueOf<C>): this {
    if (code === Opt.Pad || code === Opt.End) throw new DhcpEncodeError(`option ${code}`, 'PAD and END are not options');
    this.map.set(code, value as OptionValue);
    return this;
  }
  has(code: number): boolean {
    return this.map.has(code);
  }
  delete(code: number): boolean {
    return this.map.delete(code);
  }
  codes(): number[] {
    return [...this.map.keys()];
  }
  entries(): [number, OptionValue][] {
    return [...this.map.entries()];
  }
  /** Each option in order, without the [code, value] pair entries() makes for every one. */
  forEach(fn: (value: OptionValue, code: number) => void): void {
    this.map.forEach(fn);
  }
  get size(): number {
    return this.map.size;
  }
}
