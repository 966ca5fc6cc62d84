import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ExportInputError } from './errors.js';
import { SAMPLE_INPUT } from './sample.js';
import { buildExportTable, diffTables } from './table.js';
import type { ExportInput, ExportNode } from './types.js';

const node = (fqdn: string, ipv4: string, extra: Partial<ExportNode> = {}): ExportNode => ({ fqdn, ipv4, enabled: true, stateMode: 'nfs', ...extra });
const input = (nodes: ExportNode[], extra: Partial<ExportInput> = {}): ExportInput => ({
  imagesDir: '/srv/images', stateDir: '/srv/state', nodeNetworks: ['10.0.0.0/24'], nodes, ...extra,
});

function throwsField(fn: () => unknown, field: string) {
  assert.throws(fn, (e: unknown) => e instanceof ExportInputError && e.field === field && e.message.startsWith(`${field}:`));
}

test('by default the images tree goes read-only to every registered node address and nothing else', () => {
  const t = buildExportTable(SAMPLE_INPUT);
  const img = t.entries[0]!;
  assert.equal(img.kind, 'images');
  assert.equal(img.path, '/var/lib/netroot/images');
  // Disabled (node03) and local-state (disk01) nodes too: disabling stops boots, not a running root.
  assert.deepEqual(img.clients.map((c) => c.host), ['10.10.0.11', '10.10.0.12', '10.10.0.13', '10.20.0.21']);
  assert.deepEqual(img.clients[0]!.options, ['ro', 'no_root_squash', 'async', 'no_subtree_check']);
  assert.equal(img.clients[0]!.access, 'ro');
  assert.ok(!img.clients.some((c) => c.host.includes('/')), 'no network in the default root export');
});

test('root exported to whole node networks only as an explicit setting, sorted', () => {
  const img = buildExportTable({ ...SAMPLE_INPUT, rootExport: 'networks' }).entries[0]!;
  assert.deepEqual(img.clients.map((c) => c.host), ['10.10.0.0/24', '10.20.0.0/16']);
  throwsField(() => buildExportTable({ ...SAMPLE_INPUT, rootExport: 'everyone' as never }), 'rootExport');
});

test('the root export follows the registry: addresses in numeric order, none without nodes', () => {
  const t = buildExportTable(input([node('b.x', '10.0.0.10'), node('a.x', '10.0.0.9'), node('c.x', '9.0.0.1')]));
  assert.deepEqual(t.entries[0]!.clients.map((c) => c.host), ['9.0.0.1', '10.0.0.9', '10.0.0.10']);
  assert.deepEqual(buildExportTable(input([])).entries, []);
});

test('each enabled nfs-mode node gets its own state dir, rw to its address only', () => {
  const t = buildExportTable(SAMPLE_INPUT);
  const state = t.entries.filter((e) => e.kind === 'state');
  assert.deepEqual(state.map((e) => e.path), ['/var/lib/netroot/state/node01.lab.example', '/var/lib/netroot/state/node02.lab.example']);
  assert.deepEqual(state[0]!.clients, [{ host: '10.10.0.11', access: 'rw', options: ['rw', 'no_root_squash', 'sync', 'no_subtree_check'] }]);
});

test('disabled nodes and local-disk nodes get no state export (but keep their root)', () => {
  const t = buildExportTable(input([node('a.x', '10.0.0.1', { enabled: false }), node('b.x', '10.0.0.2', { stateMode: 'local' })]));
  assert.deepEqual(t.entries.map((e) => e.kind), ['images']);
  assert.deepEqual(t.entries[0]!.clients.map((c) => c.host), ['10.0.0.1', '10.0.0.2']);
});

test('configurable options; exactly one of ro/rw', () => {
  const t = buildExportTable(input([], { rootOptions: ['ro', 'root_squash', 'sync'], rootExport: 'networks' }));
  assert.deepEqual(t.entries[0]!.clients[0]!.options, ['ro', 'root_squash', 'sync']);
  throwsField(() => buildExportTable(input([], { rootOptions: ['ro', 'rw'] })), 'rootOptions');
  throwsField(() => buildExportTable(input([], { stateOptions: ['sync'] })), 'stateOptions');
  throwsField(() => buildExportTable(input([], { rootOptions: ['ro', 'bad option'] })), 'rootOptions[1]');
  throwsField(() => buildExportTable(input([], { rootOptions: ['ro', 'x)(y'] })), 'rootOptions[1]');
});

