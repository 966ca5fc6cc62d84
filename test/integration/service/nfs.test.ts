/**
 * The whole service with the Ganesha backend, driven only through the API: registering nodes
 * creates their state directories and exports (rw to that node only), renaming moves them,
 * deleting archives them, and real NFS clients (libnfs-utils) in namespaces see exactly that.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGaneshaLab, NODE_A, NODE_B, type GaneshaLab } from '../nfs/ganesha-lab.js';
import { startNetroot, type Netroot } from '../../helpers/service.js';

let lab: GaneshaLab;
let nr: Netroot;

async function applied(fqdnInTable: string, present = true): Promise<string> {
  let rendered = '';
  for (let i = 0; i < 100; i++) {
    const r = await nr.api('GET', '/exports');
    rendered = r.body.rendered ?? '';
    if (!r.body.pending && r.body.lastApply?.ok && rendered.includes(fqdnInTable) === present) return rendered;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`export table never ${present ? 'gained' : 'lost'} ${fqdnInTable}:\n${rendered}`);
}

before(async () => {
  lab = await createGaneshaLab({ precreateState: false });
  writeFileSync(lab.exportsFile, '');
  await lab.startGanesha();
  nr = await startNetroot({
    dataDir: lab.dir,
    config: {
      nfs: {
        backend: 'ganesha',
        nodeNetworks: ['10.53.0.0/16'],
        debounceMs: 50,
        ganesha: { exportsFile: lab.exportsFile, pidFile: lab.pidFile, logPath: lab.logFile, mainConfig: lab.mainConf },
      },
    },
  });
});

after(async () => {
  await nr?.stop();
  await lab?.destroy();
});

test('registered nodes get a state directory exported to them alone', async () => {
  for (const n of [NODE_A, NODE_B]) {
    const r = await nr.api('POST', '/nodes', { mac: n === NODE_A ? '02:53:00:00:00:0a' : '02:53:00:00:00:0b', fqdn: n.fqdn, ipv4: n.ipv4 });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.ok(existsSync(join(lab.stateDir, n.fqdn, 'var/log')), 'statetab /var/log pre-created');
  }
  await applied(NODE_B.fqdn);
  const local = join(lab.dir, 'hello.txt');
  writeFileSync(local, 'state of a\n');
  const put = await lab.nfs(lab.a, ['nfs-cp', local, lab.url(join(lab.stateDir, NODE_A.fqdn, 'hello.txt'))]);
  assert.equal(put.code, 0, put.out);
  assert.equal((await lab.nfs(lab.b, ['nfs-ls', lab.url(join(lab.stateDir, NODE_A.fqdn))])).code, 1, 'B cannot open A\'s state');
  assert.equal((await lab.nfs(lab.a, ['nfs-ls', lab.url(join(lab.imagesDir, 'debian/1/root/etc'))])).code, 0, 'A reads the root');
  const st = await nr.api('GET', `/nodes/${NODE_A.fqdn}/state`);
  assert.equal(st.body.exists, true);
  assert.ok(st.body.usage.bytes >= 11);
  const h = await nr.api('GET', '/health', undefined, null);
  assert.equal(h.body.subsystems.nfs.status, 'ok', JSON.stringify(h.body.subsystems.nfs));
});

test('renaming moves the state directory and its export; dry run then shows no change', async () => {
  const r = await nr.api('PATCH', `/nodes/${NODE_A.fqdn}`, { fqdn: 'a2.lab.test' });
  assert.equal(r.status, 200);
  assert.ok(existsSync(join(lab.stateDir, 'a2.lab.test', 'hello.txt')));
  assert.ok(!existsSync(join(lab.stateDir, NODE_A.fqdn)));
  await applied('a2.lab.test');
  const cat = await lab.nfs(lab.a, ['nfs-cat', lab.url(join(lab.stateDir, 'a2.lab.test', 'hello.txt'))]);
  assert.equal(cat.code, 0, cat.out);
  assert.match(cat.out, /state of a/);
  const dry = await nr.api('POST', '/exports/apply?dryRun=1');
  assert.equal(dry.status, 200);
  assert.equal(dry.body.dryRun, true);
  assert.equal(dry.body.added + dry.body.removed, 0, dry.body.diff);
});

test('deleting a node archives its state (never deletes it) and a restore brings it back', async () => {
  const root = lab.url(join(lab.imagesDir, 'debian/1/root/etc'));
  assert.equal((await lab.nfs(lab.b, ['nfs-ls', root])).code, 0, 'registered B reads the root');
  assert.equal((await nr.api('DELETE', `/nodes/${NODE_B.fqdn}`)).status, 200);
  await applied(NODE_B.fqdn, false);
  assert.ok(!existsSync(join(lab.stateDir, NODE_B.fqdn)));
  // The root export follows the registry: B's address no longer mounts it.
  assert.doesNotMatch((await nr.api('GET', '/exports')).body.rendered, /Clients = [^;]*10\.53\.1\.6/);
  assert.notEqual((await lab.nfs(lab.b, ['nfs-ls', root])).code, 0, 'deleted B no longer reads the root');
  const arch = await nr.api('GET', '/state/archive');
  const item = arch.body.items.find((i: { fqdn: string }) => i.fqdn === NODE_B.fqdn);
  assert.ok(item, JSON.stringify(arch.body));
  assert.equal((await nr.api('POST', `/nodes`, { mac: '02:53:00:00:00:0b', fqdn: NODE_B.fqdn, ipv4: NODE_B.ipv4 })).status, 201);
  await applied(NODE_B.fqdn);
  assert.equal((await lab.nfs(lab.b, ['nfs-ls', root])).code, 0, 'registered again, B reads the root again');
  const clash = await nr.api('POST', `/state/archive/${item.name}/restore`);
  assert.equal(clash.status, 409, 'a fresh state dir exists for that FQDN');
  const other = await nr.api('POST', `/state/archive/${item.name}/restore`, { fqdn: 'b-old.lab.test' });
  assert.equal(other.status, 200, JSON.stringify(other.body));
  assert.ok(existsSync(join(lab.stateDir, 'b-old.lab.test')));
  assert.equal((await nr.api('POST', '/state/archive/nobody.lab.test-20260101T000000Z/restore')).status, 404);
  assert.equal((await nr.api('POST', '/state/archive/..%2Fetc/restore')).status, 400);
});
