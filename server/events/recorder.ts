/**
 * Takes boot events, discoveries and security events from the front ends (DHCP, TFTP, HTTP)
 * without blocking them: queued in memory, written to the store in batches (a boot storm is
 * thousands of events a second), then published on the bus for live views. Retention is applied
 * periodically.
 *
 * Everything here can be caused by an unauthenticated client on the node network, so every part
 * is bounded: events per MAC per minute (a spoofed MAC fetching scripts in a loop cannot flood a
 * node's timeline), new discoveries per source (random MACs cannot fill the discovered list
 * faster than a slow trickle), the discovered list itself (a cap, the least recently seen go
 * first, and an expiry; an unregistered MAC leaves no timeline behind), the security log (a cap),
 * and the in-memory queues (dropped past a cap, counted).
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { BootEvent, Discovery, EventSink, SecurityEvent, SecuritySink } from '../../pxe/boot/events.js';
import type { EventRecord, Store } from '../store/types.js';
import { RateLimiter } from './rate.js';

export interface RecorderEvents {
  event: [EventRecord];
  /** Every sighting; isNew when the MAC was not in the discovered list before. */
  discovered: [Discovery, boolean];
  security: [SecurityEvent];
}

export interface RecorderOptions {
  maxPerNode: number;
  maxAgeDays: number;
  /** Discovered list: most rows kept, and how long an unseen MAC stays. */
  discoveredMax?: number;
  discoveredMaxAgeDays?: number;
  /** Security log rows kept. */
  securityMax?: number;
  /** Timeline events accepted per MAC: burst, then per minute. */
  eventsPerMacBurst?: number;
  eventsPerMacPerMin?: number;
  /** Discovery sightings accepted per source address (or relay): burst, then per minute. */
  discoveriesPerSourceBurst?: number;
  discoveriesPerSourcePerMin?: number;
  /** Flush at most this often (ms). */
  flushMs?: number;
  /**
   * Flush at once when this many are queued, and hand the store at most this many at a time;
   * default 64. A chunk's work on the event loop (copying it to the writer thread, then publishing
   * each written event) grows with its size: at a boot storm's 12,000 events a second, 50 ms
   * batches held DHCP replies for 1-3 ms at a time, and chunks of 256 for 0.3-0.75 ms (about
   * 1.2 us an event to copy); 64 keep it near 0.1 ms.
   */
  flushBatch?: number;
  /** Drop new events beyond this many queued (the store is stuck); counted. */
  maxQueue?: number;
  now?: () => number;
}

/** What one flush step hands to the store. */
interface Chunk {
  security: (SecurityEvent & { at: number })[];
  discoveries: { d: Discovery; at: number }[];
  events: Omit<EventRecord, 'id'>[];
  size: number;
}

/** Why something was not recorded (metrics label). */
export type DropReason = 'queue-full' | 'mac-rate' | 'source-rate';

