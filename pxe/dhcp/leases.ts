/**
 * The optional dynamic pool's lease store. MemoryLeaseStore is the reference: plain, a scan per
 * offer. The service runs PoolAllocator (allocator.ts), which gives the same answers in O(log n)
 * and reports each change, so server/ can persist it (SQLite, written behind).
 *
 * Contract (every implementation): each call is atomic; an address is never offered or bound to a
 * MAC while another MAC holds an unexpired offer, lease or decline on it; expired entries are free.
 */

export interface PoolRange {
  /** The subnet's CIDR, to tell pools apart. */
  cidr: string;
  start: string;
  end: string;
}

export type LeaseState = 'offered' | 'bound' | 'declined';

export interface Lease {
  ip: string;
  /** '' for a declined address. */
  mac: string;
  state: LeaseState;
  /** ms since epoch. */
  expiresAt: number;
}

export interface LeaseStore {
  /**
   * Picks an address for mac and holds it as 'offered' until now + holdSec: the MAC's unexpired
   * lease in the range, else `requested` when free, else the lowest free address. null = pool full.
   */
  offer(mac: string, pool: PoolRange, requested: string | null, holdSec: number, now: number): Promise<string | null>;
  /**
   * Binds ip to mac until now + leaseSec when ip is in the range and free or already mac's; false otherwise.
   * A client holds one address per pool: binding frees the MAC's other offers and leases in the range.
   */
  bind(mac: string, ip: string, pool: PoolRange, leaseSec: number, now: number): Promise<boolean>;
  /** Frees mac's lease on ip (no-op when ip is not mac's). */
  release(mac: string, ip: string): Promise<void>;
  /** Marks ip unusable until now + holdSec (RFC 2131 4.3.3: the client found it in use); no-op when another MAC holds it. */
  decline(mac: string, ip: string, holdSec: number, now: number): Promise<void>;
  /** mac's unexpired offered or bound lease inside the range, if any. */
  find(mac: string, pool: PoolRange, now: number): Promise<Lease | null>;
}

import { ipToInt, intToIp } from '../net/ipv4.js';

function inRange(ip: string, pool: PoolRange): boolean {
  const n = ipToInt(ip);
  return n >= ipToInt(pool.start) && n <= ipToInt(pool.end);
}

export class MemoryLeaseStore implements LeaseStore {
  private readonly byIp = new Map<string, Lease>();

  /** Starts from saved leases (tests: the state a restart found). */
  constructor(leases: Iterable<Lease> = []) {
    for (const l of leases) this.byIp.set(l.ip, { ...l });
  }

  private live(ip: string, now: number): Lease | null {
    const l = this.byIp.get(ip);
    if (!l) return null;
    if (l.expiresAt <= now) {
      this.byIp.delete(ip);
      return null;
    }
    return l;
  }

  private freeFor(ip: string, mac: string, now: number): boolean {
    const l = this.live(ip, now);
    return l === null || (l.mac === mac && l.state !== 'declined');
  }

  async find(mac: string, pool: PoolRange, now: number): Promise<Lease | null> {
    for (const l of this.byIp.values()) {
      if (l.mac === mac && l.state !== 'declined' && l.expiresAt > now && inRange(l.ip, pool)) return { ...l };
    }
    return null;
  }

  async offer(mac: string, pool: PoolRange, requested: string | null, holdSec: number, now: number): Promise<string | null> {
    const hold = (ip: string) => {
      const cur = this.live(ip, now);
      // Offering never shortens a bound lease of the same client.
      const expiresAt = Math.max(now + holdSec * 1000, cur?.state === 'bound' ? cur.expiresAt : 0);
      this.byIp.set(ip, { ip, mac, state: cur?.state === 'bound' ? 'bound' : 'offered', expiresAt });
      return ip;
    };
    const mine = await this.find(mac, pool, now);
    if (mine) return hold(mine.ip);
    if (requested && inRange(requested, pool) && this.freeFor(requested, mac, now)) return hold(requested);
    for (let n = ipToInt(pool.start), end = ipToInt(pool.end); n <= end; n++) {
      const ip = intToIp(n);
      if (this.freeFor(ip, mac, now)) return hold(ip);
    }
    return null;
  }

  async bind(mac: string, ip: string, pool: PoolRange, leaseSec: number, now: number): Promise<boolean> {
    if (!inRange(ip, pool) || !this.freeFor(ip, mac, now)) return false;
    // Deleting the entry being visited is safe while iterating a Map.
    for (const [other, l] of this.byIp) {
      if (l.mac === mac && other !== ip && inRange(other, pool)) this.byIp.delete(other);
    }
    this.byIp.set(ip, { ip, mac, state: 'bound', expiresAt: now + leaseSec * 1000 });
    return true;
  }

  async release(mac: string, ip: string): Promise<void> {
    const l = this.byIp.get(ip);
    if (l && l.mac === mac) this.byIp.delete(ip);
  }

  async decline(mac: string, ip: string, holdSec: number, now: number): Promise<void> {
    // Only the holder (or nobody) can take an address out of use: a forged DECLINE must not evict a bound client.
    if (!this.freeFor(ip, mac, now)) return;
    this.byIp.set(ip, { ip, mac: '', state: 'declined', expiresAt: now + holdSec * 1000 });
  }

  /** For tests: every live entry. */
  all(now: number): Lease[] {
    return [...this.byIp.keys()].map((ip) => this.live(ip, now)).filter((l): l is Lease => l !== null);
  }
}
