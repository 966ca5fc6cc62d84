/**
 * Golden host to published version through the running service and its CLI only: a real sshd
 * serving a fixture root, host key fetched and pinned, preflight, pulls as jobs with progress,
 * publish, rollback, retention rules, a re-keyed host refused, a pull whose service was killed.
 * (The fixture's dracut is a stand-in script; the real dracut runs in the end-to-end test.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { buildFixtureRoot } from '../../fixtures/golden/build-root.js';
import { startSshd, type TestSshd } from '../golden/sshd.js';
import { removeDir, startNetroot, type Netroot } from '../../helpers/service.js';
import { runCommand } from '../../../exports/runner.js';

const ADMIN_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAdminAdminAdminAdminAdminAdminAdminAdmin12 admin@desk';
let key0: { publicKey: string; fingerprint: string };
let tmp: string;
let fixture: string;
let sshd: TestSshd;
let nr: Netroot;

/** The service's config; `images` adds to its images section (e.g. keepFailed, a slower rsync). */
function config(images: Record<string, unknown> = {}) {
  return {
    boot: { serverAddress: '10.0.0.1' },
    images: { keep: 2, dracut: join(fixture, 'usr/bin/dracut'), lsinitrd: join(fixture, 'usr/bin/lsinitrd'), ...images },
  };
}

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'nr-images-'));
  fixture = join(tmp, 'golden-root');
  await buildFixtureRoot(fixture);
  nr = await startNetroot({ dataDir: join(tmp, 'data'), config: config() });
  const key = await nr.api('GET', '/ssh/key');
  assert.match(key.body.publicKey, /^ssh-ed25519 /);
  key0 = key.body;
  sshd = await startSshd(join(tmp, 'sshd'), key.body.publicKey);
  // The golden host authorises netroot's key beside an admin's (the test sshd reads its own copy).
  writeFileSync(join(fixture, 'root/.ssh/authorized_keys'), `${ADMIN_KEY}\n${key.body.publicKey}\n`, { mode: 0o600 });
});

after(async () => {
  await nr?.stop();
  await sshd?.stop();
  removeDir(tmp);
});

