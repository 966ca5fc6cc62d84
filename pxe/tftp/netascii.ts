/**
 * netascii (RFC 1350 via RFC 764): a local LF is sent as CR LF and a bare CR as CR NUL. Per byte
 * and stateless, so chunks can be converted independently.
 */
import { Transform, type TransformCallback } from 'node:stream';

const CR = 0x0d;
const LF = 0x0a;

export function toNetascii(buf: Buffer): Buffer {
  let extra = 0;
  for (let i = 0; i < buf.length; i++) if (buf[i] === CR || buf[i] === LF) extra++;
  if (extra === 0) return buf;
  const out = Buffer.allocUnsafe(buf.length + extra);
  let o = 0;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!;
    if (c === LF) {
      out[o++] = CR;
      out[o++] = LF;
    } else if (c === CR) {
      out[o++] = CR;
      out[o++] = 0;
    } else {
      out[o++] = c;
    }
  }
  return out;
}

export class NetasciiEncoder extends Transform {
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    done(null, toNetascii(chunk));
  }
}
