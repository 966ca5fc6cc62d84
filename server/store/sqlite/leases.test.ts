import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MemoryLeaseStore } from '../../../pxe/dhcp/leases.js';
import { openSqliteStore } from './index.js';
import { sqliteLeases } from './leases.js';

const pool = { cidr: '10.51.9.0/24', start: '10.51.9.10', end: '10.51.9.19' };

test('SQLite leases behave exactly like the reference MemoryLeaseStore', async () => {
  const op = fc.record({
    kind: fc.constantFrom('offer', 'offerAny', 'bind', 'release', 'decline', 'find'),
    mac: fc.integer({ min: 0, max: 14 }),
    ip: fc.integer({ min: 5, max: 22 }),
    dt: fc.integer({ min: 0, max: 120_000 }),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
      const store = openSqliteStore(':memory:');
      const sql = sqliteLeases(store.db);
      const mem = new MemoryLeaseStore();
      let now = 1_000_000;
      for (const o of ops) {
        now += o.dt;
        const mac = `02:00:00:00:00:${o.mac.toString(16).padStart(2, '0')}`;
        const ip = `10.51.9.${o.ip}`;
        const call = (s: typeof mem | typeof sql) =>
          o.kind === 'offer' ? s.offer(mac, pool, ip, 60, now)
          : o.kind === 'offerAny' ? s.offer(mac, pool, null, 60, now)
          : o.kind === 'bind' ? s.bind(mac, ip, pool, 300, now)
          : o.kind === 'release' ? s.release(mac, ip)
          : o.kind === 'decline' ? s.decline(mac, ip, 600, now)
          : s.find(mac, pool, now);
        assert.deepEqual(await call(sql), await call(mem), `${o.kind} ${mac} ${ip}`);
        assert.deepEqual(sql.all(now), mem.all(now).sort((a, b) => Number(a.ip.split('.')[3]) - Number(b.ip.split('.')[3])));
      }
      await store.close();
    }),
    { numRuns: 200 },
  );
});
