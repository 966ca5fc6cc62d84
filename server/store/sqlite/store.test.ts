import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from './index.js';
import { UniqueViolation, type NodeFields } from '../types.js';

const node = (i: number, over: Partial<NodeFields> = {}): NodeFields => ({
  mac: `52:54:00:00:00:${i.toString(16).padStart(2, '0')}`,
  fqdn: `n${i}.lab.example`,
  ipv4: `10.0.0.${i}`,
  image: null,
  pinnedVersion: null,
  kernelArgs: '',
  bootMode: 'ipxe',
  stateMode: 'nfs',
  enabled: true,
  ...over,
});

test('nodes: create, get by each key, update, delete; unique columns named', async () => {
  let t = 1000;
  const s = openSqliteStore(':memory:', () => t++);
  const a = await s.nodes.create(node(1));
  assert.equal(a.createdAt, 1000);
  assert.deepEqual(await s.nodes.getByMac(a.mac), a);
  assert.deepEqual(await s.nodes.getByFqdn(a.fqdn), a);
  assert.deepEqual(await s.nodes.getByIpv4(a.ipv4), a);
  for (const field of ['mac', 'fqdn', 'ipv4'] as const) {
    const dup = node(2, { [field]: a[field] });
    await assert.rejects(s.nodes.create(dup), (e: unknown) => e instanceof UniqueViolation && e.field === field);
  }
  const b = await s.nodes.create(node(2));
  await assert.rejects(s.nodes.update(b.id, { ...b, ipv4: a.ipv4 }), (e: unknown) => e instanceof UniqueViolation && e.field === 'ipv4');
  const b2 = await s.nodes.update(b.id, { ...b, enabled: false, kernelArgs: 'quiet' });
  assert.equal(b2.enabled, false);
  assert.equal(b2.kernelArgs, 'quiet');
  assert.ok(b2.updatedAt > b.updatedAt);
  assert.equal(await s.nodes.delete(b.id), true);
  assert.equal(await s.nodes.delete(b.id), false);
  assert.equal(await s.nodes.count(), 1);
  await s.close();
});

test('nodes: createMany is all or nothing', async () => {
  const s = openSqliteStore(':memory:');
  await s.nodes.create(node(9));
  await assert.rejects(s.nodes.createMany([node(1), node(2), node(3, { fqdn: 'n9.lab.example' })]), UniqueViolation);
  assert.equal(await s.nodes.count(), 1);
  assert.equal((await s.nodes.createMany([node(1), node(2)])).length, 2);
  assert.equal(await s.nodes.count(), 3);
});

test('nodes: list filters, searches, sorts and pages', async () => {
  const s = openSqliteStore(':memory:');
  await s.nodes.createMany(Array.from({ length: 30 }, (_, i) => node(i + 1, { image: i % 3 === 0 ? 'centos' : 'debian' })));
  const centos = await s.nodes.list({ image: 'centos', limit: 100, offset: 0 });
  assert.equal(centos.total, 10);
  const page = await s.nodes.list({ limit: 5, offset: 5, sort: 'ipv4', order: 'desc' });
  assert.equal(page.total, 30);
  assert.equal(page.items.length, 5);
  const found = await s.nodes.list({ search: 'N17.LAB', limit: 10, offset: 0 });
  assert.deepEqual(found.items.map((n) => n.fqdn), ['n17.lab.example']);
});

test('events: append, incremental read, latest, retention by count and age', async () => {
  const s = openSqliteStore(':memory:');
  const mac = '52:54:00:00:00:01';
  const evs = await s.events.append(Array.from({ length: 20 }, (_, i) => ({ mac, kind: 'dhcp.discover' as const, detail: { i }, at: 1000 + i })));
  await s.events.append([{ mac: '52:54:00:00:00:02', kind: 'booted', detail: {}, at: 5 }]);
  assert.equal((await s.events.listForMac(mac, { limit: 5 })).map((e) => e.detail.i).join(), '15,16,17,18,19');
  assert.equal((await s.events.listForMac(mac, { limit: 3, afterId: evs[9]!.id })).map((e) => e.detail.i).join(), '10,11,12');
  const st = await s.events.statusFor([mac, '52:54:00:00:00:02', '52:54:00:00:00:03']);
  assert.equal(st.get(mac)?.lastAt, 1019);
  assert.equal(st.get(mac)?.startedAt, null);
  assert.equal(st.get('52:54:00:00:00:02')?.bootedAt, 5);
  assert.equal(st.size, 2);
  await s.events.append([{ mac, kind: 'dhcp.discover', detail: { vendorClass: 'PXEClient:Arch:00000:UNDI:002001' }, at: 2000 }]);
  assert.equal((await s.events.statusFor([mac])).get(mac)?.startedAt, 2000);
  assert.deepEqual(await s.events.bootedSince(0), [5]);
  assert.equal((await s.events.statusAll()).length, 2);
  const dropped = await s.events.prune(8, 100);
  assert.equal(dropped, 13 + 1);
  assert.equal((await s.events.listForMac(mac, { limit: 100 })).length, 8);
  assert.equal((await s.events.statusFor([mac])).get(mac)?.startedAt, 2000, 'the summary outlives pruned events');
});

