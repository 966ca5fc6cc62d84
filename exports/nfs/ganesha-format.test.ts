import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignExportIds, parseGaneshaExportIds, parseGaneshaExports, renderGaneshaExports, renderGaneshaMainConfig } from './ganesha-format.js';
import { readGolden } from './golden.js';
import { MANY_INPUT, SAMPLE_INPUT } from './sample.js';
import { buildExportTable, exportPairs, flattenTable } from './table.js';

test('renderGaneshaExports matches the golden files: root to node addresses (default), to networks, in blocks of 16', () => {
  assert.equal(renderGaneshaExports(buildExportTable(SAMPLE_INPUT)), readGolden('sample.ganesha.conf'));
  assert.equal(renderGaneshaExports(buildExportTable({ ...SAMPLE_INPUT, rootExport: 'networks' })), readGolden('sample-networks.ganesha.conf'));
  assert.equal(renderGaneshaExports(buildExportTable(MANY_INPUT)), readGolden('many.ganesha.conf'));
});

test('every block: NFSv4 only, per-client access, no root squash, VFS', () => {
  const text = renderGaneshaExports(buildExportTable(SAMPLE_INPUT));
  const blocks = text.split('EXPORT {').slice(1);
  assert.equal(blocks.length, 3);
  for (const b of blocks) {
    assert.match(b, /Protocols = 4;/);
    assert.match(b, /Access_Type = None;/);
    assert.match(b, /Squash = No_Root_Squash;/);
    assert.match(b, /FSAL \{ Name = VFS; \}/);
  }
  assert.match(blocks[0]!, /CLIENT \{ Clients = 10\.10\.0\.11, 10\.10\.0\.12, 10\.10\.0\.13, 10\.20\.0\.21; Access_Type = RO; Protocols = 4; \}/);
  assert.match(blocks[1]!, /CLIENT \{ Clients = 10\.10\.0\.11; Access_Type = RW; Protocols = 4; \}/);
  assert.match(text, /Only_Numeric_Owners/);
});

test('Export_Id stays with its path across renders; freed ids are not reused at once', () => {
  const t1 = buildExportTable(SAMPLE_INPUT);
  const ids1 = parseGaneshaExportIds(renderGaneshaExports(t1));
  assert.deepEqual([...ids1.values()], [1, 2, 3]);
  // node01 goes away, node00 arrives (sorts first): node02 keeps its id, node00 gets a fresh one.
  const nodes = SAMPLE_INPUT.nodes.filter((n) => n.fqdn !== 'node01.lab.example');
  nodes.push({ fqdn: 'node00.lab.example', ipv4: '10.10.0.10', enabled: true, stateMode: 'nfs' });
  const t2 = buildExportTable({ ...SAMPLE_INPUT, nodes });
  const ids2 = parseGaneshaExportIds(renderGaneshaExports(t2, ids1));
  assert.equal(ids2.get('/var/lib/netroot/images'), 1);
  assert.equal(ids2.get('/var/lib/netroot/state/node02.lab.example'), ids1.get('/var/lib/netroot/state/node02.lab.example'));
  assert.equal(ids2.get('/var/lib/netroot/state/node00.lab.example'), 4);
  assert.equal(new Set(ids2.values()).size, ids2.size);
});

test('assignExportIds: unique for a thousand nodes', () => {
  const entries = Array.from({ length: 1000 }, (_, i) => ({ kind: 'state' as const, path: `/s/n${i}`, clients: [] }));
  const ids = assignExportIds(entries, new Map([['/s/n5', 1], ['/gone', 2]]));
  assert.equal(new Set(ids.values()).size, 1000);
  assert.equal(ids.get('/s/n5'), 1);
  assert.ok(![...ids.values()].includes(2));
});

test('renderGaneshaMainConfig: NFSv4 only, numeric owners, includes the exports file', () => {
  const text = renderGaneshaMainConfig({ includePath: '/etc/ganesha/netroot.conf', graceless: true });
  assert.match(text, /Protocols = 4; Enable_NLM = false; Enable_RQUOTA = false; Enable_UDP = false;/);
  assert.match(text, /NFSV4 \{ Graceless = true; Only_Numeric_Owners = true; \}/);
  assert.match(text, /%include "\/etc\/ganesha\/netroot.conf"/);
  assert.doesNotMatch(text, /RecoveryRoot/);
  assert.match(renderGaneshaMainConfig({ includePath: '/x', recoveryRoot: '/tmp/rec' }), /Only_Numeric_Owners = true; RecoveryRoot = "\/tmp\/rec"; \}/);
});

test('parseGaneshaExports reads back every (path, client) pair renderGaneshaExports wrote', () => {
  for (const input of [SAMPLE_INPUT, MANY_INPUT, { ...SAMPLE_INPUT, rootExport: 'networks' as const }]) {
    const table = buildExportTable(input);
    const pairs = exportPairs(parseGaneshaExports(renderGaneshaExports(table)));
    assert.deepEqual([...pairs].sort(), [...flattenTable(table).keys()].sort());
  }
  assert.deepEqual(parseGaneshaExports('EXPORT {\n\tPath = "/x";\n\tCLIENT { Clients = 10.0.0.1, 10.0.0.2 ; Access_Type = RO; }\n}\n'), [
    { path: '/x', clients: [{ host: '10.0.0.1' }, { host: '10.0.0.2' }] },
  ]);
});