async function waitJob(id: number) {
  for (;;) {
    const j = (await nr.api('GET', `/jobs/${id}`)).body;
    if (!['queued', 'running'].includes(j.state)) return j;
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('register a golden host: the key is fetched, shown, and must be pinned with its fingerprint', async () => {
  const add = await nr.cli(['golden', 'add', 'golden1', '--address', '127.0.0.1', '--port', String(sshd.port), '--source', fixture, '--json']);
  assert.equal(add.code, 0, add.stderr);
  const h = JSON.parse(add.stdout);
  const fp = execFileSync('ssh-keygen', ['-lf', `${sshd.hostKeyPath}.pub`]).toString().split(' ')[1];
  assert.equal(h.fingerprint, fp);
  assert.equal(h.pinned, false);
  assert.equal((await nr.api('POST', '/images', { name: 'fixture', host: 'nosuch' })).body.error.field, 'host');
  const img = await nr.api('POST', '/images', {
    name: 'fixture',
    host: 'golden1',
    settings: { statetab: ['/var/lib/app'], rwtab: [{ type: 'empty', path: '/var/cache/app' }], drivers: ['virtio_net'], excludes: ['/var/cache/skip/*'] },
  });
  assert.equal(img.status, 201, JSON.stringify(img.body));
  assert.equal(img.body.settings.hostKeys, 'state', 'per-node SSH host keys unless asked otherwise');
  const early = await nr.api('POST', '/images/fixture/pull');
  assert.equal(early.status, 409);
  assert.match(early.body.error.message, /pin its host key/);
  const wrong = await nr.cli(['golden', 'pin', 'golden1', '--fingerprint', `SHA256:${'A'.repeat(43)}`]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /fingerprint: does not match/);
  assert.equal((await nr.cli(['golden', 'pin', 'golden1', '--fingerprint', fp!])).code, 0);
  const check = await nr.cli(['golden', 'check', 'golden1', '--json']);
  const rep = JSON.parse(check.stdout).report;
  assert.equal(rep.host, 'golden1');
  assert.ok(Array.isArray(rep.problems));
  const prep = await nr.api('POST', '/golden-hosts/golden1/prepare', {});
  assert.equal(prep.status, 200, JSON.stringify(prep.body));
  assert.equal(prep.body.applied, false);
  assert.match(prep.body.plan.content, /nfs/);
});

test('pull with a progress bar, publish, pull again, roll back; versions show which nodes run them', async () => {
  const p1 = await nr.cli(['image', 'pull', 'fixture', '--wait']);
  assert.equal(p1.code, 0, p1.stderr);
  assert.match(p1.stderr, /\[#+\.*\]\s+\d+%/, 'a progress bar was drawn');
  const v1 = /version (\S+) is ready/.exec(p1.stdout)![1]!;
  const root1 = join(nr.dataDir, 'images/fixture', v1, 'root');
  assert.equal(readFileSync(join(root1, 'etc/ssh/ssh_host_ed25519_key'), 'utf8'), '', 'a placeholder, not the golden host\'s key');
  // netroot's own key (<dataDir>/ssh/id_ed25519.pub) is out of the image, the admin's stays; the job log says so.
  assert.equal(readFileSync(join(root1, 'root/.ssh/authorized_keys'), 'utf8'), `${ADMIN_KEY}\n`);
  const ownKey = readFileSync(join(nr.dataDir, 'ssh/id_ed25519.pub'), 'utf8').trim();
  assert.equal(ownKey, key0.publicKey);
  const job1 = (await nr.api('GET', '/jobs?target=image:fixture&limit=1')).body.items[0];
  const log1 = (await nr.api('GET', `/jobs/${job1.id}`)).body.log as string;
  assert.ok(log1.includes(`removed netroot's own SSH key (${key0.fingerprint}) from /root/.ssh/authorized_keys:`), log1);
  assert.equal((await nr.api('POST', '/nodes', { mac: '52:54:00:77:00:01', fqdn: 'n1.lab.example', ipv4: '10.7.0.1', image: 'fixture' })).status, 201);
  assert.equal((await nr.cli(['image', 'publish', 'fixture', v1])).code, 0);
  writeFileSync(join(fixture, 'etc/motd'), 'version two\n');
  const job = await nr.api('POST', '/images/fixture/pull');
  assert.equal(job.status, 202);
  assert.equal((await nr.api('POST', '/images/fixture/pull')).status, 409, 'one pull per image at a time');
  const done = await waitJob(job.body.job.id);
  assert.equal(done.state, 'succeeded', done.log);
  const v2 = done.result.version as string;
  assert.match(done.log, /rsync from root@127\.0\.0\.1/);
  await nr.api('POST', '/images/fixture/publish', { version: v2 });
  let vs = (await nr.api('GET', '/images/fixture/versions')).body.items as { version: string; active: boolean; runningNodes: number; bootsNext: number; state: string; sizeBytes: number }[];
  // n1 boots v2 next; none has reported running anything yet.
  assert.deepEqual(vs.map((v) => [v.version, v.state, v.active, v.bootsNext, v.runningNodes]), [[v1, 'ready', false, 0, 0], [v2, 'ready', true, 1, 0]]);
  assert.ok(vs[1]!.sizeBytes > 0);
  assert.equal((await nr.api('DELETE', `/images/fixture/versions/${v2}`)).status, 409, 'the active version cannot be removed');
  const rb = await nr.cli(['image', 'rollback', 'fixture', '--json']);
  assert.equal(JSON.parse(rb.stdout).activeVersion, v1);
  // Pin the node on v2 (a canary): v2 is protected from removal.
  assert.equal((await nr.api('PATCH', '/nodes/n1.lab.example', { pinnedVersion: v2 })).status, 200);
  assert.equal((await nr.api('DELETE', `/images/fixture/versions/${v2}`)).status, 409);
  vs = (await nr.api('GET', '/images/fixture/versions')).body.items;
  assert.deepEqual(vs.map((v) => v.bootsNext), [0, 1]);
  // Retention (keep 2): a third version published removes v1, never the pinned v2.
  const p3 = await nr.cli(['image', 'pull', 'fixture', '--wait', '--json']);
  const v3 = JSON.parse(p3.stdout).result.version as string;
  assert.equal((await nr.cli(['image', 'publish', 'fixture', v3])).code, 0);
  vs = (await nr.api('GET', '/images/fixture/versions')).body.items;
  assert.deepEqual(vs.map((v) => v.version), [v2, v3]);
  const audit = (await nr.api('GET', '/audit')).body.items as { path: string }[];
  assert.ok(audit.some((a) => a.path === '/api/v1/images/fixture/rollback'));
  // Nothing changed on the golden host since v3: a pull builds nothing, --force builds anyway.
  const same = await nr.cli(['image', 'pull', 'fixture', '--wait']);
  assert.equal(same.code, 0, same.stderr);
  assert.match(same.stdout, new RegExp(`nothing changed on the golden host since version ${v3}`));
  const sameJson = await nr.cli(['image', 'pull', 'fixture', '--wait', '--json']);
  assert.deepEqual([JSON.parse(sameJson.stdout).result.version, JSON.parse(sameJson.stdout).result.unchanged], [v3, true]);
  assert.deepEqual(((await nr.api('GET', '/images/fixture/versions')).body.items as { version: string }[]).map((v) => v.version), [v2, v3]);
  const forced = await nr.cli(['image', 'pull', 'fixture', '--wait', '--force', '--json']);
  const v4 = JSON.parse(forced.stdout).result.version as string;
  assert.equal(JSON.parse(forced.stdout).result.unchanged, false);
  assert.notEqual(v4, v3);
  assert.equal((await nr.api('POST', '/images/fixture/pull', { force: 'yes' })).status, 400, 'force must be a boolean');
});

test('a re-keyed golden host is refused until its new key is pinned; the active version keeps serving', async () => {
  await sshd.rekey();
  const job = await nr.api('POST', '/images/fixture/pull');
  const done = await waitJob(job.body.job.id);
  assert.equal(done.state, 'failed');
  assert.match(done.error, /golden host golden1/);
  assert.match(done.error, /host key/i);
  const img = (await nr.api('GET', '/images/fixture')).body;
  assert.ok(img.activeVersion);
  assert.ok(img.versions.some((v: { state: string }) => v.state === 'failed'));
  const rk = await nr.cli(['golden', 'rekey', 'golden1', '--json']);
  assert.equal(rk.code, 0, rk.stderr);
  assert.equal(JSON.parse(rk.stdout).pinned, false);
  const h = await nr.api('GET', '/health', undefined, null);
  assert.match(h.body.subsystems.golden.detail, /not pinned: golden1/);
});

test('kill -9 of the service during a pull: at restart the version is failed and its tree gone (kept with keepFailed); pulls and DELETE work', async () => {
  const dataDir = nr.dataDir;
  const token = nr.token;
  const api = (method: string, path: string, body?: unknown) => nr.api(method, path, body, token);
  const versionDir = (v: string) => join(dataDir, 'images/fixture', v);
  // The host was re-keyed by the test above: pin its new key.
  const h = (await api('GET', '/golden-hosts/golden1')).body;
  assert.equal((await api('POST', '/golden-hosts/golden1/pin', { fingerprint: h.fingerprint })).status, 200);
  // A pull that stays in rsync for seconds: 12 MiB new on the golden host, rsync limited to 2 MB/s.
  const slow = { rsyncExtra: ['--bwlimit=2048'] };
  const restart = async (images: Record<string, unknown>) => {
    nr = await startNetroot({ dataDir, config: config(images) });
  };
  await nr.stop();
  await restart(slow);

  /** Starts a pull, waits until rsync writes into the new version, kills the service; returns job and version. */
  const crashDuringPull = async (file: string) => {
    writeFileSync(join(fixture, 'usr/share/data', file), randomBytes(12 << 20));
    const started = await api('POST', '/images/fixture/pull');
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const id = started.body.job.id as number;
    let building: string | undefined;
    for (;;) {
      const j = (await api('GET', `/jobs/${id}`)).body;
      assert.equal(j.state, 'running', `the pull ended before the kill: ${j.state} ${j.error ?? ''}\n${j.log}`);
      building = ((await api('GET', '/images/fixture/versions')).body.items as { version: string; state: string }[]).find((v) => v.state === 'building')?.version;
      if (building && j.step === 'rsync' && existsSync(join(versionDir(building), 'root/etc'))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const pid = nr.proc.pid;
    process.kill(pid, 'SIGKILL');
    await nr.proc.exited;
    assert.equal(nr.proc.child.signalCode, 'SIGKILL');
    return { id, version: building };
  };
  const versions = async () => ((await api('GET', '/images/fixture/versions')).body.items as { version: string; state: string; error?: string; kept?: boolean }[]);
  const nothingWritesInto = async (dir: string) => {
    const r = await runCommand(['pgrep', '-f', dir], { okCodes: [0, 1] });
    assert.equal(r.stdout.trim(), '', `processes still working in ${dir}`);
  };

  // 1. Default: the tree is removed.
  const a = await crashDuringPull('crash-a.bin');
  assert.ok(existsSync(join(versionDir(a.version), 'root')), 'a near-complete tree was left by the kill');
  await restart(slow);
  const job = (await api('GET', `/jobs/${a.id}`)).body;
  assert.equal(job.state, 'failed');
  const va = (await versions()).find((v) => v.version === a.version)!;
  assert.equal(va.state, 'failed');
  assert.match(va.error!, /service died during the pull/);
  assert.match(va.error!, /partial tree removed/);
  assert.equal(existsSync(versionDir(a.version)), false, 'the partial tree is gone');
  await nothingWritesInto(versionDir(a.version));
  // A new pull works (the image is not locked by the dead one), and nothing brings the old tree back.
  const p = await nr.cli(['image', 'pull', 'fixture', '--wait', '--json'], { token });
  assert.equal(p.code, 0, p.stderr);
  const fresh = JSON.parse(p.stdout).result.version as string;
  assert.notEqual(fresh, a.version);
  assert.ok(readFileSync(join(versionDir(fresh), 'root/usr/share/data/crash-a.bin')).length === 12 << 20);
  assert.equal(existsSync(versionDir(a.version)), false);
  // DELETE of the failed version works (it used to answer 409 "still being built").
  assert.equal((await api('DELETE', `/images/fixture/versions/${a.version}`)).status, 204);
  assert.equal((await versions()).some((v) => v.version === a.version), false);

  // 2. images.keepFailed: the partial tree stays for inspection, and DELETE removes it.
  const b = await crashDuringPull('crash-b.bin');
  await restart({ keepFailed: true });
  const vb = (await versions()).find((v) => v.version === b.version)!;
  assert.deepEqual([vb.state, vb.kept], ['failed', true]);
  assert.match(vb.error!, /service died during the pull.*partial tree kept \(images\.keepFailed\)/);
  assert.ok(existsSync(join(versionDir(b.version), 'root/etc')), 'the partial tree is kept');
  await nothingWritesInto(versionDir(b.version));
  assert.equal((await api('GET', `/jobs/${b.id}`)).body.state, 'failed');
  assert.equal((await api('DELETE', `/images/fixture/versions/${b.version}`)).status, 204);
  assert.equal(existsSync(versionDir(b.version)), false);
  // Untouched by all this: the active version and the new one.
  const active = (await api('GET', '/images/fixture')).body.activeVersion as string;
  for (const v of [active, fresh]) {
    assert.equal((await versions()).find((x) => x.version === v)!.state, 'ready', v);
    assert.ok(existsSync(join(versionDir(v), 'boot/initramfs.img')), v);
  }
});
