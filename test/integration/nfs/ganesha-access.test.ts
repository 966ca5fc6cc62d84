/**
 * The Ganesha backend against a real NFS-Ganesha 4.3 in a network namespace, checked with the
 * userspace NFS client (libnfs-utils) from two node namespaces: node A reads the root and
 * reads/writes its own state; node B cannot open A's state; nobody can write the root; a reload
 * applies changes; a reload Ganesha rejects restores the previous exports.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GaneshaBackend } from '../../../exports/nfs/ganesha.js';
import { buildExportTable } from '../../../exports/nfs/table.js';
import type { ExportNode } from '../../../exports/nfs/types.js';
import { have } from '../../helpers/proc.js';
import { createGaneshaLab, NODE_A, NODE_B, type GaneshaLab } from './ganesha-lab.js';

let lab: GaneshaLab;
let backend: GaneshaBackend;

const nodes = (over: Partial<Record<string, Partial<ExportNode>>> = {}): ExportNode[] =>
  [NODE_A, NODE_B].map((n) => ({ ...n, enabled: true, stateMode: 'nfs' as const, ...over[n.fqdn] }));
const table = (ns: ExportNode[], imagesDir = lab.imagesDir) =>
  buildExportTable({ imagesDir, stateDir: lab.stateDir, nodeNetworks: ['10.53.0.0/16'], nodes: ns });

const exists = (p: string) => access(p).then(() => true, () => false);

before(async () => {
  for (const cmd of ['ganesha.nfsd', 'nfs-ls', 'nfs-cp', 'nfs-cat', 'ip']) {
    assert.ok(await have(cmd), `${cmd} not found: install nfs-ganesha nfs-ganesha-vfs libnfs-utils iproute2 (scripts/deps/nfs.txt)`);
  }
  lab = await createGaneshaLab();
  backend = new GaneshaBackend({
    filePath: lab.exportsFile, pidFile: lab.pidFile, logPath: lab.logFile, mainConfigPath: lab.mainConf, reloadTimeoutMs: 30_000,
  });
  // Before Ganesha runs the file is only written; Ganesha reads it at start.
  const first = await backend.apply(table(nodes()));
  assert.equal(first.ok, true, first.error);
  assert.ok(first.warnings.some((w) => w.includes('not running')), first.warnings.join('; '));
  await lab.startGanesha();
});

after(async () => {
  await lab?.destroy();
});

const rootFile = () => join(lab.imagesDir, 'debian/1/root/etc/hostname-template');

test('node A reads the root image', async () => {
  const r = await lab.nfs(lab.a, ['nfs-cat', lab.url(rootFile())]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /netroot root image/);
});

test('node A writes and reads back its own state directory', async () => {
  const local = join(lab.dir, 'upload-a.txt');
  await writeFile(local, 'state of a\n');
  const put = await lab.nfs(lab.a, ['nfs-cp', local, lab.url(join(lab.stateDir, NODE_A.fqdn, 'log.txt'))]);
  assert.equal(put.code, 0, put.out);
  assert.equal(await readFile(join(lab.stateDir, NODE_A.fqdn, 'log.txt'), 'utf8'), 'state of a\n');
  const get = await lab.nfs(lab.a, ['nfs-cat', lab.url(join(lab.stateDir, NODE_A.fqdn, 'log.txt'))]);
  assert.equal(get.code, 0, get.out);
  assert.match(get.out, /state of a/);
});

test('node B cannot open node A\'s state directory', async () => {
  const ls = await lab.nfs(lab.b, ['nfs-ls', lab.url(join(lab.stateDir, NODE_A.fqdn))]);
  assert.notEqual(ls.code, 0, ls.out);
  const local = join(lab.dir, 'upload-b.txt');
  await writeFile(local, 'intruder\n');
  const put = await lab.nfs(lab.b, ['nfs-cp', local, lab.url(join(lab.stateDir, NODE_A.fqdn, 'b-was-here.txt'))]);
  assert.notEqual(put.code, 0, put.out);
  assert.equal(await exists(join(lab.stateDir, NODE_A.fqdn, 'b-was-here.txt')), false);
  // ...while its own works.
  const own = await lab.nfs(lab.b, ['nfs-ls', lab.url(join(lab.stateDir, NODE_B.fqdn))]);
  assert.equal(own.code, 0, own.out);
});

test('nobody can write the root image', async () => {
  const local = join(lab.dir, 'upload-root.txt');
  await writeFile(local, 'nope\n');
  for (const ns of [lab.a, lab.b]) {
    const put = await lab.nfs(ns, ['nfs-cp', local, lab.url(join(lab.imagesDir, 'debian/1/root/etc/evil'))]);
    assert.notEqual(put.code, 0, put.out);
  }
  assert.equal(await exists(join(lab.imagesDir, 'debian/1/root/etc/evil')), false);
});

test('an unregistered host on the node network cannot mount the root; with rootExport "networks" it can', async () => {
  // B unregistered: the root goes to A alone.
  const onlyA = await backend.apply(table(nodes().filter((n) => n.fqdn === NODE_A.fqdn)));
  assert.equal(onlyA.ok, true, onlyA.error);
  const b = await lab.nfs(lab.b, ['nfs-cat', lab.url(rootFile())]);
  assert.notEqual(b.code, 0, b.out);
  assert.equal((await lab.nfs(lab.a, ['nfs-cat', lab.url(rootFile())])).code, 0);
  const wide = await backend.apply(buildExportTable({ imagesDir: lab.imagesDir, stateDir: lab.stateDir, rootExport: 'networks', nodeNetworks: ['10.53.0.0/16'], nodes: nodes().filter((n) => n.fqdn === NODE_A.fqdn) }));
  assert.equal(wide.ok, true, wide.error);
  const bWide = await lab.nfs(lab.b, ['nfs-cat', lab.url(rootFile())]);
  assert.equal(bWide.code, 0, bWide.out);
  const back = await backend.apply(table(nodes()));
  assert.equal(back.ok, true, back.error);
});

test('a reload applies a change: disabling node B removes its state export, A keeps its own', async () => {
  const r = await backend.apply(table(nodes({ [NODE_B.fqdn]: { enabled: false } })));
  assert.equal(r.ok, true, r.error);
  assert.equal((await lab.nfs(lab.b, ['nfs-ls', lab.url(join(lab.stateDir, NODE_B.fqdn))])).code, 1);
  assert.equal((await lab.nfs(lab.a, ['nfs-ls', lab.url(join(lab.stateDir, NODE_A.fqdn))])).code, 0);
  const back = await backend.apply(table(nodes()));
  assert.equal(back.ok, true, back.error);
  const own = await lab.nfs(lab.b, ['nfs-ls', lab.url(join(lab.stateDir, NODE_B.fqdn))]);
  assert.equal(own.code, 0, own.out);
});

test('a table Ganesha rejects is rolled back and the previous exports stay served', async () => {
  const before = await readFile(lab.exportsFile, 'utf8');
  // procfs is a directory netroot's checks accept, but Ganesha's VFS cannot export it.
  const r = await backend.apply(table(nodes(), '/proc/sys'));
  assert.equal(r.ok, false, 'Ganesha accepted an export of /proc/sys');
  assert.match(r.error!, /ganesha reload failed: .*Could not create export for \(\/proc\/sys\)/);
  assert.equal(await readFile(lab.exportsFile, 'utf8'), before);
  const root = await lab.nfs(lab.a, ['nfs-cat', lab.url(rootFile())]);
  assert.equal(root.code, 0, root.out);
  assert.equal((await lab.nfs(lab.b, ['nfs-ls', lab.url(join(lab.stateDir, NODE_B.fqdn))])).code, 0);
});
