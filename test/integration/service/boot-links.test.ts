/**
 * HTTP boot serves only regular files inside the image version's own tree: links planted in a
 * published version (boot/initramfs.img -> /etc/shadow, boot/ -> another directory, a link that
 * stays inside the version) and a FIFO are refused with 403 and logged, through the running
 * service, fetched with curl and fetch. HTTP on 127.0.0.1 only.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFixtureRoot } from '../../fixtures/golden/build-root.js';
import { startSshd, type TestSshd } from '../golden/sshd.js';
import { removeDir, startNetroot, type Netroot } from '../../helpers/service.js';
import { run } from '../../helpers/proc.js';

const MAC = '52:54:00:88:01:0a';
let tmp: string;
let sshd: TestSshd;
let nr: Netroot;
let version: string;
let secret: string;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const boot = () => join(nr.dataDir, 'images', 'fixture', version, 'boot');

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'nr-boot-links-'));
  const fixture = join(tmp, 'golden-root');
  await buildFixtureRoot(fixture);
  secret = join(tmp, 'secret');
  writeFileSync(secret, 'root:$6$not-for-nodes:19000:0:99999:7:::\n', { mode: 0o600 });
  nr = await startNetroot({
    dataDir: join(tmp, 'data'),
    config: { images: { dracut: join(fixture, 'usr/bin/dracut'), lsinitrd: join(fixture, 'usr/bin/lsinitrd') }, boot: { serverAddress: '127.0.0.1' } },
  });
  sshd = await startSshd(join(tmp, 'sshd'), (await nr.api('GET', '/ssh/key')).body.publicKey);
  const add = await nr.cli(['golden', 'add', 'g1', '--address', '127.0.0.1', '--port', String(sshd.port), '--source', fixture, '--json']);
  assert.equal(add.code, 0, add.stderr);
  assert.equal((await nr.cli(['golden', 'pin', 'g1', '--fingerprint', JSON.parse(add.stdout).fingerprint])).code, 0);
  assert.equal((await nr.api('POST', '/images', { name: 'fixture', host: 'g1' })).status, 201);
  const pull = await nr.cli(['image', 'pull', 'fixture', '--wait', '--json']);
  assert.equal(pull.code, 0, pull.stderr);
  version = JSON.parse(pull.stdout).result.version;
  assert.equal((await nr.cli(['image', 'publish', 'fixture', version])).code, 0);
  assert.equal((await nr.api('POST', '/nodes', { mac: MAC, fqdn: 'a.lab.example', ipv4: '10.8.0.10', image: 'fixture' })).status, 201);
});

after(async () => {
  await nr?.stop();
  await sshd?.stop();
  removeDir(tmp);
});

/** status and body of GET (or HEAD) through curl. */
async function curl(file: string, head = false): Promise<{ status: number; body: Buffer }> {
  const out = join(tmp, 'out');
  rmSync(out, { force: true });
  const r = await run('curl', ['-sS', ...(head ? ['-I'] : []), '-o', out, '-w', '%{http_code}', `${nr.url}/boot/${MAC}/${version}/${file}`]);
  return { status: Number(r.stdout), body: readFileSync(out) };
}

/** Replaces boot/<name> with what make() puts there for the length of f, then restores it. */
async function planted(name: string, make: (at: string) => unknown, f: () => Promise<void>): Promise<void> {
  const at = join(boot(), name);
  renameSync(at, `${at}.orig`);
  try {
    await make(at);
    await f();
  } finally {
    rmSync(at, { recursive: true, force: true });
    renameSync(`${at}.orig`, at);
  }
}

async function refused(file: string, reason: RegExp): Promise<void> {
  const before = nr.proc.output().length;
  const got = await curl(file);
  assert.equal(got.status, 403, `${file}: ${got.body.toString().slice(0, 100)}`);
  assert.ok(!got.body.toString().includes('not-for-nodes'), 'nothing of the target is sent');
  assert.equal((await curl(file, true)).status, 403, `HEAD ${file}`);
  const res = await fetch(`${nr.url}/boot/${MAC}/${version}/${file}`);
  assert.equal(res.status, 403);
  assert.ok(!(await res.text()).includes('not-for-nodes'));
  // The refusal is in the service's log, with the reason.
  const line = /"level":"error"[^\n]*"reason":"([^"]*)"[^\n]*refused to send a file/;
  let m: RegExpExecArray | null = null;
  for (let i = 0; i < 50 && !m; i++) {
    m = line.exec(nr.proc.output().slice(before));
    if (!m) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(m, 'the refusal is logged');
  assert.match(m[1]!, reason);
}

test('a planted symlink to a file outside the version (boot/initramfs.img -> /etc/shadow) is refused', async () => {
  const ok = await curl('initrd.img');
  assert.equal(ok.status, 200);
  const good = sha(ok.body);
  await planted('initramfs.img', (at) => symlinkSync(secret, at), () => refused('initrd.img', /symlink/));
  await planted('initramfs.img', (at) => symlinkSync('/etc/shadow', at), () => refused('initrd.img', /symlink.*\/etc\/shadow/));
  const again = await curl('initrd.img');
  assert.equal(again.status, 200, 'the real file is served again once the link is gone');
  assert.equal(sha(again.body), good);
});

test('a symlinked directory component (boot -> elsewhere) is refused even when the files there look right', async () => {
  const elsewhere = join(tmp, 'elsewhere');
  cpSync(boot(), elsewhere, { recursive: true });
  writeFileSync(join(elsewhere, 'vmlinuz'), readFileSync(secret));
  const dir = boot();
  renameSync(dir, `${dir}.orig`);
  try {
    symlinkSync(elsewhere, dir);
    await refused('vmlinuz', /symlink/);
  } finally {
    rmSync(dir, { force: true });
    renameSync(`${dir}.orig`, dir);
  }
  assert.equal((await curl('vmlinuz')).status, 200);
});

test('a link that stays inside the version, and a FIFO, are refused too', async () => {
  const rootFile = join(boot(), '..', 'root', 'etc', 'hostname');
  mkdirSync(join(boot(), '..', 'root', 'etc'), { recursive: true });
  writeFileSync(rootFile, 'inside\n');
  await planted('vmlinuz', (at) => symlinkSync('../root/etc/hostname', at), () => refused('vmlinuz', /symlink/));
  await planted('vmlinuz', (at) => run('mkfifo', [at]), () => refused('vmlinuz', /not a regular file/));
  assert.equal((await curl('vmlinuz')).status, 200);
});
