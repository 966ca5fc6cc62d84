/**
 * 5 % packet loss on a veth link between two namespaces, made by nftables in the server's
 * namespace (both directions, every transfer port; RRQs to port 69 pass, as in the protocol-bench
 * harness's tftp-loss.sh): the tftp-hpa client, lock-step 512 like a PXE ROM, fetches 1 MB three
 * times. Every download has the right sha256; the server's retransmissions stay in proportion to
 * the packets nftables dropped (each loss costs a timer expiry or two, never a storm); and every
 * DATA beyond one per block is such an expiry. The server runs as `serve.js` inside the namespace
 * (the kernel has no netem; nftables' numgen gives the random loss).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { have, type Started } from '../../helpers/proc.js';
import { Lab, type Ns } from '../../helpers/netns.js';
import type { TransferRecord } from '../../../pxe/tftp/server.js';
import { harnessDefaults, sha256 } from './harness.js';

const serveJs = fileURLToPath(new URL('./serve.js', import.meta.url));
const LOSS_PERMILLE = 50;
const SRV = '10.77.0.1';

let lab: Lab;
let srv: Ns;
let cli: Ns;
let server: Started;
let dir: string;
let want: string;

before(async () => {
  for (const tool of ['tftp', 'nft']) assert.ok(await have(tool), `${tool} missing (scripts/deps/tftp.txt, nftables)`);
  dir = await mkdtemp(join(tmpdir(), 'netroot-tftp-loss-'));
  const data = randomBytes(1 << 20);
  want = sha256(data);
  await writeFile(join(dir, '1m.bin'), data);
  lab = await Lab.create('tloss');
  srv = await lab.ns('srv');
  cli = await lab.ns('cli');
  await lab.link(srv, `${SRV}/24`, cli, '10.77.0.2/24');
  await srv.run(['nft', '-f', '-'], {
    input: `table inet loss {
  counter dropped {}
  chain o { type filter hook output priority 0; udp sport != 69 numgen random mod 1000 < ${LOSS_PERMILLE} counter name "dropped" drop; }
  chain i { type filter hook input priority 0; udp dport != 69 numgen random mod 1000 < ${LOSS_PERMILLE} counter name "dropped" drop; }
}
`,
  });
  // A client that got everything may lose its final ACK: the server then gives up after 5 s
  // (1 + 2 + 2) instead of 31.
  const native = harnessDefaults.native === false ? ['native=0'] : [];
  server = srv.start(['node', serveJs, dir, SRV, '69', 'maxTimeoutMs=2000', 'retries=2', ...native]);
  const path = await server.waitFor(/tftp data path (\w+)/);
  assert.equal(path[1], harnessDefaults.native === false ? 'js' : 'native');
});

after(async () => {
  await server?.stop();
  await lab?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const records = (): TransferRecord[] =>
  server
    .output()
    .split('\n')
    .filter((l) => l.startsWith('record '))
    .map((l) => JSON.parse(l.slice(7)) as TransferRecord);

async function dropped(): Promise<number> {
  const { stdout } = await srv.run(['nft', 'list', 'counter', 'inet', 'loss', 'dropped']);
  const m = stdout.match(/packets (\d+)/);
  assert.ok(m, stdout);
  return Number(m[1]);
}

test('tftp-hpa, 1 MB three times at 5 % loss: right bytes, retransmissions bounded by the losses', async () => {
  for (let run = 1; run <= 3; run++) {
    const before = records().length;
    const lost0 = await dropped();
    const local = join(dir, `got-${run}`);
    await cli.run(['tftp', '-m', 'binary', SRV, '-c', 'get', '1m.bin', local], { timeoutMs: 240_000 });
    assert.equal(sha256(await readFile(local)), want, `run ${run}: sha256 of the download`);
    // The record follows the final ACK, or the give-up when that ACK was lost.
    for (let i = 0; i < 150 && records().length <= before; i++) await new Promise((res) => setTimeout(res, 100));
    const r = records()[before];
    assert.ok(r, `run ${run}: no transfer record`);
    const lost = (await dropped()) - lost0;
    console.log(`loss run ${run}: ${JSON.stringify({ result: r.result, ms: r.ms, blocks: r.blocks, dataPackets: r.dataPackets, retransmits: r.retransmits, ignoredAcks: r.ignoredAcks, dropped: lost })}`);
    assert.ok(r.result === 'ok' || (r.result === 'timeout' && r.bytes === 1 << 20), JSON.stringify(r));
    assert.equal(r.blocks, 2049);
    assert.ok(lost > 0, 'nftables dropped nothing');
    // Lock-step: each DATA beyond the blocks is one timer expiry.
    assert.equal(r.dataPackets, r.blocks + r.retransmits, JSON.stringify(r));
    // Each drop costs an expiry (two when the resent block is dropped as well, counted again);
    // a final ACK lost adds the expiries until the give-up. A Sorcerer's Apprentice storm or a
    // timer that fires without cause would grow past this.
    assert.ok(r.retransmits <= 2 * lost + 10, `retransmits ${r.retransmits} for ${lost} dropped packets`);
  }
});
