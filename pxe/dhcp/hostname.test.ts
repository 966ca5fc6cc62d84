import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostNameOptions } from './hostname.js';

/** What dracut's network-legacy dhclient-script.sh (setup_interface) writes to the kernel host name. */
const legacy = (o: { hostName: string; domain: string | null }) => {
  const d = o.domain ?? '';
  const h = d && o.hostName.endsWith(`.${d}`) ? o.hostName.slice(0, -d.length - 1) : o.hostName;
  return d ? `${h}.${d}` : h;
};

test('option 12 is the whole FQDN, option 15 its domain: both initramfs network stacks name the node by its FQDN', () => {
  const o = hostNameOptions('node1.lab.example', 'other.example');
  assert.deepEqual(o, { hostName: 'node1.lab.example', domain: 'lab.example' });
  // NetworkManager in dracut takes option 12 verbatim; network-legacy chops and re-adds the domain.
  assert.equal(o.hostName, 'node1.lab.example');
  assert.equal(legacy(o), 'node1.lab.example');
});

test('a single-label name keeps the subnet domain as option 15', () => {
  assert.deepEqual(hostNameOptions('far', 'relay.example'), { hostName: 'far', domain: 'relay.example' });
  assert.deepEqual(hostNameOptions('far', null), { hostName: 'far', domain: null });
});
