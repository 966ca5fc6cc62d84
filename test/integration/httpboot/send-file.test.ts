/**
 * sendFile's two body paths, each checked the same way with real clients (curl, node:http) on
 * 127.0.0.1: the native sender's threads (sendfile(2)), and the
 * Node stream that serves when the addon is missing. Full bodies by sha256, parallel downloads, keep-alive after a body,
 * Range (206/416, suffix, open end, across the sender's 2 MiB chunks, If-Range), ETag and
 * If-None-Match, HEAD, symlink refusal, clients that go away mid-body (no descriptor or transfer
 * left behind), a file replaced by rename while served (the old bytes, complete) and a file cut
 * short in place (the connection closes instead of hanging).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, get, type IncomingHttpHeaders, type Server } from 'node:http';
import { copyFile, mkdir, mkdtemp, open, readFile, rename, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { connect, createServer as createNetServer } from 'node:net';
import { readdirSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { have } from '../../helpers/proc.js';
import { sendFile, type SentFile } from '../../../pxe/http/send-file.js';
import { fileSender, fileSenderProblem, openFileSender, type TransferEnd } from '../../../pxe/native/filesend.js';

const MODES = ['native', 'stream'] as const;
type Mode = (typeof MODES)[number];

let dir: string;
let root: string;
let server: Server;
let base: string;
let initrd: Buffer;
let kernel: Buffer;
const sent: { url: string; s: SentFile }[] = [];
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const fds = () => readdirSync('/proc/self/fd').length;

/** Waits (bounded) for a condition the server reaches on its own, e.g. noticing a closed client. */
async function until(what: string, cond: () => boolean, tries = 1500): Promise<void> {
  for (let i = 0; i < tries && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(cond(), `never happened: ${what}`);
}

function curl(args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', ...args], { encoding: 'buffer', maxBuffer: 128 << 20, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code ?? -1) : 0, stdout, stderr: stderr.toString() });
    });
  });
}

/** curl -D: status, headers (lowercase) and body. */
async function fetchI(args: string[]) {
  const out = join(dir, `body-${randomBytes(4).toString('hex')}`);
  const r = await curl(['-D', '-', '-o', out, ...args]);
  assert.equal(r.code, 0, r.stderr);
  const head = r.stdout.toString();
  const status = Number(/^HTTP\/[\d.]+ (\d+)/.exec(head)?.[1]);
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const body = await readFile(out).catch(() => Buffer.alloc(0));
  await rm(out, { force: true });
  return { status, headers, body };
}

/**
 * A download with node:http that can stop reading after `pauseAt` bytes (until resume()) or go
 * away after `abortAt` bytes. done: what arrived, and whether the response ended cleanly.
 */
function download(url: string, o: { pauseAt?: number; abortAt?: number } = {}) {
  let resumeNow = () => {};
  let pausedNow = () => {};
  let abortNow = () => {};
  const paused = new Promise<void>((r) => (pausedNow = r));
  const done = new Promise<{ status: number; headers: IncomingHttpHeaders; bytes: number; sha: string; ended: boolean }>((resolve) => {
    const req = get(url, { agent: false }, (res) => {
      abortNow = () => req.destroy();
      const h = createHash('sha256');
      let bytes = 0;
      let ended = false;
      const finish = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes, sha: h.digest('hex'), ended });
      res.on('data', (c: Buffer) => {
        h.update(c);
        bytes += c.length;
        if (o.abortAt !== undefined && bytes >= o.abortAt) req.destroy();
        if (o.pauseAt !== undefined && bytes >= o.pauseAt && !res.isPaused()) {
          o.pauseAt = undefined;
          res.pause();
          resumeNow = () => res.resume();
          pausedNow();
        }
      });
      res.on('end', () => (ended = true));
      res.on('close', finish);
      res.on('error', () => {});
    });
    req.on('error', () => {});
  });
  return { paused, done, resume: () => resumeNow(), abort: () => abortNow() };
}

