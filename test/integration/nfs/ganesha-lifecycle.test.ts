/**
 * The NFS side of a node's life, as the server wires it, against real Ganesha in namespaces:
 * register (state dir + statetab paths + scheduled apply), rename, delete (archive), restore.
 * Node A's view is checked with the userspace NFS client from its own namespace.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GaneshaBackend } from '../../../exports/nfs/ganesha.js';
import { ExportManager } from '../../../exports/nfs/manager.js';
import type { ExportInput } from '../../../exports/nfs/types.js';
import { StateDirectories } from '../../../exports/state/dirs.js';
import { have } from '../../helpers/proc.js';
import { createGaneshaLab, NODE_A, type GaneshaLab } from './ganesha-lab.js';

let lab: GaneshaLab;
let manager: ExportManager;
let state: StateDirectories;
let registry: ExportInput;

before(async () => {
  for (const cmd of ['ganesha.nfsd', 'nfs-ls', 'nfs-cp', 'nfs-cat', 'ip']) {
    assert.ok(await have(cmd), `${cmd} not found: install nfs-ganesha nfs-ganesha-vfs libnfs-utils iproute2 (scripts/deps/nfs.txt)`);
  }
  lab = await createGaneshaLab({ precreateState: false });
  registry = { imagesDir: lab.imagesDir, stateDir: lab.stateDir, nodeNetworks: ['10.53.0.0/16'], nodes: [] };
  state = new StateDirectories({ stateDir: lab.stateDir });
  manager = new ExportManager({
    backend: new GaneshaBackend({ filePath: lab.exportsFile, pidFile: lab.pidFile, logPath: lab.logFile, mainConfigPath: lab.mainConf }),
    input: async () => structuredClone(registry),
    debounceMs: 50,
  });
  await manager.applyNow();
  await lab.startGanesha();
});

after(async () => {
  await manager?.close();
  await lab?.destroy();
});

async function settle() {
  await manager.whenIdle();
  const st = await manager.status();
  assert.equal(st.lastApply?.ok, true, st.lastApply?.error);
}

const canList = async (fqdn: string) => (await lab.nfs(lab.a, ['nfs-ls', lab.url(join(lab.stateDir, fqdn))])).code === 0;

test('register: state dir with statetab paths, then the export; the node writes its log', async () => {
  const c = await state.create(NODE_A.fqdn, { statetabPaths: ['/var/log'] });
  assert.deepEqual(c.precreated, ['/var/log']);
  registry.nodes.push({ ...NODE_A, enabled: true, stateMode: 'nfs' });
  manager.schedule();
  await settle();
  const local = join(lab.dir, 'boot.log');
  await writeFile(local, 'booted\n');
  const put = await lab.nfs(lab.a, ['nfs-cp', local, lab.url(join(lab.stateDir, NODE_A.fqdn, 'var/log/boot.log'))]);
  assert.equal(put.code, 0, put.out);
  assert.equal(await readFile(join(lab.stateDir, NODE_A.fqdn, 'var/log/boot.log'), 'utf8'), 'booted\n');
});

test('rename: the state follows the FQDN and the old export goes away', async () => {
  await state.rename(NODE_A.fqdn, 'a2.lab.test');
  registry.nodes[0]!.fqdn = 'a2.lab.test';
  manager.schedule();
  await settle();
  assert.equal(await canList('a2.lab.test'), true);
  assert.equal(await canList(NODE_A.fqdn), false);
  assert.equal(await readFile(join(lab.stateDir, 'a2.lab.test/var/log/boot.log'), 'utf8'), 'booted\n');
});

test('local-disk mode: the node keeps its root but loses the state export', async () => {
  registry.nodes[0]!.stateMode = 'local';
  manager.schedule();
  await settle();
  assert.equal(await canList('a2.lab.test'), false);
  registry.nodes[0]!.stateMode = 'nfs';
  manager.schedule();
  await settle();
  assert.equal(await canList('a2.lab.test'), true);
});

test('delete archives the state (not served, not deleted); restore brings it back', async () => {
  registry.nodes = [];
  manager.schedule();
  await settle();
  const arch = await state.archive('a2.lab.test');
  assert.equal(await canList('a2.lab.test'), false);
  assert.deepEqual((await state.listArchived()).map((a) => a.name), [arch.name]);
  const r = await state.restore(arch.name, NODE_A.fqdn);
  registry.nodes.push({ ...NODE_A, enabled: true, stateMode: 'nfs' });
  manager.schedule();
  await settle();
  const back = await lab.nfs(lab.a, ['nfs-cat', lab.url(join(r.path, 'var/log/boot.log'))]);
  assert.equal(back.code, 0, back.out);
  assert.match(back.out, /booted/);
  assert.ok((await state.usage(NODE_A.fqdn)).bytes > 0);
});
