/**
 * CentOS 7, Rocky 8 and Rocky 9 golden hosts (fixture roots with each release's files, see
 * test/fixtures/golden/el/releases.ts) pulled through the real pipeline: rsync over SSH from a
 * real sshd, every stateless step, the release's (fake) dracut on the golden host. The produced
 * tree's relevant files are compared with test/fixtures/golden/el/expected/<release>.txt
 * (NETROOT_UPDATE_EXPECTED=1 rewrites them). Then the state mount: netroot's DHCP answer to the
 * initramfs's DISCOVER and the node's kernel command line go through the model of dracut and
 * RHEL's readonly-root (el-model.ts), which must mount the node's own state/<fqdn>, the directory
 * netroot exports to that node alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { lstat, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildReleaseRoot, RPMDB_ROWS } from '../../fixtures/golden/el/build-release.js';
import { readRpmdbRows } from '../../fixtures/golden/el/rpmdb.js';
import { isWalDatabase } from '../../../exports/image/stateless/rpmdb.js';
import type { ReleaseId } from '../../fixtures/golden/el/releases.js';
import { pullVersion, versionPaths, READONLY_ROOT_UNITS, SSHD_KEYGEN_UNITS, type ImageSettings } from '../../../exports/image/index.js';
import { buildExportTable } from '../../../exports/nfs/table.js';
import { kernelCmdline } from '../../../pxe/boot/cmdline.js';
import { DhcpHandler } from '../../../pxe/dhcp/handler.js';
import { resolveOptions } from '../../../pxe/dhcp/config.js';
import { decode, packetMac } from '../../../pxe/dhcp/packet.js';
import { Opt } from '../../../pxe/dhcp/constants.js';
import type { BootTarget } from '../../../pxe/boot/types.js';
import { startLab } from './lab.js';
import { enabledUnits, hostnameAtReadonlyRoot, initramfsHostname, networkImpl, readonlyRootState, unitValues } from './el-model.js';

const SERVER = '10.77.0.1';
const STATE_DIR = '/var/lib/netroot/state';
const FQDN = 'node1.lab.example';
const NODE_IP = '10.77.0.113';

const image = (name: string): ImageSettings => ({
  name, host: 'golden1', excludes: [], rwtab: [], statetab: [], kernelArgs: '', drivers: [],
  state: { kind: 'diskless', server: SERVER, stateExport: STATE_DIR }, hostKeys: 'state', initramfs: 'golden',
});

const exists = (p: string) => lstat(p).then(() => true, () => false);
async function listing(root: string, rel: string): Promise<string> {
  const names = await readdir(join(root, rel)).catch(() => null);
  return names === null ? '(absent)' : names.sort().join(' ') || '(empty)';
}
async function file(root: string, rel: string): Promise<string> {
  const t = await readFile(join(root, rel), 'utf8').catch(() => null);
  if (t === null) return `${rel}: (absent)`;
  return `${rel}:${t === '' ? ' (empty)' : `\n${t.replace(/\n$/, '').split('\n').map((l) => `  | ${l}`).join('\n')}`}`;
}
async function unitTree(root: string): Promise<string[]> {
  const base = join(root, 'etc/systemd/system');
  const out: string[] = [];
  const walk = async (rel: string) => {
    for (const n of (await readdir(join(base, rel)).catch(() => [] as string[])).sort()) {
      const p = join(base, rel, n);
      const st = await lstat(p);
      if (st.isSymbolicLink()) out.push(`${rel}${n} -> ${await readlink(p)}`);
      else if (st.isDirectory()) await walk(`${rel}${n}/`);
      else out.push(`${rel}${n}`);
    }
  };
  await walk('');
  return out;
}

/** The produced tree's files that netroot reads, writes or removes, as text. */
async function snapshot(id: ReleaseId, root: string, manifest: { initramfs: { dracutModules: string[]; drivers?: string[] } }, initramfs: string, log: string[]): Promise<string> {
  const ssh = [];
  for (const n of (await readdir(join(root, 'etc/ssh'))).sort()) {
    const st = await lstat(join(root, 'etc/ssh', n));
    ssh.push(`  ${n} ${st.size} bytes, mode ${(st.mode & 0o777).toString(8)}`);
  }
  const args = /^Arguments: (.*)$/m.exec(initramfs)?.[1]?.replace(/netroot-initramfs-\w+\.img/, 'netroot-initramfs-X.img') ?? '?';
  return [
    `# ${id}: what a pull made of the golden tree (test/integration/golden/el-releases.test.ts)`,
    '## written by netroot',
    ...(await Promise.all(['etc/sysconfig/readonly-root', 'etc/rwtab.d/netroot', 'etc/statetab.d/netroot', 'etc/selinux/config', 'etc/fstab',
      'etc/sysconfig/network'].map((f) => file(root, f)))),
    '## kept as the release ships them',
    ...(await Promise.all(['etc/rwtab', 'etc/statetab', 'etc/redhat-release'].map((f) => file(root, f)))),
    '## cleaned up',
    `etc/hostname: ${(await exists(join(root, 'etc/hostname'))) ? 'present' : '(absent)'}`,
    `etc/machine-id: ${JSON.stringify(await readFile(join(root, 'etc/machine-id'), 'utf8'))}`,
    ...(await Promise.all(['var/lib/rpm', 'etc/sysconfig/network-scripts', 'etc/NetworkManager/system-connections', 'var/lib/NetworkManager',
      'var/lib/dhclient', 'etc/udev/rules.d'].map(async (d) => `${d}/: ${await listing(root, d)}`))),
    'etc/ssh/:', ...ssh,
    '## units and scripts netroot installed',
    ...(await unitTree(root)).map((l) => `etc/systemd/system/${l}`),
    `usr/lib/netroot/: ${await listing(root, 'usr/lib/netroot')}`,
    '## initramfs (the release\'s dracut on the golden host)',
    `arguments: ${args}`,
    `dracut modules: ${manifest.initramfs.dracutModules.join(' ')}`,
    `drivers: ${(manifest.initramfs.drivers ?? []).join(' ') || '(none)'}`,
    '## pull log',
    ...log.filter((l) => /^(stateless |selinux:|initramfs network:|drivers:|not copied)/.test(l)),
    '',
  ].join('\n');
}

