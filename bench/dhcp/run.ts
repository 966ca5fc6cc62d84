/**
 * DHCP benchmark: perfdhcp (Kea's load generator, as a relay) against netroot (`netroot serve
 * --config` on its SQLite store) and kea-dhcp4 (memfile with its lease file on), one at a time in
 * the same server namespace, the same clients for both.
 *
 *   npm run build && node dist/bench/dhcp/run.js [--pool] [--rounds 3] [--seconds 10]
 *       [--rates 1000,2000,4000,max] [--servers netroot,kea] [--rcvbuf 0] [--out BASE] [--settle SEC]
 *       [--capture] [--node-arg=--cpu-prof --node-arg=--cpu-prof-dir=DIR]
 *
 * Without --pool: 10,000 registered MACs (netroot's nodes, Kea's host reservations), perfdhcp
 * picking among them. With --pool: no MAC is registered and both hand out addresses from the same
 * 65,000-address pool; perfdhcp makes a new random MAC for (nearly) every exchange, i.e. new
 * clients at the offered rate.
 * Each measurement starts the server afresh (netroot on a copy of the filled store or an empty
 * one, Kea with an empty lease file), warms it up (500/s for 2 s), then runs perfdhcp for
 * --seconds at the rate. --rcvbuf: netroot's dhcp.recvBufferBytes (default 0 = the kernel's
 * default, which Kea keeps too; the namespace cannot be given another default here).
 * --settle SEC: before each round, wait up to SEC seconds for the 1-minute load to fall below
 * 1.0 (the bench's own load lingers in it; run-all.sh passes 120).
 * --capture: tcpdump on the server's interface during each measurement gives the server's own
 * answer times ("wire" columns: DISCOVER in to OFFER out, REQUEST in to ACK out), free of
 * perfdhcp's own delays; tcpdump costs CPU beside both servers alike (Debian: tcpdump).
 * Root; Debian packages kea-dhcp4-server, kea-admin (perfdhcp), iproute2. Network safety: two
 * namespaces and a veth pair, 10.51.192.0/18 or 10.52.0.0/16 only inside; deleted at the end.
 * Writes BASE.md and BASE.json (default bench/dhcp/results/dhcp-[pool-]<time>).
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, type Ns } from '../../test/helpers/netns.js';
import { have } from '../../test/helpers/proc.js';
import {
  REPO_ROOT, intOption, listOption, meter, newResult, option, resultBase, runRounds, seedStore, sleep, startIn, startNetroot,
  stopAll, waitForSocket, writeResult, type Server,
} from '../lib/index.js';
import { summarize, tcpdumpArgv, tcpdumpDrops, wireDelays, type WireSummary } from './capture.js';
import { addresses, fleet, keaConfig, keaPoolConfig, macList, netrootConfig, type FleetKind } from './fleet.js';
import { parsePerfdhcp, perfdhcpArgv, type PerfdhcpResult } from './perfdhcp.js';
import { toSample } from './report.js';

const kind: FleetKind = process.argv.includes('--pool') ? 'pool' : 'reserved';
const settleSec = intOption('settle', 0, 0, 600);
const rounds = intOption('rounds', 3, 1, 10);
const seconds = intOption('seconds', 10, 1, 60);
const servers = listOption('servers', ['netroot', 'kea'], ['netroot', 'kea']);
const rates = option('rates', '1000,2000,4000,max').split(',').map((r) => (r === 'max' ? null : Number(r)));
if (rates.some((r) => r !== null && !(Number.isInteger(r) && r > 0 && r <= 100_000))) throw new RangeError('--rates: integers up to 100000 or "max"');
const rcvbuf = intOption('rcvbuf', 0, 0, 256 * 2 ** 20);
if (rcvbuf !== 0 && rcvbuf < 65_536) throw new RangeError('--rcvbuf: 0 (kernel default) or at least 65536');
const capture = process.argv.includes('--capture');
const nodeArgs = process.argv.filter((x) => x.startsWith('--node-arg=')).map((x) => x.slice('--node-arg='.length));
/** Registered fleet size; in pool mode, the range perfdhcp draws random MACs from (2^24: few repeats). */
const COUNT = 10_000;
const POOL_CLIENTS = 2 ** 24;

/** UDP datagrams the kernel dropped in a namespace because a socket's receive buffer was full. */
async function rcvbufErrors(ns: Ns): Promise<number> {
  const udp = (await ns.run(['cat', '/proc/net/snmp'])).stdout.split('\n').filter((l) => l.startsWith('Udp: '));
  return Number(udp[1]!.split(/\s+/)[udp[0]!.split(/\s+/).indexOf('RcvbufErrors')]);
}

