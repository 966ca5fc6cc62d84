/**
 * Faults of the golden-host pipeline against a real sshd and rsync: dracut failing, rsync
 * killed, the SSH connection dropped, the disk full, the job aborted, the host re-keyed. Each
 * leaves the new version failed and the active one intact.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile, stat, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../helpers/proc.js';
import { openSession, GoldenError } from '../../../exports/golden/index.js';
import { pullVersion, PullError, PullBusyError, versionPaths, removeVersionTree } from '../../../exports/image/index.js';
import { runCommand, type Runner } from '../../../exports/runner.js';
import { image, ourChildren, startLab, type Lab } from './lab.js';

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
  await lab.pin();
  // The version that stays active through every fault below.
  await pullVersion(lab.opts({ version: 'v3' }));
});
after(async () => lab?.stop());
const opts: Lab['opts'] = (o) => lab.opts(o);

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
test('a pull cancelled while dracut runs on the golden host leaves no temp initramfs there', async () => {
  // A dracut that takes a while (a real one takes tens of seconds) and says where it writes.
  const log = join(tmp, 'slow-dracut.log');
  const slow = join(tmp, 'slow-dracut');
  await writeFile(log, '');
  await writeFile(slow, [
    '#!/bin/sh',
    `case "$1" in --version) exec '${fixture}/usr/bin/dracut' "$@" ;; esac`,
    `prev=; for a in "$@"; do [ "$prev" = -f ] && echo "$a" >> '${log}'; prev=$a; done`,
    'sleep 1',
    `exec '${fixture}/usr/bin/dracut' "$@"`,
    '',
  ].join('\n'), { mode: 0o755 });
  const ac = new AbortController();
  const p = pullVersion(opts({ version: 'cancel-dracut', prev: 'v3', tools: { dracut: slow, lsinitrd: join(fixture, 'usr/bin/lsinitrd') } }), {
    signal: ac.signal,
    progress: (s) => {
      if (s !== 'initramfs') return;
      const poll = setInterval(() => {
        if (!readFileSync(log, 'utf8').trim()) return;
        clearInterval(poll);
        ac.abort();
      }, 20);
    },
  });
  await assert.rejects(p, (e: unknown) => e instanceof PullError && e.step === 'initramfs' && /aborted/.test(e.message));
  const out = readFileSync(log, 'utf8').trim();
  assert.match(out, /^\/tmp\/netroot-initramfs-[0-9a-f]+\.img$/);
  // dracut goes on after the abort: wait until nothing on the golden host names the file.
  const naming = () => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).some((d) => {
    try {
      return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(out);
    } catch {
      return false;
    }
  });
  for (let i = 0; i < 200 && naming(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(naming(), false, 'the golden host\'s dracut ended');
  assert.equal(existsSync(out), false, `${out} left on the golden host`);
  assert.equal((await store.get('fixture', 'cancel-dracut'))!.state, 'failed');
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