/** The release's own readonly-root unit (netroot's portable one must not be there). */
async function releaseReadonlyUnit(root: string): Promise<string> {
  const found = [];
  for (const u of READONLY_ROOT_UNITS) if (await exists(join(root, 'usr/lib/systemd/system', u))) found.push(u);
  assert.equal(found.length, 1, `one readonly-root unit: ${found.join(' ')}`);
  assert.equal(await exists(join(root, 'etc/systemd/system/netroot-readonly-root.service')), false, 'no portable unit beside RHEL\'s');
  return found[0]!;
}

/** netroot's DHCP OFFER to dracut's dhclient DISCOVER (a capture) for a node registered as FQDN. */
async function dhcpNames(fqdn: string): Promise<{ hostName: string | null; domain: string | null }> {
  const discover = decode(readFileSync(join(process.cwd(), 'test/fixtures/dhcp/initramfs-dhclient-01-dhcp-discover.bin')));
  const mac = packetMac(discover)!;
  const target: BootTarget = {
    node: { mac, fqdn, ipv4: NODE_IP, bootMode: 'ipxe', enabled: true, kernelArgs: '', image: 'el', stateMode: 'nfs' },
    image: { name: 'el', version: 'v1', kernelPath: '/k', initrdPath: '/i', rootPath: '/var/lib/netroot/images/el/v1/root', kernelArgs: '' },
  };
  const h = new DhcpHandler(
    resolveOptions({ mode: 'full', interfaces: ['eth1'], httpBase: 'http://10.77.0.1:8080/', subnets: [{ cidr: '10.77.0.0/24', router: '10.77.0.254', domain: 'site.example' }] }),
    { directory: { lookup: async (m) => (m === mac ? target : null) } },
  );
  const [offer] = await h.handle(discover, { ifname: 'eth1', ifAddresses: [SERVER], src: { address: '0.0.0.0', port: 68 }, localPort: 67 });
  assert.ok(offer, 'netroot answers the registered node');
  return { hostName: offer.packet.options.get(Opt.HostName) ?? null, domain: offer.packet.options.get(Opt.DomainName) ?? null };
}

