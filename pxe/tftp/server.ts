/**
 * Read-only TFTP server. The listening socket only takes requests; each accepted read request
 * gets its own socket (its TID) and a transfer. Write requests are refused (error 2): netroot
 * serves boot files and never lets a client write. Every request ends in a TransferRecord that is
 * logged and handed to onTransfer (the service puts it on the node's timeline).
 *
 * Where a transfer runs: on the native data path (pxe/native/tftp.c, threads that run the blocks
 * in C and report once per transfer) when the addon is built and the bytes are in memory or in a
 * file read as is; otherwise in JavaScript (transfer.ts), on worker threads (pool.ts) when the
 * bytes can cross threads, else on the main thread. The JS path is the fallback and the reference:
 * both follow the same rules and pass the same tests.
 */
import { LogLimiter } from '../net/log-limit.js';
import { createSocket, type Socket, type RemoteInfo } from 'node:dgram';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { decode, encode, encodeError, TftpDecodeError, type RequestPacket } from './codec.js';
import { ErrorCode, MAX_BLKSIZE, MAX_WINDOWSIZE, Op, OpName } from './constants.js';
import { TftpError, type FileHandler, type TftpClient, type TftpFile } from './files.js';
import { toNetascii } from './netascii.js';
import { negotiate } from './options.js';
import { runTransfer, type JobSource, type TransferJob } from './engine.js';
import { TransferPool } from './pool.js';
import { NativeEngine, type NativeSource } from './native-engine.js';
import { giveUpMs } from './rto.js';
import { handleFd, sockopt } from '../native/index.js';
import type { TransferOutcome, TransferResult } from './transfer.js';

export interface TftpServerOptions {
  handler: FileHandler;
  /** Listen address; default 0.0.0.0. Transfer sockets bind the same address. */
  host?: string;
  /** Default 69. 0 picks a free port (tests). */
  port?: number;
  logger?: Logger;
  onTransfer?: (record: TransferRecord) => void;
  /** Concurrent transfers overall; further requests are dropped so the client retries. Default 500. */
  maxTransfers?: number;
  /** Concurrent transfers per client address. Default 4. */
  maxPerClient?: number;
  /**
   * Receive buffer of the request socket (port 69), bytes; 0 keeps the kernel's default (about
   * 208 KiB, some 270 requests). A rack powering on sends hundreds of RRQs within a few ms; those
   * that do not fit are dropped and the firmware asks again only after 4 s. Default 0 here; the
   * service's config gives 2 MiB.
   */
  recvBufferBytes?: number;
  /** Largest blksize agreed to. Default 65464 (RFC 2348 maximum). */
  maxBlksize?: number;
  /** Largest windowsize agreed to. Default 64. */
  maxWindowsize?: number;
  /**
   * First retransmission timeout, before a round trip was measured, when the client negotiates
   * none, ms. Default 1000. After that the timeout follows the measured round trip (rto.ts).
   */
  timeoutMs?: number;
  /** Floor of the measured timeout, ms. Default 20. */
  minTimeoutMs?: number;
  /** Ceiling of the timeout and its backoff, ms. Default 8000. */
  maxTimeoutMs?: number;
  /**
   * Retransmissions of the fixed schedule (timeoutMs doubling up to maxTimeoutMs) after which a
   * silent client is given up; with a shorter measured timeout more, earlier retransmissions fit
   * into the same time. Default 5 (31 s with the defaults).
   */
  retries?: number;
  /**
   * Threads that run transfers of files with bytes in memory or an fd (static roots): native
   * threads on the native data path (at least 1), else JS worker threads (0 = all on the main
   * thread). Other transfers (generated streams) run on the main thread. Default 0.
   */
  workers?: number;
  /** Use the native data path when the addon is built. Default true; false forces the JS path. */
  native?: boolean;
}

export type TransferResultKind = TransferOutcome | 'refused';

export interface TransferRecord {
  client: TftpClient;
  file: string;
  mode: string;
  result: TransferResultKind;
  /** TFTP error code sent for a refused request. */
  errorCode?: number;
  error?: string;
  bytes: number;
  ms: number;
  blksize: number;
  windowsize: number;
  blocks: number;
  dataPackets: number;
  retransmits: number;
  ignoredAcks: number;
}

function positiveInt(name: string, v: number | undefined, dflt: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 1 || v > max) throw new RangeError(`tftp.${name}: must be an integer in 1-${max}, got ${v}`);
  return v;
}

