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

export function ipBytes(ip: string, field: string): Buffer {
  const p = ip.split('.');
  const out = Buffer.alloc(4);
  if (p.length !== 4) throw new DhcpEncodeError(field, `not an IPv4 address: ${JSON.stringify(ip)}`);
  p.forEach((s, i) => {
    const n = Number(s);
    if (!/^\d{1,3}$/.test(s) || n > 255) throw new DhcpEncodeError(field, `not an IPv4 address: ${JSON.stringify(ip)}`);
    out[i] = n;
  });
  return out;
}

/** Splits an encapsulated option's data into sub-options (RFC 2132 8.4 layout; PAD skipped, END stops). */
export function decodeSubOptions(data: Buffer, field: string): SubOption[] {
  const out: SubOption[] = [];
  let i = 0;
  while (i < data.length) {
    const code = data[i]!;
    if (code === 0) { i++; continue; }
    if (code === 255) break;
    if (i + 1 >= data.length) throw new DhcpDecodeError('bad-option', field, `sub-option ${code}: no length`);
    const len = data[i + 1]!;
    if (i + 2 + len > data.length) throw new DhcpDecodeError('bad-option', field, `sub-option ${code}: length ${len} runs past the end`);
    out.push({ code, data: Buffer.from(data.subarray(i + 2, i + 2 + len)) });
    i += 2 + len;
  }
  return out;
}

export function encodeSubOptions(subs: SubOption[], field: string): Buffer {
  const parts: Buffer[] = [];
  for (const s of subs) {
    if (s.data.length > 255) throw new DhcpEncodeError(field, `sub-option ${s.code}: longer than 255 bytes`);
    parts.push(Buffer.from([s.code, s.data.length]), s.data);
  }
  return Buffer.concat(parts);
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
    case 'encap': return decodeSubOptions(data, label(code));
    case 'raw': return Buffer.from(data);
  }
}

const u8 = (v: number, f: string) => {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new DhcpEncodeError(f, `not a byte: ${v}`);
  return Buffer.from([v]);
};
const u16 = (v: number, f: string) => {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new DhcpEncodeError(f, `not a 16-bit value: ${v}`);
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
};

/** Encodes one typed value to its option data (without code and length). */
export function encodeOption(code: number, value: OptionValue): Buffer {
  const f = label(code);
  const t = wireType(code);
  const want = (ok: boolean, what: string) => {
    if (!ok) throw new DhcpEncodeError(f, `expected ${what}`);
  };
  switch (t) {
    case 'ip': want(typeof value === 'string', 'an IPv4 string'); return ipBytes(value as string, f);
    case 'ips': want(Array.isArray(value) && value.length > 0, 'IPv4 strings'); return Buffer.concat((value as string[]).map((ip) => ipBytes(ip, f)));
    case 'u8': want(typeof value === 'number', 'a number'); return u8(value as number, f);
    case 'u16': want(typeof value === 'number', 'a number'); return u16(value as number, f);
    case 'u32':
    case 'i32': {
      want(typeof value === 'number' && Number.isInteger(value), 'an integer');
      const b = Buffer.alloc(4);
      if (t === 'u32') b.writeUInt32BE(value as number);
      else b.writeInt32BE(value as number);
      return b;
    }
    case 'text': want(typeof value === 'string' && value.length > 0, 'a non-empty string'); return Buffer.from(value as string, 'latin1');
    case 'u8list': want(Array.isArray(value) && value.length > 0, 'a list of bytes'); return Buffer.concat((value as number[]).map((v) => u8(v, f)));
    case 'u16list': want(Array.isArray(value) && value.length > 0, 'a list of numbers'); return Buffer.concat((value as number[]).map((v) => u16(v, f)));
    case 'ndi': {
      const v = value as ClientNdi;
      return Buffer.concat([u8(v.type, f), u8(v.major, f), u8(v.minor, f)]);
    }
    case 'uuid': {
      const v = value as ClientUuid;
      const hex = v.uuid.replace(/-/g, '');
      want(/^[0-9a-f]{32}$/i.test(hex), 'a 16-byte UUID');
      return Buffer.concat([u8(v.type, f), Buffer.from(hex, 'hex')]);
    }
    case 'encap': want(Array.isArray(value), 'sub-options'); return encodeSubOptions(value as SubOption[], f);
    case 'raw': want(Buffer.isBuffer(value), 'a Buffer'); return value as Buffer;
  }
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
  get size(): number {
    return this.map.size;
  }
}
