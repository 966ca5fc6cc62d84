/**
 * One read transfer on its own socket (RFC 1350 section 4: the server's new port is its transfer
 * ID). Sends a window of DATA blocks (RFC 7440; windowsize 1 is plain lock-step), slides on the
 * ACK of a block inside the window, and retransmits only when the timer fires, with backoff and a
 * give-up limit. A duplicate ACK never triggers a send: RFC 1123 section 4.2.3.2 ("Sorcerer's
 * Apprentice Syndrome") -- answering every duplicate ACK doubles the traffic for the rest of the
 * transfer.
 */
import type { Socket, RemoteInfo } from 'node:dgram';
import { decode, encodeError, TftpDecodeError } from './codec.js';
import { ErrorCode, Op } from './constants.js';
import type { TftpClient } from './files.js';
import type { BlockSource } from './source.js';

export interface TransferParams {
  /** Bound socket owned by the transfer (closed at the end). */
  socket: Socket;
  peer: TftpClient;
  source: BlockSource;
  windowsize: number;
  /** Encoded OACK to send first, or null to start with DATA 1. */
  oack: Buffer | null;
  /** First retransmission timeout, ms; doubles on each retry up to maxTimeoutMs. */
  timeoutMs: number;
  maxTimeoutMs: number;
  /** Timeouts in a row before giving up. */
  retries: number;
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
  private timeout: number;
  private tries = 0;
  private timer: NodeJS.Timeout | null = null;
  private pumping = false;
  private finished = false;
  private readonly result: TransferResult = { outcome: 'ok', bytes: 0, blocks: 0, dataPackets: 0, retransmits: 0, ignoredAcks: 0, strangers: 0 };
  private resolve!: (r: TransferResult) => void;
  readonly done: Promise<TransferResult>;

  constructor(private readonly p: TransferParams) {
    this.inOack = p.oack !== null;
    this.timeout = p.timeoutMs;
    this.done = new Promise((r) => (this.resolve = r));
    p.socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    p.socket.on('error', (e) => this.finish('aborted', `socket: ${e.message}`));
  }

  start(): void {
    if (this.p.oack) this.p.socket.send(this.p.oack, this.p.peer.port, this.p.peer.address);
    else void this.pump();
    this.arm();
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
      this.p.socket.send(encodeError(ErrorCode.UnknownTid, 'Unknown transfer ID'), rinfo.port, rinfo.address);
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

  /** Progress: the retry count and timeout start over. */
  private progress(): void {
    this.tries = 0;
    this.timeout = this.p.timeoutMs;
    this.arm();
  }

  /** One timer per transfer, re-armed in place (refresh) while the timeout is unchanged. */
  private armedFor = 0;
  private arm(): void {
    if (this.timer && this.armedFor === this.timeout) {
      this.timer.refresh();
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = this.timeout;
    this.timer = setTimeout(() => this.onTimeout(), this.timeout);
  }

  private onTimeout(): void {
    if (this.finished) return;
    if (++this.tries > this.p.retries) {
      this.finish('timeout', `no ACK after ${this.p.retries} retransmissions`);
      return;
    }
    this.result.retransmits++;
    this.timeout = Math.min(this.timeout * 2, Math.max(this.p.maxTimeoutMs, this.p.timeoutMs));
    this.arm();
    if (this.inOack) {
      this.p.socket.send(this.p.oack!, this.p.peer.port, this.p.peer.address);
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
        this.p.socket.send([hdr, block], this.p.peer.port, this.p.peer.address);
        this.result.dataPackets++;
        if (i > this.maxSent) this.maxSent = i;
        block = undefined;
      }
    } catch (e) {
      const msg = (e as Error).message;
      if (!this.finished) {
        this.p.socket.send(encodeError(ErrorCode.NotDefined, 'Read error'), this.p.peer.port, this.p.peer.address);
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
