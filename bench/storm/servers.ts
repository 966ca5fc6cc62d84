/**
 * The servers under test, each started fresh for one storm in the server namespace and stopped
 * after it: netroot as a user runs it (`node bin/netroot.js serve --config FILE`, nodes registered
 * with `netroot node import`), and the reference, dnsmasq (DHCP + TFTP) beside nginx (HTTP).
 * Output goes to log files, not through a pipe (the bench never slows a server by reading it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { linkSync, mkdirSync, openSync, closeSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Ns } from '../../test/helpers/netns.js';
import { openSqliteStore } from '../../server/store/sqlite/index.js';
import { maskNumbers } from './report.js';
import { dnsmasqConf, netrootConfig, netrootImport, nginxConf, referenceScripts } from './configs.js';
import { HTTP_PORT, IMAGE, LOADER_NAME, SERVER, VERSION, type StormNode } from './fleet.js';

/** bin/netroot.js of this checkout (dist/bench/storm -> ../../../bin). */
export const NETROOT_BIN = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../bin/netroot.js');

export interface Files {
  loader: string;
  kernel: string;
  initrd: string;
}

export interface Running {
  /** Root processes: their descendants (nginx workers) count too. */
  pids: number[];
  /** The configuration as given to the server (printed in the report). */
  config: string;
  logs: string[];
  /** Remembers where the logs end now: problems() reads only what comes after (the storm's part). */
  mark(): void;
  /** Lines of the logs since mark() that say something went wrong (errors, warnings), for the report. */
  problems(): string[];
  stop(): Promise<void>;
}

interface Proc {
  pid: number;
  child: ChildProcess;
  exited: Promise<number | null>;
}

function startLogged(ns: Ns, argv: string[], logFile: string): Proc {
  const fd = openSync(logFile, 'a');
  const [cmd, args] = ns.wrap(argv);
  const child = spawn(cmd, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${argv[0]}`);
  const exited = new Promise<number | null>((res) => {
    child.on('exit', (code, sig) => res(code ?? (sig ? -1 : null)));
    child.on('error', () => res(null));
  });
  // `ip netns exec` execs the command: the pid is the server's own.
  return { pid: child.pid, child, exited };
}

async function stopProc(p: Proc, graceMs = 15_000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const t = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(t);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, timeoutMs: number, p: Proc, logFile: string, ok: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) throw new Error(`${what}: the process exited; log:\n${tail(logFile)}`);
    if (await ok()) return;
    await sleep(200);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms; log:\n${tail(logFile)}`);
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

const read = (f: string) => {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return '';
  }
};

/** Log files read from a mark on (their length when mark() was called). */
class Logs {
  private from = new Map<string, number>();
  mark(files: string[]): void {
    for (const f of files) this.from.set(f, Buffer.byteLength(read(f)));
  }
  since(f: string): string {
    return Buffer.from(read(f)).subarray(this.from.get(f) ?? 0).toString('utf8');
  }
}

/** Distinct problem lines (numbers masked) with counts, most frequent first. */
export function summariseProblems(lines: string[], limit = 8): string[] {
  const m = new Map<string, number>();
  for (const l of lines) {
    const k = maskNumbers(l.replace(/"(time|pid|hostname|reqId)":[^,}]*,?/g, '').replace(/^\w{3} [ \d]\d [\d:]{8} /, '')).slice(0, 300);
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return [...m].sort((a, b) => b[1] - a[1]).slice(0, limit).map(([k, n]) => `${n} x ${k}`);
}

/** What both sides of a storm start from: the server namespace and link, the fleet, the files. */
export interface StormStart {
  ns: Ns;
  ifname: string;
  dir: string;
  nodes: StormNode[];
  pool: boolean;
  files: Files;
}

export interface NetrootStart extends StormStart {
  /** Extra node flags for the service (e.g. --cpu-prof --cpu-prof-dir DIR), for profiling only. */
  nodeArgs?: string[];
  /** bin/netroot.js to run (another built checkout with the same store schema); default this one's. */
  bin?: string;
}