test('discovered: upsert keeps first seen and known details, counts sightings', async () => {
  const s = openSqliteStore(':memory:');
  const d = { mac: '52:54:00:aa:bb:cc', arch: 7, vendorClass: 'PXEClient:Arch:00007', userClass: null, uuid: null, relay: null, via: 'dhcp' as const };
  assert.equal(await s.discovered.upsert(d, 100), true);
  assert.equal(await s.discovered.upsert({ ...d, arch: null, vendorClass: null, userClass: 'iPXE', via: 'http' }, 200), false);
  const r = (await s.discovered.get(d.mac))!;
  assert.deepEqual([r.arch, r.vendorClass, r.userClass, r.firstSeen, r.lastSeen, r.seenCount, r.via], [7, 'PXEClient:Arch:00007', 'iPXE', 100, 200, 2, 'http']);
  assert.equal((await s.discovered.list(10, 0)).total, 1);
  assert.equal(await s.discovered.delete(d.mac), true);
});

test('tokens: create, find by hash, revoke', async () => {
  const s = openSqliteStore(':memory:');
  const t = await s.tokens.create('admin', 'admin', 'h1');
  await assert.rejects(s.tokens.create('admin', 'readonly', 'h2'), UniqueViolation);
  assert.deepEqual(await s.tokens.findByHash('h1'), t);
  assert.equal(await s.tokens.revoke(t.id, 5), true);
  assert.equal(await s.tokens.revoke(t.id, 6), false);
  assert.equal((await s.tokens.get(t.id))?.revokedAt, 5);
  assert.equal(await s.tokens.countActive(), 0);
});

test('data survives reopening; migrations are idempotent', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nrstore-'));
  const path = join(dir, 'netroot.db');
  const s1 = openSqliteStore(path);
  await s1.nodes.create(node(1));
  await s1.close();
  const s2 = openSqliteStore(path);
  assert.equal(s2.schemaVersion, s1.schemaVersion);
  assert.equal((await s2.nodes.all()).length, 1);
  assert.equal(s2.db.pragma('journal_mode', { simple: true }), 'wal');
  await s2.close();
});

test('images and versions: settings JSON, active version, version lifecycle', async () => {
  const s = openSqliteStore(':memory:');
  const i = await s.images.create('centos7', 'golden1', { excludes: ['/var/cache/*'] });
  assert.deepEqual([i.host, i.settings, i.activeVersion], ['golden1', { excludes: ['/var/cache/*'] }, null]);
  await assert.rejects(s.images.create('centos7'), (e: unknown) => e instanceof UniqueViolation && e.field === 'name');
  await s.versions.create({ image: 'centos7', version: 'v1', state: 'building', createdAt: 1, kernel: null, error: null, kept: false, sizeBytes: null });
  await s.versions.update('centos7', 'v1', { state: 'ready', kernel: '5.14.0', sizeBytes: 1234 });
  await assert.rejects(s.versions.create({ image: 'centos7', version: 'v1', state: 'building', createdAt: 2, kernel: null, error: null, kept: false, sizeBytes: null }), UniqueViolation);
  assert.deepEqual(await s.versions.get('centos7', 'v1'), { image: 'centos7', version: 'v1', state: 'ready', createdAt: 1, kernel: '5.14.0', error: null, kept: false, sizeBytes: 1234 });
  assert.equal((await s.images.update('centos7', { activeVersion: 'v1' })).activeVersion, 'v1');
  await s.versions.remove('centos7', 'v1');
  assert.deepEqual(await s.versions.list('centos7'), []);
});

