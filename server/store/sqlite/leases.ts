/**
 * The DHCP pool's leases. The PoolAllocator (pxe/dhcp/allocator.ts) is authoritative, in memory:
 * an offer is a few map and heap operations, no scan and no SQL on the event loop. A file store
 * keeps what it decides in two places:
 *
 * - the lease journal (lease-journal.ts): each change is a line appended beside the database,
 *   one write() per batch. A bind returns only once its line is written, and the DHCP handler
 *   sends its ACK after that, so every lease a client was ACKed survives a crash (kill -9) and is
 *   never handed to another MAC after a restart. Offers, releases, declines and expiries wait
 *   for the next bind's write or the next batch (at most BATCH_MS): one write() per ACK.
 * - the `leases` table, brought up to date behind the journal in batches (BATCH_MS apart,
 *   changes to one address coalesced) on the store's writer thread, in BEGIN IMMEDIATE
 *   transactions on that thread's connection: the service's connection never writes a lease, so
 *   a lease write can neither block the event loop nor fail with SQLITE_BUSY because the event
 *   writer holds the lock (that was 320 "database is locked" errors at ~1,200 packets/s). A
 *   journal segment goes once the table holds what it had.
 *
 * At open the table is read, then the journal on top of it. Nothing is written until the pool is
 * first used: a CLI command that opens the store beside the running service neither writes the
 * service's leases nor touches its journal.
 *
 * What a crash leaves: every change whose line was written: every ACKed lease, and all other
 * changes but those of the last BATCH_MS after it (an offer forgotten is bound afresh or NAKed at
 * the client's REQUEST; a release or decline undone holds the address until it expires). A power loss, unlike a crash, can take the last writes of
 * journal and WAL with it (neither is synced at each write, as with Kea's lease file). A batch
 * that fails (the lock held past busy_timeout by a long transaction elsewhere) is retried with
 * the changes made since; the journal holds them meanwhile.
 *
 * An in-memory store has no journal: a bind there resolves once its batch has committed.
 */
import type Database from 'better-sqlite3';
import type { Lease, LeaseStore, PoolRange } from '../../../pxe/dhcp/leases.js';
import { PoolAllocator, type LeaseChange } from '../../../pxe/dhcp/allocator.js';
import { ipToInt } from '../../../pxe/net/ipv4.js';
import { LeaseJournal } from './lease-journal.js';

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
  /** Live leases as the table holds them (tests: what a restart would load without the journal). */
  persisted(now: number): Lease[];
  /** Resolves once every change made so far is in the table; rejects if a batch failed. */
  flush(): Promise<void>;
  /** Writes what is queued (journal, then table) and closes the journal. */
  close(): Promise<void>;
}

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

const RETRY_MS = 1000;
/**
 * The table follows the journal this far behind: nobody waits for it, and fewer, larger commits
 * mean fewer WAL pages and checkpoints on the writer thread. Without a journal (an in-memory
 * store) a bind waits for its batch, which then starts at once.
 */
const BATCH_MS = 100;

export interface LeaseStoreOptions {
  /** The writer thread (event-writer.ts); without it the connection's own writes. */
  writer?: AsyncLeaseWrites;
  /** The journal's segments' path without the number (a file store); none for an in-memory one. */
  journal?: string;
  /** A journal segment is closed past this size (tests). */
  segmentBytes?: number;
  now?: () => number;
}

