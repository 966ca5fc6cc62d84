/**
 * Takes boot events and discoveries from the front ends (DHCP, TFTP, HTTP) without blocking them:
 * queued in memory, written to the store in batches (a boot storm is thousands of events a
 * second), then published on the bus for live views. Retention is applied periodically.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { BootEvent, Discovery, DiscoverySink, EventSink } from '../../pxe/boot/events.js';
import type { EventRecord, Store } from '../store/types.js';

export interface RecorderEvents {
  event: [EventRecord];
  /** Every sighting; isNew when the MAC was not in the discovered list before. */
  discovered: [Discovery, boolean];
}

export interface RecorderOptions {
  maxPerNode: number;
  maxAgeDays: number;
  /** Flush at most this often (ms). */
  flushMs?: number;
  /** Drop new events beyond this many queued (the store is stuck); counted. */
  maxQueue?: number;
  now?: () => number;
}

export class BootRecorder {
  readonly bus = new EventEmitter<RecorderEvents>();
  private queue: Omit<EventRecord, 'id'>[] = [];
  private discoveries = new Map<string, { d: Discovery; at: number }>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private pruneTimer: NodeJS.Timeout;
  dropped = 0;
  private readonly now: () => number;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly opts: RecorderOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.bus.setMaxListeners(0);
    this.pruneTimer = setInterval(() => void this.prune(), 3600_000);
    this.pruneTimer.unref();
  }

  readonly sink: EventSink = (e: BootEvent) => {
    if (this.queue.length >= (this.opts.maxQueue ?? 100_000)) {
      this.dropped++;
      return;
    }
    this.queue.push({ mac: e.mac, kind: e.kind, detail: e.detail, at: this.now() });
    this.schedule();
  };

  readonly discovery: DiscoverySink = (d: Discovery) => {
    // Several sightings in one batch merge: what a later one does not carry keeps the earlier value.
    const prev = this.discoveries.get(d.mac)?.d;
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
  };

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.opts.flushMs ?? 50);
  }

  /** Writes everything queued so far. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    const events = this.queue;
    const discoveries = [...this.discoveries.values()];
    this.queue = [];
    this.discoveries.clear();
    if (events.length === 0 && discoveries.length === 0) return;
    this.flushing = (async () => {
      try {
        for (const { d, at } of discoveries) {
          const isNew = await this.store.discovered.upsert(d, at);
          if (isNew) {
            events.push({ mac: d.mac, kind: 'dhcp.discover', detail: { discovered: true, via: d.via, arch: d.arch, vendorClass: d.vendorClass }, at });
            this.log.info({ mac: d.mac, via: d.via, arch: d.arch, vendorClass: d.vendorClass }, 'new unregistered MAC discovered');
          }
          this.bus.emit('discovered', d, isNew);
        }
        const written = await this.store.events.append(events);
        for (const e of written) this.bus.emit('event', e);
      } catch (err) {
        this.log.error({ err, events: events.length }, 'could not record boot events');
      }
    })();
    try {
      await this.flushing;
    } finally {
      this.flushing = null;
    }
  }

  async prune(): Promise<number> {
    try {
      const n = await this.store.events.prune(this.opts.maxPerNode, this.now() - this.opts.maxAgeDays * 86400_000);
      if (n) this.log.info({ removed: n }, 'pruned old boot events');
      return n;
    } catch (err) {
      this.log.error({ err }, 'event pruning failed');
      return 0;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.pruneTimer);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flush();
  }
}
