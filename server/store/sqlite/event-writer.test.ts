import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from './index.js';
import { startEventWriter } from './event-writer.js';
import { migrate } from './migrations.js';

const ev = (mac: string, kind: string, at: number, detail: Record<string, unknown> = {}) => ({ mac, kind, detail, at }) as never;

test('a file store writes events on its thread: ids in order, read back at once, status and prune, clean close', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netroot-evw-'));
  try {
    const s = openSqliteStore(join(dir, 'n.db'));
    const mac = '52:54:00:00:00:01';
    const a = await s.events.append([ev(mac, 'dhcp.discover', 1000, { vendorClass: 'PXEClient:Arch:00000' }), ev(mac, 'dhcp.ack', 1001)]);
    const b = await s.events.append([ev(mac, 'booted', 1002)]);
    assert.deepEqual([...a, ...b].map((e) => e.kind), ['dhcp.discover', 'dhcp.ack', 'booted']);
    assert.ok(a[0]!.id < a[1]!.id && a[1]!.id < b[0]!.id);
    // Committed before append resolved: the service's own connection sees the rows.
    assert.deepEqual((await s.events.listForMac(mac, { limit: 10 })).map((e) => e.id), [...a, ...b].map((e) => e.id));
    const st = (await s.events.statusFor([mac])).get(mac)!;
    assert.deepEqual([st.lastKind, st.startedAt, st.bootedAt], ['booted', 1000, 1002]);
    // Many batches in flight at once keep their order.
    const many = await Promise.all(Array.from({ length: 50 }, (_, i) => s.events.append([ev(mac, 'dhcp.ack', 2000 + i)])));
    const ids = many.map((r) => r[0]!.id);
    assert.deepEqual(ids, [...ids].sort((x, y) => x - y));
    assert.equal(await s.events.prune(5, 0), 48);
    assert.equal((await s.events.listForMac(mac, { limit: 100 })).length, 5);
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Scheduling policy of each of this process's threads (field 41 of /proc/<pid>/task/<tid>/stat; SCHED_IDLE is 5). */
function threadPolicies(): number[] {
  return readdirSync(`/proc/${process.pid}/task`).flatMap((tid) => {
    try {
      const st = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8');
      return [Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[38])];
    } catch {
      return []; // a thread that ended meanwhile
    }
  });
}

test('the writer thread runs in SCHED_IDLE, and only it: the event loop preempts it at once', async () => {
  const SCHED_IDLE = 5;
  const dir = mkdtempSync(join(tmpdir(), 'netroot-evw-'));
  try {
    const before = threadPolicies().filter((p) => p === SCHED_IDLE).length;
    const s = openSqliteStore(join(dir, 'n.db'));
    // A write answered: the thread has run its set-up.
    await s.events.append([ev('52:54:00:00:00:01', 'dhcp.ack', 1000)]);
    const during = threadPolicies();
    assert.equal(during.filter((p) => p === SCHED_IDLE).length, before + 1, `policies: ${during.join(',')}`);
    await s.close();
    assert.equal(threadPolicies().filter((p) => p === SCHED_IDLE).length, before, 'gone with the thread');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a dead writer thread fails its pending writes loudly and later ones run on the service connection', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netroot-evw-'));
  const path = join(dir, 'n.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  migrate(db);
  try {
    const w = startEventWriter(path, db);
    assert.equal((await w.append([ev('52:54:00:00:00:02', 'dhcp.ack', 1)])).length, 1);
    assert.equal(w.threaded, true);
    const pending = w.append([ev('52:54:00:00:00:02', 'dhcp.ack', 2)]);
    await w.terminate();
    // Either it committed before the kill or it fails naming the thread: never a silent loss.
    await pending.then((r) => assert.equal(r.length, 1), (e: Error) => assert.match(e.message, /event writer thread/));
    assert.equal(w.threaded, false);
    const after = await w.append([ev('52:54:00:00:00:02', 'booted', 3)]);
    assert.equal(after.length, 1);
    assert.equal((db.prepare("SELECT count(*) AS n FROM events WHERE kind = 'booted'").get() as { n: number }).n, 1);
    // Lease batches too.
    await w.applyLeases([{ ip: '10.51.9.10', lease: { ip: '10.51.9.10', mac: '52:54:00:00:00:02', state: 'bound', expiresAt: 9e12 } }]);
    assert.equal((db.prepare('SELECT mac FROM leases').get() as { mac: string }).mac, '52:54:00:00:00:02');
    await w.close();
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a reply landing while terminate() waits keeps the process alive until the thread is gone (was: cancelledByParent)', async () => {
  // The reply to an append arrived after terminate() began; the message handler unref'd the
  // worker, the idle process ended before 'exit' was delivered, and the test runner cancelled
  // the test with "Promise resolution is still pending but the event loop has already resolved".
  const dir = mkdtempSync(join(tmpdir(), 'netroot-evw-'));
  const path = join(dir, 'n.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  migrate(db);
  try {
    for (let i = 0; i < 5; i++) {
      const w = startEventWriter(path, db);
      await w.append([ev('52:54:00:00:00:03', 'dhcp.ack', 1)]);
      const pending = w.append([ev('52:54:00:00:00:03', 'dhcp.ack', 2)]);
      // Block this thread long enough for the writer to commit and post its reply, so the reply
      // is queued before the termination and delivered while terminate() waits.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 150);
      await w.terminate();
      const r = await pending.then((rows) => rows.length, (e: Error) => e.message);
      assert.ok(r === 1 || /event writer thread/.test(String(r)), String(r));
      assert.equal(w.threaded, false);
    }
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
