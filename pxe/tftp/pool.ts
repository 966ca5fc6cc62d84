/**
 * A pool of worker threads that run transfers (worker.ts). The main thread keeps the request
 * socket, the caps and the file handler; a transfer whose bytes can cross threads (bytes in
 * memory, or an open fd: fds are shared by every thread of the process) runs on the least busy
 * worker. A worker that dies fails its transfers as aborted and is not used again.
 */
import { Worker } from 'node:worker_threads';
import { closeSync } from 'node:fs';
import type { TransferJob } from './engine.js';
import type { TransferResult } from './transfer.js';

export type PoolSource = { kind: 'data'; data: Uint8Array } | { kind: 'fd'; fd: number; netascii: boolean };

export type ToWorker = { type: 'run'; id: number; job: TransferJob; src: PoolSource } | { type: 'abort'; id: number; reason: string };
export type FromWorker = { type: 'done'; id: number; result: TransferResult } | { type: 'failed'; id: number; error: string };

interface Slot {
  worker: Worker;
  busy: number;
  alive: boolean;
  pending: Map<number, { resolve: (r: TransferResult) => void; reject: (e: Error) => void }>;
}

const aborted = (error: string): TransferResult => ({ outcome: 'aborted', bytes: 0, blocks: 0, dataPackets: 0, retransmits: 0, ignoredAcks: 0, strangers: 0, error });

export class TransferPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private readonly where = new Map<number, Slot>();

  constructor(size: number) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    // fds arrive opened on the main thread: without trackUnmanagedFds: false, closing one here
    // warns "closed but not opened in unmanaged mode" once per transfer.
    const worker = new Worker(new URL('./worker.js', import.meta.url), { trackUnmanagedFds: false });
    const slot: Slot = { worker, busy: 0, alive: true, pending: new Map() };
    worker.unref();
    worker.on('message', (m: FromWorker) => {
      const p = slot.pending.get(m.id);
      if (!p) return;
      slot.pending.delete(m.id);
      this.where.delete(m.id);
      slot.busy--;
      if (m.type === 'done') p.resolve(m.result);
      else p.reject(new Error(m.error));
    });
    const die = (why: string) => {
      slot.alive = false;
      for (const [id, p] of slot.pending) {
        this.where.delete(id);
        p.resolve(aborted(`transfer worker ${why}`));
      }
      slot.pending.clear();
      slot.busy = 0;
    };
    worker.on('error', (e) => die(`failed: ${e.message}`));
    worker.on('exit', (code) => die(`exited (${code})`));
    return slot;
  }

  /** True when a live worker can take a transfer. */
  get available(): boolean {
    return this.slots.some((s) => s.alive);
  }

  /**
   * Runs a transfer on the least busy worker. `data` is copied to the worker; an fd is handed
   * over (the worker closes it). Resolves with the result; rejects when the worker could not
   * start it (socket or read error). `onAbort` receives the function that aborts it.
   */
  run(job: TransferJob, src: PoolSource, onAbort: (abort: (reason: string) => void) => void): Promise<TransferResult> {
    let slot: Slot | undefined;
    for (const s of this.slots) if (s.alive && (!slot || s.busy < slot.busy)) slot = s;
    if (!slot) {
      if (src.kind === 'fd') closeSync(src.fd);
      return Promise.reject(new Error('no transfer worker alive'));
    }
    const id = this.nextId++;
    const s = slot;
    return new Promise<TransferResult>((resolve, reject) => {
      s.pending.set(id, { resolve, reject });
      s.busy++;
      this.where.set(id, s);
      s.worker.postMessage({ type: 'run', id, job, src } satisfies ToWorker);
      onAbort((reason) => {
        if (this.where.get(id) === s && s.alive) s.worker.postMessage({ type: 'abort', id, reason } satisfies ToWorker);
      });
    });
  }

  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
