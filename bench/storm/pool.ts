/**
 * The loader, kernel and initramfs downloads of every node, on worker threads of the client
 * process; DHCP and the iPXE scripts stay on the main thread.
 *
 * Why threads: one event loop cannot keep up with 500 nodes. Hashing 34 GB of kernels and
 * initramfs takes seconds of CPU per GB; on the thread that also runs DHCP and TFTP, one turn of
 * the loop could spend hundreds of ms hashing while TFTP ACKs and DHCP replies waited. And 500
 * lockstep TFTP transfers at once (about 357,000 DATA blocks to answer) kept the one loop busy
 * all the time, so the client, not the server, set the pace of the TFTP stage, and the more so
 * the faster a server had answered DHCP (every node then reaches TFTP in the same second). Spread
 * over the workers, the kernel's scheduler interleaves them at its own fine grain, and a server
 * that answers DHCP quickly is no longer slowed by its own clients.
 */
import { Worker } from 'node:worker_threads';
import type { HttpGetOptions, HttpResult } from './http-client.js';
import type { TftpGetOptions, TftpResult } from './tftp-client.js';

export type BigFile = 'kernel' | 'initrd';

export interface PoolFiles {
  /** Compare kernel and initramfs with these files (read once per worker) instead of hashing; null = SHA-256. */
  expect: Record<BigFile, { path: string; sha256: string }> | null;
}

export type PoolRequest =
  | { id: number; kind: 'http'; file: BigFile; opts: Omit<HttpGetOptions, 'expect' | 'keepBody'> }
  | { id: number; kind: 'tftp'; opts: TftpGetOptions };
export type PoolReply = { id: number; result: HttpResult | TftpResult } | { id: number; error: string };

export class DownloadPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, { resolve(r: HttpResult | TftpResult): void; reject(e: Error): void }>();
  private next = 1;

  constructor(size: number, files: PoolFiles) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: files });
      w.on('message', (m: PoolReply) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if ('error' in m) p.reject(new Error(m.error));
        else p.resolve(m.result);
      });
      w.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(new Error(`download worker: ${e.message}`));
        this.pending.clear();
      });
      this.workers.push(w);
    }
  }

  /** A kernel or initramfs over HTTP, on the workers in turn. */
  http(file: BigFile, opts: Omit<HttpGetOptions, 'expect' | 'keepBody'>): Promise<HttpResult> {
    return this.post((id) => ({ id, kind: 'http', file, opts })) as Promise<HttpResult>;
  }

  /** A loader over TFTP (lockstep, as firmware reads it), on the workers in turn. */
  tftp(opts: TftpGetOptions): Promise<TftpResult> {
    return this.post((id) => ({ id, kind: 'tftp', opts })) as Promise<TftpResult>;
  }

  private post(request: (id: number) => PoolRequest): Promise<HttpResult | TftpResult> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.workers[id % this.workers.length]!.postMessage(request(id));
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
