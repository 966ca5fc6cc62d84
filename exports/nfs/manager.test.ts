import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExportManager } from './manager.js';
import { renderKernelExports } from './kernel-format.js';
import type { ApplyResult, ExportInput, ExportTable, NfsBackend } from './types.js';

/** A backend that records applies and keeps the "file" in memory. */
class FakeBackend implements NfsBackend {
  readonly name = 'kernel' as const;
  readonly filePath = '/mem/netroot.exports';
  file: string | null = null;
  applies: ExportTable[] = [];
  active = 0;
  maxActive = 0;
  async render(t: ExportTable) {
    return renderKernelExports(t);
  }
  async readCurrent() {
    return this.file;
  }
  async readExported() {
    return new Set<string>();
  }
  async apply(t: ExportTable): Promise<ApplyResult> {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    await new Promise((r) => setTimeout(r, 5));
    this.applies.push(t);
    const text = renderKernelExports(t);
    const changed = text !== this.file;
    this.file = text;
    this.active--;
    return { ok: true, backend: 'kernel', at: new Date().toISOString(), changed, differences: [], conflicts: [], warnings: [] };
  }
}

function registry() {
  const input: ExportInput = { imagesDir: '/d/images', stateDir: '/d/state', rootExport: 'networks', nodeNetworks: ['10.0.0.0/16'], nodes: [] };
  return { input, get: async () => structuredClone(input) };
}

test('a bulk import of 1,000 nodes is one apply, rendered from the registry as it is then', async () => {
  const be = new FakeBackend();
  const reg = registry();
  const m = new ExportManager({ backend: be, input: reg.get, debounceMs: 50 });
  for (let i = 0; i < 1000; i++) {
    reg.input.nodes.push({ fqdn: `n${i}.bulk`, ipv4: `10.0.${(i + 1) >> 8}.${(i + 1) & 255}`, enabled: true, stateMode: 'nfs' });
    m.schedule();
  }
  await m.whenIdle();
  assert.equal(be.applies.length, 1);
  assert.equal(be.applies[0]!.entries.length, 1001);
  const st = await m.status();
  assert.equal(st.lastApply?.ok, true);
  assert.equal(st.pending, false);
  assert.equal(st.table?.entries.length, 1001);
  await m.close();
});

test('applies never overlap; applyNow after a change renders the change', async () => {
  const be = new FakeBackend();
  const reg = registry();
  const m = new ExportManager({ backend: be, input: reg.get, debounceMs: 0 });
  const p1 = m.applyNow();
  reg.input.nodes.push({ fqdn: 'a.x', ipv4: '10.0.0.1', enabled: true, stateMode: 'nfs' });
  const p2 = m.applyNow();
  const [r1, r2] = await Promise.all([p1, p2]);
  assert.equal(be.maxActive, 1);
  assert.equal(r1.ok && r2.ok, true);
  assert.equal(be.applies.at(-1)!.entries.length, 2);
  await m.close();
});

test('a registry the table refuses is a failed apply naming the field; the backend is not called', async () => {
  const be = new FakeBackend();
  const reg = registry();
  reg.input.nodes.push({ fqdn: '../etc', ipv4: '10.0.0.1', enabled: true, stateMode: 'nfs' });
  const m = new ExportManager({ backend: be, input: reg.get });
  const r = await m.applyNow();
  assert.equal(r.ok, false);
  assert.match(r.error!, /^nodes\[0\]\.fqdn: /);
  assert.equal(be.applies.length, 0);
  const st = await m.status();
  assert.match(st.inputError!, /nodes\[0\]\.fqdn/);
  assert.equal(st.lastApply, r);
  await m.close();
});

test('dryRun shows the rendered file and the diff against disk, and changes nothing', async () => {
  const be = new FakeBackend();
  const reg = registry();
  const dir = await mkdtemp(join(tmpdir(), 'nr-dry-'));
  try {
    await mkdir(join(dir, 'images'));
    await mkdir(join(dir, 'state/a.x'), { recursive: true });
    Object.assign(reg.input, { imagesDir: join(dir, 'images'), stateDir: join(dir, 'state') });
    reg.input.nodes.push({ fqdn: 'a.x', ipv4: '10.0.0.1', enabled: true, stateMode: 'nfs' }, { fqdn: 'b.x', ipv4: '10.0.0.2', enabled: true, stateMode: 'nfs' });
    const m = new ExportManager({ backend: be, input: reg.get });
    await m.applyNow();
    reg.input.nodeNetworks.push('10.9.0.0/24');
    const d = await m.dryRun();
    assert.equal(d.current, be.file);
    assert.match(d.rendered, /10\.9\.0\.0\/24/);
    // The images line changes; the fake backend had written b.x, which the dry run leaves out.
    assert.equal(d.diff.added, 1);
    assert.equal(d.diff.removed, 3);
    assert.equal(be.applies.length, 1);
    // b.x has no state directory: an apply would leave it out, and the dry run says so.
    assert.deepEqual(d.dropped, [join(dir, 'state/b.x')]);
    assert.doesNotMatch(d.rendered, /b\.x/);
    assert.deepEqual(d.missingImages, []);
    await m.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('close drops a pending scheduled apply', async () => {
  const be = new FakeBackend();
  const m = new ExportManager({ backend: be, input: registry().get, debounceMs: 10_000, maxWaitMs: 10_000 });
  m.schedule();
  assert.equal((await m.status()).pending, true);
  await m.close();
  m.schedule();
  assert.equal(be.applies.length, 0);
  assert.equal((await m.status()).pending, false);
});
