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

test('isIPv4 and ipToInt accept exactly the dotted quads the strict pattern does', () => {
  const QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
  const parts = ['0', '1', '9', '00', '01', '10', '99', '100', '199', '200', '249', '250', '255', '256', '300', '999', '0255', '1000', '', 'a', ' 1', '1 ', '-1', '+1', '1e2', '٣'];
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const cases = ['1.2.3.4\n', '1.2.3.4.', '.1.2.3.4', '1..2.3', '1.2.3', '1.2.3.4.5', '', '....', '4294967295'];
  for (let i = 0; i < 20_000; i++) {
    const n = 3 + rnd(3);
    cases.push(Array.from({ length: n }, () => parts[rnd(parts.length)]).join(rnd(20) ? '.' : ','));
  }
  for (const s of cases) {
    const ok = QUAD.test(s);
    assert.equal(isIPv4(s), ok, JSON.stringify(s));
    if (ok) {
      const p = s.split('.').map(Number);
      assert.equal(ipToInt(s), ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0, s);
      assert.equal(intToIp(ipToInt(s)), s);
    } else assert.throws(() => ipToInt(s), /not a dotted quad/, JSON.stringify(s));
  }
});
