/**
 * netroot as a user runs it: a config file and `node bin/netroot.js serve --config FILE`, inside
 * the bench's server namespace. The config file's text goes into the report as it was written.
 * The store may be filled first (nodes, an image with a ready, active version and its boot files),
 * as it would be after an import and a pull; serve then opens that same database.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Ns } from '../../test/helpers/netns.js';
import type { Started } from '../../test/helpers/proc.js';
import { openSqliteStore } from '../../server/store/sqlite/index.js';
import type { CpuGroup } from './cpugroup.js';
import { startIn } from './lab.js';

/** The checkout's root and its bin/netroot.js (from dist/bench/lib). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
export const NETROOT_BIN = join(REPO_ROOT, 'bin/netroot.js');

export interface NetrootRun {
  proc: Started;
  group: CpuGroup;
  configPath: string;
  /** Command line and config text, for the report. */
  how: string;
}

/**
 * Writes `config` to <dir>/netroot.json and starts `netroot serve` in `ns`; resolves once it has
 * started and its start-up pass of the reconciler has ended (it makes every registered node's
 * state directory: with 10,000 nodes that work shares the event loop for a second or more, and
 * measured DHCP's p99 at 1,000/s, 2-20x higher, when it overlapped the measurement).
 */
export async function startNetroot(ns: Ns, dir: string, config: Record<string, unknown>, nodeArgs: string[] = []): Promise<NetrootRun> {
  await mkdir(dir, { recursive: true });
  const configPath = join(dir, 'netroot.json');
  const text = `${JSON.stringify(config, null, 2)}\n`;
  await writeFile(configPath, text);
  const argv = [process.execPath, ...nodeArgs, NETROOT_BIN, 'serve', '--config', configPath];
  // `ip netns exec` execs the command: the pid is netroot's own.
  const { proc, group } = await startIn(ns, 'netroot', argv, { env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' } });
  await proc.waitFor(/"msg":"netroot started"/, 60_000);
  await proc.waitFor(/"msg":"reconcile: NFS side (matches the registry|still lacks something)"/, 120_000);
  return { proc, group, configPath, how: `ip netns exec <server ns> ${argv.map((a) => (a === process.execPath ? 'node' : a.replace(/^.*\/bin\/netroot\.js$/, 'bin/netroot.js'))).join(' ')}\n\n${configPath}:\n${text}` };
}

export interface SeedNode {
  mac: string;
  ipv4: string;
  fqdn: string;
}

export interface Seed {
  nodes: SeedNode[];
  /** Image "bench", version "1", ready and active, with these files in its boot/ directory. */
  bootFiles?: { kernel: string; initrd: string };
}

/**
 * Fills <dataDir>/netroot.db before netroot starts: the nodes (state mode "local", so no state
 * directories are made meanwhile; DHCP and HTTP answers do not depend on it) and image "bench".
 * Boot files are hard-linked or copied by the caller into the returned boot directory.
 */
export async function seedStore(dataDir: string, seed: Seed): Promise<{ bootDir: string }> {
  const store = openSqliteStore(join(dataDir, 'netroot.db'));
  const bootDir = join(dataDir, 'images', 'bench', '1', 'boot');
  try {
    await store.images.create('bench');
    await store.versions.create({ image: 'bench', version: '1', state: 'ready', createdAt: Date.now(), kernel: null, error: null, kept: false, sizeBytes: null });
    await store.images.update('bench', { activeVersion: '1' });
    if (seed.nodes.length) {
      await store.nodes.createMany(seed.nodes.map((n) => ({
        mac: n.mac, fqdn: n.fqdn, ipv4: n.ipv4, image: 'bench', pinnedVersion: null, kernelArgs: '', bootMode: 'ipxe', stateMode: 'local', enabled: true,
      })));
    }
  } finally {
    await store.close();
  }
  await mkdir(bootDir, { recursive: true });
  await mkdir(join(dataDir, 'images', 'bench', '1', 'root'), { recursive: true });
  return { bootDir };
}
