/**
 * Transfers on the native data path (pxe/native/tftp.c): the JS thread decides everything once
 * per request (file, options, OACK bytes) and the addon's threads run the blocks, calling back
 * once per transfer with the same TransferResult the JavaScript path gives. Takes bytes in memory
 * (cache, generated files; kept referenced until the transfer ends) or an fd read from offset 0;
 * anything that needs a stream (netascii from disk, generated streams) stays on the JS path.
 */
import { closeSync } from 'node:fs';
import { tftpNative, type NativeEngineHandle, type NativeResult, type TftpNative } from '../native/tftp.js';
import type { TransferJob } from './engine.js';
import type { TransferResult } from './transfer.js';

export type NativeSource = { kind: 'data'; data: Uint8Array } | { kind: 'fd'; fd: number };

export class NativeEngine {
  private readonly pending = new Map<number, (r: TransferResult) => void>();
  private nextId = 1;
  private closed = false;
  private readonly handle: NativeEngineHandle;

  private constructor(
    private readonly addon: TftpNative,
    threads: number,
  ) {
    this.handle = addon.create(threads, (id, r) => this.done(id, r));
  }

  /** An engine with `threads` workers, or null when the addon is not built. */
  static open(threads: number): NativeEngine | null {
    const addon = tftpNative();
    return addon ? new NativeEngine(addon, threads) : null;
  }

  private done(id: number, r: NativeResult): void {
    const resolve = this.pending.get(id);
    if (!resolve) return;
    this.pending.delete(id);
    resolve(r);
  }

  /**
   * Runs a transfer; rejects when it cannot start (no socket). The fd is the addon's from here on
   * (closed when the transfer ends or fails to start). `onAbort` receives the function that
   * aborts it.
   */
  run(job: TransferJob, src: NativeSource, onAbort: (abort: (reason: string) => void) => void): Promise<TransferResult> {
    if (this.closed) {
      if (src.kind === 'fd') closeSync(src.fd);
      return Promise.reject(new Error('native TFTP engine closed'));
    }
    const id = this.nextId++;
    let worker: number;
    try {
      worker = this.addon.start(this.handle, {
        id,
        host: job.host,
        address: job.peer.address,
        port: job.peer.port,
        blksize: job.blksize,
        windowsize: job.windowsize,
        oack: job.oack,
        ...(src.kind === 'data' ? { data: src.data } : { fd: src.fd }),
        timeoutMs: job.timeoutMs,
        minTimeoutMs: job.minTimeoutMs,
        maxTimeoutMs: job.maxTimeoutMs,
        giveUpMs: job.giveUpMs,
      });
    } catch (e) {
      return Promise.reject(e as Error);
    }
    const p = new Promise<TransferResult>((resolve) => this.pending.set(id, resolve));
    onAbort((reason) => {
      if (this.pending.has(id) && !this.closed) this.addon.abort(this.handle, worker, id, reason);
    });
    return p;
  }

  /** Aborts what still runs and stops the threads; their results still arrive. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.addon.close(this.handle);
  }
}
