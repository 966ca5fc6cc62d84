/**
 * Lockstep TFTP reads as PXE firmware does them: one RRQ with blksize and tsize (RFC 2348/2349),
 * no windowsize, one ACK per DATA block; the data go to a SHA-256, never to disk. Each transfer
 * has its own socket, bound to the node's address, connected to the server's transfer port after
 * the first reply (so the kernel drops anything from another TID and sends need no lookup). One
 * timer serves every transfer: a reply missing for timeoutMs sends the last packet again, up to
 * `retries` times (EDK2's PXE TFTP: 4 s, 6 tries, as configured by the caller).
 */
import { createHash, type Hash } from 'node:crypto';
import dgram from 'node:dgram';
import { decode, encode } from '../../pxe/tftp/codec.js';
import { Op } from '../../pxe/tftp/constants.js';

export interface TftpGetOptions {
  server: string;
  port?: number;
  localAddress: string;
  file: string;
  blksize: number;
  timeoutMs: number;
  retries: number;
}

export interface TftpResult {
  bytes: number;
  sha256: string;
  /** tsize the server announced in its OACK (null without one). */
  tsize: number | null;
  blksize: number;
  /** Packets sent again after a timeout. */
  retransmits: number;
  /** DATA blocks received twice (the server sent again). */
  duplicates: number;
}

export class TftpClientError extends Error {}

interface Transfer {
  o: TftpGetOptions;
  sock: dgram.Socket;
  hash: Hash;
  bytes: number;
  /** Next block expected. */
  expect: number;
  blksize: number;
  tsize: number | null;
  connected: boolean;
  last: Buffer;
  lastAt: number;
  tries: number;
  retransmits: number;
  duplicates: number;
  ack: Buffer;
  done(err: Error | null): void;
}

export class TftpClients {
  private readonly active = new Set<Transfer>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly now: () => number = () => performance.now()) {}

  private tick(): void {
    const t = this.now();
    for (const x of this.active) {
      if (t - x.lastAt < x.o.timeoutMs) continue;
      if (x.tries >= x.o.retries) {
        x.done(new TftpClientError(`timeout: no reply for ${x.o.retries} x ${x.o.timeoutMs} ms at block ${x.expect} (${x.bytes} bytes in)`));
        continue;
      }
      x.tries++;
      x.retransmits++;
      this.resend(x);
    }
  }

  private resend(x: Transfer): void {
    x.lastAt = this.now();
    if (x.connected) x.sock.send(x.last);
    else x.sock.send(x.last, x.o.port ?? 69, x.o.server);
  }

  get(o: TftpGetOptions): Promise<TftpResult> {
    if (!this.timer) this.timer = setInterval(() => this.tick(), 100);
    return new Promise((resolve, reject) => {
      const sock = dgram.createSocket('udp4');
      const x: Transfer = {
        o, sock, hash: createHash('sha256'), bytes: 0, expect: 1, blksize: 512, tsize: null, connected: false,
        last: encode({ op: Op.Rrq, filename: o.file, mode: 'octet', options: [{ name: 'blksize', value: String(o.blksize) }, { name: 'tsize', value: '0' }] }),
        lastAt: 0, tries: 0, retransmits: 0, duplicates: 0, ack: Buffer.from([0, Op.Ack, 0, 0]),
        done: (err) => {
          if (!this.active.delete(x)) return;
          if (this.active.size === 0 && this.timer) {
            clearInterval(this.timer);
            this.timer = null;
          }
          sock.close();
          if (err) reject(err);
          else resolve({ bytes: x.bytes, sha256: x.hash.digest('hex'), tsize: x.tsize, blksize: x.blksize, retransmits: x.retransmits, duplicates: x.duplicates });
        },
      };
      this.active.add(x);
      sock.on('error', (e) => x.done(new TftpClientError(`socket: ${e.message}`)));
      sock.on('message', (buf, rinfo) => this.onMessage(x, buf, rinfo));
      sock.bind({ address: o.localAddress, port: 0 }, () => this.resend(x));
    });
  }

  private sendAck(x: Transfer, block: number): void {
    x.ack.writeUInt16BE(block & 0xffff, 2);
    x.last = x.ack;
    x.lastAt = this.now();
    x.tries = 0;
    x.sock.send(x.ack);
  }

  private onMessage(x: Transfer, buf: Buffer, rinfo: dgram.RemoteInfo): void {
    if (!this.active.has(x) || buf.length < 4) return;
    const op = buf.readUInt16BE(0);
    if (!x.connected) {
      // The first reply names the transfer's port (RFC 1350 4: the server's TID).
      if (rinfo.address !== x.o.server) return;
      x.connected = true;
      x.sock.connect(rinfo.port, rinfo.address, () => this.first(x, op, buf));
      return;
    }
    this.onPacket(x, op, buf);
  }

  private first(x: Transfer, op: number, buf: Buffer): void {
    if (op === Op.Oack) {
      let p;
      try {
        p = decode(buf);
      } catch (e) {
        return x.done(new TftpClientError(`bad OACK: ${(e as Error).message}`));
      }
      if (p.op !== Op.Oack) return;
      for (const { name, value } of p.options) {
        if (name.toLowerCase() === 'blksize') x.blksize = Number(value);
        if (name.toLowerCase() === 'tsize') x.tsize = Number(value);
      }
      if (x.blksize !== x.o.blksize) return x.done(new TftpClientError(`server chose blksize ${x.blksize}, asked ${x.o.blksize}`));
      x.ack = Buffer.from([0, Op.Ack, 0, 0]);
      this.sendAck(x, 0);
      return;
    }
    this.onPacket(x, op, buf);
  }

  private onPacket(x: Transfer, op: number, buf: Buffer): void {
    if (op === Op.Data) {
      const block = buf.readUInt16BE(2);
      if (block === (x.expect & 0xffff)) {
        const n = buf.length - 4;
        x.hash.update(buf.subarray(4));
        x.bytes += n;
        this.sendAck(x, block);
        if (n < x.blksize) return x.done(null);
        x.expect++;
      } else if (block === ((x.expect - 1) & 0xffff)) {
        // The server sent that block again (our ACK was late or lost): acknowledge it again.
        x.duplicates++;
        x.sock.send(x.ack);
      }
      return;
    }
    if (op === Op.Error) {
      let msg = 'error';
      try {
        const p = decode(buf);
        if (p.op === Op.Error) msg = `${p.code} ${p.message}`;
      } catch {
        /* keep "error" */
      }
      x.done(new TftpClientError(`server error ${msg} at block ${x.expect}`));
    }
    // A repeated OACK (our ACK 0 was lost and the server sent it again): ACK 0 again.
    if (op === Op.Oack && x.expect === 1) x.sock.send(x.ack);
  }
}
