import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, mkdir, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkListing, chrootBuilder, dracutArgv, goldenBuildScript, networkHandler, parseLsinitrd } from './initramfs.js';
import { compareKernelVersions } from './kernel.js';
import type { Runner } from '../runner.js';

// Written in the layout of Debian 12 dracut 059 `lsinitrd` output (not captured: no dracut on this machine; the e2e issue should replace it with a real capture).
const LSINITRD = `Image: /boot/initrd.img-6.1.0-18-amd64: 13M
========================================================================
Early CPIO image
========================================================================
drwxr-xr-x   3 root     root            0 Mar  1 10:00 .
========================================================================
Version: dracut-059-4

Arguments: --no-hostonly -a 'nfs network base' --add 'network-legacy' --add-drivers 'nfs nfsv4 virtio_net' -f /tmp/x.img 6.1.0-18-amd64

dracut modules:
bash
systemd
network-legacy
network
nfs
base
========================================================================
drwxr-xr-x  12 root     root            0 Mar  1 10:00 .
lrwxrwxrwx   1 root     root            7 Mar  1 10:00 bin -> usr/bin
-rw-r--r--   1 root     root        95312 Mar  1 10:00 usr/lib/modules/6.1.0-18-amd64/kernel/fs/nfs/nfs.ko
-rw-r--r--   1 root     root        41234 Mar  1 10:00 usr/lib/modules/6.1.0-18-amd64/kernel/drivers/net/virtio_net.ko
========================================================================
`;

test('dracutArgv: seed modules, network-legacy on 059+, drivers, no host-only', () => {
  assert.deepEqual(dracutArgv({ dracutVersion: 59, drivers: ['virtio_net'], out: '/tmp/x.img', kver: '6.1.0-18-amd64' }),
    ['dracut', '--no-hostonly', '-a', 'nfs network base', '--add', 'network-legacy', '--add-drivers', 'nfs nfsv4 virtio_net', '-f', '/tmp/x.img', '6.1.0-18-amd64']);
  assert.deepEqual(dracutArgv({ dracutVersion: 33, drivers: [], out: 'o', kver: 'k' }).slice(1, 6), ['--no-hostonly', '-a', 'nfs network base', '--add-drivers', 'nfs nfsv4']);
  assert.deepEqual(dracutArgv({ dracutVersion: 57, networkManager: true, drivers: [], out: 'o', kver: 'k' }).slice(1, 6), ['--no-hostonly', '-a', 'nfs network base', '--add-drivers', 'nfs nfsv4']);
  assert.ok(!dracutArgv({ dracutVersion: 59, networkManager: true, drivers: [], out: 'o', kver: 'k' }).includes('network-legacy'));
});

test('networkHandler: the listing names the initramfs network implementation; none is a problem', () => {
  const l = parseLsinitrd(LSINITRD);
  assert.equal(networkHandler(l), 'network-legacy');
  assert.equal(networkHandler({ ...l, dracutModules: ['bash', 'network-manager', 'network', 'nfs', 'base'] }), 'network-manager');
  // dracut 033 (EL7): 40network is the implementation.
  assert.equal(networkHandler({ ...l, dracutModules: ['network', 'nfs', 'base'] }), 'network');
  const none = { ...l, dracutModules: ['nfs', 'base'] };
  assert.equal(networkHandler(none), null);
  assert.match(checkListing(none, '6.1.0-18-amd64').join(), /no network module/);
});

test('parseLsinitrd + checkListing: nfs module and modules of the right kernel', () => {
  const l = parseLsinitrd(LSINITRD);
  assert.ok(l.dracutModules.includes('nfs') && l.dracutModules.includes('network-legacy'));
  assert.ok(l.files.includes('usr/lib/modules/6.1.0-18-amd64/kernel/fs/nfs/nfs.ko'));
  assert.deepEqual(checkListing(l, '6.1.0-18-amd64'), []);
  assert.match(checkListing(l, '6.1.0-20-amd64').join(), /another kernel/);
  assert.match(checkListing(parseLsinitrd(LSINITRD.replace(/^nfs$/m, '')), '6.1.0-18-amd64').join(), /"nfs" missing/);
});

test('compareKernelVersions orders numerically', () => {
  assert.deepEqual(['6.1.0-9-amd64', '6.1.0-18-amd64', '5.10.0-1'].sort(compareKernelVersions), ['5.10.0-1', '6.1.0-9-amd64', '6.1.0-18-amd64']);
});

test('chrootBuilder binds /proc /sys /dev and always unmounts, also when dracut fails', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'netroot-chroot-'));
  try {
    const calls: string[] = [];
    const mk = (failDracut: boolean): Runner => async (argv) => {
      calls.push(argv.join(' '));
      if (argv[0] === 'chroot' && argv[2] === 'dracut' && argv[3] === '--version') return { code: 0, stdout: 'dracut 059\n', stderr: '' };
      if (argv[0] === 'chroot' && argv[2] === 'dracut') {
        if (failDracut) throw new Error('dracut exited with 1');
        const out = argv[argv.indexOf('-f') + 1]!;
        await mkdir(join(dir, 'tmp'), { recursive: true });
        await writeFile(join(dir, out), 'img', { mode: 0o600 });
      }
      if (argv[0] === 'chroot' && argv[2] === 'lsinitrd') return { code: 0, stdout: LSINITRD, stderr: '' };
      return { code: 0, stdout: '', stderr: '' };
    };
    const out = join(dir, 'initramfs.img');
    const listing = await chrootBuilder(mk(false)).build({ root: dir, kver: '6.1.0-18-amd64', drivers: [], out, log: () => undefined });
    assert.equal(listing, LSINITRD);
    assert.equal((await stat(out)).mode & 0o777, 0o644, 'world-readable copy (docs/lab.md, trap 7)');
    assert.deepEqual(calls.filter((c) => c.startsWith('mount') || c.startsWith('umount')), [
      `mount --bind /proc ${dir}/proc`, `mount --bind /sys ${dir}/sys`, `mount --bind /dev ${dir}/dev`,
      `umount ${dir}/dev`, `umount ${dir}/sys`, `umount ${dir}/proc`,
    ]);
    assert.ok(calls.some((c) => c.includes('--add network-legacy')));
    calls.length = 0;
    await assert.rejects(chrootBuilder(mk(true)).build({ root: dir, kver: 'k', drivers: [], out, log: () => undefined }), /dracut exited/);
    assert.equal(calls.filter((c) => c.startsWith('umount')).length, 3);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the golden-host build removes its temp initramfs unless the whole listing went through', () => {
  const script = goldenBuildScript(['dracut', '-a', 'nfs network base', '-f', '/tmp/netroot-initramfs-ab12.img', '6.1.0'], 'lsinitrd', '/tmp/netroot-initramfs-ab12.img');
  assert.equal(script, [
    `trap '[ "$netroot_ok" = 1 ] || rm -f /tmp/netroot-initramfs-ab12.img' EXIT`,
    "trap 'exit 1' HUP PIPE TERM",
    "dracut -a 'nfs network base' -f /tmp/netroot-initramfs-ab12.img 6.1.0 >&2 && echo @@netroot-lsinitrd@@ && lsinitrd /tmp/netroot-initramfs-ab12.img && netroot_ok=1",
  ].join('; '));
  assert.throws(() => goldenBuildScript(['dracut'], 'lsinitrd', "/tmp/it's.img"), /needs quoting/);
});