test('golden hosts, jobs with capped log, audit', async () => {
  const s = openSqliteStore(':memory:');
  await s.goldenHosts.create({ name: 'g1', address: '10.0.0.9', port: 22, user: 'root', sourcePath: '/', hostKey: null, fingerprint: null, pinned: false });
  assert.equal((await s.goldenHosts.update('g1', { pinned: true, fingerprint: 'SHA256:x' })).pinned, true);
  const j = await s.jobs.create('pull', 'image:centos7', 'admin');
  assert.equal(j.state, 'queued');
  await s.jobs.update(j.id, { state: 'running', startedAt: 5, progress: { percent: 50, bytes: 10, rate: 2 }, step: 'rsync' });
  await s.jobs.appendLog(j.id, 'a'.repeat(100), 64);
  await s.jobs.appendLog(j.id, 'END', 64);
  const j2 = (await s.jobs.get(j.id))!;
  assert.equal(j2.log.length, 64);
  assert.ok(j2.log.endsWith('END'));
  assert.deepEqual(j2.progress, { percent: 50, bytes: 10, rate: 2 });
  assert.equal(await s.jobs.failInterrupted(9), 1);
  assert.equal((await s.jobs.get(j.id))!.state, 'failed');
  assert.equal((await s.jobs.list({ target: 'image:centos7', limit: 5 })).length, 1);
  await s.audit.append({ at: 1, actor: 'admin', method: 'POST', path: '/api/v1/nodes', status: 201, summary: 'x' });
  assert.equal((await s.audit.list({ limit: 10 })).length, 1);
});

test('nodes: filter by boot state and sort by last event, as bootState() derives it', async () => {
  const s = openSqliteStore(':memory:');
  await s.nodes.createMany([1, 2, 3, 4].map((i) => node(i)));
  const m = (i: number) => node(i).mac;
  await s.events.append([
    { mac: m(1), kind: 'tftp.file', detail: {}, at: 1000 },
    { mac: m(1), kind: 'booted', detail: {}, at: 2000 },
    { mac: m(2), kind: 'tftp.file', detail: {}, at: 9000 },
    { mac: m(3), kind: 'tftp.file', detail: {}, at: 100 },
  ]);
  const q = (is: 'booted' | 'booting' | 'stuck' | 'never') => s.nodes.list({ state: { is, now: 9500, stuckAfterMs: 1000 }, limit: 10, offset: 0, sort: 'mac' }).then((p) => p.items.map((n) => n.fqdn));
  assert.deepEqual(await q('booted'), ['n1.lab.example']);
  assert.deepEqual(await q('booting'), ['n2.lab.example']);
  assert.deepEqual(await q('stuck'), ['n3.lab.example']);
  assert.deepEqual(await q('never'), ['n4.lab.example']);
  const byLast = await s.nodes.list({ sort: 'lastEventAt', order: 'desc', limit: 10, offset: 0 });
  assert.deepEqual(byLast.items.map((n) => n.fqdn), ['n2.lab.example', 'n1.lab.example', 'n3.lab.example', 'n4.lab.example']);
});

test('nodes by MAC (cached for the DHCP server): every write is seen at once, a failed import leaves nothing, callers get copies', async () => {
  const s = openSqliteStore(':memory:');
  const mac = node(7).mac;
  assert.equal(await s.nodes.getByMac(mac), null, 'unknown, and remembered as such');
  const a = await s.nodes.create(node(7));
  assert.deepEqual(await s.nodes.getByMac(mac), a);
  const got = (await s.nodes.getByMac(mac))!;
  got.enabled = false;
  assert.equal((await s.nodes.getByMac(mac))!.enabled, true, "a caller's change is not another's answer");
  await s.nodes.update(a.id, { ...a, enabled: false });
  assert.equal((await s.nodes.getByMac(mac))!.enabled, false);
  await s.nodes.update(a.id, { ...a, mac: node(8).mac });
  assert.equal(await s.nodes.getByMac(mac), null);
  assert.equal((await s.nodes.getByMac(node(8).mac))!.id, a.id);
  // An import whose last row clashes is rolled back whole: none of its MACs is known.
  assert.equal(await s.nodes.getByMac(node(9).mac), null);
  await assert.rejects(s.nodes.createMany([node(9), node(10, { fqdn: a.fqdn })]), UniqueViolation);
  assert.equal(await s.nodes.getByMac(node(9).mac), null);
  await s.nodes.delete(a.id);
  assert.equal(await s.nodes.getByMac(node(8).mac), null);
  await s.close();
});
