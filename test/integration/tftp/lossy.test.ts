/**
 * A lossy link that loses, duplicates and reorders packets in both directions between a real
 * client and the server: the client still gets the right bytes and the server sends no
 * duplicate-ACK storm (DATA packets stay close to the number of blocks; the npm `tftp` package
 * sent 13,000 duplicates for a 1 MB file after one duplicated ACK).
 *
 * The issue asks for tc netem in a namespace; this CI kernel has no sch_netem ("Specified qdisc
 * kind is unknown"), so the impairment is a user-space relay (impair.ts) on 127.0.0.1 instead.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { have } from '../../helpers/proc.js';
import { startHarness, sha256, type Harness } from './harness.js';
import { ImpairedLink } from './impair.js';

let h: Harness;
let out: string;
const imp = { loss: 0.05, duplicate: 0.05, reorder: 0.1, delayMs: 5, seed: 4242 };

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 240_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd}: ${err.message}\n${stderr}`)) : resolve(stdout + stderr)));
  });
}

before(async () => {
  for (const tool of ['atftp', 'tftp', 'curl']) assert.ok(await have(tool), `${tool} missing (scripts/deps/tftp.txt)`);
  h = await startHarness({ timeoutMs: 200, maxTimeoutMs: 400, retries: 15 });
  out = await mkdtemp(join(tmpdir(), 'netroot-tftp-lossy-'));
});
after(async () => {
  await h?.close();
  if (out) await rm(out, { recursive: true, force: true });
});

async function through(client: (port: number, local: string) => Promise<string>, file: string) {
  const link = await ImpairedLink.open(h.port, imp);
  const local = join(out, `${file}-${Date.now()}`);
  try {
    await client(link.port, local);
  } finally {
    link.close();
  }
  assert.equal(sha256(await readFile(local)), h.sha[file], `${file}: sha256 differs after the lossy link`);
  // The server's record may lag the client by the final ACK's trip.
  let r = h.records.filter((x) => x.file === file).at(-1);
  for (let i = 0; i < 100 && !r; i++) {
    await new Promise((res) => setTimeout(res, 100));
    r = h.records.filter((x) => x.file === file).at(-1);
  }
  assert.ok(r, `no transfer record for ${file}`);
  // When the client's final ACK is lost the client is done but the server can only time out.
  assert.ok(r.result === 'ok' || (r.result === 'timeout' && r.bytes >= (h.sha[file] ? 0 : 1)), JSON.stringify(r));
  console.log(`lossy ${file}: ${JSON.stringify({ dataPackets: r.dataPackets, blocks: r.blocks, retransmits: r.retransmits, ignoredAcks: r.ignoredAcks, ms: r.ms, link: link.stats })}`);
  assert.ok(link.stats.dropped > 0 && link.stats.duplicated > 0 && link.stats.delayed > 0, `link impaired nothing: ${JSON.stringify(link.stats)}`);
  // No storm: every extra DATA packet is explained by an impairment or a timer expiry, each
  // costing at most one window; a Sorcerer's Apprentice storm grows without such a bound.
  const events = link.stats.dropped + link.stats.duplicated + link.stats.delayed + r.retransmits;
  assert.ok(r.dataPackets <= r.blocks + r.windowsize * events, `DATA sent ${r.dataPackets} for ${r.blocks} blocks, ${events} impairments/timeouts: ${JSON.stringify({ r, stats: link.stats })}`);
  return { r, stats: link.stats };
}

test('atftp blksize 1468 + windowsize 16, 1 MB: right bytes, no storm', async () => {
  const { r } = await through((port, local) => run('atftp', ['--get', '-r', '1m.bin', '-l', local, '--option', 'blksize 1468', '--option', 'windowsize 16', '--option', 'tsize', '127.0.0.1', String(port)]), '1m.bin');
  assert.equal(r.windowsize, 16);
});

test('tftp-hpa lock-step, 256 KiB: duplicate ACKs ignored, extra DATA only from timer expiries', async () => {
  const { r } = await through((port, local) => run('tftp', ['-m', 'binary', '127.0.0.1', String(port), '-c', 'get', '256k.bin', local]), '256k.bin');
  assert.ok(r.ignoredAcks > 0, 'the duplicated ACKs reached the server and were ignored');
  // Lock-step: every DATA beyond the blocks is one retransmission after a timeout.
  assert.equal(r.dataPackets, r.blocks + r.retransmits, JSON.stringify(r));
  assert.ok(r.dataPackets < r.blocks * 1.5, `DATA sent ${r.dataPackets} for ${r.blocks} blocks`);
});

test('curl blksize 1468, 256 KiB over the lossy link', async () => {
  const { r } = await through((port, local) => run('curl', ['-sS', '--tftp-blksize', '1468', '-o', local, `tftp://127.0.0.1:${port}/256k.bin`]), '256k.bin');
  assert.ok(r.dataPackets < r.blocks * 1.5, `DATA sent ${r.dataPackets} for ${r.blocks} blocks`);
});
