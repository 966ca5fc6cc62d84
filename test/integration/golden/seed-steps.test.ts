/**
 * The seed's copy rules, checked at pull time against a real sshd and rsync: autofs must be off
 * (a running automount refuses the pull, with the reason), mounts below the golden root that are
 * not part of it (here tmpfs at /boot/efi and /data, as an ESP or an NFS mount would be) arrive as
 * empty mount points, and the default initramfs drivers are the golden host's loaded network and
 * storage drivers that the image's kernel has.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, start } from '../../helpers/proc.js';
import { FIXTURE_KERNEL } from '../../fixtures/golden/build-root.js';
import { pullVersion, PullError, versionPaths } from '../../../exports/image/index.js';
import { defaultDrivers, parseModulesDep } from '../../../exports/image/drivers.js';
import { image, startLab, type Lab } from './lab.js';

let lab: Lab;
const mounted: string[] = [];
before(async () => {
  lab = await startLab();
  await lab.pin();
});
after(async () => {
  for (const m of mounted.reverse()) await run('umount', [m]).catch(() => undefined);
  await lab?.stop();
});

test('a running automount on the golden host refuses the pull with the reason; stopped, the pull goes on', async () => {
  // A process named automount, as autofs's daemon is (the facts script asks pidof).
  const bin = join(lab.tmp, 'automount');
  await copyFile('/bin/sleep', bin);
  const p = start(bin, ['60']);
  try {
    await assert.rejects(pullVersion(lab.opts({ version: 'autofs1' })), (e: unknown) =>
      e instanceof PullError && e.step === 'setup' && /autofs is running on golden1: .*infinite mounting loop.*stop and disable autofs/.test(e.message));
    assert.equal((await lab.store.get('fixture', 'autofs1'))!.state, 'failed');
    assert.equal(await stat(versionPaths(lab.imagesDir, 'fixture', 'autofs1').dir).catch(() => null), null);
  } finally {
    await p.stop();
  }
  const rec = await pullVersion(lab.opts({ version: 'after-autofs' }));
  assert.equal(rec.state, 'ready');
});

test('mounts below the golden root that are not local disk filesystems are not copied; a re-pull still sees the tree unchanged', async () => {
  for (const d of ['boot/efi', 'data']) {
    const at = join(lab.fixture, d);
    await mkdir(at, { recursive: true });
    await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'netroot-test', at]);
    mounted.push(at);
    await writeFile(join(at, 'foreign.txt'), `must not be copied (${d})\n`);
  }
  const lines: string[] = [];
  const rec = await pullVersion(lab.opts({ version: 'mounts1' }), { log: (l) => lines.push(l) });
  const root = versionPaths(lab.imagesDir, 'fixture', rec.version).root;
  assert.deepEqual(await readdir(join(root, 'boot/efi')), [], 'the mount point arrives empty');
  assert.deepEqual(await readdir(join(root, 'data')), []);
  assert.ok(await stat(join(root, `boot/vmlinuz-${FIXTURE_KERNEL}`)), '/boot itself is copied');
  assert.ok(lines.includes("not copied, not part of golden1's root: /boot/efi (tmpfs mount), /data (tmpfs mount)"), lines.join('\n'));
  const same = await pullVersion(lab.opts({ version: 'mounts2', prev: rec.version, skipUnchanged: true }));
  assert.deepEqual([same.version, same.unchanged], [rec.version, true]);
});

test('an image without drivers gets the golden host\'s loaded network and storage drivers its kernel has', async () => {
  // The loaded modules as the golden host (this machine) lists them; the fixture kernel gets a
  // modules.dep naming the first of them a network driver and the second a filesystem.
  const loaded = (await readFile('/proc/modules', 'utf8').catch(() => '')).split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
  const dep = [
    'kernel/fs/nfs/nfs.ko:',
    ...(loaded[0] ? [`kernel/drivers/net/ethernet/x/${loaded[0]}.ko.xz:`] : []),
    ...(loaded[1] ? [`kernel/fs/x/${loaded[1]}.ko.xz:`] : []),
  ].join('\n');
  await writeFile(join(lab.fixture, `lib/modules/${FIXTURE_KERNEL}/modules.dep`), `${dep}\n`);
  const expected = defaultDrivers(loaded, parseModulesDep(dep));
  const lines: string[] = [];
  const rec = await pullVersion(lab.opts({ image: { ...image, drivers: [] }, version: 'drivers1' }), { log: (l) => lines.push(l) });
  const p = versionPaths(lab.imagesDir, 'fixture', rec.version);
  const m = JSON.parse(await readFile(p.manifest, 'utf8'));
  assert.deepEqual(m.initramfs.drivers, expected);
  assert.ok(lines.includes(`drivers: the image sets none, so golden1's loaded network and storage drivers: ${expected.join(' ') || '(none)'}`), lines.join('\n'));
  assert.match(await readFile(p.initramfs, 'utf8'), new RegExp(`--add-drivers ${['nfs', 'nfsv4', ...expected].join(' ')} -f `));
  // An image that names its drivers keeps exactly those.
  const own = await pullVersion(lab.opts({ version: 'drivers2' }));
  const m2 = JSON.parse(await readFile(versionPaths(lab.imagesDir, 'fixture', own.version).manifest, 'utf8'));
  assert.deepEqual(m2.initramfs.drivers, ['virtio_net']);
  await writeFile(join(lab.fixture, `lib/modules/${FIXTURE_KERNEL}/modules.dep`), 'kernel/fs/nfs/nfs.ko:\n');
});
