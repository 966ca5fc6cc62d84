/**
 * The golden-host lab shared by the integration tests: a fixture root served by a real sshd on
 * 127.0.0.1, netroot's key pair and known_hosts, an images dir and in-memory stores.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFixtureRoot } from '../../fixtures/golden/build-root.js';
import { startSshd, type TestSshd } from './sshd.js';
import { ensureKeyPair, fetchHostKey, pinKey, type GoldenHost, type SshIdentity } from '../../../exports/golden/index.js';
import { MemoryVersionStore, MemoryPullLock, type ImageSettings, type PullOptions } from '../../../exports/image/index.js';

export const image: ImageSettings = {
  name: 'fixture', host: 'golden1', excludes: ['/var/cache/skip/*'], rwtab: [{ type: 'empty', path: '/var/cache/app' }],
  statetab: ['/var/lib/app'], kernelArgs: '', drivers: ['virtio_net'],
  state: { kind: 'diskless', server: '10.0.0.1', stateExport: '/var/lib/netroot/state' }, hostKeys: 'state', initramfs: 'golden',
};

/** A key the golden host's admin authorised besides netroot's: it stays in the images. */
export const OTHER_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherOtherOtherOtherOtherOtherOtherOther0 admin@desk';

export interface Lab {
  tmp: string;
  sshd: TestSshd;
  host: GoldenHost;
  identity: SshIdentity;
  fixture: string;
  imagesDir: string;
  publicKey: string;
  store: MemoryVersionStore;
  lock: MemoryPullLock;
  opts(over?: Partial<PullOptions>): PullOptions;
  /** Fetches the host key and pins it (what the admin's confirmation does). */
  pin(): Promise<void>;
  stop(): Promise<void>;
}

/** build: makes the golden root (default: the Debian-like fixture of build-root.ts). */
export async function startLab(build: (dir: string) => Promise<unknown> = (d) => buildFixtureRoot(d)): Promise<Lab> {
  const tmp = await mkdtemp(join(tmpdir(), 'netroot-golden-'));
  const fixture = join(tmp, 'golden-root');
  await build(fixture);
  const kp = await ensureKeyPair(join(tmp, 'netroot-ssh'));
  // The golden host authorises netroot's key as an admin would (the test sshd reads its own copy).
  await writeFile(join(fixture, 'root/.ssh/authorized_keys'), `${OTHER_KEY}\n${kp.publicKey}\n`, { mode: 0o600 });
  await writeFile(join(fixture, 'root/.ssh/authorized_keys2'), `from="127.0.0.1" ${kp.publicKey.split(' ').slice(0, 2).join(' ')} pull\n`, { mode: 0o600 });
  await mkdir(join(fixture, 'var/lib/svc/.ssh'), { recursive: true });
  await writeFile(join(fixture, 'var/lib/svc/.ssh/authorized_keys'), `${kp.publicKey}\n${OTHER_KEY}\n`, { mode: 0o600 });
  const identity = { privateKeyPath: kp.privateKeyPath, knownHostsPath: join(tmp, 'netroot-ssh/known_hosts') };
  let sshd: TestSshd;
  try {
    sshd = await startSshd(join(tmp, 'sshd'), kp.publicKey);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  const host = { name: 'golden1', address: '127.0.0.1', port: sshd.port, user: 'root', sourcePath: fixture };
  const imagesDir = join(tmp, 'images');
  const store = new MemoryVersionStore();
  const lock = new MemoryPullLock();
  return {
    tmp, sshd, host, identity, fixture, imagesDir, publicKey: kp.publicKey, store, lock,
    opts: (over = {}) => ({
      image, host, identity, imagesDir, prev: null, store, lock, bootReport: { server: '10.0.0.1', port: 8080 },
      tools: { dracut: join(fixture, 'usr/bin/dracut'), lsinitrd: join(fixture, 'usr/bin/lsinitrd') },
      ...over,
    }),
    async pin() {
      await pinKey(identity.knownHostsPath, '127.0.0.1', sshd.port, (await fetchHostKey('127.0.0.1', sshd.port)).blob);
    },
    async stop() {
      await sshd.stop();
      await rm(tmp, { recursive: true, force: true });
    },
  };
}

/** Child PIDs of `parent` (default: this process) whose argv[0] is `name` ('' = any). */
export function ourChildren(name: string, parent = process.pid): number[] {
  const out: number[] = [];
  for (const t of readdirSync(`/proc/${parent}/task`)) {
    const kids = readFileSync(`/proc/${parent}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    for (const k of kids) {
      let cmd: string[];
      try {
        cmd = readFileSync(`/proc/${k}/cmdline`, 'utf8').split('\0');
      } catch {
        continue; // exited meanwhile
      }
      if (name === '' || cmd[0] === name) out.push(k);
    }
  }
  return out;
}
