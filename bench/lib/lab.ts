/**
 * The bench network: a server namespace and a client namespace joined by one veth pair, in
 * 10.89.0.0/24 (private to the two namespaces, deleted at the end). Each server under test gets
 * an address of its own on the server side, so all can run at once on their standard ports.
 * Also the small things every bench needs: its options, a server's start and stop, a sleep.
 */
import type { SpawnOptions } from 'node:child_process';
import { Lab, type Ns } from '../../test/helpers/netns.js';
import { start, type Started } from '../../test/helpers/proc.js';
import { CpuGroup } from './cpugroup.js';

export const CLIENT_IP = '10.89.0.100';
export const serverIp = (i: number) => `10.89.0.${i + 1}`;

export interface BenchNet {
  lab: Lab;
  srv: Ns;
  cli: Ns;
  srvIf: string;
  cliIf: string;
}

/** Namespaces `<tag>-srv` and `<tag>-cli`; the server side holds `servers` addresses (10.89.0.1 ...). */
export async function benchNet(tag: string, servers: number): Promise<BenchNet> {
  if (process.getuid?.() !== 0) throw new Error('run as root (network namespaces)');
  const lab = await Lab.create(tag);
  try {
    const srv = await lab.ns('srv');
    const cli = await lab.ns('cli');
    const { aIf, bIf } = await lab.link(srv, `${serverIp(0)}/24`, cli, `${CLIENT_IP}/24`);
    for (let i = 1; i < servers; i++) await srv.run(['ip', 'addr', 'add', `${serverIp(i)}/24`, 'dev', aIf]);
    return { lab, srv, cli, srvIf: aIf, cliIf: bIf };
  } catch (e) {
    await lab.destroy();
    throw e;
  }
}

/** A server under test: its name in the tables, its process (the root of its tree), its CPU group, how it ran. */
export interface Server {
  name: string;
  address: string;
  proc: Started;
  group: CpuGroup;
  how: string;
}

/** Starts `argv` inside `ns` and a new CPU group; the pid is the server's own (both wrappers exec). */
export async function startIn(ns: Ns, name: string, argv: string[], opts: SpawnOptions = {}): Promise<{ proc: Started; group: CpuGroup }> {
  const group = await CpuGroup.create(name);
  const [cmd, args] = ns.wrap(argv);
  const full = group.wrap([cmd, ...args]);
  return { proc: start(full[0]!, full.slice(1), opts), group };
}

export async function stopAll(servers: { proc: Started; group: CpuGroup }[]): Promise<void> {
  for (const s of servers) {
    await s.proc.stop(10_000);
    await s.group.remove();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once `ns` has a UDP or TCP socket on `address:port`, or throws naming the server. */
export async function waitForSocket(ns: Ns, proto: 'udp' | 'tcp', address: string, port: number, s: { name: string; proc: Started }, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (s.proc.child.exitCode !== null) throw new Error(`${s.name} exited at start:\n${s.proc.output().slice(-4000)}`);
    const { stdout } = await ns.run(['ss', '-Hn', proto === 'udp' ? '-ul' : '-tl', `( sport = :${port} )`]);
    // A socket bound to a device shows as 0.0.0.0%va0:67.
    const lines = stdout.split('\n').map((l) => l.replace(/%\S+?:/g, ':'));
    if (lines.some((l) => l.includes(`${address}:${port}`) || l.includes(`0.0.0.0:${port}`) || l.includes(`*:${port}`))) return;
    await sleep(200);
  }
  throw new Error(`${s.name} did not listen on ${address}:${port}/${proto} within ${timeoutMs} ms:\n${s.proc.output().slice(-4000)}`);
}

/** `--name value` or `--name=value`, else `dflt`. */
export function option(name: string, dflt: string, argv = process.argv): string {
  const eq = argv.find((x) => x.startsWith(`--${name}=`));
  if (eq) return eq.slice(name.length + 3);
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
}

/** An integer option within [min, max]; the error names the option. */
export function intOption(name: string, dflt: number, min: number, max: number, argv = process.argv): number {
  const v = Number(option(name, String(dflt), argv));
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`--${name}: an integer from ${min} to ${max}`);
  return v;
}

/** A comma list option whose items must all be in `allowed`. */
export function listOption(name: string, dflt: readonly string[], allowed: readonly string[], argv = process.argv): string[] {
  const v = option(name, dflt.join(','), argv).split(',').filter(Boolean);
  const bad = v.filter((x) => !allowed.includes(x));
  if (bad.length) throw new RangeError(`--${name}: unknown ${bad.join(', ')} (known: ${allowed.join(', ')})`);
  return v;
}

/** Default result path: bench/<name>/results/<name>-<time> in this checkout, or --out. */
export function resultBase(name: string, repoRoot: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  return option('out', `${repoRoot}/bench/${name}/results/${name}-${stamp}`);
}
