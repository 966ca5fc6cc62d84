/**
 * The kernel backend against the real exportfs (nfs-kernel-server 2.6; no kernel nfsd needed: it
 * keeps its etab), in a mount-namespace sandbox so the machine's own exports stay as found.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelNfsBackend } from '../../../exports/nfs/kernel.js';
import { renderKernelExports } from '../../../exports/nfs/kernel-format.js';
import { buildExportTable } from '../../../exports/nfs/table.js';
import type { ExportNode } from '../../../exports/nfs/types.js';
import { have, start } from '../../helpers/proc.js';
import { crashTables } from './crash-tables.js';
import { createExportfsSandbox, type ExportfsSandbox } from './sandbox.js';

let sb: ExportfsSandbox;
let dir: string;
let realEtab: string | null;

const node = (fqdn: string, ipv4: string): ExportNode => ({ fqdn, ipv4, enabled: true, stateMode: 'nfs' });
const table = (nodes: ExportNode[], rootOptions?: string[]) =>
  buildExportTable({ imagesDir: join(dir, 'images'), stateDir: join(dir, 'state'), nodeNetworks: ['10.53.0.0/16'], nodes, ...(rootOptions ? { rootOptions } : {}) });

before(async () => {
  for (const cmd of ['exportfs', 'unshare']) {
    assert.ok(await have(cmd), `${cmd} not found: install nfs-kernel-server and util-linux (scripts/deps/nfs.txt)`);
  }
  realEtab = await readFile('/var/lib/nfs/etab', 'utf8').catch(() => null);
  sb = await createExportfsSandbox();
  dir = await mkdtemp(join(tmpdir(), 'nr-exported-'));
  await mkdir(join(dir, 'images'));
  for (let i = 0; i < 200; i++) await mkdir(join(dir, 'state', `n${i}.crash.test`), { recursive: true });
  for (const n of ['a.lab', 'b.lab']) await mkdir(join(dir, 'state', n), { recursive: true });
});

after(async () => {
  await sb?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
  // The machine's exportfs state was never touched.
  assert.equal(await readFile('/var/lib/nfs/etab', 'utf8').catch(() => null), realEtab);
});

function backend() {
  return new KernelNfsBackend({ filePath: sb.filePath, etcExportsPath: sb.etcExportsPath, etabPath: sb.etabPath, runner: sb.runner });
}

test('apply: exportfs takes the table and the etab reads back the same', async () => {
  const r = await backend().apply(table([node('a.lab', '10.53.1.5'), node('b.lab', '10.53.1.6')]));
  assert.equal(r.ok, true, `${r.error} ${r.differences.join('; ')}`);
  const etab = await readFile(sb.etabPath, 'utf8');
  assert.match(etab, new RegExp(`${dir}/state/a\\.lab\\t10\\.53\\.1\\.5\\(rw,sync,.*no_root_squash`));
  // The root goes to the registered addresses, not to the whole node network.
  assert.match(etab, new RegExp(`${dir}/images\\t10\\.53\\.1\\.5\\(ro,async,`));
  assert.match(etab, new RegExp(`${dir}/images\\t10\\.53\\.1\\.6\\(ro,async,`));
  assert.doesNotMatch(etab, /10\.53\.0\.0\/16/);
  const v = await sb.run(['exportfs', '-v']);
  assert.match(v.stdout, /10\.53\.1\.6\(sync,.*rw,no_root_squash/);
});

test('the root to whole networks only when asked: rootExport "networks"', async () => {
  const t = buildExportTable({ imagesDir: join(dir, 'images'), stateDir: join(dir, 'state'), rootExport: 'networks', nodeNetworks: ['10.53.0.0/16'], nodes: [node('a.lab', '10.53.1.5')] });
  const r = await backend().apply(t);
  assert.equal(r.ok, true, `${r.error} ${r.differences.join('; ')}`);
  const etab = await readFile(sb.etabPath, 'utf8');
  assert.match(etab, new RegExp(`${dir}/images\\t10\\.53\\.0\\.0/16\\(ro,async,`));
  assert.doesNotMatch(etab, new RegExp(`${dir}/images\\t10\\.53\\.1\\.5\\(`));
});

test('removing a node removes its export from what exportfs serves', async () => {
  const r = await backend().apply(table([node('a.lab', '10.53.1.5')]));
  assert.equal(r.ok, true, r.error);
  const etab = await readFile(sb.etabPath, 'utf8');
  assert.doesNotMatch(etab, /b\.lab/);
  assert.match(etab, /a\.lab/);
  assert.doesNotMatch(etab, /10\.53\.1\.6/, 'nor its root export');
});

test('conflict: an /etc/exports entry for the same path is reported and left alone', async () => {
  const etc = `${dir}/state/a.lab 10.99.0.1(rw,sync,no_subtree_check)\n`;
  await writeFile(sb.etcExportsPath, etc);
  try {
    const r = await backend().apply(table([node('a.lab', '10.53.1.5')]));
    assert.equal(r.ok, true, `${r.error} ${r.differences.join('; ')}`);
    assert.deepEqual(r.conflicts.map((c) => [c.file, c.line, c.kind]), [[sb.etcExportsPath, 1, 'same-path']]);
    assert.equal(await readFile(sb.etcExportsPath, 'utf8'), etc);
  } finally {
    await writeFile(sb.etcExportsPath, '# sandbox /etc/exports\n');
  }
});

test('failure restore: an option exportfs rejects keeps the previous table live', async () => {
  const good = table([node('a.lab', '10.53.1.5')]);
  assert.equal((await backend().apply(good)).ok, true);
  const fileBefore = await readFile(sb.filePath, 'utf8');
  const etabBefore = await readFile(sb.etabPath, 'utf8');
  const r = await backend().apply(table([node('a.lab', '10.53.1.5'), node('b.lab', '10.53.1.6')], ['ro', 'no_root_squash', 'not_an_nfs_option']));
  assert.equal(r.ok, false);
  assert.match(r.error!, /unknown keyword "not_an_nfs_option"/);
  assert.equal(await readFile(sb.filePath, 'utf8'), fileBefore);
  assert.equal(await readFile(sb.etabPath, 'utf8'), etabBefore);
});

test('crash safety: kill -9 during repeated applies always leaves a complete old or new file', async () => {
  const [a, b] = crashTables(dir);
  const texts = new Set([renderKernelExports(a), renderKernelExports(b)]);
  const child = new URL('./apply-child.js', import.meta.url).pathname;
  let kills = 0;
  for (let round = 0; round < 25; round++) {
    const p = start(process.execPath, [child, JSON.stringify({ root: sb.root, dir })]);
    // Let it get through a few applies, then kill at a varying point of the next one.
    await p.waitFor(new RegExp(`applied ${round % 3} `), 60_000);
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 40)));
    p.child.kill('SIGKILL');
    await p.exited;
    kills++;
    const text = await readFile(sb.filePath, 'utf8');
    assert.ok(texts.has(text), `round ${round}: the exports file is neither table (${text.length} bytes)`);
    for (const n of await readdir(join(sb.root, 'exports.d'))) {
      assert.ok(n === 'netroot.exports' || (n.startsWith('.netroot.exports.') && n.endsWith('.tmp')), `unexpected file ${n}`);
    }
  }
  assert.equal(kills, 25);
  // The next apply cleans up temps a killed writer left and serves a consistent table.
  const r = await backend().apply(a);
  assert.equal(r.ok, true, r.error);
  assert.deepEqual(await readdir(join(sb.root, 'exports.d')), ['netroot.exports']);
});
