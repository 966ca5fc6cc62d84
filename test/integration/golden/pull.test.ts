/**
 * The golden-host pipeline against a real sshd and rsync: host key pinning, preflight/prepare,
 * a fixture root pulled into versions and checked on disk, a re-pull with hard links, publish/
 * rollback/pin/retention, chroot-mode initramfs. Faults are in faults.test.ts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, readFile, writeFile, stat, lstat, readdir, readlink, appendFile, unlink } from 'node:fs/promises';
import { readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { assertHostSpecificCleaned, buildFixtureRoot, FIXTURE_KERNEL } from '../../fixtures/golden/build-root.js';
import { run } from '../../helpers/proc.js';
import { ensureKeyPair, fetchHostKey, pinKey, openSession, preflight, planPrepare, applyPrepare, GoldenError } from '../../../exports/golden/index.js';
import {
  pullVersion, PullError, versionPaths, retentionPlan, rollbackTarget, pinTarget, publishTarget, removeVersionTree, FSTAB,
} from '../../../exports/image/index.js';
import { runCommand } from '../../../exports/runner.js';
import { mountsUnder } from '../../../exports/image/tree.js';
import { image, OTHER_KEY, startLab, type Lab } from './lab.js';

let lab: Lab;
let sshd: Lab['sshd'];
let host: Lab['host'];
let identity: Lab['identity'];
let store: Lab['store'];
let tmp = '';
let fixture = '';
let imagesDir = '';
before(async () => {
  lab = await startLab();
  ({ tmp, fixture, imagesDir, sshd, host, identity, store } = lab);
});
after(async () => lab?.stop());
const opts: Lab['opts'] = (o) => lab.opts(o);

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
/** (step, percent) as the first pull reported them. */
const reported: [string, number][] = [];

