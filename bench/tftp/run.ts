/**
 * TFTP benchmark: netroot (`netroot serve --config`, the config printed in the report), tftpd-hpa
 * and dnsmasq serving the same random files from one server namespace; real clients (tftp-hpa,
 * atftp) in a client namespace over a veth pair. Every copy is checked (size and sha256).
 *
 *   npm run build && node dist/bench/tftp/run.js [--rounds 3] [--servers netroot,tftpd-hpa,dnsmasq]
 *       [--cases 512,1468,win16,20x30,500x1,loss5] [--out BASE] [--settle SEC] [--netroot-tftp '{"workers":0}']
 *       [--node-arg=--cpu-prof ...]
 *
 * --settle SEC: before each round, wait up to SEC seconds for the 1-minute load to fall below
 * 1.0 (the bench's own load lingers in it; run-all.sh passes 120).
 * Root; Debian packages tftpd-hpa, dnsmasq-base, tftp-hpa, atftp, nftables (loss5), iproute2.
 * Per case, every round runs each server once, in an order rotated each round; the load average
 * is read at the start and end of each round. Writes BASE.md (tables, each server's command line
 * and netroot's config) and BASE.json (every measurement); default BASE is
 * bench/tftp/results/tftp-<time>. Bounded: each client has a timeout, counted as a failure.
 */
import { mkdir, mkdtemp, rm, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Ns } from '../../test/helpers/netns.js';
import {
  REPO_ROOT, benchNet, checkAll, intOption, listOption, makeRandomFile, meter, newResult, option, resultBase, runRounds,
  serverIp, sleep, startIn, startNetroot, stopAll, waitForSocket, writeResult, type Expected, type Server,
} from '../lib/index.js';

const MiB = 2 ** 20;
const SERVERS = ['netroot', 'tftpd-hpa', 'dnsmasq'];
const settleSec = intOption('settle', 0, 0, 600);
const rounds = intOption('rounds', 3, 1, 20);
const wanted = listOption('servers', SERVERS, SERVERS);
const caseKeys = listOption('cases', ['512', '1468', 'win16', '20x30', '500x1', 'loss5'], ['512', '1468', 'win16', '20x30', '500x1', 'loss5']);
const netrootTftp = JSON.parse(option('netroot-tftp', '{}')) as Record<string, unknown>;
const nodeArgs = process.argv.filter((x) => x.startsWith('--node-arg=')).map((x) => x.slice('--node-arg='.length));

interface Run {
  seconds: number;
  copies: { path: string; want: Expected }[];
  extra?: Record<string, number>;
}
interface Ctx {
  cli: Ns;
  srv: Ns;
  files: Record<string, Expected>;
  out: string;
}
type Case = { key: string; label: string; run: (ctx: Ctx, s: Server) => Promise<Run>; setup?: (ctx: Ctx) => Promise<void>; teardown?: (ctx: Ctx) => Promise<void> };

/** Runs a client to its end; a failure shows in the verification, not here. */
const client = (ctx: Ctx, argv: string[], timeoutMs: number) => ctx.cli.run(argv, { timeoutMs }).catch(() => undefined);
const hpa = (s: Server, file: string, out: string) => ['tftp', '-m', 'binary', s.address, '-c', 'get', file, out];
const atftp = (s: Server, file: string, out: string, opts: string[]) => ['atftp', ...opts.flatMap((o) => ['--option', o]), '--get', '-r', file, '-l', out, s.address];

/** `count` clients made by `make`, at most `parallel` at once; wall seconds for all. */
async function clients(ctx: Ctx, count: number, parallel: number, file: string, make: (out: string) => string[], timeoutMs: number): Promise<Run> {
  const copies = Array.from({ length: count }, (_, i) => ({ path: join(ctx.out, `c${i}`), want: ctx.files[file]! }));
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, async () => {
    while (next < count) await client(ctx, make(copies[next++]!.path), timeoutMs);
  }));
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, copies };
}

/**
 * Loss on the way in, in both namespaces: a packet dropped in OUTPUT makes the sender's sendto()
 * fail with EPERM, which tftpd-hpa treats as fatal (its transfer ends at the first drop), while
 * real loss on a wire is silent. RRQs (to port 69) are kept; the server ns counts what it sends.
 */
