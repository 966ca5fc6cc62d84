/**
 * The golden host's Debian root, built once with debootstrap and cached under
 * /var/cache/netroot-e2e/root-<hash of the recipe>/ so later runs on the same machine (CI included)
 * reuse it. Built into a temp dir beside it and renamed into place when complete, so a crashed
 * build never leaves a half root that looks cached. About 4 minutes fresh, ~750 MB (docs/lab.md,
 * trap 15).
 *
 *   node dist/test/e2e/lab/root-cache.js     # self-test: builds (or finds) the root, checks it
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';

export const CACHE_DIR = process.env.NETROOT_E2E_CACHE ?? '/var/cache/netroot-e2e';

/** Everything that decides the root's content; its hash names the cache entry. */
export const RECIPE = {
  suite: 'bookworm',
  variant: 'minbase',
  include: ['systemd-sysv', 'udev', 'kmod', 'iproute2', 'procps', 'nfs-common'],
  // dracut-network + isc-dhcp-client: the initramfs's NFS root (docs/lab.md, trap 2, network-legacy);
  // openssh-server + rsync: the golden host's side of a pull.
  packages: ['dracut', 'dracut-network', 'linux-image-amd64', 'isc-dhcp-client', 'openssh-server', 'rsync'],
  dracutConf: 'hostonly="no"\nadd_dracutmodules+=" network-legacy nfs "\n',
  setup: [
    // A shell on the serial console without a password (docs/lab.md, trap 13: pass = login prompt
    // seen; the test then sends its checks over the same console). agetty still prints
    // "<host> login:".
    'mkdir -p /etc/systemd/system/serial-getty@ttyS0.service.d',
    "printf '[Service]\\nExecStart=\\nExecStart=-/sbin/agetty --autologin root --keep-baud 115200,57600,38400,9600 %%I $TERM\\n' > /etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf",
    'echo root:netroot | chpasswd',
    'echo golden > /etc/hostname',
    // Quieter, shorter boots under emulation: nothing here needs these on a lab node.
    'systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer 2>/dev/null || true',
    'apt-get clean',
    'rm -rf /var/lib/apt/lists/*',
  ],
  version: 1,
};

export function recipeHash(): string {
  return createHash('sha256').update(JSON.stringify(RECIPE)).digest('hex').slice(0, 12);
}

export function cachedRootPath(): string {
  return join(CACHE_DIR, `root-${recipeHash()}`);
}

/** The Debian mirror this machine uses (first URIs: line of debian.sources, else sources.list). */
export function debianMirror(): string {
  const sources = '/etc/apt/sources.list.d/debian.sources';
  if (existsSync(sources)) {
    const m = /^URIs:\s*(\S+)/m.exec(readFileSync(sources, 'utf8'));
    if (m) return m[1]!;
  }
  if (existsSync('/etc/apt/sources.list')) {
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+\s+main/m.exec(readFileSync('/etc/apt/sources.list', 'utf8'));
    if (m) return m[1]!;
  }
  return 'http://deb.debian.org/debian';
}

/** Runs argv, streaming its output to log line by line; rejects with the tail on failure. */
export function runLogged(argv: string[], log: (l: string) => void, env?: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    const tail: string[] = [];
    let partial = '';
    const onData = (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) {
        tail.push(l);
        if (tail.length > 40) tail.shift();
        log(l);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code, sig) => {
      if (code === 0) resolve();
      else reject(new Error(`${argv.slice(0, 3).join(' ')} ... failed (${code ?? sig}):\n${tail.join('\n')}`));
    });
  });
}

async function chrootSh(root: string, script: string, log: (l: string) => void): Promise<void> {
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', DEBIAN_FRONTEND: 'noninteractive', LANG: 'C.UTF-8', HOME: '/root' };
  await runLogged(['chroot', root, '/bin/sh', '-ec', script], log, env);
}

/**
 * Returns the cached root, building it first when missing. `log` gets the build's output (a
 * fresh build prints a lot; pass a filter to keep it quiet).
 */
export async function ensureRoot(log: (l: string) => void = () => undefined): Promise<string> {
  const final = cachedRootPath();
  if (existsSync(join(final, '.netroot-e2e-complete'))) return final;
  for (const tool of ['/usr/sbin/debootstrap', '/usr/sbin/chroot']) {
    if (!existsSync(tool)) throw new Error(`${tool} missing: install debootstrap (scripts/deps/e2e.txt)`);
  }
  await mkdir(CACHE_DIR, { recursive: true });
  // Leftovers of builds that died (never the finished entries).
  for (const e of readdirSync(CACHE_DIR)) {
    if (e.startsWith('.build-')) await rm(join(CACHE_DIR, e), { recursive: true, force: true }).catch(() => undefined);
  }
  const tmp = join(CACHE_DIR, `.build-${recipeHash()}-${randomBytes(3).toString('hex')}`);
  const mounted: string[] = [];
  try {
    const mirror = debianMirror();
    log(`debootstrap ${RECIPE.suite} from ${mirror} into ${tmp}`);
    await runLogged(['debootstrap', `--variant=${RECIPE.variant}`, `--include=${RECIPE.include.join(',')}`, RECIPE.suite, tmp, mirror], log);
    // The chroot's apt and the kernel's postinst want /proc, /sys, /dev.
    for (const d of ['proc', 'sys', 'dev']) {
      await runLogged(['mount', '--bind', `/${d}`, join(tmp, d)], log);
      mounted.unshift(join(tmp, d));
    }
    // No service may start inside the chroot while packages install.
    await writeFile(join(tmp, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    // dracut's own postinst builds an initramfs: without network-legacy named it picks
    // systemd-networkd (needs dbus) and fails (docs/lab.md, trap 2).
    await mkdir(join(tmp, 'etc/dracut.conf.d'), { recursive: true });
    await writeFile(join(tmp, 'etc/dracut.conf.d/10-netroot-e2e.conf'), RECIPE.dracutConf);
    await chrootSh(tmp, `apt-get update -qq && apt-get install -y -qq --no-install-recommends ${RECIPE.packages.join(' ')}`, log);
    await chrootSh(tmp, RECIPE.setup.join('\n'), log);
    await rm(join(tmp, 'usr/sbin/policy-rc.d'));
    for (const m of mounted.splice(0)) await runLogged(['umount', m], log);
    await writeFile(join(tmp, '.netroot-e2e-complete'), `${JSON.stringify(RECIPE)}\n`);
    await rename(tmp, final).catch(async (e) => {
      // Another run finished the same recipe first: keep theirs.
      if (existsSync(join(final, '.netroot-e2e-complete'))) return;
      throw e;
    });
    await rm(tmp, { recursive: true, force: true });
    return final;
  } catch (e) {
    for (const m of mounted) await runLogged(['umount', '-l', m], () => undefined).catch(() => undefined);
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
}

/** Self-test: build or find the root and check what the lab relies on. */
async function main(): Promise<void> {
  const t0 = Date.now();
  const root = await ensureRoot((l) => process.stdout.write(`  ${l}\n`));
  const need = ['usr/sbin/sshd', 'usr/bin/rsync', 'usr/bin/dracut', 'sbin/dhclient', 'usr/sbin/mount.nfs'];
  const missing = need.filter((p) => !existsSync(join(root, p)));
  const kernels = readdirSync(join(root, 'boot')).filter((f) => f.startsWith('vmlinuz-'));
  if (missing.length || kernels.length === 0) throw new Error(`root ${root}: missing ${missing.join(' ')} ${kernels.length ? '' : 'kernel'}`);
  console.log(`root ok: ${root} (kernel ${kernels.join(' ')}) in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
