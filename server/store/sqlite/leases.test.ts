import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { MemoryLeaseStore, type Lease } from '../../../pxe/dhcp/leases.js';
import { openSqliteStore } from './index.js';
import { sqliteLeases, type SqliteLeases } from './leases.js';
import { LeaseJournal } from './lease-journal.js';
import { migrate } from './migrations.js';

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
      let sql = sqliteLeases(store.db, { now: () => now });
      const mem = new MemoryLeaseStore();
      for (const [i, o] of ops.entries()) {
        now += o.dt;
        if (i === reopenAt) {
          // A restart: what the table holds is all the new allocator knows.
          await sql.flush();
          sql = sqliteLeases(store.db, { now: () => now });
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

test('a file store: a bind resolves only once its lease is in the journal; a restart that the table lags never gives it to another MAC', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netroot-leases-'));
  const path = join(dir, 'n.db');
  try {
    const a = openSqliteStore(path);
    const t = Date.now();
    const ips: string[] = [];
    for (let i = 0; i < 5; i++) {
      const mac = `02:00:00:00:01:0${i}`;
      const ip = (await a.leases.offer(mac, pool, null, 60, t))!;
      assert.equal(await a.leases.bind(mac, ip, pool, 3600, t), true);
      // Written before bind resolved: what a crash right after the ACK leaves on disk.
      assert.ok(new LeaseJournal(`${path}-leases`).read().some((c) => c.ip === ip && c.lease?.mac === mac && c.lease.state === 'bound'), ip);
      ips.push(ip);
    }
    // A second start on the same files before the table has caught up (as after a kill -9):
    // the table, then the journal, give back every lease.
    const b = openSqliteStore(path);
    for (const ip of ips) assert.equal(await b.leases.offer('02:00:00:00:02:01', pool, ip, 60, t + 1000) === ip, false, ip);
    assert.equal(await b.leases.offer('02:00:00:00:01:03', pool, null, 60, t + 1000), ips[3]);
    await (b.leases as SqliteLeases).flush();
    // The table has caught up; the first start's segment is gone, the second's stays.
    assert.deepEqual((b.leases as SqliteLeases).persisted(t + 1000).filter((l) => l.state === "bound").map((l) => l.ip), ips);
    assert.deepEqual(new LeaseJournal(`${path}-leases`).segments(), [2]);
    await a.close();
    await b.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('journal and table across crashes at which the table lags: every change up to the last ACK comes back, nothing after it is needed', async () => {
  const op = fc.record({
    kind: fc.constantFrom('offer', 'offerAny', 'bind', 'bind', 'release', 'decline'),
    mac: fc.integer({ min: 0, max: 14 }),
    ip: fc.integer({ min: 5, max: 22 }),
    dt: fc.integer({ min: 0, max: 120_000 }),
    crash: fc.boolean(),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
      const dir = mkdtempSync(join(tmpdir(), 'netroot-leases-'));
      const path = join(dir, 'n.db');
      // Each start has its own connection, dropped at the crash: what it had not written to the
      // table by then never is (a dead process writes nothing more). No timer runs inside a run
      // (no macrotask turn), so the table only ever gets what a start found at its own start.
      const starts: Database.Database[] = [];
      const start = () => {
        const db = new Database(path);
        db.pragma('journal_mode = WAL');
        db.pragma('busy_timeout = 5000');
        migrate(db);
        starts.push(db);
        // Tiny segments: every few lines a new one, so retiring them is exercised.
        return sqliteLeases(db, { journal: `${path}-leases`, segmentBytes: 120, now: () => now });
      };
      let now = 1_000_000;
      let sql = start();
      let mem = new MemoryLeaseStore();
      /** The reference's state when the journal was last written: at the last bind that succeeded. */
      let written: Lease[] = [];
      try {
        for (const o of ops) {
          now += o.dt;
          if (o.crash) {
            starts.at(-1)!.close();
            sql = start();
            // Exactly what the last ACK had: offers, releases and declines after it may be lost.
            const back = written.filter((l) => l.expiresAt > now);
            assert.deepEqual(sql.all(now), back);
            mem = new MemoryLeaseStore(back);
          }
          const mac = `02:00:00:00:00:${o.mac.toString(16).padStart(2, '0')}`;
          const ip = `10.51.9.${o.ip}`;
          const call = (s: typeof mem | typeof sql) =>
            o.kind === 'offer' ? s.offer(mac, pool, ip, 60, now)
            : o.kind === 'offerAny' ? s.offer(mac, pool, null, 60, now)
            : o.kind === 'bind' ? s.bind(mac, ip, pool, 300, now)
            : o.kind === 'release' ? s.release(mac, ip)
            : s.decline(mac, ip, 600, now);
          const got = await call(sql);
          assert.deepEqual(got, await call(mem), `${o.kind} ${mac} ${ip}`);
          assert.deepEqual(sql.all(now), byIp(mem.all(now)));
          if (o.kind === 'bind' && got === true) written = byIp(mem.all(now));
        }
        await sql.flush();
        assert.deepEqual(sql.persisted(now), byIp(mem.all(now)));
        // Once the table has caught up, only the running start's segment (or none yet) is left.
        assert.ok(new LeaseJournal(`${path}-leases`).segments().length <= 1);
        await sql.close();
      } finally {
        for (const db of starts) if (db.open) db.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }),
    { numRuns: 100 },
  );
});
