/**
 * The NFS side after a crash, through the whole service (kernel backend, real exportfs in the
 * mount-namespace sandbox): `netroot serve` is killed with SIGKILL, by its PID, at random moments
 * of a 1,000-node import and of the repair that follows; after a restart every committed node has
 * its state directory and its line in the export table (and in exportfs's etab), and health says
 * ok. A state directory removed behind netroot's back is reported until a reconcile on demand
 * recreates it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNetroot, type Netroot } from '../../helpers/service.js';
import { have } from '../../helpers/proc.js';
import { createExportfsSandbox, type ExportfsSandbox } from '../nfs/sandbox.js';

const ROUNDS = 8;
const PER_ROUND = 1000;

let sb: ExportfsSandbox;
let dataDir: string;
let token = '';
let nr: Netroot | null = null;

const stateDir = () => join(dataDir, 'state');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function config(exportfs = sb.exportfsWrapper) {
  return {
    nfs: {
      backend: 'kernel',
      nodeNetworks: ['10.60.0.0/16'],
      debounceMs: 50,
      kernel: { exportsFile: sb.filePath, etcExports: sb.etcExportsPath, etab: sb.etabPath, exportfs },
    },
  };
}

async function startService(exportfs?: string): Promise<Netroot> {
  const n = await startNetroot({ dataDir, config: config(exportfs) });
  if (n.token) token = n.token;
  return n;
}

const api = (method: string, path: string, body?: unknown) => nr!.api(method, path, body, token);

/** 1,000 nodes of one round: MAC, FQDN and address unique across rounds. */
function nodesOf(round: number) {
  return Array.from({ length: PER_ROUND }, (_, i) => {
    const k = round * PER_ROUND + i + 1;
    const hex = (x: number) => x.toString(16).padStart(2, '0');
    return { mac: `02:60:00:${hex(k >> 16)}:${hex((k >> 8) & 255)}:${hex(k & 255)}`, fqdn: `n${k}.crash.test`, ipv4: `10.60.${k >> 8}.${k & 255}` };
  });
}

const stateDirs = () => (existsSync(stateDir()) ? readdirSync(stateDir()).filter((n) => !n.startsWith('.')).length : 0);

/** Polls GET /exports until the reconciler is idle and its last pass is the one asked for. */
async function reconciled(trigger: string) {
  for (let i = 0; i < 600; i++) {
    const r = await api('GET', '/exports');
    const rc = r.body.reconcile;
    if (!rc.pending && rc.last?.trigger === trigger) return r.body;
    await sleep(100);
  }
  throw new Error('the reconciler never finished');
}

async function nfsHealth() {
  return (await nr!.api('GET', '/health', undefined, null)).body.subsystems.nfs;
}

before(async () => {
  for (const cmd of ['exportfs', 'unshare']) assert.ok(await have(cmd), `${cmd} not found: install nfs-kernel-server and util-linux (scripts/deps/nfs.txt)`);
  sb = await createExportfsSandbox();
  dataDir = await mkdtemp(join(tmpdir(), 'nr-nfs-crash-'));
  await mkdir(join(dataDir, 'images'));
});

