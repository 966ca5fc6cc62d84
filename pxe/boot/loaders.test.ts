import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

test('boot loaders are shared with TFTP transfer workers, not copied per transfer (RSS grew under fuzzing)', async () => {
  const r = await discoverLoaders();
  const loaders = await loadLoaders(r);
  assert.ok(loaders.size > 0);
  for (const f of r.found) {
    const b = loaders.get(f.name)!;
    assert.ok(b.buffer instanceof SharedArrayBuffer, `${f.name} is in shared memory`);
    // The whole SharedArrayBuffer is the file: what a worker receives is exactly its bytes.
    assert.equal(b.byteOffset, 0);
    assert.equal(b.buffer.byteLength, f.size);
    assert.deepEqual(b, readFileSync(f.path));
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
