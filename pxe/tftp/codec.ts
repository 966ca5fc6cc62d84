/**
 * TFTP packet codec (RFC 1350 + RFC 2347 options). Pure: decode(buf) -> packet, encode(packet) ->
 * Buffer. Malformed input throws TftpDecodeError naming the field. Option values are kept as the
 * strings on the wire (order and case preserved) so encode(decode(x)) reproduces x; their meaning
 * is decided in options.ts.
 */
import { DATA_HEADER, MAX_REQUEST_BYTES, Op, OpName } from './constants.js';

export interface TftpOption {
  name: string;
  value: string;
}

export interface RequestPacket {
  op: typeof Op.Rrq | typeof Op.Wrq;
  filename: string;
  /** As sent ("octet", "NETASCII", ...); compare case-insensitively (RFC 1350). */
  mode: string;
  options: TftpOption[];
}
export interface DataPacket {
  op: typeof Op.Data;
  block: number;
  data: Buffer;
}
export interface AckPacket {
  op: typeof Op.Ack;
  block: number;
}
export interface ErrorPacket {
  op: typeof Op.Error;
  code: number;
  message: string;
}
export interface OackPacket {
  op: typeof Op.Oack;
  options: TftpOption[];
}
export type TftpPacket = RequestPacket | DataPacket | AckPacket | ErrorPacket | OackPacket;

export class TftpDecodeError extends Error {
  constructor(
    readonly field: string,
    message: string,
    /** The opcode, when it was readable (lets the server answer a malformed request). */
    readonly op: number | null = null,
  ) {
    super(`${field}: ${message}`);
    this.name = 'TftpDecodeError';
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads a NUL-terminated string starting at off; returns it and the offset after the NUL. */
function readString(buf: Buffer, off: number, field: string, op: number): [string, number] {
  const end = buf.indexOf(0, off);
  if (end < 0) throw new TftpDecodeError(field, 'not NUL-terminated', op);
  try {
    return [utf8.decode(buf.subarray(off, end)), end + 1];
  } catch {
    throw new TftpDecodeError(field, 'not valid UTF-8', op);
  }
}

function decodeOptions(buf: Buffer, off: number, op: number): TftpOption[] {
  const options: TftpOption[] = [];
  while (off < buf.length) {
    const [name, afterName] = readString(buf, off, `option ${options.length + 1} name`, op);
    if (name.length === 0) throw new TftpDecodeError(`option ${options.length + 1} name`, 'empty', op);
    if (afterName >= buf.length) throw new TftpDecodeError(`option ${name}`, 'value missing', op);
    const [value, afterValue] = readString(buf, afterName, `option ${name} value`, op);
    options.push({ name, value });
    off = afterValue;
  }
  return options;
}

export function decode(buf: Buffer): TftpPacket {
  if (buf.length < 2) throw new TftpDecodeError('opcode', `packet too short (${buf.length} bytes)`);
  const op = buf.readUInt16BE(0);
  switch (op) {
    case Op.Rrq:
    case Op.Wrq: {
      if (buf.length > MAX_REQUEST_BYTES) {
        throw new TftpDecodeError('request', `${buf.length} bytes, more than ${MAX_REQUEST_BYTES} (RFC 2347)`, op);
      }
      const [filename, afterName] = readString(buf, 2, 'filename', op);
      if (filename.length === 0) throw new TftpDecodeError('filename', 'empty', op);
      const [mode, afterMode] = readString(buf, afterName, 'mode', op);
      if (mode.length === 0) throw new TftpDecodeError('mode', 'empty', op);
      return { op, filename, mode, options: decodeOptions(buf, afterMode, op) };
    }
    case Op.Data:
      if (buf.length < DATA_HEADER) throw new TftpDecodeError('block', 'DATA shorter than 4 bytes', op);
      return { op, block: buf.readUInt16BE(2), data: buf.subarray(DATA_HEADER) };
    case Op.Ack:
      // Extra bytes after the block number are tolerated (some stacks pad); they carry nothing.
      if (buf.length < 4) throw new TftpDecodeError('block', 'ACK shorter than 4 bytes', op);
      return { op, block: buf.readUInt16BE(2) };
    case Op.Error: {
      if (buf.length < 4) throw new TftpDecodeError('error code', 'ERROR shorter than 4 bytes', op);
      const code = buf.readUInt16BE(2);
      // Some clients omit the message's terminating NUL: take the rest of the packet then.
      const end = buf.indexOf(0, 4);
      const raw = buf.subarray(4, end < 0 ? buf.length : end);
      return { op, code, message: raw.toString('utf8') };
    }
    case Op.Oack:
      return { op, options: decodeOptions(buf, 2, op) };
    default:
      throw new TftpDecodeError('opcode', `unknown opcode ${op}`);
  }
}

function stringBytes(s: string, field: string): Buffer {
  if (s.includes('\0')) throw new TftpDecodeError(field, 'contains NUL');
  return Buffer.from(s, 'utf8');
}

function optionBytes(options: TftpOption[]): Buffer[] {
  const parts: Buffer[] = [];
  for (const o of options) {
    parts.push(stringBytes(o.name, 'option name'), ZERO, stringBytes(o.value, `option ${o.name} value`), ZERO);
  }
  return parts;
}

const ZERO = Buffer.alloc(1);

function header(op: number, second?: number): Buffer {
  const h = Buffer.allocUnsafe(second === undefined ? 2 : 4);
  h.writeUInt16BE(op, 0);
  if (second !== undefined) h.writeUInt16BE(second, 2);
  return h;
}

export function encode(p: TftpPacket): Buffer {
  switch (p.op) {
    case Op.Rrq:
    case Op.Wrq:
      return Buffer.concat([
        header(p.op),
        stringBytes(p.filename, 'filename'),
        ZERO,
        stringBytes(p.mode, 'mode'),
        ZERO,
        ...optionBytes(p.options),
      ]);
    case Op.Data:
      return encodeData(p.block, p.data);
    case Op.Ack:
      return header(Op.Ack, p.block & 0xffff);
    case Op.Error:
      return Buffer.concat([header(Op.Error, p.code), Buffer.from(p.message.replace(/\0/g, ''), 'utf8'), ZERO]);
    case Op.Oack:
      return Buffer.concat([header(Op.Oack), ...optionBytes(p.options)]);
  }
}

/** DATA packet for block (taken modulo 2^16, RFC 1350 block numbers roll over). */
export function encodeData(block: number, data: Buffer): Buffer {
  const b = Buffer.allocUnsafe(DATA_HEADER + data.length);
  b.writeUInt16BE(Op.Data, 0);
  b.writeUInt16BE(block & 0xffff, 2);
  data.copy(b, DATA_HEADER);
  return b;
}

export function encodeError(code: number, message: string): Buffer {
  return encode({ op: Op.Error, code, message });
}

/** One-line text form for logs and golden dumps. */
export function describe(p: TftpPacket): string {
  const name = OpName[p.op] ?? `op${p.op}`;
  const opts = (o: TftpOption[]) => o.map((x) => ` ${x.name}=${x.value}`).join('');
  switch (p.op) {
    case Op.Rrq:
    case Op.Wrq:
      return `${name} file=${JSON.stringify(p.filename)} mode=${p.mode}${opts(p.options)}`;
    case Op.Data:
      return `${name} block=${p.block} bytes=${p.data.length}`;
    case Op.Ack:
      return `${name} block=${p.block}`;
    case Op.Error:
      return `${name} code=${p.code} message=${JSON.stringify(p.message)}`;
    case Op.Oack:
      return `${name}${opts(p.options)}`;
  }
}
