/**
 * Token buckets per key (a MAC, a source address), for what unauthenticated clients can make
 * netroot write. The table of buckets is itself bounded: past maxKeys the least recently used
 * key is forgotten (a forgotten key starts with a full bucket, which only loosens the limit for
 * keys nobody has used in a while).
 */
export interface RateOptions {
  /** Burst: requests allowed at once. */
  capacity: number;
  /** Sustained rate. */
  perSecond: number;
  /** Most keys remembered. */
  maxKeys: number;
  now?: () => number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly now: () => number;
  /** Requests refused since start. */
  refused = 0;

  constructor(private readonly o: RateOptions) {
    if (!(o.capacity >= 1) || !(o.perSecond > 0) || !(o.maxKeys >= 1)) throw new RangeError('RateLimiter: capacity >= 1, perSecond > 0, maxKeys >= 1');
    this.now = o.now ?? Date.now;
  }

  /** Takes one token for key; false when its bucket is empty. */
  allow(key: string): boolean {
    const t = this.now();
    let b = this.buckets.get(key);
    if (b) {
      this.buckets.delete(key); // re-inserted below: Map order is recency
      b.tokens = Math.min(this.o.capacity, b.tokens + ((t - b.at) / 1000) * this.o.perSecond);
      b.at = t;
    } else {
      b = { tokens: this.o.capacity, at: t };
      if (this.buckets.size >= this.o.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    }
    this.buckets.set(key, b);
    if (b.tokens < 1) {
      this.refused++;
      return false;
    }
    b.tokens -= 1;
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }
}