after(async () => {
  await nr?.stop();
  await sb?.destroy();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test('kill -9 during 1,000-node imports: after a restart every committed node has its state dir and export', async () => {
  // How long one import takes here, to spread the kills over the request and the repair after it.
  nr = await startService();
  const t0 = Date.now();
  const first = await api('POST', '/nodes/import', nodesOf(0));
  assert.equal(first.status, 201, JSON.stringify(first.body).slice(0, 300));
  const importMs = Date.now() - t0;
  // Killed as the answer arrives: committed, nothing repaired yet.
  process.kill(nr.proc.pid, 'SIGKILL');
  await nr.proc.exited;
  nr = null;

  const rounds: { round: number; killAfterMs: number; committed: number; dirsAtKill: number }[] = [];
  let lackedAtSomeRestart = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const dirsBefore = stateDirs();
    nr = await startService();
    const committedBefore = (await api('GET', '/nodes?limit=1')).body.total as number;
    lackedAtSomeRestart = Math.max(lackedAtSomeRestart, committedBefore - dirsBefore);
    // Odd rounds: somewhere inside the request; even rounds: in the repair after it (or in the
    // start pass repairing the rounds before).
    const killAfterMs = Math.floor(round % 2 ? Math.random() * importMs * 1.2 : importMs + Math.random() * 1500);
    const req = api('POST', '/nodes/import', nodesOf(round)).catch(() => null);
    await sleep(killAfterMs);
    process.kill(nr.proc.pid, 'SIGKILL');
    await nr.proc.exited;
    await req;
    nr = null;
    rounds.push({ round, killAfterMs, committed: committedBefore, dirsAtKill: stateDirs() });
  }
  // At least the first round left committed nodes without their directory for the restart to fix.
  assert.ok(lackedAtSomeRestart > 0, `no restart found work to do: ${JSON.stringify(rounds)}`);

  const dirsBefore = stateDirs();
  nr = await startService();
  const body = await reconciled('start');
  const list = (await api('GET', '/nodes?limit=10000')).body;
  const nodes = list.items as { fqdn: string; ipv4: string }[];
  assert.equal(nodes.length, list.total);
  assert.ok(nodes.length >= PER_ROUND, `${nodes.length} committed`);
  assert.equal(nodes.length % PER_ROUND, 0, 'an import is committed whole or not at all');
  assert.equal(body.reconcile.last.created, nodes.length - dirsBefore, 'the start pass made exactly the missing directories');
  assert.equal(body.reconcile.now.lackingTotal, 0, JSON.stringify(body.reconcile.now.lacking.slice(0, 5)));
  assert.equal(body.lastApply.ok, true, body.lastApply.error);

  const file = readFileSync(sb.filePath, 'utf8');
  const etab = readFileSync(sb.etabPath, 'utf8');
  assert.doesNotMatch(etab, /10\.60\.0\.0\/16/, 'the images tree is not exported to the node network');
  const missing: string[] = [];
  for (const n of nodes) {
    const dir = join(stateDir(), n.fqdn);
    if (!existsSync(join(dir, 'var/log')) || !statSync(dir).isDirectory()) missing.push(`${n.fqdn}: no state directory`);
    if (!file.includes(`\n${dir} ${n.ipv4}(`)) missing.push(`${n.fqdn}: no line in ${sb.filePath}`);
    if (!etab.includes(`${dir}\t${n.ipv4}(`)) missing.push(`${n.fqdn}: not in exportfs's etab`);
    // The images tree goes to registered addresses only (rootExport "nodes", the default).
    if (!etab.includes(`${join(dataDir, 'images')}\t${n.ipv4}(`)) missing.push(`${n.fqdn}: no root export in exportfs's etab`);
  }
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} problems; rounds: ${JSON.stringify(rounds)}`);
  const h = await nfsHealth();
  assert.equal(h.status, 'ok', JSON.stringify(h));
  assert.equal(h.missing, 0);
  console.log(`# import of ${PER_ROUND} nodes: ${importMs} ms; ${ROUNDS + 1} kills, ${nodes.length} nodes committed, ${body.reconcile.last.created} directories made by the start pass; rounds: ${JSON.stringify(rounds)}`);
});

test('a state directory removed behind netroot\'s back is reported until a reconcile on demand recreates it', async () => {
  assert.ok(nr, 'the service of the previous test runs');
  const victim = 'n7.crash.test';
  await rm(join(stateDir(), victim), { recursive: true });
  const h = await nfsHealth();
  assert.equal(h.status, 'degraded');
  assert.equal(h.missing, 1);
  assert.match(h.detail, /1 node\(s\) missing a state directory or export \(first: n7\.crash\.test, no state directory/);
  const st = await nr!.cli(['status'], { token });
  assert.equal(st.code, 1);
  assert.match(st.stdout, /nfs\s+degraded\s+1 node\(s\) missing/);
  const ex = (await api('GET', '/exports')).body.reconcile.now;
  assert.deepEqual(ex.lacking.map((l: { fqdn: string; lacks: string[] }) => [l.fqdn, l.lacks]), [[victim, ['stateDir']]]);
  // Nothing repairs it behind the admin's back either: it stays reported.
  assert.equal((await nfsHealth()).status, 'degraded');

  const r = await nr!.cli(['exports', 'reconcile'], { token });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /1 state directories created/);
  assert.ok(existsSync(join(stateDir(), victim, 'var/log')));
  assert.equal((await nfsHealth()).status, 'ok');
});

