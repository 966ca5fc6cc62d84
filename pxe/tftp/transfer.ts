/**
 * One read transfer on its own socket (RFC 1350 section 4: the server's new port is its transfer
 * ID). Sends a window of DATA blocks (RFC 7440; windowsize 1 is plain lock-step), slides on the
 * ACK of a block inside the window, and retransmits only when the timer fires. The timeout follows
 * the measured round trip (rto.ts: RFC 6298, Karn's rule), doubles on each expiry, and the
 * transfer is abandoned after as much silence as the fixed schedule would have waited. A duplicate
 * ACK never triggers a send: RFC 1123 section 4.2.3.2 ("Sorcerer's Apprentice Syndrome") --
 * answering every duplicate ACK doubles the traffic for the rest of the transfer.
 *
 * This is the JavaScript path; pxe/native/tftp.c runs the same rules on native threads and is
 * used whenever it is built and the bytes can be reached from C (see server.ts).
 */
import type { Socket, RemoteInfo } from 'node:dgram';
import { decode, encodeError, TftpDecodeError } from './codec.js';
import { ErrorCode, Op } from './constants.js';
import type { TftpClient } from './files.js';
import type { BlockSource } from './source.js';
import { Rto } from './rto.js';

export interface TransferParams {
  /** Bound socket owned by the transfer (closed at the end). */
  socket: Socket;
  peer: TftpClient;
  source: BlockSource;
  windowsize: number;
  /** Encoded OACK to send first, or null to start with DATA 1. */
  oack: Buffer | null;
  /** First retransmission timeout, ms, until a round trip is measured. */
  timeoutMs: number;
  /** Bounds of the measured timeout, ms. */
  minTimeoutMs: number;
  maxTimeoutMs: number;
  /** Silence after which the transfer is abandoned, ms. */
  giveUpMs: number;
}

export type TransferOutcome = 'ok' | 'timeout' | 'peer-error' | 'read-error' | 'aborted';

export interface TransferResult {
  outcome: TransferOutcome;
  /** Payload octets acknowledged by the client. */
  bytes: number;
  /** Blocks in the file (known once read to the end). */
  blocks: number;
  /** DATA packets sent, retransmissions included. */
  dataPackets: number;
  /** Timer expiries that caused a retransmission. */
  retransmits: number;
  /** Duplicate or out-of-window ACKs that were ignored. */
  ignoredAcks: number;
  /** Packets from a foreign TID answered with error 5. */
  strangers: number;
  error?: string;
}

export class ReadTransfer {
  private acked = 0;
  private maxSent = 0;
  private next = 1;
  /** Blocks up to here were just sent again after a mid-window ACK (see onAck). */
  private resentUpTo = 0;
  private inOack: boolean;
  private bytes = 0;
  private readonly rto: Rto;
  /** First-send time of block i at [i % windowsize]; NaN once sent again (Karn's rule). */
  private readonly sentAt: Float64Array;
  private oackSentAt = 0;
  private oackResent = false;
  /** Retransmissions since the client last made progress, and when that was. */
  private tries = 0;
  private silentSince = 0;
  /** The armed timer is the give-up deadline, not a retransmission. */
  private final = false;
  private timer: NodeJS.Timeout | null = null;
  private pumping = false;
  private finished = false;
  private readonly result: TransferResult = { outcome: 'ok', bytes: 0, blocks: 0, dataPackets: 0, retransmits: 0, ignoredAcks: 0, strangers: 0 };
  private resolve!: (r: TransferResult) => void;
  readonly done: Promise<TransferResult>;

  constructor(private readonly p: TransferParams) {
    this.inOack = p.oack !== null;
    this.rto = new Rto({ initialMs: p.timeoutMs, minMs: p.minTimeoutMs, maxMs: p.maxTimeoutMs });
    this.sentAt = new Float64Array(p.windowsize).fill(NaN);
    this.done = new Promise((r) => (this.resolve = r));
    p.socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    p.socket.on('error', (e) => this.finish('aborted', `socket: ${e.message}`));
  }

  start(): void {
    this.silentSince = performance.now();
    if (this.p.oack) {
      this.oackSentAt = this.silentSince;
      this.send(this.p.oack);
    } else void this.pump();
    this.arm();
  }

  /**
   * No callback: dgram then drops a failed send silently (a firewall's EPERM, a full buffer), a
   * packet lost on the way that the timer resends; a callback would cost a nextTick per packet.
   */
  private send(msg: Buffer | Buffer[], to: { port: number; address: string } = this.p.peer): void {
    this.p.socket.send(msg, to.port, to.address);
  }

