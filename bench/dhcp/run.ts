/**
 * DHCP benchmark: perfdhcp (as a relay) against netroot (in-memory directory, and the production
 * SQLite store) and kea-dhcp4 (memfile, host reservations), the same 10,000 reserved MACs, side by
 * side in one run: each offered rate is run against every server before the next rate.
 *
 *   npx tsc -p . && node dist/bench/dhcp/run.js [--seconds 10] [--rates 1000,2000,4000,max]
 *       [--count 10000] [--servers netroot-memory,netroot-sqlite,kea] [--rounds 1] [--cpu-prof DIR] [--json FILE]
 *       [--rcvbuf BYTES]
 *
 * --rcvbuf: netroot's dhcp.recvBufferBytes (default 2 MiB; 0 = the kernel's default, as before
 * netroot set one). Kea keeps its own (the kernel's default).
 *
 * With --rounds N the whole sweep repeats N times and the table shows, per cell, the round with
 * the median ACK/s (this machine is shared: other jobs move the numbers between rounds).
 *
 * Root; needs perfdhcp and kea-dhcp4 (Debian kea-admin, kea-dhcp4-server). Network safety: one
 * namespace per server and one for perfdhcp, veth pairs between them, 10.51.192.0/18 only inside;
 * all deleted at the end. Bounded: each case sends for --seconds (max 60) with a hard timeout.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, type Ns } from '../../test/helpers/netns.js';
import { have, type Started } from '../../test/helpers/proc.js';
import { fleet, keaConfig, macList } from './fleet.js';
import { parsePerfdhcp, perfdhcpArgv, type PerfdhcpResult } from './perfdhcp.js';
import { renderTable, type Case } from './report.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const SERVE = resolve(here, 'serve.js');
type Kind = 'netroot-memory' | 'netroot-sqlite' | 'kea';
const KINDS: Kind[] = ['netroot-memory', 'netroot-sqlite', 'kea'];

function args() {
  const a = process.argv.slice(2);
  const get = (name: string, def: string) => {
    const i = a.indexOf(`--${name}`);
    return i >= 0 && a[i + 1] ? a[i + 1]! : def;
  };
  const seconds = Number(get('seconds', '10'));
  if (!(seconds >= 1 && seconds <= 60)) throw new Error('--seconds: 1..60');
  const rates = get('rates', '1000,2000,4000,max').split(',').map((r) => (r === 'max' ? null : Number(r)));
  if (rates.some((r) => r !== null && !(r > 0 && r <= 100_000))) throw new Error('--rates: numbers up to 100000 or "max"');
  const servers = get('servers', KINDS.join(',')).split(',') as Kind[];
  if (servers.some((s) => !KINDS.includes(s))) throw new Error(`--servers: some of ${KINDS.join(',')}`);
  const count = Number(get('count', '10000'));
  if (!(count >= 1 && count <= 16_000)) throw new Error('--count: 1..16000 (the /18 holds 16,000 from 10.51.200.0)');
  const prof = get('cpu-prof', '');
  const rounds = Number(get('rounds', '1'));
  if (!(rounds >= 1 && rounds <= 5)) throw new Error('--rounds: 1..5');
  const rcvbuf = get('rcvbuf', '');
  if (rcvbuf && !(Number(rcvbuf) === 0 || Number(rcvbuf) >= 65_536)) throw new Error('--rcvbuf: 0 (kernel default) or bytes, at least 65536');
  return { rcvbuf, rounds, seconds, rates, servers, count, cpuProf: prof ? resolve(prof) : null, json: get('json', '') };
}

interface Target {
  kind: Kind;
  ns: Ns;
  /** The server's address; perfdhcp's relay address is the next one. */
  server: string;
  /** perfdhcp's interface in the client namespace. */
  cliIf: string;
  proc: Started;
}

