/**
 * The DHCP pool's leases. The PoolAllocator (pxe/dhcp/allocator.ts) is authoritative, in memory:
 * an offer is a few map and heap operations, no scan and no SQL on the event loop. SQLite keeps a
 * copy for restarts, loaded at open and written behind in batches (group commit, below; changes
 * to one address coalesced) on the store's writer thread, in BEGIN IMMEDIATE transactions on
 * that thread's connection: the service's connection never writes a lease, so a lease write can
 * neither block the event loop nor fail with SQLITE_BUSY because the event writer holds the lock
 * (that was 320 "database is locked" errors, and as many dropped packets, at ~1,200 packets/s).
 *
 * What survives a crash (kill -9 of the service): a bind resolves only once the batch holding it
 * has committed, and the DHCP handler sends its ACK after that, so every lease a client was ACKed
 * is on disk and is never handed to another MAC after a restart. Offers, releases, declines and
 * expiries are written behind without waiting: after a crash an offer may be forgotten (the
 * client's REQUEST is then bound afresh or NAKed) and a release or decline may be undone (the
 * address stays held until it expires). The WAL is synced at checkpoints (synchronous=NORMAL):
 * a power loss, unlike a crash, can take the last commits with it.
 *
 * A batch that fails (the lock held past busy_timeout by a long transaction elsewhere) rejects
 * the binds waiting on it and is retried with the changes made since.
 */
import type Database from 'better-sqlite3';
import type { Lease, LeaseStore, PoolRange } from '../../../pxe/dhcp/leases.js';
import { PoolAllocator, type LeaseChange } from '../../../pxe/dhcp/allocator.js';
import { ipToInt } from '../../../pxe/net/ipv4.js';

interface Row {
  ip: string;
  ip_num: number;
  mac: string;
  state: Lease['state'];
  expires_at: number;
}

const toLease = (r: Row): Lease => ({ ip: r.ip, mac: r.mac, state: r.state, expiresAt: r.expires_at });

/** The lease table's writes on one connection (the writer thread's, or an in-memory store's own). */
export function leaseWrites(db: Database.Database): { apply(changes: LeaseChange[]): void } {
  const put = db.prepare(
    `INSERT INTO leases (ip, ip_num, mac, state, expires_at) VALUES (@ip, @num, @mac, @state, @exp)
     ON CONFLICT(ip) DO UPDATE SET mac = excluded.mac, state = excluded.state, expires_at = excluded.expires_at`,
  );
  const del = db.prepare<[string]>('DELETE FROM leases WHERE ip = ?');
  const tx = db.transaction((changes: LeaseChange[]) => {
    for (const c of changes) {
      if (c.lease) put.run({ ip: c.ip, num: ipToInt(c.ip), mac: c.lease.mac, state: c.lease.state, exp: c.lease.expiresAt });
      else del.run(c.ip);
    }
  });
  // IMMEDIATE: the write lock is taken (waiting up to busy_timeout) before anything is read, so
  // the transaction cannot fail later on a stale snapshot.
  return { apply: (changes) => tx.immediate(changes) };
}

/** Where batches go: the writer thread (event-writer.ts), or the connection's own writes. */
export interface AsyncLeaseWrites {
  applyLeases(changes: LeaseChange[]): Promise<void>;
}

export interface SqliteLeases extends LeaseStore {
  /** Every live lease (the allocator's). */
  all(now: number): Lease[];
  /** Live leases as the table holds them (tests: what a restart would load). */
  persisted(now: number): Lease[];
  /** Resolves once every change made so far has committed; rejects if a batch failed. */
  flush(): Promise<void>;
}

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

const RETRY_MS = 1000;

/**
 * Group commit: at most one batch in flight. A change starts a batch at once when none is (after
 * the packets already read in this turn of the event loop, so a burst shares one commit); while
 * one commits, changes gather and go in the next as soon as it is done. A bind's ACK waits one
 * commit or two on the writer thread, well under a millisecond each when quiet; under load the
 * batches grow instead of the commits multiplying. (A 10 ms timer used to stand here: every ACK
 * of a pool client waited up to 10 ms for it, the p50 of a boot storm.)
 */
export function sqliteLeases(db: Database.Database, writer?: AsyncLeaseWrites, now: () => number = Date.now): SqliteLeases {
  const local = writer ? null : leaseWrites(db);
  const live = db.prepare<[number], Row>('SELECT * FROM leases WHERE expires_at > ? ORDER BY ip_num');
  const expired = db.prepare<[number], { ip: string }>('SELECT ip FROM leases WHERE expires_at <= ?');

  let pending = new Map<string, Lease | null>();
  let waiters: Waiter[] = [];
  let inflight: Waiter[] | null = null;
  let scheduled = false;
  let retry: NodeJS.Timeout | null = null;

  const schedule = () => {
    if (scheduled || inflight || retry || pending.size === 0) return;
    scheduled = true;
    setImmediate(() => void run());
  };
  const run = async () => {
    scheduled = false;
    if (inflight || pending.size === 0) return;
    const batch = pending;
    const ws = waiters;
    pending = new Map();
    waiters = [];
    inflight = ws;
    const changes: LeaseChange[] = [];
    for (const [ip, lease] of batch) changes.push({ ip, lease });
    try {
      if (writer) await writer.applyLeases(changes);
      else local!.apply(changes);
      inflight = null;
      for (const w of ws) w.resolve();
    } catch (e) {
      // Back in the queue under anything newer for the same address, and tried again later.
      for (const [ip, lease] of batch) if (!pending.has(ip)) pending.set(ip, lease);
      inflight = null;
      for (const w of ws) w.reject(e as Error);
      retry = setTimeout(() => {
        retry = null;
        schedule();
      }, RETRY_MS);
      retry.unref();
      return;
    }
    schedule();
  };
  /** Waits for the batch holding every change made so far. */
  const committed = (): Promise<void> =>
    new Promise((resolve, reject) => {
      if (pending.size > 0) {
        waiters.push({ resolve, reject });
        schedule();
      } else if (inflight) inflight.push({ resolve, reject });
      else resolve();
    });

  const alloc = new PoolAllocator((c) => {
    pending.set(c.ip, c.lease);
    schedule();
  });
  const t = now();
  alloc.load(live.all(t).map(toLease), t);
  // Rows that ran out while netroot was stopped leave with the first batch.
  for (const { ip } of expired.all(t)) pending.set(ip, null);
  schedule();

  return {
    offer: (mac: string, pool: PoolRange, requested: string | null, holdSec: number, at: number) => alloc.offer(mac, pool, requested, holdSec, at),
    async bind(mac, ip, pool, leaseSec, at) {
      if (!(await alloc.bind(mac, ip, pool, leaseSec, at))) return false;
      // The ACK goes out only for a lease on disk.
      await committed();
      return true;
    },
    release: (mac, ip) => alloc.release(mac, ip),
    decline: (mac, ip, holdSec, at) => alloc.decline(mac, ip, holdSec, at),
    find: (mac, pool, at) => alloc.find(mac, pool, at),
    all: (at) => alloc.all(at),
    persisted: (at) => live.all(at).map(toLease),
    async flush() {
      if (retry) {
        clearTimeout(retry);
        retry = null;
      }
      schedule();
      while (pending.size > 0 || inflight) await committed();
    },
  };
}