  /** Ends the transfer now (server stopping). */
  abort(reason: string): void {
    this.finish('aborted', reason);
  }

  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.finished) return;
    if (rinfo.port !== this.p.peer.port || rinfo.address !== this.p.peer.address) {
      // RFC 1350 section 4: a packet from a wrong TID gets error 5; the transfer goes on.
      this.result.strangers++;
      this.send(encodeError(ErrorCode.UnknownTid, 'Unknown transfer ID'), rinfo);
      return;
    }
    // Fast path: a 4-octet ACK (nearly every packet a transfer receives) needs no decoder object.
    if (msg.length === 4 && msg[0] === 0 && msg[1] === Op.Ack) {
      this.onAck(msg.readUInt16BE(2));
      return;
    }
    let pkt;
    try {
      pkt = decode(msg);
    } catch (e) {
      if (e instanceof TftpDecodeError) return; // garbage from the peer: the timer recovers
      throw e;
    }
    if (pkt.op === Op.Error) {
      this.finish('peer-error', `client error ${pkt.code}: ${pkt.message}`);
    } else if (pkt.op === Op.Ack) {
      this.onAck(pkt.block);
    }
    // Anything else from the peer (a repeated RRQ, DATA) is ignored.
  }

  private onAck(wire: number): void {
    if (this.inOack) {
      // RFC 2347: the client acknowledges the OACK with ACK 0.
      if (wire !== 0) {
        this.result.ignoredAcks++;
        return;
      }
      this.inOack = false;
      if (!this.oackResent) this.rto.sample(performance.now() - this.oackSentAt);
      this.progress();
      void this.pump();
      return;
    }
    // Block numbers are 16 bits and roll over: map to the one absolute block in [acked, maxSent].
    const n = this.acked + ((wire - (this.acked & 0xffff)) & 0xffff);
    if (n === this.acked || n > this.maxSent) {
      // Duplicate or out-of-window ACK: RFC 1123 4.2.3.2, never answered with data.
      this.result.ignoredAcks++;
      return;
    }
    for (let i = this.acked + 1; i <= n; i++) this.bytes += this.p.source.get(i)?.length ?? 0;
    const sent = this.sentAt[n % this.p.windowsize]!;
    if (!Number.isNaN(sent)) this.rto.sample(performance.now() - sent);
    this.acked = n;
    this.p.source.release(n);
    if (this.p.source.last !== null && n >= this.p.source.last) {
      this.finish('ok');
      return;
    }
    // RFC 7440: the ACK of block n (end of window, or the last block the client got in order)
    // slides the window to start at n+1; blocks after n that were lost are sent again. Blocks
    // resent that way are not resent again by a later mid-window ACK (reordering and duplicates
    // on the link make clients ACK mid-window repeatedly): until the client has acknowledged past
    // them, only the timer resends them, so one impairment costs at most one window.
    if (n + 1 < this.next && n >= this.resentUpTo) {
      this.next = n + 1;
      this.resentUpTo = Math.min(this.maxSent, n + this.p.windowsize);
    } else if (this.next < n + 1) {
      this.next = n + 1;
    }
    this.progress();
    void this.pump();
  }

  /** Progress: the silence starts over; the timeout stays as the last sample (or backoff) left it. */
  private progress(): void {
    this.tries = 0;
    this.silentSince = performance.now();
    this.arm();
  }

  /**
   * Arms the next expiry: one timeout from now, or, once less than one and a half timeouts of the
   * give-up time remain, the give-up time itself (so a timer that fires a little early or late
   * never adds or drops a retransmission at the end). One timer per transfer, re-armed in place
   * (refresh) while the delay is unchanged, the common case: on a LAN the measured timeout sits on
   * its floor.
   */
  private armedFor = 0;
  private arm(): void {
    const left = this.silentSince + this.p.giveUpMs - performance.now();
    this.final = 1.5 * this.rto.ms >= left;
    const delay = Math.max(1, Math.ceil(this.final ? left : this.rto.ms));
    if (this.timer && this.armedFor === delay) {
      this.timer.refresh();
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = delay;
    this.timer = setTimeout(() => this.onTimeout(), delay);
  }

  private onTimeout(): void {
    if (this.finished) return;
    if (this.final) {
      this.finish('timeout', `no ACK for ${Math.round(performance.now() - this.silentSince)} ms (${this.tries} retransmissions)`);
      return;
    }
    this.tries++;
    this.result.retransmits++;
    this.rto.backoff();
    this.arm();
    if (this.inOack) {
      this.oackResent = true;
      this.send(this.p.oack!);
    } else {
      this.next = this.acked + 1;
      this.resentUpTo = 0;
      void this.pump();
    }
  }

  /** Sends blocks from `next` to the end of the window (acked + windowsize). */
  private async pump(): Promise<void> {
    if (this.pumping) return; // the running loop re-reads `next` and the window bounds
    this.pumping = true;
    try {
      const src = this.p.source;
      while (!this.finished && !this.inOack && this.next <= this.acked + this.p.windowsize) {
        if (src.last !== null && this.next > src.last) break;
        let block = src.get(this.next);
        if (!block) {
          await src.fill(this.acked + this.p.windowsize);
          continue;
        }
        const i = this.next++;
        const hdr = Buffer.allocUnsafe(4);
        hdr.writeUInt16BE(Op.Data, 0);
        hdr.writeUInt16BE(i & 0xffff, 2);
        this.send([hdr, block]);
        this.result.dataPackets++;
        if (i > this.maxSent) {
          this.maxSent = i;
          this.sentAt[i % this.p.windowsize] = performance.now();
        } else {
          this.sentAt[i % this.p.windowsize] = NaN; // Karn: its ACK no longer times one trip
        }
        block = undefined;
      }
    } catch (e) {
      const msg = (e as Error).message;
      if (!this.finished) {
        this.send(encodeError(ErrorCode.NotDefined, 'Read error'));
      }
      this.finish('read-error', msg);
    } finally {
      this.pumping = false;
    }
  }

  private finish(outcome: TransferOutcome, error?: string): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer) clearTimeout(this.timer);
    this.p.source.close();
    Object.assign(this.result, { outcome, bytes: this.bytes, blocks: this.p.source.last ?? this.maxSent });
    if (error !== undefined) this.result.error = error;
    // Close after queued sends (the final error packet) have been handed to the kernel.
    setImmediate(() => {
      try {
        this.p.socket.close();
      } catch {
        /* already closed */
      }
    });
    this.resolve(this.result);
  }
}
