/**
 * A network-namespace lab for NFS-Ganesha: a server namespace with a bridge (10.53.0.1/16) and
 * two node namespaces (10.53.1.5 = node A, 10.53.1.6 = node B), Ganesha started as docs/lab.md
 * describes (traps 3, 4 and 12: NFSv4 only, no rpcbind, Graceless, Only_Numeric_Owners) and
 * stopped by PID, and libnfs-utils clients run inside the node namespaces. Addresses stay inside
 * the namespaces.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderGaneshaMainConfig } from '../../../exports/nfs/ganesha-format.js';
import { Lab, type Ns } from '../../helpers/netns.js';
import type { Started } from '../../helpers/proc.js';

export const SERVER_IP = '10.53.0.1';
export const NODE_A = { fqdn: 'a.lab.test', ipv4: '10.53.1.5' };
export const NODE_B = { fqdn: 'b.lab.test', ipv4: '10.53.1.6' };

export interface GaneshaLab {
  dir: string;
  imagesDir: string;
  stateDir: string;
  exportsFile: string;
  pidFile: string;
  logFile: string;
  mainConf: string;
  a: Ns;
  b: Ns;
  startGanesha(): Promise<void>;
  /** Runs a libnfs-utils tool in a node namespace; never throws, returns exit code and output. */
  nfs(ns: Ns, argv: string[]): Promise<{ code: number; out: string }>;
  url(path: string): string;
  destroy(): Promise<void>;
}

async function waitForLog(path: string, re: RegExp, timeoutMs: number, ganesha: Started): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFile(path, 'utf8').catch(() => '');
    if (re.test(text)) return;
    if (ganesha.child.exitCode !== null) throw new Error(`ganesha.nfsd exited (${ganesha.child.exitCode}):\n${text}\n${ganesha.output()}`);
    if (Date.now() > deadline) throw new Error(`timeout waiting for ${re} in ${path}:\n${text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function createGaneshaLab(opts: { precreateState?: boolean } = {}): Promise<GaneshaLab> {
  const dir = await mkdtemp(join(tmpdir(), 'nr-ganesha-lab-'));
  const lab = await Lab.create('nfs');
  let ganesha: Started | null = null;
  try {
    const srv = await lab.ns('srv');
    const a = await lab.ns('a');
    const b = await lab.ns('b');
    await lab.bridge(srv, 'br0', `${SERVER_IP}/16`);
    for (const [ns, ip] of [[a, NODE_A.ipv4], [b, NODE_B.ipv4]] as const) {
      const { aIf } = await lab.link(srv, null, ns, `${ip}/16`);
      await srv.run(['ip', 'link', 'set', aIf, 'master', 'br0']);
    }
    const imagesDir = join(dir, 'images');
    const stateDir = join(dir, 'state');
    await mkdir(join(imagesDir, 'debian/1/root/etc'), { recursive: true });
    await writeFile(join(imagesDir, 'debian/1/root/etc/hostname-template'), 'netroot root image\n');
    await mkdir(stateDir, { recursive: true });
    if (opts.precreateState ?? true) for (const n of [NODE_A, NODE_B]) await mkdir(join(stateDir, n.fqdn));
    const exportsFile = join(dir, 'netroot.conf');
    const mainConf = join(dir, 'ganesha.conf');
    // Its own recovery root: the default /var/lib/nfs/ganesha is shared by every Ganesha on the machine.
    await mkdir(join(dir, 'recovery'));
    await writeFile(mainConf, renderGaneshaMainConfig({ includePath: exportsFile, graceless: true, recoveryRoot: join(dir, 'recovery') }));
    const pidFile = join(dir, 'ganesha.pid');
    const logFile = join(dir, 'ganesha.log');
    return {
      dir, imagesDir, stateDir, exportsFile, pidFile, logFile, mainConf, a, b,
      async startGanesha() {
        ganesha = srv.start(['ganesha.nfsd', '-F', '-f', mainConf, '-L', logFile, '-p', pidFile]);
        await waitForLog(logFile, /NFS SERVER INITIALIZED/, 30_000, ganesha);
      },
      async nfs(ns, argv) {
        try {
          const r = await ns.run(argv, { timeoutMs: 30_000 });
          return { code: 0, out: r.stdout + r.stderr };
        } catch (e) {
          return { code: 1, out: (e as Error).message };
        }
      },
      url: (path) => `nfs://${SERVER_IP}${path}?version=4`,
      async destroy() {
        // `ip netns exec` execs ganesha.nfsd in place, so the PID we started is Ganesha's own.
        if (ganesha) await ganesha.stop(10_000);
        await lab.destroy();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    if (ganesha) await (ganesha as Started).stop(5000);
    await lab.destroy();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}
