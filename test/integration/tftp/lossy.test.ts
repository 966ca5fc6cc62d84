/**
 * A lossy, duplicating, reordering link (tc netem) between two network namespaces this test
 * creates (10.52.0.0/24 only): real clients still get the right bytes, and the server sends no
 * duplicate-ACK storm: DATA packets sent stay close to the number of blocks (the npm `tftp`
 * package sent 13,000 duplicates for a 1 MB file after one duplicated ACK).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { randomBytes, createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, type Ns } from '../../helpers/netns.js';
import { have, type Started } from '../../helpers/proc.js';
import type { TransferRecord } from '../../../pxe/tftp/server.js';

const serveJs = resolve(fileURLToPath(new URL('.', import.meta.url)), 'serve.js');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const NETEM = ['loss', '5%', 'duplicate', '5%', 'delay', '2ms', 'reorder', '20%', '50%'];

let lab: Lab;
let srv: Ns;
let cli: Ns;
let server: Started;
let dir: string;
let file: Buffer;

before(async () => {
  for (const tool of ['tc', 'atftp', 'tftp']) assert.ok(await have(tool), `${tool} missing (scripts/deps/tftp.txt)`);
  dir = await mkdtemp(join(tmpdir(), 'netroot-tftp-lossy-'));
  await writeFile(join(dir, 'root.bin'), (file = randomBytes(1 << 20)));
  await writeFile(join(dir, 'small.bin'), file.subarray(0, 128 << 10));
  lab = await Lab.create('tftpl');
  srv = await lab.ns('srv');
  cli = await lab.ns('cli');
  const { aIf, bIf } = await lab.link(srv, '10.52.0.1/24', cli, '10.52.0.2/24');
  // netem on both directions: DATA and ACKs are lost, duplicated and reordered.
  await srv.run(['tc', 'qdisc', 'add', 'dev', aIf, 'root', 'netem', ...NETEM]);
  await cli.run(['tc', 'qdisc', 'add', 'dev', bIf, 'root', 'netem', ...NETEM]);
  server = srv.start([process.execPath, serveJs, dir, '10.52.0.1', '69', 'timeoutMs=200', 'maxTimeoutMs=1000', 'retries=10']);
  await server.waitFor(/tftp listening/);
});
after(async () => {
  await server?.stop();
  await lab?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function records(): TransferRecord[] {
  return [...server.output().matchAll(/^record (.*)$/gm)].map((m) => JSON.parse(m[1]!) as TransferRecord);
}

async function lastRecord(file: string, n: number): Promise<TransferRecord> {
  for (let i = 0; i < 50; i++) {
    const r = records().filter((x) => x.file === file);
    if (r.length >= n) return r[n - 1]!;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`no transfer record for ${file}; server output:\n${server.output()}`);
}

test('atftp blksize 1468 + windowsize 16 over the lossy link: right bytes, no storm', async () => {
  const out = join(dir, 'out-atftp');
  await cli.run(['atftp', '--get', '-r', 'root.bin', '-l', out, '--option', 'blksize 1468', '--option', 'windowsize 16', '--option', 'tsize', '10.52.0.1', '69'], { timeoutMs: 180_000 });
  assert.equal(sha(await readFile(out)), sha(file));
  const r = await lastRecord('root.bin', 1);
  assert.equal(r.result, 'ok');
  assert.equal(r.windowsize, 16);
  // Go-back-N resends part of a window per loss; a storm would be a multiple of the blocks.
  assert.ok(r.dataPackets < r.blocks * 2, `DATA sent ${r.dataPackets} for ${r.blocks} blocks: ${JSON.stringify(r)}`);
});

test('tftp-hpa lock-step over the lossy link: duplicate ACKs ignored, never answered', async () => {
  const out = join(dir, 'out-hpa');
  await cli.run(['tftp', '-m', 'binary', '10.52.0.1', '-c', 'get', 'small.bin', out], { timeoutMs: 180_000 });
  assert.equal(sha(await readFile(out)), sha(file.subarray(0, 128 << 10)));
  const r = await lastRecord('small.bin', 1);
  assert.equal(r.result, 'ok');
  // Lock-step: each extra DATA is one timer expiry (r.retransmits), never a duplicate ACK.
  assert.ok(r.dataPackets <= r.blocks + r.retransmits * 1, `DATA sent ${r.dataPackets} for ${r.blocks} blocks, ${r.retransmits} timeouts`);
  assert.ok(r.dataPackets < r.blocks * 1.5, `DATA sent ${r.dataPackets} for ${r.blocks} blocks`);
});
