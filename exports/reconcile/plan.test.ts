import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildExportTable, flattenTable } from '../nfs/table.js';
import type { ExportInput, ExportNode } from '../nfs/types.js';
import type { StateEntryKind } from '../state/dirs.js';
import { planReconcile } from './plan.js';

const node = (fqdn: string, ipv4: string, extra: Partial<ExportNode> = {}): ExportNode => ({ fqdn, ipv4, enabled: true, stateMode: 'nfs', ...extra });
const input = (nodes: ExportNode[], extra: Partial<ExportInput> = {}): ExportInput => ({
  imagesDir: '/srv/images', stateDir: '/srv/state', nodeNetworks: ['10.0.0.0/24'], nodes, ...extra,
});
const entries = (o: Record<string, StateEntryKind>) => new Map(Object.entries(o));
const all = (i: ExportInput) => new Set(flattenTable(buildExportTable(i)).keys());

test('everything in place: nothing to create, nothing lacking', () => {
  const i = input([node('a.x', '10.0.0.1'), node('b.x', '10.0.0.2')]);
  const p = planReconcile({ nodes: i.nodes, wanted: buildExportTable(i), entries: entries({ 'a.x': 'dir', 'b.x': 'dir' }), exported: all(i) });
  assert.deepEqual(p, { create: [], lacking: [], otherMissing: [], orphans: [] });
});

test('after a crash mid-import: missing directories are created, their exports reported missing', () => {
  const nodes = [node('c.x', '10.0.0.3'), node('a.x', '10.0.0.1'), node('b.x', '10.0.0.2')];
  const before = input(nodes.slice(1, 2));
  const i = input(nodes);
  const p = planReconcile({ nodes, wanted: buildExportTable(i), entries: entries({ 'a.x': 'dir' }), exported: all(before) });
  assert.deepEqual(p.create, ['b.x', 'c.x']);
  assert.deepEqual(p.lacking.map((l) => [l.fqdn, l.lacks]), [['b.x', ['stateDir', 'stateExport', 'rootExport']], ['c.x', ['stateDir', 'stateExport', 'rootExport']]]);
});

test('disabled and local-state nodes: a disabled node keeps its directory but wants no export', () => {
  const nodes = [node('d.x', '10.0.0.4', { enabled: false }), node('l.x', '10.0.0.5', { stateMode: 'local' })];
  const i = input(nodes);
  const p = planReconcile({ nodes, wanted: buildExportTable(i), entries: entries({}), exported: all(i) });
  assert.deepEqual(p.create, ['d.x']);
  assert.deepEqual(p.lacking.map((l) => [l.fqdn, l.lacks]), [['d.x', ['stateDir']]]);
});

test('a file or symlink at state/<fqdn> blocks the node: reported, never created over', () => {
  const nodes = [node('a.x', '10.0.0.1')];
  const i = input(nodes);
  const p = planReconcile({ nodes, wanted: buildExportTable(i), entries: entries({ 'a.x': 'other' }), exported: all(i) });
  assert.deepEqual(p.create, []);
  assert.deepEqual(p.lacking, [{ fqdn: 'a.x', ipv4: '10.0.0.1', lacks: ['stateDir'], blocked: true }]);
});

test('a written table without a node\'s export: that node lacks it; a network-wide pair belongs to no node', () => {
  const nodes = [node('a.x', '10.0.0.1'), node('b.x', '10.0.0.2')];
  const i = input(nodes, { rootExport: 'networks' });
  const exported = all(i);
  exported.delete('/srv/state/b.x 10.0.0.2');
  exported.delete('/srv/images 10.0.0.0/24');
  const p = planReconcile({ nodes, wanted: buildExportTable(i), entries: entries({ 'a.x': 'dir', 'b.x': 'dir' }), exported });
  assert.deepEqual(p.lacking.map((l) => [l.fqdn, l.lacks]), [['b.x', ['stateExport']]]);
  assert.deepEqual(p.otherMissing, ['/srv/images 10.0.0.0/24']);
});

test('root exported to node addresses: a node missing from the images export lacks rootExport', () => {
  const nodes = [node('a.x', '10.0.0.1'), node('l.x', '10.0.0.5', { stateMode: 'local' })];
  const i = input(nodes);
  const exported = all(i);
  exported.delete('/srv/images 10.0.0.5');
  const p = planReconcile({ nodes, wanted: buildExportTable(i), entries: entries({ 'a.x': 'dir' }), exported });
  assert.deepEqual(p.lacking.map((l) => [l.fqdn, l.lacks]), [['l.x', ['rootExport']]]);
  assert.deepEqual(p.otherMissing, []);
});

test('no backend or an unrenderable registry: only directories are compared', () => {
  const nodes = [node('a.x', '10.0.0.1')];
  for (const [wanted, exported] of [[buildExportTable(input(nodes)), null], [null, new Set<string>()]] as const) {
    const p = planReconcile({ nodes, wanted, entries: entries({ 'a.x': 'dir' }), exported });
    assert.deepEqual(p.lacking, []);
  }
});

test('orphans: plain directories no node owns (a deleted node whose archive never happened), sorted', () => {
  const nodes = [node('a.x', '10.0.0.1')];
  const p = planReconcile({ nodes, wanted: null, entries: entries({ 'z.x': 'dir', 'a.x': 'dir', 'm.x': 'dir', 'f.x': 'other' }), exported: null });
  assert.deepEqual(p.orphans, ['m.x', 'z.x']);
});
