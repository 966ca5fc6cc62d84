import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCidr, inSubnet } from '../../pxe/net/ipv4.js';
import { resolveOptions } from '../../pxe/dhcp/index.js';
import { configSchema } from '../../server/config/schema.js';
import { dhcpOptions } from '../../server/wiring/dhcp.js';
import { POOL, SUBNET, addresses, fleet, keaConfig, keaPoolConfig, macAt, macList, netrootConfig } from './fleet.js';

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

test('netroot config files for both fleets pass the config schema and the DHCP check', () => {
  for (const kind of ['reserved', 'pool'] as const) {
    const config = configSchema.parse(netrootConfig(kind, { ifname: 'va0', dataDir: '/tmp/x', recvBufferBytes: 0 }));
    const o = resolveOptions(dhcpOptions(config));
    assert.equal(o.subnets[0]!.cidr, addresses(kind).cidr);
    assert.equal(o.detectRivalsAtStart, false);
    assert.equal(config.dhcp.recvBufferBytes, 0);
  }
});

test('keaPoolConfig has the pool and no reservation', () => {
  const c = keaPoolConfig('va0', '10.52.0.1', '/tmp/l.csv') as { Dhcp4: { subnet4: Record<string, unknown>[] } };
  assert.deepEqual(c.Dhcp4.subnet4[0]!.pools, [{ pool: `${POOL.start} - ${POOL.end}` }]);
  assert.equal(c.Dhcp4.subnet4[0]!.reservations, undefined);
});
