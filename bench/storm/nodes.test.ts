import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandIpxe, scriptUrls } from './nodes.js';

test('iPXE expansion of the boot file: ${mac} and ${net0/mac}; anything else fails the stage', () => {
  assert.equal(expandIpxe('http://s/boot/${mac}.ipxe', '02:5e:00:00:00:01'), 'http://s/boot/02:5e:00:00:00:01.ipxe');
  assert.equal(expandIpxe('http://s/${net0/mac}', 'aa'), 'http://s/aa');
  assert.equal(expandIpxe('http://s/boot/02:5e:00:00:00:01.ipxe', 'x'), 'http://s/boot/02:5e:00:00:00:01.ipxe');
  assert.throws(() => expandIpxe('http://s/${uuid}', 'x'), /unsupported/);
});

test('script URLs: kernel and initrd lines, null for a refusal, an error for half a script', () => {
  const s = '#!ipxe\necho x\nkernel http://s/k root=nfs:x || goto failed\ninitrd http://s/i || goto failed\nboot\n';
  assert.deepEqual(scriptUrls(s), { kernel: 'http://s/k', initrd: 'http://s/i' });
  assert.equal(scriptUrls('#!ipxe\necho netroot: no\nexit 1\n'), null);
  assert.throws(() => scriptUrls('#!ipxe\nkernel http://s/k\n'), /no initrd/);
});
