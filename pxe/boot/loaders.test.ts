import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { describeMissing, discoverLoaders, loadLoaders, loaderForArch } from './loaders.js';

test('configured paths replace the default search; missing ones are reported with their package', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'netroot-loaders-'));
  try {
    await writeFile(join(dir, 'u.kpxe'), 'x'.repeat(10));
    const spec = [
      { name: 'undionly.kpxe', paths: ['/nonexistent/undionly.kpxe'], package: 'ipxe', purpose: 'BIOS' },
      { name: 'ipxe.efi', paths: ['/nonexistent/ipxe.efi'], package: 'ipxe', purpose: 'UEFI' },
    ];
    const r = await discoverLoaders({ 'undionly.kpxe': join(dir, 'u.kpxe') }, spec);
    assert.deepEqual(r.found, [{ name: 'undionly.kpxe', path: join(dir, 'u.kpxe'), size: 10 }]);
    assert.deepEqual(describeMissing(r), ['boot loader ipxe.efi (UEFI) not found at /nonexistent/ipxe.efi: install Debian package ipxe or configure its path']);
    assert.equal((await loadLoaders(r)).get('undionly.kpxe')?.length, 10);
    await assert.rejects(discoverLoaders({ '../x': '/x' }, spec), /loaders\.\.\.\/x: loader names are plain file names/);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('loaders sit in shared memory: transfer workers share them instead of copying one per transfer', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'netroot-loaders-'));
  try {
    const bytes = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
    await writeFile(join(dir, 'l.efi'), bytes);
    const r = await discoverLoaders({ 'l.efi': join(dir, 'l.efi') }, []);
    const data = (await loadLoaders(r)).get('l.efi')!;
    assert.ok(data.buffer instanceof SharedArrayBuffer);
    assert.deepEqual(data, bytes);
    // What the worker receives is the same memory, not a copy.
    const { port1, port2 } = new MessageChannel();
    const got = await new Promise<Buffer>((res) => {
      port2.once('message', (m: Uint8Array) => res(Buffer.from(m.buffer, m.byteOffset, m.byteLength)));
      port1.postMessage(data);
    });
    port1.close();
    data[0] = 99;
    assert.equal(got[0], 99);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('Debian packages ipxe, pxelinux and syslinux-common provide every default loader', async () => {
  const r = await discoverLoaders();
  assert.deepEqual(describeMissing(r), [], 'install ipxe pxelinux syslinux-common (scripts/deps/tftp.txt)');
  assert.deepEqual(r.found.map((f) => f.name).sort(), ['ipxe.efi', 'ldlinux.c32', 'pxelinux.0', 'snponly.efi', 'undionly.kpxe']);
});

test('loader by client architecture (option 93)', () => {
  assert.equal(loaderForArch(0), 'undionly.kpxe');
  assert.equal(loaderForArch(7), 'ipxe.efi');
  assert.equal(loaderForArch(9), 'ipxe.efi');
  assert.equal(loaderForArch(6), null);
});
