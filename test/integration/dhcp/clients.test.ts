/**
 * Real DHCP clients against netroot's DHCP server, inside network namespaces only (10.51.x.x):
 * udhcpc and dhclient get their reservation and boot fields, an unknown MAC gets nothing and is
 * reported, arch 0/7/9/11 and iPXE get the right file, and two interfaces each serve their subnet.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, type Ns } from '../../helpers/netns.js';
import type { Started } from '../../helpers/proc.js';
import { RAW_CLIENT, counters, dhclientFiles, lines, node, requireTools, startServer, tempDir, udhcpcScript, writeFixture } from './lab.js';
import type { DhcpServerOptions } from '../../../pxe/dhcp/index.js';
import type { Discovery } from '../../../pxe/boot/events.js';

const MAC_A = '02:51:00:00:01:0a';
const MAC_B = '02:51:00:00:02:0b';
const MAC_UNKNOWN = '02:51:00:00:09:99';

let lab: Lab;
let srv: Ns, cli1: Ns, cli2: Ns;
let server: Started;
let tmp: ReturnType<typeof tempDir>;

before(async () => {
  await requireTools('udhcpc', 'dhclient');
  tmp = tempDir();
  lab = await Lab.create('dhcp');
  srv = await lab.ns('srv');
  cli1 = await lab.ns('c1');
  cli2 = await lab.ns('c2');
  await lab.link(srv, '10.51.1.1/24', cli1, null); // va0 <-> vb0
  await lab.link(srv, '10.51.2.1/24', cli2, null); // va1 <-> vb1
  const options: DhcpServerOptions = {
    mode: 'full',
    interfaces: ['va0', 'va1'],
    subnets: [
      { cidr: '10.51.1.0/24', router: '10.51.1.1', dns: ['10.51.1.1'], leaseTimeSec: 600 },
      { cidr: '10.51.2.0/24', router: '10.51.2.1', domain: 'two.example' },
    ],
    httpBase: 'http://10.51.1.1:8080',
    detectRivalsAtStart: false,
  };
  const nodes = [node(MAC_A, '10.51.1.10', 'alpha.one.example'), node(MAC_B, '10.51.2.10', 'beta', {}, null)];
  server = await startServer(srv, writeFixture(tmp.dir, options, nodes));
});

after(async () => {
  await server?.stop();
  await lab?.destroy();
  tmp?.cleanup();
});

async function udhcpc(ns: Ns, ifname: string, mac: string): Promise<{ code: number | null; out: string }> {
  await ns.run(['ip', 'link', 'set', ifname, 'address', mac]);
  const c = ns.start(['udhcpc', '-f', '-q', '-n', '-i', ifname, '-t', '3', '-T', '1', '-A', '1', '-s', udhcpcScript(tmp.dir)]);
  const code = await c.exited;
  return { code, out: c.output() };
}

test('udhcpc gets its reservation, mask, router, hostname, domain, root path and boot file', async () => {
  const r = await udhcpc(cli1, 'vb0', MAC_A);
  assert.equal(r.code, 0, r.out);
  const bound = r.out.split('\n').find((l) => l.startsWith('UDHCPC bound'));
  assert.ok(bound, r.out);
  assert.match(bound, /ip=10\.51\.1\.10 /);
  assert.match(bound, /siaddr=10\.51\.1\.1 /);
  assert.match(bound, /boot_file=undionly\.kpxe /);
  assert.match(bound, /hostname=alpha\.one\.example domain=one\.example /);
  assert.match(bound, /rootpath=10\.51\.1\.1:\/var\/lib\/netroot\/images\/centos\/3\/root /);
  assert.match(bound, /serverid=10\.51\.1\.1 subnet=255\.255\.255\.0 router=10\.51\.1\.1/);
  const kinds = lines<{ mac: string; kind: string }>(server, 'EVENT').filter((e) => e.mac === MAC_A).map((e) => e.kind);
  assert.ok(kinds.includes('dhcp.offer') && kinds.includes('dhcp.ack'), kinds.join());
});

test('dhclient (isc-dhcp-client) gets its reservation and boot fields', async () => {
  await cli1.run(['ip', 'link', 'set', 'vb0', 'address', MAC_A]);
  const f = dhclientFiles(tmp.dir);
  const c = cli1.start(['dhclient', '-4', '-d', '-1', '-v', '-sf', f.script, '-cf', f.conf, '-lf', f.lease, '-pf', f.pid, 'vb0']);
  try {
    const m = await c.waitFor(/DHCLIENT (BOUND|REBOOT) .*/, 30_000);
    assert.match(m[0], /ip=10\.51\.1\.10 /);
    assert.match(m[0], /file=undionly\.kpxe /);
    assert.match(m[0], /host=alpha\.one\.example domain=one\.example root=10\.51\.1\.1:\/var\/lib\/netroot\/images\/centos\/3\/root server=10\.51\.1\.1/);
  } finally {
    await c.stop();
  }
});

