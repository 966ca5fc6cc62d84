import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBootTftpHandler, macOfTftpPath } from './tftp-files.js';
import { createTftpReporter } from './tftp-events.js';
import { fixtureTarget } from './fixture.test-util.js';
import type { BootTarget } from './types.js';
import type { BootEvent, Discovery } from './events.js';
import type { TftpFile } from '../tftp/files.js';

const client = { address: '10.52.0.10', port: 2000 };

async function bytes(f: TftpFile | null): Promise<string | null> {
  if (!f) return null;
  if ('data' in f) return f.data.toString();
  const parts: Buffer[] = [];
  for await (const c of f.open()) parts.push(c as Buffer);
  return Buffer.concat(parts).toString();
}

test('boot TFTP handler: loaders, pxelinux.cfg, kernel/initrd by MAC, fallback, discovery', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'netroot-boottftp-'));
  try {
    await writeFile(join(dir, 'vmlinuz'), 'KERNEL');
    await writeFile(join(dir, 'initrd'), 'INITRD');
    const targets = new Map<string, BootTarget>([
      ['52:54:00:12:34:56', fixtureTarget({ bootMode: 'pxelinux' }, { kernelPath: join(dir, 'vmlinuz'), initrdPath: join(dir, 'initrd') })],
      ['52:54:00:00:00:02', fixtureTarget({ mac: '52:54:00:00:00:02', bootMode: 'ipxe' })],
    ]);
    const seen: Discovery[] = [];
    const h = createBootTftpHandler({
      directory: {
        // As the store directory: a version asked for is served only if it is the node's.
        lookup: async (mac, version) => {
          const t = targets.get(mac);
          if (!t || version === undefined) return t ?? null;
          return t.image?.version === version ? t : { ...t, image: null, requestedVersion: version };
        },
      },
      loaders: new Map([['undionly.kpxe', Buffer.from('LOADER')]]),
      pxelinux: { nfsServer: '10.52.0.1' },
      fallback: async (p) => (p === 'pxelinux.cfg/default' || p === '/pxelinux.cfg/01-52-54-00-99-99-99' ? { size: 1, data: Buffer.from('D') } : null),
      discovery: (d) => seen.push(d),
    });
    assert.equal(await bytes(await h('/undionly.kpxe', client)), 'LOADER');
    assert.match((await bytes(await h('pxelinux.cfg/01-52-54-00-12-34-56', client)))!, /KERNEL boot\/01-52-54-00-12-34-56\/3\/vmlinuz/);
    assert.equal(await bytes(await h('pxelinux.cfg/01-52-54-00-00-00-02', client)), null, 'an iPXE-mode node gets no pxelinux config');
    assert.equal(await bytes(await h('boot/01-52-54-00-12-34-56/3/vmlinuz', client)), 'KERNEL');
    assert.equal(await bytes(await h('boot/01-52-54-00-12-34-56/3/initrd.img', client)), 'INITRD');
    assert.equal(await bytes(await h('boot/01-52-54-00-12-34-56/2/vmlinuz', client)), null, 'only the version the config named (here: not the node version)');
    assert.equal(await bytes(await h('boot/01-52-54-00-12-34-56/vmlinuz', client)), null, 'no version: not a boot file');
    assert.equal(await bytes(await h('boot/01-52-54-00-12-34-56/3/other', client)), null);
    assert.equal(await bytes(await h('/pxelinux.cfg/01-52-54-00-99-99-99', client)), 'D', 'unknown MAC: falls through to the static root');
    assert.deepEqual(seen.map((d) => [d.mac, d.via]), [['52:54:00:99:99:99', 'tftp']]);
    assert.equal(await bytes(await h('pxelinux.cfg/default', client)), 'D');
    await assert.rejects(h('../etc/passwd', client), /Access violation/);
    // A link planted in the version's tree (the golden host put it there) is refused, not followed.
    await symlink('/etc/hostname', join(dir, 'evil'));
    targets.set('52:54:00:12:34:57', fixtureTarget({ mac: '52:54:00:12:34:57', bootMode: 'pxelinux' }, { kernelPath: join(dir, 'evil'), initrdPath: join(dir, 'initrd') }));
    await assert.rejects(h('boot/01-52-54-00-12-34-57/3/vmlinuz', client), /Access violation/);
    assert.equal(await bytes(await h('boot/01-52-54-00-12-34-57/3/initrd.img', client)), 'INITRD');
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('TFTP transfers become tftp.file events for the MAC in the path or the client address', () => {
  const events: BootEvent[] = [];
  const report = createTftpReporter((e) => events.push(e), (ip) => (ip === '10.52.0.10' ? '52:54:00:12:34:56' : null), (mac) => (mac === '52:54:00:00:00:02' ? 'centos7' : null));
  const rec = { client, file: 'undionly.kpxe', mode: 'octet', result: 'ok' as const, bytes: 10, ms: 3, blksize: 1468, windowsize: 4, blocks: 1, dataPackets: 1, retransmits: 0, ignoredAcks: 0 };
  report(rec);
  report({ ...rec, file: 'pxelinux.cfg/01-52-54-00-00-00-02', client: { address: '10.9.9.9', port: 1 } });
  report({ ...rec, client: { address: '10.9.9.9', port: 1 } });
  report({ ...rec, file: 'boot/01-52-54-00-00-00-02/v7/vmlinuz', client: { address: '10.9.9.9', port: 1 } });
  assert.deepEqual(events.map((e) => [e.mac, e.kind, e.detail.file]), [
    ['52:54:00:12:34:56', 'tftp.file', 'undionly.kpxe'],
    ['52:54:00:00:00:02', 'tftp.file', 'pxelinux.cfg/01-52-54-00-00-00-02'],
    ['52:54:00:00:00:02', 'tftp.file', 'boot/01-52-54-00-00-00-02/v7/vmlinuz'],
  ]);
  // A boot file names the version fetched: retention keeps it while the node may boot it.
  assert.deepEqual([events[2]!.detail.image, events[2]!.detail.version], ['centos7', 'v7']);
  assert.equal(macOfTftpPath('boot/01-AA-BB-CC-DD-EE-FF/v1/vmlinuz'), 'aa:bb:cc:dd:ee:ff');
  assert.equal(macOfTftpPath('boot/01-AA-BB-CC-DD-EE-FF/vmlinuz'), null);
});
