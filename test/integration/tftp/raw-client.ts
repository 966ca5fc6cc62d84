/** A scripted TFTP peer for protocol tests: sends exactly what the test says, records what arrives. */
import { createSocket, type Socket, type RemoteInfo } from 'node:dgram';
import { decode, encode, type TftpPacket } from '../../../pxe/tftp/codec.js';
import { Op } from '../../../pxe/tftp/constants.js';

export interface Received {
  pkt: TftpPacket;
  from: RemoteInfo;
}

export class RawClient {
  private queue: Received[] = [];
  private waiters: (() => void)[] = [];
  private constructor(readonly socket: Socket) {
    socket.on('message', (msg, from) => {
      let pkt: TftpPacket;
      try {
        pkt = decode(msg);
      } catch {
        return;
      }
      this.queue.push({ pkt, from });
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(): Promise<RawClient> {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    return new RawClient(s);
  }

  get port(): number {
    return this.socket.address().port;
  }

  private pending = 0;
  private flushed: (() => void) | null = null;

  send(p: TftpPacket | Buffer, port: number): void {
    this.pending++;
    this.socket.send(Buffer.isBuffer(p) ? p : encode(p), port, '127.0.0.1', () => {
      if (--this.pending === 0) this.flushed?.();
    });
  }

  /** Next packet, or null after timeoutMs. */
  async recv(timeoutMs = 3000): Promise<Received | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.queue.shift()!;
  }

  /** Everything that arrives within ms. */
  async drain(ms: number): Promise<Received[]> {
    await new Promise((r) => setTimeout(r, ms));
    return this.queue.splice(0);
  }

  /** Closes once queued sends have left (closing right after send() would drop them). */
  close(): void {
    if (this.pending === 0) this.socket.close();
    else this.flushed = () => this.socket.close();
  }
}

/** A well-behaved windowed read: returns the file's bytes and the DATA packet count. */
export async function rawFetch(
  serverPort: number,
  file: string,
  opts: { blksize?: number; windowsize?: number } = {},
): Promise<{ data: Buffer; dataPackets: number }> {
  const c = await RawClient.open();
  try {
    const options = [];
    if (opts.blksize) options.push({ name: 'blksize', value: String(opts.blksize) });
    if (opts.windowsize) options.push({ name: 'windowsize', value: String(opts.windowsize) });
    c.send({ op: Op.Rrq, filename: file, mode: 'octet', options }, serverPort);
    const blksize = opts.blksize ?? 512;
    const win = opts.windowsize ?? 1;
    const parts: Buffer[] = [];
    let expect = 1; // absolute block number expected next
    let dataPackets = 0;
    let inWindow = 0;
    let tid = 0;
    for (;;) {
      const r = await c.recv(5000);
      if (!r) throw new Error(`rawFetch ${file}: timeout at block ${expect}`);
      tid = r.from.port;
      if (r.pkt.op === Op.Error) throw new Error(`rawFetch ${file}: error ${r.pkt.code} ${r.pkt.message}`);
      if (r.pkt.op === Op.Oack) {
        c.send({ op: Op.Ack, block: 0 }, tid);
        continue;
      }
      if (r.pkt.op !== Op.Data) continue;
      dataPackets++;
      if (r.pkt.block !== (expect & 0xffff)) continue;
      parts.push(Buffer.from(r.pkt.data));
      const last = r.pkt.data.length < blksize;
      inWindow++;
      if (last || inWindow === win) {
        c.send({ op: Op.Ack, block: expect & 0xffff }, tid);
        inWindow = 0;
      }
      expect++;
      if (last) return { data: Buffer.concat(parts), dataPackets };
    }
  } finally {
    c.close();
  }
}
