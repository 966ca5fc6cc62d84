/** `netroot install --root DIR`: files, idempotence, dry run, Ganesha include, and systemd-analyze verify on the unit. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BIN, removeDir } from '../../helpers/service.js';
import { loadConfig } from '../../../server/config/load.js';
import { osFamily, packagesFor } from '../../../server/install/install.js';

const exec = promisify(execFile);
const netroot = (args: string[]) => exec(process.execPath, [BIN, ...args]);

test('install into a temporary root: files, modes, idempotent, dry run changes nothing', async () => {
  const root = mkdtempSync(join(tmpdir(), 'nrinst-'));
  try {
    const dry = await netroot(['install', '--root', root, '--dry-run']);
    assert.match(dry.stdout, /would create \/etc\/netroot\/netroot\.json/);
    assert.ok(!existsSync(join(root, 'etc')), 'dry run writes nothing');

    const first = await netroot(['install', '--root', root]);
    assert.match(first.stdout, /skip packages \(--root .*\): apt-get install ipxe pxelinux syslinux-common rsync openssh-client nfs-kernel-server/);
    assert.match(first.stdout, /^create \/etc\/systemd\/system\/netroot\.service$/m);
    const cfg = join(root, 'etc/netroot/netroot.json');
    assert.equal(statSync(cfg).mode & 0o777, 0o640);
    assert.equal(statSync(join(root, 'var/lib/netroot')).mode & 0o777, 0o750);
    assert.ok(statSync(join(root, 'etc/exports.d')).isDirectory());
    // The CLI goes on the PATH for good: /usr/local/bin/netroot -> this checkout's bin/netroot.js.
    assert.equal(readlinkSync(join(root, 'usr/local/bin/netroot')), BIN);
    assert.match(first.stdout, /^link \/usr\/local\/bin\/netroot -> /m);
    // The commented example is a valid config as it stands.
    const loaded = loadConfig({ path: cfg, env: {} });
    assert.equal(loaded.config.dataDir, '/var/lib/netroot');
    assert.equal(loaded.config.nfs.backend, 'kernel');
    assert.equal(loaded.config.nfs.rootExport, 'nodes', 'the root goes to registered node addresses only');
    assert.deepEqual(loaded.config.dhcp.interfaces, [], 'DHCP stays off until an interface is named');

    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('"level": "info"', '"level": "debug"'));
    const second = await netroot(['install', '--root', root]);
    assert.match(second.stdout, /kept \/etc\/netroot\/netroot\.json \(exists; not overwritten\)/);
    assert.match(second.stdout, /unchanged \/etc\/systemd\/system\/netroot\.service/);
    assert.match(second.stdout, /link present \/usr\/local\/bin\/netroot/);
    assert.doesNotMatch(second.stdout, /^(create|update)/m);
    assert.match(readFileSync(cfg, 'utf8'), /"level": "debug"/);
  } finally {
    removeDir(root);
  }
});

test('install for Ganesha adds the include once', async () => {
  const root = mkdtempSync(join(tmpdir(), 'nrinst-'));
  try {
    mkdirSync(join(root, 'etc/ganesha'), { recursive: true });
    writeFileSync(join(root, 'etc/ganesha/ganesha.conf'), 'NFS_CORE_PARAM { Protocols = 4; }');
    await netroot(['install', '--root', root, '--nfs', 'ganesha']);
    await netroot(['install', '--root', root, '--nfs', 'ganesha']);
    const conf = readFileSync(join(root, 'etc/ganesha/ganesha.conf'), 'utf8');
    assert.equal(conf.split('%include "/etc/ganesha/netroot.conf"').length, 2, conf);
    assert.ok(conf.startsWith('NFS_CORE_PARAM { Protocols = 4; }\n'));
    assert.ok(existsSync(join(root, 'etc/ganesha/netroot.conf')));
    assert.match(readFileSync(join(root, 'etc/systemd/system/netroot.service'), 'utf8'), /ReadWritePaths=\/var\/lib\/netroot \/etc\/ganesha \/run\/ganesha/);
  } finally {
    removeDir(root);
  }
});

test('systemd-analyze verify passes on the unit', async () => {
  const root = mkdtempSync(join(tmpdir(), 'nrinst-'));
  try {
    await netroot(['install', '--root', root, '--no-packages']);
    const unit = join(root, 'etc/systemd/system/netroot.service');
    const r = await exec('systemd-analyze', ['verify', unit]).catch((e: { stderr: string; code: number }) => e);
    const stderr = (r as { stderr: string }).stderr ?? '';
    // Only lines about our unit count (verify also reads the host's other units).
    const ours = stderr.split('\n').filter((l) => l.includes('netroot.service'));
    assert.deepEqual(ours, [], stderr);
    assert.equal((r as { code?: number }).code ?? 0, 0, stderr);
  } finally {
    removeDir(root);
  }
});

test('distribution families and their packages', () => {
  assert.equal(osFamily('ID=debian\nVERSION_ID="12"'), 'debian');
  assert.equal(osFamily('ID=ubuntu\nID_LIKE=debian'), 'debian');
  assert.equal(osFamily('ID="rocky"\nID_LIKE="rhel centos fedora"'), 'rhel');
  assert.throws(() => osFamily('ID=alpine'), /unsupported distribution/);
  assert.deepEqual(packagesFor('rhel', 'ganesha'), ['ipxe-bootimgs-x86', 'syslinux-tftpboot', 'rsync', 'openssh-clients', 'nfs-ganesha', 'nfs-ganesha-vfs']);
});