test('what the reconciler cannot fix is reported per node with the reason, and left alone', async () => {
  const victim = 'n8.crash.test';
  await rm(join(stateDir(), victim), { recursive: true });
  writeFileSync(join(stateDir(), victim), 'someone put a file here\n');
  const r = await nr!.cli(['exports', 'reconcile'], { token });
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stdout, /n8\.crash\.test\s+10\.60\.0\.8\s+stateDir,stateExport\s+state\/n8\.crash\.test is not a plain directory/);
  assert.equal(readFileSync(join(stateDir(), victim), 'utf8'), 'someone put a file here\n');
  const h = await nfsHealth();
  assert.equal(h.status, 'degraded');
  assert.doesNotMatch(readFileSync(sb.filePath, 'utf8'), /n8\.crash\.test /, 'its export is left out while the directory is missing');
  await rm(join(stateDir(), victim));
  const again = await api('POST', '/exports/reconcile');
  assert.equal(again.status, 200);
  assert.equal(again.body.ok, true, JSON.stringify(again.body.lacking));
  assert.equal((await nfsHealth()).status, 'ok');
  assert.match(readFileSync(sb.filePath, 'utf8'), /\/n8\.crash\.test 10\.60\.0\.8\(/);
});

test('kill -9 in the middle of a node delete: the restart archives the state directory the delete left', async () => {
  // An exportfs held while a file exists, so the kill lands inside the delete's apply: the row
  // is gone, the directory not yet archived.
  const hold = join(dataDir, 'hold-exportfs');
  const held = join(dataDir, 'exportfs-held');
  const gated = join(dataDir, 'exportfs-gated');
  writeFileSync(gated, `#!/bin/sh\nif [ -e '${hold}' ]; then touch '${held}'; while [ -e '${hold}' ]; do sleep 0.05; done; fi\nexec '${sb.exportfsWrapper}' "$@"\n`);
  chmodSync(gated, 0o755);
  await nr!.stop();
  nr = await startService(gated);
  await reconciled('start');
  const victim = (await api('GET', '/nodes/n9.crash.test')).body;
  assert.ok(existsSync(join(stateDir(), victim.fqdn)));
  writeFileSync(hold, '');
  const del = api('DELETE', `/nodes/${victim.mac}`).catch(() => null);
  while (!existsSync(held)) await sleep(20);
  process.kill(nr!.proc.pid, 'SIGKILL');
  await nr!.proc.exited;
  await del;
  rmSync(hold);
  nr = null;
  // What the kill left: the node deleted, its directory still where it was (before this fix, for good).
  assert.ok(existsSync(join(stateDir(), victim.fqdn)));

  nr = await startService();
  assert.equal((await api('GET', `/nodes/${victim.mac}`)).status, 404, 'the delete had committed');
  const body = await reconciled('start');
  assert.deepEqual(body.reconcile.last.archived, [victim.fqdn]);
  assert.equal(existsSync(join(stateDir(), victim.fqdn)), false);
  const archive = (await api('GET', '/state/archive')).body.items as { fqdn: string; name: string }[];
  assert.ok(archive.some((a) => a.fqdn === victim.fqdn), JSON.stringify(archive));
  assert.equal(body.reconcile.now.orphansTotal, 0);
  assert.doesNotMatch(readFileSync(sb.filePath, 'utf8'), /n9\.crash\.test /);
  assert.equal((await nfsHealth()).status, 'ok');
});
