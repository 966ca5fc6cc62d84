/**
 * NFS-Ganesha in the boot namespace, started the way a system service would run it
 * (`ganesha.nfsd -F -f CONF -L LOG -p PID`), with the main config docs/lab.md asks for (traps 3,
 * 4 and 12: NFSv4 only, no rpcbind, Graceless, Only_Numeric_Owners, its own RecoveryRoot) and an
 * `%include` of the exports file netroot owns. netroot is configured with these paths
 * (nfs.backend 'ganesha') and reloads Ganesha itself when its table changes. Stopped by PID.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { renderGaneshaMainConfig } from '../../../exports/nfs/ganesha-format.js';
import type { Ns } from '../../helpers/netns.js';
import type { Started } from '../../helpers/proc.js';

export interface Ganesha {
  mainConfig: string;
  exportsFile: string;
  pidFile: string;
  logFile: string;
  /** The `nfs` section of netroot's config for this Ganesha. */
  netrootConfig(nodeNetworks: string[]): Record<string, unknown>;
  /** The last lines of Ganesha's log (for failure reports). */
  logTail(lines?: number): Promise<string>;
  stop(): Promise<void>;
}

async function waitForLog(path: string, re: RegExp, timeoutMs: number, proc: Started): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFile(path, 'utf8').catch(() => '');
    if (re.test(text)) return;
    if (proc.child.exitCode !== null) throw new Error(`ganesha.nfsd exited (${proc.child.exitCode}):\n${text.slice(-3000)}\n${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`timeout waiting for ${re} in ${path}:\n${text.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function startGanesha(ns: Ns, dir: string): Promise<Ganesha> {
  if (!existsSync('/usr/bin/ganesha.nfsd')) throw new Error('ganesha.nfsd missing: install nfs-ganesha nfs-ganesha-vfs (scripts/deps/e2e.txt)');
  await mkdir(join(dir, 'recovery'), { recursive: true });
  const exportsFile = join(dir, 'netroot-exports.conf');
  const mainConfig = join(dir, 'ganesha.conf');
  const pidFile = join(dir, 'ganesha.pid');
  const logFile = join(dir, 'ganesha.log');
  // netroot rewrites this file; Ganesha must find it (empty) at its first start.
  if (!existsSync(exportsFile)) await writeFile(exportsFile, '');
  // Graceless: the default grace period delays the first mount by up to 90 s (docs/lab.md, trap 4).
  // Its own recovery root: the default /var/lib/nfs/ganesha is shared by every Ganesha here.
  await writeFile(mainConfig, renderGaneshaMainConfig({ includePath: exportsFile, graceless: true, recoveryRoot: join(dir, 'recovery') }));
  // A fresh log: the start is detected by a line in it, never one from an earlier run.
  await writeFile(logFile, '');
  const proc = ns.start(['ganesha.nfsd', '-F', '-f', mainConfig, '-L', logFile, '-p', pidFile]);
  await waitForLog(logFile, /NFS SERVER INITIALIZED/, 60_000, proc);
  return {
    mainConfig, exportsFile, pidFile, logFile,
    netrootConfig: (nodeNetworks) => ({
      backend: 'ganesha',
      nodeNetworks,
      debounceMs: 50,
      ganesha: { exportsFile, pidFile, logPath: logFile, mainConfig },
    }),
    async logTail(lines = 40) {
      const t = await readFile(logFile, 'utf8').catch(() => '');
      return t.split('\n').slice(-lines).join('\n');
    },
    async stop() {
      // `ip netns exec` execs ganesha.nfsd in place: the PID we started is Ganesha's own.
      await proc.stop(10_000);
    },
  };
}