test('unknown MAC: no lease, reported as discovered', async () => {
  const r = await udhcpc(cli1, 'vb0', MAC_UNKNOWN);
  assert.notEqual(r.code, 0);
  assert.doesNotMatch(r.out, /UDHCPC bound/);
  const d = lines<Discovery>(server, 'DISCOVERY').filter((x) => x.mac === MAC_UNKNOWN);
  assert.equal(d.length, 1);
  assert.equal(d[0]!.via, 'dhcp');
  assert.equal(d[0]!.relay, null);
});

test('two interfaces: each client gets its own subnet from the interface it is on', async () => {
  const r = await udhcpc(cli2, 'vb1', MAC_B);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /UDHCPC bound ip=10\.51\.2\.10 siaddr=10\.51\.2\.1 boot_file=undionly\.kpxe hostname=beta domain=two\.example rootpath= serverid=10\.51\.2\.1/);
  // MAC_B's reservation is on the second interface's subnet: asked on the first, it stays silent.
  const wrong = await udhcpc(cli1, 'vb0', MAC_B);
  assert.notEqual(wrong.code, 0);
  const c = await counters(server);
  assert.ok((c.ignored!['reservation-wrong-subnet'] ?? 0) >= 1);
});

test('arch 0/7/9/11 and iPXE user class each get the right boot file (crafted client)', async () => {
  await cli1.run(['ip', 'link', 'set', 'vb0', 'address', '02:51:00:00:01:ff']);
  const cases: [string, string, string][] = [
    ['0', '-', 'undionly.kpxe'],
    ['7', '-', 'ipxe.efi'],
    ['9', '-', 'ipxe.efi'],
    ['11', '-', 'ipxe-arm64.efi'],
    ['7', 'iPXE', `http://10.51.1.1:8080/boot/${MAC_A}.ipxe`],
  ];
  for (const [arch, uc, want] of cases) {
    const c = cli1.start(['node', RAW_CLIENT, 'vb0', MAC_A, arch, uc, '--wait', '1500'], { cwd: process.cwd() });
    await c.exited;
    const reply = c.output().split('\n').find((l) => l.startsWith('REPLY '));
    assert.ok(reply, `arch ${arch} ${uc}: no reply\n${c.output()}`);
    const r = JSON.parse(reply.slice(6)) as { type: number; yiaddr: string; file: string; ipxe: [number, number[]][] | null };
    assert.equal(r.type, 2);
    assert.equal(r.yiaddr, '10.51.1.10');
    assert.equal(r.file, want, `arch ${arch} ${uc}`);
    assert.deepEqual(r.ipxe, uc === 'iPXE' ? [[176, [1]]] : null);
  }
});

test('each DHCP socket gets the 2 MiB receive buffer (a boot storm arrives in bursts)', async () => {
  const r = await srv.run(['ss', '-u', '-l', '-n', '-m', 'sport', '=', ':67']);
  // The kernel reports twice the request (bookkeeping overhead): rb4194304 for 2 MiB.
  const sizes = [...r.stdout.matchAll(/rb(\d+)/g)].map((m) => Number(m[1]));
  assert.equal(sizes.length, 2, r.stdout); // va0 and va1
  for (const s of sizes) assert.equal(s, 4 * 1024 * 1024, r.stdout);
});
