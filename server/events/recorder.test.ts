import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { openSqliteStore } from '../store/sqlite/index.js';
import { BootRecorder } from './recorder.js';

const log = pino({ level: 'silent' });
const mac = (i: number) => `52:54:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
const sighting = (i: number, source: string) => ({ mac: mac(i), arch: null, vendorClass: null, userClass: null, uuid: null, relay: null, via: 'http' as const, source });

type TestStore = ReturnType<typeof openSqliteStore>;
/** Registers the node of mac(1), so its timeline is kept. */
const registerNode1 = (s: TestStore) =>
  s.nodes.create({ mac: mac(1), fqdn: 'n1.lab.example', ipv4: '10.0.0.1', image: null, pinnedVersion: null, kernelArgs: '', bootMode: 'ipxe', stateMode: 'nfs', enabled: true });
/** Runs `before` with each list the recorder appends, then the store's own append. */
function watchAppend(s: TestStore, before: (list: Parameters<TestStore['events']['append']>[0]) => void | Promise<void>): void {
  const append = s.events.append.bind(s.events);
  s.events.append = async (list) => {
    await before(list);
    return append(list);
  };
}

test('discoveries are rate-limited per source, the list is capped (least recently seen go) and expires, with the events of gone MACs', async () => {
  const s = openSqliteStore(':memory:');
  let t = 1_000_000;
  const r = new BootRecorder(s, log, { maxPerNode: 100, maxAgeDays: 30, discoveredMax: 50, discoveredMaxAgeDays: 1, discoveriesPerSourceBurst: 40, discoveriesPerSourcePerMin: 60, now: () => t });
  try {
    // 1,000 random MACs from one address in one instant: the burst passes, the rest is dropped.
    const taken = Array.from({ length: 1000 }, (_, i) => r.discovery(sighting(i, '10.9.9.9')));
    // The sink says which it took, so the DHCP server can keep the others off the timeline.
    assert.deepEqual([taken.indexOf(false), taken.lastIndexOf(true), taken.filter(Boolean).length], [40, 39, 40]);
    assert.equal(r.discovery(sighting(5, '10.9.9.9')), true, 'a MAC already queued costs nothing and is taken');
    await r.flush();
    assert.equal((await s.discovered.list(1, 0)).total, 40);
    assert.equal(r.dropped['source-rate'], 960);
    // Another source has its own bucket; a known MAC costs nothing.
    t += 1000;
    for (let i = 2000; i < 2030; i++) r.discovery(sighting(i, '10.9.9.10'));
    r.discovery(sighting(0, '10.9.9.9'));
    await r.flush();
    // 70 rows were written; the cap (50) holds after the flush: the least recently seen went,
    // and with them their timelines (the "discovered" event of each).
    const page = await s.discovered.list(100, 0);
    assert.equal(page.total, 50);
    assert.ok(page.items.some((d) => d.mac === mac(0)), 'seen again just now: kept');
    assert.ok(page.items.some((d) => d.mac === mac(2029)));
    const statuses = await s.events.statusAll();
    assert.equal(statuses.length, 50, 'no timeline left for a MAC that left the list');
    // A day later with nothing seen: all expire.
    t += 2 * 86400_000;
    await r.prune();
    assert.equal((await s.discovered.list(1, 0)).total, 0);
    assert.equal((await s.events.statusAll()).length, 0);
  } finally {
    await r.close();
    await s.close();
  }
});

test('timeline events are rate-limited per MAC; security events per source, and the security log is capped', async () => {
  const s = openSqliteStore(':memory:');
  let t = 5_000_000;
  const r = new BootRecorder(s, log, { maxPerNode: 1000, maxAgeDays: 30, eventsPerMacBurst: 10, eventsPerMacPerMin: 60, securityMax: 20, discoveriesPerSourceBurst: 15, now: () => t });
  try {
    await registerNode1(s);
    for (let i = 0; i < 500; i++) r.sink({ mac: mac(1), kind: 'http.script', detail: { i } });
    r.sink({ mac: mac(2), kind: 'http.script', detail: {} });
    await r.flush();
    assert.equal((await s.events.listForMac(mac(1), { limit: 1000 })).length, 10, 'a loop of fetches for one MAC: its burst only');
    assert.equal((await s.events.listForMac(mac(2), { limit: 10 })).length, 1, 'other MACs unaffected');
    t += 2000;
    r.sink({ mac: mac(1), kind: 'booted', detail: {} });
    await r.flush();
    assert.equal((await s.events.listForMac(mac(1), { limit: 1000 })).length, 11, 'refilled at 1 a second');
    for (let i = 0; i < 100; i++) r.securitySink({ kind: 'report.refused', mac: mac(1), client: `10.1.0.${i % 3}`, detail: { i } });
    await r.flush();
    assert.equal(await s.security.count(), 20, 'capped at securityMax (45 were accepted: 15 per source)');
    const newest = await s.security.list({ limit: 1 });
    assert.equal(newest[0]!.kind, 'report.refused');
  } finally {
    await r.close();
    await s.close();
  }
});

test('a full batch is written at once, not after flushMs; a full batch queued meanwhile follows it', async () => {
  const s = openSqliteStore(':memory:');
  // A write that takes a while, as the writer thread's does under load.
  let inFlight = 0;
  watchAppend(s, async () => {
    inFlight++;
    await new Promise((resolve) => setTimeout(resolve, 30));
    inFlight--;
  });
  const r = new BootRecorder(s, log, { maxPerNode: 1000, maxAgeDays: 30, eventsPerMacBurst: 1000, flushMs: 3_600_000, flushBatch: 5 });
  const written: number[] = [];
  r.bus.on('event', (e) => written.push(e.detail.i as number));
  const sink = (from: number, to: number) => {
    for (let i = from; i < to; i++) r.sink({ mac: mac(1), kind: 'http.script', detail: { i } });
  };
  const settle = async (n: number) => {
    const deadline = Date.now() + 5000;
    while (written.length < n && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 50));
  };
  try {
    await registerNode1(s);
    sink(0, 4);
    await settle(1);
    assert.deepEqual(written, [], 'under a batch: it waits for flushMs');
    sink(4, 5);
    // The next batch comes while the first one's write is in flight.
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(inFlight, 1);
    sink(5, 10);
    await settle(10);
    assert.deepEqual(written, Array.from({ length: 10 }, (_, i) => i), 'both batches, in order, without waiting an hour');
    sink(10, 12);
    await settle(12);
    assert.equal(written.length, 10, 'a remainder under a batch waits for flushMs again');
    await r.close();
    assert.equal(written.length, 12, 'close writes it');
    assert.equal((await s.events.listForMac(mac(1), { limit: 100 })).length, 12);
  } finally {
    await r.close();
    await s.close();
  }
});

test('a backlog goes to the store in chunks of at most flushBatch, in order, each piece once', async () => {
  const s = openSqliteStore(':memory:');
  const sizes: number[] = [];
  watchAppend(s, (list) => {
    sizes.push(list.length);
  });
  const upsert = s.discovered.upsertMany.bind(s.discovered);
  const sightings: number[] = [];
  s.discovered.upsertMany = async (list) => {
    sightings.push(list.length);
    return upsert(list);
  };
  // The backlog is queued in one synchronous burst, so the flush() below takes all of it (the
  // full-batch trigger's setImmediate comes after and finds nothing left).
  const r = new BootRecorder(s, log, { maxPerNode: 100_000, maxAgeDays: 30, eventsPerMacBurst: 100_000, discoveriesPerSourceBurst: 1000, flushMs: 3_600_000, flushBatch: 64, maxQueue: 100_000 });
  const written: number[] = [];
  r.bus.on('event', (e) => {
    if (typeof e.detail.i === 'number') written.push(e.detail.i);
  });
  try {
    await registerNode1(s);
    // 10,000 events (past the 4,096 at which the taken front of the queue is cut off) and 100
    // sightings of new MACs, queued in one go.
    for (let i = 0; i < 10_000; i++) r.sink({ mac: mac(1), kind: 'http.script', detail: { i } });
    for (let i = 0; i < 100; i++) r.discovery(sighting(100 + i, '10.9.9.9'));
    await r.flush();
    assert.deepEqual(written, Array.from({ length: 10_000 }, (_, i) => i), 'every event once, in order');
    assert.equal((await s.events.listForMac(mac(1), { limit: 20_000 })).length, 10_000);
    assert.equal((await s.discovered.list(1, 0)).total, 100);
    // A chunk holds at most 64 of the queue; a new MAC's sighting adds its "discovered" event to
    // the chunk it went in.
    assert.ok(sightings.every((n) => n <= 64), `sightings per chunk: ${sightings.join(',')}`);
    assert.ok(sizes.every((n) => n <= 128), `events per chunk: ${Math.max(...sizes)}`);
    assert.equal(sizes.filter((n) => n > 64).length, 0, 'the sightings went in chunks of their own (they come first)');
    assert.equal(sizes.reduce((a, b) => a + b, 0), 10_100);
  } finally {
    await r.close();
    await s.close();
  }
});
