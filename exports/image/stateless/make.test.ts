import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, lstat, readlink, mkdir, writeFile, symlink, cp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertHostSpecificCleaned, buildFixtureRoot } from '../../../test/fixtures/golden/build-root.js';
import { makeStateless } from './make.js';
import { FSTAB, DEBIAN_INTERFACES } from './cleanup.js';
import { BOOT_MARKER, BOOTED_UNIT, HOSTKEYS_SCRIPT, HOSTKEYS_UNIT, HOSTNAME_UNIT, READONLY_ROOT_UNITS, SSHD_KEYGEN_UNITS } from './portable.js';

async function withRoot(fn: (root: string) => Promise<void>, opts: Parameters<typeof buildFixtureRoot>[1] = {}): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'netroot-stateless-'));
  try {
    await buildFixtureRoot(join(dir, 'root'), opts);
    await fn(join(dir, 'root'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const read = (root: string, rel: string) => readFile(join(root, rel), 'utf8');
const exists = (p: string) => lstat(p).then(() => true, () => false);
const diskless = { kind: 'diskless', server: '10.0.0.1', stateExport: '/var/lib/netroot/state' } as const;

test('makeStateless applies every seed cleanup step to a fixture root', async () => {
  await withRoot(async (root) => {
    await rm(join(root, 'tmp'), { recursive: true });
    const reports = await makeStateless(root, { state: diskless, hostKeys: 'keep', bootReport: { server: '10.0.0.1', port: 8080 } });
    assert.equal(await read(root, 'etc/fstab'), FSTAB);
    assert.deepEqual(await readdir(join(root, 'var/lib/rpm')), ['Packages']);
    assert.deepEqual((await readdir(join(root, 'etc/sysconfig/network-scripts'))).sort(), ['ifcfg-lo', 'ifup-eth']);
    assert.equal(await read(root, 'etc/network/interfaces'), DEBIAN_INTERFACES);
    assert.deepEqual(await readdir(join(root, 'etc/network/interfaces.d')), []);
    assert.deepEqual(await readdir(join(root, 'etc/NetworkManager/system-connections')), []);
    assert.ok(await exists(join(root, 'etc/NetworkManager/NetworkManager.conf')));
    assert.deepEqual(await readdir(join(root, 'etc/netplan')), []);
    assert.equal(await exists(join(root, 'etc/hostname')), false);
    assert.equal(await read(root, 'etc/machine-id'), '');
    assert.equal(await exists(join(root, 'var/lib/dbus/machine-id')), false);
    assert.deepEqual(await readdir(join(root, 'etc/udev/rules.d')), ['99-local.rules']);
    assertHostSpecificCleaned(root);
    assert.equal(await read(root, 'etc/ssh/ssh_host_ed25519_key'), 'PRIVATE ed25519\n', 'keep policy keeps keys');
    const ro = await read(root, 'etc/sysconfig/readonly-root');
    for (const l of ['READONLY=yes', 'TEMPORARY_STATE=yes', 'RW_MOUNT=/var/lib/stateless/writable', 'STATE_MOUNT=/var/lib/stateless/state',
      'SLAVE_MOUNTS=yes', 'CLIENTSTATE=10.0.0.1:/var/lib/netroot/state', '#RW_LABEL=stateless-rw', '#STATE_LABEL=stateless-state']) {
      assert.ok(ro.split('\n').includes(l), `readonly-root has ${l}`);
    }
    const rwtab = (await read(root, 'etc/rwtab.d/netroot')).split('\n').filter((l) => !l.startsWith('#') && l);
    assert.deepEqual(rwtab, ['files\t/etc/localtime', 'dirs\t/var/lock', 'files\t/var/lib/postfix/master.lock', 'dirs\t/var/lib/gssproxy']);
    assert.match(await read(root, 'etc/statetab.d/netroot'), /^\/var\/log$/m);
    for (const d of ['var/lib/stateless/writable', 'var/lib/stateless/state', 'proc', 'sys', 'dev', 'run', 'tmp']) {
      assert.ok((await lstat(join(root, d))).isDirectory(), d);
    }
    assert.equal((await stat(join(root, 'tmp'))).mode & 0o7777, 0o1777);
    // Debian-like root: netroot's portable implementation, enabled by symlink.
    assert.ok(await exists(join(root, 'usr/lib/netroot/readonly-root')));
    assert.equal(await readlink(join(root, 'etc/systemd/system/local-fs.target.wants/netroot-readonly-root.service')), '../netroot-readonly-root.service');
    assert.equal(await readlink(join(root, 'etc/systemd/system/multi-user.target.wants/netroot-booted.service')), '../netroot-booted.service');
    assert.match(await read(root, 'etc/netroot/booted.conf'), /^NETROOT_SERVER=10\.0\.0\.1:8080$/m);
    assert.equal((await stat(join(root, 'usr/lib/netroot/booted'))).mode & 0o777, 0o755);
    assert.ok(reports.find((r) => r.step === 'hostname')!.changed.includes('/etc/hostname'));
    assert.deepEqual(reports.find((r) => r.step === 'dhcp-leases')!.changed, [
      '/var/lib/dhclient/dhclient--eth0.lease', '/var/lib/dhclient/dhclient6.leases',
      '/var/lib/dhcp/dhclient.eth0.leases', '/var/lib/dhcp/dhclient.leases',
      '/var/lib/dhcpcd/duid', '/var/lib/dhcpcd/eth0.lease',
      '/var/lib/NetworkManager/dhclient-8f1c2d4e-0000-4000-8000-000000000001-eth0.lease',
      '/var/lib/NetworkManager/internal-8f1c2d4e-0000-4000-8000-000000000001-eth0.lease',
      '/var/lib/NetworkManager/secret_key',
      '/var/lib/systemd/network/dhcp-server-lease',
    ]);
    assert.deepEqual(reports.find((r) => r.step === 'sysconfig-hostname')!.changed, ['/etc/sysconfig/network']);
    // Untouched: symlinks are not followed to the server's files.
    assert.equal(await readlink(join(root, 'etc/localtime')), '/usr/share/zoneinfo/UTC');
  });
});

test('makeStateless is idempotent: a second run changes nothing in the cleanup steps', async () => {
  await withRoot(async (root) => {
    const opts = { state: diskless, hostKeys: 'keep', bootReport: null } as const;
    await makeStateless(root, opts);
    const again = await makeStateless(root, opts);
    for (const r of again.filter((r) => !['readonly-config', 'portable-readonly-root'].includes(r.step))) {
      assert.deepEqual(r.changed, [], r.step);
    }
  });
});

test('local-disk state mode writes labels and an empty CLIENTSTATE', async () => {
  await withRoot(async (root) => {
    await makeStateless(root, { state: { kind: 'local', rwLabel: 'nr-rw', stateLabel: 'nr-state' }, hostKeys: 'keep', bootReport: null });
    const ro = (await read(root, 'etc/sysconfig/readonly-root')).split('\n');
    assert.ok(ro.includes('RW_LABEL=nr-rw') && ro.includes('STATE_LABEL=nr-state') && ro.includes('CLIENTSTATE='));
    assert.equal(await exists(join(root, 'etc/netroot/booted.conf')), false);
  });
});

test('a RHEL root keeps its own readonly-root; netroot installs no portable one', async () => {
  await withRoot(async (root) => {
    await makeStateless(root, { state: diskless, hostKeys: 'keep', bootReport: null });
    assert.equal(await exists(join(root, 'usr/lib/netroot/readonly-root')), false);
    assert.ok(await exists(join(root, 'etc/rwtab.d/netroot')));
  }, { rhelReadonlyRoot: true });
});

test('host key policy "state" leaves empty placeholders, lists each key in statetab, installs the key unit', async () => {
  await withRoot(async (root) => {
    const reports = await makeStateless(root, { state: diskless, hostKeys: 'state', bootReport: null, statetab: ['/var/lib/myapp'], rwtab: [{ type: 'empty', path: '/var/cache/x' }] });
    for (const k of ['ssh_host_ed25519_key', 'ssh_host_ed25519_key.pub', 'ssh_host_rsa_key', 'ssh_host_rsa_key.pub']) {
      assert.equal(await read(root, `etc/ssh/${k}`), '', `${k} is an empty placeholder`);
      assert.equal((await stat(join(root, `etc/ssh/${k}`))).mode & 0o777, k.endsWith('.pub') ? 0o644 : 0o600, k);
    }
    assert.equal(await read(root, 'etc/ssh/sshd_config'), 'PermitRootLogin no\n');
    const st = (await read(root, 'etc/statetab.d/netroot')).split('\n');
    for (const p of ['/var/log', '/var/lib/myapp', '/etc/ssh/ssh_host_ed25519_key', '/etc/ssh/ssh_host_rsa_key.pub']) assert.ok(st.includes(p), p);
    assert.match(await read(root, 'etc/rwtab.d/netroot'), /^empty\t\/var\/cache\/x$/m);
    assert.equal(await read(root, 'usr/lib/netroot/hostkeys'), HOSTKEYS_SCRIPT);
    assert.equal((await stat(join(root, 'usr/lib/netroot/hostkeys'))).mode & 0o777, 0o755);
    assert.equal(await readlink(join(root, 'etc/systemd/system/sysinit.target.wants/netroot-hostkeys.service')), '../netroot-hostkeys.service');
    assert.deepEqual(reports.find((r) => r.step === 'ssh-host-keys')!.changed.sort(),
      ['/etc/ssh/ssh_host_ed25519_key', '/etc/ssh/ssh_host_ed25519_key.pub', '/etc/ssh/ssh_host_rsa_key', '/etc/ssh/ssh_host_rsa_key.pub']);
    // Run again (a re-pull linked to this tree): the placeholders are already there.
    const again = await makeStateless(root, { state: diskless, hostKeys: 'state', bootReport: null });
    assert.deepEqual(again.find((r) => r.step === 'ssh-host-keys')!.changed, []);
    assert.match(await read(root, 'etc/statetab.d/netroot'), /^\/etc\/ssh\/ssh_host_rsa_key$/m);
    assert.ok(await exists(join(root, 'etc/systemd/system/netroot-hostkeys.service')));
  });
});

test('host key policy "keep" (explicit) keeps the golden host\'s keys and installs no key unit', async () => {
  await withRoot(async (root) => {
    await makeStateless(root, { state: diskless, hostKeys: 'keep', bootReport: null });
    assert.equal(await read(root, 'etc/ssh/ssh_host_rsa_key'), 'PRIVATE rsa\n');
    assert.doesNotMatch(await read(root, 'etc/statetab.d/netroot'), /ssh_host/);
    assert.equal(await exists(join(root, 'usr/lib/netroot/hostkeys')), false);
    assert.equal(await exists(join(root, 'etc/systemd/system/netroot-hostkeys.service')), false);
  });
});

test('a RHEL root gets the key unit too (its sshd-keygen cannot fill a bind-mounted placeholder)', async () => {
  await withRoot(async (root) => {
    await makeStateless(root, { state: diskless, hostKeys: 'state', bootReport: null });
    assert.equal(await exists(join(root, 'usr/lib/netroot/readonly-root')), false);
    assert.ok(await exists(join(root, 'usr/lib/netroot/hostkeys')));
    assert.match(HOSTKEYS_UNIT, /^Before=.*\bsshd-keygen@rsa\.service\b/m);
    assert.match(HOSTKEYS_UNIT, /^After=.*\breadonly-root\.service\b/m);
  }, { rhelReadonlyRoot: true });
});

const unitList = (unit: string, key: string) => (new RegExp(`^${key}=(.*)$`, 'm').exec(unit)?.[1] ?? '').split(/\s+/);

test('host key unit: after every readonly-root flavour (EL7 rhel-readonly too), before every release\'s sshd-keygen', () => {
  for (const u of READONLY_ROOT_UNITS) assert.ok(unitList(HOSTKEYS_UNIT, 'After').includes(u), u);
  for (const u of ['sshd-keygen.service', 'sshd-keygen@rsa.service', 'sshd-keygen@ecdsa.service', 'sshd-keygen@ed25519.service', ...SSHD_KEYGEN_UNITS]) {
    assert.ok(unitList(HOSTKEYS_UNIT, 'Before').includes(u), u);
  }
});

test('EL7 root (rhel-readonly only): native readonly-root, no portable unit; the host name unit runs before it', async () => {
  await withRoot(async (root) => {
    await mkdir(join(root, 'usr/lib/systemd/system'), { recursive: true });
    await writeFile(join(root, 'usr/lib/systemd/rhel-readonly'), '#!/bin/bash\n', { mode: 0o755 });
    await writeFile(join(root, 'usr/lib/systemd/system/rhel-readonly.service'), '[Unit]\n');
    const reports = await makeStateless(root, { state: diskless, hostKeys: 'state', bootReport: null });
    assert.equal(await exists(join(root, 'usr/lib/netroot/readonly-root')), false);
    assert.deepEqual(reports.find((r) => r.step === 'hostname-unit')!.changed, [
      '/usr/lib/netroot/hostname', '/etc/systemd/system/netroot-hostname.service', '/etc/systemd/system/local-fs.target.wants/netroot-hostname.service',
    ]);
    for (const u of ['rhel-readonly.service', 'readonly-root.service']) assert.ok(unitList(HOSTNAME_UNIT, 'Before').includes(u), u);
    assert.match(await read(root, 'usr/lib/netroot/hostname'), /cmdline_arg netroot\.fqdn/);
  });
});

test('a Debian-like root (portable unit) gets no host name unit: the portable unit reads netroot.fqdn= itself', async () => {
  await withRoot(async (root) => {
    const reports = await makeStateless(root, { state: diskless, hostKeys: 'keep', bootReport: null });
    assert.equal(reports.find((r) => r.step === 'hostname-unit'), undefined);
    assert.equal(await exists(join(root, 'etc/systemd/system/netroot-hostname.service')), false);
  });
});

test('steps never follow an absolute symlink out of the root', async () => {
  await withRoot(async (root) => {
    const outside = join(root, '..', 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'ifcfg-eth9'), 'server file\n');
    await writeFile(join(outside, 'hostname'), 'server\n');
    await rm(join(root, 'etc/sysconfig/network-scripts'), { recursive: true });
    await symlink(outside, join(root, 'etc/sysconfig/network-scripts'));
    await rm(join(root, 'etc/hostname'));
    await symlink(join(outside, 'hostname'), join(root, 'etc/hostname'));
    await rm(join(root, 'etc/machine-id'));
    await symlink(join(outside, 'machine-id'), join(root, 'etc/machine-id'));
    await writeFile(join(outside, 'machine-id'), 'server-id\n');
    await makeStateless(root, { state: diskless, hostKeys: 'keep', bootReport: null });
    assert.equal(await readFile(join(outside, 'ifcfg-eth9'), 'utf8'), 'server file\n');
    assert.equal(await readFile(join(outside, 'hostname'), 'utf8'), 'server\n');
    assert.equal(await readFile(join(outside, 'machine-id'), 'utf8'), 'server-id\n');
    assert.equal(await read(root, 'etc/machine-id'), '', 'the symlink itself was replaced by an empty file');
  });
});

test('writes never go through a hard link into a previous version', async () => {
  await withRoot(async (root) => {
    const pullKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPullPullPullPullPullPullPullPullPullPull0 netroot';
    await writeFile(join(root, 'root/.ssh/authorized_keys'), `${pullKey}\n`);
    const prev = join(root, '..', 'prev');
    await cp(root, prev, { recursive: true, verbatimSymlinks: true });
    await rm(root, { recursive: true });
    // Link every regular file, as rsync --link-dest does.
    const { execFileSync } = await import('node:child_process');
    execFileSync('cp', ['-al', prev, root]);
    await makeStateless(root, { state: diskless, hostKeys: 'state', bootReport: null, removeKeys: [pullKey] });
    assert.equal(await read(root, 'root/.ssh/authorized_keys'), '');
    assert.equal(await readFile(join(prev, 'root/.ssh/authorized_keys'), 'utf8'), `${pullKey}\n`);
    assert.equal(await readFile(join(prev, 'etc/machine-id'), 'utf8'), '0123456789abcdef0123456789abcdef\n');
    assert.equal(await readFile(join(prev, 'etc/ssh/ssh_host_rsa_key'), 'utf8'), 'PRIVATE rsa\n');
    assert.match(await readFile(join(prev, 'etc/fstab'), 'utf8'), /UUID=1234/);
    assert.match(await readFile(join(prev, 'etc/network/interfaces'), 'utf8'), /eth0/);
  });
});

test('invalid settings are refused before the root is touched, naming the field', async () => {
  await withRoot(async (root) => {
    await assert.rejects(makeStateless(root, { state: { kind: 'diskless', server: '10.0.0.1', stateExport: '../x' }, hostKeys: 'keep', bootReport: null }), /state\.stateExport/);
    await assert.rejects(makeStateless(root, { state: diskless, hostKeys: 'keep', bootReport: { server: 'a b', port: 1 } }), /bootReport\.server/);
    assert.ok(await exists(join(root, 'etc/hostname')));
  });
});

test('the boot marker cannot match systemd\'s Starting line for the booted unit (docs/lab.md, trap 10)', () => {
  const desc = /Description=(.*)/.exec(BOOTED_UNIT)![1]!;
  const starting = `Starting netroot-booted.service - ${desc}...`;
  assert.equal(starting.toLowerCase().includes(BOOT_MARKER.toLowerCase()), false);
});

test('the portable scripts are valid POSIX sh (dash -n) and carry no template escapes', async () => {
  const { READONLY_ROOT_SCRIPT, BOOTED_SCRIPT } = await import('./portable.js');
  const { runCommand } = await import('../../runner.js');
  for (const s of [READONLY_ROOT_SCRIPT, BOOTED_SCRIPT, HOSTKEYS_SCRIPT]) {
    await runCommand(['sh', '-n'], { input: s });
    assert.equal(s.includes('\\${'), false);
    assert.match(s, /\$\{/);
  }
  assert.match(BOOTED_SCRIPT, new RegExp(`echo "${BOOT_MARKER} mac=\\$mac"`));
});
