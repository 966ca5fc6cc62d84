/**
 * Addresses a node must never get, through the running service: dhcp.subnets = 10.91.0.0/24,
 * netroot at .1 (the interface's address), router .254, pool .100-.200. The API refuses them
 * (create, update, import), a reload that would strand registered nodes is refused naming them,
 * rows an older netroot left in the store are reported (API field, health, `netroot status`),
 * and a real DHCP client asking for such a node gets no OFFER at all. Namespaces only.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, type Ns } from '../../helpers/netns.js';
import { removeDir, startNetroot, type Netroot } from '../../helpers/service.js';
import { requireTools, tempDir, udhcpcScript } from '../dhcp/lab.js';
import { openSqliteStore } from '../../../server/store/sqlite/index.js';

const SUBNET = { cidr: '10.91.0.0/24', router: '10.91.0.254', dns: ['10.91.0.1'], pool: { start: '10.91.0.100', end: '10.91.0.200' } };
const mac = (i: number) => `02:91:00:00:00:${i.toString(16).padStart(2, '0')}`;
const row = (i: number, ipv4: string) => ({
  mac: mac(i), fqdn: `old${i}.lab.example`, ipv4, image: null, pinnedVersion: null, kernelArgs: '', bootMode: 'ipxe' as const, stateMode: 'nfs' as const, enabled: true,
});
// What an older netroot accepted: netroot's own address, network, broadcast, a pool address, an
// address in no subnet; and one good node.
const OLD = [row(1, '10.91.0.1'), row(2, '10.91.0.0'), row(3, '10.91.0.255'), row(4, '10.91.0.150'), row(5, '10.92.0.5'), row(9, '10.91.0.10')];

let lab: Lab;
let srv: Ns;
let cli: Ns;
let nr: Netroot;
let tmp: ReturnType<typeof tempDir>;

before(async () => {
  await requireTools('udhcpc');
  tmp = tempDir();
  lab = await Lab.create('addr');
  srv = await lab.ns('srv');
  cli = await lab.ns('cli');
  await lab.link(srv, '10.91.0.1/24', cli, null);
  // The old database: rows written with the store directly, as a netroot without the checks did.
  const dataDir = mkdtempSync(join(tmpdir(), 'netroot-test-'));
  const store = openSqliteStore(join(dataDir, 'netroot.db'), Date.now, { eventWriterThread: false });
  await store.nodes.createMany(OLD);
  await store.close();
  nr = await startNetroot({
    dataDir,
    wrap: ['ip', 'netns', 'exec', srv.name],
    config: { http: { listen: '0.0.0.0', port: 8080 }, dhcp: { interfaces: ['va0'], subnets: [SUBNET], detectRivalsAtStart: false } },
  });
});

after(async () => {
  await nr?.stop();
  await lab?.destroy();
  if (nr) removeDir(nr.dataDir);
  tmp?.cleanup();
});

async function udhcpc(m: string) {
  await cli.run(['ip', 'link', 'set', 'vb0', 'address', m]);
  const c = cli.start(['udhcpc', '-f', '-q', '-n', '-i', 'vb0', '-t', '2', '-T', '1', '-A', '1', '-s', udhcpcScript(tmp.dir)]);
  const code = await c.exited;
  return { code, out: c.output(), bound: c.output().split('\n').find((l) => l.startsWith('UDHCPC bound')) };
}

test('rows an older netroot stored with such addresses are reported at start: log, API field, health, netroot status', async () => {
  assert.match(nr.proc.output(), /"count":5[^\n]*5 registered nodes have addresses DHCP will not give/);
  const list = await nr.api('GET', '/nodes?limit=100&sort=mac');
  const problems = Object.fromEntries(list.body.items.map((n: { fqdn: string; addressProblem: string | null }) => [n.fqdn, n.addressProblem]));
  assert.deepEqual(problems, {
    'old1.lab.example': "10.91.0.1 is netroot's own address on 10.91.0.0/24",
    'old2.lab.example': '10.91.0.0 is the network address of 10.91.0.0/24',
    'old3.lab.example': '10.91.0.255 is the broadcast address of 10.91.0.0/24',
    'old4.lab.example': '10.91.0.150 is inside the dynamic pool 10.91.0.100-10.91.0.200 of 10.91.0.0/24, kept for unregistered clients',
    'old5.lab.example': '10.92.0.5 is in no configured subnet (dhcp.subnets: 10.91.0.0/24)',
    'old9.lab.example': null,
  });
  assert.match((await nr.api('GET', `/nodes/${mac(3)}`)).body.addressProblem, /broadcast/);
  const h = await nr.api('GET', '/health', undefined, null);
  assert.equal(h.body.status, 'degraded');
  assert.equal(h.body.subsystems.addresses.status, 'degraded');
  assert.equal(h.body.subsystems.addresses.stranded, 5);
  const st = await nr.cli(['status']);
  assert.equal(st.code, 1, st.stdout + st.stderr);
  assert.match(st.stdout, /addresses\s+degraded\s+5 registered nodes have addresses DHCP will not give: old1\.lab\.example/);
});

test('a real DHCP client gets no OFFER for a stored node whose address is bad; the good node is served', async () => {
  for (const i of [1, 2, 3, 4]) {
    const r = await udhcpc(mac(i));
    assert.notEqual(r.code, 0, r.out);
    assert.equal(r.bound, undefined, r.out);
    // busybox udhcpc says "sending select for <ip>" once it has an offer in hand.
    assert.doesNotMatch(r.out, /select|obtained/, r.out);
  }
  const good = await udhcpc(mac(9));
  assert.equal(good.code, 0, good.out);
  assert.match(good.bound!, /ip=10\.91\.0\.10 /);
  const c = await nr.api('GET', '/dhcp/counters');
  assert.equal(c.body.sent.OFFER, 1, JSON.stringify(c.body));
  assert.ok(c.body.ignored['bad-reservation'] >= 4, JSON.stringify(c.body));
  // Logged once per MAC (udhcpc sent two DISCOVERs each), and on the node's timeline.
  assert.equal(nr.proc.output().split('\n').filter((l) => l.includes(`not answering ${mac(3)}`)).length, 1);
  let ev: { kind: string; detail: { ip: string; reason: string } }[] = [];
  for (let i = 0; i < 30 && !ev.some((e) => e.kind === 'dhcp.refused'); i++) {
    await new Promise((res) => setTimeout(res, 100));
    ev = (await nr.api('GET', `/nodes/${mac(3)}/events`)).body.items;
  }
  assert.deepEqual(ev.map((e) => [e.kind, e.detail.ip, e.detail.reason]), [['dhcp.refused', '10.91.0.255', 'broadcast']]);
  const m = String((await nr.api('GET', '/metrics', undefined, null)).body);
  assert.match(m, /netroot_dhcp_packets_total\{direction="in",type="",outcome="bad-reservation"\} \d+/);
});

test('the API refuses such addresses: create, update and import (400 naming ipv4 and why), nothing stored', async () => {
  const cases: [string, RegExp][] = [
    ['10.91.0.1', /^ipv4: 10\.91\.0\.1 is netroot's own address on 10\.91\.0\.0\/24$/],
    ['10.91.0.0', /network address/],
    ['10.91.0.255', /broadcast address/],
    ['10.91.0.254', /router/],
    ['10.91.0.100', /dynamic pool/],
    ['10.91.0.200', /dynamic pool/],
    ['10.93.1.1', /in no configured subnet/],
  ];
  for (const [ipv4, why] of cases) {
    const r = await nr.api('POST', '/nodes', { mac: '02:91:00:00:01:01', fqdn: 'new.lab.example', ipv4 });
    assert.equal(r.status, 400, `${ipv4}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.field, 'ipv4');
    assert.match(r.body.error.message, why);
  }
  assert.equal((await nr.api('GET', '/nodes/new.lab.example')).status, 404);
  const ok = await nr.api('POST', '/nodes', { mac: '02:91:00:00:01:01', fqdn: 'new.lab.example', ipv4: '10.91.0.20' });
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
  assert.equal(ok.body.addressProblem, null);
  const p = await nr.api('PATCH', '/nodes/new.lab.example', { ipv4: '10.91.0.255' });
  assert.equal(p.status, 400);
  assert.equal(p.body.error.field, 'ipv4');
  assert.equal((await nr.api('GET', '/nodes/new.lab.example')).body.ipv4, '10.91.0.20');
  // A stranded node can still be changed otherwise (disabled, renamed) and moved to a good address.
  const d = await nr.api('PATCH', `/nodes/${mac(5)}`, { enabled: false });
  assert.equal(d.status, 200, JSON.stringify(d.body));
  assert.match(d.body.addressProblem, /no configured subnet/);
  const moved = await nr.api('PATCH', `/nodes/${mac(5)}`, { ipv4: '10.91.0.30', enabled: true });
  assert.equal(moved.status, 200);
  assert.equal(moved.body.addressProblem, null);
  assert.equal((await nr.api('GET', '/health', undefined, null)).body.subsystems.addresses.stranded, 4);

  const rows = [0, 1, 2, 3].map((i) => ({ mac: `02:91:00:00:02:0${i}`, fqdn: `imp${i}.lab.example`, ipv4: `10.91.0.${40 + i}` }));
  const bad = await nr.api('POST', '/nodes/import', [rows[0], rows[1], { ...rows[2], ipv4: '10.91.0.0' }, rows[3]]);
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.field, '[2].ipv4');
  assert.match(bad.body.error.message, /^\[2\]\.ipv4: 10\.91\.0\.0 is the network address/);
  assert.equal((await nr.api('GET', '/nodes/imp0.lab.example')).status, 404, 'all or nothing');
  const imp = await nr.api('POST', '/nodes/import', rows);
  assert.equal(imp.status, 201);
  // Registering a discovered MAC goes through the same rule (an unknown MAC gets a pool address).
  const unknown = '02:91:00:00:03:01';
  const u = await udhcpc(unknown);
  assert.match(u.bound ?? u.out, /ip=10\.91\.0\.100 /);
  for (let i = 0; i < 30 && (await nr.api('GET', '/discovered')).body.total === 0; i++) await new Promise((res) => setTimeout(res, 100));
  const reg = await nr.api('POST', `/discovered/${unknown}/register`, { fqdn: 'disc.lab.example', ipv4: '10.91.0.100' });
  assert.equal(reg.status, 400, JSON.stringify(reg.body));
  assert.equal(reg.body.error.field, 'ipv4');
  assert.match(reg.body.error.message, /dynamic pool/);
});

test('a reload that would strand registered nodes is refused naming them; the running config is kept', async () => {
  const cfg = JSON.parse(readFileSync(nr.configPath, 'utf8'));
  // The pool grown down to .5 would take .10, .20, .30 and .40-.43 from their nodes.
  cfg.dhcp.subnets[0].pool = { start: '10.91.0.5', end: '10.91.0.200' };
  writeFileSync(nr.configPath, JSON.stringify(cfg));
  const r = await nr.api('POST', '/reload');
  assert.equal(r.status, 400, JSON.stringify(r.body));
  assert.equal(r.body.error.field, 'dhcp.subnets');
  assert.match(r.body.error.message, /would leave 7 registered nodes with an address DHCP will not give: \S+: 10\.91\.0\.\d+ is inside the dynamic pool 10\.91\.0\.5-10\.91\.0\.200 of 10\.91\.0\.0\/24, kept for unregistered clients; .*; and 4 more; change or delete them first$/);
  process.kill(nr.proc.pid, 'SIGHUP');
  await nr.proc.waitFor(/reload refused; the running configuration is kept/, 10_000);
  const still = await udhcpc(mac(9));
  assert.equal(still.code, 0, still.out);
  assert.match(still.bound!, /ip=10\.91\.0\.10 /);
  // A change that strands no one new is applied, even while older rows are still reported.
  cfg.dhcp.subnets[0].pool = { start: '10.91.0.100', end: '10.91.0.199' };
  writeFileSync(nr.configPath, JSON.stringify(cfg));
  assert.equal((await nr.api('POST', '/reload')).status, 200);
  // .200 has left the pool: a node may have it now.
  assert.equal((await nr.api('POST', '/nodes', { mac: '02:91:00:00:04:01', fqdn: 'edge.lab.example', ipv4: '10.91.0.200' })).status, 201);
});