before(async () => {
  assert.ok(await have('curl'), 'curl is not installed (scripts/deps/tftp.txt)');
  // The addon is part of the build (npm run build): its absence is a failure here, not a skip.
  assert.ok(fileSender(), fileSenderProblem() ?? 'no sender');
  dir = await mkdtemp(join(tmpdir(), 'netroot-sendfile-'));
  root = join(dir, 'v1');
  await mkdir(join(root, 'boot'), { recursive: true });
  initrd = randomBytes(60 << 20);
  kernel = randomBytes((5 << 20) + 123);
  await writeFile(join(root, 'boot/initramfs.img'), initrd);
  await writeFile(join(root, 'boot/vmlinuz'), kernel);
  await symlink(join(root, 'boot/vmlinuz'), join(root, 'boot/link'));
  // /<mode>/<path inside root>
  server = createServer((req, res) => {
    const [, mode, ...rest] = (req.url ?? '/').split('/');
    sendFile(req, res, join(root, ...rest), { root, native: mode === 'native' }).then(
      (s) => sent.push({ url: req.url ?? '', s }),
      (e: unknown) => {
        res.destroy();
        throw e;
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = server.address();
  assert.ok(a && typeof a === 'object');
  base = `http://127.0.0.1:${a.port}`;
});

after(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  if (dir) await rm(dir, { recursive: true, force: true });
});

const lastFor = (url: string) => sent.filter((x) => x.url === url).at(-1)?.s;

for (const mode of MODES) {
  const I = `/${mode}/boot/initramfs.img`;
  const K = `/${mode}/boot/vmlinuz`;

  test(`${mode}: full 60 MB and 5 MB bodies match by sha256; the record says how they went`, async () => {
    const i = await fetchI([`${base}${I}`]);
    assert.equal(i.status, 200);
    assert.equal(Number(i.headers['content-length']), initrd.length);
    assert.equal(sha(i.body), sha(initrd));
    assert.deepEqual({ ...lastFor(I), ms: 0 }, { status: 200, bytes: initrd.length, ms: 0, complete: true, body: mode });
    const k = await fetchI([`${base}${K}`]);
    assert.equal(sha(k.body), sha(kernel));
  });

  test(`${mode}: 24 parallel downloads all complete and correct`, async () => {
    const all = await Promise.all([...Array.from({ length: 20 }, () => download(`${base}${K}`).done), ...Array.from({ length: 4 }, () => download(`${base}${I}`).done)]);
    for (const r of all.slice(0, 20)) assert.deepEqual([r.status, r.bytes, r.sha, r.ended], [200, kernel.length, sha(kernel), true]);
    for (const r of all.slice(20)) assert.deepEqual([r.status, r.bytes, r.sha, r.ended], [200, initrd.length, sha(initrd), true]);
  });

  test(`${mode}: the connection serves the next request after a body (keep-alive), and HTTP/1.0 closes`, async () => {
    const a = join(dir, `ka-a-${mode}`);
    const b = join(dir, `ka-b-${mode}`);
    const r = await curl(['-w', '%{num_connects}\\n', '-o', a, '-r', '1000-2999999', `${base}${I}`, '--next', '-w', '%{num_connects}\\n', '-o', b, `${base}${K}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.toString().trim().split('\n'), ['1', '0'], 'the second request reused the connection');
    assert.deepEqual(await readFile(a), initrd.subarray(1000, 3000000));
    assert.equal(sha(await readFile(b)), sha(kernel));
    const h10 = await curl(['-0', '-o', a, `${base}${K}`]);
    assert.equal(h10.code, 0, h10.stderr);
    assert.equal(sha(await readFile(a)), sha(kernel));
    await rm(a);
    await rm(b);
  });

  test(`${mode}: Range: 206 with Content-Range (first byte, middle, across 2 MiB chunks, open end, suffix), 416`, async () => {
    const cases: [string, number, number][] = [
      ['0-0', 0, 0],
      ['100-1123', 100, 1123],
      [`${(2 << 20) - 7}-${(6 << 20) + 9}`, (2 << 20) - 7, (6 << 20) + 9],
      [`${initrd.length - 10}-`, initrd.length - 10, initrd.length - 1],
      ['-500', initrd.length - 500, initrd.length - 1],
      [`-${initrd.length + 5}`, 0, initrd.length - 1],
      [`5-${initrd.length + 100}`, 5, initrd.length - 1],
    ];
    for (const [range, start, end] of cases) {
      const r = await fetchI(['-H', `Range: bytes=${range}`, `${base}${I}`]);
      assert.equal(r.status, 206, range);
      assert.equal(r.headers['content-range'], `bytes ${start}-${end}/${initrd.length}`, range);
      assert.equal(Number(r.headers['content-length']), end - start + 1, range);
      assert.equal(sha(r.body), sha(initrd.subarray(start, end + 1)), range);
      assert.deepEqual([lastFor(I)?.range, lastFor(I)?.bytes, lastFor(I)?.body], [`${start}-${end}`, end - start + 1, mode], range);
    }
    const r = await fetchI(['-r', `${initrd.length}-`, `${base}${I}`]);
    assert.equal(r.status, 416);
    assert.equal(r.headers['content-range'], `bytes */${initrd.length}`);
    assert.equal((await fetchI(['-H', 'Range: bytes=-0', `${base}${I}`])).status, 416);
    const multi = await fetchI(['-H', 'Range: bytes=0-1,5-6', `${base}${K}`]);
    assert.deepEqual([multi.status, sha(multi.body)], [200, sha(kernel)], 'a multi-range is ignored: the whole file');
  });

  test(`${mode}: ETag, If-None-Match (304), If-Range (tag and date; stale means the whole file), HEAD`, async () => {
    const h = await fetchI(['-I', `${base}${K}`]);
    assert.equal(h.status, 200);
    assert.equal(Number(h.headers['content-length']), kernel.length);
    assert.equal(h.headers['accept-ranges'], 'bytes');
    assert.match(h.body.toString(), /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n$/, 'headers only');
    assert.deepEqual([lastFor(K)?.bytes, lastFor(K)?.complete], [0, true]);
    const etag = h.headers.etag!;
    const nm = await fetchI(['-H', `If-None-Match: "other", ${etag}`, `${base}${K}`]);
    assert.deepEqual([nm.status, nm.body.length], [304, 0]);
    const fresh = await fetchI(['-r', '10-19', '-H', `If-Range: ${etag}`, `${base}${K}`]);
    assert.deepEqual([fresh.status, fresh.body], [206, kernel.subarray(10, 20)]);
    const dated = await fetchI(['-r', '10-19', '-H', `If-Range: ${h.headers['last-modified']}`, `${base}${K}`]);
    assert.deepEqual([dated.status, dated.body], [206, kernel.subarray(10, 20)]);
    const stale = await fetchI(['-r', '10-19', '-H', 'If-Range: "stale"', `${base}${K}`]);
    assert.deepEqual([stale.status, sha(stale.body)], [200, sha(kernel)]);
    const old = await fetchI(['-r', '10-19', '-H', 'If-Range: Thu, 01 Jan 1970 00:00:00 GMT', `${base}${K}`]);
    assert.deepEqual([old.status, sha(old.body)], [200, sha(kernel)]);
  });

  test(`${mode}: a symlink is refused (403), a missing file is 404`, async () => {
    assert.equal((await fetchI([`${base}/${mode}/boot/link`])).status, 403);
    assert.equal((await fetchI([`${base}/${mode}/boot/nothing`])).status, 404);
  });

  test(`${mode}: clients that go away mid-body leave no descriptor and no transfer behind`, async () => {
    const before = fds();
    const count = sent.length;
    // Some read 1 MB and hang up; some stop reading (full socket buffers) and then hang up.
    const quick = Array.from({ length: 30 }, () => download(`${base}${I}`, { abortAt: 1 << 20 }).done);
    const stalled = Array.from({ length: 10 }, () => download(`${base}${I}`, { pauseAt: 1 << 20 }));
    await Promise.all(stalled.map((s) => s.paused));
    const results = await Promise.all(quick);
    for (const r of results) assert.ok(r.bytes < initrd.length && !r.ended);
    await until('the server saw every aborted download end', () => sent.length >= count + 30);
    // The stalled ones are still being sent: their transfers (and descriptors) are in flight.
    if (mode === 'native') assert.ok(fileSender()!.inFlight() >= 10);
    for (const s of stalled) s.abort();
    for (const r of await Promise.all(stalled.map((s) => s.done))) assert.ok(r.bytes < initrd.length && !r.ended);
    await until('every download ended on the server', () => sent.length >= count + 40);
    const mine = sent.slice(count);
    assert.ok(mine.every((x) => x.s.body === mode));
    assert.equal(mine.filter((x) => !x.s.complete).length, 40, 'every hung-up download is recorded as incomplete');
    await until('no transfer in flight', () => fileSender()!.inFlight() === 0);
    await until(`descriptors back to ${before} (now ${fds()})`, () => fds() <= before);
  });

  test(`${mode}: a file replaced by rename while served: that download completes with the old bytes; the next gets the new`, async () => {
    const path = join(root, `boot/renamed-${mode}`);
    await copyFile(join(root, 'boot/initramfs.img'), path);
    const url = `${base}/${mode}/boot/renamed-${mode}`;
    const d = download(url, { pauseAt: 1 << 20 });
    await d.paused;
    const next = randomBytes(3 << 20);
    await writeFile(`${path}.new`, next);
    await rename(`${path}.new`, path);
    d.resume();
    const r = await d.done;
    assert.deepEqual([r.status, r.bytes, r.sha, r.ended], [200, initrd.length, sha(initrd), true]);
    const again = await fetchI([url]);
    assert.equal(sha(again.body), sha(next));
    assert.notEqual(again.headers.etag, r.headers.etag, 'a new file, a new tag');
  });

  test(`${mode}: a file cut short in place while served: the connection closes, the download is incomplete`, async () => {
    const path = join(root, `boot/cut-${mode}`);
    await copyFile(join(root, 'boot/initramfs.img'), path);
    const url = `${base}/${mode}/boot/cut-${mode}`;
    const before = sent.length;
    const d = download(url, { pauseAt: 1 << 20 });
    await d.paused;
    await truncate(path, 20 << 20);
    d.resume();
    const r = await d.done;
    assert.equal(r.status, 200);
    assert.equal(Number(r.headers['content-length']), initrd.length);
    assert.ok(!r.ended && r.bytes <= 20 << 20, `got ${r.bytes} bytes and ${r.ended ? 'a clean end' : 'a closed connection'}`);
    await until('the server recorded it', () => sent.length > before);
    assert.deepEqual([lastFor(`/${mode}/boot/cut-${mode}`)?.complete, lastFor(`/${mode}/boot/cut-${mode}`)?.body], [false, mode]);
  });
}

test('the sender on its own sends the same bytes from any offset, across its 2 MiB chunks', async () => {
  const fh = await open(join(root, 'boot/initramfs.img'), 'r');
  try {
    for (const [offset, length] of [[0, initrd.length], [(2 << 20) - 3, (7 << 20) + 11]] as const) {
      const got = await new Promise<{ end: TransferEnd; bytes: Buffer }>((resolve, reject) => {
        const srv = createNetServer((sock) => {
          const fd = (sock as unknown as { _handle: { fd: number } })._handle.fd;
          fileSender()!
            .send(fd, fh.fd, offset, length)
            .done.then((end) => {
              sock.end();
              srv.close();
              void received.then((bytes) => resolve({ end, bytes }));
            }, reject);
        });
        let received: Promise<Buffer>;
        srv.listen(0, '127.0.0.1', () => {
          const c = connect((srv.address() as { port: number }).port, '127.0.0.1');
          const chunks: Buffer[] = [];
          received = new Promise((r) => {
            c.on('data', (d: Buffer) => chunks.push(d));
            c.on('end', () => r(Buffer.concat(chunks)));
          });
        });
      });
      assert.deepEqual(got.end, { sent: length, error: null });
      assert.equal(sha(got.bytes), sha(initrd.subarray(offset, offset + length)));
    }
  } finally {
    await fh.close();
  }
});

test('without the addon: openFileSender says what is missing and where it looked (the caller streams)', () => {
  const why = openFileSender(['/nonexistent/netroot_filesend.node'], 1);
  assert.equal(typeof why, 'string');
  assert.match(why as string, /not built \(looked in \/nonexistent\/netroot_filesend\.node\); run npm run build/);
});
