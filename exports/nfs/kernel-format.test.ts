import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readGolden } from './golden.js';
import { parseEtab, parseExportsFile, renderKernelExports } from './kernel-format.js';
import { SAMPLE_INPUT } from './sample.js';
import { buildExportTable } from './table.js';

test('renderKernelExports matches the golden file', () => {
  assert.equal(renderKernelExports(buildExportTable(SAMPLE_INPUT)), readGolden('sample.exports'));
});

test('renderKernelExports of an empty registry is just the header and the images line', () => {
  const text = renderKernelExports(buildExportTable({ ...SAMPLE_INPUT, nodes: [] }));
  assert.match(text, /^# Managed by netroot/);
  assert.equal(text.split('\n').filter((l) => l && !l.startsWith('#')).length, 1);
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
