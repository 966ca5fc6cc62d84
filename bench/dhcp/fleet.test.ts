import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCidr, inSubnet } from '../../pxe/net/ipv4.js';
import { resolveOptions } from '../../pxe/dhcp/index.js';
import { SUBNET, fleet, keaConfig, macAt, macList } from './fleet.js';

test('fleet: 10,000 distinct locally administered MACs, addresses inside the subnet', () => {
  const f = fleet(10_000);
  const net = parseCidr(SUBNET);
  assert.equal(new Set(f.map((n) => n.mac)).size, 10_000);
  assert.equal(new Set(f.map((n) => n.ipv4)).size, 10_000);
  assert.ok(f.every((n) => inSubnet(n.ipv4, net)));
  assert.equal(macAt(0), '02:0c:51:00:00:00');
  assert.equal(macAt(256), '02:0c:51:00:01:00');
  assert.equal(f[9999]!.ipv4, '10.51.239.15');
  assert.equal(macList(f.slice(0, 2)), '02:0c:51:00:00:00\n02:0c:51:00:00:01\n');
});

test('keaConfig reserves the same MAC -> address pairs', () => {
  const f = fleet(3);
  const c = keaConfig(f, 'va0', '10.51.192.1', '/tmp/l.csv') as { Dhcp4: { subnet4: { subnet: string; reservations: { 'hw-address': string; 'ip-address': string }[] }[] } };
  const s = c.Dhcp4.subnet4[0]!;
  assert.equal(s.subnet, SUBNET);
  assert.deepEqual(s.reservations.map((r) => [r['hw-address'], r['ip-address']]), f.map((n) => [n.mac, n.ipv4]));
});

test('netroot options for the bench pass the server config check', async () => {
  const { netrootOptions } = await import('./fleet.js');
  const o = resolveOptions(netrootOptions('va0', '10.51.192.1'));
  assert.equal(o.subnets[0]!.cidr, SUBNET);
  assert.equal(o.detectRivalsAtStart, false);
});
