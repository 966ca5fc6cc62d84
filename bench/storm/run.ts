/**
 * The boot storm: N simulated PXE nodes at once against netroot, and against dnsmasq + nginx,
 * with the same fleet and files, in network namespaces. See bench/README.md, "Boot storm".
 *
 *   npm run build && node dist/bench/storm/run.js [--nodes 100,500] [--runs registered,pool]
 *       [--rounds 3] [--unknown 0.2] [--settle-load 1.0] [--settle-max-s 900] [--json FILE]
 *       [--md FILE] [--keep DIR] [--loader-kib 1024] [--kernel-mib 8] [--initrd-mib 60]
 *       [--servers netroot,reference] [--dnsmasq-ping] [--verify sha256|bytes]
 *       [--netroot-node-args "--cpu-prof --cpu-prof-dir DIR"] [--netroot-bin PATH]
 *
 * runs: "registered" = every node registered; "pool" = a share (--unknown) of unknown MACs with
 * the DHCP pool on (they get a pool address, the loader and a refusal script: netroot has no
 * boot policy for unknown MACs, and nginx is given netroot's refusal for them, so both sides do
 * the same work). Each round runs every server once, the order alternating between rounds.
 * --settle-load L: before each storm, wait (at most --settle-max-s) for the 1-minute load average
 * to fall below L; the load at the start and end of every storm is in the report either way.
 * --keep DIR: keep every server's config and logs, and the clients' raw results, there.
 * --verify: kernel and initramfs checked by SHA-256 of all bytes received (default), or byte for
 *   byte against the file (a tenth of the client's CPU for them; sizes are checked either way).
 * --netroot-node-args: node flags for the service, to profile it in the storm (not for figures).
 * --netroot-bin: the bin/netroot.js of another built checkout (same store schema) to run instead.
 *
 * Root; needs dnsmasq, nginx, iproute2 (ip, ss). Network safety: a server namespace and a client
 * namespace joined by one veth pair, 10.60.0.0/16 only, both deleted at the end; nothing runs in
 * the root namespace but this process and its file work.
 */
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, type Ns } from '../../test/helpers/netns.js';
import { have } from '../../test/helpers/proc.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { CIDR, IMAGE, KNOWN_RANGE, LOADER_NAME, POOL, POOL_RANGE, PREFIX, SERVER, VERSION, stormFleet, type StormNode } from './fleet.js';
import { STAGES, type ClientReport, type Plan } from './nodes.js';
import { processTree, RssSampler, treeCpu } from './procstat.js';
import { failureReasons, lastNodeMs, renderMarkdown, stageFigures, SERVER_LABEL, type ServerKind, type StormSummary } from './report.js';
import { startNetroot, startReference, type Files, type Running } from './servers.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const CLIENT = resolve(here, 'client.js');
const RUNS = ['registered', 'pool'] as const;
type Run = (typeof RUNS)[number];
const KINDS: ServerKind[] = ['netroot', 'reference'];