/**
 * A data dir with the image version in place (store rows and files, as a published pull leaves
 * them: netroot has no way to make a version but a pull from a golden host), then
 * `netroot serve --config FILE`, then the nodes registered through the API with the CLI, as an
 * admin would; ready once every registered node has its state directory (the reconciler makes
 * them after an import) so that work is not inside the storm.
 */
export async function startNetroot(o: NetrootStart): Promise<Running> {
  const dataDir = join(o.dir, 'data');
  const boot = join(dataDir, 'images', IMAGE, VERSION, 'boot');
  mkdirSync(boot, { recursive: true });
  mkdirSync(join(dataDir, 'images', IMAGE, VERSION, 'root'), { recursive: true });
  linkSync(o.files.kernel, join(boot, 'vmlinuz'));
  linkSync(o.files.initrd, join(boot, 'initramfs.img'));
  const store = openSqliteStore(join(dataDir, 'netroot.db'));
  try {
    await store.images.create(IMAGE);
    await store.versions.create({ image: IMAGE, version: VERSION, state: 'ready', createdAt: Date.now(), kernel: null, error: null, kept: false, sizeBytes: null });
    await store.images.update(IMAGE, { activeVersion: VERSION });
  } finally {
    await store.close();
  }
  const configFile = join(o.dir, 'netroot.json');
  const config = JSON.stringify(netrootConfig({ dataDir, ifname: o.ifname, pool: o.pool, loaderPath: o.files.loader }), null, 2);
  writeFileSync(configFile, config + '\n');
  const logFile = join(o.dir, 'netroot.log');
  const bin = o.bin ?? NETROOT_BIN;
  const p = startLogged(o.ns, [process.execPath, ...(o.nodeArgs ?? []), bin, 'serve', '--config', configFile], logFile);
  const logs = new Logs();
  const running: Running = {
    pids: [p.pid],
    config: `netroot.json (node ${bin === NETROOT_BIN ? 'bin/netroot.js' : bin} serve --config netroot.json):\n${config}`,
    logs: [logFile],
    mark: () => logs.mark([logFile]),
    problems: () => summariseProblems(logs.since(logFile).split('\n').filter((l) => /"level":("warn"|"error"|"fatal"|40|50|60)\b/.test(l))),
    stop: () => stopProc(p, 30_000),
  };
  try {
    await until('netroot start', 60_000, p, logFile, () => {
      const log = read(logFile);
      return log.includes('"msg":"netroot started"') && log.includes('dhcp: serving') && log.includes('tftp: serving');
    });
    const tokenFile = /initial admin API token written to (\S+) /.exec(read(logFile))?.[1];
    if (!tokenFile) throw new Error(`netroot: no initial token in the log:\n${tail(logFile)}`);
    const token = readFileSync(tokenFile, 'utf8').trim();
    const importFile = join(o.dir, 'nodes.json');
    const known = netrootImport(o.nodes);
    writeFileSync(importFile, JSON.stringify(known));
    await o.ns.run([process.execPath, bin, 'node', 'import', importFile, '--url', `http://${SERVER}:${HTTP_PORT}`, '--token', token], { timeoutMs: 120_000 });
    await until('netroot state directories', 180_000, p, logFile, () => {
      try {
        return readdirSync(join(dataDir, 'state')).filter((e) => !e.startsWith('.')).length >= known.length;
      } catch {
        return false;
      }
    });
    await sleep(2000);
    return running;
  } catch (e) {
    await running.stop();
    throw e;
  }
}

export interface ReferenceStart extends StormStart {
  /** The root path netroot's scripts carry (same shape, so the scripts are the same size). */
  rootPath: string;
  ping: boolean;
}

async function listening(ns: Ns, proto: 'u' | 't', port: number): Promise<boolean> {
  const { stdout } = await ns.run(['ss', `-Hln${proto}`, `sport = :${port}`]);
  return stdout.trim().length > 0;
}

