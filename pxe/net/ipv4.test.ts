import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inSubnet, intToIp, ipToInt, isIPv4, parseCidr } from './ipv4.js';

test('ipv4 round trip', () => {
  for (const ip of ['0.0.0.0', '10.1.2.3', '255.255.255.255', '192.168.0.1']) assert.equal(intToIp(ipToInt(ip)), ip);
});

test('isIPv4 rejects leading zeros, ranges and junk', () => {
  for (const s of ['10.0.0.256', '10.0.0', '010.0.0.1', '1.2.3.4.5', 'a.b.c.d', '']) assert.equal(isIPv4(s), false, s);
});

test('parseCidr and inSubnet', () => {
  const s = parseCidr('10.20.0.0/16');
  assert.deepEqual(s, { network: '10.20.0.0', prefix: 16, mask: '255.255.0.0', broadcast: '10.20.255.255' });
  assert.equal(inSubnet('10.20.5.1', s), true);
  assert.equal(inSubnet('10.21.0.1', s), false);
  assert.throws(() => parseCidr('10.20.0.1/16'), /host bits/);
  assert.throws(() => parseCidr('10.20.0.0/33'), /not an IPv4 CIDR/);
});