function args() {
  const a = process.argv.slice(2);
  const get = (name: string, def: string) => {
    const i = a.indexOf(`--${name}`);
    return i >= 0 && a[i + 1] !== undefined ? a[i + 1]! : def;
  };
  const nodes = get('nodes', '100,500').split(',').map(Number);
  if (nodes.some((n) => !(Number.isInteger(n) && n >= 1 && n <= 2000))) throw new Error('--nodes: numbers 1..2000');
  const runs = get('runs', RUNS.join(',')).split(',') as Run[];
  if (runs.some((r) => !RUNS.includes(r))) throw new Error(`--runs: some of ${RUNS.join(',')}`);
  const servers = get('servers', KINDS.join(',')).split(',') as ServerKind[];
  if (servers.some((s) => !KINDS.includes(s))) throw new Error(`--servers: some of ${KINDS.join(',')}`);
  const rounds = Number(get('rounds', '3'));
  if (!(Number.isInteger(rounds) && rounds >= 1 && rounds <= 9)) throw new Error('--rounds: 1..9');
  const unknown = Number(get('unknown', '0.2'));
  if (!(unknown > 0 && unknown < 1)) throw new Error('--unknown: a share between 0 and 1');
  const num = (name: string, def: string, min: number, max: number) => {
    const v = Number(get(name, def));
    if (!(v >= min && v <= max)) throw new Error(`--${name}: ${min}..${max}`);
    return v;
  };
  return {
    nodes, runs, servers, rounds, unknown,
    settleLoad: get('settle-load', '') ? num('settle-load', '1', 0.05, 64) : null,
    settleMaxS: num('settle-max-s', '900', 0, 7200),
    json: get('json', ''),
    md: get('md', ''),
    keep: get('keep', '') ? resolve(get('keep', '')) : null,
    loaderBytes: num('loader-kib', '1024', 1, 65536) * 1024,
    kernelBytes: num('kernel-mib', '8', 0.01, 1024) * 1024 * 1024,
    initrdBytes: num('initrd-mib', '60', 0.01, 4096) * 1024 * 1024,
    ping: a.includes('--dnsmasq-ping'),
    clientTimeoutS: num('client-timeout-s', '1800', 10, 7200),
    netrootNodeArgs: get('netroot-node-args', '').split(' ').filter(Boolean),
    netrootBin: get('netroot-bin', '') ? resolve(get('netroot-bin', '')) : undefined,
    verify: ((v: string): 'sha256' | 'bytes' => {
      if (v !== 'sha256' && v !== 'bytes') throw new Error('--verify: sha256 or bytes');
      return v;
    })(get('verify', 'sha256')),
  };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => process.stderr.write(`storm: ${s}\n`);

/** The namespace's counters from /proc/net/snmp and /proc/net/netstat ("Udp:RcvbufErrors", ...). */
async function netCounters(ns: Ns): Promise<Map<string, number>> {
  const { stdout } = await ns.run(['cat', '/proc/net/snmp', '/proc/net/netstat']);
  const lines = stdout.split('\n');
  const out = new Map<string, number>();
  // Each group is a line of names then a line of values, both starting with "Group:".
  for (let i = 0; i + 1 < lines.length; i++) {
    const names = lines[i]!.split(/\s+/);
    const values = lines[i + 1]!.split(/\s+/);
    if (names[0] !== values[0] || !names[0]!.endsWith(':') || !/^-?\d/.test(values[1] ?? '')) continue;
    const group = names[0]!.slice(0, -1);
    names.slice(1).forEach((name, k) => out.set(`${group}:${name}`, Number(values[k + 1])));
    i++;
  }
  return out;
}
const counter = (c: Map<string, number>, name: string) => c.get(name) ?? 0;

async function settle(threshold: number | null, maxS: number): Promise<string | null> {
  if (threshold === null) return null;
  const t0 = Date.now();
  while (loadavg()[0]! >= threshold) {
    if ((Date.now() - t0) / 1000 > maxS) return `load average still ${loadavg()[0]!.toFixed(2)} after waiting ${maxS} s (threshold ${threshold})`;
    await sleep(5000);
  }
  return null;
}

/** The client process while a storm runs (killed, by its PID, if the bench is interrupted). */
let clientChild: ChildProcess | null = null;

/** Runs the client process in the client namespace; resolves with its report. */
async function runClient(cli: Ns, planFile: string, outFile: string, logFile: string, timeoutS: number): Promise<ClientReport> {
  const [cmd, argv] = cli.wrap([process.execPath, CLIENT, planFile, outFile]);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  clientChild = child;
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const kill = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000);
  const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  clearTimeout(kill);
  clientChild = null;
  writeFileSync(logFile, out);
  if (code !== 0) throw new Error(`client exited ${code}:\n${out.slice(-4000)}`);
  return JSON.parse(readFileSync(outFile, 'utf8')) as ClientReport;
}