export class TftpServer {
  private socket: Socket | null = null;
  private readonly transfers = new Map<string, Abortable>();
  private readonly logLimit = new LogLimiter(20);
  private readonly perClient = new Map<string, number>();
  private readonly host: string;
  private readonly port: number;
  private readonly maxTransfers: number;
  private readonly maxPerClient: number;
  private readonly maxBlksize: number;
  private readonly maxWindowsize: number;
  private readonly timeoutMs: number;
  private readonly minTimeoutMs: number;
  private readonly maxTimeoutMs: number;
  private readonly retries: number;
  private readonly workers: number;
  private pool: TransferPool | null = null;
  private engine: NativeEngine | null = null;
  /** Requests dropped by the caps (clients retry). */
  dropped = 0;

  constructor(private readonly opts: TftpServerOptions) {
    if (typeof opts.handler !== 'function') throw new TypeError('tftp.handler: must be a function');
    this.host = opts.host ?? '0.0.0.0';
    if (isIP(this.host) !== 4) throw new RangeError(`tftp.host: not an IPv4 address: ${this.host}`);
    this.port = opts.port ?? 69;
    if (!Number.isInteger(this.port) || this.port < 0 || this.port > 65535) throw new RangeError(`tftp.port: not a port: ${this.port}`);
    this.maxTransfers = positiveInt('maxTransfers', opts.maxTransfers, 500);
    this.maxPerClient = positiveInt('maxPerClient', opts.maxPerClient, 4);
    this.maxBlksize = positiveInt('maxBlksize', opts.maxBlksize, MAX_BLKSIZE, MAX_BLKSIZE);
    if (this.maxBlksize < 512) throw new RangeError(`tftp.maxBlksize: must be at least 512, got ${this.maxBlksize}`);
    this.maxWindowsize = positiveInt('maxWindowsize', opts.maxWindowsize, 64, MAX_WINDOWSIZE);
    this.timeoutMs = positiveInt('timeoutMs', opts.timeoutMs, 1000);
    this.minTimeoutMs = positiveInt('minTimeoutMs', opts.minTimeoutMs, 20);
    this.maxTimeoutMs = positiveInt('maxTimeoutMs', opts.maxTimeoutMs, 8000);
    this.retries = positiveInt('retries', opts.retries, 5);
    this.workers = opts.workers === 0 ? 0 : positiveInt('workers', opts.workers, 0, 64);
  }

