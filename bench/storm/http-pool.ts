/**
 * The kernel and initramfs downloads of every node, on worker threads of the client process.
 * Hashing 34 GB takes seconds per GB of CPU; on the thread that also runs DHCP and TFTP, one turn
 * of the event loop could spend hundreds of ms hashing reads of 500 connections while TFTP ACKs
 * and DHCP replies waited, so the client, not the server, would set a lockstep transfer's pace.
 * On their own threads the kernel's scheduler interleaves the two at its own fine grain.
 */
import { Worker } from 'node:worker_threads';
import type { HttpGetOptions, HttpResult } from './http-client.js';

export type BigFile = 'kernel' | 'initrd';

export interface HttpPoolFiles {
  /** Compare with these files (read once per worker) instead of hashing; null = SHA-256. */
  expect: Record<BigFile, { path: string; sha256: string }> | null;
}

export type PoolRequest = { id: number; file: BigFile; opts: Omit<HttpGetOptions, 'expect' | 'keepBody'> };
export type PoolReply = { id: number; result: HttpResult } | { id: number; error: string };

export class HttpPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, { resolve(r: HttpResult): void; reject(e: Error): void }>();
  private next = 1;

  constructor(size: number, files: HttpPoolFiles) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(new URL('./http-worker.js', import.meta.url), { workerData: files });
      w.on('message', (m: PoolReply) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if ('error' in m) p.reject(new Error(m.error));
        else p.resolve(m.result);
      });
      w.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(new Error(`http worker: ${e.message}`));
        this.pending.clear();
      });
      this.workers.push(w);
    }
  }

  /** One download on the workers in turn. */
  get(file: BigFile, opts: PoolRequest['opts']): Promise<HttpResult> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.workers[id % this.workers.length]!.postMessage({ id, file, opts } satisfies PoolRequest);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
