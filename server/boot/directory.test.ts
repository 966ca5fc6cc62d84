import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSqliteStore } from '../store/sqlite/index.js';
import { storeDirectory } from './directory.js';

test("a node boots its pinned, else its image's active, ready version; resolution cached briefly", async () => {
  const s = openSqliteStore(':memory:');
  let t = 0;
  const dir = storeDirectory(s, { imagesDir: '/d/images', cacheMs: 1000, now: () => t });
  const mac = '52:54:00:00:00:01';
  await s.nodes.create({ mac, fqdn: 'a.lab.example', ipv4: '10.0.0.1', image: 'c7', pinnedVersion: null, kernelArgs: '', bootMode: 'ipxe', stateMode: 'nfs', enabled: true });
  assert.equal((await dir.lookup(mac))!.image, null, 'no such image yet');
  assert.equal(await dir.lookup('52:54:00:00:00:02'), null);
  await s.images.create('c7', null, { kernelArgs: 'quiet' });
  for (const v of ['v1', 'v2']) await s.versions.create({ image: 'c7', version: v, state: 'ready', createdAt: 1, kernel: null, error: null, kept: false, sizeBytes: null });
  await s.images.update('c7', { activeVersion: 'v1' });
  t = 2000;
  const a = (await dir.lookup(mac))!;
  assert.deepEqual(a.image, { name: 'c7', version: 'v1', kernelPath: '/d/images/c7/v1/boot/vmlinuz', initrdPath: '/d/images/c7/v1/boot/initramfs.img', rootPath: '/d/images/c7/v1/root', kernelArgs: 'quiet' });
  await s.images.update('c7', { activeVersion: 'v2' });
  t = 2500;
  assert.equal((await dir.lookup(mac))!.image!.version, 'v1', 'cached');
  t = 3100;
  assert.equal((await dir.lookup(mac))!.image!.version, 'v2', 'a publish is seen after cacheMs');
  await s.nodes.update(1, { mac, fqdn: 'a.lab.example', ipv4: '10.0.0.1', image: 'c7', pinnedVersion: 'v1', kernelArgs: '', bootMode: 'ipxe', stateMode: 'nfs', enabled: true });
  assert.equal((await dir.lookup(mac))!.image!.version, 'v1', 'pins are read at once');
  await s.versions.update('c7', 'v1', { state: 'failed' });
  t = 9000;
  assert.equal((await dir.lookup(mac))!.image, null, 'only ready versions boot');
});

test('a boot in progress gets the version its script named, whatever is active now; only ready versions of its own image', async () => {
  const s = openSqliteStore(':memory:');
  const dir = storeDirectory(s, { imagesDir: '/d/images', cacheMs: 0 });
  const mac = '52:54:00:00:00:01';
  await s.images.create('c7', null, {});
  await s.images.create('other', null, {});
  for (const [img, v, state] of [['c7', 'v1', 'ready'], ['c7', 'v2', 'ready'], ['c7', 'v3', 'failed'], ['other', 'o1', 'ready']] as const) {
    await s.versions.create({ image: img, version: v, state, createdAt: 1, kernel: null, error: null, kept: false, sizeBytes: null });
  }
  await s.images.update('c7', { activeVersion: 'v2' });
  await s.nodes.create({ mac, fqdn: 'a.lab.example', ipv4: '10.0.0.1', image: 'c7', pinnedVersion: null, kernelArgs: '', bootMode: 'ipxe', stateMode: 'nfs', enabled: true });
  assert.equal((await dir.lookup(mac))!.image!.version, 'v2', 'a new boot: the active version');
  const v1 = (await dir.lookup(mac, 'v1'))!;
  assert.equal(v1.image!.version, 'v1', 'the version the script named, though v2 is active');
  assert.equal(v1.image!.kernelPath, '/d/images/c7/v1/boot/vmlinuz');
  assert.equal(v1.requestedVersion, 'v1');
  assert.equal((await dir.lookup(mac, 'v3'))!.image, null, 'a failed version is never served');
  assert.equal((await dir.lookup(mac, 'o1'))!.image, null, "another image's version is not this node's");
  assert.equal((await dir.lookup(mac, 'nope'))!.image, null);
});

test('an image with SELinux disabled boots with selinux=0 before its own arguments', async () => {
  const s = openSqliteStore(':memory:');
  const dir = storeDirectory(s, { imagesDir: '/d/images', cacheMs: 0 });
  const mac = '52:54:00:00:00:01';
  await s.images.create('el9', null, { kernelArgs: 'quiet', selinux: 'disabled' });
  await s.versions.create({ image: 'el9', version: 'v1', state: 'ready', createdAt: 1, kernel: null, error: null, kept: false, sizeBytes: null });
  await s.images.update('el9', { activeVersion: 'v1' });
  await s.nodes.create({ mac, fqdn: 'a.lab.example', ipv4: '10.0.0.1', image: 'el9', pinnedVersion: null, kernelArgs: '', bootMode: 'ipxe', stateMode: 'nfs', enabled: true });
  assert.equal((await dir.lookup(mac))!.image!.kernelArgs, 'selinux=0 quiet');
  await s.images.update('el9', { settings: { kernelArgs: 'quiet', selinux: 'permissive' } });
  assert.equal((await dir.lookup(mac))!.image!.kernelArgs, 'quiet');
});

test('a resolution is no staler than the oldest record it was made from (cacheMs)', async () => {
  const s = openSqliteStore(':memory:');
  let t = 0;
  const dir = storeDirectory(s, { imagesDir: '/d/images', cacheMs: 1000, now: () => t });
  await s.images.create('c7', null, {});
  for (const v of ['v1', 'v2']) await s.versions.create({ image: 'c7', version: v, state: 'ready', createdAt: 1, kernel: null, error: null, kept: false, sizeBytes: null });
  await s.images.update('c7', { activeVersion: 'v1' });
  const a = '52:54:00:00:00:01';
  const b = '52:54:00:00:00:02';
  await s.nodes.create({ mac: a, fqdn: 'a.lab.example', ipv4: '10.0.0.1', image: 'c7', pinnedVersion: 'v1', kernelArgs: '', bootMode: 'ipxe', stateMode: 'nfs', enabled: true });
  await s.nodes.create({ mac: b, fqdn: 'b.lab.example', ipv4: '10.0.0.2', image: 'c7', pinnedVersion: null, kernelArgs: '', bootMode: 'ipxe', stateMode: 'nfs', enabled: true });
  // t = 0: the image record is read for a (pinned).
  assert.equal((await dir.lookup(a))!.image!.version, 'v1');
  await s.images.update('c7', { activeVersion: 'v2' });
  // t = 900: b's resolution is made from that record, read at 0.
  t = 900;
  assert.equal((await dir.lookup(b))!.image!.version, 'v1', 'the image record is still cached');
  // t = 1000: the record is cacheMs old, so b's resolution is too, however recently it was made.
  t = 1000;
  assert.equal((await dir.lookup(b))!.image!.version, 'v2');
  const one = (await dir.lookup(b))!.image!;
  assert.equal((await dir.lookup(b))!.image, one, 'one object for every lookup while fresh');
  assert.ok(Object.isFrozen(one), 'shared, so frozen');
  await s.close();
});
