/**
 * Real TFTP clients against the server on 127.0.0.1: tftp-hpa, atftp (blksize 1468 and 65464,
 * windowsize 16, tsize) and curl each fetch 1 MB and 60 MB files with matching sha256; WRQ and the
 * traversal cases are refused with the right error.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, mkdtemp } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { have } from '../../helpers/proc.js';
import { startHarness, sha256, type Harness } from './harness.js';

let h: Harness;
let out: string;

/** Runs a client; resolves with exit code and output (a failing client is data here, not an error). */
function client(cmd: string, args: string[], timeoutMs = 120_000): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

before(async () => {
  for (const tool of ['tftp', 'atftp', 'curl']) {
    assert.ok(await have(tool), `${tool} is not installed (Debian packages tftp-hpa, atftp, curl: scripts/deps/tftp.txt)`);
  }
  h = await startHarness({ big: true });
  out = await mkdtemp(join(tmpdir(), 'netroot-tftp-out-'));
});
after(async () => {
  await h?.close();
  if (out) await rm(out, { recursive: true, force: true });
});

const files = ['1m.bin', '60m.bin'];

async function fetched(local: string, file: string, r: { code: number; output: string }) {
  assert.equal(r.code, 0, `client failed: ${r.output}`);
  assert.equal(sha256(await readFile(local)), h.sha[file], `${file}: sha256 differs`);
  await rm(local, { force: true });
}

for (const file of files) {
  test(`tftp-hpa fetches ${file}`, async () => {
    const local = join(out, `hpa-${file}`);
    await fetched(local, file, await client('tftp', ['-m', 'binary', '127.0.0.1', String(h.port), '-c', 'get', file, local]));
  });
  for (const opts of [
    ['--option', 'blksize 1468', '--option', 'tsize'],
    ['--option', 'blksize 65464', '--option', 'tsize'],
    ['--option', 'blksize 1468', '--option', 'windowsize 16', '--option', 'tsize'],
  ]) {
    test(`atftp ${opts.filter((_, i) => i % 2).join(', ')} fetches ${file}`, async () => {
      const local = join(out, `atftp-${file}`);
      await fetched(local, file, await client('atftp', ['--get', '-r', file, '-l', local, ...opts, '127.0.0.1', String(h.port)]));
      const rec = h.records.filter((r) => r.file === file).at(-1);
      assert.equal(rec?.result, 'ok');
      assert.equal(rec?.bytes, (await readFile(join(h.root, file))).length);
      if (opts.includes('windowsize 16')) assert.equal(rec?.windowsize, 16);
    });
  }
  test(`curl tftp:// fetches ${file} (blksize 1468)`, async () => {
    const local = join(out, `curl-${file}`);
    await fetched(local, file, await client('curl', ['-sS', '--tftp-blksize', '1468', '-o', local, `tftp://127.0.0.1:${h.port}/${file}`]));
  });
}

test('tftp-hpa: traversal and missing files are refused with the right error, nothing written', async () => {
  const cases: [string, RegExp][] = [
    ['../outside/secret', /Error code 2/],
    ['sub/../../outside/secret', /Error code 2/],
    ['/etc/passwd', /Error code 1/],
    ['link-out', /Error code 2/],
    ['x'.repeat(300), /Error code 2/],
    ['no-such-file', /Error code 1/],
  ];
  for (const [name, re] of cases) {
    const local = join(out, 'trav');
    const r = await client('tftp', ['-m', 'binary', '127.0.0.1', String(h.port), '-c', 'get', name, local]);
    assert.match(r.output, re, `${name}: ${r.output}`);
    const got = await readFile(local).catch(() => Buffer.alloc(0));
    assert.equal(got.length, 0, `${name}: no bytes may arrive`);
    await rm(local, { force: true });
  }
});

test('curl: traversal refused (exit 69 = TFTP permission problem, 68 = not found)', async () => {
  for (const [name, want] of [
    ['..%2foutside%2fsecret', 69],
    ['sub%2f..%2f..%2foutside%2fsecret', 69],
    ['link-out', 69],
    ['%2fetc%2fpasswd', 68],
  ] as const) {
    const r = await client('curl', ['-sS', '-o', join(out, 'c'), `tftp://127.0.0.1:${h.port}/${name}`]);
    assert.equal(r.code, want, `${name}: ${r.output}`);
  }
});

test('atftp: WRQ refused with error 2 (read-only server)', async () => {
  const before = h.records.length;
  const r = await client('atftp', ['--put', '-l', join(h.root, 'small.bin'), '-r', 'uploaded.bin', '127.0.0.1', String(h.port)]);
  assert.match(r.output, /<Access violation|read-only/i, r.output);
  await assert.rejects(readFile(join(h.root, 'uploaded.bin')), 'nothing was written');
  const rec = h.records.slice(before).find((x) => x.file === 'uploaded.bin');
  assert.equal(rec?.errorCode, 2);
});