/** dnsmasq (DHCP + TFTP) and nginx (HTTP) with the same fleet, files and scripts. */
export async function startReference(o: ReferenceStart): Promise<Running> {
  const tftpRoot = join(o.dir, 'tftp');
  const files = join(o.dir, 'files');
  const scripts = join(o.dir, 'scripts');
  for (const d of [tftpRoot, files, scripts, join(o.dir, 'tmp')]) mkdirSync(d, { recursive: true });
  linkSync(o.files.loader, join(tftpRoot, LOADER_NAME));
  linkSync(o.files.kernel, join(files, 'vmlinuz'));
  linkSync(o.files.initrd, join(files, 'initrd.img'));
  for (const [name, text] of referenceScripts(o.nodes, o.rootPath)) writeFileSync(join(scripts, name), text);
  const dnsmasqFile = join(o.dir, 'dnsmasq.conf');
  const dnsmasqText = dnsmasqConf({
    ifname: o.ifname, nodes: o.nodes, pool: o.pool, tftpRoot, leaseFile: join(o.dir, 'dnsmasq.leases'), pidFile: join(o.dir, 'dnsmasq.pid'), logFile: join(o.dir, 'dnsmasq.log'), ping: o.ping,
  });
  writeFileSync(dnsmasqFile, dnsmasqText);
  const nginxFile = join(o.dir, 'nginx.conf');
  const errorLog = join(o.dir, 'nginx-error.log');
  const nginxText = nginxConf({ prefix: o.dir, scriptsDir: scripts, filesDir: files, pidFile: join(o.dir, 'nginx.pid'), errorLog, accessLog: join(o.dir, 'nginx-access.log') });
  writeFileSync(nginxFile, nginxText);
  const dlog = join(o.dir, 'dnsmasq.out');
  const nlog = join(o.dir, 'nginx.out');
  const dnsmasq = startLogged(o.ns, ['dnsmasq', '-k', '-C', dnsmasqFile], dlog);
  let nginx: Proc | null = null;
  const shown = (text: string, max = 12) => {
    const lines = text.trimEnd().split('\n');
    return lines.length <= max + 4 ? text : [...lines.slice(0, max), `... (${lines.length - max - 3} more dhcp-host lines, one per registered node)`, ...lines.slice(-3)].join('\n') + '\n';
  };
  const logs = new Logs();
  const dnsmasqLog = join(o.dir, 'dnsmasq.log');
  const running: Running = {
    pids: [dnsmasq.pid],
    config: `dnsmasq.conf (dnsmasq -k -C dnsmasq.conf):\n${shown(dnsmasqText)}\nnginx.conf (nginx -c nginx.conf):\n${nginxText}`,
    logs: [dlog, nlog, dnsmasqLog, errorLog],
    mark: () => logs.mark([dnsmasqLog, errorLog]),
    problems: () => summariseProblems([
      ...logs.since(dnsmasqLog).split('\n').filter((l) => /fail|error|warn|refus|cannot|unable|no address|exhausted|maximum/i.test(l)),
      ...logs.since(errorLog).split('\n').filter((l) => l.trim()),
    ]),
    stop: async () => {
      if (nginx) await stopProc(nginx);
      await stopProc(dnsmasq);
    },
  };
  try {
    nginx = startLogged(o.ns, ['nginx', '-c', nginxFile, '-p', o.dir, '-e', errorLog], nlog);
    running.pids.push(nginx.pid);
    await until('dnsmasq start', 30_000, dnsmasq, dlog, async () => (await listening(o.ns, 'u', 67)) && (await listening(o.ns, 'u', 69)));
    await until('nginx start', 30_000, nginx, nlog, () => listening(o.ns, 't', HTTP_PORT));
    await sleep(2000);
    return running;
  } catch (e) {
    await running.stop();
    throw e;
  }
}
