/**
 * HTTP boot routes on a plain node:http server at 127.0.0.1, fetched with curl: the iPXE script
 * (known, unknown, disabled), kernel and a 60 MB initramfs with sha256, Range (206/416),
 * If-None-Match (304), HEAD, the "booted" report, and the events each produces.
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
import type { BootEvent, Discovery } from '../../../pxe/boot/events.js';
import type { BootTarget } from '../../../pxe/boot/types.js';

const MAC = '52:54:00:12:34:56';
const OFF = '52:54:00:00:00:02';
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
  const node = { mac: MAC, fqdn: 'node1.lab.example', ipv4: '10.52.0.10', bootMode: 'ipxe' as const, enabled: true, kernelArgs: 'console=ttyS0,115200', image: 'debian12' };
  const targets = new Map<string, BootTarget>([
    [MAC, { node, image }],
    [OFF, { node: { ...node, mac: OFF, fqdn: 'off.lab.example', enabled: false }, image }],
  ]);
  server = createServer(
    createBootHandler({
      directory: { lookup: async (mac) => targets.get(mac) ?? null },
      events: (e) => events.push(e),
      discovery: (d) => discovered.push(d),
      baseUrl: 'http://10.52.0.1:8080',
      nfsServer: '10.52.0.1',
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = server.address();
  assert.ok(a && typeof a === 'object');
  base = `http://127.0.0.1:${a.port}`;
});
after(async () => {
  await new Promise((r) => server?.close(r));
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('iPXE script of a known node (MAC in any spelling)', async () => {
  for (const spelling of [MAC, '52-54-00-12-34-56', '525400123456']) {
    const r = await fetchI([`${base}/boot/${spelling}.ipxe`]);
    assert.equal(r.status, 200);
    const text = r.body.toString();
    assert.match(text, /^#!ipxe\n/);
    assert.match(text, /^kernel http:\/\/10\.52\.0\.1:8080\/boot\/52:54:00:12:34:56\/vmlinuz initrd=initrd\.img root=nfs:10\.52\.0\.1:\/srv\/netroot\/images\/debian12\/3\/root ro ip=dhcp rd\.neednet=1 console=ttyS0,115200 \|\| goto failed$/m);
  }
  assert.equal(events.filter((e) => e.kind === 'http.script' && e.mac === MAC).length, 3);
});

test('unknown MAC: short script that says why and exits; recorded as discovered', async () => {
  const r = await fetchI([`${base}/boot/52:54:00:99:99:99.ipxe`]);
  assert.equal(r.status, 200);
  assert.match(r.body.toString(), /not registered.*\n.*\nexit 1\n$/);
  assert.deepEqual(discovered.at(-1), { mac: '52:54:00:99:99:99', arch: null, vendorClass: null, userClass: null, uuid: null, relay: null, via: 'http' });
  const off = await fetchI([`${base}/boot/${OFF}.ipxe`]);
  assert.match(off.body.toString(), /is disabled/);
  const k = await fetchI([`${base}/boot/${OFF}/vmlinuz`]);
  assert.equal(k.status, 404, 'a disabled node gets no kernel');
});

test('kernel and 60 MB initramfs: full bodies with Content-Length and matching sha256; events with bytes', async () => {
  const k = await fetchI([`${base}/boot/${MAC}/vmlinuz`]);
  assert.equal(k.status, 200);
  assert.equal(Number(k.headers['content-length']), kernel.length);
  assert.equal(sha(k.body), sha(kernel));
  const i = await fetchI([`${base}/boot/${MAC}/initrd.img`]);
  assert.equal(i.status, 200);
  assert.equal(sha(i.body), sha(initrd));
  const ev = events.filter((e) => e.kind === 'http.initrd').at(-1);
  assert.equal(ev?.detail.bytes, initrd.length);
  assert.equal(ev?.detail.result, 'ok');
  assert.equal(events.filter((e) => e.kind === 'http.kernel').at(-1)?.detail.bytes, kernel.length);
});

test('Range: 206 with Content-Range, suffix range, 416 past the end', async () => {
  let r = await fetchI(['-r', '100-1123', `${base}/boot/${MAC}/initrd.img`]);
  assert.equal(r.status, 206);
  assert.equal(r.headers['content-range'], `bytes 100-1123/${initrd.length}`);
  assert.deepEqual(r.body, initrd.subarray(100, 1124));
  r = await fetchI(['-H', 'Range: bytes=-500', `${base}/boot/${MAC}/vmlinuz`]);
  assert.equal(r.status, 206);
  assert.deepEqual(r.body, kernel.subarray(kernel.length - 500));
  r = await fetchI(['-r', `${initrd.length}-`, `${base}/boot/${MAC}/initrd.img`]);
  assert.equal(r.status, 416);
  assert.equal(r.headers['content-range'], `bytes */${initrd.length}`);
  assert.equal(events.filter((e) => e.kind === 'http.initrd').some((e) => e.detail.range === '100-1123' && e.detail.bytes === 1024), true);
});

test('ETag and If-None-Match (304), If-Range with a stale tag sends the whole file, HEAD', async () => {
  const h = await fetchI(['-I', `${base}/boot/${MAC}/vmlinuz`]);
  assert.equal(h.status, 200);
  assert.equal(Number(h.headers['content-length']), kernel.length);
  assert.equal(h.headers['accept-ranges'], 'bytes');
  const etag = h.headers.etag!;
  assert.match(etag, /^"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"$/);
  const nm = await fetchI(['-H', `If-None-Match: ${etag}`, `${base}/boot/${MAC}/vmlinuz`]);
  assert.equal(nm.status, 304);
  assert.equal(nm.body.length, 0);
  const ir = await fetchI(['-r', '0-9', '-H', 'If-Range: "stale"', `${base}/boot/${MAC}/vmlinuz`]);
  assert.equal(ir.status, 200);
  assert.equal(ir.body.length, kernel.length);
});

test('POST /boot/<mac>/booted: event "booted"; unknown MAC 404; wrong methods 405; other paths 404', async () => {
  const r = await fetchI(['-X', 'POST', `${base}/boot/${MAC}/booted`]);
  assert.equal(r.status, 204);
  assert.equal(events.at(-1)?.kind, 'booted');
  assert.equal(events.at(-1)?.mac, MAC);
  assert.equal((await fetchI(['-X', 'POST', `${base}/boot/52:54:00:99:99:98/booted`])).status, 404);
  assert.equal((await fetchI(['-X', 'PUT', `${base}/boot/${MAC}/vmlinuz`])).status, 405);
  assert.equal((await fetchI([`${base}/boot/${MAC}/booted`])).status, 405);
  assert.equal((await fetchI([`${base}/boot/${MAC}/etc/passwd`])).status, 404);
  assert.equal((await fetchI([`${base}/boot/not-a-mac/vmlinuz`])).status, 404);
  assert.equal((await fetchI([`${base}/boot/%zz.ipxe`])).status, 404);
});