test('first pull: rsync, every stateless step, kernel, initramfs, checks, manifest', async () => {
  const steps = new Set<string>();
  const lines: string[] = [];
  let rsyncProgress = 0;
  const rec = await pullVersion(opts({ version: 'v1' }), {
    progress: (step, p) => { steps.add(step); reported.push([step, p.percent]); if (step === 'rsync') rsyncProgress++; assert.ok(p.percent >= 0 && p.percent <= 100); },
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
  assertHostSpecificCleaned(root);
  assert.ok(lines.includes('stateless random-seed: /var/lib/systemd/random-seed'), lines.join('\n'));
  assert.ok(lines.includes('stateless sysconfig-hostname: /etc/sysconfig/network'), lines.join('\n'));
  assert.match(await readFile(join(root, 'etc/sysconfig/readonly-root'), 'utf8'), /^CLIENTSTATE=10\.0\.0\.1:\/var\/lib\/netroot\/state$/m);
  assert.match(await readFile(join(root, 'etc/rwtab.d/netroot'), 'utf8'), /^empty\t\/var\/cache\/app$/m);
  assert.match(await readFile(join(root, 'etc/statetab.d/netroot'), 'utf8'), /^\/var\/lib\/app$/m);
  assert.ok((await stat(join(root, 'usr/lib/netroot/readonly-root'))).isFile());
  assert.equal(await readlink(join(root, 'etc/localtime')), '/usr/share/zoneinfo/UTC');
  // -H: hard links inside the root survive; --numeric-ids/-a: modes kept.
  assert.equal(await ino(join(root, 'usr/share/doc/netroot/README')), await ino(join(root, 'usr/share/doc/netroot/README.hardlink')));
  assert.equal((await stat(join(root, 'etc/ssh/ssh_host_ed25519_key'))).mode & 0o777, 0o600);
  // Per-node host keys (the default): placeholders only; the golden host's private keys are nowhere in the tree.
  for (const k of ['ssh_host_ed25519_key', 'ssh_host_ed25519_key.pub', 'ssh_host_rsa_key', 'ssh_host_rsa_key.pub']) {
    assert.equal(await readFile(join(root, 'etc/ssh', k), 'utf8'), '', k);
  }
  assert.equal((await runCommand(['grep', '-rlF', 'PRIVATE', root], { okCodes: [0, 1] })).stdout, '', 'no golden private key left in the version');
  assert.match(await readFile(join(root, 'etc/statetab.d/netroot'), 'utf8'), /^\/etc\/ssh\/ssh_host_ed25519_key$/m);
  assert.ok((await stat(join(root, 'etc/systemd/system/sysinit.target.wants/netroot-hostkeys.service'))));
  assert.ok(lines.some((l) => /^stateless ssh-host-keys: .*\/etc\/ssh\/ssh_host_rsa_key\b/.test(l)), lines.join('\n'));
  // netroot's pull key is out of every authorized_keys file (root's, authorized_keys2, a user's); other keys stay.
  assert.equal(await readFile(join(root, 'root/.ssh/authorized_keys'), 'utf8'), `${OTHER_KEY}\n`);
  assert.equal(await readFile(join(root, 'root/.ssh/authorized_keys2'), 'utf8'), '');
  assert.equal(await readFile(join(root, 'var/lib/svc/.ssh/authorized_keys'), 'utf8'), `${OTHER_KEY}\n`);
  assert.equal((await stat(join(root, 'root/.ssh/authorized_keys'))).mode & 0o777, 0o600);
  assert.equal((await runCommand(['grep', '-rlF', lab.publicKey.split(' ')[1]!, root], { okCodes: [0, 1] })).stdout, '', 'netroot\'s key is nowhere in the version');
  const fp = (await run('ssh-keygen', ['-lf', `${identity.privateKeyPath}.pub`])).stdout.split(' ')[1]!;
  assert.ok(lines.includes(`removed netroot's own SSH key (${fp}) from /root/.ssh/authorized_keys /root/.ssh/authorized_keys2 /var/lib/svc/.ssh/authorized_keys: it must not log in to the nodes`), lines.join('\n'));
  assert.match(await readFile(join(fixture, 'root/.ssh/authorized_keys'), 'utf8'), /netroot$/m, 'the golden host keeps it');
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

test('each pull step reports 0 as it begins, so a job shows the step running, not the last one done', () => {
  // A job's step is the last one reported: with only "100 when done", a pull dying in dracut
  // showed "kernel" (the fault campaign read it to say where a killed pull stopped).
  const order = ['rsync', 'stateless', 'kernel', 'initramfs', 'check', 'manifest'];
  const firsts = order.map((s) => reported.find(([step]) => step === s));
  assert.deepEqual(firsts, order.map((s) => [s, 0]));
  // Each step begins after the one before is done, and ends at 100.
  for (const [i, s] of order.entries()) {
    const begin = reported.findIndex(([step]) => step === s);
    if (i > 0) assert.deepEqual(reported[begin - 1], [order[i - 1], 100], s);
    assert.deepEqual(reported.findLast(([step]) => step === s), [s, 100]);
  }
});
test('hostKeys "keep" is an explicit choice: the golden host\'s keys stay, the placeholders of the linked version too', async () => {
  const rec = await pullVersion(opts({ image: { ...image, hostKeys: 'keep' }, version: 'keep1', prev: v1 }));
  const root = versionPaths(imagesDir, 'fixture', rec.version).root;
  assert.equal(await readFile(join(root, 'etc/ssh/ssh_host_ed25519_key'), 'utf8'), 'PRIVATE ed25519\n');
  assert.doesNotMatch(await readFile(join(root, 'etc/statetab.d/netroot'), 'utf8'), /ssh_host/);
  assert.equal(await stat(join(root, 'etc/systemd/system/netroot-hostkeys.service')).catch(() => null), null);
  assert.equal(await readFile(join(versionPaths(imagesDir, 'fixture', v1).root, 'etc/ssh/ssh_host_ed25519_key'), 'utf8'), '');
  await removeVersionTree(imagesDir, 'fixture', rec.version);
  await store.remove('fixture', rec.version);
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
test('re-pull of an unchanged host builds nothing; a change in a file, an owner or the settings, or force, builds a version', async () => {
  const before = (await store.list('fixture')).length;
  const logs: string[] = [];
  const same = await pullVersion(opts({ version: 'same1', prev: v2, skipUnchanged: true }), { log: (l) => logs.push(l) });
  assert.deepEqual([same.version, same.unchanged, same.state], [v2, true, 'ready']);
  assert.equal((await store.list('fixture')).length, before);
  assert.equal(await stat(versionPaths(imagesDir, 'fixture', 'same1').dir).catch(() => null), null);
  assert.ok(logs.some((l) => /unchanged since version/.test(l)), logs.join('\n'));
  // The manifest records what the check compares.
  const m = JSON.parse(await readFile(versionPaths(imagesDir, 'fixture', v2).manifest, 'utf8'));
  assert.match(m.source.fingerprint, /^sha256:[0-9a-f]{64}$/);
  assert.match(m.settingsKey, /^sha256:[0-9a-f]{64}$/);
  // Each change gives a new version; a pull right after it, with nothing more changed, gives none.
  let prev = v2;
  const made: string[] = [];
  const changedBy = async (what: string, change: () => Promise<unknown>, over: Partial<Parameters<typeof opts>[0]> = {}) => {
    await change();
    const r = await pullVersion(opts({ version: `chg-${what}`, prev, skipUnchanged: true, ...over }));
    assert.deepEqual([r.version, r.unchanged], [`chg-${what}`, false], what);
    made.push(r.version);
    const again = await pullVersion(opts({ version: `again-${what}`, prev: r.version, skipUnchanged: true, ...over }));
    assert.deepEqual([again.version, again.unchanged], [r.version, true], `${what}, pulled again`);
    prev = r.version;
  };
  const f = join(fixture, 'usr/share/data/new.txt');
  // Same size and content, another mtime: what rsync itself would copy.
  await changedBy('mtime', () => run('touch', ['-d', '2030-01-01 00:00:00', f]));
  await changedBy('owner', () => run('chown', ['4242:4242', f]));
  await changedBy('mode', () => run('chmod', ['0600', f]));
  await changedBy('removed', () => unlink(join(fixture, 'usr/share/data/new.txt')));
  await changedBy('settings', async () => undefined, { image: { ...image, statetab: ['/var/lib/other'] } });
  // Forced (skipUnchanged off): a version even though nothing changed.
  const forced = await pullVersion(opts({ version: 'forced', prev }));
  assert.deepEqual([forced.version, forced.unchanged], ['forced', false]);
  made.push('forced');
  for (const v of made) {
    await removeVersionTree(imagesDir, 'fixture', v);
    await store.remove('fixture', v);
  }
  // Put the file back as v2 had it, for the tests below.
  await writeFile(f, 'new file\n');
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