/** CPU seconds (user + system) a process has used, from /proc (clock ticks of 10 ms). */
async function cpuSeconds(pid: number): Promise<number> {
  const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** UDP datagrams the kernel dropped in a namespace because a socket's receive buffer was full. */
async function rcvbufErrors(ns: Ns): Promise<number> {
  const { stdout } = await ns.run(['cat', '/proc/net/snmp']);
  const udp = stdout.split('\n').filter((l) => l.startsWith('Udp: '));
  const names = udp[0]!.split(/\s+/);
  const values = udp[1]!.split(/\s+/);
  return Number(values[names.indexOf('RcvbufErrors')]);
}

async function waitForPort67(ns: Ns, p: Started, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (p.child.exitCode !== null) throw new Error(`server exited early:\n${p.output()}`);
    const { stdout } = await ns.run(['ss', '-Hlun', 'sport = :67']);
    if (stdout.trim() && (!p.output().length || !/FAILED/.test(p.output()))) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server did not bind port 67 within ${timeoutMs} ms:\n${p.output()}`);
}

async function main() {
  const o = args();
  if (process.getuid?.() !== 0) throw new Error('run as root (network namespaces)');
  for (const c of ['perfdhcp', 'kea-dhcp4', 'ss']) if (!(await have(c))) throw new Error(`${c} is not installed (Debian: kea-admin, kea-dhcp4-server, iproute2)`);
  const dir = await mkdtemp(join(tmpdir(), 'netroot-bench-dhcp-'));
  const nodes = fleet(o.count);
  const macFile = join(dir, 'macs.txt');
  await writeFile(macFile, macList(nodes));
  const lab = await Lab.create('dhbench');
  const targets: Target[] = [];
  try {
    const cli = await lab.ns('cli');
    for (const [i, kind] of o.servers.entries()) {
      const ns = await lab.ns(`s${i}`);
      const server = `10.51.192.${2 * i + 1}`;
      const relay = `10.51.192.${2 * i + 2}`;
      const { aIf, bIf } = await lab.link(ns, `${server}/18`, cli, null);
      // A /32 and a host route on the relay side: the relay is inside the /18 (it selects the subnet
      // by giaddr) without the client namespace holding one /18 route per link. (Not `peer`:
      // perfdhcp then takes the peer's address as its own.)
      await cli.run(['ip', 'addr', 'add', `${relay}/32`, 'dev', bIf]);
      await cli.run(['ip', 'route', 'add', `${server}/32`, 'dev', bIf, 'src', relay]);
      const sdir = join(dir, `s${i}`);
      await import('node:fs/promises').then((f) => f.mkdir(sdir));
      let proc: Started;
      if (kind === 'kea') {
        const conf = join(sdir, 'kea.json');
        await writeFile(conf, JSON.stringify(keaConfig(nodes, aIf, server, join(sdir, 'leases.csv'))));
        proc = ns.start(['kea-dhcp4', '-c', conf], { env: { ...process.env, KEA_LOCKFILE_DIR: sdir, KEA_PIDFILE_DIR: sdir } });
      } else {
        const prof = o.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProf, '--cpu-prof-name', `${kind}.cpuprofile`] : [];
        proc = ns.start([process.execPath, ...prof, SERVE, kind === 'netroot-memory' ? 'memory' : 'sqlite', aIf, server, String(o.count), sdir, ...(o.rcvbuf ? [o.rcvbuf] : [])]);
        await proc.waitFor(/^(READY|FAILED.*)$/m, 60_000);
        if (/^FAILED/m.test(proc.output())) throw new Error(`${kind} failed to start:\n${proc.output()}`);
      }
      targets.push({ kind, ns, server, cliIf: bIf, proc });
      await waitForPort67(ns, proc, 60_000);
      const rb = /^RCVBUF (.*)$/m.exec(proc.output());
      if (rb) console.error(`bench: ${kind} SO_RCVBUF set, kernel reports ${rb[1]}`);
      console.error(`bench: ${kind} serving on ${server} (${aIf}); perfdhcp via ${bIf}`);
    }
    const perf = async (t: Target, rate: number | null, seconds: number): Promise<PerfdhcpResult> => {
      const argv = perfdhcpArgv({ ifname: t.cliIf, server: t.server, macFile, rate, seconds, clients: o.count });
      // Exit status 3 means some exchanges went unanswered: a result, not a failure.
      const p = cli.start(argv);
      const kill = setTimeout(() => p.child.kill('SIGKILL'), (seconds + 30) * 1000);
      const code = await p.exited;
      clearTimeout(kill);
      if (code !== 0 && code !== 3) throw new Error(`perfdhcp exited ${code}:\n${p.output().slice(0, 4000)}`);
      return parsePerfdhcp(p.output());
    };
    // Warm-up, not recorded: JIT, Kea's first lease-file writes, SQLite's page cache.
    for (const t of targets) await perf(t, 500, 2);
    const cases: Case[] = [];
    for (let round = 0; round < o.rounds; round++) for (const [ri, rate] of o.rates.entries()) {
      // Rotate who goes first at each rate, so no server always runs right after the same one.
      const order = targets.map((_, i) => targets[(i + ri + round) % targets.length]!);
      for (const t of order) {
        const cpu0 = await cpuSeconds(t.proc.pid);
        const [srvDrop0, cliDrop0] = [await rcvbufErrors(t.ns), await rcvbufErrors(cli)];
        const loads: number[] = [];
        const timer = setInterval(() => loads.push(loadavg()[0]!), 1000);
        const t0 = Date.now();
        const r = await perf(t, rate, o.seconds);
        clearInterval(timer);
        const wall = (Date.now() - t0) / 1000;
        const cpu = (await cpuSeconds(t.proc.pid)) - cpu0;
        const kernelDrops = { server: (await rcvbufErrors(t.ns)) - srvDrop0, perfdhcp: (await rcvbufErrors(cli)) - cliDrop0 };
        cases.push({ server: t.kind, rate, seconds: o.seconds, result: r, serverCpu: cpu / wall, cpuSec: cpu, kernelDrops, load1: loads.length ? Math.max(...loads) : loadavg()[0]! });
        console.error(`bench: round ${round + 1}: ${t.kind} @ ${rate ?? 'max'}/s: ${(r.ack.received / o.seconds).toFixed(0)} ACK/s, lost ${r.offer.sent - r.offer.received + r.ack.sent - r.ack.received}, p99 ${r.offer.p99Ms.toFixed(1)}/${r.ack.p99Ms.toFixed(1)} ms, cpu ${((100 * cpu) / wall).toFixed(0)} %, socket-buffer drops server ${kernelDrops.server} perfdhcp ${kernelDrops.perfdhcp}`);
        await new Promise((res) => setTimeout(res, 1000));
      }
    }
    for (const t of targets) {
      await t.proc.stop(20_000);
      const c = /^COUNTERS (.*)$/m.exec(t.proc.output());
      if (c) console.error(`bench: ${t.kind} counters ${c[1]}`);
    }
    console.log(renderTable(cases, o.servers));
    if (o.json) await writeFile(o.json, JSON.stringify(cases, null, 1));
  } finally {
    for (const t of targets) await t.proc.stop(20_000);
    await lab.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
