import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MemoryLeaseStore } from './leases.js';

const pool = { cidr: '10.51.9.0/24', start: '10.51.9.10', end: '10.51.9.19' };

test('an address is never held by two clients at once, whatever the sequence of calls', async () => {
  const op = fc.record({ kind: fc.constantFrom('offer', 'bind', 'release', 'decline'), mac: fc.integer({ min: 0, max: 14 }), ip: fc.integer({ min: 5, max: 22 }), dt: fc.integer({ min: 0, max: 120_000 }) });
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
      const s = new MemoryLeaseStore();
      let now = 1_000_000;
      for (const o of ops) {
        now += o.dt;
        const before = new Map(s.all(now).map((l) => [l.ip, l.mac]));
        const mac = `02:00:00:00:00:${o.mac.toString(16).padStart(2, '0')}`;
        const ip = `10.51.9.${o.ip}`;
        if (o.kind === 'offer') await s.offer(mac, pool, ip, 60, now);
        else if (o.kind === 'bind') await s.bind(mac, ip, pool, 300, now);
        else if (o.kind === 'release') await s.release(mac, ip);
        else await s.decline(mac, ip, 600, now);
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

test('leases expire and their address is offered again', async () => {
  const s = new MemoryLeaseStore();
  const one = { ...pool, end: '10.51.9.10' };
  assert.equal(await s.offer('02:00:00:00:00:01', one, null, 60, 0), '10.51.9.10');
  assert.equal(await s.offer('02:00:00:00:00:02', one, null, 60, 1000), null);
  assert.equal(await s.offer('02:00:00:00:00:02', one, null, 60, 61_000), '10.51.9.10');
  assert.equal(await s.bind('02:00:00:00:00:01', '10.51.9.10', one, 60, 62_000), false);
});
