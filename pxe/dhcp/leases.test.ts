import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MemoryLeaseStore, type Lease } from './leases.js';
import { PoolAllocator, type LeaseChange } from './allocator.js';

const pool = { cidr: '10.51.9.0/24', start: '10.51.9.10', end: '10.51.9.19' };
const IMPLS = { MemoryLeaseStore: () => new MemoryLeaseStore(), PoolAllocator: () => new PoolAllocator() };
const op = fc.record({
  kind: fc.constantFrom('offer', 'offerAny', 'bind', 'release', 'decline', 'find'),
  mac: fc.integer({ min: 0, max: 14 }),
  ip: fc.integer({ min: 5, max: 22 }),
  dt: fc.integer({ min: 0, max: 120_000 }),
});
const macOf = (i: number) => `02:00:00:00:00:${i.toString(16).padStart(2, '0')}`;
type Store = MemoryLeaseStore | PoolAllocator;
const call = (s: Store, o: { kind: string; mac: number; ip: number }, now: number) => {
  const mac = macOf(o.mac);
  const ip = `10.51.9.${o.ip}`;
  return o.kind === 'offer' ? s.offer(mac, pool, ip, 60, now)
    : o.kind === 'offerAny' ? s.offer(mac, pool, null, 60, now)
    : o.kind === 'bind' ? s.bind(mac, ip, pool, 300, now)
    : o.kind === 'release' ? s.release(mac, ip)
    : o.kind === 'decline' ? s.decline(mac, ip, 600, now)
    : s.find(mac, pool, now);
};
const byIp = (l: Lease[]) => [...l].sort((a, b) => Number(a.ip.split('.')[3]) - Number(b.ip.split('.')[3]));

for (const [name, make] of Object.entries(IMPLS)) {
  test(`${name}: an address is never held by two clients at once, whatever the sequence of calls`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        const s = make();
        let now = 1_000_000;
        for (const o of ops) {
          now += o.dt;
          const before = new Map(s.all(now).map((l) => [l.ip, l.mac]));
          await call(s, o, now);
          const live = s.all(now);
          assert.equal(new Set(live.map((l) => l.ip)).size, live.length);
          for (const l of live) {
            assert.ok(Number(l.ip.split('.')[3]) >= 10 && Number(l.ip.split('.')[3]) <= 19 || l.state === 'declined');
            const prev = before.get(l.ip);
            // A live address never changes hands to another client before it expires or is released.
            if (prev && l.mac && l.mac !== prev) assert.fail(`${l.ip} moved from ${prev} to ${l.mac}`);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  test(`${name}: leases expire and their address is offered again`, async () => {
    const s = make();
    const one = { ...pool, end: '10.51.9.10' };
    assert.equal(await s.offer('02:00:00:00:00:01', one, null, 60, 0), '10.51.9.10');
    assert.equal(await s.offer('02:00:00:00:00:02', one, null, 60, 1000), null);
    assert.equal(await s.offer('02:00:00:00:00:02', one, null, 60, 61_000), '10.51.9.10');
    assert.equal(await s.bind('02:00:00:00:00:01', '10.51.9.10', one, 60, 62_000), false);
  });
}

test('PoolAllocator answers every call exactly as the reference MemoryLeaseStore, and reports each change', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 80 }), async (ops) => {
      const mem = new MemoryLeaseStore();
      // The reported changes, replayed onto a map, are the allocator's state: what a store persists.
      const mirror = new Map<string, Lease>();
      const alloc = new PoolAllocator((c: LeaseChange) => (c.lease ? mirror.set(c.ip, c.lease) : mirror.delete(c.ip)));
      let now = 1_000_000;
      for (const o of ops) {
        now += o.dt;
        assert.deepEqual(await call(alloc, o, now), await call(mem, o, now), `${o.kind} ${o.mac} ${o.ip}`);
        assert.deepEqual(alloc.all(now), byIp(mem.all(now)));
        assert.deepEqual(byIp([...mirror.values()].filter((l) => l.expiresAt > now)), alloc.all(now));
      }
      // A restart: the saved leases loaded into a fresh allocator carry on with the same answers.
      const again = new PoolAllocator();
      again.load(mirror.values(), now);
      assert.deepEqual(again.all(now), alloc.all(now));
      for (let i = 0; i < 15; i++) assert.equal(await again.offer(macOf(i), pool, null, 60, now + 1), await mem.offer(macOf(i), pool, null, 60, now + 1));
    }),
    { numRuns: 300 },
  );
});

test('PoolAllocator on a /16 pool: 20,000 clients each get their own address, lowest first; freed ones come back lowest first', async () => {
  const big = { cidr: '10.60.0.0/16', start: '10.60.0.1', end: '10.60.255.254' };
  const a = new PoolAllocator();
  const mac = (i: number) => `02:60:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}:00`;
  const seen = new Set<string>();
  for (let i = 0; i < 20_000; i++) {
    const ip = await a.offer(mac(i), big, null, 60, 1000);
    assert.ok(ip && !seen.has(ip), `${i}: ${ip}`);
    seen.add(ip);
    if (i % 2 === 0) assert.equal(await a.bind(mac(i), ip, big, 3600, 1000), true);
  }
  assert.equal(seen.size, 20_000);
  assert.ok(seen.has('10.60.0.1') && seen.has('10.60.78.32'));
  // The odd clients' offers expire after 60 s; their addresses are the lowest free ones again.
  assert.equal(await a.offer(mac(100_000), big, null, 60, 62_000), '10.60.0.2');
  assert.equal(await a.offer(mac(100_001), big, null, 60, 62_000), '10.60.0.4');
  await a.release(mac(0), '10.60.0.1');
  assert.equal(await a.offer(mac(100_002), big, null, 60, 62_000), '10.60.0.1');
  assert.equal(a.all(62_000).length, 10_000 + 2);
});
