/**
 * Prometheus metrics (GET /metrics, text format). Counters that the front ends keep themselves
 * (DHCP packets, TFTP transfers in flight) are read at scrape time through collectors; boot
 * timeline facts (files served, bytes, boots, boot duration) come from the recorder's bus.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EventEmitter } from 'node:events';
import type { RecorderEvents } from './events/recorder.js';
import type { Store } from './store/types.js';

export class Metrics {
  readonly registry = new Registry();
  private readonly gauges = new Map<string, Gauge>();

  readonly transfers = new Counter({ name: 'netroot_transfers_total', help: 'Boot files served, by protocol and kind', labelNames: ['protocol', 'kind', 'result'], registers: [this.registry] });
  readonly bytes = new Counter({ name: 'netroot_transfer_bytes_total', help: 'Bytes of boot files served, by protocol', labelNames: ['protocol'], registers: [this.registry] });
  readonly boots = new Counter({ name: 'netroot_boots_completed_total', help: 'Nodes that reported booted', registers: [this.registry] });
  readonly bootDuration = new Histogram({
    name: 'netroot_boot_duration_seconds',
    help: 'From the first PXE DHCP discover (or boot file) of a boot to its booted report',
    buckets: [5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600],
    registers: [this.registry],
  });
  readonly dhcpEvents = new Counter({ name: 'netroot_dhcp_events_total', help: 'DHCP events on node timelines, by kind', labelNames: ['kind'], registers: [this.registry] });
  readonly exportApplies = new Counter({ name: 'netroot_export_applies_total', help: 'NFS export table applies, by result', labelNames: ['backend', 'result'], registers: [this.registry] });
  readonly discoveredNew = new Counter({ name: 'netroot_discovered_macs_total', help: 'Unregistered MACs seen for the first time', registers: [this.registry] });
  readonly security = new Counter({ name: 'netroot_security_events_total', help: 'Requests from the node network refused as security events, by kind', labelNames: ['kind'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'netroot_process_' });
  }

  /** A gauge whose value is read at scrape time. */
  gaugeFn(name: string, help: string, labelNames: string[], read: (set: (labels: Record<string, string>, v: number) => void) => Promise<void> | void): void {
    const g = new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        this.reset();
        await read((labels, v) => this.set(labels, v));
      },
    });
    this.gauges.set(name, g);
  }

  /** A counter whose cumulative values are kept elsewhere and read at scrape time. */
  counterFn(name: string, help: string, labelNames: string[], read: () => { labels: Record<string, string>; value: number }[]): void {
    new Counter({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { labels, value } of read()) if (value > 0) this.inc(labels, value);
      },
    });
  }

  /** Follows the recorder: every boot event updates the counters. */
  follow(bus: EventEmitter<RecorderEvents>, store: Store): void {
    bus.on('security', (e) => this.security.inc({ kind: e.kind }));
    bus.on('discovered', (_d, isNew) => {
      if (isNew) this.discoveredNew.inc();
    });
    bus.on('event', (e) => {
      const d = e.detail;
      if (e.kind.startsWith('dhcp.')) this.dhcpEvents.inc({ kind: e.kind.slice(5) });
      else if (e.kind === 'tftp.file' || e.kind.startsWith('http.')) {
        const protocol = e.kind === 'tftp.file' ? 'tftp' : 'http';
        const result = typeof d.result === 'string' ? d.result : d.error ? 'error' : 'ok';
        this.transfers.inc({ protocol, kind: e.kind, result });
        if (typeof d.bytes === 'number') this.bytes.inc({ protocol }, d.bytes);
      } else if (e.kind === 'booted') {
        this.boots.inc();
        void store.events.statusFor([e.mac]).then((m) => {
          const started = m.get(e.mac)?.startedAt;
          if (started != null && e.at >= started) this.bootDuration.observe((e.at - started) / 1000);
        });
      }
    });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
