/**
 * The boot network: one namespace ("boot") holding only lo, a bridge with netroot's address, the
 * VM's tap and a veth to the golden host's own namespace. No link to the host, no route out
 * (network safety: DHCP and PXE traffic never leave these namespaces). An IPv6 address and a
 * router advertisement (radvd) on the bridge, because iPXE waits ~13 s for one after DHCP when
 * the link has none (docs/lab.md, trap 6).
 *
 *   node dist/test/e2e/lab/network.js     # self-test: build, ping the golden host, tear down
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Lab, type Ns } from '../../helpers/netns.js';
import { have, type Started } from '../../helpers/proc.js';

/** Addresses of the lab (10.54.0.0/16 belongs to the e2e tests alone). */
export const NET = {
  server: '10.54.0.1',
  golden: '10.54.0.2',
  vm: '10.54.0.50',
  prefixLen: 24,
  cidr: '10.54.0.0/24',
  v6: 'fd54::1',
  v6Prefix: 'fd54::/64',
  domain: 'lab.test',
  vmFqdn: 'vm1.lab.test',
  vmMac: '52:54:00:54:00:50',
  bridge: 'br0',
  tap: 'tap0',
} as const;

export interface BootNet {
  lab: Lab;
  /** netroot, Ganesha, dnsmasq, radvd and QEMU run here. */
  boot: Ns;
  /** The golden host's own namespace (10.54.0.2), bridged to the boot network. */
  golden: Ns;
  destroy(): Promise<void>;
}

export async function createBootNet(dir: string): Promise<BootNet> {
  if (!(await have('radvd'))) throw new Error('radvd missing: install it (scripts/deps/e2e.txt)');
  const lab = await Lab.create('e2e');
  let radvd: Started | null = null;
  try {
    const boot = await lab.ns('boot');
    const golden = await lab.ns('gold');
    await lab.bridge(boot, NET.bridge, `${NET.server}/${NET.prefixLen}`);
    // Bridge ports forward at once (no STP learning delay before the firmware's first DISCOVER:
    // docs/lab.md, trap 16).
    await boot.run(['ip', 'link', 'set', NET.bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
    const { aIf } = await lab.link(boot, null, golden, `${NET.golden}/${NET.prefixLen}`);
    await boot.run(['ip', 'link', 'set', aIf, 'master', NET.bridge]);
    await boot.run(['ip', 'tuntap', 'add', 'dev', NET.tap, 'mode', 'tap']);
    await boot.run(['ip', 'link', 'set', NET.tap, 'master', NET.bridge]);
    await boot.run(['ip', 'link', 'set', NET.tap, 'up']);
    await boot.run(['ip', '-6', 'addr', 'add', `${NET.v6}/64`, 'dev', NET.bridge, 'nodad']);
    // radvd insists on forwarding; this namespace has no other interface to forward to.
    await boot.run(['sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=1']);
    await mkdir(dir, { recursive: true });
    const conf = join(dir, 'radvd.conf');
    // AdvDefaultLifetime 0: on-link prefix only, never a default router for the VM.
    await writeFile(conf, [
      `interface ${NET.bridge} {`,
      '  AdvSendAdvert on; MinRtrAdvInterval 3; MaxRtrAdvInterval 10; AdvDefaultLifetime 0;',
      `  prefix ${NET.v6Prefix} { AdvOnLink on; AdvAutonomous on; };`,
      '};', '',
    ].join('\n'));
    radvd = boot.start(['radvd', '-n', '-C', conf, '-p', join(dir, 'radvd.pid'), '-m', 'stderr']);
    // radvd logs nothing on a good start; a bad config exits at once.
    await new Promise((r) => setTimeout(r, 500));
    if (radvd.child.exitCode !== null) throw new Error(`radvd exited (${radvd.child.exitCode}): ${radvd.output()}`);
    const r = radvd;
    return {
      lab, boot, golden,
      async destroy() {
        await r.stop(3000);
        await lab.destroy();
      },
    };
  } catch (e) {
    await radvd?.stop(3000);
    await lab.destroy();
    throw e;
  }
}

async function main(): Promise<void> {
  const net = await createBootNet('/tmp/netroot-e2e-net-selftest');
  try {
    console.log((await net.boot.run(['ip', '-br', 'addr'])).stdout);
    // No ping in a minimal machine: a refused TCP connection (curl exit 7, not 28) proves the path.
    const r = await net.golden.run(['sh', '-c', `curl -s -m 3 http://${NET.server}:1/; echo curl=$?`]);
    console.log(`golden -> server: ${r.stdout.trim()} (7 = reachable, refused)`);
    console.log((await net.boot.run(['ip', 'route'])).stdout);
  } finally {
    await net.destroy();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
