import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foreignMounts, mountExcludes, parseMountinfo } from './mounts.js';

// The shape of an EL9 host's /proc/self/mountinfo (RHEL default layout: / and /boot on xfs, the
// ESP on vfat), with an NFS home, an autofs map and container storage added.
const MOUNTINFO = [
  '22 1 253:0 / / rw,relatime shared:1 - xfs /dev/mapper/rl-root rw,attr2,inode64',
  '23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw',
  '24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:6 - sysfs sysfs rw,seclabel',
  '25 22 0:5 / /dev rw,nosuid shared:2 - devtmpfs devtmpfs rw,seclabel,size=4096k',
  '28 22 0:24 / /run rw,nosuid,nodev shared:12 - tmpfs tmpfs rw,seclabel,mode=755',
  '70 22 252:2 / /boot rw,relatime shared:29 - xfs /dev/vda2 rw,seclabel,attr2',
  '72 70 252:1 / /boot/efi rw,relatime shared:31 - vfat /dev/vda1 rw,fmask=0077,dmask=0077',
  '74 22 253:2 / /var rw,relatime shared:33 - xfs /dev/mapper/rl-var rw,seclabel',
  '90 22 0:45 / /home rw,relatime shared:40 - nfs4 srv:/home rw,vers=4.2',
  '91 22 0:46 / /data rw,relatime shared:41 - nfs srv:/export/data rw,vers=3',
  '92 22 0:47 / /net rw,relatime shared:42 - autofs systemd-1 rw,fd=47',
  '93 74 0:48 / /var/lib/containers/storage/overlay/abc/merged rw - overlay overlay rw,lowerdir=x',
  '94 22 0:49 / /opt/my\\040apps rw - cifs //srv/apps rw',
  '95 22 0:50 / /var/tmp rw - tmpfs tmpfs rw',
].join('\n');

test('parseMountinfo: target, type and source, octal escapes decoded, junk skipped', () => {
  const m = parseMountinfo(`${MOUNTINFO}\ngarbage line\n`);
  assert.equal(m.length, 14);
  assert.deepEqual(m[5], { target: '/boot', fstype: 'xfs', source: '/dev/vda2' });
  assert.deepEqual(m[12], { target: '/opt/my apps', fstype: 'cifs', source: '//srv/apps' });
});

test('foreign mounts: NFS, autofs, overlays, tmpfs and the ESP are excluded; /boot and /var on disk are copied', () => {
  const f = foreignMounts(parseMountinfo(MOUNTINFO), '/');
  assert.deepEqual(f.map((x) => [x.rel, x.why]), [
    ['/boot/efi', 'EFI system partition'],
    ['/data', 'nfs mount'],
    ['/net', 'autofs mount'],
    ['/opt/my apps', 'cifs mount'],
    ['/var/lib/containers/storage/overlay/abc/merged', 'overlay mount'],
    ['/var/tmp', 'tmpfs mount'],
  ]);
  // /home is in the seed's own excludes; /proc /sys /dev /run too.
  assert.deepEqual(mountExcludes(parseMountinfo(MOUNTINFO), '/').slice(0, 2), ['/boot/efi/*', '/data/*']);
});

test('a source below / (a golden tree in a directory): only mounts below it, relative to it', () => {
  const text = [
    '22 1 253:0 / / rw - xfs /dev/root rw',
    '30 22 0:60 / /srv/golden rw - ext4 /dev/sdb1 rw',
    '31 30 0:61 / /srv/golden/boot/efi rw - vfat /dev/sdb2 rw',
    '32 30 0:62 / /srv/golden/mnt/x rw - nfs s:/x rw',
    '33 22 0:63 / /srv/goldenother rw - nfs s:/y rw',
    '34 30 0:64 / /srv/golden/w[1]* rw - tmpfs t rw',
  ].join('\n');
  assert.deepEqual(mountExcludes(parseMountinfo(text), '/srv/golden/'), ['/boot/efi/*', '/w\\[1]\\*/*']);
});
