import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readGolden } from './golden.js';
import { parseEtab, parseExportsFile, renderKernelExports } from './kernel-format.js';
import { MANY_INPUT, SAMPLE_INPUT } from './sample.js';
import { buildExportTable, exportPairs, flattenTable } from './table.js';

test('renderKernelExports matches the golden files: root to node addresses (default), to networks, wrapped', () => {
  assert.equal(renderKernelExports(buildExportTable(SAMPLE_INPUT)), readGolden('sample.exports'));
  assert.equal(renderKernelExports(buildExportTable({ ...SAMPLE_INPUT, rootExport: 'networks' })), readGolden('sample-networks.exports'));
  assert.equal(renderKernelExports(buildExportTable(MANY_INPUT)), readGolden('many.exports'));
});

test('renderKernelExports of an empty registry: no images line (a line without clients exports to the world)', () => {
  const text = renderKernelExports(buildExportTable({ ...SAMPLE_INPUT, nodes: [] }));
  assert.match(text, /^# Managed by netroot/);
  assert.equal(text.split('\n').filter((l) => l && !l.startsWith('#')).length, 0);
  const net = renderKernelExports(buildExportTable({ ...SAMPLE_INPUT, nodes: [], rootExport: 'networks' }));
  assert.equal(net.split('\n').filter((l) => l && !l.startsWith('#')).length, 1);
});

test('a wrapped images line of 10,000 node addresses reads back as every (path, client) pair', () => {
  const nodes = Array.from({ length: 10_000 }, (_, i) => ({ fqdn: `n${i}.x`, ipv4: `10.${(i + 1) >> 16}.${((i + 1) >> 8) & 255}.${(i + 1) & 255}`, enabled: true, stateMode: 'nfs' as const }));
  const table = buildExportTable({ ...SAMPLE_INPUT, nodes });
  const text = renderKernelExports(table);
  assert.equal(table.entries[0]!.clients.length, 10_000);
  assert.deepEqual(exportPairs(parseExportsFile(text)), new Set(flattenTable(table).keys()));
  assert.ok(text.split('\n').every((l) => l.length < 500), 'no physical line longer than 500 characters');
});

test('parseExportsFile reads back what renderKernelExports wrote', () => {
  const table = buildExportTable(SAMPLE_INPUT);
  const parsed = parseExportsFile(renderKernelExports(table));
  assert.deepEqual(parsed.map((p) => p.path), table.entries.map((e) => e.path));
  assert.deepEqual(parsed[0]!.clients, table.entries[0]!.clients.map((c) => ({ host: c.host, options: c.options })));
});

test('parseExportsFile: comments, continuations, quotes, octal escapes, default options, bare hosts', () => {
  const text = [
    '# comment',
    '/srv/a   10.0.0.0/8(ro) \\',
    '   host.example(rw,sync)  # trailing comment',
    '"/srv/with space" *(ro)',
    '/srv/oct\\040al -sync,ro 10.1.0.1 10.1.0.2(rw)',
    '/srv/trailing/ 10.2.0.1(ro)',
    'not-a-path x(y)',
  ].join('\n');
  const p = parseExportsFile(text);
  assert.deepEqual(p.map((e) => [e.path, e.line]), [['/srv/a', 2], ['/srv/with space', 4], ['/srv/oct al', 5], ['/srv/trailing', 6]]);
  assert.deepEqual(p[0]!.clients, [{ host: '10.0.0.0/8', options: ['ro'] }, { host: 'host.example', options: ['rw', 'sync'] }]);
  assert.deepEqual(p[2]!.clients, [{ host: '10.1.0.1', options: ['sync', 'ro'] }, { host: '10.1.0.2', options: ['sync', 'ro', 'rw'] }]);
});

test('parseEtab reads exportfs 2.6 etab lines', () => {
  const etab = readGolden('etab.sample');
  const e = parseEtab(etab);
  assert.equal(e.length, 2);
  assert.equal(e[0]!.path, '/tmp/xt/state/a');
  assert.equal(e[0]!.host, '10.53.1.5');
  assert.ok(e[0]!.options.includes('no_root_squash') && e[0]!.options.includes('sync'));
  assert.equal(e[1]!.host, '10.53.0.0/16');
});
