import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { MemoryLeaseStore, type Lease } from '../../../pxe/dhcp/leases.js';
import { openSqliteStore } from './index.js';
import { sqliteLeases } from './leases.js';

const pool = { cidr: '10.51.9.0/24', start: '10.51.9.10', end: '10.51.9.19' };
const byIp = (l: Lease[]) => [...l].sort((a, b) => Number(a.ip.split('.')[3]) - Number(b.ip.split('.')[3]));

test('SQLite leases behave exactly like the reference MemoryLeaseStore; the table follows; a reopen carries on', async () => {
  const op = fc.record({
    kind: fc.constantFrom('offer', 'offerAny', 'bind', 'release', 'decline', 'find'),
    mac: fc.integer({ min: 0, max: 14 }),
    ip: fc.integer({ min: 5, max: 22 }),
    dt: fc.integer({ min: 0, max: 120_000 }),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 60 }), fc.integer({ min: 0, max: 60 }), async (ops, reopenAt) => {
      const store = openSqliteStore(':memory:');
      let now = 1_000_000;
      let sql = sqliteLeases(store.db, undefined, () => now);
      const mem = new MemoryLeaseStore();
      for (const [i, o] of ops.entries()) {
        now += o.dt;
        if (i === reopenAt) {
          // A restart: what the table holds is all the new allocator knows.
          await sql.flush();
          sql = sqliteLeases(store.db, undefined, () => now);
        }
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
        assert.deepEqual(sql.all(now), byIp(mem.all(now)));
        await sql.flush();
        assert.deepEqual(sql.persisted(now), byIp(mem.all(now)));
      }
      await store.close();
    }),
    { numRuns: 200 },
  );
});

test('a file store: a bind resolves only once its lease is committed (another connection sees it); a reopen never gives it to another MAC', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netroot-leases-'));
  const path = join(dir, 'n.db');
  try {
    const a = openSqliteStore(path);
    const other = new Database(path, { readonly: true });
    const t = Date.now();
    const ips: string[] = [];
    for (let i = 0; i < 5; i++) {
      const mac = `02:00:00:00:01:0${i}`;
      const ip = (await a.leases.offer(mac, pool, null, 60, t))!;
      assert.equal(await a.leases.bind(mac, ip, pool, 3600, t), true);
      // Committed before bind resolved: what a crash right after the ACK leaves on disk.
      assert.deepEqual(other.prepare('SELECT mac, state FROM leases WHERE ip = ?').get(ip), { mac, state: 'bound' });
      ips.push(ip);
    }
    other.close();
    await a.close();
    const b = openSqliteStore(path);
    for (const ip of ips) assert.equal(await b.leases.offer('02:00:00:00:02:01', pool, ip, 60, t + 1000) === ip, false, ip);
    assert.equal(await b.leases.offer('02:00:00:00:01:03', pool, null, 60, t + 1000), ips[3]);
    await b.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
