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
    requests.push(`${req.method} ${req.url}${req.headers['x-netroot-boot-token'] ? ` token=${String(req.headers['x-netroot-boot-token'])}` : ''}`);
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
    await writeFile(join(root, 'proc/cmdline'), 'ro ip=dhcp BOOTIF=01-52-54-00-AA-BB-CC netroot.fqdn=node1.lab netroot.image=img1 netroot.version=20261130-101500\n');
    // The boot's report token, as netroot leaves it in the node's state directory.
    await mkdir(join(root, 'nfs-export/state/node1.lab'), { recursive: true });
    await writeFile(join(root, 'nfs-export/state/node1.lab/.netroot-boot-token'), 'Tok3n_of-this-boot0123456789\n', { mode: 0o600 });

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
    // The report names the version from the node's own command line and carries its boot token.
    assert.deepEqual(requests, ['POST /boot/52:54:00:aa:bb:cc/booted?image=img1&version=20261130-101500 token=Tok3n_of-this-boot0123456789']);
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

test('per-node host keys on a read-only root: made on first boot in <state>/<fqdn>, kept on the next, one set per node, RAM-only without state', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'netroot-hostkeys-'));
  try {
    const root = join(dir, 'root');
    const nfs = join(dir, 'nfs'); // what the NFS server exports, outside the read-only root
    await buildFixtureRoot(root, { chrootShell: true, fakeDracut: false, sshKeygen: true });
    await makeStateless(root, { state: { kind: 'diskless', server: 'nfs.test', stateExport: '/state' }, hostKeys: 'state', bootReport: null });
    await mkdir(join(root, 'nfs-export'));
    await mkdir(join(root, 'usr/sbin'), { recursive: true });
    await mkdir(join(nfs, 'state'), { recursive: true });
    // Stands in for mount.nfs, and fails like an unreachable server while /nfs-export/down exists.
    await writeFile(join(root, 'usr/sbin/mount'), `#!/bin/sh
if [ "$1" = "-t" ] && [ "$2" = nfs ]; then
  [ -e /nfs-export/down ] && { echo "mount.nfs: Connection timed out" >&2; exit 32; }
  exec /bin/busybox mount --bind "/nfs-export\${5#*:}" "$6"
fi
exec /bin/busybox mount "$@"
`, { mode: 0o755 });
    const image = async (k: string) => readFile(join(root, 'etc/ssh', k), 'utf8');
    /** One boot of `fqdn`: the root read-only as on a node, /run a tmpfs; prints the ed25519 public key. */
    const boot = async (fqdn: string) => {
      await writeFile(join(root, 'proc/cmdline'), `ro ip=dhcp netroot.fqdn=${fqdn}\n`);
      const inside = [
        '/usr/lib/netroot/readonly-root || exit 10',
        '/usr/lib/netroot/hostkeys || exit 11',
        '(: 2>/dev/null > /etc/probe) && echo ROOT-WRITABLE',
        'cat /etc/ssh/ssh_host_ed25519_key.pub',
        'head -c 36 /etc/ssh/ssh_host_rsa_key; echo',
      ].join('\n');
      const script = [
        'set -e',
        `mount --bind ${root} ${root}`,
        `mount --bind ${nfs} ${root}/nfs-export`,
        `mount -t tmpfs -o mode=0755 run ${root}/run`,
        `mount --bind /dev ${root}/dev`,
        `mount -o remount,bind,ro ${root}`,
        `exec chroot ${root} /bin/sh -c '${inside}'`,
      ].join('\n');
      const r = await runCommand(['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script], { timeoutMs: 120_000 });
      assert.doesNotMatch(r.stdout, /ROOT-WRITABLE/);
      const lines = r.stdout.split('\n');
      const pub = lines.find((l) => l.startsWith('ssh-ed25519 '));
      assert.ok(pub, `an ed25519 public key for ${fqdn}:\n${r.stdout}${r.stderr}`);
      assert.ok(lines.includes('-----BEGIN OPENSSH PRIVATE KEY-----'), `an RSA private key for ${fqdn}`);
      return { pub: pub.split(' ').slice(0, 2).join(' '), out: r.stdout + r.stderr };
    };
    const blob = (s: string) => s.trim().split(' ').slice(0, 2).join(' ');

    const first = await boot('node1.lab');
    const state = join(nfs, 'state/node1.lab/etc/ssh');
    const priv = join(state, 'ssh_host_ed25519_key');
    assert.match(await readFile(priv, 'utf8'), /^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
    assert.equal((await stat(priv)).mode & 0o777, 0o600);
    assert.equal(blob(await readFile(join(state, 'ssh_host_ed25519_key.pub'), 'utf8')), first.pub);
    // The private key in the state dir is the one the public key belongs to.
    assert.equal(blob((await runCommand(['ssh-keygen', '-y', '-f', priv])).stdout), first.pub);
    assert.match(await readFile(join(state, 'ssh_host_rsa_key'), 'utf8'), /PRIVATE KEY/);
    // The image still holds placeholders only.
    for (const k of ['ssh_host_ed25519_key', 'ssh_host_ed25519_key.pub', 'ssh_host_rsa_key', 'ssh_host_rsa_key.pub']) assert.equal(await image(k), '', k);

    assert.equal((await boot('node1.lab')).pub, first.pub, 'the next boot keeps the node\'s keys');
    const other = await boot('node2.lab');
    assert.notEqual(other.pub, first.pub, 'another node, other keys');

    // State unreachable: sshd still gets keys, for this boot only, and nothing is written anywhere.
    await writeFile(join(nfs, 'down'), '');
    const lost = await boot('node3.lab');
    assert.match(lost.out, /lasts this boot only/);
    assert.notEqual(lost.pub, first.pub);
    assert.notEqual(lost.pub, other.pub);
    assert.equal(await stat(join(nfs, 'state/node3.lab')).catch(() => null), null);
    for (const k of ['ssh_host_ed25519_key', 'ssh_host_rsa_key.pub']) assert.equal(await image(k), '', k);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
