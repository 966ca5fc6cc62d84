/**
 * Every write the hot paths make, in one object the writer thread runs by name (event-writer.ts)
 * or the service's own connection runs in-process (in-memory stores, a dead thread): boot events,
 * the discovered list and the security log (events.ts), DHCP leases (leases.ts).
 */
import type Database from 'better-sqlite3';
import type { LeaseChange } from '../../../pxe/dhcp/allocator.js';
import { eventWrites, type EventWrites } from './events.js';
import { leaseWrites } from './leases.js';

export interface StoreWrites extends EventWrites {
  /** Lease changes of the in-memory pool allocator, in order, in one transaction. */
  applyLeases(changes: LeaseChange[]): void;
}

/** The async side: a worker thread's, or the connection's own. */
export type AsyncStoreWrites = { [K in keyof StoreWrites]: (...args: Parameters<StoreWrites[K]>) => Promise<ReturnType<StoreWrites[K]>> };

export function storeWrites(db: Database.Database): StoreWrites {
  const leases = leaseWrites(db);
  return { ...eventWrites(db), applyLeases: (changes) => leases.apply(changes) };
}

/** The writes run on this connection, as promises. */
export function localWrites(db: Database.Database): AsyncStoreWrites {
  const w = storeWrites(db);
  return {
    append: async (list) => w.append(list),
    prune: async (maxPerMac, olderThan) => w.prune(maxPerMac, olderThan),
    discover: async (list) => w.discover(list),
    pruneDiscovered: async (maxRows, olderThan) => w.pruneDiscovered(maxRows, olderThan),
    security: async (list, maxRows) => w.security(list, maxRows),
    applyLeases: async (changes) => w.applyLeases(changes),
  };
}