export class BootRecorder {
  readonly bus = new EventEmitter<RecorderEvents>();
  private queue: Omit<EventRecord, 'id'>[] = [];
  /** Events before this index in queue were taken by a flush. */
  private head = 0;
  private discoveries = new Map<string, { d: Discovery; at: number }>();
  private security: SecurityEvent[] = [];
  private securityAt: number[] = [];
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private closed = false;
  private flushing: Promise<void> | null = null;
  private pruneTimer: NodeJS.Timeout;
  private readonly macRate: RateLimiter;
  private readonly sourceRate: RateLimiter;
  /** Not recorded, by reason, since start. */
  readonly dropped: Record<DropReason, number> = { 'queue-full': 0, 'mac-rate': 0, 'source-rate': 0 };
  private readonly now: () => number;
  private lastDropLog = 0;
  /** Rows in the discovered list as last known (null until the first new MAC). */
  private discoveredRows: number | null = null;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly opts: RecorderOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.bus.setMaxListeners(0);
    this.macRate = new RateLimiter({ capacity: opts.eventsPerMacBurst ?? 60, perSecond: (opts.eventsPerMacPerMin ?? 60) / 60, maxKeys: 100_000, now: this.now });
    this.sourceRate = new RateLimiter({
      capacity: opts.discoveriesPerSourceBurst ?? 200,
      perSecond: (opts.discoveriesPerSourcePerMin ?? 120) / 60,
      maxKeys: 10_000,
      now: this.now,
    });
    this.pruneTimer = setInterval(() => void this.prune(), 3600_000);
    this.pruneTimer.unref();
  }

  private drop(reason: DropReason, detail: Record<string, unknown>): void {
    this.dropped[reason]++;
    const t = this.now();
    // One line a minute, whatever the flood.
    if (t - this.lastDropLog >= 60_000) {
      this.lastDropLog = t;
      this.log.warn({ reason, ...detail, dropped: this.dropped }, 'boot recorder: not recording (limit reached; see netroot_recorder_dropped_total)');
    }
  }

  private get full(): boolean {
    return this.queued >= (this.opts.maxQueue ?? 100_000);
  }

  readonly sink: EventSink = (e: BootEvent) => {
    if (this.full) return this.drop('queue-full', { mac: e.mac });
    if (!this.macRate.allow(e.mac)) return this.drop('mac-rate', { mac: e.mac, kind: e.kind });
    this.queue.push({ mac: e.mac, kind: e.kind, detail: e.detail, at: this.now() });
    this.schedule();
  };

  /**
   * Rate-limited by source: the HTTP/TFTP client's address, a DHCP relay, or the local segment.
   * false when the sighting was not recorded (the DHCP server then keeps that MAC's exchanges off
   * the timeline: rows no discovered entry owns would never be pruned with it).
   */
  readonly discovery = (d: Discovery): boolean => {
    const prev = this.discoveries.get(d.mac)?.d;
    if (!prev) {
      // A sighting of a MAC already queued costs nothing more; a new one costs a row.
      if (this.full) {
        this.drop('queue-full', { mac: d.mac });
        return false;
      }
      const key = d.source ?? d.relay ?? `local-${d.via}`;
      if (!this.sourceRate.allow(key)) {
        this.drop('source-rate', { source: key, via: d.via });
        return false;
      }
    }
    // Several sightings in one batch merge: what a later one does not carry keeps the earlier value.
    const merged: Discovery = prev
      ? {
          mac: d.mac,
          arch: d.arch ?? prev.arch,
          vendorClass: d.vendorClass ?? prev.vendorClass,
          userClass: d.userClass ?? prev.userClass,
          uuid: d.uuid ?? prev.uuid,
          relay: d.relay ?? prev.relay,
          via: d.via,
        }
      : d;
    this.discoveries.set(d.mac, { d: merged, at: this.now() });
    this.schedule();
    return true;
  };

  readonly securitySink: SecuritySink = (e: SecurityEvent) => {
    if (this.full) return this.drop('queue-full', { security: e.kind });
    // Per source: one client cannot push others' reports out of the log.
    if (!this.sourceRate.allow(`security-${e.client}`)) return this.drop('source-rate', { source: e.client, security: e.kind });
    this.security.push(e);
    this.securityAt.push(this.now());
    this.schedule();
  };

  private get queued(): number {
    return this.queue.length - this.head + this.discoveries.size + this.security.length;
  }

  /** A flush soon: at once for a full batch, else within flushMs. A flush in progress schedules the next when it ends. */
  private schedule(): void {
    if (this.flushing || this.closed) return;
    if (this.queued >= this.batch) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.immediate ??= setImmediate(() => {
        this.immediate = null;
        void this.flush();
      });
      return;
    }
    if (this.timer || this.immediate) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.opts.flushMs ?? 50);
  }

  /**
   * Writes everything queued so far, one chunk of at most flushBatch at a time: handing a chunk to
   * the writer thread copies it on the event loop (about 1.2 us an event), and a chunk is the
   * longest the loop is held. Events queued meanwhile wait for the next schedule.
   */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    let left = this.queued;
    try {
      while (left > 0) {
        const chunk = this.take(this.batch);
        if (chunk.size === 0) break;
        left -= chunk.size;
        this.flushing = this.write(chunk);
        await this.flushing;
        this.flushing = null;
      }
    } finally {
      this.flushing = null;
      if (this.queued > 0) this.schedule();
    }
  }

  private get batch(): number {
    return this.opts.flushBatch ?? 64;
  }

  /** Removes up to n of what is queued (security events, sightings, events, in that order). */
  private take(n: number): Chunk {
    const security = this.security.splice(0, n).map((e, i) => ({ ...e, at: this.securityAt[i]! }));
    this.securityAt.splice(0, security.length);
    const discoveries: { d: Discovery; at: number }[] = [];
    for (const [mac, v] of this.discoveries) {
      if (security.length + discoveries.length >= n) break;
      discoveries.push(v);
      this.discoveries.delete(mac);
    }
    const room = n - security.length - discoveries.length;
    const end = Math.min(this.queue.length, this.head + room);
    const events = this.queue.slice(this.head, end);
    this.head = end;
    if (this.head >= this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 4096 && this.head * 2 >= this.queue.length) {
      // Taken from the front without shifting the rest each time; compacted now and then.
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return { security, discoveries, events, size: security.length + discoveries.length + events.length };
  }

  private async write({ security, discoveries, events }: Chunk): Promise<void> {
    try {
      if (security.length) {
        await this.store.security.append(security, this.opts.securityMax ?? 10_000);
        for (const e of security) this.bus.emit('security', e);
      }
      if (discoveries.length) {
        const isNew = await this.store.discovered.upsertMany(discoveries.map(({ d, at }) => ({ d: withoutSource(d), at })));
        this.discoveredRows ??= (await this.store.discovered.list(1, 0)).total - isNew.filter(Boolean).length;
        this.discoveredRows += isNew.filter(Boolean).length;
        discoveries.forEach(({ d, at }, i) => {
          if (isNew[i]) {
            events.push({ mac: d.mac, kind: 'dhcp.discover', detail: { discovered: true, via: d.via, arch: d.arch, vendorClass: d.vendorClass }, at });
            this.log.info({ mac: d.mac, via: d.via, arch: d.arch, vendorClass: d.vendorClass }, 'new unregistered MAC discovered');
          }
          this.bus.emit('discovered', d, isNew[i] ?? false);
        });
      }
      if (events.length) {
        const written = await this.store.events.append(events);
        for (const e of written) this.bus.emit('event', e);
      }
      // The cap holds between hourly prunes too: past it, the least recently seen go now.
      if (this.discoveredRows !== null && this.discoveredRows > (this.opts.discoveredMax ?? 10_000)) await this.pruneDiscovered();
    } catch (err) {
      this.log.error({ err, events: events.length, discoveries: discoveries.length }, 'could not record boot events');
    }
  }

  private async pruneDiscovered(): Promise<number> {
    const n = await this.store.discovered.prune(this.opts.discoveredMax ?? 10_000, this.now() - (this.opts.discoveredMaxAgeDays ?? 30) * 86400_000);
    this.discoveredRows = (await this.store.discovered.list(1, 0)).total;
    return n;
  }

  async prune(): Promise<number> {
    try {
      const now = this.now();
      const n = await this.store.events.prune(this.opts.maxPerNode, now - this.opts.maxAgeDays * 86400_000);
      const d = await this.pruneDiscovered();
      if (n || d) this.log.info({ removed: n, discoveredRemoved: d }, 'pruned old boot events and discovered MACs');
      return n + d;
    } catch (err) {
      this.log.error({ err }, 'event pruning failed');
      return 0;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.pruneTimer);
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    await this.flush();
  }
}

/** The store keeps what a MAC is, not which address reported it. */
function withoutSource(d: Discovery): Discovery {
  if (d.source === undefined) return d;
  const { source: _source, ...rest } = d;
  return rest;
}
