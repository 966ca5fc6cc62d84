/** RFC 2131 4.3 behaviour of the handler, driven by captured client packets and an in-memory directory. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BootDirectory, BootTarget } from '../boot/types.js';
import type { BootEvent, Discovery } from '../boot/events.js';
import { decode, emptyPacket, type DhcpPacket } from './packet.js';
import { DhcpHandler, type Arrival } from './handler.js';
import { resolveOptions, type DhcpServerOptions } from './config.js';
import { FLAG_BROADCAST, MessageType, Opt } from './constants.js';
import { MemoryLeaseStore } from './leases.js';

const fx = (f: string) => decode(readFileSync(join(process.cwd(), 'test/fixtures/dhcp', f)));
const MAC = '52:54:00:77:00:10';
const target = (over: Partial<BootTarget['node']> = {}, image = true): BootTarget => ({
  node: { mac: MAC, fqdn: 'node1.lab.example', ipv4: '10.77.0.113', bootMode: 'ipxe', enabled: true, kernelArgs: '', image: 'centos', ...over },
  image: image ? { name: 'centos', version: '3', kernelPath: '/k', initrdPath: '/i', rootPath: '/srv/images/centos/3/root', kernelArgs: '' } : null,
});

function setup(opts: Partial<DhcpServerOptions> = {}, nodes: BootTarget[] = [target()]) {
  const events: BootEvent[] = [];
  const discoveries: Discovery[] = [];
  const directory: BootDirectory = { lookup: async (mac) => nodes.find((n) => n.node.mac === mac) ?? null };
  const leases = new MemoryLeaseStore();
  const h = new DhcpHandler(
    resolveOptions({
      mode: 'full', interfaces: ['eth1'], httpBase: 'http://10.77.0.1:8080/',
      subnets: [
        { cidr: '10.77.0.0/24', router: '10.77.0.254', dns: ['10.77.0.53'], leaseTimeSec: 600 },
        { cidr: '10.78.0.0/24', router: '10.78.0.1', domain: 'relay.example' },
      ],
      ...opts,
    }),
    { directory, events: (e) => events.push(e), discoveries: (d) => void discoveries.push(d), leases },
  );
  return { h, events, discoveries, leases };
}
const at: Arrival = { ifname: 'eth1', ifAddresses: ['10.77.0.1'], src: { address: '0.0.0.0', port: 68 }, localPort: 67 };

test('BIOS iPXE ROM DISCOVER: reserved address, HTTP script, 175.176, hostname, domain, root path', async () => {
  const { h, events } = setup();
  const [o, ...rest] = await h.handle(fx('bios-ipxe-01-dhcp-discover.bin'), at);
  assert.equal(rest.length, 0);
  const r = o!.packet;
  assert.equal(r.options.get(Opt.MessageType), MessageType.Offer);
  assert.equal(r.yiaddr, '10.77.0.113');
  assert.equal(r.siaddr, '10.77.0.1');
  assert.equal(r.options.get(Opt.ServerIdentifier), '10.77.0.1');
  assert.equal(r.file, `http://10.77.0.1:8080/boot/${MAC}.ipxe`);
  assert.deepEqual(r.options.get(Opt.IpxeEncap), [{ code: 176, data: Buffer.from([1]) }]);
  assert.equal(r.options.get(Opt.HostName), 'node1.lab.example');
  assert.equal(r.options.get(Opt.DomainName), 'lab.example');
  assert.equal(r.options.get(Opt.RootPath), '10.77.0.1:/srv/images/centos/3/root');
  assert.equal(r.options.get(Opt.SubnetMask), '255.255.255.0');
  assert.deepEqual(r.options.get(Opt.Router), ['10.77.0.254']);
  assert.equal(r.options.get(Opt.LeaseTime), 600);
  // Full mode never says "PXEClient" (that would send OVMF to port 4011 for boot server discovery).
  assert.equal(r.options.get(Opt.VendorClassId), undefined);
  // Broadcast flag clear, no ciaddr: unicast to yiaddr with an ARP entry (RFC 2131 4.1).
  assert.deepEqual(o!.to, { address: '10.77.0.113', port: 68, arp: { ip: '10.77.0.113', mac: MAC } });
  assert.deepEqual(events.map((e) => e.kind), ['dhcp.discover', 'dhcp.offer']);
});

const withArch = (p: DhcpPacket, arch: number | null, ipxe = false) => {
  if (arch === null) p.options.delete(Opt.ClientArch);
  else p.options.set(Opt.ClientArch, [arch]);
  if (!ipxe) {
    p.options.delete(Opt.UserClass);
    p.options.delete(Opt.IpxeEncap);
  }
  return p;
};

test('boot file by option 93: 0 BIOS, 7 and 9 UEFI x64, 11 arm64, configurable; pxelinux nodes get pxelinux.0', async () => {
  const cases: [number | null, string | null][] = [[0, 'undionly.kpxe'], [7, 'ipxe.efi'], [9, 'ipxe.efi'], [11, 'ipxe-arm64.efi'], [null, 'undionly.kpxe'], [2, null]];
  for (const [arch, want] of cases) {
    const { h } = setup();
    const [o] = await h.handle(withArch(fx('uefi-firmware-pxe-01-dhcp-discover.bin'), arch), at);
    assert.equal(o!.packet.file || null, want, `arch ${arch}`);
    assert.equal(o!.packet.options.has(Opt.IpxeEncap), false);
  }
  const custom = setup({ bootFiles: { 7: 'snponly.efi' } });
  const [c] = await custom.h.handle(withArch(fx('uefi-firmware-pxe-01-dhcp-discover.bin'), 7), at);
  assert.equal(c!.packet.file, 'snponly.efi');
  const pxl = setup({}, [target({ bootMode: 'pxelinux' })]);
  const [p] = await pxl.h.handle(fx('bios-ipxe-01-dhcp-discover.bin'), at);
  assert.equal(p!.packet.file, 'pxelinux.0');
});

test('unknown MAC: not answered, reported once as discovered with arch, classes, UUID', async () => {
  const { h, discoveries } = setup({}, []);
  assert.deepEqual(await h.handle(fx('uefi-firmware-pxe-01-dhcp-discover.bin'), at), []);
  assert.deepEqual(await h.handle(fx('uefi-firmware-pxe-01-dhcp-discover.bin'), at), []);
  assert.equal(discoveries.length, 1);
  assert.deepEqual(discoveries[0], { mac: MAC, arch: 7, vendorClass: 'PXEClient:Arch:00007:UNDI:003000', userClass: null, uuid: '00000000-0000-0000-0000-000000000000', relay: null, via: 'dhcp' });
  assert.equal(h.counters.ignored['unknown-mac'], 2);
});

test('REQUEST (selecting): ACK for us, silence for another server, NAK for a wrong address', async () => {
  const { h } = setup();
  const req = fx('uefi-ipxe-02-dhcp-request.bin'); // server id 10.77.0.1, requested 10.77.0.113
  const [ack] = await h.handle(req, at);
  assert.equal(ack!.packet.options.get(Opt.MessageType), MessageType.Ack);
  assert.equal(ack!.packet.yiaddr, '10.77.0.113');
  const other = fx('uefi-ipxe-02-dhcp-request.bin');
  other.options.set(Opt.ServerIdentifier, '10.77.0.2');
  assert.deepEqual(await h.handle(other, at), []);
  assert.equal(h.counters.ignored['other-server'], 1);
  const wrong = fx('uefi-ipxe-02-dhcp-request.bin');
  wrong.options.set(Opt.RequestedIpAddress, '10.77.0.99');
  const [nak] = await h.handle(wrong, at);
  assert.equal(nak!.packet.options.get(Opt.MessageType), MessageType.Nak);
  assert.equal(nak!.packet.yiaddr, '0.0.0.0');
  assert.equal(nak!.to.address, '255.255.255.255');
});

test('REQUEST (init-reboot, renewing): right address ACKed, wrong network NAKed, renewals unicast to ciaddr', async () => {
  const { h } = setup();
  const reboot = fx('initramfs-dhclient-02-dhcp-request.bin');
  reboot.options.delete(Opt.ServerIdentifier);
  const [a] = await h.handle(reboot, at);
  assert.equal(a!.packet.options.get(Opt.MessageType), MessageType.Ack);
  reboot.options.set(Opt.RequestedIpAddress, '192.0.2.7');
  const [n] = await h.handle(reboot, at);
  assert.equal(n!.packet.options.get(Opt.MessageType), MessageType.Nak);
  const renew = fx('initramfs-dhclient-02-dhcp-request.bin');
  renew.options.delete(Opt.ServerIdentifier);
  renew.options.delete(Opt.RequestedIpAddress);
  renew.ciaddr = '10.77.0.113';
  const [r] = await h.handle(renew, { ...at, src: { address: '10.77.0.113', port: 68 } });
  assert.equal(r!.packet.options.get(Opt.MessageType), MessageType.Ack);
  assert.equal(r!.packet.ciaddr, '10.77.0.113');
  assert.deepEqual(r!.to, { address: '10.77.0.113', port: 68, arp: null });
});

test('relayed DISCOVER: subnet chosen by giaddr, reply to the relay on port 67, NAK flagged broadcast', async () => {
  const { h } = setup({}, [target({ ipv4: '10.78.0.20', fqdn: 'far' })]);
  const d = fx('initramfs-dhclient-01-dhcp-discover.bin');
  d.giaddr = '10.78.0.1';
  d.hops = 1;
  const [o] = await h.handle(d, { ...at, src: { address: '10.78.0.1', port: 67 } });
  assert.equal(o!.packet.yiaddr, '10.78.0.20');
  assert.equal(o!.packet.giaddr, '10.78.0.1');
  assert.deepEqual(o!.to, { address: '10.78.0.1', port: 67, arp: null });
  assert.equal(o!.packet.options.get(Opt.DomainName), 'relay.example');
  assert.equal(o!.packet.options.get(Opt.HostName), 'far');
  const r = fx('initramfs-dhclient-02-dhcp-request.bin');
  r.giaddr = '10.78.0.1';
  r.options.set(Opt.ServerIdentifier, '10.77.0.1').set(Opt.RequestedIpAddress, '10.78.0.21');
  const [nak] = await h.handle(r, at);
  assert.equal(nak!.packet.options.get(Opt.MessageType), MessageType.Nak);
  assert.ok(nak!.packet.flags & FLAG_BROADCAST);
  assert.equal(nak!.to.address, '10.78.0.1');
});

test('INFORM: configuration without lease, to ciaddr; DECLINE and RELEASE: events, no reply', async () => {
  const { h, events } = setup();
  const inf = fx('initramfs-dhclient-01-dhcp-discover.bin');
  inf.options.set(Opt.MessageType, MessageType.Inform);
  inf.ciaddr = '10.77.0.113';
  const [o] = await h.handle(inf, at);
  assert.equal(o!.packet.options.get(Opt.MessageType), MessageType.Ack);
  assert.equal(o!.packet.yiaddr, '0.0.0.0');
  assert.equal(o!.packet.options.has(Opt.LeaseTime), false);
  assert.equal(o!.to.address, '10.77.0.113');
  const dec = fx('initramfs-dhclient-02-dhcp-request.bin');
  dec.options.set(Opt.MessageType, MessageType.Decline);
  assert.deepEqual(await h.handle(dec, at), []);
  const rel = fx('initramfs-dhclient-02-dhcp-request.bin');
  rel.options.set(Opt.MessageType, MessageType.Release);
  rel.ciaddr = '10.77.0.113';
  assert.deepEqual(await h.handle(rel, at), []);
  assert.deepEqual(events.map((e) => e.kind), ['dhcp.inform', 'dhcp.ack', 'dhcp.decline', 'dhcp.release']);
});

test('proxy mode: PXE clients only, no yiaddr, registered only unless answerAll, 4011 answered to the source', async () => {
  const { h } = setup({ mode: 'proxy', subnets: [] });
  const [o] = await h.handle(fx('uefi-firmware-pxe-01-dhcp-discover.bin'), at);
  assert.equal(o!.packet.options.get(Opt.MessageType), MessageType.Offer);
  assert.equal(o!.packet.yiaddr, '0.0.0.0');
  assert.equal(o!.packet.file, 'ipxe.efi');
  assert.equal(o!.packet.options.get(Opt.VendorClassId), 'PXEClient');
  assert.equal(o!.to.address, '255.255.255.255');
  assert.deepEqual(await h.handle(fx('initramfs-dhclient-01-dhcp-discover.bin'), at), []);
  const req = fx('uefi-firmware-pxe-02-dhcp-request.bin');
  req.ciaddr = '10.77.0.50';
  const [ack] = await h.handle(req, { ...at, localPort: 4011, src: { address: '10.77.0.50', port: 68 } });
  assert.equal(ack!.packet.options.get(Opt.MessageType), MessageType.Ack);
  assert.deepEqual(ack!.to, { address: '10.77.0.50', port: 68, arp: null });
  const unknown = setup({ mode: 'proxy', subnets: [] }, []);
  assert.deepEqual(await unknown.h.handle(fx('uefi-firmware-pxe-01-dhcp-discover.bin'), at), []);
  const all = setup({ mode: 'proxy', subnets: [], proxyAnswerAll: true }, []);
  const [any] = await all.h.handle(fx('uefi-firmware-pxe-01-dhcp-discover.bin'), at);
  assert.equal(any!.packet.file, 'ipxe.efi');
});

test('pool: unknown clients get distinct addresses, a full pool stays silent, REQUEST binds', async () => {
  const { h, leases } = setup({ subnets: [{ cidr: '10.77.0.0/24', pool: { start: '10.77.0.200', end: '10.77.0.201' } }] }, []);
  const ips: string[] = [];
  for (let i = 0; i < 3; i++) {
    const d = fx('initramfs-dhclient-01-dhcp-discover.bin');
    d.chaddr[5] = i;
    const out = await h.handle(d, at);
    if (out[0]) ips.push(out[0].packet.yiaddr);
  }
  assert.deepEqual(ips, ['10.77.0.200', '10.77.0.201']);
  assert.equal(h.counters.ignored['pool-full'], 1);
  const r = fx('initramfs-dhclient-02-dhcp-request.bin');
  r.chaddr[5] = 1;
  r.options.set(Opt.RequestedIpAddress, '10.77.0.201');
  const [ack] = await h.handle(r, at);
  assert.equal(ack!.packet.options.get(Opt.MessageType), MessageType.Ack);
  r.chaddr[5] = 0; // another client asking for the same address
  const [nak] = await h.handle(r, at);
  assert.equal(nak!.packet.options.get(Opt.MessageType), MessageType.Nak);
  assert.equal(leases.all(Date.now()).filter((l) => l.state === 'bound').length, 1);
});

test('a stored reservation DHCP must never give is not offered or ACKed: silent, counted, logged and on the timeline once', async () => {
  // What the store may hold from an older version, a restored backup or a config edited while
  // stopped: netroot's own address (the interface's, the configured server address), the network
  // and broadcast addresses, a pool address, an address in no subnet.
  const subnets = [{ cidr: '10.77.0.0/24', router: '10.77.0.254', pool: { start: '10.77.0.200', end: '10.77.0.210' } }];
  for (const [ip, reason] of [
    ['10.77.0.1', 'own-address'], ['10.77.0.9', 'own-address'], ['10.77.0.0', 'network'], ['10.77.0.255', 'broadcast'],
    ['10.77.0.254', 'router'], ['10.77.0.205', 'pool'], ['10.99.0.5', 'no-subnet'],
  ] as const) {
    const { h, events } = setup({ subnets, ownAddresses: ['10.77.0.9'] }, [target({ ipv4: ip })]);
    assert.deepEqual(await h.handle(fx('bios-ipxe-01-dhcp-discover.bin'), at), [], ip);
    assert.deepEqual(await h.handle(fx('uefi-ipxe-02-dhcp-request.bin'), at), [], ip);
    const inf = fx('initramfs-dhclient-01-dhcp-discover.bin');
    inf.options.set(Opt.MessageType, MessageType.Inform);
    assert.deepEqual(await h.handle(inf, at), [], ip);
    assert.equal(h.counters.ignored['bad-reservation'], 3, ip);
    assert.equal(h.counters.sent.OFFER ?? 0, 0);
    assert.equal(h.counters.sent.ACK ?? 0, 0);
    assert.deepEqual(events.map((e) => [e.kind, e.detail.ip, e.detail.reason]), [['dhcp.refused', ip, reason]], ip);
  }
  // The same node at a good address is answered as usual.
  const ok = setup({ subnets, ownAddresses: ['10.77.0.9'] }, [target({ ipv4: '10.77.0.113' })]);
  const [o] = await ok.h.handle(fx('bios-ipxe-01-dhcp-discover.bin'), at);
  assert.equal(o!.packet.yiaddr, '10.77.0.113');
});

test('the pool never hands out netroot\'s own address; the config keeps router, server, network and broadcast out of it', async () => {
  // The receiving interface's address (10.77.0.1) is inside the pool: only the config could not know.
  const { h } = setup({ subnets: [{ cidr: '10.77.0.0/24', pool: { start: '10.77.0.1', end: '10.77.0.2' } }] }, []);
  const offered: string[] = [];
  for (let i = 0; i < 2; i++) {
    const d = fx('initramfs-dhclient-01-dhcp-discover.bin');
    d.chaddr[5] = i;
    if (i === 0) d.options.set(Opt.RequestedIpAddress, '10.77.0.1');
    const out = await h.handle(d, at);
    if (out[0]) offered.push(out[0].packet.yiaddr);
  }
  assert.deepEqual(offered, ['10.77.0.2']);
  assert.equal(h.counters.ignored['pool-full'], 1);
  const r = fx('initramfs-dhclient-02-dhcp-request.bin');
  r.chaddr[5] = 7;
  r.options.set(Opt.RequestedIpAddress, '10.77.0.1');
  const [nak] = await h.handle(r, at);
  assert.equal(nak!.packet.options.get(Opt.MessageType), MessageType.Nak);
  assert.match(String(nak!.packet.options.get(Opt.Message)), /netroot's own address/);
  for (const [sub, what] of [
    [{ router: '10.77.0.150' }, 'router 10.77.0.150'],
    [{ serverAddress: '10.77.0.100' }, 'serverAddress 10.77.0.100'],
    [{ pool: { start: '10.77.0.0', end: '10.77.0.9' } }, 'network address 10.77.0.0'],
    [{ pool: { start: '10.77.0.200', end: '10.77.0.255' } }, 'broadcast address 10.77.0.255'],
  ] as const) {
    assert.throws(
      () => resolveOptions({ mode: 'full', interfaces: ['eth1'], httpBase: 'http://x', subnets: [{ cidr: '10.77.0.0/24', pool: { start: '10.77.0.100', end: '10.77.0.199' }, ...sub }] }),
      (e: Error) => e.message.startsWith('dhcp.subnets[0].pool: ') && e.message.endsWith(`includes the ${what}`),
      what,
    );
  }
});

test('BOOTREPLY and BOOTP packets are ignored and counted', async () => {
  const { h } = setup();
  const p = emptyPacket(2);
  p.options.set(Opt.MessageType, MessageType.Offer);
  assert.deepEqual(await h.handle(p, at), []);
  assert.deepEqual(await h.handle(emptyPacket(1), at), []);
  assert.equal(h.counters.ignored['not-request'], 1);
  assert.equal(h.counters.ignored['no-message-type'], 1);
});

test('pool: an unknown MAC the discovered list refused is answered but kept off the timeline; one it took is on it', async () => {
  const events: BootEvent[] = [];
  const taken = new Set(['02:00:00:00:00:01']);
  const h = new DhcpHandler(
    resolveOptions({ mode: 'full', interfaces: ['eth1'], httpBase: 'http://x', subnets: [{ cidr: '10.77.0.0/24', pool: { start: '10.77.0.100', end: '10.77.0.199' } }] }),
    { directory: { lookup: async () => null }, events: (e) => events.push(e), discoveries: (d) => taken.has(d.mac), leases: new MemoryLeaseStore() },
  );
  for (const i of [1, 2]) {
    const d = fx('initramfs-dhclient-01-dhcp-discover.bin');
    d.chaddr.set([2, 0, 0, 0, 0, i]);
    const [offer] = await h.handle(d, at);
    assert.equal(offer!.packet.options.get(Opt.MessageType), MessageType.Offer);
    const r = fx('initramfs-dhclient-02-dhcp-request.bin');
    r.chaddr.set([2, 0, 0, 0, 0, i]);
    r.options.set(Opt.RequestedIpAddress, offer!.packet.yiaddr).delete(Opt.ServerIdentifier);
    const [ack] = await h.handle(r, at);
    assert.equal(ack!.packet.options.get(Opt.MessageType), MessageType.Ack);
  }
  assert.deepEqual(events.map((e) => `${e.mac} ${e.kind}`), ['02:00:00:00:00:01 dhcp.discover', '02:00:00:00:00:01 dhcp.offer', '02:00:00:00:00:01 dhcp.ack']);
  // Reported once per interval either way (the REQUEST did not ask again).
  assert.equal(h.counters.discovered, 2);
});
