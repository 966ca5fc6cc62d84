/**
 * Boot events, and the DHCP pool's leases (leases.ts), are written by a thread of their own. A
 * boot storm is thousands of events a second; their batches (and the WAL checkpoints they
 * trigger, with an fsync) took 5-60 ms each on the event loop, which the DHCP server shares:
 * replies waited that long (p99) and bursts overflowed socket buffers. The thread has its own connection (WAL: the service's connection
 * keeps reading meanwhile); an append resolves once its transaction has committed, so a read
 * after it sees the rows.
 *
 * If the thread dies, pending writes fail with its error and later ones run on the service's own
 * connection: events are never silently lost to a dead thread.
 *
 * Lease batches share the thread rather than use the service's connection, where a write meets
 * the thread's lock: it either waits for it on the event loop (busy_timeout) or, upgrading a read,
 * fails at once with SQLITE_BUSY. Here one connection does both, one transaction at a time.
 */
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { EventRecord } from '../types.js';
import { eventWrites, type AsyncEventWrites, type EventWrites } from './events.js';
import { leaseWrites, type AsyncLeaseWrites } from './leases.js';
import type { LeaseChange } from '../../../pxe/dhcp/allocator.js';

type Request =
  | { op: 'append'; list: Omit<EventRecord, 'id'>[] }
  | { op: 'prune'; maxPerMac: number; olderThan: number }
  | { op: 'leases'; changes: LeaseChange[] };
export type WriterRequest = Request & { id: number };
export type WriterReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export interface EventWriter extends AsyncEventWrites, AsyncLeaseWrites {
  /** Finishes the writes sent so far, then stops the thread. */
  close(): Promise<void>;
  /** Whether writes still go to the thread (false after it died or closed). */
  readonly threaded: boolean;
  /** Kills the thread at once, as a crash would (tests). */
  terminate(): Promise<void>;
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

export function startEventWriter(path: string, db: Database.Database): EventWriter {
  const worker = new Worker(new URL('./event-writer-worker.js', import.meta.url), { workerData: { path } });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let alive = true;
  // Set once close() or terminate() has begun: the thread is on its way out.
  let stopping = false;
  let fallback: (EventWrites & { applyLeases(changes: LeaseChange[]): void }) | null = null;
  const exited: Promise<void> = new Promise((resolve) => worker.once('exit', () => resolve()));
  /**
   * Only a thread with work in hand, or one being stopped, keeps the process alive. The second
   * half matters: a reply that lands after terminate() began used to unref the worker while
   * terminate() still waited for its 'exit', and an otherwise idle process then ended with the
   * exit notification (and the caller's promise) never delivered.
   */
  const holdLoop = () => {
    if (stopping || pending.size > 0) worker.ref();
    else worker.unref();
  };
  holdLoop();
  const dead = (err: Error) => {
    if (!alive) return;
    alive = false;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker.on('message', (r: WriterReply) => {
    const p = pending.get(r.id);
    if (!p) return;
    pending.delete(r.id);
    holdLoop();
    if (r.ok) p.resolve(r.value);
    else p.reject(new Error(`event writer: ${r.error}`));
  });
  worker.on('error', (e) => dead(new Error(`event writer thread failed: ${e.message}`)));
  worker.on('exit', (code) => dead(new Error(`event writer thread exited (code ${code})`)));
  const call = <T>(req: Request, local: (w: NonNullable<typeof fallback>) => T): Promise<T> => {
    if (!alive) {
      fallback ??= { ...eventWrites(db), applyLeases: leaseWrites(db).apply };
      return Promise.resolve().then(() => local(fallback!));
    }
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      holdLoop();
      worker.postMessage({ ...req, id });
    });
  };
  return {
    get threaded() {
      return alive;
    },
    append: (list) => call({ op: 'append', list }, (w) => w.append(list)),
    prune: (maxPerMac, olderThan) => call({ op: 'prune', maxPerMac, olderThan }, (w) => w.prune(maxPerMac, olderThan)),
    applyLeases: (changes) => call({ op: 'leases', changes }, (w) => w.applyLeases(changes)),
    async terminate() {
      stopping = true;
      holdLoop();
      const code = await worker.terminate();
      // 'exit' has failed whatever was pending; this covers a thread that was already gone.
      dead(new Error(`event writer thread exited (code ${code ?? 'unknown'})`));
    },
    async close() {
      if (!alive) return;
      stopping = true;
      holdLoop();
      // Messages are handled in order: every write sent before this one has its reply first.
      worker.postMessage({ op: 'close' });
      await exited;
      dead(new Error('event writer closed'));
    },
  };
}
