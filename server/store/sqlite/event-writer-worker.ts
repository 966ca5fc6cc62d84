/**
 * The event writer thread (see event-writer.ts): its own connection to the store's file, the
 * event and lease tables' write transactions, one request at a time in arrival order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { eventWrites } from './events.js';
import { leaseWrites } from './leases.js';
import type { WriterReply, WriterRequest } from './event-writer.js';

const db = new Database((workerData as { path: string }).path);
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
const writes = eventWrites(db);
const leases = leaseWrites(db);

parentPort!.on('message', (m: WriterRequest | { op: 'close' }) => {
  if (m.op === 'close') {
    db.close();
    parentPort!.close();
    return;
  }
  let reply: WriterReply;
  try {
    const value = m.op === 'append' ? writes.append(m.list) : m.op === 'prune' ? writes.prune(m.maxPerMac, m.olderThan) : leases.apply(m.changes);
    reply = { id: m.id, ok: true, value };
  } catch (e) {
    reply = { id: m.id, ok: false, error: (e as Error).message };
  }
  parentPort!.postMessage(reply);
});
