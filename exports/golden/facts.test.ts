import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFacts } from './facts.js';

test('parseFacts: autofs from the unit or the daemon, mounts, loaded modules', () => {
  const out = [
    '@@autofs', 'inactive',
    '@@mountinfo', '22 1 253:0 / / rw - xfs /dev/root rw', '72 22 252:1 / /boot/efi rw - vfat /dev/vda1 rw',
    '@@modules', 'e1000e', 'virtio_net', 'nfsv4', '',
  ].join('\n');
  const f = parseFacts(out);
  assert.equal(f.autofs, false);
  assert.deepEqual(f.mounts.map((m) => m.target), ['/', '/boot/efi']);
  assert.deepEqual(f.loadedModules, ['e1000e', 'virtio_net', 'nfsv4']);
  assert.equal(parseFacts('@@autofs\nactive\n@@mountinfo\n@@modules\n').autofs, true);
  // No systemd, but the daemon runs.
  assert.equal(parseFacts('@@autofs\nunknown\nactive\n').autofs, true);
  assert.deepEqual(parseFacts(''), { autofs: false, mounts: [], loadedModules: [] });
});