/** The receive buffer the kernel gave the socket(s) on port 67 (ss's skmem rb). */
async function rcvbufOf(ns: Ns): Promise<string> {
  const { stdout } = await ns.run(['ss', '-Hunlm', '( sport = :67 )']);
  return [...stdout.matchAll(/rb(\d+)/g)].map((m) => m[1]).join(', ') || '?';
}

async function main() {
  for (const c of ['perfdhcp', 'kea-dhcp4', 'ss', ...(capture ? ['tcpdump', 'chrt'] : [])]) if (!(await have(c))) throw new Error(`${c} is not installed (Debian: kea-admin, kea-dhcp4-server, iproute2; for --capture tcpdump, util-linux)`);
  const result = newResult(kind === 'pool' ? 'dhcp-pool' : 'dhcp', 'ACK/s', 'CPU s per 1,000 replies');
  const dir = await mkdtemp(join(tmpdir(), 'netroot-bench-dhcp-'));
  const { server, relay, prefix } = addresses(kind);
  const nodes = kind === 'reserved' ? fleet(COUNT) : [];
  const macFile = kind === 'reserved' ? join(dir, 'macs.txt') : null;
  if (macFile) await writeFile(macFile, macList(nodes));
  const template = join(dir, 'netroot-template');
  if (kind === 'reserved') await seedStore(template, { nodes });
  const lab = await Lab.create('bdhcp');
  const running: Server[] = [];
  const setup = new Map<string, string>();
  try {
    const srv = await lab.ns('srv');
    const cli = await lab.ns('cli');
    const { aIf, bIf } = await lab.link(srv, `${server}/${prefix}`, cli, `${relay}/${prefix}`);

    const startServer = async (name: string): Promise<Server> => {
      const sdir = join(dir, `run-${name}`);
      await rm(sdir, { recursive: true, force: true });
      await mkdir(sdir, { recursive: true });
      let s: Server;
      if (name === 'netroot') {
        const dataDir = join(sdir, 'data');
        if (kind === 'reserved') await cp(template, dataDir, { recursive: true });
        const r = await startNetroot(srv, join(sdir, 'config'), netrootConfig(kind, { ifname: aIf, dataDir, recvBufferBytes: rcvbuf }), nodeArgs);
        s = { name, address: server, proc: r.proc, group: r.group, how: r.how.replaceAll(sdir, '<run dir>') };
      } else {
        const conf = join(sdir, 'kea.json');
        const leases = join(sdir, 'leases.csv');
        const config = kind === 'reserved' ? keaConfig(nodes, aIf, server, leases) : keaPoolConfig(aIf, server, leases);
        await writeFile(conf, JSON.stringify(config, null, 1));
        const started = await startIn(srv, name, ['kea-dhcp4', '-c', conf], { env: { ...process.env, KEA_LOCKFILE_DIR: sdir, KEA_PIDFILE_DIR: sdir } });
        // The report shows the config with the 10,000 reservations elided.
        const shown = JSON.stringify(config, (k, v: unknown) => (k === 'reservations' && Array.isArray(v) ? [v[0], `... ${v.length - 1} more like it`] : v), 1);
        s = { name, address: server, ...started, how: `ip netns exec <server ns> kea-dhcp4 -c <run dir>/kea.json\n\n<run dir>/kea.json:\n${shown.replaceAll(sdir, '<run dir>')}` };
      }
      running.push(s);
      await waitForSocket(srv, 'udp', server, 67, s, 60_000);
      if (!setup.has(name)) setup.set(name, `${s.how}\n\nreceive buffer of its port-67 socket(s), bytes: ${await rcvbufOf(srv)}`);
      return s;
    };
    const perf = async (rate: number | null, secs: number): Promise<PerfdhcpResult> => {
      const argv = perfdhcpArgv({ ifname: bIf, server, macFile, rate, seconds: secs, clients: macFile ? COUNT : POOL_CLIENTS });
      const p = cli.start(argv);
      const kill = setTimeout(() => p.child.kill('SIGKILL'), (secs + 30) * 1000);
      const code = await p.exited;
      clearTimeout(kill);
      // Exit status 3: some exchanges went unanswered, a result, not a failure.
      if (code !== 0 && code !== 3) throw new Error(`perfdhcp exited ${code}:\n${p.output().slice(0, 4000)}`);
      return parsePerfdhcp(p.output());
    };

    /** Runs fn while tcpdump records the server's interface; the server's answer times from it. */
    const captured = async <T>(fn: () => Promise<T>): Promise<[T, WireSummary]> => {
      const file = join(dir, 'wire.pcap');
      const t = srv.start(tcpdumpArgv(aIf, file));
      try {
        await t.waitFor(/listening on/, 10_000);
        const r = await fn();
        await t.stop(5_000);
        return [r, summarize(wireDelays(await readFile(file)), tcpdumpDrops(t.output()))];
      } finally {
        await t.stop(1_000);
        await rm(file, { force: true });
      }
    };

    for (const rate of rates) {
      const label = `${kind === 'pool' ? 'new clients, pool' : 'registered MACs'} at ${rate === null ? 'max' : rate.toLocaleString('en-US')}/s`;
      result.rounds.push(...(await runRounds(label, servers.map((name) => ({ name })), rounds, async ({ name }, round) => {
        const s = await startServer(name);
        try {
          await perf(500, 2); // warm-up, not recorded
          const errors0 = errorLines(name, s.proc.output());
          const drops0 = [await rcvbufErrors(srv), await rcvbufErrors(cli)];
          const m = await meter(s.proc.pid, s.group);
          const [r, wire] = capture ? await captured(() => perf(rate, seconds)) : [await perf(rate, seconds), undefined];
          const used = await m.stop();
          const kernelDrops = { server: (await rcvbufErrors(srv)) - drops0[0]!, perfdhcp: (await rcvbufErrors(cli)) - drops0[1]! };
          const sample = toSample({ case: label, server: name, round, seconds, result: r, cpuSec: used.cpuSec, ownCpuSec: used.ownCpuSec, rssMaxMiB: used.rssMaxMiB, kernelDrops, serverErrors: errorLines(name, s.proc.output()) - errors0, wire });
          result.samples.push(sample);
          process.stderr.write(`bench:   ${name}: ${sample.value.toFixed(0)} ACK/s, lost ${sample.extra.lost}, p99 ACK ${r.ack.p99Ms.toFixed(1)} ms, CPU ${used.cpuSec.toFixed(2)} s, kernel drops ${kernelDrops.server}/${kernelDrops.perfdhcp}, errors ${sample.extra['server errors']}\n`);
        } finally {
          await stopAll(running.splice(0));
          await sleep(500);
        }
      }, { settleSec })));
    }
    result.setup = [...setup].map(([name, how]) => ({ server: name, how }));
    result.notes.push(
      `perfdhcp ${kind === 'pool' ? `-R ${POOL_CLIENTS} (random MACs, none registered)` : `-R ${COUNT} -M <the 10,000 registered MACs>`} -p ${seconds} -t 1 -W 1000000 -x t, as a relay (giaddr ${relay}) to ${server}; "verified / total" is ACKs received / DISCOVERs sent; lost = DISCOVERs without OFFER + REQUESTs without ACK.`,
      'Each measurement starts the server afresh and warms it up with 500/s for 2 s; CPU per 1,000 replies (OFFER + ACK received) is the server\'s CPU group during the measurement.',
      `Socket buffers: netroot's dhcp.recvBufferBytes is ${rcvbuf === 0 ? '0 (the kernel default, as Kea has: the same for both)' : `${rcvbuf} bytes while Kea keeps the kernel default: NOT the same for both`}; the bytes the kernel gave each are under "How each server ran". Kernel drops are /proc/net/snmp RcvbufErrors in each namespace.`,
      ...(capture ? ['Wire columns: tcpdump in the server namespace on its interface (kernel timestamps, ns) during the measured seconds; each reply is paired with its request by message type and xid; "capture drops" are the packets tcpdump said the kernel dropped (-1: it did not say). tcpdump\'s CPU is not in either server\'s figure.'] : []),
      'Persistence: netroot on its SQLite store (data dir copied from one filled before the run, or empty), Kea memfile with persist on and its lease file written.',
    );
  } finally {
    await stopAll(running);
    await lab.destroy();
    await rm(dir, { recursive: true, force: true });
  }
  const base = resultBase(kind === 'pool' ? 'dhcp-pool' : 'dhcp', REPO_ROOT).replace('/bench/dhcp-pool/', '/bench/dhcp/');
  process.stdout.write(await writeResult(result, base));
  process.stderr.write(`bench: wrote ${base}.md and ${base}.json\n`);
}

/** Error lines in a server's output: pino level error/fatal for netroot, ERROR/FATAL for Kea. */
function errorLines(name: string, out: string): number {
  const re = name === 'netroot' ? /"level":"(error|fatal)"/g : /\b(ERROR|FATAL)\b/g;
  return out.match(re)?.length ?? 0;
}

await main();
