/**
 * Boot file serving by the running service, as nodes fetch it: a golden pull published, then the
 * iPXE script, kernel (with Range) and initramfs over HTTP, boot loaders and a generated pxelinux
 * config over TFTP (tftp-hpa, curl), the booted report, discovery of unknown MACs, the timeline,
 * metrics, and a SIGHUP reload while a TFTP transfer runs. TFTP/HTTP on 127.0.0.1 only.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFixtureRoot } from '../../fixtures/golden/build-root.js';
import { freePort, startSshd, type TestSshd } from '../golden/sshd.js';
import { removeDir, startNetroot, type Netroot } from '../../helpers/service.js';
import { run, start } from '../../helpers/proc.js';

const A = '52:54:00:88:00:0a';
const B = '52:54:00:88:00:0b';
let tmp: string;
let fixture: string;
let sshd: TestSshd;
let nr: Netroot;
let tftpPort: number;
let version: string;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'nr-boot-'));
  fixture = join(tmp, 'golden-root');
  await buildFixtureRoot(fixture);
  tftpPort = await freePort();
  const dataDir = join(tmp, 'data');
  mkdirSync(join(dataDir, 'tftp'), { recursive: true });
  writeFileSync(join(dataDir, 'tftp', 'big.bin'), randomBytes(12 << 20));
  nr = await startNetroot({
    dataDir,
    config: {
      images: { keep: 1, dracut: join(fixture, 'usr/bin/dracut'), lsinitrd: join(fixture, 'usr/bin/lsinitrd') },
      boot: { serverAddress: '127.0.0.1' },
      tftp: { enabled: true, listen: '127.0.0.1', port: tftpPort },
    },
  });
  sshd = await startSshd(join(tmp, 'sshd'), (await nr.api('GET', '/ssh/key')).body.publicKey);
  const add = await nr.cli(['golden', 'add', 'g1', '--address', '127.0.0.1', '--port', String(sshd.port), '--source', fixture, '--json']);
  assert.equal(add.code, 0, add.stderr);
  assert.equal((await nr.cli(['golden', 'pin', 'g1', '--fingerprint', JSON.parse(add.stdout).fingerprint])).code, 0);
  assert.equal((await nr.api('POST', '/images', { name: 'fixture', host: 'g1', settings: { kernelArgs: 'console=ttyS0,115200' } })).status, 201);
  const pull = await nr.cli(['image', 'pull', 'fixture', '--wait', '--json']);
  assert.equal(pull.code, 0, pull.stderr);
  version = JSON.parse(pull.stdout).result.version;
  assert.equal((await nr.cli(['image', 'publish', 'fixture', version])).code, 0);
  assert.equal((await nr.api('POST', '/nodes', { mac: A, fqdn: 'a.lab.example', ipv4: '10.8.0.10', image: 'fixture', kernelArgs: 'quiet' })).status, 201);
  assert.equal((await nr.api('POST', '/nodes', { mac: B, fqdn: 'b.lab.example', ipv4: '10.8.0.11', image: 'fixture', bootMode: 'pxelinux' })).status, 201);
});

after(async () => {
  await nr?.stop();
  await sshd?.stop();
  removeDir(tmp);
});

const root = () => join(nr.dataDir, 'images', 'fixture', version);

test('iPXE script, kernel with Range, initramfs over HTTP; booted; the timeline shows each step', async () => {
  const script = await nr.api('GET', `/boot/${A}.ipxe`, undefined, null);
  assert.equal(script.status, 200);
  const text = String(script.body);
  const base = nr.url;
  assert.match(text, /^#!ipxe/);
  const port = new URL(base).port;
  assert.ok(text.includes(`${base}/boot/${A}/${version}/vmlinuz`), text);
  assert.ok(
    text.includes(`root=nfs:127.0.0.1:${root()}/root ro ip=dhcp rd.neednet=1 netroot.fqdn=a.lab.example netroot.image=fixture netroot.version=${version} netroot.server=127.0.0.1:${port} console=ttyS0,115200 quiet`),
    text,
  );
  assert.ok(text.includes(`${base}/boot/${A}/${version}/initrd.img`), text);
  const kernel = readFileSync(join(root(), 'boot/vmlinuz'));
  const part = await run('curl', ['-sS', '-r', '2-9', '-o', join(tmp, 'part'), '-w', '%{http_code}', `${base}/boot/${A}/${version}/vmlinuz`]);
  assert.equal(part.stdout, '206');
  assert.deepEqual(readFileSync(join(tmp, 'part')), kernel.subarray(2, 10));
  const whole = await run('curl', ['-sS', '-o', join(tmp, 'k'), '-w', '%{http_code} %{size_download}', `${base}/boot/${A}/${version}/vmlinuz`]);
  assert.equal(whole.stdout, `200 ${kernel.length}`);
  assert.equal(sha(readFileSync(join(tmp, 'k'))), sha(kernel));
  const manifest = JSON.parse(readFileSync(join(root(), 'boot/manifest.json'), 'utf8'));
  const initrd = await run('curl', ['-sS', '-o', join(tmp, 'i'), '-w', '%{http_code}', `${base}/boot/${A}/${version}/initrd.img`]);
  assert.equal(initrd.stdout, '200');
  assert.ok(JSON.stringify(manifest).includes(sha(readFileSync(join(tmp, 'i')))), 'initramfs matches the manifest');
  // This test is not at the node's address (10.8.0.10): its report needs the token the boot left
  // in the node's state directory, which only the node can mount.
  assert.equal((await nr.api('POST', `/boot/${A}/booted`, '', null)).status, 403, 'not from the node, no token');
  const token = readFileSync(join(nr.dataDir, 'state', 'a.lab.example', '.netroot-boot-token'), 'utf8').trim();
  assert.equal((await nr.api('POST', `/boot/${A}/booted?image=fixture&version=${version}`, '', null, { 'x-netroot-boot-token': token })).status, 204);
  let kinds: string[] = [];
  for (let i = 0; i < 30 && !kinds.includes('booted'); i++) {
    await new Promise((r) => setTimeout(r, 100));
    kinds = (await nr.api('GET', `/nodes/${A}/events`)).body.items.map((e: { kind: string }) => e.kind);
  }
  assert.deepEqual(kinds.filter((k) => k !== 'http.kernel'), ['boot.address', 'http.script', 'http.initrd', 'booted']);
  const node = (await nr.api('GET', `/nodes/${A}`)).body;
  assert.equal(node.bootState, 'booted');
  assert.deepEqual([node.running.image, node.running.version], ['fixture', version], 'the version the node itself reported');
  const sec = (await nr.api('GET', '/security/events')).body;
  assert.deepEqual([sec.total, sec.items[0].kind, sec.items[0].mac, sec.items[0].detail.reason], [1, 'report.refused', A, "not from the node's address"]);
  const b = (await nr.api('GET', `/nodes/${A}/boot`)).body;
  assert.match(b.cmdline, /^initrd=initrd\.img root=nfs:127\.0\.0\.1:/);
  assert.equal(b.version, version);
});

test('TFTP: boot loaders from memory and a pxelinux config made on the fly (tftp-hpa)', async () => {
  const get = async (file: string) => {
    const out = join(tmp, file.replace(/\//g, '_'));
    await run('tftp', ['127.0.0.1', String(tftpPort), '-m', 'binary', '-c', 'get', file, out]);
    return readFileSync(out);
  };
  assert.equal(sha(await get('undionly.kpxe')), sha(readFileSync('/usr/lib/ipxe/undionly.kpxe')));
  const cfg = (await get(`pxelinux.cfg/01-${B.replace(/:/g, '-')}`)).toString();
  assert.match(cfg, /APPEND .*root=nfs:127\.0\.0\.1:/);
  const kernelPath = /^\s*KERNEL (\S+)$/m.exec(cfg)![1]!;
  assert.equal(kernelPath, `boot/01-${B.replace(/:/g, '-')}/${version}/vmlinuz`, 'the config names its version');
  assert.equal(sha(await get(kernelPath)), sha(readFileSync(join(root(), 'boot/vmlinuz'))));
  await assert.rejects(run('curl', ['-sS', '-o', join(tmp, 'x'), `tftp://127.0.0.1:${tftpPort}/../../etc/passwd`]), /TFTP|Access|violation|not found/i);
  let kinds: string[] = [];
  for (let i = 0; i < 30 && !kinds.includes('tftp.file'); i++) {
    await new Promise((r) => setTimeout(r, 100));
    kinds = (await nr.api('GET', `/nodes/${B}/events`)).body.items.map((e: { kind: string }) => e.kind);
  }
  assert.ok(kinds.includes('tftp.file'), kinds.join());
  const loaders = (await nr.api('GET', '/loaders')).body;
  assert.ok(loaders.found.some((l: { name: string }) => l.name === 'ipxe.efi'));
});

test('an unknown MAC gets a script that says why and is discovered', async () => {
  const r = await nr.api('GET', '/boot/52-54-00-99-99-99.ipxe', undefined, null);
  assert.equal(r.status, 200);
  assert.match(String(r.body), /not registered/i);
  let items: { mac: string; via: string }[] = [];
  for (let i = 0; i < 30 && !items.length; i++) {
    await new Promise((res) => setTimeout(res, 100));
    items = (await nr.api('GET', '/discovered')).body.items;
  }
  assert.deepEqual(items.map((d) => [d.mac, d.via]), [['52:54:00:99:99:99', 'http']]);
});

test('SIGHUP reload during a TFTP transfer: the transfer completes, the new setting serves, a bad config is refused', async () => {
  const out = join(tmp, 'big.out');
  const t = start('curl', ['-sS', '--tftp-blksize', '512', '-o', out, `tftp://127.0.0.1:${tftpPort}/big.bin`]);
  await new Promise((r) => setTimeout(r, 300));
  const cfg = JSON.parse(readFileSync(nr.configPath, 'utf8'));
  cfg.boot.nfs = 'nfs4';
  writeFileSync(nr.configPath, JSON.stringify(cfg));
  process.kill(nr.proc.pid, 'SIGHUP');
  await nr.proc.waitFor(/"msg":"configuration reloaded"/, 10_000);
  cfg.tftp.maxTransfers = -1;
  writeFileSync(nr.configPath, JSON.stringify(cfg));
  const bad = await nr.api('POST', '/reload');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.field, 'tftp.maxTransfers');
  assert.equal(await t.exited, 0, t.output());
  assert.equal(sha(readFileSync(out)), sha(readFileSync(join(nr.dataDir, 'tftp', 'big.bin'))));
  const script = String((await nr.api('GET', `/boot/${A}.ipxe`, undefined, null)).body);
  assert.match(script, /root=nfs4:127\.0\.0\.1:/);
});

test('/metrics counts the transfers that happened', async () => {
  const text = String((await nr.api('GET', '/metrics', undefined, null)).body);
  assert.match(text, /netroot_transfers_total\{protocol="http",kind="http.kernel",result="ok"\} [1-9]/);
  assert.match(text, /netroot_transfers_total\{protocol="tftp",kind="tftp.file",result="ok"\} [1-9]/);
  assert.match(text, /netroot_transfer_bytes_total\{protocol="http"\} [1-9]/);
  assert.match(text, /netroot_boots_completed_total 1/);
  assert.match(text, /netroot_transfers_in_flight\{protocol="tftp"\} 0/);
});

/** What a node does: fetch its script, then (once up) report booted with its command line's version. */
async function bootNode(mac: string, fqdn: string): Promise<string> {
  const script = String((await nr.api('GET', `/boot/${mac}.ipxe`, undefined, null)).body);
  const v = / netroot\.version=(\S+) /.exec(script)?.[1];
  assert.ok(v, script);
  // The report goes with the token the boot left in the node's state directory (the test is not
  // at the node's address).
  const token = readFileSync(join(nr.dataDir, 'state', fqdn, '.netroot-boot-token'), 'utf8').trim();
  assert.equal((await nr.api('POST', `/boot/${mac}/booted?image=fixture&version=${v}`, '', null, { 'x-netroot-boot-token': token })).status, 204);
  return v;
}

