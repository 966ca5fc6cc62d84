/**
 * Option negotiation for read requests (RFC 2347 framework; blksize RFC 2348; timeout and tsize
 * RFC 2349; windowsize RFC 7440). Pure. Option names are case-insensitive (RFC 2347). A value the
 * server cannot honour is never an error: it is left out of the OACK (the client then uses the
 * RFC 1350 default) or, where the RFC lets the server answer smaller, clamped.
 */
import type { TftpOption } from './codec.js';
import {
  DEFAULT_BLKSIZE,
  MAX_BLKSIZE,
  MAX_TIMEOUT_S,
  MAX_WINDOWSIZE,
  MIN_BLKSIZE,
  MIN_TIMEOUT_S,
  MIN_WINDOWSIZE,
} from './constants.js';

export interface NegotiationLimits {
  /** Largest blksize the server agrees to (<= 65464). */
  maxBlksize: number;
  /** Largest windowsize the server agrees to (<= 65535). */
  maxWindowsize: number;
}

export interface Negotiated {
  blksize: number;
  windowsize: number;
  /** Retransmission timeout asked for by the client (RFC 2349), ms; null if not negotiated. */
  timeoutMs: number | null;
  /** Options to echo in the OACK, in the client's order and spelling; empty = send no OACK. */
  oack: TftpOption[];
  /** Options left out and why (for logs). */
  ignored: { name: string; value: string; reason: string }[];
}

/** Decimal digits only: no sign, no blanks, no hex (the RFCs say "ASCII decimal"). */
function parseDecimal(value: string): number | null {
  if (!/^[0-9]{1,20}$/.test(value)) return null;
  return Number(value);
}

/**
 * Decides the transfer parameters. `size` is the file's size in octets when known (the tsize
 * answer, RFC 2349: in a RRQ the client sends 0 and the server answers the real size), or null
 * (e.g. a netascii stream whose converted size is unknown: tsize is then left out).
 */
export function negotiate(options: TftpOption[], size: number | null, limits: NegotiationLimits): Negotiated {
  const out: Negotiated = { blksize: DEFAULT_BLKSIZE, windowsize: 1, timeoutMs: null, oack: [], ignored: [] };
  const seen = new Set<string>();
  const ignore = (o: TftpOption, reason: string) => out.ignored.push({ name: o.name, value: o.value, reason });
  for (const o of options) {
    const key = o.name.toLowerCase();
    if (seen.has(key)) {
      ignore(o, 'duplicate (first one counts)');
      continue;
    }
    seen.add(key);
    const n = parseDecimal(o.value);
    switch (key) {
      case 'blksize':
        // RFC 2348: values below 8 are invalid; the server may answer a smaller size than asked.
        if (n === null || n < MIN_BLKSIZE) {
          ignore(o, `not a number in ${MIN_BLKSIZE}-${MAX_BLKSIZE}`);
        } else {
          out.blksize = Math.min(n, limits.maxBlksize, MAX_BLKSIZE);
          out.oack.push({ name: o.name, value: String(out.blksize) });
        }
        break;
      case 'windowsize':
        // RFC 7440: the server may answer a smaller window than asked.
        if (n === null || n < MIN_WINDOWSIZE) {
          ignore(o, `not a number in ${MIN_WINDOWSIZE}-${MAX_WINDOWSIZE}`);
        } else {
          out.windowsize = Math.min(n, limits.maxWindowsize, MAX_WINDOWSIZE);
          out.oack.push({ name: o.name, value: String(out.windowsize) });
        }
        break;
      case 'timeout':
        // RFC 2349: the server must echo the same value or leave the option out.
        if (n === null || n < MIN_TIMEOUT_S || n > MAX_TIMEOUT_S) {
          ignore(o, `not a number in ${MIN_TIMEOUT_S}-${MAX_TIMEOUT_S}`);
        } else {
          out.timeoutMs = n * 1000;
          out.oack.push({ name: o.name, value: String(n) });
        }
        break;
      case 'tsize':
        if (n === null) ignore(o, 'not a number');
        else if (size === null) ignore(o, 'size unknown for this transfer');
        else out.oack.push({ name: o.name, value: String(size) });
        break;
      default:
        ignore(o, 'unsupported option');
    }
  }
  return out;
}
