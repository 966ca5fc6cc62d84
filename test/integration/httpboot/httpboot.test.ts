/**
 * HTTP boot routes on a plain node:http server at 127.0.0.1, fetched with curl: the iPXE script
 * (known, unknown, disabled), kernel and a 60 MB initramfs with sha256, Range (206/416),
 * If-None-Match (304), HEAD, one version per boot across a publish, the "booted" report (only
 * from the node itself) and the events each produces.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { have } from '../../helpers/proc.js';
import { createBootHandler } from '../../../pxe/http/boot-handler.js';
import type { BootEvent, Discovery, SecurityEvent } from '../../../pxe/boot/events.js';
import type { BootTarget } from '../../../pxe/boot/types.js';

const MAC = '52:54:00:12:34:56';
const OFF = '52:54:00:00:00:02';
/** A node registered at 127.0.0.1: the address this test's requests come from. */
const LOCAL = '52:54:00:00:00:03';
const security: SecurityEvent[] = [];
const tokens = new Map<string, string>();
let mismatch: 'allow' | 'refuse' = 'allow';
let dir: string;
let server: Server;
let base: string;
let kernel: Buffer;
let initrd: Buffer;
const events: BootEvent[] = [];
const discovered: Discovery[] = [];
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function curl(args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', ...args], { encoding: 'buffer', maxBuffer: 128 << 20, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code ?? -1) : 0, stdout, stderr: stderr.toString() });
    });
  });
}
/** curl -i: status, headers (lowercase) and body. */
async function fetchI(args: string[]) {
  const r = await curl(['-D', '-', '-o', join(dir, 'body'), ...args]);
  assert.equal(r.code, 0, r.stderr);
  const head = r.stdout.toString();
  const status = Number(/^HTTP\/[\d.]+ (\d+)/.exec(head)?.[1]);
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const body = await readFile(join(dir, 'body')).catch(() => Buffer.alloc(0));
  await rm(join(dir, 'body'), { force: true });
  return { status, headers, body };
}

before(async () => {
  assert.ok(await have('curl'), 'curl is not installed (scripts/deps/tftp.txt)');
  dir = await mkdtemp(join(tmpdir(), 'netroot-httpboot-'));
  kernel = randomBytes(5 << 20);
  initrd = randomBytes(60 << 20);
  await writeFile(join(dir, 'vmlinuz'), kernel);
  await writeFile(join(dir, 'initramfs.img'), initrd);
  const image = { name: 'debian12', version: '3', kernelPath: join(dir, 'vmlinuz'), initrdPath: join(dir, 'initramfs.img'), rootPath: '/srv/netroot/images/debian12/3/root', kernelArgs: 'console=tty0' };
  const node = { mac: MAC, fqdn: 'node1.lab.example', ipv4: '10.52.0.10', bootMode: 'ipxe' as const, enabled: true, kernelArgs: 'console=ttyS0,115200', image: 'debian12', stateMode: 'nfs' as const };
  // Version 4 has its own kernel: the store directory resolves each version to its own files.
  await writeFile(join(dir, 'vmlinuz-4'), Buffer.from('KERNEL OF VERSION 4'));
  const v4 = { ...image, version: '4', kernelPath: join(dir, 'vmlinuz-4'), rootPath: '/srv/netroot/images/debian12/4/root' };
  const versions = new Map([['3', image], ['4', v4]]);
  const targets = new Map<string, BootTarget>([
    [MAC, { node, image }],
    [OFF, { node: { ...node, mac: OFF, fqdn: 'off.lab.example', enabled: false }, image }],
    [LOCAL, { node: { ...node, mac: LOCAL, fqdn: 'local.lab.example', ipv4: '127.0.0.1' }, image }],
  ]);
  server = createServer(
    createBootHandler({
      // As server/boot/directory.ts: a new boot gets the active version, a boot in progress the
      // version it names (any ready version of the node's image).
      directory: {
        lookup: async (mac, version) => {
          const t = targets.get(mac);
          if (!t || version === undefined) return t ?? null;
          return { ...t, image: versions.get(version) ?? null, requestedVersion: version };
        },
      },
      events: (e) => events.push(e),
      discovery: (d) => discovered.push(d),
      security: (e) => security.push(e),
      bootTokens: {
        async issue(n) {
          tokens.set(n.mac, `token-of-${n.mac.replaceAll(':', '')}`);
        },
        verify: (mac, t) => tokens.get(mac) === t,
      },
      addressMismatch: () => mismatch,
      baseUrl: 'http://10.52.0.1:8080',
      nfsServer: '10.52.0.1',
    }),
  );
  (globalThis as { publish?: (v: string) => void }).publish = (v) => {
    for (const [m, t] of targets) targets.set(m, { ...t, image: versions.get(v)! });
  };
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = server.address();
  assert.ok(a && typeof a === 'object');
  base = `http://127.0.0.1:${a.port}`;
});
after(async () => {
  await new Promise((r) => server?.close(r));
  if (dir) await rm(dir, { recursive: true, force: true });
});