export function sqliteLeases(db: Database.Database, o: LeaseStoreOptions = {}): SqliteLeases {
  const { writer } = o;
  const now = o.now ?? Date.now;
  const local = writer ? null : leaseWrites(db);
  const live = db.prepare<[number], Row>('SELECT * FROM leases WHERE expires_at > ? ORDER BY ip_num');
  const expired = db.prepare<[number], { ip: string }>('SELECT ip FROM leases WHERE expires_at <= ?');
  const journal = o.journal ? new LeaseJournal(o.journal, o.segmentBytes) : null;

  let pending = new Map<string, Lease | null>();
  let waiters: Waiter[] = [];
  let inflight: Waiter[] | null = null;
  let timer: NodeJS.Timeout | null = null;
  let immediate: NodeJS.Immediate | null = null;
  let retry: NodeJS.Timeout | null = null;
  /** Batches cut so far; a journal segment goes once a batch cut after it was closed has committed. */
  let batches = 0;
  let retireAt: { segment: number; batch: number } | null = null;

  const schedule = () => {
    if (inflight || retry || pending.size === 0) return;
    if (waiters.length > 0) {
      // Someone waits (flush; a bind without a journal): now.
      if (immediate) return;
      if (timer) clearTimeout(timer);
      timer = null;
      immediate = setImmediate(() => void run());
    } else if (!timer && !immediate) {
      timer = setTimeout(() => void run(), BATCH_MS);
      timer.unref();
    }
  };
  const run = async () => {
    if (timer) clearTimeout(timer);
    timer = null;
    immediate = null;
    if (inflight || pending.size === 0) return;
    try {
      // The table never holds a change the journal does not: a restart replays the journal on top of it.
      if (journal) writeJournal();
    } catch (e) {
      fail(e as Error, waiters);
      waiters = [];
      return;
    }
    const batch = pending;
    const ws = waiters;
    const no = ++batches;
    pending = new Map();
    waiters = [];
    inflight = ws;
    const changes: LeaseChange[] = [];
    for (const [ip, lease] of batch) changes.push({ ip, lease });
    try {
      if (writer) await writer.applyLeases(changes);
      else local!.apply(changes);
    } catch (e) {
      // Back in the queue under anything newer for the same address, and tried again later.
      for (const [ip, lease] of batch) if (!pending.has(ip)) pending.set(ip, lease);
      inflight = null;
      fail(e as Error, ws);
      return;
    }
    inflight = null;
    if (journal && retireAt && no >= retireAt.batch) {
      const upTo = retireAt.segment;
      retireAt = null;
      try {
        journal.retire(upTo);
      } catch {
        // Left for the next time: a segment that stays is replayed again, which changes nothing.
        retireAt = { segment: upTo, batch: batches + 1 };
      }
    }
    for (const w of ws) w.resolve();
    schedule();
  };
  const fail = (e: Error, ws: Waiter[]) => {
    for (const w of ws) w.reject(e);
    retry = setTimeout(() => {
      retry = null;
      schedule();
    }, RETRY_MS);
    retry.unref();
  };
  /** Waits until every change made so far is in the table. */
  const committed = (): Promise<void> =>
    new Promise((resolve, reject) => {
      if (pending.size > 0) {
        waiters.push({ resolve, reject });
        schedule();
      } else if (inflight) inflight.push({ resolve, reject });
      else resolve();
    });

  /** A segment closed now goes once everything queued so far has committed (the next batch). */
  const retireLater = (segment: number) => {
    if (pending.size === 0 && !inflight) journal!.retire(segment);
    else retireAt = { segment: Math.max(segment, retireAt?.segment ?? 0), batch: batches + 1 };
  };

  /** Writes the journal now (a bind's line must be on disk before its ACK). */
  const writeJournal = () => {
    journal!.write();
    const closed = journal!.rotateIfFull();
    if (closed !== null) retireLater(closed);
  };
  const alloc = new PoolAllocator((c) => {
    own();
    pending.set(c.ip, c.lease);
    // Queued; written with the next bind's line or before the next batch, whichever is first.
    journal?.add(c);
    schedule();
  });

  // The table, then the journal on top of it: the state at the last journal write.
  const t = now();
  const state = new Map<string, Lease | null>();
  for (const r of live.all(t)) state.set(r.ip, toLease(r));
  const replayed = journal?.read() ?? [];
  for (const c of replayed) state.set(c.ip, c.lease);
  alloc.load([...state.values()].filter((l): l is Lease => l !== null), t);

  /**
   * The first change to the pool: from here this store owns the leases. The journal gets a segment
   * of its own, and the table catches up with what the old segments said (they go once it has)
   * and drops the rows that ran out while netroot was stopped.
   */
  let owned = false;
  const own = () => {
    if (owned) return;
    owned = true;
    // The latest state of every address the journal named (pending is empty: nothing changed yet).
    for (const c of replayed) pending.set(c.ip, state.get(c.ip) ?? null);
    for (const { ip } of expired.all(t)) if (!state.get(ip)) pending.set(ip, null);
    if (journal) {
      const older = journal.open();
      if (older.length > 0) retireLater(older.at(-1)!);
    }
    schedule();
  };

  const flush = async () => {
    own();
    if (journal?.buffered) writeJournal();
    if (retry) {
      clearTimeout(retry);
      retry = null;
    }
    while (pending.size > 0 || inflight) await committed();
  };

  return {
    offer: (mac, pool, requested, holdSec, at) => alloc.offer(mac, pool, requested, holdSec, at),
    async bind(mac, ip, pool, leaseSec, at) {
      if (!(await alloc.bind(mac, ip, pool, leaseSec, at))) return false;
      // The ACK goes out only for a lease on disk: its journal line, or (no journal) its row.
      if (journal) writeJournal();
      else await committed();
      return true;
    },
    release: (mac, ip) => alloc.release(mac, ip),
    decline: (mac, ip, holdSec, at) => alloc.decline(mac, ip, holdSec, at),
    find: (mac, pool, at) => alloc.find(mac, pool, at),
    all: (at) => alloc.all(at),
    persisted: (at) => live.all(at).map(toLease),
    flush,
    async close() {
      if (!owned) return;
      try {
        await flush();
      } finally {
        if (timer) clearTimeout(timer);
        journal?.close();
      }
    },
  };
}
