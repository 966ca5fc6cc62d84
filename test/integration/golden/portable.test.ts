/**
 * netroot's portable readonly-root and booted unit, run for real: the scripts execute in a chroot
 * of a stateless'd fixture root (busybox as its userland) inside a private mount namespace, with
 * NFS stood in by a bind mount (a `mount` wrapper in the root), and the booted report going to
 * an HTTP server on 127.0.0.1 through busybox wget (the root has no curl).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, mkdir, writeFile, readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFixtureRoot } from '../../fixtures/golden/build-root.js';
import { makeStateless, BOOT_MARKER } from '../../../exports/image/index.js';
import { runCommand } from '../../../exports/runner.js';

// Stands in for mount.nfs: `mount -t nfs -o OPTS server:/path TARGET` binds /nfs-export/path.
const MOUNT_WRAPPER = `#!/bin/sh
if [ "$1" = "-t" ] && [ "$2" = nfs ]; then exec /bin/busybox mount --bind "/nfs-export\${5#*:}" "$6"; fi
exec /bin/busybox mount "$@"
`;

test('portable readonly-root: rwtab on tmpfs, statetab from <CLIENTSTATE>/<fqdn> created on first boot; booted POSTs the boot MAC', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'netroot-portable-'));
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(204).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const root = join(dir, 'root');
    await buildFixtureRoot(root, { chrootShell: true, fakeDracut: false });
    await makeStateless(root, {
      state: { kind: 'diskless', server: 'nfs.test', stateExport: '/state' }, hostKeys: 'keep',
      rwtab: [{ type: 'empty', path: '/var/cache/app' }, { type: 'files', path: '/etc/ssh/sshd_config' }],
      statetab: ['/var/lib/app'], bootReport: { server: '127.0.0.1', port },
    });
    await mkdir(join(root, 'var/cache/app'), { recursive: true });
    await writeFile(join(root, 'var/cache/app/from-image'), 'x');
    await mkdir(join(root, 'var/lib/app'), { recursive: true });
    await writeFile(join(root, 'var/lib/app/data'), 'image data\n');
    await mkdir(join(root, 'nfs-export/state'), { recursive: true });
    await writeFile(join(root, 'usr/sbin/mount'), MOUNT_WRAPPER, { mode: 0o755 }).catch(async () => {
      await mkdir(join(root, 'usr/sbin'), { recursive: true });
      await writeFile(join(root, 'usr/sbin/mount'), MOUNT_WRAPPER, { mode: 0o755 });
    });
    // Not mounted inside the chroot: /proc/cmdline is a plain file we control.
    await writeFile(join(root, 'proc/cmdline'), 'ro ip=dhcp BOOTIF=01-52-54-00-AA-BB-CC netroot.fqdn=node1.lab\n');

    const inside = [
      '/usr/lib/netroot/readonly-root || exit 10',
      'echo boot1 > /var/log/boot.log || exit 11',
      'echo scratch > /var/cache/app/scratch || exit 12',
      'echo "Port 2222" >> /etc/ssh/sshd_config || exit 13',
      'ls /var/cache/app',
      '/usr/lib/netroot/booted',
    ].join('\n');
    const r = await runCommand(['unshare', '--mount', '--propagation', 'private', 'chroot', root, '/bin/sh', '-c', inside], { timeoutMs: 60_000 });
    // Inside: the writable copies were in use (empty dir for `empty`).
    assert.equal(r.stdout.split('\n')[0], 'scratch', 'an `empty` rwtab dir starts empty: the image\'s from-image file is not there');
    assert.match(r.stdout, new RegExp(`${BOOT_MARKER} mac=52:54:00:aa:bb:cc`));
    assert.deepEqual(requests, ['POST /boot/52:54:00:aa:bb:cc/booted']);
    // Statetab: <CLIENTSTATE>/<fqdn> created on first boot, seeded from the image, writes land there.
    const state = join(root, 'nfs-export/state/node1.lab');
    assert.equal(await readFile(join(state, 'var/log/boot.log'), 'utf8'), 'boot1\n');
    assert.equal(await readFile(join(state, 'var/log/messages'), 'utf8'), 'golden host log\n');
    assert.equal(await readFile(join(state, 'var/lib/app/data'), 'utf8'), 'image data\n');
    // The image itself got none of it: rwtab writes went to tmpfs, statetab writes to the state dir.
    assert.equal(await stat(join(root, 'var/log/boot.log')).catch(() => null), null);
    assert.equal(await stat(join(root, 'var/cache/app/scratch')).catch(() => null), null);
    assert.ok(await stat(join(root, 'var/cache/app/from-image')));
    assert.doesNotMatch(await readFile(join(root, 'etc/ssh/sshd_config'), 'utf8'), /2222/);

    // Second boot: the state dir exists, its content (not the image's) is what the node sees.
    const r2 = await runCommand(['unshare', '--mount', '--propagation', 'private', 'chroot', root, '/bin/sh', '-c',
      '/usr/lib/netroot/readonly-root && cat /var/log/boot.log'], { timeoutMs: 60_000 });
    assert.match(r2.stdout, /^boot1$/m);
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
