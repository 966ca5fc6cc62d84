/**
 * The dynamic pool as the service runs it: authoritative in memory, every answer the same as the
 * reference MemoryLeaseStore's, in O(log n) per call. The reference scans the whole range for the
 * lowest free address on each offer and every lease on each find; a boot storm of unknown MACs
 * made that (and its SQLite twin) the cost of every packet.
 *
 * Per pool range: a cursor below which every address has been handed out at least once, and a
 * heap of the addresses below it that are free again; the lowest free address is the heap's top,
 * else the cursor. Per lease: an index by MAC and a heap by expiry, so expired entries leave when
 * time passes them (each call's `now`; a clock stepped back never revives one).
 *
 * Persistence is the caller's: every change is reported (onChange) as the lease an address now
 * has, or null when it has none, and `load` takes back what was saved.
 */
import { IndexedHeap } from './heap.js';
import { intToIp, ipToInt } from '../net/ipv4.js';
import type { Lease, LeaseStore, PoolRange } from './leases.js';

/** The lease an address now has (null: none): what a store writes to keep up with the allocator. */
export interface LeaseChange {
  ip: string;
  lease: Lease | null;
}

interface Entry {
  n: number;
  mac: string;
  state: Lease['state'];
  expiresAt: number;
}

class RangeFree {
  /** Every address below it has been taken once; from it up, an address is free unless it has an entry. */
  cursor: number;
  /** Addresses below the cursor that are free again. */
  readonly free = new IndexedHeap();
  constructor(
    readonly start: number,
    readonly end: number,
  ) {
    this.cursor = start;
  }
  has(n: number): boolean {
    return n >= this.start && n <= this.end;
  }
}

const toLease = (e: Entry): Lease => ({ ip: intToIp(e.n), mac: e.mac, state: e.state, expiresAt: e.expiresAt });

export class PoolAllocator implements LeaseStore {
  private readonly byIp = new Map<number, Entry>();
  private readonly byMac = new Map<string, Set<number>>();
  private readonly expiry = new IndexedHeap();
  private readonly ranges = new Map<string, RangeFree>();

  constructor(private readonly onChange?: (change: LeaseChange) => void) {}

  /** Takes back saved leases (before serving); expired ones are left out and not reported. */
  load(leases: Iterable<Lease>, now: number): void {
    for (const l of leases) if (l.expiresAt > now) this.put({ n: ipToInt(l.ip), mac: l.mac, state: l.state, expiresAt: l.expiresAt }, false);
  }

  private range(pool: PoolRange): RangeFree {
    const key = `${pool.start}-${pool.end}`;
    let r = this.ranges.get(key);
    if (!r) {
      r = new RangeFree(ipToInt(pool.start), ipToInt(pool.end));
      this.ranges.set(key, r);
    }
    return r;
  }

  private put(e: Entry, report = true): void {
    const prev = this.byIp.get(e.n);
    if (prev?.mac) this.byMac.get(prev.mac)?.delete(e.n);
    this.byIp.set(e.n, e);
    if (e.mac) {
      let s = this.byMac.get(e.mac);
      if (!s) this.byMac.set(e.mac, (s = new Set()));
      s.add(e.n);
    }
    this.expiry.set(e.n, e.expiresAt);
    if (!prev) for (const r of this.ranges.values()) if (r.has(e.n)) r.free.delete(e.n);
    if (report) this.onChange?.({ ip: intToIp(e.n), lease: toLease(e) });
  }

  private remove(n: number): void {
    const e = this.byIp.get(n);
    if (!e) return;
    this.byIp.delete(n);
    if (e.mac) {
      const s = this.byMac.get(e.mac);
      s?.delete(n);
      if (s?.size === 0) this.byMac.delete(e.mac);
    }
    this.expiry.delete(n);
    for (const r of this.ranges.values()) if (r.has(n) && n < r.cursor) r.free.set(n, n);
    this.onChange?.({ ip: intToIp(n), lease: null });
  }

  private expire(now: number): void {
    while (this.expiry.size > 0 && this.expiry.peekPriority()! <= now) this.remove(this.expiry.peek()!);
  }

  private freeFor(n: number, mac: string): boolean {
    const e = this.byIp.get(n);
    return e === undefined || (e.mac === mac && e.state !== 'declined');
  }

  private lowestFree(r: RangeFree): number | null {
    while (r.cursor <= r.end && this.byIp.has(r.cursor)) r.cursor++;
    // Heap entries all lie below the cursor, so its top, when there is one, is the lowest.
    const h = r.free.peek();
    if (h !== undefined) return h;
    return r.cursor <= r.end ? r.cursor : null;
  }

  /** mac's live offered or bound entry in the range (the latest to expire if it had several). */
  private mine(mac: string, r: RangeFree): Entry | null {
    let best: Entry | null = null;
    for (const n of this.byMac.get(mac) ?? []) {
      const e = this.byIp.get(n)!;
      if (r.has(n) && (!best || e.expiresAt > best.expiresAt || (e.expiresAt === best.expiresAt && n < best.n))) best = e;
    }
    return best;
  }

  async find(mac: string, pool: PoolRange, now: number): Promise<Lease | null> {
    this.expire(now);
    const e = this.mine(mac, this.range(pool));
    return e ? toLease(e) : null;
  }

  async offer(mac: string, pool: PoolRange, requested: string | null, holdSec: number, now: number): Promise<string | null> {
    this.expire(now);
    const r = this.range(pool);
    const hold = (n: number) => {
      const cur = this.byIp.get(n);
      const bound = cur?.state === 'bound';
      // Offering never shortens a bound lease of the same client.
      this.put({ n, mac, state: bound ? 'bound' : 'offered', expiresAt: Math.max(now + holdSec * 1000, bound ? cur!.expiresAt : 0) });
      return intToIp(n);
    };
    const m = this.mine(mac, r);
    if (m) return hold(m.n);
    if (requested) {
      const n = ipToInt(requested);
      if (r.has(n) && this.freeFor(n, mac)) return hold(n);
    }
    const n = this.lowestFree(r);
    return n === null ? null : hold(n);
  }

  async bind(mac: string, ip: string, pool: PoolRange, leaseSec: number, now: number): Promise<boolean> {
    this.expire(now);
    const r = this.range(pool);
    const n = ipToInt(ip);
    if (!r.has(n) || !this.freeFor(n, mac)) return false;
    // One address per client and pool: a bind frees the MAC's other offers and leases there.
    for (const other of [...(this.byMac.get(mac) ?? [])]) if (other !== n && r.has(other)) this.remove(other);
    this.put({ n, mac, state: 'bound', expiresAt: now + leaseSec * 1000 });
    return true;
  }

  async release(mac: string, ip: string): Promise<void> {
    const n = ipToInt(ip);
    if (this.byIp.get(n)?.mac === mac) this.remove(n);
  }

  async decline(mac: string, ip: string, holdSec: number, now: number): Promise<void> {
    this.expire(now);
    const n = ipToInt(ip);
    // Only the holder (or nobody) can take an address out of use: a forged DECLINE must not evict a bound client.
    if (!this.freeFor(n, mac)) return;
    this.put({ n, mac: '', state: 'declined', expiresAt: now + holdSec * 1000 });
  }

  /** Every live entry, by address. */
  all(now: number): Lease[] {
    return [...this.byIp.values()].filter((e) => e.expiresAt > now).sort((a, b) => a.n - b.n).map(toLease);
  }
}
