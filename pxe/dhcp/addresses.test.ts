import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reservationProblem, unicastProblem, type ReservationRules } from './addresses.js';
import { resolveSubnets } from './config.js';

// The example: 10.91.0.0/24, netroot at .1, pool .100-.200.
const subnets = resolveSubnets([
  { cidr: '10.91.0.0/24', router: '10.91.0.254', serverAddress: '10.91.0.1', pool: { start: '10.91.0.100', end: '10.91.0.200' } },
  { cidr: '10.92.0.0/31' },
]);
const full: ReservationRules = { subnets, own: ['10.91.0.2'], poolsServed: true };
const code = (ip: string, rules = full) => reservationProblem(ip, rules)?.code ?? null;

test('addresses a node must never get, each with its reason', () => {
  assert.equal(code('10.91.0.1'), 'own-address');
  assert.equal(code('10.91.0.2'), 'own-address', 'boot.serverAddress or an interface address');
  assert.equal(code('10.91.0.0'), 'network');
  assert.equal(code('10.91.0.255'), 'broadcast');
  assert.equal(code('10.91.0.254'), 'router');
  for (const ip of ['10.91.0.100', '10.91.0.150', '10.91.0.200']) assert.equal(code(ip), 'pool', ip);
  assert.equal(code('10.93.0.5'), 'no-subnet');
  assert.equal(code('127.0.0.1'), 'not-unicast');
  assert.equal(code('0.1.2.3'), 'not-unicast');
  assert.equal(code('224.0.0.1'), 'not-unicast');
  assert.equal(code('255.255.255.255'), 'not-unicast');
  assert.equal(code('10.91.0.300'), 'not-unicast');
});

test('the message names the address, the subnet and why', () => {
  assert.equal(reservationProblem('10.91.0.255', full)!.message, '10.91.0.255 is the broadcast address of 10.91.0.0/24');
  assert.equal(reservationProblem('10.91.0.1', full)!.message, "10.91.0.1 is netroot's own address on 10.91.0.0/24");
  assert.match(reservationProblem('10.91.0.150', full)!.message, /inside the dynamic pool 10\.91\.0\.100-10\.91\.0\.200 of 10\.91\.0\.0\/24/);
  assert.equal(reservationProblem('10.93.0.5', full)!.message, '10.93.0.5 is in no configured subnet (dhcp.subnets: 10.91.0.0/24, 10.92.0.0/31)');
});

test('good addresses pass; around the pool and the edges', () => {
  for (const ip of ['10.91.0.3', '10.91.0.99', '10.91.0.201', '10.91.0.253']) assert.equal(code(ip), null, ip);
});

test('a /31 has no network or broadcast address (RFC 3021): both ends are hosts', () => {
  assert.equal(code('10.92.0.0'), null);
  assert.equal(code('10.92.0.1'), null);
});

test('no subnets (DHCP off): only the generic unicast checks apply', () => {
  const off: ReservationRules = { subnets: [], own: [], poolsServed: true };
  assert.equal(code('10.91.0.0', off), null);
  assert.equal(code('192.0.2.77', off), null);
  assert.equal(code('127.0.0.2', off), 'not-unicast');
  assert.deepEqual(reservationProblem('10.9.0.5', off), unicastProblem('10.9.0.5'));
});

test('proxy mode: the site gives the addresses, so pools do not count; the subnets still do', () => {
  const proxy: ReservationRules = { ...full, poolsServed: false };
  assert.equal(code('10.91.0.150', proxy), null);
  assert.equal(code('10.93.0.5', proxy), 'no-subnet');
  assert.equal(code('10.91.0.0', proxy), 'network');
  assert.equal(code('10.91.0.1', proxy), 'own-address');
});
