/**
 * Boot events (and the other hot writes: discovered list, security log, DHCP leases) are
 * written by a thread of their own. A boot storm is thousands of events a
 * second; their batches (and the WAL checkpoints they trigger, with an fsync) took 5-60 ms each
 * on the event loop, which the DHCP server shares: replies waited that long (p99) and bursts
 * overflowed socket buffers. The thread has its own connection (WAL: the service's connection
 * keeps reading meanwhile); an append resolves once its transaction has committed, so a read
 * after it sees the rows.
 *
 * If the thread dies, pending writes fail with its error and later ones run on the service's own
 * connection: events are never silently lost to a dead thread.
 */
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { storeWrites, type AsyncStoreWrites, type StoreWrites } from './writes.js';

/** One of StoreWrites' methods by name, with its arguments (structured-clone-able). */
type Request = { [K in keyof StoreWrites]: { op: 'call'; name: K; args: Parameters<StoreWrites[K]> } }[keyof StoreWrites];
export type WriterRequest = Request & { id: number };
export type WriterReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export interface EventWriter extends AsyncStoreWrites {
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
  let fallback: StoreWrites | null = null;
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
  const call = <K extends keyof StoreWrites>(name: K, args: Parameters<StoreWrites[K]>): Promise<ReturnType<StoreWrites[K]>> => {
    if (!alive) {
      fallback ??= storeWrites(db);
      const w = fallback;
      return Promise.resolve().then(() => (w[name] as (...a: Parameters<StoreWrites[K]>) => ReturnType<StoreWrites[K]>)(...args));
    }
    const req = { op: 'call', name, args } as Request;
    const id = nextId++;
    return new Promise<ReturnType<StoreWrites[K]>>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      holdLoop();
      worker.postMessage({ ...req, id });
    });
  };
  return {
    get threaded() {
      return alive;
    },
    append: (list) => call('append', [list]),
    prune: (maxPerMac, olderThan) => call('prune', [maxPerMac, olderThan]),
    discover: (list) => call('discover', [list]),
    pruneDiscovered: (maxRows, olderThan) => call('pruneDiscovered', [maxRows, olderThan]),
    security: (list, maxRows) => call('security', [list, maxRows]),
    applyLeases: (changes) => call('applyLeases', [changes]),
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