async function pullPublish(marker: string): Promise<string> {
  writeFileSync(join(fixture, 'etc/motd'), `${marker}\n`);
  const p = await nr.cli(['image', 'pull', 'fixture', '--wait', '--json']);
  assert.equal(p.code, 0, p.stderr);
  const v = JSON.parse(p.stdout).result.version as string;
  assert.equal((await nr.cli(['image', 'publish', 'fixture', v])).code, 0);
  return v;
}

const versionsNow = async () => ((await nr.api('GET', '/images/fixture/versions')).body.items as { version: string }[]).map((v) => v.version);

test('a running or booting node keeps its version through publishes (images.keep 1); the API shows what each node runs', async () => {
  const C = '52:54:00:88:00:0c';
  assert.equal((await nr.api('POST', '/nodes', { mac: C, fqdn: 'c.lab.example', ipv4: '10.8.0.12', image: 'fixture' })).status, 201);
  const v1 = version;
  // C starts booting v1 (its script is fetched) ... and v2 is published in the middle of it.
  const script = String((await nr.api('GET', `/boot/${C}.ipxe`, undefined, null)).body);
  const kernelUrl = /^kernel (\S+)/m.exec(script)![1]!;
  assert.ok(kernelUrl.endsWith(`/${v1}/vmlinuz`));
  const v2 = await pullPublish('two');
  assert.ok((await versionsNow()).includes(v1), 'v1 stays: A runs it and C is booting it');
  // C goes on with the version its script named: same kernel, same initramfs, same root=.
  const k = await run('curl', ['-sS', '-o', join(tmp, 'kc'), '-w', '%{http_code}', kernelUrl]);
  assert.equal(k.stdout, '200');
  assert.equal(sha(readFileSync(join(tmp, 'kc'))), sha(readFileSync(join(nr.dataDir, 'images', 'fixture', v1, 'boot/vmlinuz'))));
  const token = readFileSync(join(nr.dataDir, 'state', 'c.lab.example', '.netroot-boot-token'), 'utf8').trim();
  assert.equal((await nr.api('POST', `/boot/${C}/booted?image=fixture&version=${v1}`, '', null, { 'x-netroot-boot-token': token })).status, 204);
  // A reboots into v2; C keeps running v1.
  assert.equal(await bootNode(A, 'a.lab.example'), v2);
  await new Promise((r) => setTimeout(r, 200));
  const runs = async (mac: string) => (await nr.api('GET', `/nodes/${mac}`)).body.running?.version;
  assert.equal(await runs(A), v2);
  assert.equal(await runs(C), v1, 'what C reported, not what is active');
  const vs = (await nr.api('GET', '/images/fixture/versions')).body.items as { version: string; runningNodes: number; bootsNext: number }[];
  const row = (v: string) => vs.find((x) => x.version === v)!;
  assert.deepEqual([row(v1).runningNodes, row(v2).runningNodes, row(v2).bootsNext], [1, 1, 3], 'C runs v1, A runs v2; A, B and C boot v2 next');
  const v3 = await pullPublish('three');
  assert.deepEqual((await versionsNow()).sort(), [v1, v2, v3].sort(), 'v1 (C runs it) and v2 (A runs it) stay');
  // Both reboot into v3: neither runs v1 or v2 any more.
  assert.equal(await bootNode(A, 'a.lab.example'), v3);
  assert.equal(await bootNode(C, 'c.lab.example'), v3);
  const v4 = await pullPublish('four');
  // B (pxelinux) fetched v1's kernel over TFTP in an earlier test and never reported since: it
  // may be running v1, so v1 stays; v2 goes.
  assert.deepEqual((await versionsNow()).sort(), [v1, v3, v4].sort());
  assert.equal(await runs(C), v3);
});
