/**
 * The whole service as an admin runs it: `netroot serve` with DHCP on a namespace interface, a node
 * registered through the API, real udhcpc clients. Namespaces and 10.51.200.x only.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { Lab, type Ns } from '../../helpers/netns.js';
import { removeDir, startNetroot, type Netroot } from '../../helpers/service.js';
import { requireTools, tempDir, udhcpcScript } from '../dhcp/lab.js';

const MAC = '02:51:c8:00:00:01';
const UNKNOWN = '02:51:c8:00:00:99';
let lab: Lab;
let srv: Ns;
let cli: Ns;
let nr: Netroot;
let tmp: ReturnType<typeof tempDir>;

before(async () => {
  await requireTools('udhcpc');
  tmp = tempDir();
  lab = await Lab.create('svc');
  srv = await lab.ns('srv');
  cli = await lab.ns('cli');
  await lab.link(srv, '10.51.200.1/24', cli, null);
  nr = await startNetroot({
    wrap: ['ip', 'netns', 'exec', srv.name],
    config: {
      http: { listen: '0.0.0.0', port: 8080 },
      dhcp: { interfaces: ['va0'], subnets: [{ cidr: '10.51.200.0/24', router: '10.51.200.1', dns: ['10.51.200.1'] }], detectRivalsAtStart: false },
    },
  });
  const r = await nr.api('POST', '/nodes', { mac: MAC, fqdn: 'n1.lab.example', ipv4: '10.51.200.10' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
});

after(async () => {
  await nr?.stop();
  await lab?.destroy();
  if (nr) removeDir(nr.dataDir);
  tmp?.cleanup();
});

async function udhcpc(mac: string, extra: string[] = []) {
  await cli.run(['ip', 'link', 'set', 'vb0', 'address', mac]);
  const c = cli.start(['udhcpc', '-f', '-q', '-n', '-i', 'vb0', '-t', '3', '-T', '1', '-A', '1', '-s', udhcpcScript(tmp.dir), ...extra]);
  const code = await c.exited;
  return { code, out: c.output(), bound: c.output().split('\n').find((l) => l.startsWith('UDHCPC bound')) };
}

test('a registered node gets its reservation from the running service; the timeline shows it', async () => {
  const r = await udhcpc(MAC);
  assert.equal(r.code, 0, r.out);
  assert.match(r.bound!, /ip=10\.51\.200\.10 siaddr=10\.51\.200\.1 boot_file=undionly\.kpxe hostname=n1\.lab\.example domain=lab\.example/);
  let kinds: string[] = [];
  for (let i = 0; i < 20 && !kinds.includes('dhcp.ack'); i++) {
    await new Promise((res) => setTimeout(res, 100));
    kinds = (await nr.api('GET', `/nodes/${MAC}/events`)).body.items.map((e: { kind: string }) => e.kind);
  }
  assert.ok(kinds.includes('dhcp.offer') && kinds.includes('dhcp.ack'), kinds.join());
  const h = await nr.api('GET', '/health', undefined, null);
  assert.equal(h.body.subsystems.dhcp.status, 'ok');
});

test('iPXE (user class) is sent its boot script URL on the address it asked on', async () => {
  const r = await udhcpc(MAC, ['-x', '0x4d:69505845']);
  assert.equal(r.code, 0, r.out);
  assert.match(r.bound!, new RegExp(`boot_file=http://10\\.51\\.200\\.1:8080/boot/${MAC}\\.ipxe `));
});

test('an unknown MAC gets nothing and is listed as discovered', async () => {
  const r = await udhcpc(UNKNOWN);
  assert.notEqual(r.code, 0);
  assert.equal(r.bound, undefined);
  let items: { mac: string }[] = [];
  for (let i = 0; i < 20 && !items.some((d) => d.mac === UNKNOWN); i++) {
    await new Promise((res) => setTimeout(res, 100));
    items = (await nr.api('GET', '/discovered')).body.items;
  }
  assert.ok(items.some((d) => d.mac === UNKNOWN), JSON.stringify(items));
  // Registering it from the discovered list makes the next request succeed.
  assert.equal((await nr.api('POST', `/discovered/${UNKNOWN}/register`, { fqdn: 'n2.lab.example', ipv4: '10.51.200.11' })).status, 201);
  const again = await udhcpc(UNKNOWN);
  assert.equal(again.code, 0, again.out);
  assert.match(again.bound!, /ip=10\.51\.200\.11 /);
});

test('/metrics shows the DHCP traffic that happened', async () => {
  const m = await nr.api('GET', '/metrics', undefined, null);
  assert.equal(m.status, 200);
  const text = String(m.body);
  const acks = /netroot_dhcp_packets_total\{direction="out",type="ACK",outcome="sent"\} (\d+)/.exec(text);
  assert.ok(acks && Number(acks[1]) >= 2, text.slice(0, 2000));
  assert.match(text, /netroot_dhcp_events_total\{kind="ack"\} \d+/);
  assert.match(text, /netroot_dhcp_packets_total\{direction="in",type="",outcome="unknown-mac"\} \d+/);
  assert.match(text, /netroot_discovered_macs_total 1/);
  assert.match(text, /netroot_nodes 2/);
});

test('reload: SIGHUP applies a new router; a bad config is refused naming the field and DHCP keeps serving', async () => {
  const cfg = JSON.parse(readFileSync(nr.configPath, 'utf8'));
  cfg.dhcp.subnets[0].router = '10.51.200.254';
  writeFileSync(nr.configPath, JSON.stringify(cfg));
  process.kill(nr.proc.pid, 'SIGHUP');
  await nr.proc.waitFor(/"msg":"configuration reloaded"/, 10_000);
  const r = await udhcpc(MAC);
  assert.equal(r.code, 0, r.out);
  assert.match(r.bound!, /router=10\.51\.200\.254/);

  cfg.dhcp.subnets[0].router = 'not-an-ip';
  writeFileSync(nr.configPath, JSON.stringify(cfg));
  const bad = await nr.api('POST', '/reload');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.field, 'dhcp.subnets.0.router');
  cfg.dhcp.subnets[0].cidr = '10.51.200.7/24';
  cfg.dhcp.subnets[0].router = '10.51.200.1';
  writeFileSync(nr.configPath, JSON.stringify(cfg));
  const bad2 = await nr.cli(['reload']);
  assert.equal(bad2.code, 1);
  assert.match(bad2.stderr, /dhcp\.subnets\[0\]\.cidr/);
  const still = await udhcpc(MAC);
  assert.equal(still.code, 0, still.out);
  assert.match(still.bound!, /router=10\.51\.200\.254/, 'the running config is kept');
  cfg.dhcp.subnets[0].cidr = '10.51.200.0/24';
  cfg.http.port = 8081;
  writeFileSync(nr.configPath, JSON.stringify(cfg));
  const ok = await nr.api('POST', '/reload');
  assert.deepEqual(ok.body, { applied: ['dhcp'], restartNeeded: ['http'] });
});

test('DHCP API: rivals and counters', async () => {
  const rv = await nr.api('POST', '/dhcp/rivals/detect', { timeoutMs: 500 });
  assert.equal(rv.status, 200, JSON.stringify(rv.body));
  assert.deepEqual(rv.body.items, []);
  const c = await nr.api('GET', '/dhcp/counters');
  assert.equal(c.body.enabled, true);
  assert.ok(c.body.sent.ACK >= 2, JSON.stringify(c.body));
});
