import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDracutVersion, parsePreflight } from './preflight.js';
import { dracutModules, renderDracutConf } from './prepare.js';

const RHEL = `@@uname
5.14.0-362.el9.x86_64
@@modules
5.14.0-362.el9.x86_64
5.14.0-284.el9.x86_64
@@boot
config-5.14.0-362.el9.x86_64
vmlinuz-0-rescue-abc
vmlinuz-5.14.0-362.el9.x86_64
@@pkg
rpm
dracut-network 057-53.git20240104.el9 install ok installed
nfs-utils 2.5.4-20.el9 install ok installed
rsync 3.2.3-19.el9 install ok installed
package dracut-config-generic is not installed
@@autofs
inactive
@@lsmod
virtio_net
nfsv4
@@netdrv
eth0 virtio_net
@@df
/dev/vda1 20961280 4500000 16461280 22% /
@@dracut
dracut 057-53.git20240104.el9
@@nm
yes
@@selinux
# This file controls the state of SELinux on the system.
SELINUX=enforcing
SELINUXTYPE=targeted
@@getenforce
Enforcing
@@readahead
0
`;

test('parsePreflight: a RHEL host missing dracut-config-generic', () => {
  const r = parsePreflight('g1', RHEL);
  assert.equal(r.runningKernel, '5.14.0-362.el9.x86_64');
  assert.deepEqual(r.kernels.bootable, ['5.14.0-362.el9.x86_64']);
  assert.deepEqual(r.kernels.images, ['5.14.0-362.el9.x86_64']);
  assert.equal(r.packageManager, 'rpm');
  assert.deepEqual(r.packages.map((p) => [p.name, p.present]), [['dracut-network', true], ['dracut-config-generic', false], ['nfs-utils', true], ['rsync', true]]);
  assert.equal(r.autofsRunning, false);
  assert.deepEqual(r.networkDrivers, [{ iface: 'eth0', driver: 'virtio_net' }]);
  assert.equal(r.freeBytes, 16461280 * 1024);
  assert.equal(r.dracutVersion, 57);
  assert.equal(r.initramfsNetwork, 'network-manager');
  assert.deepEqual(r.selinux, { config: 'enforcing', running: 'enforcing' });
  assert.deepEqual(r.problems, ['package dracut-config-generic is missing']);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0]!, /SELinux is enforcing here; images boot permissive by default: .*nfs_t/);
});

test('parsePreflight: a Debian host with autofs running and dpkg statuses', () => {
  const out = `@@uname\n6.1.0-18-amd64\n@@modules\n6.1.0-18-amd64\n@@boot\nvmlinuz-6.1.0-18-amd64\n@@pkg\ndpkg\n`
    + `dracut-network 059-4 install ok installed\nnfs-common 1:2.6.2-4 install ok installed\nrsync 3.2.7-1 deinstall ok config-files\n`
    + `@@autofs\nactive\n@@lsmod\n@@netdrv\n@@df\n@@dracut\ndracut 059\n@@readahead\n0\n`;
  const r = parsePreflight('deb', out);
  assert.equal(r.packages.find((p) => p.name === 'nfs-utils')!.checked, 'nfs-common');
  assert.equal(r.packages.find((p) => p.name === 'rsync')!.present, false);
  assert.ok(r.packages.find((p) => p.name === 'dracut-config-generic')!.note);
  assert.ok(r.autofsRunning);
  assert.equal(r.freeBytes, null);
  assert.deepEqual(r.problems.length, 2);
  assert.match(r.problems.join('\n'), /autofs/);
});

test('dracut 059+ gets network-legacy (docs/lab.md, trap 2); the conf is generic', () => {
  assert.equal(parseDracutVersion('dracut-059'), 59);
  assert.equal(parseDracutVersion('dracut 102'), 102);
  assert.equal(parseDracutVersion('bash: dracut: not found'), null);
  // 033 (EL7), 049 (EL8), 057 (EL9): dracut's 40network chooses (network-manager where nm-initrd-generator is).
  for (const v of [33, 49, 57]) for (const nm of [false, true]) assert.deepEqual(dracutModules(v, nm), ['nfs', 'network', 'base'], `${v} ${nm}`);
  assert.deepEqual(dracutModules(59), ['nfs', 'network', 'base', 'network-legacy']);
  // 059+ with NetworkManager: dracut picks network-manager itself; network-legacy would override it.
  assert.deepEqual(dracutModules(102, true), ['nfs', 'network', 'base']);
  assert.equal(renderDracutConf({ drivers: ['virtio_net', 'e1000e'], dracutVersion: 59 }), [
    '# Written by netroot (seed "general setup"): generic initramfs images that can boot an NFS root.',
    'hostonly="no"',
    'add_dracutmodules+=" nfs network base network-legacy "',
    'add_drivers+=" nfs nfsv4 virtio_net e1000e "',
    '',
  ].join('\n'));
  assert.throws(() => renderDracutConf({ drivers: ['a b'], dracutVersion: 59 }), /drivers/);
});
