/**
 * A binary min-heap of keys by priority that knows where each key sits, so a key's priority can
 * change and a key can leave in O(log n): one entry per key, never a stale one left to pop later.
 * Ties go to the smaller key, so the order is deterministic. Pure.
 */
export class IndexedHeap {
  private readonly keys: number[] = [];
  private readonly prio: number[] = [];
  private readonly at = new Map<number, number>();

  get size(): number {
    return this.keys.length;
  }

  has(key: number): boolean {
    return this.at.has(key);
  }

  /** The key with the smallest priority, or undefined. */
  peek(): number | undefined {
    return this.keys[0];
  }

  peekPriority(): number | undefined {
    return this.prio[0];
  }

  /** Adds key, or moves it to its new priority. */
  set(key: number, priority: number): void {
    const i = this.at.get(key);
    if (i === undefined) {
      this.keys.push(key);
      this.prio.push(priority);
      this.at.set(key, this.keys.length - 1);
      this.up(this.keys.length - 1);
      return;
    }
    this.prio[i] = priority;
    this.down(this.up(i));
  }

  delete(key: number): boolean {
    const i = this.at.get(key);
    if (i === undefined) return false;
    const last = this.keys.length - 1;
    this.swap(i, last);
    this.keys.pop();
    this.prio.pop();
    this.at.delete(key);
    if (i < last) this.down(this.up(i));
    return true;
  }

  pop(): number | undefined {
    const k = this.keys[0];
    if (k !== undefined) this.delete(k);
    return k;
  }

  private less(a: number, b: number): boolean {
    const pa = this.prio[a]!;
    const pb = this.prio[b]!;
    return pa < pb || (pa === pb && this.keys[a]! < this.keys[b]!);
  }

  private swap(a: number, b: number): void {
    if (a === b) return;
    [this.keys[a], this.keys[b]] = [this.keys[b]!, this.keys[a]!];
    [this.prio[a], this.prio[b]] = [this.prio[b]!, this.prio[a]!];
    this.at.set(this.keys[a]!, a);
    this.at.set(this.keys[b]!, b);
  }

  private up(i: number): number {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
    return i;
  }

  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.keys.length && this.less(l, m)) m = l;
      if (r < this.keys.length && this.less(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