const K3 = `${MAC}/3/vmlinuz`;
const I3 = `${MAC}/3/initrd.img`;

test('iPXE script of a known node (MAC in any spelling)', async () => {
  for (const spelling of [MAC, '52-54-00-12-34-56', '525400123456']) {
    const r = await fetchI([`${base}/boot/${spelling}.ipxe`]);
    assert.equal(r.status, 200);
    const text = r.body.toString();
    assert.match(text, /^#!ipxe\n/);
    assert.match(
      text,
      /^kernel http:\/\/10\.52\.0\.1:8080\/boot\/52:54:00:12:34:56\/3\/vmlinuz initrd=initrd\.img root=nfs:10\.52\.0\.1:\/srv\/netroot\/images\/debian12\/3\/root ro ip=dhcp rd\.neednet=1 netroot\.fqdn=node1\.lab\.example netroot\.image=debian12 netroot\.version=3 netroot\.server=10\.52\.0\.1:8080 console=ttyS0,115200 \|\| goto failed$/m,
    );
    assert.match(text, /^initrd http:\/\/10\.52\.0\.1:8080\/boot\/52:54:00:12:34:56\/3\/initrd\.img \|\| goto failed$/m);
  }
  assert.equal(events.filter((e) => e.kind === 'http.script' && e.mac === MAC).length, 3);
  // This test asks from 127.0.0.1 for a node registered at 10.52.0.10: booted (full mode), noted.
  const moved = events.filter((e) => e.kind === 'boot.address' && e.mac === MAC);
  assert.equal(moved.length, 3);
  assert.deepEqual(moved[0]!.detail, { registered: '10.52.0.10', seen: '127.0.0.1', action: 'booted' });
});

test('unknown MAC: short script that says why and exits; recorded as discovered', async () => {
  const r = await fetchI([`${base}/boot/52:54:00:99:99:99.ipxe`]);
  assert.equal(r.status, 200);
  assert.match(r.body.toString(), /not registered.*\n.*\nexit 1\n$/);
  assert.deepEqual(discovered.at(-1), { mac: '52:54:00:99:99:99', arch: null, vendorClass: null, userClass: null, uuid: null, relay: null, via: 'http', source: '127.0.0.1' });
  const off = await fetchI([`${base}/boot/${OFF}.ipxe`]);
  assert.match(off.body.toString(), /is disabled/);
  const k = await fetchI([`${base}/boot/${OFF}/3/vmlinuz`]);
  assert.equal(k.status, 404, 'a disabled node gets no kernel');
});

test('kernel and 60 MB initramfs: full bodies with Content-Length and matching sha256; events with bytes', async () => {
  const k = await fetchI([`${base}/boot/${K3}`]);
  assert.equal(k.status, 200);
  assert.equal(Number(k.headers['content-length']), kernel.length);
  assert.equal(sha(k.body), sha(kernel));
  const i = await fetchI([`${base}/boot/${I3}`]);
  assert.equal(i.status, 200);
  assert.equal(sha(i.body), sha(initrd));
  const ev = events.filter((e) => e.kind === 'http.initrd').at(-1);
  assert.equal(ev?.detail.bytes, initrd.length);
  assert.equal(ev?.detail.result, 'ok');
  assert.deepEqual([ev?.detail.image, ev?.detail.version], ['debian12', '3']);
  assert.equal(events.filter((e) => e.kind === 'http.kernel').at(-1)?.detail.bytes, kernel.length);
});

test('one boot = one version: a publish between the script and the kernel changes nothing for that boot', async () => {
  const script = (await fetchI([`${base}/boot/${MAC}.ipxe`])).body.toString();
  const kernelUrl = /^kernel (\S+)/m.exec(script)![1]!.replace('http://10.52.0.1:8080', base);
  (globalThis as { publish?: (v: string) => void }).publish!('4');
  try {
    const k = await fetchI([kernelUrl]);
    assert.equal(sha(k.body), sha(kernel), 'the kernel of the version the script named, not of the one active now');
    const next = (await fetchI([`${base}/boot/${MAC}.ipxe`])).body.toString();
    assert.match(next, /\/boot\/52:54:00:12:34:56\/4\/vmlinuz .* netroot\.version=4 /, 'the next boot gets the new version');
    assert.equal((await fetchI([`${base}/boot/${MAC}/4/vmlinuz`])).body.toString(), 'KERNEL OF VERSION 4');
    const gone = await fetchI([`${base}/boot/${MAC}/2/vmlinuz`]);
    assert.equal(gone.status, 404, 'a version that is not (or no longer) there');
    assert.match(gone.body.toString(), /version 2 of image debian12 is not available/);
    const old = await fetchI([`${base}/boot/${MAC}/vmlinuz`]);
    assert.equal(old.status, 404, 'URLs without a version are gone: they mixed versions');
    assert.match(old.body.toString(), /name their image version/);
    assert.equal((await fetchI([`${base}/boot/${MAC}/..%2Fetc/vmlinuz`])).status, 404);
  } finally {
    (globalThis as { publish?: (v: string) => void }).publish!('3');
  }
});

test('Range: 206 with Content-Range, suffix range, 416 past the end', async () => {
  let r = await fetchI(['-r', '100-1123', `${base}/boot/${I3}`]);
  assert.equal(r.status, 206);
  assert.equal(r.headers['content-range'], `bytes 100-1123/${initrd.length}`);
  assert.deepEqual(r.body, initrd.subarray(100, 1124));
  r = await fetchI(['-H', 'Range: bytes=-500', `${base}/boot/${K3}`]);
  assert.equal(r.status, 206);
  assert.deepEqual(r.body, kernel.subarray(kernel.length - 500));
  r = await fetchI(['-r', `${initrd.length}-`, `${base}/boot/${I3}`]);
  assert.equal(r.status, 416);
  assert.equal(r.headers['content-range'], `bytes */${initrd.length}`);
  assert.equal(events.filter((e) => e.kind === 'http.initrd').some((e) => e.detail.range === '100-1123' && e.detail.bytes === 1024), true);
});

test('ETag and If-None-Match (304), If-Range with a stale tag sends the whole file, HEAD', async () => {
  const h = await fetchI(['-I', `${base}/boot/${K3}`]);
  assert.equal(h.status, 200);
  assert.equal(Number(h.headers['content-length']), kernel.length);
  assert.equal(h.headers['accept-ranges'], 'bytes');
  const etag = h.headers.etag!;
  assert.match(etag, /^"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"$/);
  const nm = await fetchI(['-H', `If-None-Match: ${etag}`, `${base}/boot/${K3}`]);
  assert.equal(nm.status, 304);
  assert.equal(nm.body.length, 0);
  const ir = await fetchI(['-r', '0-9', '-H', 'If-Range: "stale"', `${base}/boot/${K3}`]);
  assert.equal(ir.status, 200);
  assert.equal(ir.body.length, kernel.length);
});

test('a "booted" report counts only from the node: its address, or its boot token; others are security events', async () => {
  // From the node's registered address: accepted, with the version from its command line.
  const ok = await fetchI(['-X', 'POST', `${base}/boot/${LOCAL}/booted?image=debian12&version=3`]);
  assert.equal(ok.status, 204);
  const ev = events.at(-1)!;
  assert.deepEqual([ev.kind, ev.mac, ev.detail.via, ev.detail.image, ev.detail.version], ['booted', LOCAL, 'address', 'debian12', '3']);
  // An image too old to say: accepted, no version claimed (the boot's fetched version stands).
  assert.equal((await fetchI(['-X', 'POST', `${base}/boot/${LOCAL}/booted`])).status, 204);
  assert.equal(events.at(-1)!.detail.version, null);

  // Anyone else naming a node: refused, recorded as a security event, no "booted" event.
  const before = events.length;
  const forged = await fetchI(['-X', 'POST', `${base}/boot/${MAC}/booted?image=debian12&version=3`]);
  assert.equal(forged.status, 403);
  assert.equal(events.length, before, 'nothing on the timeline');
  assert.deepEqual(security.at(-1), { kind: 'report.refused', mac: MAC, client: '127.0.0.1', detail: { reason: "not from the node's address" } });
  const wrong = await fetchI(['-X', 'POST', '-H', 'X-Netroot-Boot-Token: guessed', `${base}/boot/${MAC}/booted`]);
  assert.equal(wrong.status, 403);
  assert.equal(security.at(-1)!.detail.reason, 'wrong boot token');
  // With the token its boot left in its state directory (see bootTokens above): accepted.
  await fetchI([`${base}/boot/${MAC}.ipxe`]);
  const withToken = await fetchI(['-X', 'POST', '-H', `X-Netroot-Boot-Token: ${tokens.get(MAC)}`, `${base}/boot/${MAC}/booted?image=debian12&version=3`]);
  assert.equal(withToken.status, 204);
  assert.deepEqual([events.at(-1)!.kind, events.at(-1)!.detail.via], ['booted', 'token']);
  // An unknown MAC: 404, also a security event.
  assert.equal((await fetchI(['-X', 'POST', `${base}/boot/52:54:00:99:99:98/booted`])).status, 404);
  assert.equal(security.at(-1)!.detail.reason, 'unknown node');
});

test('proxy mode: a node asking from an address the site DHCP gave instead of its own is refused, saying why', async () => {
  mismatch = 'refuse';
  try {
    const r = await fetchI([`${base}/boot/${MAC}.ipxe`]);
    const text = r.body.toString();
    assert.doesNotMatch(text, /^kernel /m, 'it would boot without its state');
    assert.match(text, /node1\.lab\.example is registered at 10\.52\.0\.10 but asked from 127\.0\.0\.1: its state is exported to 10\.52\.0\.10 only/);
    assert.match(text, /^exit 1$/m);
    assert.deepEqual(events.filter((e) => e.kind === 'boot.address').at(-1)!.detail, { registered: '10.52.0.10', seen: '127.0.0.1', action: 'refused' });
    assert.equal(events.filter((e) => e.kind === 'http.script').at(-1)!.detail.result, 'address');
    const local = await fetchI([`${base}/boot/${LOCAL}.ipxe`]);
    assert.match(local.body.toString(), /^kernel /m, 'from its own address it boots');
  } finally {
    mismatch = 'allow';
  }
});

test('wrong methods 405; other paths 404', async () => {
  assert.equal((await fetchI(['-X', 'PUT', `${base}/boot/${K3}`])).status, 405);
  assert.equal((await fetchI([`${base}/boot/${MAC}/booted`])).status, 405);
  assert.equal((await fetchI([`${base}/boot/${MAC}/etc/passwd`])).status, 404);
  assert.equal((await fetchI([`${base}/boot/not-a-mac/3/vmlinuz`])).status, 404);
  assert.equal((await fetchI([`${base}/boot/%zz.ipxe`])).status, 404);
});
