import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inSubnet, ipToInt, parseCidr } from '../../pxe/net/ipv4.js';
import { CIDR, KNOWN_RANGE, POOL, POOL_RANGE, SERVER, macAt, stormFleet } from './fleet.js';

test('500 nodes, 20 % unknown: 100 unknown spread through the fleet, distinct MACs and addresses', () => {
  const f = stormFleet(500, 0.2);
  const unknown = f.filter((n) => !n.known);
  assert.equal(unknown.length, 100);
  assert.deepEqual(unknown.slice(0, 3).map((n) => n.index), [4, 9, 14]);
  assert.ok(unknown.every((n) => n.ipv4 === null));
  assert.equal(new Set(f.map((n) => n.mac)).size, 500);
  const ips = f.flatMap((n) => (n.ipv4 ? [n.ipv4] : []));
  assert.equal(new Set(ips).size, 400);
  assert.equal(macAt(0), '02:5e:00:00:00:00');
  assert.equal(macAt(258), '02:5e:00:00:01:02');
});

test('registered addresses and the pool sit in the client\'s local ranges, apart, inside the subnet, off the server', () => {
  const net = parseCidr(CIDR);
  const known = parseCidr(KNOWN_RANGE);
  const pool = parseCidr(POOL_RANGE);
  for (const n of stormFleet(4000)) {
    assert.ok(inSubnet(n.ipv4!, known) && inSubnet(n.ipv4!, net), n.ipv4!);
    assert.notEqual(n.ipv4, SERVER);
  }
  assert.ok(inSubnet(POOL.start, pool) && inSubnet(POOL.end, pool) && ipToInt(POOL.start) < ipToInt(POOL.end));
  assert.ok(!inSubnet(SERVER, known) && !inSubnet(SERVER, pool));
  assert.throws(() => stormFleet(4001), /nodes/);
  assert.equal(stormFleet(100).filter((n) => n.known).length, 100);
});
