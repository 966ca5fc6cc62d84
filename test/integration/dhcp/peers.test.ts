/**
 * netroot's DHCP server beside real peers, inside namespaces only (10.51.x.x): perfdhcp as a relay,
 * a dnsmasq rival, proxy mode beside Kea, and a live fuzz after which a real client still gets its lease.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../../helpers/netns.js';
import { RAW_CLIENT, counters, lines, node, requireTools, startServer, tempDir, udhcpcScript, writeFixture } from './lab.js';
import type { Rival } from '../../../pxe/dhcp/index.js';

let tmp: ReturnType<typeof tempDir>;
const labs: Lab[] = [];
before(async () => {
  await requireTools('perfdhcp', 'dnsmasq', 'kea-dhcp4', 'udhcpc');
  tmp = tempDir();
});
after(async () => {
  for (const l of labs) await l.destroy();
  tmp?.cleanup();
});
async function newLab(): Promise<Lab> {
  const l = await Lab.create('dhcp');
  labs.push(l);
  return l;
}

test('relayed requests (perfdhcp as relay): reservations chosen by giaddr, answered to the relay', async () => {
  const lab = await newLab();
  const srv = await lab.ns('srv');
  const rel = await lab.ns('rel');
  await lab.link(srv, '10.51.3.1/24', rel, '10.51.3.2/24');
  // The relay's giaddr (10.51.3.2) selects 10.51.30.0/24, a subnet the server has no interface on.
  const fixture = writeFixture(tmp.dir, {
    mode: 'full', interfaces: ['va0'], httpBase: 'http://10.51.3.1:8080', detectRivalsAtStart: false,
    subnets: [{ cidr: '10.51.3.0/24', router: '10.51.3.1' }, { cidr: '10.51.30.0/24', router: '10.51.30.1' }],
  }, [], { macBase: '00:0c:01:02:03:04', ipBase: '10.51.3.100', count: 150 });
  // perfdhcp's giaddr is its interface address, inside 10.51.3.0/24: reservations there.
  const server = await startServer(srv, fixture);
  try {
    const p = rel.start(['perfdhcp', '-4', '-l', 'vb0', '-r', '20', '-n', '60', '-R', '100', '-p', '10', '-b', 'mac=00:0c:01:02:03:04', '10.51.3.1']);
    await p.exited;
    const out = p.output();
    const recv = [...out.matchAll(/received packets: (\d+)/g)].map((m) => Number(m[1]));
    assert.equal(recv.length, 2, out);
    assert.ok(recv[0]! > 0 && recv[1]! > 0, `no OFFERs/ACKs received by perfdhcp:\n${out}`);
    const c = await counters(server);
    assert.ok((c.sent!.ACK ?? 0) > 0, JSON.stringify(c));
    const acks = lines<{ kind: string; detail: { relay: string | null } }>(server, 'EVENT').filter((e) => e.kind === 'dhcp.ack');
    assert.ok(acks.every((e) => e.detail.relay === '10.51.3.2'));
  } finally {
    await server.stop();
  }
});

test('rival detection reports a dnsmasq answering on the interface; "refuse" refuses to serve', async () => {
  const lab = await newLab();
  const srv = await lab.ns('srv');
  const riv = await lab.ns('riv');
  await lab.link(srv, '10.51.4.1/24', riv, '10.51.4.2/24');
  // dnsmasq broadcasts its OFFER to 255.255.255.255, which needs a route (a real server host has a default one).
  await riv.run(['ip', 'route', 'add', 'default', 'dev', 'vb0']);
  const dnsmasq = riv.start(['dnsmasq', '--no-daemon', '--conf-file=/dev/null', '--port=0', '--interface=vb0', '--bind-interfaces',
    '--dhcp-range=10.51.4.100,10.51.4.150,1h', `--dhcp-leasefile=${join(tmp.dir, 'dnsmasq.leases')}`, `--pid-file=${join(tmp.dir, 'dnsmasq.pid')}`]);
  try {
    await dnsmasq.waitFor(/DHCP, IP range/, 10_000);
    const opts = { mode: 'full' as const, interfaces: ['va0'], httpBase: 'http://10.51.4.1', subnets: [{ cidr: '10.51.4.0/24' }], rivalProbeMs: 6000 };
    const warn = await startServer(srv, writeFixture(tmp.dir, opts, []));
    const rivals = lines<Rival[]>(warn, 'RIVALS')[0]!;
    await warn.stop();
    assert.equal(rivals.length, 1, JSON.stringify(rivals));
    assert.equal(rivals[0]!.serverId, '10.51.4.2');
    assert.equal(rivals[0]!.ifname, 'va0');
    assert.equal(rivals[0]!.proxy, false);
    await assert.rejects(startServer(srv, writeFixture(tmp.dir, { ...opts, rivals: 'refuse' }, [])), /refusing to serve: other DHCP servers answer: 10\.51\.4\.2 on va0/);
  } finally {
    await dnsmasq.stop();
  }
});

test('proxy mode beside Kea: Kea gives the address, netroot only the boot file', async () => {
  const lab = await newLab();
  const sw = await lab.ns('sw');
  const srv = await lab.ns('srv');
  const kea = await lab.ns('kea');
  const cli = await lab.ns('cli');
  const br = await lab.bridge(sw, 'br0', null);
  await lab.link(srv, '10.51.5.1/24', sw, null); // va0 / vb0
  await lab.link(kea, '10.51.5.2/24', sw, null); // va1 / vb1
  await lab.link(cli, null, sw, null); // va2 / vb2
  for (const i of ['vb0', 'vb1', 'vb2']) await sw.run(['ip', 'link', 'set', i, 'master', br]);
  const keaConf = join(tmp.dir, 'kea.json');
  writeFileSync(keaConf, JSON.stringify({
    Dhcp4: {
      'interfaces-config': { interfaces: ['va1'], 'dhcp-socket-type': 'raw' },
      'lease-database': { type: 'memfile', persist: false },
      'valid-lifetime': 600,
      subnet4: [{ id: 1, subnet: '10.51.5.0/24', pools: [{ pool: '10.51.5.100 - 10.51.5.150' }], 'option-data': [{ name: 'routers', data: '10.51.5.2' }] }],
      loggers: [{ name: 'kea-dhcp4', output_options: [{ output: 'stdout' }], severity: 'INFO' }],
    },
  }));
  const k = kea.start(['kea-dhcp4', '-c', keaConf], { env: { ...process.env, KEA_LOCKFILE_DIR: tmp.dir, KEA_PIDFILE_DIR: tmp.dir } });
  const MAC = '02:51:00:00:05:01';
  const server = await startServer(srv, writeFixture(tmp.dir, { mode: 'proxy', interfaces: ['va0'], httpBase: 'http://10.51.5.1:8080', subnets: [], detectRivalsAtStart: false }, [node(MAC, '10.51.5.9', 'px.example')]));
  try {
    await k.waitFor(/DHCP4_STARTED|server version .* started/, 20_000);
    const c = cli.start(['node', RAW_CLIENT, 'va2', MAC, '7', '-', '--wait', '4000'], { cwd: process.cwd() });
    await c.exited;
    const replies = c.output().split('\n').filter((l) => l.startsWith('REPLY ')).map((l) => JSON.parse(l.slice(6)) as { type: number; yiaddr: string; siaddr: string; file: string });
    const fromKea = replies.find((r) => r.yiaddr !== '0.0.0.0');
    const fromUs = replies.find((r) => r.yiaddr === '0.0.0.0');
    assert.ok(fromKea, `no offer from Kea:\n${c.output()}\n${k.output()}`);
    assert.match(fromKea.yiaddr, /^10\.51\.5\.1\d\d$/);
    assert.ok(fromUs, `no proxy offer from netroot:\n${c.output()}`);
    assert.equal(fromUs.file, 'ipxe.efi');
    assert.equal(fromUs.siaddr, '10.51.5.1');
    // A plain DHCP client (no PXEClient) gets its address from Kea; netroot stays out of it.
    await cli.run(['ip', 'link', 'set', 'va2', 'address', '02:51:00:00:05:02']);
    const u = cli.start(['udhcpc', '-f', '-q', '-n', '-i', 'va2', '-t', '4', '-T', '1', '-A', '1', '-s', udhcpcScript(tmp.dir)]);
    assert.equal(await u.exited, 0, u.output());
    assert.match(u.output(), /UDHCPC bound ip=10\.51\.5\.1\d\d .*serverid=10\.51\.5\.2/);
    const cnt = await counters(server);
    assert.ok((cnt.ignored!['not-pxe'] ?? 0) >= 1);
  } finally {
    await server.stop();
    await k.stop();
  }
});

test('live fuzz: 100,000 random and mutated packets, then a real client still gets its lease', async () => {
  const lab = await newLab();
  const srv = await lab.ns('srv');
  const cli = await lab.ns('cli');
  await lab.link(srv, '10.51.6.1/24', cli, null);
  const MAC = '02:51:00:00:06:01';
  const server = await startServer(srv, writeFixture(tmp.dir, { mode: 'full', interfaces: ['va0'], httpBase: 'http://10.51.6.1', subnets: [{ cidr: '10.51.6.0/24' }], detectRivalsAtStart: false }, [node(MAC, '10.51.6.10', 'fz.example')]));
  try {
    const f = cli.start(['node', RAW_CLIENT, 'vb0', '02:51:00:00:06:99', '-', '-', '--junk', '100000', '--wait', '500'], { cwd: process.cwd() });
    await f.exited;
    const sent = Number(/JUNK (\d+)/.exec(f.output())?.[1] ?? 0);
    assert.ok(sent > 0, f.output());
    await cli.run(['ip', 'link', 'set', 'vb0', 'address', MAC]);
    const u = cli.start(['udhcpc', '-f', '-q', '-n', '-i', 'vb0', '-t', '5', '-T', '1', '-A', '1', '-s', udhcpcScript(tmp.dir)]);
    assert.equal(await u.exited, 0, u.output());
    assert.match(u.output(), /UDHCPC bound ip=10\.51\.6\.10 /);
    const c = await counters(server);
    const dropped = Object.values(c.dropped!).reduce((a, b) => a + b, 0);
    assert.ok(dropped > 0, JSON.stringify(c));
    assert.equal(c.dropped!['handler-error'] ?? 0, 0, JSON.stringify(c));
    console.log(`live fuzz: ${sent} packets sent; server counters ${JSON.stringify(c)}`);
  } finally {
    await server.stop();
  }
});