async function main() {
  const o = args();
  if (process.getuid?.() !== 0) throw new Error('run as root (network namespaces)');
  for (const c of ['ip', 'ss', ...(o.servers.includes('reference') ? ['dnsmasq', 'nginx'] : [])]) {
    if (!(await have(c))) throw new Error(`${c} is not installed (Debian: iproute2, dnsmasq, nginx-light)`);
  }
  const tmp = mkdtempSync(join(tmpdir(), 'netroot-storm-'));
  const lab = await Lab.create('storm');
  let current: Running | null = null;
  // Interrupted (Ctrl-C, kill): stop the server and delete the namespaces before going.
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${sig}: stopping the server and removing the namespaces`);
    void (async () => {
      clientChild?.kill('SIGKILL');
      await current?.stop().catch(() => undefined);
      await lab.destroy().catch(() => undefined);
      rmSync(tmp, { recursive: true, force: true });
      process.exit(130);
    })();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const summaries: StormSummary[] = [];
  const configs = new Map<string, string>();
  try {
    // The files every node fetches: random bytes, so no server can compress or dedupe them.
    const fdir = join(tmp, 'files');
    mkdirSync(fdir);
    const files: Files = { loader: join(fdir, LOADER_NAME), kernel: join(fdir, 'vmlinuz'), initrd: join(fdir, 'initrd.img') };
    const spec = {} as Record<keyof Files, { size: number; sha256: string; path: string }>;
    for (const [k, size] of [['loader', o.loaderBytes], ['kernel', o.kernelBytes], ['initrd', o.initrdBytes]] as const) {
      const b = randomBytes(Math.round(size));
      writeFileSync(files[k], b);
      spec[k] = { size: b.length, sha256: sha256(b), path: files[k] };
    }
    const srv = await lab.ns('srv');
    const cli = await lab.ns('cli');
    const { aIf, bIf } = await lab.link(srv, `${SERVER}/${PREFIX}`, cli, null);
    // Clients: no address on the link (DHCP from 0.0.0.0), node addresses as local routes.
    await cli.run(['ip', 'route', 'add', CIDR, 'dev', bIf]);
    await cli.run(['ip', 'route', 'add', 'local', KNOWN_RANGE, 'dev', 'lo']);
    await cli.run(['ip', 'route', 'add', 'local', POOL_RANGE, 'dev', 'lo']);
    // PXE firmware does not answer pings: nor do the simulated nodes (matters to dnsmasq's ping check).
    await cli.run(['sysctl', '-qw', 'net.ipv4.icmp_echo_ignore_all=1']);
    log(`namespaces ${srv.name} (${SERVER} on ${aIf}) and ${cli.name} (${bIf}); files in ${fdir}`);

    for (const n of o.nodes) {
      for (const run of o.runs) {
        const fleet: StormNode[] = stormFleet(n, run === 'pool' ? o.unknown : 0);
        const unknown = fleet.filter((x) => !x.known).length;
        const plan: Plan = {
          ifname: bIf,
          server: SERVER,
          nodes: fleet,
          pool: run === 'pool' ? { ...POOL } : null,
          loader: { name: LOADER_NAME, ...spec.loader },
          kernel: spec.kernel,
          initrd: spec.initrd,
          tftp: { blksize: 1468, timeoutMs: 4000, retries: 6 },
          httpIdleMs: 60_000,
          verify: o.verify,
          workers: 2,
        };
        const planFile = join(tmp, `plan-${n}-${run}.json`);
        writeFileSync(planFile, JSON.stringify(plan));
        for (let round = 1; round <= o.rounds; round++) {
          const order = round % 2 === 1 ? o.servers : [...o.servers].reverse();
          for (const [pos, kind] of order.entries()) {
            const tag = `${n}-${run}-r${round}-${kind}`;
            const dir = join(tmp, tag);
            mkdirSync(dir);
            const settleNote = await settle(o.settleLoad, o.settleMaxS);
            log(`${tag}: starting ${SERVER_LABEL[kind]} (load ${loadavg().map((x) => x.toFixed(2)).join('/')})`);
            const rootPath = join(tmp, `${n}-${run}-r${round}-netroot`, 'data', 'images', IMAGE, VERSION, 'root');
            current = kind === 'netroot'
              ? await startNetroot({ ns: srv, ifname: aIf, dir, nodes: fleet, pool: run === 'pool', files, nodeArgs: o.netrootNodeArgs, ...(o.netrootBin ? { bin: o.netrootBin } : {}) })
              : await startReference({ ns: srv, ifname: aIf, dir, nodes: fleet, pool: run === 'pool', files, rootPath, ping: o.ping });
            configs.set(`${kind}-${run}`, current.config);
            const roots = current.pids;
            current.mark();
            const cpu0 = treeCpu(processTree(roots));
            const net0 = [await netCounters(srv), await netCounters(cli)];
            const sampler = new RssSampler(roots);
            const loadStart = loadavg();
            sampler.start();
            let report: ClientReport;
            let rss = { peakRssKiB: 0, hwmKiB: 0 };
            try {
              report = await runClient(cli, planFile, join(dir, 'client-result.json'), join(dir, 'client.log'), o.clientTimeoutS);
            } finally {
              rss = sampler.stop();
            }
            const loadEnd = loadavg();
            const cpu1 = treeCpu(processTree(roots));
            const net1 = [await netCounters(srv), await netCounters(cli)];
            const delta = (side: 0 | 1, name: string) => counter(net1[side]!, name) - counter(net0[side]!, name);
            const problems = current.problems();
            await current.stop();
            current = null;
            const nodes = report.nodes;
            const before = new Map(cpu0.processes.map((p) => [p.pid, p.cpuSec]));
            const s: StormSummary = {
              server: kind, nodes: n, unknown, run, round, position: pos + 1,
              loadStart, loadEnd,
              lastNodeMs: lastNodeMs(nodes),
              booted: nodes.filter((x) => x.outcome === 'booted').length,
              refused: nodes.filter((x) => x.outcome === 'refused').length,
              failed: nodes.filter((x) => x.outcome === 'failed').length,
              stages: stageFigures(nodes),
              failureReasons: failureReasons(nodes),
              retransmits: {
                dhcp: nodes.reduce((a, x) => a + x.retransmits.dhcp, 0),
                tftp: nodes.reduce((a, x) => a + x.retransmits.tftp, 0),
                ipxeDhcp: nodes.reduce((a, x) => a + x.retransmits.ipxeDhcp, 0),
                tftpDuplicateData: nodes.reduce((a, x) => a + x.tftpDuplicates, 0),
              },
              serverCpuSec: cpu1.cpuSec - cpu0.cpuSec,
              serverProcesses: cpu1.processes.map((p) => ({ comm: p.comm, cpuSec: Math.round((p.cpuSec - (before.get(p.pid) ?? 0)) * 100) / 100 })),
              serverPeakRssMiB: rss.peakRssKiB / 1024,
              serverHwmMiB: rss.hwmKiB / 1024,
              clientCpuSec: report.cpuSec,
              clientMaxRssMiB: report.maxRssKiB / 1024,
              clientLoopDelayMs: { p99: report.loopDelayMs.p99, max: report.loopDelayMs.max },
              udpRcvbufErrors: { server: delta(0, 'Udp:RcvbufErrors'), client: delta(1, 'Udp:RcvbufErrors') },
              tcp: { retransSegs: delta(0, 'Tcp:RetransSegs'), timeouts: delta(0, 'TcpExt:TCPTimeouts'), listenDrops: delta(0, 'TcpExt:ListenDrops'), memoryPressures: delta(0, 'TcpExt:TCPMemoryPressures') + delta(1, 'TcpExt:TCPMemoryPressures') },
              notes: [
                ...(settleNote ? [settleNote] : []),
                ...(report.dhcpStray ? [`${report.dhcpStray} DHCP replies matched no exchange in progress`] : []),
                ...problems.map((p) => `log: ${p}`),
              ],
            };
            summaries.push(s);
            log(`${tag}: last node ${s.lastNodeMs === null ? '-' : (s.lastNodeMs / 1000).toFixed(2)} s, booted ${s.booted}, refused ${s.refused}, failed ${s.failed}; server CPU ${s.serverCpuSec.toFixed(1)} s, peak RSS ${s.serverPeakRssMiB.toFixed(0)} MiB; client CPU ${s.clientCpuSec.toFixed(1)} s, loop delay p99 ${s.clientLoopDelayMs.p99.toFixed(0)} ms; ` +
              `p50/p99 ${STAGES.map((x) => `${x} ${fmt(s.stages[x].p50Ms)}/${fmt(s.stages[x].p99Ms)}`).join(', ')}; load ${loadStart[0]!.toFixed(2)} -> ${loadEnd[0]!.toFixed(2)}` +
              (s.failureReasons.length ? `; failures: ${s.failureReasons.slice(0, 4).map((f) => `${f.count} x ${f.reason}`).join('; ')}` : ''));
            if (o.keep) cpSync(dir, join(o.keep, tag), { recursive: true, filter: (src) => !/\/(files|tftp|data\/images)(\/|$)/.test(src) });
            rmSync(dir, { recursive: true, force: true });
          }
        }
      }
    }
    const md = renderMarkdown(summaries);
    const cfgText = [...configs].map(([k, v]) => `### ${k}\n\n\`\`\`\n${v.trimEnd()}\n\`\`\``).join('\n\n');
    process.stdout.write(`${md}\nConfigurations:\n\n${cfgText}\n`);
    if (o.md) writeFileSync(o.md, `${md}\nConfigurations:\n\n${cfgText}\n`);
    if (o.json) writeFileSync(o.json, JSON.stringify({ args: process.argv.slice(2), verify: o.verify, files: spec, configs: Object.fromEntries(configs), storms: summaries }, null, 1));
  } finally {
    await current?.stop();
    await lab.destroy();
    rmSync(tmp, { recursive: true, force: true });
  }
}

const fmt = (ms: number | null) => (ms === null ? '-' : ms < 1000 ? `${ms.toFixed(0)}ms` : `${(ms / 1000).toFixed(2)}s`);

await main();
