/**
 * The end-to-end set-up, shared by the test (test/e2e/boot.test.ts), the timing bench
 * (bench/e2e) and the interactive lab (npm run lab): boot network + Ganesha + netroot (built
 * project, fresh data dir, DHCP full mode on the lab bridge, TFTP and HTTP boot) + the golden host
 * with netroot's key. Everything after that goes through netroot's REST API only.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNetroot, type Netroot } from '../../helpers/service.js';
import { ensureRoot } from './root-cache.js';
import { createBootNet, NET, type BootNet } from './network.js';
import { startGanesha, type Ganesha } from './ganesha.js';
import { startGoldenHost, type GoldenHost } from './golden-host.js';

export const HTTP_PORT = 8080;
export const GOLDEN_NAME = 'golden';

export interface E2eLab {
  dir: string;
  root: string;
  net: BootNet;
  ganesha: Ganesha;
  nr: Netroot;
  golden: GoldenHost;
  /** The API (through curl in the boot namespace); throws on a non-2xx answer, naming the call. */
  api(method: string, path: string, body?: unknown): Promise<any>;
  say(msg: string): void;
  destroy(): Promise<void>;
}

export interface E2eLabOptions {
  say?: (msg: string) => void;
  /** Keep the run dir (data dir, logs) after destroy, for a post-mortem. */
  keep?: boolean;
  /** Extra netroot config, merged over the lab's. */
  config?: Record<string, unknown>;
}

/** netroot's config in the lab: DHCP full mode on the bridge, boot over TFTP + HTTP, Ganesha. */
export function netrootConfig(dataDir: string, ganesha: Ganesha): Record<string, unknown> {
  return {
    dataDir,
    http: { listen: NET.server, port: HTTP_PORT },
    log: { level: 'info' },
    // nfs4: Ganesha serves NFSv4 only (no rpcbind); dracut's nfs4: root skips the v3 probe.
    boot: { serverAddress: NET.server, nfs: 'nfs4' },
    tftp: { enabled: true },
    dhcp: {
      interfaces: [NET.bridge],
      mode: 'full',
      detectRivalsAtStart: false,
      subnets: [{ cidr: NET.cidr, domain: NET.domain, serverAddress: NET.server }],
    },
    nfs: ganesha.netrootConfig([NET.cidr]),
  };
}

export async function createE2eLab(o: E2eLabOptions = {}): Promise<E2eLab> {
  const say = o.say ?? (() => undefined);
  const t0 = Date.now();
  say('golden root: looking for the cached Debian root (a fresh machine builds it: ~4-5 min)');
  let lines = 0;
  const root = await ensureRoot((l) => {
    if (++lines % 200 === 0 || /^debootstrap|^E:|error/i.test(l)) say(`  ${l}`);
  });
  say(`golden root: ${root} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  const dir = await mkdtemp(join(tmpdir(), 'netroot-e2e-'));
  const undo: (() => Promise<unknown>)[] = [];
  const destroy = async () => {
    for (const u of undo.reverse()) await u().catch((e) => say(`cleanup: ${(e as Error).message}`));
    undo.length = 0;
    if (!o.keep) await rm(dir, { recursive: true, force: true });
  };
  try {
    const net = await createBootNet(join(dir, 'net'));
    undo.push(() => net.destroy());
    say(`network: namespace ${net.boot.name} (bridge ${NET.bridge} ${NET.server}/24, tap ${NET.tap}, radvd), golden namespace ${net.golden.name} (${NET.golden})`);
    const ganesha = await startGanesha(net.boot, join(dir, 'ganesha'));
    undo.push(() => ganesha.stop());
    say(`nfs-ganesha: running in ${net.boot.name}, config ${ganesha.mainConfig}`);
    const dataDir = join(dir, 'data');
    await mkdir(dataDir, { recursive: true });
    const cfg = { ...netrootConfig(dataDir, ganesha), ...o.config };
    const nr = await startNetroot({ dataDir, wrap: ['ip', 'netns', 'exec', net.boot.name], config: cfg });
    undo.push(() => nr.stop());
    say(`netroot: ${nr.url} (data dir ${dataDir})`);
    const api = async (method: string, path: string, body?: unknown) => {
      const r = await nr.api(method, path, body);
      if (r.status < 200 || r.status >= 300) throw new Error(`${method} ${path} -> ${r.status}: ${JSON.stringify(r.body)}`);
      return r.body;
    };
    const key = await api('GET', '/ssh/key');
    if (typeof key?.publicKey !== 'string') throw new Error(`GET /ssh/key: no publicKey in ${JSON.stringify(key)}`);
    const golden = await startGoldenHost({ ns: net.golden, root, dir: join(dir, 'golden'), address: NET.golden, authorizedKey: key.publicKey });
    undo.push(() => golden.stop());
    say(`golden host: sshd on ${NET.golden}:22 chrooted into an overlay of the cached root, netroot's key authorised`);
    return { dir, root, net, ganesha, nr, golden, api, say, destroy };
  } catch (e) {
    await destroy();
    throw e;
  }
}
