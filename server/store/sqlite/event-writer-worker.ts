/**
 * The event writer thread (see event-writer.ts): its own connection to the store's file, the
 * hot write transactions (events, discovered list, security log, DHCP leases), one request at
 * a time in arrival order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { storeWrites } from './writes.js';
import type { WriterReply, WriterRequest } from './event-writer.js';

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