  async start(): Promise<{ address: string; port: number }> {
    const s = createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(this.port, this.host, () => {
        s.off('error', reject);
        resolve();
      });
    });
    s.on('error', (e) => this.opts.logger?.error({ err: e }, 'tftp: socket error'));
    const want = this.opts.recvBufferBytes ?? 0;
    if (want > 0) {
      const fd = handleFd(s);
      let got: number;
      try {
        if (fd < 0) throw new Error('no descriptor for the request socket');
        got = sockopt().setRecvBuffer(fd, want); // the kernel reports twice the request (bookkeeping)
      } catch (e) {
        s.close();
        throw new Error(`tftp: cannot set the receive buffer (tftp.recvBufferBytes): ${(e as Error).message}`);
      }
      if (got < want) this.opts.logger?.warn({ wanted: want, got }, 'tftp: receive buffer smaller than configured (no CAP_NET_ADMIN; raise net.core.rmem_max)');
    }
    s.on('message', (msg, rinfo) => {
      try {
        this.onRequest(msg, rinfo);
      } catch (e) {
        this.opts.logger?.error({ err: e, client: rinfo.address }, 'tftp: request failed');
      }
    });
    this.socket = s;
    if (this.opts.native !== false) this.engine = NativeEngine.open(Math.max(1, this.workers));
    if (!this.engine && this.workers > 0) this.pool = new TransferPool(this.workers);
    const a = s.address();
    this.opts.logger?.info({ address: a.address, port: a.port, dataPath: this.dataPath }, 'tftp: listening');
    return { address: a.address, port: a.port };
  }

  address(): { address: string; port: number } | null {
    if (!this.socket) return null;
    const a = this.socket.address();
    return { address: a.address, port: a.port };
  }

  /** 'native' when transfers run on the native data path, 'js' otherwise (addon not built, or native: false). */
  get dataPath(): 'native' | 'js' {
    return this.engine ? 'native' : 'js';
  }

  get activeTransfers(): number {
    return this.transfers.size;
  }

  async stop(): Promise<void> {
    const s = this.socket;
    this.socket = null;
    for (const t of this.transfers.values()) t.abort('server stopping');
    // Each transfer's record is written when its promise settles; wait for all of them.
    // A handler that never answers must not hold the stop forever: give up waiting after 10 s.
    for (let waited = 0; this.transfers.size > 0 && waited < 10_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    await this.pool?.close();
    this.pool = null;
    this.engine?.close();
    this.engine = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  private reply(buf: Buffer, to: RemoteInfo): void {
    this.socket?.send(buf, to.port, to.address);
  }

  private onRequest(msg: Buffer, rinfo: RemoteInfo): void {
    let pkt;
    try {
      pkt = decode(msg);
    } catch (e) {
      if (!(e instanceof TftpDecodeError)) throw e;
      this.opts.logger?.debug({ client: rinfo.address, err: e.message }, 'tftp: malformed packet');
      // Never answer something that may be an ERROR (no error loops, RFC 1350 section 7).
      if (e.op !== Op.Error) this.reply(encodeError(ErrorCode.IllegalOperation, `Malformed packet: ${e.message}`), rinfo);
      return;
    }
    const client = { address: rinfo.address, port: rinfo.port };
    switch (pkt.op) {
      case Op.Rrq:
        void this.onRead(pkt, client, rinfo);
        return;
      case Op.Wrq:
        this.refuse(pkt, client, rinfo, ErrorCode.AccessViolation, 'Access violation: read-only server');
        return;
      case Op.Error:
        return;
      default:
        // DATA/ACK/OACK belong to a transfer port, not to the request port.
        this.reply(encodeError(ErrorCode.IllegalOperation, `Illegal operation: ${OpName[pkt.op]} sent to the request port`), rinfo);
    }
  }

  private refuse(pkt: RequestPacket, client: TftpClient, rinfo: RemoteInfo, code: number, message: string, started = Date.now()): void {
    this.reply(encodeError(code, message), rinfo);
    this.record({
      client,
      file: pkt.filename,
      mode: pkt.mode.toLowerCase(),
      result: 'refused',
      errorCode: code,
      error: message,
      bytes: 0,
      ms: Date.now() - started,
      blksize: 0,
      windowsize: 0,
      blocks: 0,
      dataPackets: 0,
      retransmits: 0,
      ignoredAcks: 0,
    });
  }

  private record(r: TransferRecord): void {
    const log = this.opts.logger;
    // Completed transfers are always logged; refusals and failures, which any client can cause
    // at packet rate, through the limiter.
    const extra = r.result === 'ok' ? {} : this.logLimit.take();
    if (log && extra) {
      const { client, file, bytes, ms, result, error } = r;
      const line = { client: `${client.address}:${client.port}`, file, bytes, ms, result, error, ...extra };
      if (result === 'ok' || result === 'refused') log.info(line, 'tftp: transfer');
      else log.warn(line, 'tftp: transfer');
    }
    try {
      this.opts.onTransfer?.(r);
    } catch (e) {
      log?.error({ err: e }, 'tftp: onTransfer threw');
    }
  }

  private async onRead(pkt: RequestPacket, client: TftpClient, rinfo: RemoteInfo): Promise<void> {
    const started = Date.now();
    const key = `${client.address}:${client.port}`;
    // A repeated RRQ from the same client port while its transfer runs is a retransmission
    // (our OACK or first DATA was lost or late): the running transfer's timer handles it.
    if (this.transfers.has(key)) return;
    const mode = pkt.mode.toLowerCase();
    if (mode !== 'octet' && mode !== 'netascii') {
      this.refuse(pkt, client, rinfo, ErrorCode.IllegalOperation, `Illegal operation: mode ${pkt.mode} not supported`);
      return;
    }
    const perClient = this.perClient.get(client.address) ?? 0;
    if (this.transfers.size >= this.maxTransfers || perClient >= this.maxPerClient) {
      // Boot storm: dropping lets the client's own RRQ retransmission try again later, where an
      // error would make firmware give up the boot.
      this.dropped++;
      this.opts.logger?.debug({ client: key, file: pkt.filename }, 'tftp: busy, request dropped');
      return;
    }
    this.transfers.set(key, PLACEHOLDER);
    this.perClient.set(client.address, perClient + 1);
    const release = () => {
      this.transfers.delete(key);
      const n = (this.perClient.get(client.address) ?? 1) - 1;
      if (n <= 0) this.perClient.delete(client.address);
      else this.perClient.set(client.address, n);
    };
    let file: TftpFile | null;
    try {
      file = await this.opts.handler(pkt.filename, client);
    } catch (e) {
      release();
      if (e instanceof TftpError) {
        this.refuse(pkt, client, rinfo, e.code, e.message, started);
      } else {
        this.opts.logger?.error({ err: e, file: pkt.filename }, 'tftp: file handler failed');
        this.refuse(pkt, client, rinfo, ErrorCode.NotDefined, 'Internal error', started);
      }
      return;
    }
    if (!file) {
      release();
      this.refuse(pkt, client, rinfo, ErrorCode.FileNotFound, 'File not found', started);
      return;
    }
    if (!this.socket) {
      release();
      return;
    }
    await this.startTransfer(pkt, mode, file, client, key, started, release);
  }

  private async startTransfer(pkt: RequestPacket, mode: string, file: TftpFile, client: TftpClient, key: string, started: number, release: () => void): Promise<void> {
    const netascii = mode === 'netascii';
    let data: Buffer | null = null;
    let size: number | null = file.size;
    if ('data' in file) {
      data = netascii ? toNetascii(file.data) : file.data;
      size = data.length;
    } else if (netascii) {
      size = null; // converted size unknown before reading: tsize is left out
    }
    const n = negotiate(pkt.options, size, { maxBlksize: this.maxBlksize, maxWindowsize: this.maxWindowsize });
    // RFC 2349's timeout is echoed and used until the first round trip is measured, but
    // retransmission never waits longer than maxTimeoutMs: curl asks for several seconds, which
    // would stall every lost block that long. An early retransmission is only a duplicate the
    // client drops.
    const timeoutMs = Math.min(n.timeoutMs ?? this.timeoutMs, this.maxTimeoutMs);
    const job: TransferJob = {
      host: this.host,
      peer: client,
      blksize: n.blksize,
      windowsize: n.windowsize,
      oack: n.oack.length > 0 ? encode({ op: Op.Oack, options: n.oack }) : null,
      timeoutMs,
      minTimeoutMs: this.minTimeoutMs,
      maxTimeoutMs: this.maxTimeoutMs,
      giveUpMs: giveUpMs(timeoutMs, this.maxTimeoutMs, this.retries),
    };
    let r: TransferResult;
    try {
      r = await this.run(job, file, data, netascii, key);
    } catch (e) {
      release();
      this.opts.logger?.error({ err: e, file: pkt.filename }, 'tftp: transfer could not start');
      this.refuse(pkt, client, this.asRinfo(client), ErrorCode.NotDefined, `Read error: ${(e as Error).message}`, started);
      return;
    }
    release();
    const rec: TransferRecord = {
      client,
      file: pkt.filename,
      mode,
      result: r.outcome,
      bytes: r.bytes,
      ms: Date.now() - started,
      blksize: n.blksize,
      windowsize: n.windowsize,
      blocks: r.blocks,
      dataPackets: r.dataPackets,
      retransmits: r.retransmits,
      ignoredAcks: r.ignoredAcks,
    };
    if (r.error !== undefined) rec.error = r.error;
    this.record(rec);
  }

  /**
   * Runs the transfer on the native data path when it can read the bytes (in memory, or an fd
   * sent as is), else on a JS worker when there are workers and the bytes can cross threads,
   * else here.
   */
  private run(job: TransferJob, file: TftpFile, data: Buffer | null, netascii: boolean, key: string): Promise<TransferResult> {
    if (this.engine) {
      let src: NativeSource | null = null;
      if (data) src = { kind: 'data', data };
      else if (!netascii && 'openFd' in file && file.openFd) src = { kind: 'fd', fd: file.openFd() };
      if (src) return this.engine.run(job, src, (abort) => this.track(key, { abort }));
    }
    const pool = this.pool?.available ? this.pool : null;
    if (pool && data) {
      // Structured clone copies a view's whole ArrayBuffer: send only the file's bytes.
      const bytes = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : new Uint8Array(data);
      return pool.run(job, { kind: 'data', data: bytes }, (abort) => this.track(key, { abort }));
    }
    if (pool && 'openFd' in file && file.openFd) {
      const fd = file.openFd();
      return pool.run(job, { kind: 'fd', fd, netascii }, (abort) => this.track(key, { abort }));
    }
    let src: JobSource;
    if (data) src = { kind: 'data', data };
    else if ('open' in file) src = { kind: 'stream', stream: file.open(), netascii };
    else throw new Error('file has neither data nor open()');
    return runTransfer(job, src, (t) => this.track(key, t));
  }

  /** Registers a started transfer for stop(); one that starts after stop() is aborted at once. */
  private track(key: string, t: Abortable): void {
    this.transfers.set(key, t);
    if (!this.socket) t.abort('server stopping');
  }

  private asRinfo(c: TftpClient): RemoteInfo {
    return { address: c.address, port: c.port, family: 'IPv4', size: 0 };
  }
}

/** A running transfer as the server sees it: something to abort when stopping. */
interface Abortable {
  abort(reason: string): void;
}

/** Marks a client port whose request is being resolved (no transfer object yet). */
const PLACEHOLDER: Abortable = { abort() {} };