test('FQDNs that would escape the state tree or break exports(5) are refused, naming the field', () => {
  for (const bad of ['..', '../etc', 'a/b', 'a b', 'a"b', "a'b", 'a\nb', 'a\u0001b', 'A.example', '', '.hidden', 'a..b', '-a.x', 'a#b', 'a(b)']) {
    throwsField(() => buildExportTable(input([node('ok.x', '10.0.0.1'), node(bad, '10.0.0.2')])), 'nodes[1].fqdn');
  }
});

test('paths with spaces, quotes, .. or relative parts are refused', () => {
  for (const bad of ['/srv/im ages', 'srv/images', '/srv/../images', '/srv/images/', '/srv//images', '/srv/"x"', '/', '/srv/im\tages', '/srv/a#b']) {
    throwsField(() => buildExportTable(input([], { imagesDir: bad })), 'imagesDir');
  }
  throwsField(() => buildExportTable(input([], { stateDir: '/srv/images/state' })), 'stateDir');
  throwsField(() => buildExportTable(input([], { imagesDir: '/srv/state/images' })), 'imagesDir');
});

test('two nodes on one IP are refused; so is a repeated FQDN', () => {
  throwsField(() => buildExportTable(input([node('a.x', '10.0.0.1'), node('b.x', '10.0.0.1', { enabled: false })])), 'nodes[1].ipv4');
  throwsField(() => buildExportTable(input([node('a.x', '10.0.0.1'), node('a.x', '10.0.0.2')])), 'nodes[1].fqdn');
  throwsField(() => buildExportTable(input([node('a.x', '10.0.0.256')])), 'nodes[0].ipv4');
  throwsField(() => buildExportTable(input([], { nodeNetworks: ['10.0.0.1/24'] })), 'nodeNetworks[0]');
  throwsField(() => buildExportTable(input([node('a.x', '10.0.0.1', { stateMode: 'disk' as never })])), 'nodes[0].stateMode');
});

test('the table does not depend on input order', () => {
  const nodes = [node('c.x', '10.0.0.3'), node('a.x', '10.0.0.1'), node('b.x', '10.0.0.2')];
  const a = buildExportTable(input(nodes, { nodeNetworks: ['10.1.0.0/16', '10.0.0.0/24'] }));
  const b = buildExportTable(input([...nodes].reverse(), { nodeNetworks: ['10.0.0.0/24', '10.1.0.0/16'] }));
  assert.deepEqual(a, b);
});

test('diffTables: added, removed and changed pairs', () => {
  const a = buildExportTable(input([node('a.x', '10.0.0.1'), node('b.x', '10.0.0.2')], { rootExport: 'networks' }));
  const b = buildExportTable(input([node('a.x', '10.0.0.9'), node('c.x', '10.0.0.3')], { rootOptions: ['ro', 'sync'], rootExport: 'networks' }));
  const d = diffTables(a, b);
  assert.deepEqual(d.added, ['/srv/state/a.x 10.0.0.9', '/srv/state/c.x 10.0.0.3']);
  assert.deepEqual(d.removed, ['/srv/state/a.x 10.0.0.1', '/srv/state/b.x 10.0.0.2']);
  assert.deepEqual(d.changed, [{ key: '/srv/images 10.0.0.0/24', from: 'ro,no_root_squash,async,no_subtree_check', to: 'ro,sync' }]);
});

test('property: any accepted FQDN stays one plain component under the state dir', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), (s) => {
      let t;
      try {
        t = buildExportTable(input([node(s, '10.0.0.1')]));
      } catch (e) {
        assert.ok(e instanceof ExportInputError);
        return;
      }
      const p = t.entries[1]!.path;
      assert.equal(p, `/srv/state/${s}`);
      assert.match(s, /^[a-z0-9.-]+$/);
      assert.ok(!s.includes('..') && !s.startsWith('.'));
    }),
    { numRuns: 2000 },
  );
});
