/**
 * The golden-host pipeline against a real sshd and rsync: a fixture root served over SSH on
 * 127.0.0.1, pulled into versions, checked on disk; re-pull with hard links; rollback, pin,
 * retention; a re-keyed host refused; rsync killed mid-pull; dracut failing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, readFile, writeFile, stat, lstat, readdir, readlink, appendFile, unlink } from 'node:fs/promises';
import { readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFixtureRoot, FIXTURE_KERNEL } from '../../fixtures/golden/build-root.js';
import { startSshd, type TestSshd } from './sshd.js';
import { run } from '../../helpers/proc.js';
import {
  ensureKeyPair, fetchHostKey, pinKey, openSession, preflight, planPrepare, applyPrepare, GoldenError,
  type GoldenHost, type SshIdentity,
} from '../../../exports/golden/index.js';
import {
  pullVersion, PullError, PullBusyError, MemoryVersionStore, MemoryPullLock, versionPaths, retentionPlan,
  rollbackTarget, pinTarget, publishTarget, removeVersionTree, FSTAB, type ImageSettings, type PullOptions,
} from '../../../exports/image/index.js';
import { runCommand, type Runner } from '../../../exports/runner.js';
import { mountsUnder } from '../../../exports/image/tree.js';

let tmp = '';
let sshd: TestSshd;
let host: GoldenHost;
let identity: SshIdentity;
let fixture = '';
let imagesDir = '';
const store = new MemoryVersionStore();
const lock = new MemoryPullLock();

const image: ImageSettings = {
  name: 'fixture', host: 'golden1', excludes: ['/var/cache/skip/*'], rwtab: [{ type: 'empty', path: '/var/cache/app' }],
  statetab: ['/var/lib/app'], kernelArgs: '', drivers: ['virtio_net'],
  state: { kind: 'diskless', server: '10.0.0.1', stateExport: '/var/lib/netroot/state' }, hostKeys: 'keep', initramfs: 'golden',
};

function opts(over: Partial<PullOptions> = {}): PullOptions {
  return {
    image, host, identity, imagesDir, prev: null, store, lock, bootReport: { server: '10.0.0.1', port: 8080 },
    tools: { dracut: join(fixture, 'usr/bin/dracut'), lsinitrd: join(fixture, 'usr/bin/lsinitrd') },
    ...over,
  };
}

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'netroot-golden-'));
  fixture = join(tmp, 'golden-root');
  imagesDir = join(tmp, 'images');
  await buildFixtureRoot(fixture);
  await writeFile(join(fixture, 'var/cache/skip-me'), 'x').catch(() => undefined);
  const kp = await ensureKeyPair(join(tmp, 'netroot-ssh'));
  identity = { privateKeyPath: kp.privateKeyPath, knownHostsPath: join(tmp, 'netroot-ssh/known_hosts') };
  sshd = await startSshd(join(tmp, 'sshd'), kp.publicKey);
  host = { name: 'golden1', address: '127.0.0.1', port: sshd.port, user: 'root', sourcePath: fixture };
});

after(async () => {
  await sshd?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('key pair is created once; host key fetched shows ssh-keygen\'s fingerprint and is pinned', async () => {
  const again = await ensureKeyPair(join(tmp, 'netroot-ssh'));
  assert.match(again.publicKey, /^ssh-ed25519 AAAA\S+ netroot$/);
  const hk = await fetchHostKey('127.0.0.1', sshd.port);
  const fp = (await run('ssh-keygen', ['-lf', `${sshd.hostKeyPath}.pub`])).stdout.split(' ')[1];
  assert.equal(hk.fingerprint, fp);
  assert.equal(hk.type, 'ssh-ed25519');
  await assert.rejects(openSession(host, identity), (e: unknown) => e instanceof GoldenError && e.code === 'host-key-unknown' && /golden1/.test(e.message));
  await pinKey(identity.knownHostsPath, '127.0.0.1', sshd.port, hk.blob);
  // The OpenSSH client accepts netroot's known_hosts as is (what rsync relies on).
  const r = await runCommand(['ssh', '-i', identity.privateKeyPath, '-p', String(sshd.port), '-o', `UserKnownHostsFile=${identity.knownHostsPath}`,
    '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', 'root@127.0.0.1', 'echo', 'hello']);
  assert.equal(r.stdout.trim(), 'hello');
});

test('preflight and prepare over ssh2 (prepare writes to a temp conf path)', async () => {
  const s = await openSession(host, identity);
  try {
    const r = await preflight(s);
    assert.equal(r.host, 'golden1');
    assert.ok(r.runningKernel.length > 0);
    assert.equal(r.packageManager, 'dpkg');
    assert.ok(r.packages.find((p) => p.name === 'rsync')!.present);
    assert.equal(typeof r.freeBytes, 'number');
    const conf = join(tmp, 'dracut.conf.d/90-netroot.conf');
    const plan = await planPrepare(s, ['virtio_net'], conf);
    assert.deepEqual(plan.changes, [`create ${conf}`]);
    await applyPrepare(s, plan);
    assert.equal(await readFile(conf, 'utf8'), plan.content);
    assert.deepEqual((await planPrepare(s, ['virtio_net'], conf)).changes, []);
    const x = await s.exec(['printf', '%s', "it's a b"]);
    assert.equal(x.stdout, "it's a b");
  } finally {
    s.close();
  }
});

const ino = async (p: string) => (await lstat(p)).ino;
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
let v1 = '';
let v2 = '';

test('first pull: rsync, every stateless step, kernel, initramfs, checks, manifest', async () => {
  const steps = new Set<string>();
  const lines: string[] = [];
  let rsyncProgress = 0;
  const rec = await pullVersion(opts({ version: 'v1' }), {
    progress: (step, p) => { steps.add(step); if (step === 'rsync') rsyncProgress++; assert.ok(p.percent >= 0 && p.percent <= 100); },
    log: (l) => lines.push(l),
  });
  v1 = rec.version;
  assert.equal(rec.state, 'ready');
  assert.equal(rec.kernel, FIXTURE_KERNEL);
  assert.equal((await store.get('fixture', 'v1'))!.state, 'ready');
  assert.deepEqual([...steps], ['rsync', 'stateless', 'kernel', 'initramfs', 'check', 'manifest']);
  assert.ok(rsyncProgress >= 1);
  const p = versionPaths(imagesDir, 'fixture', 'v1');
  const root = p.root;
  // Excludes: the directories arrive empty (mount points), their content does not.
  for (const d of ['proc', 'tmp', 'home', 'run', 'dev', 'sys', 'media', 'mnt', 'srv']) assert.deepEqual(await readdir(join(root, d)), [], d);
  // Cleanup and read-only config on disk.
  assert.equal(await readFile(join(root, 'etc/fstab'), 'utf8'), FSTAB);
  assert.deepEqual(await readdir(join(root, 'var/lib/rpm')), ['Packages']);
  assert.deepEqual((await readdir(join(root, 'etc/sysconfig/network-scripts'))).sort(), ['ifcfg-lo', 'ifup-eth']);
  assert.deepEqual(await readdir(join(root, 'etc/network/interfaces.d')), []);
  assert.deepEqual(await readdir(join(root, 'etc/NetworkManager/system-connections')), []);
  assert.deepEqual(await readdir(join(root, 'etc/netplan')), []);
  assert.equal(await stat(join(root, 'etc/hostname')).catch(() => null), null);
  assert.equal(await readFile(join(root, 'etc/machine-id'), 'utf8'), '');
  assert.deepEqual(await readdir(join(root, 'etc/udev/rules.d')), ['99-local.rules']);
  assert.match(await readFile(join(root, 'etc/sysconfig/readonly-root'), 'utf8'), /^CLIENTSTATE=10\.0\.0\.1:\/var\/lib\/netroot\/state$/m);
  assert.match(await readFile(join(root, 'etc/rwtab.d/netroot'), 'utf8'), /^empty\t\/var\/cache\/app$/m);
  assert.match(await readFile(join(root, 'etc/statetab.d/netroot'), 'utf8'), /^\/var\/lib\/app$/m);
  assert.ok((await stat(join(root, 'usr/lib/netroot/readonly-root'))).isFile());
  assert.equal(await readlink(join(root, 'etc/localtime')), '/usr/share/zoneinfo/UTC');
  // -H: hard links inside the root survive; --numeric-ids/-a: modes kept.
  assert.equal(await ino(join(root, 'usr/share/doc/netroot/README')), await ino(join(root, 'usr/share/doc/netroot/README.hardlink')));
  assert.equal((await stat(join(root, 'etc/ssh/ssh_host_ed25519_key'))).mode & 0o777, 0o600);
  // The golden host itself is untouched.
  assert.match(await readFile(join(fixture, 'etc/fstab'), 'utf8'), /UUID=1234/);
  assert.ok(await stat(join(fixture, 'etc/hostname')));
  // Kernel, initramfs (world-readable), manifest.
  assert.equal(await readFile(p.kernel, 'utf8'), 'FAKE KERNEL IMAGE\n');
  assert.equal((await stat(p.initramfs)).mode & 0o777, 0o644);
  assert.match(await readFile(p.initramfs, 'utf8'), /--add network-legacy --add-drivers nfs nfsv4 virtio_net -f \/tmp\/netroot-initramfs-\w+\.img 6\.1\.0-netroot-test/);
  const m = JSON.parse(await readFile(p.manifest, 'utf8'));
  assert.equal(m.kernel, FIXTURE_KERNEL);
  assert.equal(m.files['boot/vmlinuz'].sha256, sha(p.kernel));
  assert.equal(m.files['boot/initramfs.img'].sha256, sha(p.initramfs));
  assert.ok(m.initramfs.dracutModules.includes('nfs'));
  // No initramfs left behind on the golden host.
  assert.deepEqual(readdirSync('/tmp').filter((f) => f.startsWith('netroot-initramfs-')), []);
});

test('second pull after a change: unchanged files are hard links to v1, disk grows by the delta', async () => {
  await appendFile(join(fixture, 'etc/ssh/sshd_config'), 'X11Forwarding no\n');
  await writeFile(join(fixture, 'usr/share/data/new.txt'), 'new file\n');
  await unlink(join(fixture, 'usr/share/doc/netroot/README.hardlink'));
  const rec = await pullVersion(opts({ version: 'v2', prev: v1 }));
  v2 = rec.version;
  const r1 = versionPaths(imagesDir, 'fixture', v1).root;
  const r2 = versionPaths(imagesDir, 'fixture', v2).root;
  assert.equal(await ino(join(r2, 'usr/share/data/big.bin')), await ino(join(r1, 'usr/share/data/big.bin')));
  assert.equal(await ino(join(r2, 'boot/vmlinuz-' + FIXTURE_KERNEL)), await ino(join(r1, 'boot/vmlinuz-' + FIXTURE_KERNEL)));
  assert.notEqual(await ino(join(r2, 'etc/ssh/sshd_config')), await ino(join(r1, 'etc/ssh/sshd_config')));
  assert.match(await readFile(join(r2, 'etc/ssh/sshd_config'), 'utf8'), /X11Forwarding/);
  assert.doesNotMatch(await readFile(join(r1, 'etc/ssh/sshd_config'), 'utf8'), /X11Forwarding/);
  assert.equal(await readFile(join(r2, 'usr/share/data/new.txt'), 'utf8'), 'new file\n');
  assert.equal(await stat(join(r2, 'usr/share/doc/netroot/README.hardlink')).catch(() => null), null);
  // The stateless steps re-ran on v2 without touching v1's files.
  assert.equal(await readFile(join(r2, 'etc/machine-id'), 'utf8'), '');
  assert.equal(await readFile(join(r1, 'etc/fstab'), 'utf8'), FSTAB);
  // Delta: bytes of regular files in v2 that are not shared with v1.
  const { stdout } = await run('find', [r2, '-type', 'f', '-links', '1', '-printf', '%s\\n']);
  const unshared = stdout.split('\n').filter(Boolean).reduce((a, b) => a + Number(b), 0);
  const { stdout: all } = await run('find', [r2, '-type', 'f', '-printf', '%s\\n']);
  const total = all.split('\n').filter(Boolean).reduce((a, b) => a + Number(b), 0);
  assert.ok(unshared < 64 * 1024 && total > 256 * 1024, `unshared ${unshared} of ${total} bytes`);
});

test('publish, rollback, pin and retention over the pulled versions; removal keeps others whole', async () => {
  await pullVersion(opts({ version: 'v3', prev: v2 }));
  const versions = await store.list('fixture');
  let active = publishTarget(versions, 'v3');
  assert.equal(rollbackTarget(versions, active), 'v2');
  active = rollbackTarget(versions, active);
  assert.equal(pinTarget(versions, 'v3'), 'v3');
  assert.deepEqual(retentionPlan(versions, active, ['v3'], ['v1'], 1).remove, []);
  const plan = retentionPlan(versions, active, [], [], 1);
  assert.deepEqual(plan.remove, ['v1']);
  for (const v of plan.remove) {
    await removeVersionTree(imagesDir, 'fixture', v);
    await store.remove('fixture', v);
  }
  assert.equal(await stat(versionPaths(imagesDir, 'fixture', 'v1').dir).catch(() => null), null);
  const r2 = versionPaths(imagesDir, 'fixture', 'v2').root;
  assert.equal((await readFile(join(r2, 'usr/share/data/big.bin'))).length, 256 * 1024);
});

test('a failing dracut leaves the version failed and its tree removed (or kept on request)', async () => {
  const bad = { ...image, drivers: ['fail-dracut'] };
  await assert.rejects(pullVersion(opts({ image: bad, version: 'bad1', prev: 'v3' })), (e: unknown) =>
    e instanceof PullError && e.step === 'initramfs' && /fail-dracut/.test(e.message));
  assert.equal((await store.get('fixture', 'bad1'))!.state, 'failed');
  assert.equal(await stat(versionPaths(imagesDir, 'fixture', 'bad1').dir).catch(() => null), null);
  await assert.rejects(pullVersion(opts({ image: bad, version: 'bad2', prev: 'v3', keepFailed: true })), PullError);
  const kept = await store.get('fixture', 'bad2');
  assert.equal(kept!.kept, true);
  assert.ok(await stat(versionPaths(imagesDir, 'fixture', 'bad2').root));
  await removeVersionTree(imagesDir, 'fixture', 'bad2');
});

/** Child PIDs of `parent` (default: this process) whose argv[0] is `name` ('' = any). */
function ourChildren(name: string, parent = process.pid): number[] {
  const out: number[] = [];
  for (const t of readdirSync(`/proc/${parent}/task`)) {
    const kids = readFileSync(`/proc/${parent}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    for (const k of kids) {
      let cmd: string[];
      try {
        cmd = readFileSync(`/proc/${k}/cmdline`, 'utf8').split('\0');
      } catch {
        continue; // exited meanwhile
      }
      if (name === '' || cmd[0] === name) out.push(k);
    }
  }
  return out;
}

test('rsync killed mid-pull: the new version is failed and removed, the active one intact; one pull per image', async () => {
  await writeFile(join(fixture, 'usr/share/data/slow.bin'), Buffer.alloc(8 << 20, 7));
  const activeRoot = versionPaths(imagesDir, 'fixture', 'v3').root;
  const before = (await run('find', [activeRoot, '-printf', '%p %i %s\\n'])).stdout;
  let killed = false;
  const killer: Runner = (argv, o = {}) => runCommand(argv, {
    ...o,
    onLine: (line, s) => {
      o.onLine?.(line, s);
      if (!killed && argv[0] === 'rsync' && /\d%/.test(line)) {
        const pids = ourChildren('rsync');
        assert.equal(pids.length, 1);
        process.kill(pids[0]!, 'SIGKILL');
        killed = true;
      }
    },
  });
  const pull = pullVersion(opts({ version: 'killed', prev: 'v3', runner: killer, rsyncExtra: ['--bwlimit=1000'] }));
  // The lock is held during the pull: a second pull of the image is refused at once.
  await new Promise((r) => setTimeout(r, 200));
  await assert.rejects(pullVersion(opts({ version: 'second', prev: 'v3' })), PullBusyError);
  await assert.rejects(pull, (e: unknown) => e instanceof PullError && e.step === 'rsync');
  assert.ok(killed, 'rsync was killed mid-transfer');
  assert.equal((await store.get('fixture', 'killed'))!.state, 'failed');
  assert.equal(await stat(versionPaths(imagesDir, 'fixture', 'killed').dir).catch(() => null), null);
  assert.equal((await run('find', [activeRoot, '-printf', '%p %i %s\\n'])).stdout, before);
  await unlink(join(fixture, 'usr/share/data/slow.bin'));
});

test('an SSH drop mid-pull (the golden host\'s sshd session killed) fails the version, active intact', async () => {
  await writeFile(join(fixture, 'usr/share/data/slow.bin'), Buffer.alloc(8 << 20, 5));
  const activeRoot = versionPaths(imagesDir, 'fixture', 'v3').root;
  const before = (await run('find', [activeRoot, '-printf', '%p %i %s\\n'])).stdout;
  let dropped = false;
  const p = pullVersion(opts({ version: 'dropped', prev: 'v3', rsyncExtra: ['--bwlimit=1000'] }), {
    progress: (s, pr) => {
      if (dropped || s !== 'rsync' || pr.bytes === 0) return;
      // The per-connection sshd processes are children of the sshd this test started.
      const kids = ourChildren('', sshd.pid());
      assert.ok(kids.length > 0, 'an sshd session is serving rsync');
      for (const pid of kids) process.kill(pid, 'SIGKILL');
      dropped = true;
    },
  });
  await assert.rejects(p, (e: unknown) => e instanceof PullError && e.step === 'rsync');
  assert.ok(dropped);
  assert.equal((await store.get('fixture', 'dropped'))!.state, 'failed');
  assert.equal(await stat(versionPaths(imagesDir, 'fixture', 'dropped').dir).catch(() => null), null);
  assert.equal((await run('find', [activeRoot, '-printf', '%p %i %s\\n'])).stdout, before);
  await unlink(join(fixture, 'usr/share/data/slow.bin'));
});

test('disk full on the images filesystem: the version fails and its partial tree is removed', async () => {
  const small = join(tmp, 'images-small');
  await mkdir(small);
  await run('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'netroot-test-full', small]);
  try {
    await assert.rejects(pullVersion(opts({ imagesDir: small, version: 'full1' })), (e: unknown) =>
      e instanceof PullError && /No space left on device|ENOSPC/.test(e.message));
    assert.equal((await store.get('fixture', 'full1'))!.state, 'failed');
    assert.deepEqual(await readdir(join(small, 'fixture')), []);
  } finally {
    await run('umount', [small]);
  }
});

test('an aborted pull (job cancelled) is failed the same way', async () => {
  await writeFile(join(fixture, 'usr/share/data/slow.bin'), Buffer.alloc(8 << 20, 9));
  const ac = new AbortController();
  const p = pullVersion(opts({ version: 'aborted', prev: 'v3', rsyncExtra: ['--bwlimit=1000'] }), {
    signal: ac.signal, progress: (s, pr) => { if (s === 'rsync' && pr.bytes > 0) ac.abort(); },
  });
  setTimeout(() => ac.abort(), 3000).unref();
  await assert.rejects(p, (e: unknown) => e instanceof PullError && e.step === 'rsync' && /aborted/.test(e.message));
  assert.equal((await store.get('fixture', 'aborted'))!.state, 'failed');
  await unlink(join(fixture, 'usr/share/data/slow.bin'));
});

test('names escaping the images tree are refused before anything happens', async () => {
  await assert.rejects(pullVersion(opts({ image: { ...image, name: '../etc' } })), /image:/);
  await assert.rejects(pullVersion(opts({ prev: '../../x' })), /version:/);
  assert.equal((await store.list('../etc')).length, 0);
  // A version the store knows, or a directory it does not know, is never overwritten or removed.
  await assert.rejects(pullVersion(opts({ version: 'v3', prev: 'v2' })), /exists/);
  const stray = versionPaths(imagesDir, 'fixture', 'stray');
  await mkdir(stray.root, { recursive: true });
  await writeFile(join(stray.root, 'keep'), 'x');
  await assert.rejects(pullVersion(opts({ version: 'stray', prev: 'v3' })), /already exists on disk/);
  assert.equal(await readFile(join(stray.root, 'keep'), 'utf8'), 'x');
  await rm(stray.dir, { recursive: true });
});

test('chroot mode: dracut runs inside the new root with /proc /sys /dev bound, all unmounted after', async () => {
  const root2 = join(tmp, 'golden-root-chroot');
  await buildFixtureRoot(root2, { chrootShell: true });
  const host2 = { ...host, name: 'golden2', sourcePath: root2 };
  const img2 = { ...image, name: 'chrooted', initramfs: 'chroot' as const };
  const rec = await pullVersion(opts({ image: img2, host: host2, version: 'c1', tools: { dracut: '/usr/bin/dracut', lsinitrd: '/usr/bin/lsinitrd' } }));
  assert.equal(rec.state, 'ready');
  const p = versionPaths(imagesDir, 'chrooted', 'c1');
  assert.deepEqual(await mountsUnder(p.dir), []);
  assert.match(await readFile(p.initramfs, 'utf8'), /--add-drivers nfs nfsv4 virtio_net -f \/tmp\/netroot-initramfs-\w+\.img 6\.1\.0-netroot-test/);
  assert.equal((await stat(p.initramfs)).mode & 0o777, 0o644);
  assert.deepEqual((await readdir(join(p.root, 'tmp'))), [], 'no initramfs left in the root');
  assert.deepEqual(await readdir(join(p.root, 'proc')), []);
  // A failing dracut in the chroot still unmounts everything before the tree is removed.
  await assert.rejects(pullVersion(opts({ image: { ...img2, drivers: ['fail-dracut'] }, host: host2, version: 'c2', prev: 'c1',
    tools: { dracut: '/usr/bin/dracut', lsinitrd: '/usr/bin/lsinitrd' } })), (e: unknown) => e instanceof PullError && e.step === 'initramfs');
  assert.deepEqual(await mountsUnder(join(imagesDir, 'chrooted')), []);
  assert.equal(await stat(versionPaths(imagesDir, 'chrooted', 'c2').dir).catch(() => null), null);
  assert.ok((await stat('/dev/null')).isCharacterDevice());
});

test('removeVersionTree refuses a tree with a mount inside it (never deletes through a bind mount)', async () => {
  const p = versionPaths(imagesDir, 'chrooted', 'c1');
  const outside = join(tmp, 'precious');
  await mkdir(outside);
  await writeFile(join(outside, 'keep'), 'x');
  await run('mount', ['--bind', outside, join(p.root, 'mnt')]);
  try {
    await assert.rejects(removeVersionTree(imagesDir, 'chrooted', 'c1'), /still has mounts/);
  } finally {
    await run('umount', [join(p.root, 'mnt')]);
  }
  assert.equal(await readFile(join(outside, 'keep'), 'utf8'), 'x');
  await removeVersionTree(imagesDir, 'chrooted', 'c1');
});

test('a re-keyed golden host is refused by ssh2 and by the pull, naming the host', async () => {
  await sshd.rekey();
  await assert.rejects(openSession(host, identity), (e: unknown) =>
    e instanceof GoldenError && e.code === 'host-key-changed' && /golden host golden1: host key of 127\.0\.0\.1:\d+ changed/.test(e.message));
  await assert.rejects(pullVersion(opts({ version: 'rekeyed', prev: 'v3' })), (e: unknown) =>
    e instanceof PullError && e.step === 'setup' && /golden1.*changed/.test(e.message));
  // OpenSSH (rsync's transport) refuses too with netroot's known_hosts.
  await assert.rejects(runCommand(['ssh', '-i', identity.privateKeyPath, '-p', String(sshd.port), '-o', `UserKnownHostsFile=${identity.knownHostsPath}`,
    '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', 'root@127.0.0.1', 'true']), /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/);
});