const NFT_LOSS_SRV = (permille: number) => `table inet nrbenchloss {
  counter sent {}
  chain o { type filter hook output priority 0; udp sport != 69 counter name "sent"; }
  chain i { type filter hook input priority 0; udp dport != 69 numgen random mod 1000 < ${permille} drop; }
}`;
const NFT_LOSS_CLI = (permille: number) => `table inet nrbenchloss {
  chain i { type filter hook input priority 0; udp sport != 69 numgen random mod 1000 < ${permille} drop; }
}`;

const CASES: Case[] = [
  { key: '512', label: '60 MB lockstep blksize 512 (tftp-hpa client)', run: (c, s) => clients(c, 1, 1, '60m.bin', (o) => hpa(s, '60m.bin', o), 300_000) },
  { key: '1468', label: '60 MB lockstep blksize 1468 (atftp)', run: (c, s) => clients(c, 1, 1, '60m.bin', (o) => atftp(s, '60m.bin', o, ['blksize 1468']), 300_000) },
  { key: 'win16', label: '60 MB blksize 1468 windowsize 16 (atftp; lockstep where the server does not OACK windowsize)', run: (c, s) => clients(c, 1, 1, '60m.bin', (o) => atftp(s, '60m.bin', o, ['blksize 1468', 'windowsize 16']), 300_000) },
  { key: '20x30', label: '20 clients x 30 MB at once, blksize 1468 (atftp)', run: (c, s) => clients(c, 20, 20, '30m.bin', (o) => atftp(s, '30m.bin', o, ['blksize 1468']), 600_000) },
  { key: '500x1', label: '500 clients x 1 MB, 100 at a time, blksize 1468 + tsize (atftp)', run: (c, s) => clients(c, 500, 100, '1m.bin', (o) => atftp(s, '1m.bin', o, ['blksize 1468', 'tsize 0']), 120_000) },
  {
    key: 'loss5',
    label: '1 MB lockstep blksize 512 at 5 % loss each way (tftp-hpa client; nftables on input, RRQs kept; 120 s limit)',
    async setup(c) {
      await c.srv.run(['nft', '-f', '-'], { input: NFT_LOSS_SRV(50) });
      await c.cli.run(['nft', '-f', '-'], { input: NFT_LOSS_CLI(50) });
    },
    async teardown(c) {
      for (const ns of [c.srv, c.cli]) await ns.run(['nft', 'delete', 'table', 'inet', 'nrbenchloss']).catch(() => undefined);
    },
    async run(c, s) {
      await c.srv.run(['nft', 'reset', 'counter', 'inet', 'nrbenchloss', 'sent']);
      const r = await clients(c, 1, 1, '1m.bin', (o) => hpa(s, '1m.bin', o), 120_000);
      const { stdout } = await c.srv.run(['nft', 'list', 'counter', 'inet', 'nrbenchloss', 'sent']);
      // 2,049 DATA packets is the least a 1 MB transfer at blksize 512 takes.
      return { ...r, extra: { 'packets sent': Number(/packets (\d+)/.exec(stdout)?.[1] ?? NaN) } };
    },
  },
];

async function startServers(net: { srv: Ns }, root: string, dir: string): Promise<Server[]> {
  const out: Server[] = [];
  for (const [i, name] of SERVERS.entries()) {
    if (!wanted.includes(name)) continue;
    const address = serverIp(i);
    let s: Server;
    if (name === 'netroot') {
      // maxPerClient and maxTransfers are raised because every bench client comes from one address.
      const config = { dataDir: join(dir, 'netroot-data'), http: { listen: '127.0.0.1', port: 18080 }, tftp: { enabled: true, listen: address, port: 69, root, maxTransfers: 1000, maxPerClient: 1000, ...netrootTftp }, nfs: { backend: 'none' } };
      const r = await startNetroot(net.srv, join(dir, 'netroot'), config, nodeArgs);
      s = { name, address, proc: r.proc, group: r.group, how: r.how };
    } else {
      const argv = name === 'tftpd-hpa'
        ? ['in.tftpd', '--foreground', '--listen', '--address', `${address}:69`, '--secure', '--blocksize', '65464', root]
        : ['dnsmasq', '--keep-in-foreground', '--no-daemon', '--conf-file=/dev/null', '--port=0', `--listen-address=${address}`, '--bind-interfaces', '--enable-tftp', `--tftp-root=${root}`, '--tftp-no-fail', '--tftp-max=1000', '--pid-file=', '--user=root'];
      s = { name, address, ...(await startIn(net.srv, name, argv)), how: `ip netns exec <server ns> ${argv.join(' ')}` };
    }
    out.push(s);
    await waitForSocket(net.srv, 'udp', address, 69, s);
  }
  return out;
}

