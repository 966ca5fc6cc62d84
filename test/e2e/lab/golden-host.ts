/**
 * The golden host: the cached Debian root as an overlay (lower = the pristine cache, upper = this
 * run's changes), with /proc, /sys, /dev bound so dracut works in it, and the root's own sshd
 * chrooted into it, listening on port 22 of the golden namespace's address with netroot's public
 * key authorised.
 *
 * Everything runs in a private mount namespace (`unshare --mount`) whose only long-lived process
 * is sshd: the overlay and its binds vanish with it, so a crash never leaves mounts on the host
 * and removing the run dir can never reach into the cache. Files are added "on the golden host"
 * through `nsenter` into that mount namespace, chrooted (what logging in would do).
 *
 *   node dist/test/e2e/lab/golden-host.js     # self-test: start, ssh in with a test key, stop
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Ns } from '../../helpers/netns.js';
import { run, type Started } from '../../helpers/proc.js';

export interface GoldenHost {
  address: string;
  /** PID of the chrooted sshd (its mount namespace holds the overlay). */
  pid: number;
  /** Runs a shell command on the golden host (its mount + network namespace, chrooted). */
  sh(script: string, input?: string): Promise<string>;
  /** Writes a file on the golden host (absolute path inside its root). */
  writeFile(path: string, content: string): Promise<void>;
  output(): string;
  stop(): Promise<void>;
}

function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface GoldenHostOptions {
  ns: Ns;
  /** The cached root (overlay lower dir; never written). */
  root: string;
  /** Per-run dir for the overlay's upper and work dirs. */
  dir: string;
  address: string;
  /** netroot's public key (GET /ssh/key). */
  authorizedKey: string;
}

export async function startGoldenHost(o: GoldenHostOptions): Promise<GoldenHost> {
  const upper = join(o.dir, 'upper');
  const work = join(o.dir, 'work');
  const merged = join(o.dir, 'merged');
  for (const d of [upper, work, merged]) await mkdir(d, { recursive: true });
  const keyFile = join(o.dir, 'authorized_keys');
  await writeFile(keyFile, `${o.authorizedKey.trim()}\n`, { mode: 0o600 });
  const m = q(merged);
  const script = [
    'set -e',
    `mount -t overlay overlay -o lowerdir=${q(o.root)},upperdir=${q(upper)},workdir=${q(work)} ${m}`,
    `mount --rbind /proc ${m}/proc`,
    `mount --rbind /sys ${m}/sys`,
    `mount --rbind /dev ${m}/dev`,
    `mount -t tmpfs -o mode=0755 run ${m}/run`,
    `mount -t tmpfs -o mode=1777 tmp ${m}/tmp`,
    `mkdir -p ${m}/run/sshd ${m}/root/.ssh`,
    `chmod 700 ${m}/root/.ssh`,
    `cat ${q(keyFile)} > ${m}/root/.ssh/authorized_keys`,
    // The golden host as configured for the lab (per run, in the overlay; the cache stays pristine):
    // the lab has no DNS, so no resolver from the build machine (copied by debootstrap, unreachable
    // here: every name lookup on a node, `hostname -f` included, would wait for its timeouts;
    // docs/lab.md, trap 17);
    `printf '127.0.0.1\\tlocalhost\\n::1\\tlocalhost ip6-localhost ip6-loopback\\n' > ${m}/etc/hosts`,
    `printf '# the netroot lab has no DNS server\\n' > ${m}/etc/resolv.conf`,
    // a fast initramfs compression (gzip -9 of ~60 MB takes minutes on a busy 2-core CI machine;
    // docs/lab.md, trap 18);
    `printf 'compress="gzip -1"\\n' > ${m}/etc/dracut.conf.d/20-netroot-e2e-lab.conf`,
    // no gettys on VGA consoles a -nographic VM does not have (the serial one stays).
    `ln -sf /dev/null ${m}/etc/systemd/system/getty-static.service`,
    `ln -sf /dev/null ${m}/etc/systemd/system/getty@tty1.service`,
    // The root's own sshd and config; only what the lab needs is overridden.
    `exec chroot ${m} /usr/sbin/sshd -D -e -o ListenAddress=${o.address} -o Port=22 -o PidFile=/run/sshd.pid ` +
      '-o PermitRootLogin=prohibit-password -o PasswordAuthentication=no -o UseDNS=no -o UsePAM=no',
  ].join('\n');
  // `ip netns exec`, unshare (no --fork), sh and chroot all exec: the PID is sshd's own.
  const proc: Started = o.ns.start(['unshare', '--mount', '--propagation', 'private', '/bin/sh', '-c', script]);
  try {
    await proc.waitFor(new RegExp(`Server listening on ${o.address.replace(/\./g, '\\.')} port 22`), 20_000);
  } catch (e) {
    await proc.stop(2000);
    throw e;
  }
  const enter = (argv: string[], input?: string) =>
    run('nsenter', ['-t', String(proc.pid), '-m', '-n', '-r', '-w', '--', ...argv], { input, timeoutMs: 120_000 });
  return {
    address: o.address,
    pid: proc.pid,
    async sh(s, input) {
      return (await enter(['/bin/sh', '-c', s], input)).stdout;
    },
    async writeFile(path, content) {
      await enter(['/bin/sh', '-c', 'mkdir -p "$(dirname "$1")" && cat > "$1"', 'sh', path], content);
    },
    output: () => proc.output(),
    async stop() {
      await proc.stop(5000);
      // The mount namespace died with sshd: merged/ here is an empty directory of the host.
      await rm(o.dir, { recursive: true, force: true });
    },
  };
}

/** Self-test: golden host with a throwaway key; ssh in and run dracut --version there. */
async function main(): Promise<void> {
  const { ensureRoot } = await import('./root-cache.js');
  const { createBootNet, NET } = await import('./network.js');
  const root = await ensureRoot();
  const dir = '/tmp/netroot-e2e-golden-selftest';
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id')]);
  const net = await createBootNet(join(dir, 'net'));
  try {
    const pub = (await run('cat', [join(dir, 'id.pub')])).stdout;
    const g = await startGoldenHost({ ns: net.golden, root, dir: join(dir, 'golden'), address: NET.golden, authorizedKey: pub });
    try {
      await g.writeFile('/etc/netroot-e2e-hello', 'hello\n');
      const r = await net.boot.run(['ssh', '-i', join(dir, 'id'), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
        '-o', 'BatchMode=yes', `root@${NET.golden}`, 'cat /etc/netroot-e2e-hello; dracut --version; ls /proc/self/ >/dev/null && echo proc-ok; ls /dev/null']);
      console.log(r.stdout);
    } finally {
      await g.stop();
    }
  } finally {
    await net.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