for (const id of ['centos7', 'rocky8', 'rocky9'] as const) {
  test(`${id}: pulled over SSH; its tree as expected; the node mounts its own state/<fqdn>`, async (t) => {
    const lab = await startLab((d) => buildReleaseRoot(d, id));
    try {
      await lab.pin();
      const log: string[] = [];
      const rec = await pullVersion(lab.opts({ image: image(id), version: 'v1' }), { log: (l) => log.push(l) });
      const p = versionPaths(lab.imagesDir, id, rec.version);
      const manifest = JSON.parse(await readFile(p.manifest, 'utf8'));
      const root = p.root;

      await t.test('the produced tree matches the expected file', async () => {
        const got = await snapshot(id, root, manifest, await readFile(p.initramfs, 'utf8'), log);
        const path = join(process.cwd(), 'test/fixtures/golden/el/expected', `${id}.txt`);
        if (process.env.NETROOT_UPDATE_EXPECTED === '1') await writeFile(path, got);
        assert.equal(got, await readFile(path, 'utf8'));
      });

      await t.test('rpm database: readable on a read-only root (EL9: SQLite switched from WAL to the rollback journal, rows kept)', async () => {
        const files = (await readdir(join(root, 'var/lib/rpm'))).sort();
        assert.ok(!files.some((f) => f.startsWith('__db') || f.endsWith('-wal') || f.endsWith('-shm')), files.join(' '));
        if (!files.includes('rpmdb.sqlite')) return; // Berkeley DB (EL7, EL8): the seed's __db* removal is all
        assert.equal(await isWalDatabase(join(root, 'var/lib/rpm/rpmdb.sqlite')), false);
        assert.deepEqual(readRpmdbRows(join(root, 'var/lib/rpm/rpmdb.sqlite')), Array.from({ length: RPMDB_ROWS }, (_, i) => `package-${i}`));
      });

      await t.test('host keys: generated after the release\'s readonly-root, before its sshd-keygen units, for every key they check', async () => {
        const unit = await readFile(join(root, 'etc/systemd/system/netroot-hostkeys.service'), 'utf8');
        const readonly = await releaseReadonlyUnit(root);
        assert.ok(unitValues(unit, 'After').includes(readonly), `after ${readonly}`);
        const statetab = await readFile(join(root, 'etc/statetab.d/netroot'), 'utf8');
        for (const n of await readdir(join(root, 'usr/lib/systemd/system'))) {
          if (!n.startsWith('sshd-keygen') || n.endsWith('.target')) continue;
          const keygen = await readFile(join(root, 'usr/lib/systemd/system', n), 'utf8');
          const instances = n.includes('@') ? ['rsa', 'ecdsa', 'ed25519'].map((k) => n.replace('@', `@${k}`)) : [n];
          for (const inst of instances) {
            assert.ok(unitValues(unit, 'Before').includes(inst) && SSHD_KEYGEN_UNITS.includes(inst), `before ${inst}`);
            const k = inst.includes('@') ? inst.slice(inst.indexOf('@') + 1, -'.service'.length) : null;
            // Each key the unit's ConditionFileNotEmpty checks is a placeholder netroot-hostkeys fills first.
            for (const c of unitValues(keygen, 'ConditionFileNotEmpty')) {
              const key = c.replace(/^\|?!?/, '').replace('%i', k ?? '%i');
              assert.match(statetab, new RegExp(`^${key}$`, 'm'), `${inst} checks ${key}`);
              assert.equal((await lstat(join(root, key))).size, 0, `${key} is an empty placeholder in the image`);
            }
          }
        }
      });

      await t.test('state mount: netroot\'s DHCP answer + the node\'s command line -> RHEL\'s readonly-root mounts state/<fqdn>, exported to the node', async () => {
        const dhcp = await dhcpNames(FQDN);
        const impl = networkImpl(manifest.initramfs.dracutModules);
        assert.equal(impl, { centos7: 'network', rocky8: 'network-manager', rocky9: 'network-manager' }[id]);
        const cmdline = kernelCmdline({
          node: { mac: '52:54:00:77:00:10', fqdn: FQDN, ipv4: NODE_IP, bootMode: 'ipxe', enabled: true, kernelArgs: '', image: id },
          image: { name: id, version: rec.version, kernelPath: p.kernel, initrdPath: p.initramfs, rootPath: root, kernelArgs: '' },
        }, SERVER);
        const readonlyUnit = await releaseReadonlyUnit(root);
        const early = initramfsHostname(impl, dhcp, cmdline);
        assert.equal(early, FQDN, 'the initramfs names the node by its FQDN from netroot\'s DHCP answer alone');
        const name = await hostnameAtReadonlyRoot(root, readonlyUnit, early, cmdline);
        const state = await readonlyRootState(root, name);
        assert.equal(state.source, `${SERVER}:${STATE_DIR}/${FQDN}`);
        const table = buildExportTable({ imagesDir: '/var/lib/netroot/images', stateDir: STATE_DIR, nodeNetworks: [], nodes: [{ fqdn: FQDN, ipv4: NODE_IP, enabled: true, stateMode: 'nfs' }] });
        const entry = table.entries.find((e) => `${SERVER}:${e.path}` === state.source);
        assert.deepEqual(entry?.clients.map((c) => [c.host, c.access]), [[NODE_IP, 'rw']], 'exported read-write to this node only');
        assert.ok(state.paths.includes('/var/log') && state.paths.includes('/etc/ssh/ssh_host_ed25519_key'), state.paths.join(' '));
        // Another DHCP server (proxy mode) that names the node short and in another domain: the
        // initramfs gets it wrong, netroot-hostname.service puts the FQDN back before readonly-root.
        const wrong = initramfsHostname(impl, { hostName: 'node1', domain: 'corp.example' }, cmdline);
        assert.notEqual(wrong, FQDN);
        assert.equal((await readonlyRootState(root, await hostnameAtReadonlyRoot(root, readonlyUnit, wrong, cmdline))).source, `${SERVER}:${STATE_DIR}/${FQDN}`);
        assert.ok((await enabledUnits(root)).includes('netroot-hostname.service'));
      });
    } finally {
      await lab.stop();
    }
  });
}
