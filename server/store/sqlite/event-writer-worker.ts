/**
 * The event writer thread (see event-writer.ts): its own connection to the store's file, the
 * hot write transactions (events, discovered list, security log, DHCP leases), one request at
 * a time in arrival order.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { storeWrites } from './writes.js';
import { sockopt } from '../../../pxe/native/index.js';
import type { WriterReply, WriterRequest } from './event-writer.js';

/**
 * This thread runs in SCHED_IDLE (one thread only: the service's others keep their policy). The
 * service wakes it with each batch, and the scheduler runs a woken thread on the waker's CPU: at
 * the same priority (and still at nice 10) a batch's transaction held the event loop off its CPU
 * for 1-2 ms while the other CPU sat idle, and DHCP replies waited that long. In SCHED_IDLE the
 * event loop preempts it at once; the writes run on CPU time nothing else wants, which is most
 * of it, and fall behind only while every CPU is busy (the journal keeps the leases meanwhile,
 * and the recorder's queue is bounded). Where the call is refused, nice 19.
 */
try {
  sockopt().idleThread();
} catch {
  try {
    setPriority(0, 19);
  } catch {
    // Left at the service's priority.
  }
}

const db = new Database((workerData as { path: string }).path);
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
const writes = storeWrites(db);

parentPort!.on('message', (m: WriterRequest | { op: 'close' }) => {
  if (m.op === 'close') {
    db.close();
    parentPort!.close();
    return;
  }
  let reply: WriterReply;
  try {
    const f = writes[m.name] as (...args: unknown[]) => unknown;
    if (typeof f !== 'function') throw new Error(`unknown write ${String(m.name)}`);
    reply = { id: m.id, ok: true, value: f(...m.args) };
  } catch (e) {
    reply = { id: m.id, ok: false, error: (e as Error).message };
  }
  parentPort!.postMessage(reply);
});