async function main() {
  const result = newResult('tftp', 'MiB/s', 'CPU s/GB');
  const dir = await mkdtemp(join(tmpdir(), 'netroot-bench-tftp-'));
  const out = await mkdtemp('/dev/shm/netroot-bench-tftp-');
  const root = join(dir, 'root');
  await mkdir(root);
  await chmod(dir, 0o755); // tftpd-hpa reads as user tftp
  const files: Record<string, Expected> = {};
  for (const [name, mib] of [['60m.bin', 60], ['30m.bin', 30], ['1m.bin', 1]] as const) files[name] = await makeRandomFile(join(root, name), mib * MiB);
  const net = await benchNet('btftp', SERVERS.length);
  let servers: Server[] = [];
  const ctx: Ctx = { cli: net.cli, srv: net.srv, files, out };
  try {
    servers = await startServers(net, root, dir);
    result.setup = servers.map((s) => ({ server: s.name, how: s.how }));
    // Warm-up, not recorded: page cache, netroot's file cache and JIT alike for all.
    for (const s of servers) {
      const w = await checkAll((await clients(ctx, 1, 1, '1m.bin', (o) => atftp(s, '1m.bin', o, ['blksize 1468']), 60_000)).copies);
      if (w.ok !== 1) throw new Error(`${s.name}: the warm-up download failed: ${w.failures.join('; ')}`);
    }
    for (const c of CASES.filter((x) => caseKeys.includes(x.key))) {
      await c.setup?.(ctx);
      try {
        result.rounds.push(...(await runRounds(c.label, servers, rounds, async (s, round) => {
          await rm(out, { recursive: true, force: true });
          await mkdir(out);
          const m = await meter(s.proc.pid, s.group);
          const r = await c.run(ctx, s);
          await sleep(300); // tftpd-hpa's last children exit and are reaped
          const used = await m.stop();
          const v = await checkAll(r.copies);
          result.samples.push({
            case: c.label, server: s.name, round, value: v.okBytes / MiB / r.seconds, ok: v.ok, total: v.total, failures: v.failures,
            cpuSec: used.cpuSec, cpuPerUnit: v.okBytes ? used.cpuSec / (v.okBytes / 1e9) : null, rssMaxMiB: used.rssMaxMiB,
            extra: { seconds: r.seconds, 'own process CPU s': used.ownCpuSec, ...r.extra },
          });
          process.stderr.write(`bench:   ${s.name}: ${(v.okBytes / MiB / r.seconds).toFixed(1)} MiB/s, ${r.seconds.toFixed(2)} s, ${v.ok}/${v.total} verified, CPU ${used.cpuSec.toFixed(2)} s\n`);
        }, { settleSec })));
      } finally {
        await c.teardown?.(ctx);
      }
    }
    result.notes.push(
      'Server namespace and client namespace joined by one veth pair; each server on its own address, port 69, all running throughout.',
      'Every copy is checked for size and sha256; MiB/s counts verified bytes only. CPU s/GB is the server\'s CPU group (every process it ran, tftpd-hpa\'s per-transfer children included) per GB verified; "own process CPU s" is /proc/<pid>/stat utime+stime of the server process alone.',
      'All clients come from one address: netroot\'s maxPerClient and maxTransfers are raised in its config for that (tftpd-hpa has no such limit; dnsmasq gets --tftp-max=1000).',
      'Socket buffers: every server keeps what it sets itself on the kernel default (net.core.rmem_default, not settable per namespace here).',
    );
  } finally {
    await stopAll(servers);
    await net.lab.destroy();
    await rm(dir, { recursive: true, force: true });
    await rm(out, { recursive: true, force: true });
  }
  const base = resultBase('tftp', REPO_ROOT);
  process.stdout.write(await writeResult(result, base));
  process.stderr.write(`bench: wrote ${base}.md and ${base}.json\n`);
}

await main();
